"""Score a libsvm file with an exported XGBoost model (dense rows: an
absent libsvm index is 0, as asin-rank reads it) and compare with
asin-rank's scores, one per line.  usage: xgbdense.py MODEL DATA SCORES"""
import sys

import numpy as np
import xgboost as xgb

model, data, scores = sys.argv[1:4]
b = xgb.Booster(model_file=model)
nf = b.num_features()
lines = open(data).read().splitlines()
X = np.zeros((len(lines), nf))
for r, line in enumerate(lines):
    for t in line.split()[1:]:
        j, v = t.split(":")
        if j != "qid" and int(j) <= nf:
            X[r, int(j) - 1] = float(v)
p = b.predict(xgb.DMatrix(X, feature_names=b.feature_names), output_margin=True)
mine = np.loadtxt(scores)
scale = max(np.max(np.abs(mine)), 1e-12)
rel = np.abs(p - mine) / np.maximum(np.abs(mine), scale * 1e-3)
print("rows %d max rel %.3g" % (len(lines), rel.max()))
sys.exit(0 if rel.max() <= 1e-5 else 1)
