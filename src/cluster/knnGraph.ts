/**
 * k-nearest-neighbour graphs of the rows of a matrix (squared Euclidean distances), the input of
 * sparse affinity propagation and of graph community detection at scales where an n × n matrix
 * does not fit (100,000² float64 = 80 GB).
 *
 * - exact: blocked brute force. A block of query rows × a panel of all rows goes through the
 *   linalg gemm kernel (‖q‖² + ‖x‖² − 2·q·x; the kernel itself splits large products across the
 *   worker threads of src/linalg/wasm/threads.ts, bit-identically), and a bounded max-heap per
 *   query keeps the k best (ties: smaller row index). The k kept distances are then recomputed
 *   directly as Σ (q − x)², so the reported values carry no cancellation error from the expansion.
 *   Cost n²·d multiply-adds: right for d ≲ 100 (PCA) up to ~10⁵ rows.
 * - projected: exact candidates (the same search) on the top p principal components, re-ranked
 *   by their exact distance in X: n²·p instead of n²·d, and no index's search error.
 * - hnsw: hnswlib-node's HNSW index (Malkov & Yashunin, TPAMI 2018), built in row order with a
 *   fixed random seed, so the graph is deterministic. hnswlib-node builds on one thread, so from
 *   20,000 rows two shards (the two halves of the rows) are built in parallel — this thread and a
 *   worker — every row is queried against both, and the candidates are merged by exact distance
 *   (the partitioned-HNSW scheme of docs/scaling.md, on one machine). Distances are recomputed
 *   in float64 as above. `sampledRecall` / `knnRecall` measure recall@k against brute force.
 *
 * CSR layout: row i's neighbours are indices[indptr[i] .. indptr[i+1]) in ascending distance
 * (ties by index), self excluded; every row has exactly min(k, n − 1) neighbours.
 */
import hnswlib from 'hnswlib-node';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { scratchDir } from '../util/outputDir.js';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { type FeatureArray, type Matrix, type StoredMatrix, gemmNT, rowSquaredNorms, kthSmallest } from '../linalg/index.js';
import { native } from '../linalg/native.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../linalg/rng.js';
import { PCA } from '../represent/pca.js';
import { silentReporter, type Reporter } from '../util/log.js';
import type { SparseSimilarity } from './sparseAffinityPropagation.js';

export interface KnnGraph {
  n: number;
  k: number;
  indptr: Int32Array;
  indices: Int32Array;
  /** Squared Euclidean distances, aligned with indices. */
  distances: Float64Array;
  /** HNSW only: threads that searched (1 when the helper worker could not run). */
  searchThreads?: number;
  /** HNSW only: number of index shards (2: built and searched in parallel, results merged). */
  shards?: number;
  /** Projected search (HNSW or exact): principal components the candidates were found on (re-ranked in X). */
  projectedDims?: number;
  /** HNSW with `keepCandidates`: every row's candidate list (stride slots, −1 = empty). */
  candidates?: KnnCandidates;
}

/** Candidate neighbours per row (`stride` slots, −1 = empty; no self, no duplicates). */
export interface KnnCandidates {
  n: number;
  stride: number;
  cand: Int32Array;
}

export interface HnswOptions {
  /**
   * Build the index on this many principal components of X instead of X itself (0 = off, the
   * default; used only when X has at least twice as many columns), re-ranking the candidates by
   * their exact distance in X.
   */
  projectDims?: number;
  /** Keep the candidate lists on the result (`candidates`), e.g. to re-rank them in another representation. */
  keepCandidates?: boolean;
  /** Projected HNSW: neighbours asked per row in the projection (at least 2k, the default). */
  candidates?: number;
  /** Links per node (hnswlib's M). Default 16. */
  m?: number;
  /** Candidate list size while building. Default 100. */
  efConstruction?: number;
  /** Candidate list size while searching (raised to ≥ k + 1). Default max(48, k + 16). */
  efSearch?: number;
  /** Seed of the level generator. Default 0. */
  seed?: number;
  /**
   * Threads for the search phase (the built index is saved to a temporary file and loaded by a
   * worker that searches the second half of the rows; results do not depend on the count).
   * Default: 2 when two cores are available and n ≥ 20,000, else 1.
   */
  threads?: number;
  /**
   * 2: build two indexes over the two halves of the rows in parallel (this thread + a worker),
   * query every row against both and merge the candidates by exact distance — halves the
   * single-threaded build, the dominant cost at 10⁵ rows. Default: 2 when n ≥ 20,000 and two
   * cores are available.
   */
  shards?: 1 | 2;
}

