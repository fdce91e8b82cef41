#!/usr/bin/env python3
"""oracle.py - an independent asin-zscore, for the cross-check in
tests/asin-zscore.bats.  Standard library only: statistics.median for the
medians, math.fsum for the mean absolute deviation, plain dicts for the
groups.  It recomputes every z, score, rank and percentile from the input
and compares them with what the tool wrote:

    oracle.py [-k KEY] [-f FEATURES] [-w WEIGHTS] [--clip C]
              [--min-group N] [--top N] INPUT TOOL_OUTPUT

Exit 0 and "ok: N rows" when every row agrees (numbers to 1e-12, relative
or absolute, integers and flags exactly, rows in the same order); exit 1
and the first differences otherwise.
"""
import argparse
import json
import math
import statistics
import sys

TOL = 1e-12
ADDED = ("score", "group_n", "group_rank", "group_pct", "z_backoff",
         "z_flat", "explain")


def feature(spec):
    d = 1
    if spec[:1] in "-+":
        d = -1 if spec[0] == "-" else 1
        spec = spec[1:]
    xf = None
    for t in ("log1p", "log"):
        if spec.startswith(t + ":"):
            xf, spec = t, spec[len(t) + 1:]
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in spec)
    name = "_".join(p for p in name.split("_")) if name else "x"
    name = name.strip("_") or "x"
    if xf:
        name = xf + "_" + name
    return {"field": spec, "xf": xf, "dir": d, "name": name, "w": 1.0}


def value(rec, f):
    x = rec.get(f["field"])
    if x is None:
        return None
    x = float(x)
    if f["xf"] == "log":
        return math.log(x)
    if f["xf"] == "log1p":
        return math.log1p(x)
    return x


def group_stats(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    med = statistics.median(xs)
    mad = statistics.median([abs(x - med) for x in xs])
    if mad > 0:
        return med, 1.4826 * mad
    mean_ad = math.fsum(abs(x - med) for x in xs) / len(xs)
    return med, 1.253314 * mean_ad


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a == b or abs(a - b) <= TOL * max(1.0, abs(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="date,marketplace,category")
    ap.add_argument("-f", required=True)
    ap.add_argument("-w", default="")
    ap.add_argument("--clip", type=float, default=0)
    ap.add_argument("--min-group", type=int, default=8)
    ap.add_argument("--top", type=int, default=0)
    ap.add_argument("input")
    ap.add_argument("output")
    a = ap.parse_args()

    keys = a.k.split(",")
    feats = [feature(s) for s in a.f.split(",")]
    for item in filter(None, a.w.split(",")):
        n, w = item.split("=")
        for f in feats:
            if n in (f["name"], f["field"]):
                f["w"] = float(w)

    rows = []
    with open(a.input, "rb") as fh:
        for raw in fh:
            raw = raw.rstrip(b"\n")
            if not raw.strip():
                continue
            rec = json.loads(raw)
            key = tuple(rec[k].encode() if isinstance(rec[k], str)
                        else json.dumps(rec[k]).encode() for k in keys)
            rows.append({"raw": raw, "rec": rec, "key": key,
                         "x": [value(rec, f) for f in feats]})

    # Statistics for every prefix level of every key.
    by_level = {}
    for lvl in range(1, len(keys) + 1):
        groups = {}
        for r in rows:
            groups.setdefault(r["key"][:lvl], []).append(r)
        by_level[lvl] = groups

    expect = []
    fine = by_level[len(keys)]
    for key in sorted(fine):
        members = fine[key]
        lvl = len(keys)
        while lvl > 1 and len(by_level[lvl][key[:lvl]]) < a.min_group:
            lvl -= 1
        parent = by_level[lvl][key[:lvl]]
        st = [group_stats([r["x"][i] for r in parent])
              for i in range(len(feats))]
        scored = []
        for r in members:
            zs, flat, score = [], [], None
            for i, f in enumerate(feats):
                x = r["x"][i]
                if x is None:
                    zs.append(None)
                    continue
                med, scale = st[i]
                if scale > 0:
                    z = f["dir"] * (x - med) / scale
                    if a.clip > 0:
                        z = max(-a.clip, min(a.clip, z))
                else:
                    z = 0.0
                    flat.append(f["name"])
                zs.append(z)
                score = f["w"] * z if score is None else score + f["w"] * z
            scored.append((r, zs, flat, score))
        scored.sort(key=lambda t: (t[3] is None,
                                   -t[3] if t[3] is not None else 0,
                                   t[0]["raw"]))
        n_scored = sum(1 for t in scored if t[3] is not None)
        rank = 0
        for i, (r, zs, flat, score) in enumerate(scored):
            if score is not None and (i == 0 or score != scored[i - 1][3]):
                rank = i + 1
            if a.top and (score is None or rank > a.top):
                continue
            expect.append({"raw": r["raw"], "z": zs, "score": score,
                           "group_n": len(members),
                           "group_rank": rank if score is not None else None,
                           "group_pct": rank / n_scored
                           if score is not None else None,
                           "z_backoff": len(keys) - lvl,
                           "z_flat": flat or None})

    with open(a.output, "rb") as fh:
        got = [json.loads(line) for line in fh if line.strip()]
    bad = []
    if len(got) != len(expect):
        bad.append("rows: got %d, want %d" % (len(got), len(expect)))
    for i, (g, e) in enumerate(zip(got, expect)):
        orig = json.loads(e["raw"])
        rest = {k: v for k, v in g.items()
                if k not in ADDED and not k.startswith("z_")}
        if rest != {k: v for k, v in orig.items()}:
            bad.append("row %d: not the input row %s" % (i + 1, e["raw"][:80]))
            continue
        for j, f in enumerate(feats):
            if not close(g.get("z_" + f["name"]), e["z"][j]):
                bad.append("row %d: z_%s %r, want %r" % (
                    i + 1, f["name"], g.get("z_" + f["name"]), e["z"][j]))
        for k in ("score", "group_pct"):
            if not close(g.get(k), e[k]):
                bad.append("row %d: %s %r, want %r" % (i + 1, k, g.get(k), e[k]))
        for k in ("group_n", "group_rank", "z_backoff", "z_flat"):
            if g.get(k) != e[k]:
                bad.append("row %d: %s %r, want %r" % (i + 1, k, g.get(k), e[k]))
        if len(bad) > 10:
            break
    if bad:
        print("\n".join(bad[:10]))
        sys.exit(1)
    print("ok: %d rows" % len(got))


if __name__ == "__main__":
    main()
