"""The peer of asin-rank's training benchmark: XGBoost 1.7 (Debian's
python3-xgboost), tree_method=hist, 1 thread, 100 rounds of rank:ndcg
(eta 0.1, depth 6) on a libsvm file with its .query file.  Prints the
training-only seconds on stderr (the benchmark times the whole run).
usage: rank_xgb.py DATA [ROUNDS]"""
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn.datasets import load_svmlight_file  # noqa: E402

data = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 100
X, y = load_svmlight_file(data)
sizes = np.loadtxt(data + ".query", dtype=np.int64, ndmin=1)
d = xgb.DMatrix(X, label=y, nthread=1)
d.set_group(sizes)
t0 = time.perf_counter()
xgb.train({"objective": "rank:ndcg", "eta": 0.1, "max_depth": 6,
           "tree_method": "hist", "max_bin": 256, "nthread": 1, "seed": 0},
          d, num_boost_round=rounds)
print("xgboost train-only %.3f s" % (time.perf_counter() - t0), file=sys.stderr)