export interface ProjectedOptions {
  /** Principal components searched exactly (0 = X itself; used only when X has at least twice as many columns). */
  dims?: number;
  /** Candidates per row found in the projection and re-ranked in X (at least 2k, the default). */
  candidates?: number;
  /** Seed of the (randomized) PCA. Default 0. */
  seed?: number;
}

export interface KnnOptions {
  /**
   * exact: brute force in X; projected: exact candidates in a PCA projection, re-ranked in X;
   * hnsw: an approximate index (optionally on a projection).
   */
  method?: 'exact' | 'projected' | 'hnsw';
  /** Query rows per block of the exact search. Default 512. */
  blockRows?: number;
  /** Rows per panel of the exact search. Default 8192. */
  panelRows?: number;
  /** Threads of the exact (and projected) search with the native kernels. Default: 2 when two cores are available. */
  threads?: number;
  hnsw?: HnswOptions;
  projected?: ProjectedOptions;
  reporter?: Reporter;
}

function checkArgs(X: StoredMatrix, k: number): number {
  if (!Number.isInteger(k) || k < 1) throw new InputError(`k-NN graph: k must be an integer ≥ 1, got ${k}`);
  if (X.rows < 2) throw new InputError(`k-NN graph: need at least 2 rows, got ${X.rows}`);
  const x = X.data;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) {
      const r = Math.floor(i / X.cols);
      throw new InputError(`k-NN graph: non-finite value at row ${r}, column ${i - r * X.cols}`);
    }
  }
  return Math.min(k, X.rows - 1);
}

/** k-NN graph by the chosen method (default exact). */
export function knnGraph(X: StoredMatrix, k: number, opts: KnnOptions = {}): KnnGraph {
  const m = opts.method ?? 'exact';
  return m === 'hnsw' ? hnswKnn(X, k, opts) : m === 'projected' ? projectedExactKnn(X, k, opts) : exactKnn(X, k, opts);
}

/** (a < b) in the (distance, index) order. */
function before(da: number, ia: number, db: number, ib: number): boolean {
  return da < db || (da === db && ia < ib);
}

/** Sift the root of a max-heap of size k at offset o down (heap order: worst on top). */
function siftDown(hd: Float64Array, hi: Int32Array, o: number, k: number): void {
  let p = 0;
  const d0 = hd[o]!, i0 = hi[o]!;
  for (;;) {
    const l = 2 * p + 1;
    if (l >= k) break;
    let c = l;
    const r = l + 1;
    if (r < k && before(hd[o + l]!, hi[o + l]!, hd[o + r]!, hi[o + r]!)) c = r;
    if (!before(d0, i0, hd[o + c]!, hi[o + c]!)) break;
    hd[o + p] = hd[o + c]!;
    hi[o + p] = hi[o + c]!;
    p = c;
  }
  hd[o + p] = d0;
  hi[o + p] = i0;
}

/**
 * Offer candidate j at distance dist to the bounded max-heap of row i (offset ho): kept when it
 * beats the worst by (distance, index). The heap ends with the k smallest offers under that total
 * order, whatever order they came in.
 */
export function offerNeighbour(heapD: Float64Array, heapI: Int32Array, ho: number, k: number, dist: number, j: number): void {
  const worstD = heapD[ho]!;
  if (dist < worstD || (dist === worstD && j < heapI[ho]!)) {
    heapD[ho] = dist;
    heapI[ho] = j;
    siftDown(heapD, heapI, ho, k);
  }
}

/**
 * Exact k-NN graph by blocked brute force through gemm (natively: the fused `knnTopM` kernel, see
 * exactCandidates). Each unordered pair is computed once (panels start at the query block, so only
 * j > i is evaluated) and offered to both rows' heaps: half the multiply-adds of the full n × n
 * product. x_i·x_j and x_j·x_i are the same sum in the same order, so the result equals the full
 * product's bit for bit.
 */
export function exactKnn(X: StoredMatrix, kIn: number, opts: KnnOptions = {}): KnnGraph {
  const k = checkArgs(X, kIn);
  return finish(X, k, exactCandidates(X, k, opts));
}

/**
 * Each row's k nearest other rows (n × k indices, in no particular order) by exact search under
 * the (squared distance, index) order: the native fused kernel when the addon is built (Gram tiles
 * offered to per-thread heaps as they are summed, both cores, no n × panel product stored), else
 * blocked gemm panels with heaps here. Both compute every pair's distance by the same
 * operations, so they keep the same set.
 */
