import { readProfiles } from '../src/io/read.js';
import { zscore } from '../src/preprocess/zscore.js';
import { PCA } from '../src/represent/pca.js';
import { squaredDistances } from '../src/linalg/index.js';
import { affinityPropagation } from '../src/cluster/affinityPropagation.js';
import { plate, scaledProfiles } from './common.js';
const { profiles } = await readProfiles(plate);
const p = scaledProfiles(profiles, 8);
const Z = zscore(p.X).Z;
const P = new PCA({ nComponents: 50 }).fitTransform(Z);
const D = squaredDistances(P);
const S = { rows: D.rows, cols: D.cols, data: D.data.map((v) => -v) };
for (const d of [0.5, 0.6, 0.7]) {
  const t0 = performance.now();
  const ap = affinityPropagation(S, { noise: { seed: 0 }, damping: d });
  console.log(d, ap.converged, ap.nIter, ap.exemplars.length, ((performance.now() - t0) / 1000).toFixed(2), 's');
  console.log(Array.from(ap.exemplarTrace).slice(-60).join(' '));
}
process.exit(0);
