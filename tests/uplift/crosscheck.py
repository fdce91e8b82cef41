#!/usr/bin/python3
"""Cross-check asin-uplift against uplift_reference.py on random inputs.

usage: crosscheck.py REFERENCE TOOL [CASES [SEED]]

Each case draws variant-level rows (with or without unit moments, gmv_sq,
roas sums) or per-ASIN rows, and random flags; the per-ASIN rows are
summed here with math.fsum for the reference, which reads only aggregates.
Every number both sides print must agree to 1e-9 relative; notes and
methods must be equal.  Prints one line per failing field and a summary.
"""
import json
import math
import random
import subprocess
import sys

TOL = 1e-9
FIELDS = ["control_value", "variant_value", "abs_uplift", "rel_uplift", "se_abs", "z", "p_value",
          "ci_abs", "se_rel", "z_rel", "p_value_rel", "ci_rel", "se_pooled", "dof", "p_value_adj",
          "significant", "note", "method"]


def variant_rows(rng, names):
    rows = []
    units = rng.random() < 0.5
    for v in names:
        n = rng.randint(200, 5000)
        imp = rng.randint(1000, 200000)
        clk = rng.randint(0, imp // 10)
        conv = rng.randint(0, max(clk // 5, 1)) if clk else 0
        gmv = round(rng.uniform(0, 30) * conv + rng.random(), 2)
        spend = round(rng.uniform(0.1, 0.5) * clk + 1, 2)
        r = {"variant": v, "impressions": imp, "clicks": clk, "conversions": conv, "gmv": gmv,
             "spend": spend}
        if rng.random() < 0.7:
            r["gmv_sq"] = gmv * gmv / max(conv, 1) * rng.uniform(1.5, 3)
        if units:
            r["units"] = n
            if rng.random() < 0.8:
                r["roas"] = n * rng.uniform(1, 5)
                r["roas_sq"] = r["roas"] ** 2 / n * rng.uniform(1.2, 2)
            for num, den in (("gmv", "spend"), ("clicks", "impressions")):
                if rng.random() < 0.7:
                    a, b = r[num], r[den]
                    r[num + "_sq"] = a * a / n * rng.uniform(1.5, 4)
                    r[den + "_sq"] = b * b / n * rng.uniform(1.5, 4)
                    r[num + "_x_" + den] = a * b / n * rng.uniform(1.0, 1.4)
        rows.append(r)
    if rng.random() < 0.3:  # a repeated variant is summed
        extra = dict(rows[0])
        rows.append(extra)
    return rows


def asin_rows(rng, names):
    rows = []
    for v in names:
        lift = rng.uniform(0.9, 1.15)
        for _ in range(rng.randint(50, 400)):
            imp = rng.randint(1, 3000)
            clk = min(imp, int(imp * rng.uniform(0, 0.06) * lift))
            conv = min(clk, int(clk * rng.uniform(0, 0.2)))
            rows.append({"asin": "B%09d" % rng.randint(0, 10 ** 9), "variant": v, "impressions": imp,
                         "clicks": clk, "conversions": conv,
                         "gmv": round(conv * rng.uniform(5, 60), 2),
                         "spend": round(clk * rng.uniform(0.2, 0.9), 2)})
    rng.shuffle(rows)
    return rows


def aggregate(rows):
    by = {}
    for r in rows:
        by.setdefault(r["variant"], []).append(r)
    out = []
    for v in sorted(by):
        rs = by[v]
        s = lambda f: math.fsum(f(r) for r in rs)
        a = {"variant": v, "units": len(rs)}
        for k in ("impressions", "clicks", "conversions", "gmv", "spend"):
            a[k] = s(lambda r: r[k])
            a[k + "_sq"] = s(lambda r: r[k] * r[k])
        for num, den in (("clicks", "impressions"), ("conversions", "clicks"), ("gmv", "impressions"),
                         ("gmv", "spend")):
            a[num + "_x_" + den] = s(lambda r: r[num] * r[den])
        out.append(a)
    return out


def close(a, b):
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and \
            all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, (bool, str)) or isinstance(b, (bool, str)) or a is None or b is None:
        return a == b
    return a == b or abs(a - b) <= TOL * max(abs(a), abs(b)) or max(abs(a), abs(b)) < 1e-300


def main():
    ref, tool = sys.argv[1], sys.argv[2]
    cases = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
    bad = checked = 0
    for case in range(cases):
        names = ["control"] + ["v%d" % i for i in range(1, rng.randint(2, 4))]
        flags = []
        if rng.random() < 0.4:
            flags += ["--correction", rng.choice(["holm", "bh"])]
        if rng.random() < 0.3:
            flags += ["--alpha", rng.choice(["0.1", "0.01"])]
        if rng.random() < 0.3:
            flags += ["--weights", ",".join(str(rng.choice([1, 2, 3])) for _ in names)]
        tflag = rng.random() < 0.3
        unit = case % 3 == 2
        rows = asin_rows(rng, names) if unit else variant_rows(rng, names)
        feed = aggregate(rows) if unit else rows
        text = lambda rs: "".join(json.dumps(r) + "\n" for r in rs)
        want = subprocess.run([ref] + flags + (["--gbstats-t"] if tflag else []), input=text(feed),
                              capture_output=True, text=True, check=True).stdout
        got = subprocess.run([tool] + flags + (["--t-test"] if tflag else []) +
                             (["--unit", "asin"] if unit else []), input=text(rows),
                             capture_output=True, text=True)
        if got.returncode != 0:
            print("case %d: exit %d: %s" % (case, got.returncode, got.stderr.strip()))
            bad += 1
            continue
        g = {}
        for ln in got.stdout.splitlines():
            r = json.loads(ln)
            g[(r["record"], r.get("variant"), r.get("metric"))] = r
        for ln in want.splitlines():
            w = json.loads(ln)
            key = (w["record"], w.get("variant"), w.get("metric"))
            r = g.pop(key, None)
            if r is None:
                print("case %d: %s missing" % (case, key))
                bad += 1
                continue
            fields = ["chi2", "p_value", "counts", "srm_detected", "df"] if w["record"] == "srm" else FIELDS
            for f in fields:
                if f in w or (f in r and r[f] is not None):
                    checked += 1
                    if not close(r.get(f), w.get(f)):
                        print("case %d %s %s: got %r want %r" % (case, key, f, r.get(f), w.get(f)))
                        bad += 1
        for key in g:
            print("case %d: %s extra" % (case, key))
            bad += 1
    print("crosscheck: %d cases, %d values compared, %d differences" % (cases, checked, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
