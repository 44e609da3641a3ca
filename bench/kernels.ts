/**
 * Dense-kernel benchmark (median of repeats after warm-up), phenomap vs numpy on the same shapes.
 *
 *   npx tsx bench/kernels.ts [--repeats 7] [--rounds 3] [--skip-numpy] [--only name,name]
 *
 * Rounds alternate the two sides (phenomap's cases, then numpy's, --rounds times) and each figure
 * is the median over rounds of that round's median, so a change in the machine's load hits both.
 * The 10,000-row cases allocate 800 MB per output (numpy's distances need ≈ 2.4 GB): run them
 * under flock /tmp/phenomap-heavy.lock on a shared machine.
 *
 * Shapes: tcrossprod 342×454, 2736×454 and 10000×454 (the LINCS plate, its 8× stack and 10,000 rows
 * of its 30× stack, each copy with 1 % noise), squared distances at 2,736 and 10,000, PCA with 50
 * components on the LINCS fixture, cholesky of a 454² SPD matrix, symmetricEigen of a 342² Gram
 * (k = 50 and full). numpy runs via /usr/bin/python3 with OPENBLAS_NUM_THREADS=1 (scikit-learn's
 * single-threaded baseline). The engine is printed: PHENOMAP_NO_NATIVE=1 measures the wasm kernels,
 * with PHENOMAP_NO_WASM=1 too the pure-JS fallback; PHENOMAP_NO_AVX512=1 the native AVX2 kernel;
 * PHENOMAP_THREADS=1 keeps products above 1e7 multiply-adds on one thread (default: all cores).
 */
import { spawnSync } from 'node:child_process';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpyMatrix } from '../src/io/npy.js';
import {
  tcrossprod, gemmNT, cholesky, crossprod, symmetricEigen, zeros, squaredDistances, linalgBackend, type Matrix,
} from '../src/linalg/index.js';
import { PCA } from '../src/represent/pca.js';
import { Rng } from '../src/linalg/rng.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const fixture = join(repo, 'test', 'fixtures', 'lincs_SQ00015054', 'X_zscored.npy');
const args = process.argv.slice(2);
const opt = (f: string) => {
  const i = args.indexOf(f);
  return i >= 0 ? args[i + 1] : undefined;
};
const repeats = Number(opt('--repeats') ?? 7);
const rounds = Number(opt('--rounds') ?? 3);
const only = opt('--only')?.split(',');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Median wall and median process-CPU ms (CPU time is the steadier figure on a shared machine). */
function time(fn: () => unknown, reps = repeats): { wall: number; cpu: number } {
  fn(); // warm-up (JIT, wasm memory growth, worker start)
  const ts: number[] = [], cs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cs.push((c.user + c.system) / 1000);
  }
  return { wall: median(ts), cpu: median(cs) };
}

function stack(X: Matrix, copies: number, rows = X.rows * copies): Matrix {
  const rng = new Rng(1);
  const out = zeros(X.rows * copies, X.cols);
  for (let c = 0; c < copies; c++) for (let t = 0; t < X.data.length; t++) out.data[c * X.data.length + t] = X.data[t]! + 0.01 * rng.normal();
  return { rows, cols: X.cols, data: out.data.slice(0, rows * X.cols) };
}

const X = readNpyMatrix(fixture);
const X8 = stack(X, 8);
const X10k = only && !only.some((o) => o.includes('10000')) ? X : stack(X, 30, 10000);
const spd = crossprod(X); // 454², positive definite only with a ridge (rank ≤ 342)
for (let i = 0; i < spd.rows; i++) spd.data[i * spd.rows + i] += 1;
const G = tcrossprod(X);

const cases: [string, () => unknown][] = [
  ['tcrossprod_342x454', () => tcrossprod(X)],
  ['tcrossprod_2736x454', () => tcrossprod(X8)],
  ['gemmNT_2736x454x2736', () => gemmNT(X8, X8)],
  ['sqdist_2736x454', () => squaredDistances(X8)],
  ['tcrossprod_10000x454', () => tcrossprod(X10k)],
  ['sqdist_10000x454', () => squaredDistances(X10k)],
  ['pca50_lincs', () => new PCA({ nComponents: 50 }).fitTransform(X)],
  ['cholesky_454', () => cholesky(spd)],
  ['eigen_342_k50', () => symmetricEigen(G, { k: 50 })],
  ['eigen_342_full', () => symmetricEigen(G)],
];

const heavy = (name: string) => name.includes('2736') || name.includes('10000');
const jsRounds: Record<string, { wall: number; cpu: number }[]> = {};
const npRounds: Record<string, { wall: number; cpu: number }[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of cases) {
    if (only && !only.includes(name)) continue;
    (jsRounds[name] ??= []).push(time(fn, heavy(name) ? Math.max(3, Math.min(repeats, 5)) : repeats));
  }
  if (args.includes('--skip-numpy')) continue;
  const py = spawnSync('/usr/bin/python3', [join(here, 'kernels_numpy.py'), fixture, String(repeats), (only ?? cases.map((c) => c[0])).join(',')], {
    encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  if (py.status !== 0) {
    console.error(`numpy baseline failed: ${py.stderr}`);
    continue;
  }
  for (const [name, v] of Object.entries(JSON.parse(py.stdout) as Record<string, { wall: number; cpu: number }>)) (npRounds[name] ??= []).push(v);
}
const med = (xs: { wall: number; cpu: number }[] | undefined) => (xs?.length ? { wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) } : undefined);
const js: Record<string, { wall: number; cpu: number }> = {};
for (const name of Object.keys(jsRounds)) js[name] = med(jsRounds[name])!;
const np: Record<string, { wall: number; cpu: number } | undefined> = {};
for (const name of Object.keys(npRounds)) np[name] = med(npRounds[name]);

const be = linalgBackend();
const mode = be.engine === 'js' ? 'pure JS' : `${be.engine}${be.simd ? ` (${be.simd})` : ''}, ${be.threads} threads`;
console.log(`phenomap (${mode}) vs numpy (1 BLAS thread), median ms of ${repeats} after warm-up; median over ${rounds} alternating rounds`);
console.log('(cpu = process CPU time: the steadier figure when the machine is shared)');
const f = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(2)).padStart(10);
console.log(`${'case'.padEnd(22)}${'wall'.padStart(10)}${'cpu'.padStart(10)}${'np wall'.padStart(10)}${'np cpu'.padStart(10)}${'np/ours wall'.padStart(14)}${'np/ours cpu'.padStart(13)}`);
for (const name of Object.keys(js)) {
  const a = js[name]!, b = np[name];
  console.log(`${name.padEnd(22)}${f(a.wall)}${f(a.cpu)}${f(b?.wall)}${f(b?.cpu)}${(b ? (b.wall / a.wall).toFixed(2) + '×' : '').padStart(14)}${(b ? (b.cpu / a.cpu).toFixed(2) + '×' : '').padStart(13)}`);
}
console.log('(np/ours > 1: phenomap faster; per-round figures: BENCH_ROUNDS=1)');
if (process.env.BENCH_ROUNDS) for (const name of Object.keys(js)) console.log(name, jsRounds[name]!.map((x) => x.cpu.toFixed(1)).join(' '), '| np', (npRounds[name] ?? []).map((x) => x.cpu.toFixed(1)).join(' '));
