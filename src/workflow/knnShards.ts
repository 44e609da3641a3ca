/**
 * A k-nearest-neighbour graph built in shards, one job per shard, merged exactly: the rows are
 * cut into `shards` contiguous ranges; shard s indexes its own rows and queries EVERY row against
 * them (exact: blocked gemm panels; hnsw: an HNSW index over the shard, hnswlib-node, seeded), so
 * each row gets its k best candidates from each shard; a merge job then keeps, per row, the k best
 * of the shards' candidates. Candidate distances are recomputed directly in float64
 * (Σ (xᵢ − xⱼ)², no cancellation), and every order is (distance, row index), so the graph depends
 * only on the rows, k, the shard count and the index settings — not on which machine or process
 * ran which shard. With `exact` it is the exact k-NN graph (ties by index).
 *
 * Sizes: a shard's result is n × k × 12 bytes (ids + distances); the merge of query rows
 * [lo, hi) reads only those rows of every shard file (`packedLayout` offsets), so merges run in
 * parallel blocks too. The result is the KnnGraph that src/cluster's sparse affinity propagation
 * and Louvain take.
 */
import hnswlib from 'hnswlib-node';
import { offerNeighbour, type KnnGraph } from '../cluster/knnGraph.js';
import { gemmNT, rowSquaredNorms, type Matrix } from '../linalg/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { packArrays, packedLayout, readPackedSlice } from '../util/packed.js';

export type KnnShardMethod = 'exact' | 'hnsw';

export interface KnnShardOptions {
  method: KnnShardMethod;
  /** HNSW: links per node, build and search candidate lists, seed (shard s uses seed + s). */
  hnsw?: { m?: number; efConstruction?: number; efSearch?: number; seed?: number };
}

export interface KnnShardResult {
  readonly n: number;
  readonly k: number;
  readonly shard: number;
  readonly shards: number;
  /** The shard's rows [lo, hi). */
  readonly lo: number;
  readonly hi: number;
  readonly method: KnnShardMethod;
  /** n × k candidate rows (−1 = none), ascending (distance, index) per row. */
  readonly ids: Int32Array;
  /** n × k squared distances (Infinity = none). */
  readonly dist: Float64Array;
}

/** Rows [lo, hi) of shard s of n rows in `shards` contiguous ranges. */
export function shardRange(n: number, shards: number, s: number): [number, number] {
  return [Math.floor((s * n) / shards), Math.floor(((s + 1) * n) / shards)];
}

function sqDist(x: Float64Array, d: number, i: number, j: number): number {
  const oi = i * d, oj = j * d;
  let s = 0;
  for (let c = 0; c < d; c++) {
    const z = x[oi + c]! - x[oj + c]!;
    s += z * z;
  }
  return s;
}

/** Recompute the kept candidates' distances exactly and sort each row by (distance, index). */
function finishRows(X: Matrix, k: number, ids: Int32Array, dist: Float64Array): void {
  const n = X.rows, d = X.cols, x = X.data;
  const order: number[] = [];
  const tmpI = new Int32Array(k), tmpD = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    order.length = 0;
    for (let t = 0; t < k; t++) {
      const j = ids[o + t]!;
      if (j < 0) continue;
      dist[o + t] = sqDist(x, d, i, j);
      order.push(t);
    }
    order.sort((a, b) => dist[o + a]! - dist[o + b]! || ids[o + a]! - ids[o + b]!);
    tmpI.fill(-1);
    tmpD.fill(Infinity);
    order.forEach((t, r) => {
      tmpI[r] = ids[o + t]!;
      tmpD[r] = dist[o + t]!;
    });
    ids.set(tmpI, o);
    dist.set(tmpD, o);
  }
}

