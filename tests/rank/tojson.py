"""Rows of a libsvm file with its .query file, and one score per line, as
NDJSON for asin-rank eval: {"qid","label","score"[,"f100"]}.
usage: tojson.py DATA SCORES"""
import json
import sys

data, scores = sys.argv[1], sys.argv[2]
lines = open(data).read().splitlines()
sizes = [int(x) for x in open(data + ".query").read().split()]
sc = [float(x) for x in open(scores).read().split()]
if len(sc) != len(lines):
    sys.exit("%d scores for %d rows" % (len(sc), len(lines)))
r = 0
for q, n in enumerate(sizes):
    for _ in range(n):
        parts = lines[r].split()
        f = dict(t.split(":") for t in parts[1:])
        print(json.dumps({"qid": "q%04d" % q, "label": int(float(parts[0])),
                          "score": sc[r], "f100": float(f.get("100", 0))}))
        r += 1
