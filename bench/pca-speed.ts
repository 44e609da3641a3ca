/**
 * PCA(50) at full width, phenomap against scikit-learn's default PCA(50) (randomized_svd here),
 * alternating in fresh child processes on the same z-scored matrix, one thread each side
 * (PHENOMAP_THREADS, OPENBLAS_NUM_THREADS): the speed target of issue 22 (≥ 3× at 7,360 × 5,792
 * and at 384 × 5,792). Each child loads the NPY file, then times the same call on each side —
 * phenomap `new PCA({ nComponents: 50 }).fitTransform(X)`, scikit-learn
 * `PCA(50).fit_transform(X)` (both: fit, the training coordinates, the centring copy sklearn
 * makes, nothing else; the load is outside) — --inner times (default 3), and reports the median
 * of the warm calls (the second half: phenomap's JavaScript is compiled over the first few) and
 * the first, cold one (JIT compilation, the native thread pool, scipy's lazy imports) — the one a
 * `phenomap run` pays —, wall and process CPU time (every thread, GC included); and the mean CPU
 * time of all the calls, cold one included: what C fits in one process cost each, every one-time
 * cost (V8's compilation and early page faults here, scipy's imports there) counted once.
 *
 *   npx tsx bench/pca-speed.ts --npy Z.npy [--repeats 3] [--inner 3] [--solver auto|full|randomized]
 *       [--precisions float32,float64] [--threads 1] [--our-threads N]
 *
 * --precisions: the randomized solver's range-finder arithmetic (PCA's rangePrecision), each run
 * as its own child in every repeat, so the two are compared side by side too.
 * Wall time on this shared machine mostly measures the other jobs: the CPU ratio is the figure.
 * The load average is printed with every repeat.
 *
 * --threads sets both sides (default 1); --our-threads overrides phenomap's side only, e.g.
 * `--our-threads 2` times phenomap's default on this 2-core machine (the native products on every
 * core) against scikit-learn held to one thread.
 *
 * Without --npy the first --rows labelled rows (Metadata_moa set; --any-rows: any rows) of a table
 * given with --table (a `phenomap synth --features 5792` CSV.gz, JUMP's single cells), z-scored.
 * With --npy and --rows, the first --rows rows of the NPY matrix as they are.
 *
 * 'auto' runs the float32 Gram solver on a wide table (rows ≤ features ≤ … see represent/pca.ts)
 * and the randomized one when min(rows, features) > 1,000: the solver used is printed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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
warm = lambda xs: sorted(xs[len(xs) // 2:])[len(xs[len(xs) // 2:]) // 2]
print(warm(runs), runs[0], warm(cpu), cpu[0], sum(cpu) / len(cpu))
`;
/**
 * Median of the warm calls: the second half (phenomap's JavaScript parts are still being compiled
 * during the first few calls; the first alone is the cold figure).
 */
const warm = (xs: number[]) => {
  const w = xs.slice(xs.length >> 1);
  return [...w].sort((a, b) => a - b)[w.length >> 1]!;
};

