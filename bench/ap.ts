/**
 * Affinity-propagation benchmark: phenomap vs scikit-learn on the same S in the same run.
 *
 *   npx tsx bench/ap.ts [--skip-10k] [--skip-sklearn] [--scale 8]
 *
 * 1. LINCS fixture (342 × 454 z-scored features): S = −squared distances.
 * 2. The peer's `--scale 8` input: the rows stacked 8 times with 1 % Gaussian noise × column std
 *    (seeded), re-z-scored; n = 2,736. sklearn draws its tie-breaking noise from RandomState(0);
 *    the same noise matrix is handed to phenomap, so iteration counts and labels must agree.
 * 3. n = 10,000 synthetic clustered profiles in a child process (copy = false, seeded noise),
 *    reporting peak RSS.
 * The AP kernel's engine (native, wasm-simd or js, as linalgBackend() reports it) is printed per run;
 * PHENOMAP_NO_NATIVE=1 benchmarks the wasm pass, adding PHENOMAP_NO_WASM=1 the JS path.
 * sklearn runs via /usr/bin/python3 (Debian python3-sklearn), S passed as a .npy file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { affinityPropagation } from '../src/cluster/affinityPropagation.js';
import { readNpy, readNpyMatrix, writeNpy } from '../src/io/npy.js';
import { squaredDistances, zeros, linalgBackend, type Matrix } from '../src/linalg/index.js';
import { Rng } from '../src/linalg/rng.js';
import { zscore as zscoreColumns } from '../src/preprocess/zscore.js';
import { stackWithNoise } from './common.js';

// AP's message passing runs on the same engine as the products (native addon, else wasm, else JS).
const engine = linalgBackend().engine;
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const opt = (f: string, d: number) => {
  const i = args.indexOf(f);
  return i >= 0 ? Number(args[i + 1]) : d;
};

function negate(D: Matrix): Matrix {
  const d = D.data;
  for (let i = 0; i < d.length; i++) d[i] = -d[i]!;
  return D;
}

const PY = `
import sys, time, json, os
import numpy as np
from sklearn.cluster import AffinityPropagation
S = np.load(sys.argv[1]); reps = int(sys.argv[2]); noise_out = sys.argv[3]
np.save(noise_out, np.random.RandomState(0).standard_normal(size=S.shape))
runs = []; cpu = []
for _ in range(reps):
    t = time.perf_counter(); c = time.process_time()
    ap = AffinityPropagation(affinity="precomputed", random_state=0).fit(S)
    runs.append(time.perf_counter() - t); cpu.append(time.process_time() - c)
np.save(noise_out.replace('noise', 'labels'), ap.labels_.astype(np.int64))
print(json.dumps({"runs": runs, "cpu": cpu, "n_iter": int(ap.n_iter_), "clusters": int(len(ap.cluster_centers_indices_))}))
`;

interface PyOut {
  runs: number[];
  cpu: number[];
  n_iter: number;
  clusters: number;
}

function sklearnAp(S: Matrix, dir: string, name: string, reps: number): { py: PyOut; noise: Matrix; labels: Float64Array } | undefined {
  const sPath = join(dir, `${name}_S.npy`), nPath = join(dir, `${name}_noise.npy`);
  writeNpy(sPath, S);
  try {
    const out = execFileSync('/usr/bin/python3', ['-c', PY, sPath, String(reps), nPath], {
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', PYTHONWARNINGS: 'ignore' },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    const py = JSON.parse(out.trim().split('\n').pop()!) as PyOut;
    return { py, noise: readNpyMatrix(nPath), labels: readNpy(nPath.replace('noise', 'labels')).data };
  } catch (e) {
    console.log(`  sklearn: not available (${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function benchCase(name: string, S: Matrix, reps: number, dir: string): void {
  console.log(`\n== ${name}: n = ${S.rows}`);
  const sk = flag('--skip-sklearn') ? undefined : sklearnAp(S, dir, name.replace(/\W+/g, '_'), reps);
  const noise = sk?.noise ?? ({ seed: 0 } as const);
  let skTot = NaN, skCpu = NaN, skPerIt = NaN;
  if (sk) {
    skTot = median(sk.py.runs) * 1000;
    skCpu = median(sk.py.cpu) * 1000;
    skPerIt = skTot / sk.py.n_iter;
    console.log(
      `  sklearn 1.2 : ${sk.py.clusters} clusters, ${sk.py.n_iter} iterations; wall ${skTot.toFixed(1)} ms (median of ${reps}), ` +
        `${skPerIt.toFixed(2)} ms/iteration; CPU ${skCpu.toFixed(1)} ms`,
    );
  }
  const threadCounts = S.rows >= 1000 ? [1, 2] : [1];
  for (const threads of threadCounts) {
    const totals: number[] = [], iters: number[] = [], cpus: number[] = [];
    let res = affinityPropagation(S, { noise, threads });
    for (let r = 0; r < reps; r++) {
      const t = performance.now();
      const c0 = process.cpuUsage();
      res = affinityPropagation(S, { noise, threads });
      const c = process.cpuUsage(c0);
      totals.push(performance.now() - t);
      cpus.push((c.user + c.system) / 1000);
      iters.push(res.timings.iterateMs);
    }
    const tot = median(totals), it = median(iters), cpu = median(cpus);
    const perIt = tot / res.nIter;
    console.log(
      `  phenomap ${threads}T (${engine}): ${res.exemplars.length} clusters, ${res.nIter} iterations, converged ${res.converged}; ` +
        `wall ${tot.toFixed(1)} ms, ${perIt.toFixed(2)} ms/iteration (message passing alone ${(it / res.nIter).toFixed(2)}; ` +
        `prepare ${res.timings.prepareMs.toFixed(1)} ms, labels ${res.timings.labelsMs.toFixed(1)} ms); CPU ${cpu.toFixed(1)} ms`,
    );
    if (sk) {
      let same = sk.labels.length === res.labels.length;
      for (let i = 0; same && i < res.labels.length; i++) if (sk.labels[i] !== res.labels[i]) same = false;
      console.log(
        `    same noise → identical labels ${same}, identical n_iter ${sk.py.n_iter === res.nIter}; ` +
          `speed-up ${(skTot / tot).toFixed(2)}× wall total, ${(skPerIt / perIt).toFixed(2)}× wall per iteration, ${(skCpu / cpu).toFixed(2)}× CPU`,
      );
    }
  }
}

function child10k(): void {
  const n = opt('--n', 10000), d = 50, centres = 200;
  const rng = new Rng(42);
  const C = zeros(centres, d);
  for (let i = 0; i < C.data.length; i++) C.data[i] = rng.normal() * 4;
  const X = zeros(n, d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(centres);
    for (let j = 0; j < d; j++) X.data[i * d + j] = C.data[c * d + j]! + rng.normal();
  }
  let t = performance.now();
  const S = negate(squaredDistances(X));
  const tS = performance.now() - t;
  t = performance.now();
  const res = affinityPropagation(S, { noise: { seed: 0 }, copy: false });
  const tAp = performance.now() - t;
  const ru = process.resourceUsage();
  console.log(
    JSON.stringify({
      n,
      sqdistMs: tS,
      apMs: tAp,
      nIter: res.nIter,
      converged: res.converged,
      clusters: res.exemplars.length,
      msPerIter: res.timings.iterateMs / res.nIter,
      engine,
      prepareMs: res.timings.prepareMs,
      labelsMs: res.timings.labelsMs,
      maxRssMB: ru.maxRSS / 1024,
    }),
  );
}

if (flag('--child10k')) {
  child10k();
} else {
  const dir = mkdtempSync(join(tmpdir(), 'phenomap-apbench-'));
  try {
    const X = readNpyMatrix(join(repo, 'test', 'fixtures', 'lincs_SQ00015054', 'X_zscored.npy'));
    benchCase('LINCS fixture raw', negate(squaredDistances(X)), 5, dir);
    const k = opt('--scale', 8);
    const Xs = zscoreColumns(stackWithNoise(X, k, 0)).Z;
    benchCase(`--scale ${k}`, negate(squaredDistances(Xs)), 1, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!flag('--skip-10k')) {
    console.log('\n== n = 10,000 synthetic clustered profiles (child process, copy = false)');
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child10k'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      const o = JSON.parse(line);
      console.log(
        `  n = ${o.n}: ${o.clusters} clusters, ${o.nIter} iterations, converged ${o.converged}; sqdist ${(o.sqdistMs / 1000).toFixed(1)} s, ` +
          `AP ${(o.apMs / 1000).toFixed(1)} s (${o.msPerIter.toFixed(0)} ms/iteration, ${o.engine}); peak RSS ${(o.maxRssMB / 1024).toFixed(2)} GB ` +
          `(limit 3 GB: ${o.maxRssMB / 1024 <= 3 ? 'OK' : 'EXCEEDED'})`,
      );
    } catch {
      console.log(`  child failed (status ${r.status}): ${line || r.stderr}`);
    }
  }
}