function exactShard(X: Matrix, k: number, lo: number, hi: number, ids: Int32Array, dist: Float64Array): void {
  const n = X.rows, d = X.cols, x = X.data;
  const norms = rowSquaredNorms(X);
  dist.fill(Infinity);
  ids.fill(0x7fffffff);
  const B = 256, P = 4096;
  const G = new Float64Array(B * P);
  for (let j0 = lo; j0 < hi; j0 += P) {
    const j1 = Math.min(hi, j0 + P), bp = j1 - j0;
    const panel = { rows: bp, cols: d, data: x.subarray(j0 * d, j1 * d) };
    for (let i0 = 0; i0 < n; i0 += B) {
      const i1 = Math.min(n, i0 + B), bq = i1 - i0;
      const C: Matrix = { rows: bq, cols: bp, data: G.subarray(0, bq * bp) };
      gemmNT({ rows: bq, cols: d, data: x.subarray(i0 * d, i1 * d) }, panel, C);
      const g = C.data;
      for (let a = 0; a < bq; a++) {
        const i = i0 + a, ni = norms[i]!, o = i * k, go = a * bp;
        for (let b = 0; b < bp; b++) {
          const j = j0 + b;
          if (j === i) continue;
          let v = ni + norms[j]! - 2 * g[go + b]!;
          if (v < 0) v = 0;
          offerNeighbour(dist, ids, o, k, v, j);
        }
      }
    }
  }
  for (let t = 0; t < ids.length; t++) if (ids[t] === 0x7fffffff) ids[t] = -1;
}

function hnswShard(X: Matrix, k: number, lo: number, hi: number, ids: Int32Array, seedBase: number, h: NonNullable<KnnShardOptions['hnsw']>): void {
  const n = X.rows, d = X.cols, x = X.data;
  const size = hi - lo;
  ids.fill(-1);
  if (size === 0) return;
  const index = new hnswlib.HierarchicalNSW('l2', d);
  index.initIndex(size, h.m ?? 16, h.efConstruction ?? 100, seedBase);
  const row = new Array<number>(d);
  for (let j = lo; j < hi; j++) {
    for (let c = 0; c < d; c++) row[c] = x[j * d + c]!;
    index.addPoint(row, j);
  }
  index.setEf(Math.max(h.efSearch ?? Math.max(48, k + 16), k + 1));
  const want = Math.min(k + 1, size);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) row[c] = x[i * d + c]!;
    const nb = index.searchKnn(row, want).neighbors;
    let t = 0;
    for (let q = 0; q < nb.length && t < k; q++) if (nb[q] !== i) ids[i * k + t++] = nb[q]!;
  }
}

/** Shard s of `shards`: every row's k nearest among the shard's rows (self excluded). */
export function knnShard(X: Matrix, k: number, shard: number, shards: number, opts: KnnShardOptions): KnnShardResult {
  const n = X.rows;
  if (!Number.isInteger(k) || k < 1) throw new InputError(`k-NN shards: k must be an integer ≥ 1, got ${k}`);
  if (!Number.isInteger(shards) || shards < 1 || !(shard >= 0 && shard < shards)) throw new InputError(`k-NN shards: shard ${shard} of ${shards} does not exist`);
  if (n < 2) throw new InputError(`k-NN graph: need at least 2 rows, got ${n}`);
  for (let t = 0; t < X.data.length; t++) {
    if (!Number.isFinite(X.data[t]!)) throw new InputError(`k-NN graph: non-finite value at row ${Math.floor(t / X.cols)}`);
  }
  const [lo, hi] = shardRange(n, shards, shard);
  const ids = new Int32Array(n * k), dist = new Float64Array(n * k);
  if (opts.method === 'exact') exactShard(X, k, lo, hi, ids, dist);
  else hnswShard(X, k, lo, hi, ids, (opts.hnsw?.seed ?? 0) + shard, opts.hnsw ?? {});
  finishRows(X, k, ids, dist);
  return { n, k, shard, shards, lo, hi, method: opts.method, ids, dist };
}

export interface ShardHeader {
  n: number;
  k: number;
  shard: number;
  shards: number;
  lo: number;
  hi: number;
  method: KnnShardMethod;
}

/** Write a shard's candidates (atomically). */
export function writeKnnShard(path: string, r: KnnShardResult): void {
  const header: ShardHeader = { n: r.n, k: r.k, shard: r.shard, shards: r.shards, lo: r.lo, hi: r.hi, method: r.method };
  writeFileAtomic(path, packArrays('knn-shard', header, { ids: r.ids, dist: r.dist }));
}

/** What a shard file says about itself (n, k, which shard of how many). */
export function knnShardHeader(path: string): ShardHeader {
  return packedLayout<ShardHeader>(path, 'knn-shard').header;
}

