#!/usr/bin/python3
"""dedupe_keepa_pandas.py: the pandas peer of the Keepa table of
tests/bench/dedupe.sh, the same work as its DuckDB query.

    dedupe_keepa_pandas.py IN.ndjson OUT.ndjson DAYS

For every ok envelope, seven csv series of the Keepa product (Amazon,
new, sales rank, list price, new offer count, rating, review count) as
points (Keepa minute, value); for each of the DAYS days up to 2026-05-10
the value in force at the end of the day by merge_asof, -1 as null; one
row per asin, marketplace, day and series, in that order, NDJSON out.
"""
import json
import sys

import numpy as np
import pandas as pd

src, dst, days = sys.argv[1], sys.argv[2], int(sys.argv[3])
SERIES = {0: "price_amazon", 1: "price_new", 3: "bsr", 4: "list_price",
          11: "offers_new", 16: "rating", 17: "review_count"}
LAST_DAY = 20583  # 2026-05-10, days since 1970
EPOCH_MIN = 21564000  # Keepa minutes start at 2011-01-01

asin, mkt, ser, ts, vs = [], [], [], [], []
with open(src, encoding="utf-8") as f:
    for line in f:
        e = json.loads(line)
        if e.get("status") != "ok":
            continue
        csv = (e.get("payload") or {}).get("csv") or []
        for i, name in SERIES.items():
            a = csv[i] if i < len(csv) else None
            if not a:
                continue
            n = len(a) // 2
            asin.extend([e["asin"]] * n)
            mkt.extend([e["marketplace"]] * n)
            ser.extend([name] * n)
            ts.extend(a[0::2][:n])
            vs.extend(a[1::2][:n])
pts = pd.DataFrame({"asin": asin, "marketplace": mkt, "f": ser,
                    "t": np.array(ts, dtype=np.int64),
                    "v": np.array(vs, dtype=np.int64)})
keys = pts[["asin", "marketplace", "f"]].drop_duplicates()
day = np.arange(LAST_DAY - days + 1, LAST_DAY + 1, dtype=np.int64)
grid = keys.loc[keys.index.repeat(len(day))].reset_index(drop=True)
grid["day"] = np.tile(day, len(keys))
grid["t"] = (grid["day"] + 1) * 1440 - 1 - EPOCH_MIN
out = pd.merge_asof(grid.sort_values("t"), pts.sort_values("t"), on="t",
                    by=["asin", "marketplace", "f"])
out["v"] = out["v"].where(out["v"] >= 0)
out = out.sort_values(["asin", "marketplace", "day", "f"], kind="stable")
out[["asin", "marketplace", "day", "f", "v"]].to_json(
    dst, orient="records", lines=True, force_ascii=False)
