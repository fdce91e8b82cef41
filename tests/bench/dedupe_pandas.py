#!/usr/bin/python3
"""dedupe_pandas.py: the pandas peer of tests/bench/dedupe.sh.

    dedupe_pandas.py IN.ndjson OUT.ndjson

Keeps the newest row (by fetched_at) per (asin, marketplace, date), in key
order, NDJSON out: what a pandas user writes for the dedupe step.
"""
import sys

import pandas as pd

src, dst = sys.argv[1], sys.argv[2]
df = pd.read_json(src, lines=True, convert_dates=False, dtype=False)
df = df.sort_values("fetched_at", kind="stable")
df = df.drop_duplicates(["asin", "marketplace", "date"], keep="last")
df = df.sort_values(["asin", "marketplace", "date"], kind="stable")
df.to_json(dst, orient="records", lines=True, force_ascii=False)
