/**
 * Sparse affinity propagation on a k-NN graph: the native sweep (native/kernels.c sparseApPass)
 * against its JavaScript twin, side by side in one process (alternating, medians), with the same
 * labels required; and the similarity graph's construction (knnToSimilarity).
 *
 *   npx tsx bench/sparse-ap.ts [--n 50000] [--k 50] [--repeats 2]
 *
 * The graph: n points in an 8-dimensional latent space, in groups of 250 (a plate's or a MoA's
 * worth) of compounds with 4 replicates each, rows shuffled so a group is scattered in memory as
 * plates are in a table; each row's k nearest within its group (built here directly: the k-NN
 * search is not what is measured). Preference: −2·9·8 (about the median squared distance between
 * groups), tolerance 0.1 % as `run` uses.
 */
import { sparseAffinityPropagationWithRetry } from '../src/cluster/sparseAffinityPropagation.js';
import { knnToSimilarity } from '../src/cluster/knnGraph.js';
import { nativeAvailable, useNative } from '../src/linalg/native.js';
import { Rng } from '../src/linalg/rng.js';
import { arg } from './common.js';

const n = Number(arg('--n', '50000')), k = Number(arg('--k', '50')), repeats = Number(arg('--repeats', '2'));
const L = 8, G = 250;
const rng = new Rng(1);
const z = new Float64Array(n * L);
for (let g0 = 0; g0 < n; g0 += G) {
  const c = Array.from({ length: L }, () => 3 * rng.normal());
  for (let i = g0; i < Math.min(n, g0 + G); i += 4) {
    const o = Array.from({ length: L }, () => rng.normal());
    for (let r = i; r < Math.min(n, g0 + G, i + 4); r++) for (let l = 0; l < L; l++) z[r * L + l] = c[l]! + o[l]! + 0.6 * rng.normal();
  }
}
const perm = rng.permutation(n); // latent row r is node perm[r]
const indptr = new Int32Array(n + 1), indices = new Int32Array(n * k), distances = new Float64Array(n * k);
const dist = new Float64Array(G), ord = new Int32Array(G);
for (let g0 = 0; g0 < n; g0 += G) {
  const m = Math.min(G, n - g0);
  for (let a = g0; a < g0 + m; a++) {
    for (let b = 0; b < m; b++) {
      let s = 0;
      for (let l = 0; l < L; l++) {
        const q = z[a * L + l]! - z[(g0 + b) * L + l]!;
        s += q * q;
      }
      dist[b] = g0 + b === a ? Infinity : s;
      ord[b] = b;
    }
    const o = Array.from(ord.subarray(0, m)).sort((u, v) => dist[u]! - dist[v]! || perm[g0 + u]! - perm[g0 + v]!);
    const node = perm[a]!;
    for (let t = 0; t < k; t++) {
      indices[node * k + t] = perm[g0 + o[t]!]!;
      distances[node * k + t] = dist[o[t]!]!;
    }
  }
}
for (let i = 0; i < n; i++) indptr[i + 1] = (i + 1) * k;
const graph = { n, k, indptr, indices, distances };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const simMs: number[] = [];
const it: Record<string, number[]> = { native: [], js: [] };
let ref: { labels: Int32Array; nIter: number; clusters: number } | undefined;
for (let r = 0; r < repeats; r++) {
  let t0 = performance.now();
  const S = knnToSimilarity(graph);
  simMs.push(performance.now() - t0);
  for (const engine of nativeAvailable ? ['native', 'js'] : ['js']) {
    useNative(engine === 'native');
    t0 = performance.now();
    const res = sparseAffinityPropagationWithRetry(S, { preference: -2 * 9 * L, convergenceTolerance: 1e-3 });
    it[engine]!.push(res.timings.iterateMs);
    if (!ref) ref = { labels: res.labels, nIter: res.nIter, clusters: res.exemplars.length };
    else if (res.nIter !== ref.nIter || res.labels.some((l, i) => l !== ref!.labels[i])) throw new Error(`${engine}: labels differ from the first run`);
  }
  useNative(true);
}
console.log(`sparse AP, n = ${n}, ${k}-NN graph (${ref!.nIter} iterations, ${ref!.clusters} clusters, labels identical in every run); medians of ${repeats}`);
console.log(`similarity graph (knnToSimilarity): ${(median(simMs) / 1000).toFixed(2)} s`);
if (it.native!.length) {
  const a = median(it.native!), b = median(it.js!);
  console.log(`message passing: native ${(a / 1000).toFixed(2)} s (${(a / ref!.nIter).toFixed(0)} ms/iteration), JavaScript ${(b / 1000).toFixed(2)} s (${(b / ref!.nIter).toFixed(0)} ms/iteration): ${(b / a).toFixed(2)}×; runs native ${it.native!.map((x) => (x / 1000).toFixed(1)).join(' / ')}, JS ${it.js!.map((x) => (x / 1000).toFixed(1)).join(' / ')}`);
}
