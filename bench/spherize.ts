/**
 * normalize's sphering fit against pycytominer's Spherize, side by side on the same reference rows:
 * BBBC021's 330 DMSO wells (n < d: rank-deficient, the accurate SVD of the small side) and all 632
 * wells (n > d with 18 dependent features: the pivoted-QR Jacobi SVD decides the rank). Prints the
 * rank each finds and the median wall time of each over the repeats, alternating.
 *
 *   npx tsx bench/spherize.ts [--data ../shared/data] [--repeats 3]
 *
 * pycytominer (../shared/bench/pycytominer) runs with /usr/bin/python3, fitted on the centred rows
 * (the form phenomap follows; see docs/parity.md). Times include pycytominer's rank check.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bbbc021Recipe } from '../src/io/recipes.js';
import { metaStrings, subsetRows } from '../src/io/profiles.js';
import { fitSpherize } from '../src/preprocess/spherize.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const data = resolve(arg('--data', '../shared/data'));
const repeats = Number(arg('--repeats', '3'));
const pycytominer = resolve('../shared/bench/pycytominer');
const dir = mkdtempSync(join(tmpdir(), 'phenomap-bench-spherize-'));
const median = (v: number[]) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

const PY = `
import sys, time, numpy as np, numpy.typing, pandas as pd
from pycytominer.operations.transform import Spherize
n, d = int(sys.argv[2]), int(sys.argv[3])
X = np.fromfile(sys.argv[1]).reshape(n, d)
Xc = X - X.mean(axis=0)
t = time.perf_counter()
Spherize(method="ZCA", return_numpy=True).fit(pd.DataFrame(Xc))
print(time.perf_counter() - t, np.linalg.matrix_rank(Xc))
`;

try {
  const { profiles } = await bbbc021Recipe(data);
  const dmso = metaStrings(profiles, 'Metadata_compound').flatMap((c, i) => (c === 'DMSO' ? [i] : []));
  for (const [name, p] of [['330 DMSO wells', subsetRows(profiles, dmso)], ['all 632 wells', profiles]] as const) {
    const { rows: n, cols: d } = p.X;
    const file = join(dir, 'X.bin');
    writeFileSync(file, Buffer.from(Float64Array.from(p.X.data).buffer));
    const ours: number[] = [], theirs: number[] = [];
    let rank = 0, numpyRank = 0;
    for (let r = 0; r < repeats; r++) {
      const t = performance.now();
      rank = fitSpherize(p.X, { method: 'ZCA' }).rank;
      ours.push((performance.now() - t) / 1000);
      const out = execFileSync('/usr/bin/python3', ['-c', PY, file, String(n), String(d)], { env: { ...process.env, PYTHONPATH: pycytominer, OPENBLAS_NUM_THREADS: '1' } }).toString().trim().split(/\s+/);
      theirs.push(Number(out[0]));
      numpyRank = Number(out[1]);
    }
    console.log(`${name} (${n} × ${d}): rank phenomap ${rank}, numpy ${numpyRank}; ZCA fit phenomap ${median(ours).toFixed(2)} s, pycytominer ${median(theirs).toFixed(2)} s (medians of ${repeats}; all: ${ours.map((x) => x.toFixed(2)).join('/')} vs ${theirs.map((x) => x.toFixed(2)).join('/')})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
