/**
 * Seeded k-means for Harmony's starting centroids: greedy k-means++ seeding (Arthur & Vassilvitskii
 * 2007, with 2 + ⌊ln k⌋ candidates per step as scikit-learn's `_kmeans_plusplus`), then Lloyd
 * iterations until no label changes or the centres move less than tol × the mean feature variance
 * (scikit-learn's stopping rule), best inertia over `nInit` restarts. Harmonypy gets these centroids
 * from `sklearn.cluster.KMeans(n_clusters=K, init='k-means++', n_init=10, max_iter=25)`; phenomap
 * draws from its own seeded generator, so the centroids are phenomap's, not scikit-learn's (the
 * parity test gives both implementations the same start). An emptied cluster takes the point
 * farthest from its centre, as scikit-learn relocates it.
 */
import { type Matrix, gemmNT, rowSquaredNorms, zeros } from '../linalg/index.js';
import type { Rng } from '../linalg/rng.js';

export interface KmeansOptions {
  nInit?: number;
  maxIter?: number;
  tol?: number;
}

export interface KmeansResult {
  centers: Matrix;
  labels: Int32Array;
  inertia: number;
  iterations: number;
}

/** Squared distances of every row of X to the given rows of X (n × m) into `out`, through one product (`rowsBuf`: ≥ m × d scratch). */
function distancesToRows(X: Matrix, xNorm: Float64Array, idx: Int32Array, out: Float64Array, rowsBuf: Float64Array): Matrix {
  const d = X.cols, m = idx.length;
  const C: Matrix = { rows: m, cols: d, data: rowsBuf.subarray(0, m * d) };
  for (let t = 0; t < m; t++) C.data.set(X.data.subarray(idx[t]! * d, (idx[t]! + 1) * d), t * d);
  const D = gemmNT(X, C, { rows: X.rows, cols: m, data: out.subarray(0, X.rows * m) });
  const dd = D.data;
  for (let i = 0; i < X.rows; i++) {
    for (let t = 0; t < m; t++) {
      const v = xNorm[i]! + xNorm[idx[t]!]! - 2 * dd[i * m + t]!;
      dd[i * m + t] = v > 0 ? v : 0;
    }
  }
  return D;
}

/** Work arrays of the k-means++ seeding and the Lloyd iterations, kept across the restarts of one `kmeans`. */
export interface KmeansWork {
  n: number; d: number; k: number;
  /** n × trials candidate distances, trials × d candidate rows. */
  buf: Float64Array; rowsBuf: Float64Array;
  closest: Float64Array; cum: Float64Array; cand: Int32Array; candDist: Float64Array;
  /** Lloyd: product block, two centre buffers, labels, distances, counts, member sums, clusters whose members changed. */
  dots: Float64Array; c0: Float64Array; c1: Float64Array; labels: Int32Array; dist: Float64Array; counts: Float64Array;
  sums: Float64Array; dirty: Uint8Array;
}

/** Work arrays for k-means on n × d rows with k centres. */
export function kmeansWork(n: number, d: number, k: number): KmeansWork {
  const trials = 2 + Math.floor(Math.log(k));
  return {
    n, d, k, buf: new Float64Array(n * trials), rowsBuf: new Float64Array(trials * d),
    closest: new Float64Array(n), cum: new Float64Array(n), cand: new Int32Array(trials), candDist: new Float64Array(n),
    dots: new Float64Array(Math.min(n, ASSIGN_BLOCK) * k), c0: new Float64Array(k * d), c1: new Float64Array(k * d),
    labels: new Int32Array(n), dist: new Float64Array(n), counts: new Float64Array(k),
    sums: new Float64Array(k * d), dirty: new Uint8Array(k),
  };
}

function workFits(w: KmeansWork | undefined, n: number, d: number, k: number): w is KmeansWork {
  return !!w && w.n === n && w.d === d && w.k === k;
}

