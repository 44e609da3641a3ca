/**
 * The k-NN searches `run` chooses between, side by side on the same rows: exact candidates on p
 * principal components (the native fused Gram + heap kernel) against an HNSW index built on the
 * same p components, both re-ranked exactly in all dimensions, each on ONE thread (HNSW: one
 * shard, one search thread) so process CPU seconds compare like with like. Alternating, `--repeats`
 * times, medians; recall@k on 200 sampled rows against brute force in all dimensions.
 * It also prints the cost model's constants as measured here (src/cluster/knnCost.ts): the
 * kernel's multiply-adds per CPU second without heap work (M = 1), HNSW's seconds per
 * row × log₂ n at each p, and the model's estimate next to each measurement.
 *
 *   flock /tmp/phenomap-heavy.lock npx tsx bench/knn-methods.ts --table SYNTH.parquet \
 *       [--rows 20000,50000] [--dims 64,128] [--k 50] [--repeats 2]
 *
 * SYNTH.parquet: a `phenomap synth` table (bench/million.ts writes them); its first rows are
 * z-scored as `run` does.
 */
import { loadavg } from 'node:os';
import { readProfiles } from '../src/io/read.js';
import { zscore } from '../src/preprocess/zscore.js';
import { PCA } from '../src/represent/pca.js';
import { hnswKnn, projectedExactKnn, sampledRecall, type KnnGraph } from '../src/cluster/knnGraph.js';
import { KNN_COST, knnCostSeconds } from '../src/cluster/knnCost.js';
import { native } from '../src/linalg/native.js';
import type { StoredMatrix } from '../src/linalg/index.js';
import { arg } from './common.js';

const table = arg('--table', '');
if (!table) throw new Error('--table SYNTH.parquet is required');
const rowsList = arg('--rows', '20000,50000').split(',').map(Number);
const dimsList = arg('--dims', '64,128').split(',').map(Number);
const k = Number(arg('--k', '50'));
const repeats = Number(arg('--repeats', '2'));

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
function measure(f: () => KnnGraph): { cpu: number; wall: number; G: KnnGraph } {
  const c0 = cpu(), t0 = performance.now();
  const G = f();
  return { cpu: cpu() - c0, wall: (performance.now() - t0) / 1000, G };
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)]!;

const all = (await readProfiles(table, { precision: 'float32' })).profiles.X;
console.log(`${table}: ${all.rows} × ${all.cols}; native kernels: ${native() ? native()!.simd() : 'absent'}`);
for (const n of rowsList) {
  const d = all.cols;
  const sub: StoredMatrix = { rows: n, cols: d, data: all.data.subarray(0, n * d) };
  const X = zscore(sub).Z;
  for (const p of dimsList) {
    // The kernel alone: M = 1 keeps almost no heap work (rate of the fused Gram product).
    const P = new PCA({ nComponents: p, seed: 0 }).fitTransform(X);
    const c0 = cpu();
    native()?.knnTopM(P.data, n, p, 1, new Int32Array(n), 1);
    const gramCpu = cpu() - c0;
    const gramRate = (n * n * p) / 2 / gramCpu;
    const proj: number[] = [], hn: number[] = [], projW: number[] = [], hnW: number[] = [];
    let rp = NaN, rh = NaN;
    const loads: number[] = [];
    for (let r = 0; r < repeats; r++) {
      loads.push(loadavg()[0]!);
      const a = measure(() => projectedExactKnn(X, k, { projected: { dims: p, seed: 0 }, threads: 1 }));
      const b = measure(() => hnswKnn(X, k, { hnsw: { projectDims: p, seed: 0, shards: 1, threads: 1 } }));
      proj.push(a.cpu); projW.push(a.wall); hn.push(b.cpu); hnW.push(b.wall);
      if (r === 0) {
        rp = sampledRecall(X, a.G, 200, 0);
        rh = sampledRecall(X, b.G, 200, 0);
      }
    }
    loads.push(loadavg()[0]!);
    const est = knnCostSeconds({ n, d, k, projectedDims: p, hnswDims: p, threads: 1, hnswShards: 1 });
    // HNSW's per row·log₂ n cost at this p, from this measurement (projection and re-ranking as the model has them).
    const graph = n * Math.log2(n) * (KNN_COST.hnswRowSeconds + KNN_COST.hnswDimSeconds * p);
    const hnswSec = (median(hn) - (est.hnsw - graph)) / (n * Math.log2(n));
    console.log(
      `n = ${n}, p = ${p}, k = ${k}, one thread each (load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}):\n` +
        `  projected exact: CPU ${median(proj).toFixed(1)} s (wall ${median(projW).toFixed(1)} s), recall@${k} ${rp.toFixed(3)}; model ${est.projected.toFixed(1)} s\n` +
        `  HNSW on the same components: CPU ${median(hn).toFixed(1)} s (wall ${median(hnW).toFixed(1)} s), recall@${k} ${rh.toFixed(3)}; model ${est.hnsw.toFixed(1)} s\n` +
        `  CPU-time ratio HNSW / projected exact: ${(median(hn) / median(proj)).toFixed(2)}× (runs: ${proj.map((v) => v.toFixed(1)).join(', ')} vs ${hn.map((v) => v.toFixed(1)).join(', ')})\n` +
        `  constants here: fused Gram ${(gramRate / 1e9).toFixed(1)}·10⁹ multiply-adds per CPU second (model ${(KNN_COST.gramRate / 1e9).toFixed(1)}·10⁹); ` +
        `HNSW ${(hnswSec * 1e6).toFixed(1)}·10⁻⁶ s per row·log₂ n at p = ${p} (model ${((KNN_COST.hnswRowSeconds + KNN_COST.hnswDimSeconds * p) * 1e6).toFixed(1)}·10⁻⁶)`,
    );
  }
}
