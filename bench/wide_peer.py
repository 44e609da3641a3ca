#!/usr/bin/env python3
"""The peer of bench/wide.ts and bench/pca-angles.ts: scikit-learn / pandas on the same inputs.

Modes (one JSON object printed per call):
  pca-angles Z.npy --k 50          sklearn PCA(k) default ('auto' → randomized here) vs svd_solver='full':
                                   principal angles between their component subspaces, and both times
  stages PROFILES --label-col L    read (pandas) and, on the labelled rows, z-score, PCA(50),
                                   LDA(eigen, auto shrinkage), 50-NN, affinity propagation, AP (average
                                   precision) — each timed, median of --repeats calls
Threads: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS = --threads (default 1), set before numpy loads.
"""
import argparse, json, os, sys, time

p = argparse.ArgumentParser()
p.add_argument("mode"); p.add_argument("input")
p.add_argument("--k", type=int, default=50); p.add_argument("--threads", type=int, default=1)
p.add_argument("--label-col", default="Metadata_moa"); p.add_argument("--group-col", default="Metadata_compound")
p.add_argument("--repeats", type=int, default=3); p.add_argument("--stages", default="read,zscore,pca,lda,knn,ap,fold")
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()
for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(a.threads)
import resource
import numpy as np

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

CPU = []  # process CPU seconds of the last timed() calls (one thread: comparable with phenomap's)
def timed(fn, repeats):
    runs = []; out = None; CPU.clear()
    for _ in range(repeats):
        t = time.perf_counter(); c = time.process_time(); out = fn(); runs.append(time.perf_counter() - t); CPU.append(time.process_time() - c)
    return out, float(np.median(runs)), runs

def principal_angles_deg(A, B):
    # rows of A and B: orthonormal bases of two k-dimensional subspaces
    s = np.linalg.svd(A @ B.T, compute_uv=False)
    return np.degrees(np.arccos(np.clip(s, -1, 1)))

if a.mode == "pca-angles":
    from sklearn.decomposition import PCA
    Z = np.load(a.input)
    k = min(a.k, *Z.shape)
    full, t_full, _ = timed(lambda: PCA(n_components=k, svd_solver="full").fit(Z), 1)
    auto, t_auto, _ = timed(lambda: PCA(n_components=k, random_state=a.seed).fit(Z), a.repeats)
    ang = principal_angles_deg(full.components_, auto.components_)
    ev = abs(auto.explained_variance_ratio_.sum() - full.explained_variance_ratio_.sum()) / full.explained_variance_ratio_.sum()
    json.dump({"n": Z.shape[0], "d": Z.shape[1], "k": k, "solver": auto._fit_svd_solver,
               "max_angle_deg": float(ang.max()), "median_angle_deg": float(np.median(ang)),
               "angles_deg": [float(x) for x in ang], "explained_rel_err": float(ev),
               "t_full_s": t_full, "t_default_s": t_auto}, sys.stdout); print()
    sys.exit(0)
if a.mode != "stages":
    raise SystemExit(f"unknown mode {a.mode}")

import pandas as pd
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.neighbors import NearestNeighbors
from sklearn.cluster import AffinityPropagation
from sklearn.metrics import euclidean_distances

want = set(a.stages.split(","))
res = {"stages": {}, "threads": a.threads}
st = res["stages"]

def record(name, runs, note=None, cpu=None):
    st[name] = {"seconds": float(np.median(runs)), "runs": [float(r) for r in runs]}
    if cpu: st[name]["cpu"] = float(np.median(cpu))
    if note: st[name]["note"] = note

t = time.perf_counter(); c = time.process_time(); df = pd.read_csv(a.input); t_read = time.perf_counter() - t
if "read" in want: record("read", [t_read], cpu=[time.process_time() - c])
lab = df[a.label_col].astype("string").str.strip()
keep = (lab.notna() & (lab != "")).to_numpy()
feat = [c for c in df.columns if not c.startswith("Metadata_") and pd.api.types.is_numeric_dtype(df[c])]
X = df.loc[keep, feat].to_numpy(float)
y = lab[keep].to_numpy(str)
comp = df.loc[keep, a.group_col].astype(str).to_numpy()
del df
res["n"], res["d"] = int(X.shape[0]), int(X.shape[1])

