#!/usr/bin/python3
"""feat_pandas.py: the pandas peer of tests/bench/feat.sh.

    feat_pandas.py IN.ndjson OUT.ndjson

Per (asin, marketplace), with groupby().rolling over calendar-day windows
('7D', '30D': a missing day is missing, as in asin-feat): 7- and 30-day
price mean and population standard deviation, and the 30-day OLS slope of
ln(bsr) on the day from rolling sums; every row written back with them.
"""
import sys

import numpy as np
import pandas as pd

src, dst = sys.argv[1], sys.argv[2]
df = pd.read_json(src, lines=True, convert_dates=False, dtype=False)
df["_t"] = pd.to_datetime(df["date"])
df = df.sort_values(["asin", "marketplace", "_t"], kind="stable")
day = (df["_t"] - df["_t"].min()).dt.days.astype(float)  # small x: sums keep precision
y = np.log(df["bsr"].where(df["bsr"] > 0))
x = day.where(y.notna())
w = pd.DataFrame({"asin": df["asin"], "marketplace": df["marketplace"],
                  "_t": df["_t"], "price": df["price"], "x": x, "y": y,
                  "xy": x * y, "xx": x * x, "n": y.notna().astype(float)})
g = w.set_index("_t").groupby(["asin", "marketplace"], sort=False)
cols = {}
for n in (7, 30):
    r = g["price"].rolling(f"{n}D")
    cols[f"price_mean_{n}"] = r.mean()
    cols[f"price_std_{n}"] = r.std(ddof=0)
r = g[["x", "y", "xy", "xx", "n"]].rolling("30D").sum()
sxy = r["xy"] - r["x"] * r["y"] / r["n"]
sxx = r["xx"] - r["x"] * r["x"] / r["n"]
cols["bsr_log_slope_30"] = sxy / sxx.where(sxx > 0)
# The rolling results are indexed by (asin, marketplace, day): join back.
res = pd.DataFrame(cols).reset_index()
df = df.merge(res, on=["asin", "marketplace", "_t"], how="left")
df.drop(columns=["_t"]).to_json(dst, orient="records", lines=True,
                                force_ascii=False)