if (hasFlag('--child')) {
  const X = readNpyMatrix(arg('--npy', ''));
  const runs: number[] = [], cpu: number[] = [];
  let used = '';
  for (let r = 0; r < Number(arg('--inner', '3')); r++) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    const p = new PCA({ nComponents: 50, solver: arg('--solver', 'auto') as PcaSolver, rangePrecision: arg('--precision', 'float32') as 'float32' | 'float64' });
    p.fitTransform(X);
    runs.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
    used = p.solver!;
  }
  console.log(`${warm(runs)} ${runs[0]} ${warm(cpu)} ${cpu[0]} ${used} ${cpu.reduce((a, b) => a + b, 0) / cpu.length}`);
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
      const lab = hasFlag('--any-rows') ? Array.from({ length: profiles.X.rows }, () => 'any') : metaStrings(profiles, 'Metadata_moa');
      const rows = lab.flatMap((l, i) => (l ? [i] : [])).slice(0, Number(arg('--rows', '384')));
      npy = join(dir, 'Z.npy');
      writeNpy(npy, zscore(asFloat64(takeRows(profiles.X, rows))).Z);
    }
    let X = readNpyMatrix(npy);
    if (arg('--npy', '') && arg('--rows', '')) {
      const first = Array.from({ length: Math.min(X.rows, Number(arg('--rows', ''))) }, (_, i) => i);
      if (first.length < X.rows) {
        X = takeRows(X, first) as typeof X;
        npy = join(dir, 'Z.npy');
        writeNpy(npy, X);
      }
    }
    const precisions = arg('--precisions', 'float32').split(',');
    console.log(`# PCA(50) of ${X.rows} × ${X.cols}, threads: phenomap ${ourThreads}, scikit-learn ${threads}; alternating, ${repeats} repeats of ${inner} calls (warm = median of calls ${(Number(inner) >> 1) + 1}…${inner}, cold = call 1); phenomap range finder ${precisions.join(' / ')}; ${new Date().toISOString()}`);
    const ours: Record<string, { wall: number[]; cpu: number[]; cold: number[]; mean: number[] }> = {};
    for (const p of precisions) ours[p] = { wall: [], cpu: [], cold: [], mean: [] };
    const theirs = { wall: [] as number[], cpu: [] as number[], cold: [] as number[], mean: [] as number[] };
    let used = '';
    const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
    for (let r = 0; r < repeats; r++) {
      const parts: string[] = [];
      for (const prec of precisions) {
        const o = execFileSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'pca-speed.ts'), '--child', '--npy', npy, '--solver', solver, '--inner', inner, '--precision', prec], { env: ourEnv, encoding: 'utf8' }).trim().split(/\s+/);
        ours[prec]!.wall.push(Number(o[0]));
        ours[prec]!.cpu.push(Number(o[2]));
        ours[prec]!.cold.push(Number(o[3]));
        ours[prec]!.mean.push(Number(o[5]));
        used = o[4]!;
        parts.push(`phenomap ${used === 'randomized' ? prec : used} ${Number(o[0]).toFixed(3)} s, CPU ${Number(o[2]).toFixed(3)} s (cold CPU ${Number(o[3]).toFixed(3)})`);
      }
      const t = execFileSync('/usr/bin/python3', ['-c', PY, npy, inner], { env, encoding: 'utf8' }).trim().split(/\s+/);
      theirs.wall.push(Number(t[0]));
      theirs.cpu.push(Number(t[2]));
      theirs.cold.push(Number(t[3]));
      theirs.mean.push(Number(t[4]));
      parts.push(`scikit-learn ${Number(t[0]).toFixed(3)} s, CPU ${Number(t[2]).toFixed(3)} s (cold CPU ${Number(t[3]).toFixed(3)})`);
      console.log(`repeat ${r + 1} (load ${load()}): ${parts.join('; ')}`);
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    for (const prec of precisions) {
      const o = ours[prec]!;
      const label = used === 'randomized' ? `${used}, ${prec}` : used;
      const cpuRatios = o.cpu.map((v, i) => theirs.cpu[i]! / v);
      console.log(`phenomap (${label}) vs scikit-learn, warm calls — wall: ${med(o.wall).toFixed(3)} vs ${med(theirs.wall).toFixed(3)} s, ${(med(theirs.wall) / med(o.wall)).toFixed(2)}×; CPU: ${med(o.cpu).toFixed(3)} vs ${med(theirs.cpu).toFixed(3)} s, **${(med(theirs.cpu) / med(o.cpu)).toFixed(2)}×** (per repeat ${cpuRatios.map((x) => x.toFixed(2)).join(', ')}); cold CPU ${med(o.cold).toFixed(3)} vs ${med(theirs.cold).toFixed(3)} s, ${(med(theirs.cold) / med(o.cold)).toFixed(2)}×; every call (mean CPU of all ${inner}, cold included) ${med(o.mean).toFixed(3)} vs ${med(theirs.mean).toFixed(3)} s, ${(med(theirs.mean) / med(o.mean)).toFixed(2)}× (per repeat ${o.mean.map((v, i) => (theirs.mean[i]! / v).toFixed(2)).join(', ')})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
