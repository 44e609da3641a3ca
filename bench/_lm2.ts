import { bbbc021Recipe } from '../src/io/recipes.js';
import { metaStrings } from '../src/io/profiles.js';
import { takeRows } from '../src/linalg/index.js';
import { PCA } from '../src/represent/pca.js';
import { Lmnn } from '../src/represent/lmnn.js';
import { normaliseForEvaluation } from '../src/evaluate/protocol.js';
const r = await bbbc021Recipe('/work/shared/data');
const p = normaliseForEvaluation(r.profiles, 'zscore').profiles;
const lab = metaStrings(p, 'Metadata_moa'), cmp = metaStrings(p, 'Metadata_compound');
const rows = lab.flatMap((l, i) => (l && l !== 'DMSO' && cmp[i] !== 'taxol' ? [i] : []));
const X = new PCA({ nComponents: 50, seed: 0 }).fitTransform(takeRows(p.X, rows));
for (const it of [25, 50, 100, 200]) {
  const t = performance.now();
  const m = new Lmnn({ k: 3, maxIter: it }).fit(X, rows.map((i) => lab[i]!), rows.map((i) => cmp[i]!));
  console.log(it, ((performance.now() - t) / 1000).toFixed(2), 's', m.iterations, m.objective.toFixed(1), m.active, m.warnings);
}
