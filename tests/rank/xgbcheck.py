import sys, json, numpy as np, xgboost as xgb
model, scored = sys.argv[1], sys.argv[2]
feats = json.load(open(model))["learner"]["feature_names"]
rows = [json.loads(l) for l in open(scored)]
X = np.array([[np.nan if r.get(f) is None else float(r[f]) for f in feats] for r in rows], dtype=np.float64)
b = xgb.Booster(model_file=model)
p = b.predict(xgb.DMatrix(X, missing=np.nan, feature_names=feats), output_margin=True)
mine = np.array([r["rank_score"] for r in rows])
scale = max(np.max(np.abs(mine)), 1e-12)
rel = np.abs(p - mine) / np.maximum(np.abs(mine), scale * 1e-3)
print("rows %d max rel %.3g" % (len(rows), rel.max()))
sys.exit(0 if rel.max() <= 1e-5 else 1)