/** Greedy k-means++ seeding: k row indices of X. */
export function kmeansPlusPlus(X: Matrix, k: number, rng: Rng, xNorm = rowSquaredNorms(X), work?: KmeansWork): Int32Array {
  const n = X.rows;
  const trials = 2 + Math.floor(Math.log(k));
  const w = workFits(work, n, X.cols, k) ? work : kmeansWork(n, X.cols, k);
  const { buf, rowsBuf, closest, cum, cand, candDist } = w;
  const chosen = new Int32Array(k);
  chosen[0] = rng.int(n);
  closest.set(distancesToRows(X, xNorm, chosen.subarray(0, 1), buf, rowsBuf).data);
  for (let c = 1; c < k; c++) {
    let pot = 0;
    for (let i = 0; i < n; i++) cum[i] = pot += closest[i]!;
    for (let t = 0; t < trials; t++) {
      const r = rng.uniform() * pot;
      // First index whose cumulative sum reaches r (numpy searchsorted on the cumsum).
      let lo = 0, hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid]! < r) lo = mid + 1;
        else hi = mid;
      }
      cand[t] = lo;
    }
    const D = distancesToRows(X, xNorm, cand, buf, rowsBuf).data;
    let best = -1, bestPot = Infinity;
    for (let t = 0; t < trials; t++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.min(closest[i]!, D[i * trials + t]!);
      if (s < bestPot) {
        bestPot = s;
        best = t;
      }
    }
    chosen[c] = cand[best]!;
    for (let i = 0; i < n; i++) candDist[i] = Math.min(closest[i]!, D[i * trials + best]!);
    closest.set(candDist);
  }
  return chosen;
}

/** Rows per product block of the assignment: the block's dots stay in cache for the argmin. */
const ASSIGN_BLOCK = 2048;

/**
 * Nearest centre of every row: labels and squared distances. The row's own norm does not change
 * which centre is nearest, so the argmin runs on ‖c‖² − 2·x·c straight from the product, block
 * by block (`dots`: an ASSIGN_BLOCK × k scratch). A row changing centre marks its old and new
 * centre in `dirty`.
 */
function assign(X: Matrix, xNorm: Float64Array, C: Matrix, dots: Float64Array, labels: Int32Array, dist: Float64Array, dirty?: Uint8Array): number {
  const cNorm = rowSquaredNorms(C);
  const n = X.rows, k = C.rows, dcol = X.cols;
  let changed = 0;
  for (let i0 = 0; i0 < n; i0 += ASSIGN_BLOCK) {
    const i1 = Math.min(n, i0 + ASSIGN_BLOCK);
    const D = gemmNT({ rows: i1 - i0, cols: dcol, data: X.data.subarray(i0 * dcol, i1 * dcol) }, C, { rows: i1 - i0, cols: k, data: dots.subarray(0, (i1 - i0) * k) }).data;
    for (let i = i0; i < i1; i++) {
      const o = (i - i0) * k;
      let best = 0, bv = Infinity;
      for (let c = 0; c < k; c++) {
        const v = cNorm[c]! - 2 * D[o + c]!;
        if (v < bv) {
          bv = v;
          best = c;
        }
      }
      const was = labels[i]!;
      if (was !== best) {
        changed++;
        if (dirty) {
          if (was >= 0) dirty[was] = 1;
          dirty[best] = 1;
        }
      }
      labels[i] = best;
      const sq = xNorm[i]! + bv;
      dist[i] = sq > 0 ? sq : 0;
    }
  }
  return changed;
}

/**
 * Lloyd iterations from the given centres. With `work` the iterations run in its arrays (the two
 * centre buffers alternate): the result's centres and labels are then views of `work`, valid until
 * its next use.
 */
