// The peer's own stages (../shared/bench/peer_sklearn.py without t-SNE), one pass each, in one
// Node process on the compiled library (starting workers early as `run` does): read → keep labelled rows → z-score → PCA 50 → squared
// distances → affinity propagation on raw (damping 0.5, seed 0) → MoA enrichment. bench/pipeline.ts
// times this whole process against the peer's whole process: the same work end to end.
//
//   node bench/same-stages.mjs PROFILES [--label-col Metadata_moa]     (after npm run build)
import { readProfiles } from '../dist/io/read.js';
import { metaStrings } from '../dist/io/profiles.js';
import { compactRowsInPlace, prestartThreads, squaredDistances } from '../dist/linalg/index.js';
import { zscore } from '../dist/preprocess/zscore.js';
import { PCA } from '../dist/represent/pca.js';
import { affinityPropagation, prestartAffinityPropagation } from '../dist/cluster/affinityPropagation.js';
import { moaEnrichment } from '../dist/enrich/enrichment.js';

const args = process.argv.slice(2);
const labelCol = args.includes('--label-col') ? args[args.indexOf('--label-col') + 1] : 'Metadata_moa';
const t0 = performance.now();
prestartThreads(); // as `run` does: the kernel workers boot while the file is read
const { profiles } = await readProfiles(args[0]);
const raw = metaStrings(profiles, labelCol);
const idx = raw.flatMap((l, i) => (l && l.trim() ? [i] : []));
const labels = idx.map((i) => raw[i].trim());
const { Z } = zscore(compactRowsInPlace(profiles.X, idx), { inPlace: true });
const P = new PCA({ nComponents: Math.min(50, Z.rows, Z.cols) }).fitTransform(Z);
prestartAffinityPropagation(Z.rows); // as `run` does, for n ≥ 1,000
const S = squaredDistances(Z);
for (let i = 0; i < S.data.length; i++) S.data[i] = -S.data[i];
const ap = affinityPropagation(S, { noise: { seed: 0 } });
const enr = moaEnrichment(ap.labels, labels, { minMoa: 5, alpha: 0.01 });
console.log(JSON.stringify({
  n: Z.rows, d: Z.cols, pcs: P.cols, clusters: ap.exemplars.length, apIterations: ap.nIter, converged: ap.converged,
  enriched: enr.enrichedClusters.length, seconds: (performance.now() - t0) / 1000,
}));
