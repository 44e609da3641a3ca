/**
 * PCA(50) at full width, phenomap against scikit-learn's default PCA(50) (randomized_svd here),
 * alternating in fresh child processes on the same z-scored matrix, one thread each side
 * (PHENOMAP_THREADS, OPENBLAS_NUM_THREADS): the speed target of issue 22 (≥ 3× at 7,360 × 5,792
 * and at 384 × 5,792). Each child loads the NPY file, then times `fitTransform` --inner times
 * (default 3) and reports the median call (and the first, cold one).
 *
 *   flock /tmp/phenomap-heavy.lock npx tsx bench/pca-speed.ts --npy Z.npy [--rows 384] [--repeats 3] [--inner 3]
 *       [--solver auto|full|randomized] [--threads 1]
 *
 * Without --npy the first --rows labelled rows of a `phenomap synth --features 5792` CSV.gz given
 * with --table, z-scored.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpyMatrix, writeNpy } from '../src/io/npy.js';
import { readProfiles } from '../src/io/read.js';
import { metaStrings } from '../src/io/profiles.js';
import { takeRows, asFloat64 } from '../src/linalg/index.js';
import { zscore } from '../src/preprocess/zscore.js';
import { PCA, type PcaSolver } from '../src/represent/pca.js';
import { arg, hasFlag, root } from './common.js';

const PY = `
import sys, time, numpy as np
from sklearn.decomposition import PCA
X = np.load(sys.argv[1])
runs = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); PCA(50).fit_transform(X); runs.append(time.perf_counter() - t)
print(sorted(runs)[len(runs) // 2], runs[0])
`;

if (hasFlag('--child')) {
  const X = readNpyMatrix(arg('--npy', ''));
  const runs: number[] = [];
  let used = '';
  for (let r = 0; r < Number(arg('--inner', '3')); r++) {
    const t0 = performance.now();
    const p = new PCA({ nComponents: 50, solver: arg('--solver', 'auto') as PcaSolver });
    p.fitTransform(X);
    runs.push((performance.now() - t0) / 1000);
    used = p.solver!;
  }
  console.log(`${[...runs].sort((a, b) => a - b)[runs.length >> 1]} ${runs[0]} ${used}`);
} else {
  const threads = arg('--threads', '1');
  const repeats = Number(arg('--repeats', '3'));
  const solver = arg('--solver', 'auto');
  const inner = arg('--inner', '3');
  const env = { ...process.env, PHENOMAP_THREADS: threads, OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads };
  const dir = mkdtempSync(join(tmpdir(), 'phenomap-pca-speed-'));
  try {
    let npy = arg('--npy', '');
    if (!npy) {
      const table = arg('--table', '');
      if (!table) throw new Error('give --npy Z.npy or --table wide.csv.gz');
      const { profiles } = await readProfiles(table);
      const lab = metaStrings(profiles, 'Metadata_moa');
      const rows = lab.flatMap((l, i) => (l ? [i] : [])).slice(0, Number(arg('--rows', '384')));
      npy = join(dir, 'Z.npy');
      writeNpy(npy, zscore(asFloat64(takeRows(profiles.X, rows))).Z);
    }
    const X = readNpyMatrix(npy);
    console.log(`# PCA(50) of ${X.rows} × ${X.cols}, ${threads} thread(s) each side, alternating, ${repeats} repeats; ${new Date().toISOString()}`);
    const ours: number[] = [], theirs: number[] = [];
    let used = '';
    for (let r = 0; r < repeats; r++) {
      const o = execFileSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'pca-speed.ts'), '--child', '--npy', npy, '--solver', solver, '--inner', inner], { env, encoding: 'utf8' }).trim().split(/\s+/);
      ours.push(Number(o[0]));
      used = o[2]!;
      const t = execFileSync('/usr/bin/python3', ['-c', PY, npy, inner], { env, encoding: 'utf8' }).trim().split(/\s+/);
      theirs.push(Number(t[0]));
      console.log(`repeat ${r + 1}: phenomap ${ours[r]!.toFixed(3)} s (${used}; first call ${Number(o[1]).toFixed(3)}), scikit-learn ${theirs[r]!.toFixed(3)} s (first ${Number(t[1]).toFixed(3)})`);
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const ratios = ours.map((v, i) => theirs[i]! / v);
    console.log(`median: phenomap ${med(ours).toFixed(3)} s (${used}), scikit-learn ${med(theirs).toFixed(3)} s; speed-up ${(med(theirs) / med(ours)).toFixed(2)}× (per-repeat ratios ${ratios.map((x) => x.toFixed(2)).join(', ')})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