export function lloyd(X: Matrix, init: Matrix, maxIter: number, tolAbs: number, xNorm = rowSquaredNorms(X), work?: KmeansWork): KmeansResult {
  const n = X.rows, d = X.cols, k = init.rows, x = X.data;
  const w = workFits(work, n, d, k) ? work : kmeansWork(n, d, k);
  const { dots, labels, dist, counts, sums, dirty } = w;
  let cur = w.c0, nxt = w.c1;
  cur.set(init.data);
  labels.fill(-1);
  // A cluster whose members did not change has the same sum as in the last iteration, bit for bit
  // (the same rows added in the same order): only clusters rows left or joined are summed again.
  dirty.fill(1);
  let iterations = 0, settled = false;
  for (; iterations < maxIter; iterations++) {
    const changed = assign(X, xNorm, { rows: k, cols: d, data: cur }, dots, labels, dist, dirty);
    for (let c = 0; c < k; c++) {
      if (!dirty[c]) continue;
      counts[c] = 0;
      sums.fill(0, c * d, (c + 1) * d);
    }
    for (let i = 0; i < n; i++) {
      const c = labels[i]!;
      if (!dirty[c]) continue;
      const o = i * d, co = c * d;
      counts[c]++;
      for (let t = 0; t < d; t++) sums[co + t] += x[o + t]!;
    }
    dirty.fill(0);
    let relocated = false;
    for (let c = 0; c < k; c++) {
      if (counts[c]! > 0) {
        for (let t = 0; t < d; t++) nxt[c * d + t] = sums[c * d + t]! / counts[c]!;
        continue;
      }
      // Empty cluster: the row farthest from its own centre starts it again.
      let far = 0, fv = -1;
      for (let i = 0; i < n; i++) {
        if (dist[i]! > fv) {
          fv = dist[i]!;
          far = i;
        }
      }
      nxt.set(x.subarray(far * d, (far + 1) * d), c * d);
      dist[far] = -1;
      relocated = true;
    }
    let shift = 0;
    for (let t = 0; t < k * d; t++) shift += (nxt[t]! - cur[t]!) ** 2;
    const prev = cur;
    cur = nxt;
    nxt = prev;
    if (changed === 0 && iterations > 0) {
      // The same labels as the iteration before and no cluster restarted: the new centres are
      // the ones just assigned to, so the final assignment below would repeat this one.
      settled = !relocated;
      break;
    }
    if (shift <= tolAbs) {
      iterations++;
      break;
    }
  }
  const C: Matrix = { rows: k, cols: d, data: cur };
  if (!settled) assign(X, xNorm, C, dots, labels, dist);
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += dist[i]!;
  return { centers: C, labels, inertia, iterations };
}

/** Best of `nInit` seeded k-means++ + Lloyd runs. */
export function kmeans(X: Matrix, k: number, rng: Rng, opts: KmeansOptions = {}): KmeansResult {
  const nInit = opts.nInit ?? 10, maxIter = opts.maxIter ?? 25, tol = opts.tol ?? 1e-4;
  const n = X.rows, d = X.cols;
  if (!(k >= 1 && k <= n)) throw new RangeError(`kmeans: k = ${k} for ${n} rows`);
  // scikit-learn's tolerance: tol × mean of the per-feature variances.
  let vsum = 0;
  for (let t = 0; t < d; t++) {
    let m = 0, s = 0;
    for (let i = 0; i < n; i++) m += X.data[i * d + t]!;
    m /= n;
    for (let i = 0; i < n; i++) s += (X.data[i * d + t]! - m) ** 2;
    vsum += s / n;
  }
  const tolAbs = (tol * vsum) / d;
  let best: KmeansResult | undefined;
  const xNorm = rowSquaredNorms(X);
  const work = kmeansWork(n, d, k);
  const init = zeros(k, d);
  for (let r = 0; r < nInit; r++) {
    const seeds = kmeansPlusPlus(X, k, rng, xNorm, work);
    for (let c = 0; c < k; c++) init.data.set(X.data.subarray(seeds[c]! * d, (seeds[c]! + 1) * d), c * d);
    const res = lloyd(X, init, maxIter, tolAbs, xNorm, work);
    // The restart's centres and labels live in `work`: the best so far is copied out.
    if (!best || res.inertia < best.inertia) best = { ...res, centers: { rows: k, cols: d, data: res.centers.data.slice() }, labels: res.labels.slice() };
  }
  return best!;
}
