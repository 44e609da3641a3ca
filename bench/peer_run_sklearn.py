#!/usr/bin/env python3
"""The peer of the whole `phenomap run` (raw + PCA + ITML): the same representations and stages
done with numpy / scipy / scikit-learn, timed stage by stage (1 BLAS thread by default).

    /usr/bin/python3 bench/peer_run_sklearn.py PROFILES.csv[.gz] [--label-col Metadata_moa]
        [--scale k] [--pca 50] [--constraints 20] [--no-retry] [--threads 1]

Stages, as `phenomap run --preset paper` does them: read → keep labelled rows → z-score (population
std, constant or non-finite features dropped) → PCA 50 (svd_solver='full') → ITML (Davis et al.
2007: cyclic Bregman projections on 20 similar + 20 dissimilar sampled pairs, bounds from the 5th /
95th percentiles of the pair rows' distances, metric-learn's defaults; written here in numpy because
metric-learn is not packaged by Debian) → for each of raw, PCA, ITML: squared distances
(sklearn.metrics.euclidean_distances), AffinityPropagation(affinity='precomputed', random_state=0),
MoA enrichment (scipy hypergeom, minimum 5 rows per MoA, p < 0.01) and CSIF (features whose
within-community variance is < 1 % of the overall one). By default a non-converged AP is run again
with damping 0.7 then 0.9 (what a user has to do to get converged labels: sklearn only warns);
--no-retry keeps sklearn's single call. --scale k stacks the labelled rows k times with 1 % noise,
exactly as peer_sklearn.py does. Prints one JSON object.
"""
import argparse, json, os, sys, time, warnings

p = argparse.ArgumentParser()
p.add_argument("csv"); p.add_argument("--label-col", default="Metadata_moa")
p.add_argument("--scale", type=int, default=1); p.add_argument("--threads", type=int, default=1)
p.add_argument("--pca", type=int, default=50); p.add_argument("--seed", type=int, default=0)
p.add_argument("--constraints", type=int, default=20); p.add_argument("--no-retry", action="store_true")
a = p.parse_args()
for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(a.threads)

import numpy as np, pandas as pd
from scipy.stats import hypergeom
from sklearn.cluster import AffinityPropagation
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import euclidean_distances

t0 = time.perf_counter()
st = {}


def timed(name, fn):
    t = time.perf_counter(); out = fn(); st[name] = st.get(name, 0.0) + time.perf_counter() - t
    return out


def load():
    df = pd.read_csv(a.csv)
    lab = df[a.label_col].astype("string").str.strip()
    df = df[lab.notna() & (lab != "")]
    feat = [c for c in df.columns if not c.startswith("Metadata_") and pd.api.types.is_numeric_dtype(df[c])]
    X = df[feat].to_numpy(float)
    y = df[a.label_col].astype(str).str.strip().to_numpy()
    if a.scale > 1:
        rng = np.random.default_rng(a.seed)
        X = np.vstack([X + 0.01 * X.std(0) * rng.standard_normal(X.shape) for _ in range(a.scale)])
        y = np.concatenate([y] * a.scale)
    return X, y


X, y = timed("load", load)


def zscore():
    ok = np.isfinite(X).all(0) & (X.max(0) > X.min(0))
    Xk = X[:, ok]
    return (Xk - Xk.mean(0)) / Xk.std(0)


Z = timed("zscore", zscore)
P = timed("pca", lambda: PCA(n_components=min(a.pca, *Z.shape), svd_solver="full").fit_transform(Z))


def itml():
    """Davis et al. 2007, Algorithm 1 (cyclic projections, slack γ = 1, prior M0 = I)."""
    rng = np.random.default_rng(a.seed)
    n = len(y)
    sim, dis = [], []
    while len(sim) < a.constraints or len(dis) < a.constraints:
        i, j = rng.integers(n, size=2)
        if i == j:
            continue
        if y[i] == y[j]:
            if len(sim) < a.constraints: sim.append((i, j))
        elif len(dis) < a.constraints:
            dis.append((i, j))
    pairs, signs = sim + dis, [1] * len(sim) + [-1] * len(dis)
    rows = np.unique(np.array(pairs).ravel())
    u, l = np.percentile(euclidean_distances(Z[rows]), (5, 95))
    d = Z.shape[1]
    M = np.eye(d)
    lam = np.zeros(len(pairs)); lam_old = np.zeros(len(pairs))
    bhat = np.array([u if s > 0 else l for s in signs], float)
    gamma = 1.0; gproj = gamma / (gamma + 1)
    V = np.array([Z[i] - Z[j] for i, j in pairs])
    for _ in range(1000):
        for c, s in enumerate(signs):
            v = V[c]; Mv = M @ v; wtw = v @ Mv
            if s > 0:
                alpha = min(lam[c], gproj * (1 / wtw - 1 / bhat[c]))
                lam[c] -= alpha; beta = alpha / (1 - alpha * wtw)
                bhat[c] = 1 / (1 / bhat[c] + alpha / gamma)
            else:
                alpha = min(lam[c], gproj * (1 / bhat[c] - 1 / wtw))
                lam[c] -= alpha; beta = -alpha / (1 + alpha * wtw)
                bhat[c] = 1 / (1 / bhat[c] - alpha / gamma)
            M += beta * np.outer(Mv, Mv)
        norm = np.linalg.norm(lam) + np.linalg.norm(lam_old)
        if norm == 0 or np.abs(lam_old - lam).sum() / norm < 1e-3:
            break
        lam_old = lam.copy()
    C = np.linalg.cholesky(M)  # M = C Cᵀ: ‖Cᵀ(x − y)‖² = (x − y)ᵀ M (x − y)
    return Z @ C


T = timed("itml", itml)
moas = [set(s.split("|")) for s in y]


def ap(S):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", ConvergenceWarning)
        tried = []
        for damping in ([0.5] if a.no_retry else [0.5, 0.7, 0.9]):
            w.clear()
            m = AffinityPropagation(affinity="precomputed", damping=damping, random_state=0).fit(S)
            ok = not any(issubclass(x.category, ConvergenceWarning) for x in w)
            tried.append({"damping": damping, "n_iter": int(m.n_iter_), "converged": ok})
            if ok:
                break
    return m.labels_, tried


def enrich(labels):
    N = len(moas); counts = {}
    for m in moas:
        for x in m: counts[x] = counts.get(x, 0) + 1
    tested = [m for m, k in counts.items() if k >= 5]; enriched = 0; clusters = np.unique(labels)
    for c in clusters:
        idx = np.flatnonzero(labels == c); n = len(idx)
        ps = [hypergeom.sf(sum(m in moas[i] for i in idx) - 1, N, counts[m], n) for m in tested]
        enriched += any(pv < 0.01 for pv in ps)
    return len(clusters), enriched


def csif(labels):
    overall = Z.var(0)
    out = 0
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) >= 2:
            out += int((Z[idx].var(0) < 0.01 * overall).sum())
    return out


reps = {}
for name, R in (("raw", Z), ("pca", P), ("itml", T)):
    S = timed("sqdist", lambda: -euclidean_distances(R, squared=True))
    labels, tried = timed("affinity_propagation", lambda: ap(S))
    del S
    nc, ne = timed("enrichment", lambda: enrich(labels))
    nf = timed("csif", lambda: csif(labels))
    reps[name] = {"clusters": int(nc), "enriched": int(ne), "csif_features": nf, "ap": tried}

res = {"n": int(Z.shape[0]), "d": int(Z.shape[1]), "stages_s": st, "representations": reps,
       "total_s": time.perf_counter() - t0}
json.dump(res, sys.stdout, indent=1); print()