function exactCandidates(X: StoredMatrix, k: number, opts: KnnOptions): Int32Array {
  const n = X.rows, d = X.cols, x = X.data;
  const nat = native();
  if (nat && d > 0) {
    const out = new Int32Array(n * k);
    if (nat.knnTopM(x, n, d, k, out, Math.max(1, opts.threads ?? Math.min(2, availableParallelism())))) return out;
  }
  const B = Math.max(4, opts.blockRows ?? 512);
  const P = Math.max(4, opts.panelRows ?? 8192);
  const norms = rowSquaredNorms(X);
  const heapD = new Float64Array(n * k).fill(Infinity);
  const heapI = new Int32Array(n * k).fill(0x7fffffff);
  const progress = (opts.reporter ?? silentReporter).progress('exact k-NN', n);
  const G = new Float64Array(B * P);
  for (let i0 = 0; i0 < n; i0 += B) {
    const i1 = Math.min(n, i0 + B), bq = i1 - i0;
    const Q: StoredMatrix = { rows: bq, cols: d, data: x.subarray(i0 * d, i1 * d) };
    for (let j0 = i0; j0 < n; j0 += P) {
      const j1 = Math.min(n, j0 + P), bp = j1 - j0;
      const C: Matrix = { rows: bq, cols: bp, data: G.subarray(0, bq * bp) };
      gemmNT(Q, { rows: bp, cols: d, data: x.subarray(j0 * d, j1 * d) }, C);
      const g = C.data;
      for (let a = 0; a < bq; a++) {
        const i = i0 + a, ho = i * k, go = a * bp, ni = norms[i]!;
        for (let b = Math.max(0, i + 1 - j0); b < bp; b++) {
          const j = j0 + b;
          let dist = ni + norms[j]! - 2 * g[go + b]!;
          if (dist < 0) dist = 0;
          offerNeighbour(heapD, heapI, ho, k, dist, j);
          offerNeighbour(heapD, heapI, j * k, k, dist, i);
        }
      }
    }
    progress.tick(i1);
  }
  progress.done();
  return heapI;
}

/**
 * Exact candidates in a projection, exact distances in X: the top `dims` principal components of X
 * (used only when X has at least twice as many columns; else X itself), each row's
 * max(2k, candidates) nearest there by exact search (exactCandidates: at 10⁵ rows × 256 components
 * the all-pairs product is 1.3·10¹² multiply-adds, a fraction of an HNSW build over the same
 * projection), then ranked by their exact float64 distance in X (finish). Deterministic (the PCA
 * is seeded) and free of any index's search error: what it misses is only what the projection
 * hides, and `sampledRecall` measures it.
 */
export function projectedExactKnn(X: StoredMatrix, kIn: number, opts: KnnOptions = {}): KnnGraph {
  const k = checkArgs(X, kIn);
  const p = opts.projected?.dims ?? 0;
  if (!(p > 0 && 2 * p <= X.cols)) return exactKnn(X, k, opts);
  const reporter = opts.reporter ?? silentReporter;
  const t0 = performance.now();
  const P = new PCA({ nComponents: p, seed: opts.projected?.seed ?? 0 }).fitTransform(X);
  const M = Math.min(X.rows - 1, Math.max(2 * k, opts.projected?.candidates ?? 0));
  const t1 = performance.now();
  const cand = exactCandidates(P, M, opts);
  const t2 = performance.now();
  const G = finish(X, k, cand, M);
  reporter.info(`exact search on ${p} principal components: projection ${((t1 - t0) / 1000).toFixed(1)} s, ${M} candidates per row ${((t2 - t1) / 1000).toFixed(1)} s, exact re-ranking in ${X.cols} dimensions ${((performance.now() - t2) / 1000).toFixed(1)} s`);
  return { ...G, projectedDims: p };
}

/**
 * Sort each row's candidates by exact float64 distance (ties by index), keep the best k and pack
 * as CSR. `cand` holds `stride` ≥ k candidate slots per row (no self, no duplicates; −1 = empty);
 * every row must have at least k filled slots.
 */