/** The k best of every shard's candidates for query rows [from, to): one block of the graph. */
export function mergeKnnShardFiles(paths: readonly string[], from: number, to: number): { n: number; k: number; from: number; to: number; ids: Int32Array; dist: Float64Array } {
  if (!paths.length) throw new InputError('k-NN merge: no shard files');
  const layouts = paths.map((p) => ({ p, ...packedLayout<ShardHeader>(p, 'knn-shard') }));
  const h0 = layouts[0]!.header;
  const seen = new Set<number>();
  for (const { p, header: h } of layouts) {
    if (h.n !== h0.n || h.k !== h0.k || h.shards !== h0.shards) throw new InputError(`${p}: k-NN shard of another graph (n ${h.n}, k ${h.k}, ${h.shards} shards; ${layouts[0]!.p} has n ${h0.n}, k ${h0.k}, ${h0.shards})`);
    if (seen.has(h.shard)) throw new InputError(`${p}: shard ${h.shard} given twice`);
    seen.add(h.shard);
  }
  if (seen.size !== h0.shards) throw new InputError(`k-NN merge: ${seen.size} of ${h0.shards} shards given (${paths.join(', ')})`);
  const { n, k } = h0;
  if (!(from >= 0 && to <= n && from <= to)) throw new InputError(`k-NN merge: rows ${from}–${to} outside 0–${n}`);
  const parts = layouts.map(({ p, offsets }) => ({
    ids: readPackedSlice(p, offsets.ids!, from * k, to * k) as Int32Array,
    dist: readPackedSlice(p, offsets.dist!, from * k, to * k) as Float64Array,
  }));
  const rows = to - from;
  const ids = new Int32Array(rows * k).fill(-1), dist = new Float64Array(rows * k).fill(Infinity);
  const candI: number[] = [], candD: number[] = [], order: number[] = [];
  for (let r = 0; r < rows; r++) {
    candI.length = candD.length = order.length = 0;
    for (const part of parts) {
      for (let t = 0; t < k; t++) {
        const j = part.ids[r * k + t]!;
        if (j < 0) break;
        order.push(candI.length);
        candI.push(j);
        candD.push(part.dist[r * k + t]!);
      }
    }
    order.sort((a, b) => candD[a]! - candD[b]! || candI[a]! - candI[b]!);
    const m = Math.min(k, order.length);
    for (let t = 0; t < m; t++) {
      ids[r * k + t] = candI[order[t]!]!;
      dist[r * k + t] = candD[order[t]!]!;
    }
  }
  return { n, k, from, to, ids, dist };
}

/** Write a merged block (atomically). */
export function writeKnnBlock(path: string, b: { n: number; k: number; from: number; to: number; ids: Int32Array; dist: Float64Array }): void {
  writeFileAtomic(path, packArrays('knn-block', { n: b.n, k: b.k, from: b.from, to: b.to }, { ids: b.ids, dist: b.dist }));
}

/** The whole graph from its merged blocks (which must cover every row once). */
export function readKnnGraph(paths: readonly string[]): KnnGraph {
  const blocks = paths.map((p) => {
    const l = packedLayout<{ n: number; k: number; from: number; to: number }>(p, 'knn-block');
    const rows = l.header.to - l.header.from;
    return {
      p, ...l.header,
      ids: readPackedSlice(p, l.offsets.ids!, 0, rows * l.header.k) as Int32Array,
      dist: readPackedSlice(p, l.offsets.dist!, 0, rows * l.header.k) as Float64Array,
    };
  }).sort((a, b) => a.from - b.from);
  if (!blocks.length) throw new InputError('k-NN graph: no blocks');
  const { n, k } = blocks[0]!;
  let at = 0;
  for (const b of blocks) {
    if (b.n !== n || b.k !== k) throw new InputError(`${b.p}: a block of another k-NN graph`);
    if (b.from !== at) throw new InputError(`${b.p}: blocks do not cover rows ${at}–${b.from}`);
    at = b.to;
  }
  if (at !== n) throw new InputError(`k-NN graph: blocks cover rows 0–${at} of ${n}`);
  const kk = Math.min(k, n - 1);
  const indptr = new Int32Array(n + 1), indices = new Int32Array(n * kk), distances = new Float64Array(n * kk);
  for (const b of blocks) {
    for (let r = 0; r < b.to - b.from; r++) {
      const i = b.from + r;
      for (let t = 0; t < kk; t++) {
        const j = b.ids[r * k + t]!;
        if (j < 0) throw new InputError(`${b.p}: row ${i} has only ${t} neighbours`);
        indices[i * kk + t] = j;
        distances[i * kk + t] = b.dist[r * k + t]!;
      }
      indptr[i + 1] = (i + 1) * kk;
    }
  }
  return { n, k: kk, indptr, indices, distances };
}
