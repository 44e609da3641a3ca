/**
 * t-SNE benchmark: 1,000 rows × 50 dims (PCA-50 of the LINCS plate's z-scored rows stacked 3× with
 * 1 % Gaussian noise, as ../shared/bench/peer_sklearn.py --scale does), phenomap's Barnes–Hut t-SNE
 * vs scikit-learn's TSNE(method='barnes_hut') on the same .npy, same parameters.
 * Run: npx tsx bench/tsne.ts [--repeats 3] [--threads 1]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TSNE } from '../src/embed/tsne.js';
import { PCA } from '../src/represent/pca.js';
import { readNpyMatrix, writeNpy } from '../src/io/npy.js';
import { columnStd, takeRows } from '../src/linalg/index.js';
import { Rng } from '../src/linalg/rng.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const repeats = opt('--repeats', 3);
const threads = opt('--threads', 1);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fx = join(root, 'test/fixtures/lincs_SQ00015054');

const X0 = readNpyMatrix(join(fx, 'X_zscored.npy'));
const sd = columnStd(X0);
const rng = new Rng(0);
const stacked = new Float64Array(3 * X0.data.length);
for (let r = 0; r < 3; r++) {
  for (let i = 0; i < X0.data.length; i++) stacked[r * X0.data.length + i] = X0.data[i]! + 0.01 * sd[i % X0.cols]! * rng.normal();
}
const big = { rows: 3 * X0.rows, cols: X0.cols, data: stacked };
const X = new PCA({ nComponents: 50 }).fitTransform(takeRows(big, Array.from({ length: 1000 }, (_, i) => i)));

const dir = mkdtempSync(join(tmpdir(), 'phenomap-bench-tsne-'));
const npy = join(dir, 'X.npy');
writeNpy(npy, X);

// Wall-clock and CPU time: on a shared machine, CPU time is the fairer of the two.
const times: number[] = [];
const cpu: number[] = [];
let kl = NaN;
for (let r = 0; r < repeats; r++) {
  const t = new TSNE({ seed: 0 });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  t.fitTransform(X);
  times.push((performance.now() - t0) / 1000);
  cpu.push(process.cpuUsage(c0).user / 1e6);
  kl = t.klDivergence;
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const ours = median(times);
const oursCpu = median(cpu);

const py = `
import os, sys, time, json
os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = "${threads}"
import numpy as np
from sklearn.manifold import TSNE
import sklearn
X = np.load(sys.argv[1]); out = []; cpu = []
for _ in range(${repeats}):
    t = TSNE(n_components=2, perplexity=30.0, early_exaggeration=12.0, learning_rate="auto", init="pca",
             method="barnes_hut", angle=0.5, random_state=0)
    t0 = time.perf_counter(); c0 = time.process_time(); Y = t.fit_transform(X)
    out.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
np.save(sys.argv[2], Y)
print(json.dumps({"version": sklearn.__version__, "times": sorted(out), "cpu": sorted(cpu), "kl": float(t.kl_divergence_)}))
`;
let peer: { version: string; times: number[]; cpu: number[]; kl: number } | undefined;
const python = '/usr/bin/python3';
try {
  if (!existsSync(python)) throw new Error(`${python} not found`);
  const yOut = join(dir, 'Y_sklearn.npy'); // kept for inspection while debugging
  const outText = execFileSync(python, ['-c', py, npy, yOut], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
  });
  peer = JSON.parse(outText.trim().split('\n').pop()!);
} catch (e) {
  console.log(`scikit-learn not available (${(e as Error).message.split('\n')[0]}); phenomap only.`);
}
rmSync(dir, { recursive: true, force: true });

console.log(`t-SNE ${X.rows} × ${X.cols}, perplexity 30, 1000 iterations, Barnes–Hut θ 0.5, median of ${repeats}`);
console.log(`phenomap      wall ${ours.toFixed(2)} s   cpu ${oursCpu.toFixed(2)} s   KL ${kl.toFixed(3)}   wall runs ${times.map((t) => t.toFixed(2)).join(' ')}`);
if (peer) {
  const theirs = median(peer.times), theirsCpu = median(peer.cpu);
  console.log(`scikit-learn  wall ${theirs.toFixed(2)} s   cpu ${theirsCpu.toFixed(2)} s   KL ${peer.kl.toFixed(3)}   (sklearn ${peer.version}, ${threads} OpenMP thread${threads > 1 ? 's' : ''})`);
  console.log(`ratio phenomap / sklearn: wall ${(ours / theirs).toFixed(2)}, cpu ${(oursCpu / theirsCpu).toFixed(2)}  (${ours <= theirs ? 'phenomap no slower' : 'phenomap SLOWER'} on wall-clock)`);
}
