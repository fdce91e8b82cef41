#!/usr/bin/python3
"""The benchmark peer of asin-uplift --unit asin: what a pandas user
writes.  Reads per-ASIN NDJSON rows in chunks (all at once does not fit
memory at 10M rows), sums units and second moments per variant with
groupby, then tests every metric against the control with the delta
method for a ratio of sums, p-values and the SRM chi-square from
statsmodels and scipy.  Prints one JSON line per variant and metric.

usage: peer_pandas.py FILE [CHUNK_ROWS]
"""
import json
import math
import sys

import pandas as pd
from scipy import stats
from statsmodels.stats.weightstats import _zstat_generic2

COLS = ["impressions", "clicks", "conversions", "gmv", "spend"]
PAIRS = [("ctr", "clicks", "impressions"), ("cr", "conversions", "clicks"),
         ("gmv_per_impression", "gmv", "impressions"), ("roas", "gmv", "spend")]


def main():
    chunk = int(sys.argv[2]) if len(sys.argv) > 2 else 500000
    parts = []
    for df in pd.read_json(sys.argv[1], lines=True, chunksize=chunk, dtype=False):
        for c in COLS:
            df[c + "_sq"] = df[c] * df[c]
        for _, num, den in PAIRS:
            df[num + "_x_" + den] = df[num] * df[den]
        df["units"] = 1
        parts.append(df.drop(columns=["asin", "category"]).groupby("variant").sum())
    agg = pd.concat(parts).groupby(level=0).sum()
    ctl = agg.loc["control"]
    z = stats.norm.ppf(0.975)
    chi2, p = stats.chisquare(agg["units"])
    print(json.dumps({"record": "srm", "chi2": chi2, "p_value": p}))
    for v, row in agg.iterrows():
        if v == "control":
            continue
        for name, num, den in PAIRS:
            est = []
            for r in (ctl, row):
                n = r["units"]
                mm, md = r[num] / n, r[den] / n
                vm = (r[num + "_sq"] - r[num] ** 2 / n) / (n - 1)
                vd = (r[den + "_sq"] - r[den] ** 2 / n) / (n - 1)
                cov = (r[num + "_x_" + den] - r[num] * r[den] / n) / (n - 1)
                var = vm / md ** 2 + vd * mm ** 2 / md ** 4 - 2 * cov * mm / md ** 3
                est.append((r[num] / r[den], math.sqrt(var / n)))
            (c, se_c), (t, se_t) = est
            se = math.hypot(se_c, se_t)
            zs, pv = _zstat_generic2(t - c, se, "two-sided")
            print(json.dumps({"variant": v, "metric": name, "control_value": c, "variant_value": t,
                              "z": zs, "p_value": pv,
                              "ci_abs": [t - c - z * se, t - c + z * se]}))


if __name__ == "__main__":
    main()