function finish(X: StoredMatrix, k: number, cand: Int32Array, stride = k): KnnGraph {
  const n = X.rows, d = X.cols, x = X.data;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(n * k);
  const distances = new Float64Array(n * k);
  // Every candidate's Σ (x_i − x_j)² in column order: natively on all cores when the addon is
  // built (n·stride·d reads of scattered rows: 10¹⁰ at 10⁵ × 100 × 1,000), else the same loop here.
  const all = new Float64Array(n * stride);
  const nat = native();
  if (nat) nat.candDistances(x, n, d, cand, stride, all, Math.min(2, availableParallelism()));
  else {
    for (let i = 0; i < n; i++) {
      const o = i * stride, oi = i * d;
      for (let t = 0; t < stride; t++) {
        const j = cand[o + t]!;
        if (j < 0) continue;
        const oj = j * d;
        let s = 0;
        for (let c = 0; c < d; c++) {
          const z = x[oi + c]! - x[oj + c]!;
          s += z * z;
        }
        all[o + t] = s;
      }
    }
  }
  // The k best by (distance, index) through a bounded max-heap (a comparator sort of every
  // candidate list cost ~1 minute at 10⁶ rows × 200 candidates), then the k sorted.
  const hd = new Float64Array(k), hi = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const o = i * stride;
    hd.fill(Infinity);
    hi.fill(0x7fffffff);
    let filled = 0;
    for (let t = 0; t < stride; t++) {
      const j = cand[o + t]!;
      if (j < 0) continue;
      filled++;
      offerNeighbour(hd, hi, 0, k, all[o + t]!, j);
    }
    if (filled < k) throw new Error(`k-NN: only ${filled} candidates for row ${i}`);
    // Pop the worst into the last free slot: ascending (distance, index) order.
    for (let m = k; m > 0; m--) {
      const q = i * k + m - 1;
      indices[q] = hi[0]!;
      distances[q] = hd[0]!;
      hd[0] = hd[m - 1]!;
      hi[0] = hi[m - 1]!;
      siftDown(hd, hi, 0, m - 1);
    }
    indptr[i + 1] = (i + 1) * k;
  }
  return { n, k, indptr, indices, distances };
}

/** Approximate k-NN graph through an HNSW index (hnswlib-node), or its projected variant. */
export function hnswKnn(X: StoredMatrix, kIn: number, opts: KnnOptions = {}): KnnGraph {
  const k = checkArgs(X, kIn);
  const p = opts.hnsw?.projectDims ?? 0;
  if (p > 0 && 2 * p <= X.cols) return projectedKnn(X, k, p, opts);
  const c = hnswCandidates(X, k, opts);
  const G: KnnGraph = { ...finish(X, k, c.cand, c.stride), searchThreads: c.searchThreads, shards: c.shards };
  if (opts.hnsw?.keepCandidates) G.candidates = { n: X.rows, stride: c.stride, cand: c.cand };
  return G;
}

/**
 * The k-NN graph of X among given candidates: each row's candidates ranked by their exact
 * float64 distance in X (as every HNSW graph is finished). Candidates found for one representation
 * of the same rows can so propose the neighbours of another, in that representation's own metric;
 * `sampledRecall` says what they missed.
 */
export function rerankCandidates(X: StoredMatrix, kIn: number, C: KnnCandidates): KnnGraph {
  const k = checkArgs(X, kIn);
  if (C.n !== X.rows) throw new InputError(`k-NN re-ranking: candidates for ${C.n} rows, matrix has ${X.rows}`);
  return finish(X, k, C.cand, C.stride);
}

/**
 * HNSW on the top `p` principal-component scores of X, asking each row for
 * max(2k, hnsw.candidates) neighbours there, then the exact float64 distances in X's own
 * coordinates decide the k kept (finish). The index is built over p instead of d dimensions (for
 * 1,000-dimensional profiles the build, which dominates at 10⁵ rows, is several times cheaper);
 * the projection only proposes candidates, so the graph is in the representation's own metric,
 * and `sampledRecall` against brute force in X says what was missed (run reports it and widens
 * the projection when recall@k < 0.95).
 */
function projectedKnn(X: StoredMatrix, k: number, p: number, opts: KnnOptions): KnnGraph {
  const reporter = opts.reporter ?? silentReporter;
  const t0 = performance.now();
  const P = new PCA({ nComponents: p }).fitTransform(X);
  const kc = Math.min(X.rows - 1, Math.max(2 * k, opts.hnsw?.candidates ?? 0));
  const t1 = performance.now();
  const c = hnswCandidates(P, kc, opts);
  const t2 = performance.now();
  const G = finish(X, k, c.cand, c.stride);
  if (opts.hnsw?.keepCandidates) G.candidates = { n: X.rows, stride: c.stride, cand: c.cand };
  reporter.info(`HNSW on ${p} principal components: projection ${((t1 - t0) / 1000).toFixed(1)} s, index and ${kc} candidates per row ${((t2 - t1) / 1000).toFixed(1)} s, exact re-ranking in ${X.cols} dimensions ${((performance.now() - t2) / 1000).toFixed(1)} s`);
  return { ...G, searchThreads: c.searchThreads, shards: c.shards, projectedDims: p };
}

