import sys, numpy as np
sys.path.insert(0, sys.argv[1])
import ltr_reference as L
data, which, mine = sys.argv[2], sys.argv[3], sys.argv[4]
y = np.array([int(float(l.split()[0])) for l in open(data + "/rank." + which)])
sizes = np.loadtxt(data + "/rank." + which + ".query", dtype=np.int64, ndmin=1)
b = np.concatenate([[0], np.cumsum(sizes)])
s = np.loadtxt(sys.argv[5]) if len(sys.argv) > 5 else np.zeros(len(y))
g, h = L.LightGBMStyleLambdaRank(y, b)(s, None)
m = np.loadtxt(mine)
def rel(a, b):
    d = np.abs(a - b)
    return float(np.max(d / np.maximum(np.abs(b), 1e-300) * (d > 0)))
rg, rh = rel(m[:, 0], g), rel(m[:, 1], h)
print("rows %d nonzero %d max rel g %.3g h %.3g" % (len(y), int((g != 0).sum()), rg, rh))
sys.exit(0 if rg <= 1e-6 and rh <= 1e-6 else 1)
