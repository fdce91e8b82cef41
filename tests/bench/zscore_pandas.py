#!/usr/bin/python3
"""zscore_pandas.py: the pandas peer of tests/bench/zscore.sh.

    zscore_pandas.py KEY1,KEY2,... IN.ndjson OUT.ndjson

Per group of the key, for ln(bsr) and price: z = (x - median) /
(1.4826 * MAD) by groupby().transform('median'), null where MAD = 0;
z_log_bsr and z_price appended to every row, NDJSON out.
"""
import sys

import numpy as np
import pandas as pd

keys, src, dst = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
df = pd.read_json(src, lines=True, convert_dates=False, dtype=False)
g = [df[k] for k in keys]
x = pd.DataFrame({"lb": np.log(df["bsr"]), "price": df["price"]})
med = x.groupby(g).transform("median")
mad = (x - med).abs().groupby(g).transform("median")
z = (x - med) / (1.4826 * mad.where(mad > 0))
df["z_log_bsr"] = z["lb"]
df["z_price"] = z["price"]
df.to_json(dst, orient="records", lines=True, force_ascii=False)