/** Candidate lists (`stride` slots per row, −1 = empty) from HNSW: sharded or one index. */
function hnswCandidates(X: StoredMatrix, k: number, opts: KnnOptions): { cand: Int32Array; stride: number; searchThreads: number; shards: number } {
  const n = X.rows, d = X.cols, x = X.data;
  const h = opts.hnsw ?? {};
  const M = h.m ?? 16, efC = h.efConstruction ?? 100, seed = h.seed ?? 0;
  const ef = Math.max(h.efSearch ?? Math.max(48, k + 16), k + 1);
  const reporter = opts.reporter ?? silentReporter;
  const shards = h.shards ?? (n >= 20000 && availableParallelism() >= 2 ? 2 : 1);
  if (shards === 2 && n >= 4 * (k + 1)) {
    const t0 = performance.now();
    const cand2 = shardedCandidates(X, k, M, efC, ef, seed);
    if (cand2) {
      reporter.info(`HNSW: 2 shards built and searched in parallel in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return { cand: cand2, stride: 2 * k, searchThreads: 2, shards: 2 };
    }
    reporter.warn('HNSW: the shard worker failed; building one index on this thread');
  }
  const index = new hnswlib.HierarchicalNSW('l2', d);
  index.initIndex(n, M, efC, seed);
  const row = new Array<number>(d);
  let progress = reporter.progress('HNSW build', n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let c = 0; c < d; c++) row[c] = x[o + c]!;
    index.addPoint(row, i);
    if ((i & 1023) === 0) progress.tick(i);
  }
  progress.done();
  index.setEf(ef);
  const threads = Math.max(1, Math.min(h.threads ?? (n >= 20000 ? Math.min(2, availableParallelism()) : 1), 2));
  const cand = new Int32Array(threads > 1 ? new SharedArrayBuffer(n * k * 4) : new ArrayBuffer(n * k * 4));
  let split = n;
  let helper: SearchHelper | undefined;
  if (threads > 1) {
    split = Math.floor(n / 2);
    helper = startSearchHelper(index, X, k, ef, split, n, cand);
  }
  progress = reporter.progress('HNSW search', n);
  const searchRows = (r0: number, r1: number) => {
    for (let i = r0; i < r1; i++) {
      const o = i * d;
      for (let c = 0; c < d; c++) row[c] = x[o + c]!;
      const res = index.searchKnn(row, Math.min(k + 1, n));
      let t = 0;
      const nb = res.neighbors;
      for (let q = 0; q < nb.length && t < k; q++) if (nb[q] !== i) cand[i * k + t++] = nb[q]!;
      if (t < k) throw new Error(`HNSW returned only ${t} neighbours for row ${i}`);
      if ((i & 1023) === 0) progress.tick(i);
    }
  };
  searchRows(0, split);
  let used = threads;
  if (helper && !helper.wait()) {
    searchRows(split, n); // the helper failed: do its share here
    used = 1;
  }
  progress.done();
  return { cand, stride: k, searchThreads: used, shards: 1 };
}

interface SearchHelper {
  /** Block until the helper is done; false if it failed. */
  wait(): boolean;
}

const hnswModulePath = createRequire(import.meta.url).resolve('hnswlib-node');

/**
 * Values [from, to) of x for a worker: a view of the same memory when x lives in a
 * SharedArrayBuffer (tables read by readProfiles do), else a copy that is transferred, not cloned.
 */
function workerRows(x: FeatureArray, from: number, to: number): { data: { buffer: ArrayBufferLike; byteOffset: number; length: number }; transfer: ArrayBuffer[] } {
  if (x.buffer instanceof SharedArrayBuffer) {
    return { data: { buffer: x.buffer, byteOffset: x.byteOffset + from * x.BYTES_PER_ELEMENT, length: to - from }, transfer: [] };
  }
  const c = x.slice(from, to);
  return { data: { buffer: c.buffer, byteOffset: 0, length: c.length }, transfer: [c.buffer as ArrayBuffer] };
}

// CommonJS source evaluated in the worker (no TS imports, so it runs the same under tsx, vitest
// and the compiled build). Status word: 0 running, 1 done, 2 failed.
const helperSource = `
const { workerData } = require('node:worker_threads');
const { modPath, indexPath, rows, f32, d, k, ef, r0, r1, n, cand, status } = workerData;
const { buffer, byteOffset, length } = rows;
const st = new Int32Array(status);
try {
  const hnsw = require(modPath);
  const index = new hnsw.HierarchicalNSW('l2', d);
  index.readIndexSync(indexPath);
  index.setEf(ef);
  const out = new Int32Array(cand);
  const x = f32 ? new Float32Array(buffer, byteOffset, length) : new Float64Array(buffer, byteOffset, length);
  const row = new Array(d);
  for (let i = r0; i < r1; i++) {
    const o = (i - r0) * d;
    for (let c = 0; c < d; c++) row[c] = x[o + c];
    const nb = index.searchKnn(row, Math.min(k + 1, n)).neighbors;
    let t = 0;
    for (let q = 0; q < nb.length && t < k; q++) if (nb[q] !== i) out[i * k + t++] = nb[q];
    if (t < k) throw new Error('short result');
  }
  Atomics.store(st, 0, 1);
} catch (e) {
  Atomics.store(st, 0, 2);
}
Atomics.notify(st, 0);
`;

function startSearchHelper(
  index: InstanceType<typeof hnswlib.HierarchicalNSW>, X: StoredMatrix, k: number, ef: number, r0: number, r1: number, cand: Int32Array,
): SearchHelper {
  const d = X.cols;
  const indexPath = join(scratchDir(), `phenomap-hnsw-${process.pid}-${Date.now()}.bin`);
  index.writeIndexSync(indexPath);
  const rows = workerRows(X.data, r0 * d, r1 * d);
  const status = new SharedArrayBuffer(4);
  const st = new Int32Array(status);
  let worker: Worker;
  try {
    worker = new Worker(helperSource, {
      eval: true,
      workerData: { modPath: hnswModulePath, indexPath, rows: rows.data, f32: X.data instanceof Float32Array, d, k, ef, r0, r1, n: X.rows, cand: cand.buffer, status },
      transferList: rows.transfer,
    });
  } catch {
    rmSync(indexPath, { force: true });
    return { wait: () => false };
  }
  worker.unref();
  return {
    wait(): boolean {
      while (Atomics.load(st, 0) === 0) Atomics.wait(st, 0, 0, 1000);
      rmSync(indexPath, { force: true });
      void worker.terminate();
      return Atomics.load(st, 0) === 1;
    },
  };
}

// Sharded build: the worker builds shard B (rows [h, n)), saves it, searches its own rows in B,
// then waits for shard A (rows [0, h)) from the main thread and searches its rows in A.
// ctrl[0]: worker stage (1 = B saved, 2 = done, 9 = failed); ctrl[1]: 1 = A saved.
const shardSource = `
const { workerData } = require('node:worker_threads');
const { modPath, pathA, pathB, rows, f32, d, k, M, efC, ef, seed, h, n, cand, ctrl } = workerData;
const { buffer, byteOffset, length } = rows;
const c = new Int32Array(ctrl);
const fail = () => { Atomics.store(c, 0, 9); Atomics.notify(c, 0); };
try {
  const hnsw = require(modPath);
  const x = f32 ? new Float32Array(buffer, byteOffset, length) : new Float64Array(buffer, byteOffset, length);
  const out = new Int32Array(cand);
  const row = new Array(d);
  const B = new hnsw.HierarchicalNSW('l2', d);
  B.initIndex(n - h, M, efC, seed + 1);
  for (let i = h; i < n; i++) {
    const o = (i - h) * d;
    for (let t = 0; t < d; t++) row[t] = x[o + t];
    B.addPoint(row, i);
  }
  B.writeIndexSync(pathB);
  Atomics.store(c, 0, 1);
  Atomics.notify(c, 0);
  const search = (index, slot) => {
    index.setEf(ef);
    for (let i = h; i < n; i++) {
      const o = (i - h) * d;
      for (let t = 0; t < d; t++) row[t] = x[o + t];
      const nb = index.searchKnn(row, Math.min(k + 1, index.getCurrentCount())).neighbors;
      let t = 0;
      for (let q = 0; q < nb.length && t < k; q++) if (nb[q] !== i) out[i * 2 * k + slot + t++] = nb[q];
    }
  };
  search(B, 0);
  while (Atomics.load(c, 1) === 0) Atomics.wait(c, 1, 0, 1000);
  const A = new hnsw.HierarchicalNSW('l2', d);
  A.readIndexSync(pathA);
  search(A, k);
  Atomics.store(c, 0, 2);
  Atomics.notify(c, 0);
} catch (e) {
  fail();
}
`;

/** Candidate lists (stride 2k, −1 = empty) from two HNSW shards built in parallel; null if the worker failed. */
function shardedCandidates(X: StoredMatrix, k: number, M: number, efC: number, ef: number, seed: number): Int32Array | null {
  const n = X.rows, d = X.cols, x = X.data;
  const h = Math.floor(n / 2);
  const stamp = `${process.pid}-${Date.now()}-${Math.floor(performance.now() * 1000)}`;
  // In the output's staging folder when there is one, so an interrupted run leaves none behind.
  const pathA = join(scratchDir(), `phenomap-hnsw-${stamp}-A.bin`), pathB = join(scratchDir(), `phenomap-hnsw-${stamp}-B.bin`);
  const cand = new Int32Array(new SharedArrayBuffer(n * 2 * k * 4)).fill(-1);
  const ctrlBuf = new SharedArrayBuffer(8);
  const ctrl = new Int32Array(ctrlBuf);
  const rows = workerRows(x, h * d, n * d);
  let worker: Worker | undefined;
  const waitStage = (stage: number): boolean => {
    for (;;) {
      const v = Atomics.load(ctrl, 0);
      if (v === 9) return false;
      if (v >= stage) return true;
      Atomics.wait(ctrl, 0, v, 1000);
    }
  };
  try {
    try {
      worker = new Worker(shardSource, {
        eval: true,
        workerData: { modPath: hnswModulePath, pathA, pathB, rows: rows.data, f32: x instanceof Float32Array, d, k, M, efC, ef, seed, h, n, cand: cand.buffer, ctrl: ctrlBuf },
        transferList: rows.transfer,
      });
      worker.unref();
    } catch {
      return null;
    }
    const row = new Array<number>(d);
    const A = new hnswlib.HierarchicalNSW('l2', d);
    A.initIndex(h, M, efC, seed);
    for (let i = 0; i < h; i++) {
      const o = i * d;
      for (let c = 0; c < d; c++) row[c] = x[o + c]!;
      A.addPoint(row, i);
    }
    A.writeIndexSync(pathA);
    Atomics.store(ctrl, 1, 1);
    Atomics.notify(ctrl, 1);
    const search = (index: InstanceType<typeof hnswlib.HierarchicalNSW>, slot: number) => {
      index.setEf(ef);
      for (let i = 0; i < h; i++) {
        const o = i * d;
        for (let c = 0; c < d; c++) row[c] = x[o + c]!;
        const nb = index.searchKnn(row, Math.min(k + 1, index.getCurrentCount())).neighbors;
        let t = 0;
        for (let q = 0; q < nb.length && t < k; q++) if (nb[q] !== i) cand[i * 2 * k + slot + t++] = nb[q]!;
      }
    };
    search(A, 0);
    if (!waitStage(1)) return null;
    const B = new hnswlib.HierarchicalNSW('l2', d);
    B.readIndexSync(pathB);
    search(B, k);
    if (!waitStage(2)) return null;
    return cand;
  } finally {
    if (worker) void worker.terminate();
    rmSync(pathA, { force: true });
    rmSync(pathB, { force: true });
  }
}

/**
 * Mean recall@k of `approx` against `exact` (fraction of each row's true k neighbours found),
 * over all rows or over the given rows.
 */
export function knnRecall(approx: KnnGraph, exact: KnnGraph, rows?: ArrayLike<number>): number {
  if (approx.n !== exact.n || approx.k !== exact.k) throw new InputError('knnRecall: graphs differ in n or k');
  const k = exact.k;
  const idx = rows ?? Array.from({ length: exact.n }, (_, i) => i);
  let hit = 0;
  const set = new Set<number>();
  for (let t = 0; t < idx.length; t++) {
    const i = idx[t]!;
    set.clear();
    for (let p = exact.indptr[i]!; p < exact.indptr[i + 1]!; p++) set.add(exact.indices[p]!);
    for (let p = approx.indptr[i]!; p < approx.indptr[i + 1]!; p++) if (set.has(approx.indices[p]!)) hit++;
  }
  return hit / (idx.length * k);
}

/**
 * Recall@k of an HNSW graph measured on `sample` seeded random rows, whose exact neighbours are
 * computed by brute force (sample × n distances).
 */
export function sampledRecall(X: StoredMatrix, approx: KnnGraph, sample = 500, seed = 0): number {
  const n = X.rows, d = X.cols, k = approx.k;
  const rows = new Rng(seed).permutation(n).slice(0, Math.min(sample, n));
  const Q: Matrix = { rows: rows.length, cols: d, data: new Float64Array(rows.length * d) };
  for (let t = 0; t < rows.length; t++) Q.data.set(X.data.subarray(rows[t]! * d, (rows[t]! + 1) * d), t * d);
  const norms = rowSquaredNorms(X);
  // Queries in groups whose products with X stay near 128 MB (at 10⁶ rows all 200 at once were 1.6 GB).
  const group = Math.max(1, Math.min(rows.length, Math.floor((1 << 24) / n)));
  let G: Matrix | undefined;
  let g0 = -1;
  let hit = 0;
  const dist = new Float64Array(n);
  for (let t = 0; t < rows.length; t++) {
    const i = rows[t]!;
    if (g0 < 0 || t >= g0 + group) {
      g0 = t;
      const m = Math.min(group, rows.length - t);
      G = gemmNT({ rows: m, cols: d, data: Q.data.subarray(t * d, (t + m) * d) }, X, G && G.rows === m ? G : undefined);
    }
    const go = (t - g0) * n, g = G!.data;
    for (let j = 0; j < n; j++) {
      dist[j] = j === i ? Infinity : Math.max(0, norms[i]! + norms[j]! - 2 * g[go + j]!);
    }
    // The k-th smallest exact distance: rows of approx at or below it are hits (ties count).
    const kth = kthSmallest(dist, k - 1);
    for (let p = approx.indptr[i]!; p < approx.indptr[i + 1]!; p++) {
      if (dist[approx.indices[p]!]! <= kth * (1 + 1e-9) + 1e-12) hit++;
    }
  }
  return hit / (rows.length * k);
}

export interface SimilarityOptions {
  /** Add (j, i) for every edge (i, j) (union). Default true. */
  symmetrize?: boolean;
}

/** CSR similarity graph S = −d² for sparse affinity propagation (columns ascending per row). */
export function knnToSimilarity(G: KnnGraph, opts: SimilarityOptions = {}): SparseSimilarity {
  const { indptr, indices, values } = toUndirected(G, opts.symmetrize ?? true, (d2) => d2);
  for (let p = 0; p < values.length; p++) values[p] = -values[p]!;
  return { n: G.n, indptr, indices, values };
}

/**
 * Union (or copy) of the directed k-NN edges as CSR with ascending columns; values are f(d²).
 * d² is symmetric bit-for-bit (Σ (a − b)² = Σ (b − a)²), so both directions carry the same value.
 */
export function toUndirected(
  G: KnnGraph, symmetrize: boolean, f: (d2: number) => number,
): { indptr: Int32Array; indices: Int32Array; values: Float64Array } {
  const n = G.n, gp = G.indptr, gi = G.indices, gd = G.distances;
  // Reverse edges j ← i as a transpose (counting sort by target): each row's reverse sources come
  // out ascending, so a row is the merge of its own edges sorted by column with that list. Both
  // directions of a mutual pair carry the same d², so which copy is kept does not matter; the
  // row's own edge is kept, as the stable sort of the concatenation did.
  let tptr = new Int32Array(0), tsrc = new Int32Array(0), tpos = new Int32Array(0);
  if (symmetrize) {
    tptr = new Int32Array(n + 1);
    for (let p = 0; p < gi.length; p++) tptr[gi[p]! + 1]!++;
    for (let i = 0; i < n; i++) tptr[i + 1]! += tptr[i]!;
    const fill = tptr.slice(0, n);
    tsrc = new Int32Array(gi.length);
    tpos = new Int32Array(gi.length);
    for (let i = 0; i < n; i++) {
      for (let p = gp[i]!; p < gp[i + 1]!; p++) {
        const j = gi[p]!, q = fill[j]!++;
        tsrc[q] = i;
        tpos[q] = p;
      }
    }
  }
  let maxDeg = 0;
  for (let i = 0; i < n; i++) maxDeg = Math.max(maxDeg, gp[i + 1]! - gp[i]!);
  // A row's own edges sorted by (column, position): key = column · stride + offset, exact in float64.
  const stride = maxDeg + 1;
  const keys = new Float64Array(maxDeg);
  const ownCol = new Int32Array(maxDeg), ownPos = new Int32Array(maxDeg);
  const sortOwn = (i: number): number => {
    const a = gp[i]!, m = gp[i + 1]! - a;
    const kk = keys.subarray(0, m);
    for (let t = 0; t < m; t++) kk[t] = gi[a + t]! * stride + t;
    kk.sort();
    for (let t = 0; t < m; t++) {
      const c = Math.floor(kk[t]! / stride);
      ownCol[t] = c;
      ownPos[t] = a + (kk[t]! - c * stride);
    }
    return m;
  };
  // Two passes over the merge: count the distinct columns per row, then fill exact-size arrays.
  const indptr = new Int32Array(n + 1);
  let indices = new Int32Array(0), values = new Float64Array(0);
  for (let pass = 0; pass < 2; pass++) {
    let q = 0;
    for (let i = 0; i < n; i++) {
      const m = sortOwn(i);
      let u = 0, v = symmetrize ? tptr[i]! : 0;
      const v1 = symmetrize ? tptr[i + 1]! : 0;
      let last = -1;
      while (u < m || v < v1) {
        let c: number, src: number;
        if (v >= v1 || (u < m && ownCol[u]! <= tsrc[v]!)) {
          c = ownCol[u]!;
          src = ownPos[u++]!;
        } else {
          c = tsrc[v]!;
          src = tpos[v++]!;
        }
        if (c === last) continue;
        last = c;
        if (pass === 1) {
          indices[q] = c;
          values[q] = f(gd[src]!);
        }
        q++;
      }
      if (pass === 0) indptr[i + 1] = q;
    }
    if (pass === 0) {
      indices = new Int32Array(q);
      values = new Float64Array(q);
    }
  }
  return { indptr, indices, values };
}
