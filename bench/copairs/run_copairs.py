"""Peer side of bench/map-scale.ts: copairs' average_precision + mean_average_precision on the
same table. Usage: run_copairs.py FEATURES.npy META.csv RULE NULL_SIZE; prints one JSON line."""
import json, resource, sys, time
import numpy as np, pandas as pd
from copairs import map as cmap
from copairs.matching import assign_reference_index

feats_path, meta_path, rule, null_size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
feats = np.load(feats_path)
meta = pd.read_csv(meta_path)
t0, c0 = time.perf_counter(), time.process_time()
if rule == "replicate":
    r = ["Metadata_compound", "Metadata_reference_index"]
    meta = assign_reference_index(meta, "Metadata_compound == 'DMSO'", reference_col=r[1], default_value=-1)
    ap = cmap.average_precision(meta, feats, r, [], [], r)
    ap = ap.query("Metadata_compound != 'DMSO'")
    m = cmap.mean_average_precision(ap, r, null_size=null_size, threshold=0.05, seed=0)
else:
    keep = (meta["Metadata_compound"] != "DMSO").values
    meta, feats = meta[keep].reset_index(drop=True), feats[keep]
    ap = cmap.average_precision(meta, feats, ["Metadata_moa"], ["Metadata_compound"], [], ["Metadata_moa", "Metadata_compound"])
    m = cmap.mean_average_precision(ap, ["Metadata_moa"], null_size=null_size, threshold=0.05, seed=0)
secs, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": secs, "cpu_seconds": cpu, "maxrss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "mean_map": float(m["mean_average_precision"].mean()), "aps": int(ap["average_precision"].notna().sum())}))
