/**
 * PCA(50) at full width, phenomap against scikit-learn's default PCA(50) (randomized_svd here),
 * alternating in fresh child processes on the same z-scored matrix, one thread each side
 * (PHENOMAP_THREADS, OPENBLAS_NUM_THREADS): the speed target of issue 22 (≥ 3× at 7,360 × 5,792
 * and at 384 × 5,792). Each child loads the NPY file, then times `fitTransform` --inner times
 * (default 3) and reports the median call (and the first, cold one).
 *
 *   flock /tmp/phenomap-heavy.lock npx tsx bench/pca-speed.ts --npy Z.npy [--rows 384] [--repeats 3] [--inner 3]
 *       [--solver auto|full|randomized] [--threads 1] [--our-threads N]
 *
 * --threads sets both sides (default 1); --our-threads overrides phenomap's side only, e.g.
 * `--our-threads 2` times phenomap's default on this 2-core machine (the native products on every
 * core) against scikit-learn held to one thread.
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
runs, cpu = [], []
for _ in range(int(sys.argv[2])):
    t, c = time.perf_counter(), time.process_time(); PCA(50).fit_transform(X)
    runs.append(time.perf_counter() - t); cpu.append(time.process_time() - c)
print(sorted(runs)[len(runs) // 2], runs[0], sorted(cpu)[len(cpu) // 2])
`;

if (hasFlag('--child')) {
  const X = readNpyMatrix(arg('--npy', ''));
  const runs: number[] = [], cpu: number[] = [];
  let used = '';
  for (let r = 0; r < Number(arg('--inner', '3')); r++) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    const p = new PCA({ nComponents: 50, solver: arg('--solver', 'auto') as PcaSolver });
    p.fitTransform(X);
    runs.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
    used = p.solver!;
  }
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(`${mid(runs)} ${runs[0]} ${mid(cpu)} ${used}`);
} else {
  const threads = arg('--threads', '1');
  const repeats = Number(arg('--repeats', '3'));
  const solver = arg('--solver', 'auto');
  const inner = arg('--inner', '3');
  const ourThreads = arg('--our-threads', threads);
  const env = { ...process.env, PHENOMAP_THREADS: threads, OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads };
  const ourEnv = { ...env, PHENOMAP_THREADS: ourThreads };
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
    console.log(`# PCA(50) of ${X.rows} × ${X.cols}, threads: phenomap ${ourThreads}, scikit-learn ${threads}; alternating, ${repeats} repeats of ${inner} calls; ${new Date().toISOString()}`);
    const ours: number[] = [], theirs: number[] = [], oursCpu: number[] = [], theirsCpu: number[] = [];
    let used = '';
    for (let r = 0; r < repeats; r++) {
      const o = execFileSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'pca-speed.ts'), '--child', '--npy', npy, '--solver', solver, '--inner', inner], { env: ourEnv, encoding: 'utf8' }).trim().split(/\s+/);
      ours.push(Number(o[0]));
      oursCpu.push(Number(o[2]));
      used = o[3]!;
      const t = execFileSync('/usr/bin/python3', ['-c', PY, npy, inner], { env, encoding: 'utf8' }).trim().split(/\s+/);
      theirs.push(Number(t[0]));
      theirsCpu.push(Number(t[2]));
      console.log(`repeat ${r + 1}: phenomap ${ours[r]!.toFixed(3)} s, CPU ${oursCpu[r]!.toFixed(3)} s (${used}; first call ${Number(o[1]).toFixed(3)}), scikit-learn ${theirs[r]!.toFixed(3)} s, CPU ${theirsCpu[r]!.toFixed(3)} s (first ${Number(t[1]).toFixed(3)})`);
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const ratios = ours.map((v, i) => theirs[i]! / v);
    console.log(`median: phenomap ${med(ours).toFixed(3)} s (${used}), scikit-learn ${med(theirs).toFixed(3)} s; speed-up ${(med(theirs) / med(ours)).toFixed(2)}× (per-repeat ratios ${ratios.map((x) => x.toFixed(2)).join(', ')})`);
    // On a shared, oversubscribed machine wall time mostly measures the other jobs: the process CPU
    // time of each call (every thread, GC included) is the steadier figure.
    const cpuRatios = oursCpu.map((v, i) => theirsCpu[i]! / v);
    console.log(`median CPU: phenomap ${med(oursCpu).toFixed(3)} s, scikit-learn ${med(theirsCpu).toFixed(3)} s; CPU ratio ${(med(theirsCpu) / med(oursCpu)).toFixed(2)}× (per repeat ${cpuRatios.map((x) => x.toFixed(2)).join(', ')})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
