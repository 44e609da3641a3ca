import { bbbc021Recipe } from '../src/io/recipes.js';
import { metaStrings } from '../src/io/profiles.js';
import { normaliseForEvaluation, fitRepresentation, BUILTIN_REPRESENTATIONS } from '../src/evaluate/protocol.js';
const r = await bbbc021Recipe('/work/shared/data');
const p = normaliseForEvaluation(r.profiles, 'zscore').profiles;
const lab = metaStrings(p, 'Metadata_moa'), cmp = metaStrings(p, 'Metadata_compound');
const rows = lab.flatMap((l, i) => (l && l !== 'DMSO' && cmp[i] !== 'taxol' ? [i] : []));
console.log('fit rows', rows.length);
for (const name of (process.argv[2] ?? 'lmnn').split(',')) {
  const t = performance.now();
  const m = fitRepresentation(BUILTIN_REPRESENTATIONS[name]!, p.X, rows, rows.map((i) => lab[i]!), 0, 'auto', { groups: rows.map((i) => cmp[i]!) });
  console.log(name, ((performance.now() - t) / 1000).toFixed(2), 's', m.warnings);
}
