#!/usr/bin/env python3
"""scaleout_check.py: do the suite's scored rows and a peer's agree?

    scaleout_check.py OURS.ndjson PEER.ndjson

Both NDJSON, one scored row per (asin, marketplace, date).  Compared per
row: the four features asin-zscore ranks on by default, their z, the
score, group_n, group_rank, group_pct and z_backoff; numbers within a
relative 1e-9 (the peer sums in another order), nulls as nulls.  The
rank may differ where two scores of a group are equal within that: the
last bit of each sum decides their order.  Prints the rows compared, or
the first differences and exits 1.
"""
import json
import math
import sys

FIELDS = ("bsr_log_slope_30", "rank_drops_30", "review_velocity_30",
          "bsr_log_mom_30", "z_bsr_log_slope_30", "z_log1p_rank_drops_30",
          "z_log1p_review_velocity_30", "z_bsr_log_mom_30", "score",
          "group_n", "group_rank", "group_pct", "z_backoff")


def load(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            k = (r["asin"], r["marketplace"], r["date"])
            if k in rows:
                sys.exit("%s: %s twice" % (path, k))
            rows[k] = r
    return rows


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def near_ties(rows):
    """The keys of rows whose score equals, within 1e-9, another score
    of their (date, marketplace, category) group."""
    groups = {}
    for k, r in rows.items():
        if r.get("score") is not None:
            g = (r["date"], r["marketplace"], r.get("category"))
            groups.setdefault(g, []).append((float(r["score"]), k))
    tied = set()
    for g in groups.values():
        g.sort()
        for (a, ka), (b, kb) in zip(g, g[1:]):
            if same(a, b):
                tied.update((ka, kb))
    return tied


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: scaleout_check.py OURS PEER")
    ours, peer = load(sys.argv[1]), load(sys.argv[2])
    bad = []
    if set(ours) != set(peer):
        bad.append("row keys differ: %d only ours, %d only the peer's" %
                   (len(set(ours) - set(peer)), len(set(peer) - set(ours))))
    tied = near_ties(ours)
    for k in sorted(set(ours) & set(peer)):
        for f in FIELDS:
            if f in ("group_rank", "group_pct") and k in tied:
                continue
            a, b = ours[k].get(f), peer[k].get(f)
            if not same(a, b):
                bad.append("%s %s: ours %r, peer %r" % ("/".join(k), f, a, b))
    if bad:
        print("%d differences; first:" % len(bad), file=sys.stderr)
        for line in bad[:10]:
            print("  " + line, file=sys.stderr)
        sys.exit(1)
    print("%d rows agree" % len(ours))


main()
