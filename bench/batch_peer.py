"""Runs the batch-correction peers of ../shared/bench/batch (numpy ComBat and Harmony) and
pycytominer's Spherize on arrays written by bench/batch.ts or test/fixtures/batch/make.ts.

    /usr/bin/python3 bench/batch_peer.py METHOD DIR [--repeats N]

DIR holds X.npy (rows x features, float64) and batch.txt (one batch value per row); for sphere also
control.txt (1/0 per row); for harmony optionally init.npy (K x dims starting centroids) and
orders.npy (int64, rounds x N: the block orders phenomap drew), which replace scikit-learn's KMeans
and numpy's shuffles so both implementations start and proceed alike. Writes DIR/peer_out.npy and
prints one JSON line: {"method", "seconds": [...], "objective": [...]}.

The peers are measured, not copied: the ComBat and Harmony classes are imported unchanged; only
Harmony's KMeans and generator are replaced when init.npy / orders.npy are given.
"""
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("PHENOMAP_SHARED", os.path.join(HERE, "..", "..", "shared"))
sys.path.insert(0, os.path.join(SHARED, "bench", "batch"))
sys.path.insert(0, os.path.join(SHARED, "bench", "pycytominer"))


def main():
    method, folder = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 1
    X = np.load(os.path.join(folder, "X.npy"))
    batch = np.array(open(os.path.join(folder, "batch.txt")).read().split("\n"))
    seconds, objective, out = [], [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        if method == "combat":
            from combat import ComBat
            out = ComBat().fit_transform(X, batch)
        elif method == "harmony":
            import harmony as hm
            init_path, orders_path = os.path.join(folder, "init.npy"), os.path.join(folder, "orders.npy")
            if os.path.exists(init_path):
                init = np.load(init_path)

                class GivenStart:  # stands in for sklearn's KMeans: the given centroids
                    def __init__(self, **_):
                        self.cluster_centers_ = init

                    def fit(self, _):
                        return self

                hm.KMeans = GivenStart
            params = json.load(open(os.path.join(folder, "params.json"))) if os.path.exists(os.path.join(folder, "params.json")) else {}
            h = hm.Harmony(**params)
            if os.path.exists(orders_path):
                orders = iter(np.load(orders_path))

                class GivenOrders:  # stands in for numpy's RandomState: the recorded block orders
                    def shuffle(self, a):
                        a[:] = next(orders)

                # fit() creates self._rng at its start; every _update_R call then draws the next order.
                orig_update = hm.Harmony._update_R

                def update(self, *a):
                    self._rng = GivenOrders()
                    return orig_update(self, *a)

                hm.Harmony._update_R = update
            h.fit(X, batch)
            out = h.Z_corr_
            objective = [float(v) for v in h.objective_harmony_]
        elif method == "sphere":
            import pcshim  # noqa: F401
            from pycytominer.operations.transform import Spherize
            ctl = np.array([int(v) for v in open(os.path.join(folder, "control.txt")).read().split("\n")]) > 0
            s = Spherize(method="ZCA", epsilon=float(os.environ.get("SPHERE_EPSILON", "1e-6")))
            import pandas as pd
            cols = [f"f{j}" for j in range(X.shape[1])]
            s.fit(pd.DataFrame(X[ctl], columns=cols))
            out = s.transform(pd.DataFrame(X, columns=cols)).to_numpy()
        else:
            raise SystemExit(f"unknown method {method}")
        seconds.append(time.perf_counter() - t0)
    np.save(os.path.join(folder, "peer_out.npy"), np.ascontiguousarray(out, dtype=np.float64))
    print(json.dumps({"method": method, "seconds": seconds, "objective": objective}))


if __name__ == "__main__":
    main()
