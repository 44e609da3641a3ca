"""metric-learn's LMNN on the matrix bench/lmnn.ts writes (run with Debian's numpy, scipy and
scikit-learn; metric-learn from a fetched copy of scikit-learn-contrib/metric-learn on PYTHONPATH).
Prints one JSON line: seconds, iterations, the objective at the end (metric-learn's own _loss_grad)
and the components, for bench/lmnn.ts to evaluate on its side."""
import json
import sys
import time
import numpy as np
from metric_learn import LMNN

d = json.load(open(sys.argv[1]))
X = np.asarray(d["X"], dtype=float)
y = np.asarray(d["y"])
k, reg = d["k"], 1 - d["pushWeight"]
m = LMNN(n_neighbors=k, regularization=reg, init="identity", learn_rate=d["learnRate"], max_iter=d["maxIter"], convergence_tol=1e-6)
t = time.perf_counter()
m.fit(X, y)
sec = time.perf_counter() - t
m.labels_ = np.arange(len(np.unique(y)))
_, yi = np.unique(y, return_inverse=True)
targets = m._select_targets(X, yi)
dfG = X[targets.flatten()] - X[np.repeat(np.arange(len(X)), k)]
dfG = dfG.T.dot(dfG)
_, obj, act = m._loss_grad(X, m.components_.copy(), dfG, k, reg, targets, yi)
print(json.dumps({"seconds": sec, "iterations": int(m.n_iter_), "objective": float(obj), "active": int(act), "components": m.components_.tolist()}))
