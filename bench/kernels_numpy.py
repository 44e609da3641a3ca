"""numpy / scikit-learn side of bench/kernels.ts: same shapes, same data, median ms as JSON."""
import json, sys, time
import numpy as np

fixture, repeats = sys.argv[1], int(sys.argv[2])
only = set(sys.argv[3].split(',')) if len(sys.argv) > 3 else None
X = np.load(fixture).astype(np.float64)
rng = np.random.default_rng(1)
X8 = np.vstack([X + 0.01 * rng.standard_normal(X.shape) for _ in range(8)])
want10k = only is None or any('10000' in o for o in only)
X10k = np.vstack([X + 0.01 * rng.standard_normal(X.shape) for _ in range(30)])[:10000] if want10k else None
spd = X.T @ X + np.eye(X.shape[1])
G = X @ X.T


def t(fn, reps=repeats):
    """Median wall ms and median process-CPU ms."""
    fn()
    ts, cs = [], []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
        cs.append((time.process_time() - c0) * 1000)
    return {'wall': float(np.median(ts)), 'cpu': float(np.median(cs))}


def sqdist(A):
    from sklearn.metrics import euclidean_distances
    return euclidean_distances(A, squared=True)


def pca():
    from sklearn.decomposition import PCA
    return PCA(n_components=50, svd_solver='full').fit_transform(X)


def eig_k50():
    import scipy.linalg
    n = G.shape[0]
    return scipy.linalg.eigh(G, subset_by_index=[n - 50, n - 1])


cases = {
    'tcrossprod_342x454': lambda: t(lambda: X @ X.T),
    'tcrossprod_2736x454': lambda: t(lambda: X8 @ X8.T, min(repeats, 5)),
    'gemmNT_2736x454x2736': lambda: t(lambda: np.dot(X8, X8.T.copy().T.copy(order='F').T), min(repeats, 5)),
    'sqdist_2736x454': lambda: t(lambda: sqdist(X8), min(repeats, 5)),
    'tcrossprod_10000x454': lambda: t(lambda: X10k @ X10k.T, min(repeats, 3)),
    'sqdist_10000x454': lambda: t(lambda: sqdist(X10k), min(repeats, 3)),
    'pca50_lincs': lambda: t(pca),
    'cholesky_454': lambda: t(lambda: np.linalg.cholesky(spd)),
    'eigen_342_full': lambda: t(lambda: np.linalg.eigh(G)),
    'eigen_342_k50': lambda: t(eig_k50),
}
out = {}
for name, run in cases.items():
    if only is not None and name not in only:
        continue
    try:
        out[name] = run()
    except Exception:
        pass
print(json.dumps(out))