# In place on a fresh copy (untimed), as phenomap's stage does it.
runs = []; cpu = []
for _ in range(a.repeats):
    Z = X.copy()
    t = time.perf_counter(); c = time.process_time(); Z -= Z.mean(0); Z /= Z.std(0); runs.append(time.perf_counter() - t); cpu.append(time.process_time() - c)
if "zscore" in want: record("zscore", runs, "in place", cpu)
P, _, runs = timed(lambda: PCA(n_components=50, random_state=0).fit_transform(Z), a.repeats)
if "pca" in want:
    auto = "randomized" if max(Z.shape) > 500 and 50 < 0.8 * min(Z.shape) else "full"
    record("pca", runs, auto, CPU)
train = np.array([sum(ord(ch) for ch in c) % 2 == 0 for c in comp])
lda_s = None; lda_cpu = None
def lda_fit_transform():
    global lda_s, lda_cpu
    t = time.perf_counter(); c = time.process_time()
    m = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(Z[train], y[train])
    R = m.transform(Z)
    lda_s = time.perf_counter() - t; lda_cpu = time.process_time() - c
    return R
if "knn" in want:
    _, _, runs = timed(lambda: NearestNeighbors(n_neighbors=51, algorithm="brute").fit(P).kneighbors(P), a.repeats)
    record("knn", runs, cpu=CPU)
if "ap" in want and P.shape[0] <= 8000:
    def ap():
        S = -euclidean_distances(P, squared=True)
        return AffinityPropagation(affinity="precomputed", random_state=0).fit(S)
    _, _, runs = timed(ap, min(a.repeats, 2))
    record("ap", runs, cpu=CPU)
elif "ap" in want:
    # sklearn's AffinityPropagation holds S, A, R and tmp (4 n² float64) and, while adding its noise
    # to S, two more n² temporaries: it cannot run here at this size.
    n = P.shape[0]
    st["ap"] = {"seconds": None, "runs": [], "note": f"dense AffinityPropagation not run: needs ≥ 4 n² float64 = {4 * n * n * 8 / 1e9:.0f} GB (≈ {6 * n * n * 8 / 1e9:.0f} GB at its peak), the machine has 24 GB"}
if "fold" in want:
    # One fold: fit raw / PCA(50) / LDA(eigen, auto) on the training compounds, represent every row,
    # treatment (= compound) medians, cosine 1-NN of held-out treatments among the training ones.
    def nsc(R):
        med = {c: np.median(R[comp == c], axis=0) for c in np.unique(comp)}
        tr = [c for c in med if sum(ord(ch) for ch in c) % 2 == 0]; te = [c for c in med if c not in set(tr)]
        moa = {c: y[comp == c][0] for c in med}
        A = np.array([med[c] for c in te]); B = np.array([med[c] for c in tr])
        A /= np.linalg.norm(A, axis=1, keepdims=True); B /= np.linalg.norm(B, axis=1, keepdims=True)
        nn = np.argmax(A @ B.T, axis=1)
        return float(np.mean([moa[te[i]] == moa[tr[j]] for i, j in enumerate(nn)]))
    def fold():
        out = {}
        t = time.perf_counter(); out["raw"] = nsc(Z); out["raw_s"] = time.perf_counter() - t
        t = time.perf_counter(); out["pca"] = nsc(PCA(n_components=50, random_state=0).fit(Z[train]).transform(Z)); out["pca_s"] = time.perf_counter() - t
        t = time.perf_counter(); out["lda"] = nsc(lda_fit_transform()); out["lda_s"] = time.perf_counter() - t
        return out
    o, _, runs = timed(fold, 1)
    record("fold", runs, f"raw {o['raw_s']:.2f} s, pca {o['pca_s']:.2f} s, lda {o['lda_s']:.2f} s (CPU {lda_cpu:.2f} s) (NSC only)", CPU)
# The LDA stage is the fold's fit and transform (one O(d³) fit of several minutes is enough).
if "lda" in want:
    if lda_s is None: lda_fit_transform()
    record("lda", [lda_s], f"fit on {int(train.sum())} rows", [lda_cpu])
res["peakRssMB"] = rss_mb()
json.dump(res, sys.stdout); print()
