"""Compare asin-rank's metrics.json with ltr_reference.py --out JSON on
every metric both name.  usage: cmpmetrics.py METRICS_JSON REF_JSON"""
import json
import sys

mine = json.load(open(sys.argv[1]))["model"]
ref = list(json.load(open(sys.argv[2])).values())[0]
common = [k for k in mine if k in ref]
worst = max(abs(mine[k] - ref[k]) for k in common)
print("%d metrics, max |diff| %.3g" % (len(common), worst))
sys.exit(0 if len(common) >= 17 and worst <= 1e-9 else 1)
