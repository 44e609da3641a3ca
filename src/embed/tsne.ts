/**
 * t-SNE (van der Maaten & Hinton 2008; Barnes–Hut: van der Maaten 2014) following
 * scikit-learn 1.2's `sklearn/manifold/_t_sne.py` and `_barnes_hut_tsne.pyx`:
 * - affinities: exact kNN with k = min(n − 1, ⌊3·perplexity + 1⌋) on squared Euclidean distances
 *   (all pairs for method 'exact'), per-row binary search on β for the perplexity
 *   (`_utils._binary_search_perplexity`: 100 steps, tolerance 1e-5), P = (P + Pᵀ) / ΣP;
 * - init 'pca': PCA scores scaled so the first component has standard deviation 1e-4;
 *   'random': 1e-4 · N(0, 1);
 * - learning rate 'auto' = max(N / early_exaggeration / 4, 50);
 * - `_gradient_descent`: 250 iterations with P·early_exaggeration and momentum 0.5, then momentum
 *   0.8 to n_iter; gains +0.2 / ×0.8 clipped at 0.01; progress checked every 50 iterations
 *   (stop after 250 / 300 checks-worth of iterations without improvement, or |grad| ≤ 1e-7);
 * - gradient: 2(dof+1)/dof · (Σ_j p_ij q_ij (y_i − y_j) − Σ_j q_ij² (y_i − y_j) / Z), dof =
 *   max(n_components − 1, 1); the repulsive sum by Barnes–Hut with θ = angle.
 * Numbers differ from sklearn (float64 here, float32 there; PCA signs; tree visiting order), so
 * parity is judged qualitatively (silhouette of the embedding by label).
 */
import type { Matrix } from '../linalg/matrix.js';
import { squaredDistancesBetween } from '../linalg/index.js';
import { PCA } from '../represent/pca.js';
import { Rng } from '../linalg/rng.js';
import { silentReporter, type Reporter } from '../util/log.js';
import { InputError } from '../util/errors.js';
import { SpTree } from './sptree.js';

export interface TSNEOptions {
  nComponents?: number;
  perplexity?: number;
  earlyExaggeration?: number;
  learningRate?: number | 'auto';
  nIter?: number;
  init?: 'pca' | 'random' | Matrix;
  angle?: number;
  method?: 'barnes_hut' | 'exact';
  seed?: number;
  minGradNorm?: number;
  nIterWithoutProgress?: number;
  /**
   * Precomputed exact kNN of the rows (self excluded, nearest first, `k` per row), e.g. from
   * `knnSquared`; used when k ≥ min(n − 1, ⌊3·perplexity + 1⌋), saving the O(n²·d) search.
   */
  knn?: Knn;
  reporter?: Reporter;
}

export interface Knn {
  k: number;
  indices: Int32Array;
  dist2: Float64Array;
}

/** Sparse symmetric joint probabilities in CSR form. */
export interface SparseP {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

const MACHINE_EPSILON = 2.220446049250313e-16;
const FLOAT32_TINY = 1.1754943508222875e-38;
const N_ITER_CHECK = 50;
const EXPLORATION_N_ITER = 250;

export class TSNE {
  readonly nComponents: number;
  readonly perplexity: number;
  readonly earlyExaggeration: number;
  readonly learningRate: number | 'auto';
  readonly nIter: number;
  readonly init: 'pca' | 'random' | Matrix;
  readonly angle: number;
  readonly method: 'barnes_hut' | 'exact';
  readonly seed: number;
  readonly minGradNorm: number;
  readonly nIterWithoutProgress: number;
  private readonly reporter: Reporter;
  private readonly knn?: Knn;
  /** KL divergence at the last checked iteration (as sklearn's `kl_divergence_`). */
  klDivergence = NaN;
  /** Iterations run (as sklearn's `n_iter_`). */
  nIterRun = 0;
  learningRateUsed = NaN;
  embedding?: Matrix;

  constructor(opts: TSNEOptions = {}) {
    this.nComponents = opts.nComponents ?? 2;
    this.perplexity = opts.perplexity ?? 30;
    this.earlyExaggeration = opts.earlyExaggeration ?? 12;
    this.learningRate = opts.learningRate ?? 'auto';
    this.nIter = opts.nIter ?? 1000;
    this.init = opts.init ?? 'pca';
    this.angle = opts.angle ?? 0.5;
    this.method = opts.method ?? 'barnes_hut';
    this.seed = opts.seed ?? 0;
    this.minGradNorm = opts.minGradNorm ?? 1e-7;
    this.nIterWithoutProgress = opts.nIterWithoutProgress ?? 300;
    this.reporter = opts.reporter ?? silentReporter;
    this.knn = opts.knn;
    if (!(this.perplexity > 0)) throw new InputError(`t-SNE: perplexity must be > 0, got ${this.perplexity}`);
    if (!(this.earlyExaggeration >= 1)) throw new InputError(`t-SNE: early exaggeration must be ≥ 1`);
    if (this.method === 'barnes_hut' && (this.nComponents < 1 || this.nComponents > 3)) {
      throw new InputError(`t-SNE: Barnes–Hut needs 1–3 components, got ${this.nComponents} (use method 'exact')`);
    }
  }

  fitTransform(X: Matrix): Matrix {
    const n = X.rows;
    if (n < 2) throw new InputError(`t-SNE needs at least 2 rows, got ${n}`);
    for (let i = 0; i < X.data.length; i++) {
      if (!Number.isFinite(X.data[i]!)) throw new InputError(`t-SNE: input has a non-finite value at row ${Math.floor(i / X.cols)}`);
    }
    const nc = this.nComponents;
    const lr = this.learningRate === 'auto' ? Math.max(n / this.earlyExaggeration / 4, 50) : this.learningRate;
    this.learningRateUsed = lr;
    const Y = this.initialEmbedding(X);
    const dof = Math.max(nc - 1, 1);

    const progress = this.reporter.progress('t-SNE', this.nIter);
    let objective: Objective;
    let scaleP: (f: number) => void;
    if (this.method === 'exact') {
      const P = exactJointProbabilities(X, this.perplexity);
      objective = (p, grad, computeError) => klExact(P, p, grad, n, nc, dof, computeError);
      scaleP = (f) => {
        for (let i = 0; i < P.length; i++) P[i] = P[i]! * f;
      };
    } else {
      const k = Math.min(n - 1, Math.floor(3 * this.perplexity + 1));
      const P = jointProbabilitiesNN(X, k, this.perplexity, this.knn);
      const tree = new SpTree(nc);
      const work = new Float64Array(n * nc);
      const sqTheta = this.angle * this.angle;
      objective = (p, grad, computeError) => klBarnesHut(P, p, grad, work, tree, nc, dof, sqTheta, computeError);
      scaleP = (f) => {
        const v = P.values;
        for (let i = 0; i < v.length; i++) v[i] = v[i]! * f;
      };
    }

    scaleP(this.earlyExaggeration);
    const onIter = (i: number) => {
      if ((i + 1) % 10 === 0) progress.tick(i + 1);
    };
    let r = gradientDescent(objective, Y.data, {
      it: 0,
      nIter: EXPLORATION_N_ITER,
      momentum: 0.5,
      learningRate: lr,
      nIterWithoutProgress: EXPLORATION_N_ITER,
      minGradNorm: this.minGradNorm,
      onIter,
    });
    scaleP(1 / this.earlyExaggeration);
    if (r.it < EXPLORATION_N_ITER || this.nIter - EXPLORATION_N_ITER > 0) {
      r = gradientDescent(objective, Y.data, {
        it: r.it + 1,
        nIter: this.nIter,
        momentum: 0.8,
        learningRate: lr,
        nIterWithoutProgress: this.nIterWithoutProgress,
        minGradNorm: this.minGradNorm,
        onIter,
      });
    }
    progress.done(`KL ${r.error.toFixed(3)}`);
    this.klDivergence = r.error;
    this.nIterRun = r.it;
    this.embedding = Y;
    return Y;
  }

  private initialEmbedding(X: Matrix): Matrix {
    const n = X.rows, nc = this.nComponents;
    if (typeof this.init === 'object') {
      if (this.init.rows !== n || this.init.cols !== nc) {
        throw new InputError(`t-SNE: init has shape ${this.init.rows}×${this.init.cols}, expected ${n}×${nc}`);
      }
      return { rows: n, cols: nc, data: this.init.data.slice() };
    }
    if (this.init === 'random' || X.cols < nc) {
      const rng = new Rng(this.seed);
      const data = new Float64Array(n * nc);
      for (let i = 0; i < data.length; i++) data[i] = 1e-4 * rng.normal();
      return { rows: n, cols: nc, data };
    }
    const Y = new PCA({ nComponents: nc }).fitTransform(X);
    const data = Y.data.slice(0, n * nc);
    // sklearn: pca / np.std(pca[:, 0]) * 1e-4 (population std).
    let mean = 0;
    for (let i = 0; i < n; i++) mean += data[i * nc]!;
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (data[i * nc]! - mean) ** 2;
    const sd = Math.sqrt(v / n);
    const f = sd > 0 ? 1e-4 / sd : 1;
    for (let i = 0; i < data.length; i++) data[i] = data[i]! * f;
    return { rows: n, cols: nc, data };
  }
}

type Objective = (p: Float64Array, grad: Float64Array, computeError: boolean) => number;

interface GDOptions {
  it: number;
  nIter: number;
  momentum: number;
  learningRate: number;
  nIterWithoutProgress: number;
  minGradNorm: number;
  minGain?: number;
  onIter?: (i: number) => void;
}

/** sklearn's `_gradient_descent` (delta-bar-delta gains with momentum); updates p in place. */
export function gradientDescent(objective: Objective, p: Float64Array, o: GDOptions): { error: number; it: number } {
  const m = p.length;
  const update = new Float64Array(m);
  const gains = new Float64Array(m).fill(1);
  const grad = new Float64Array(m);
  const minGain = o.minGain ?? 0.01;
  let error = Number.MAX_VALUE;
  let bestError = Number.MAX_VALUE;
  let bestIter = o.it;
  let i = o.it;
  for (i = o.it; i < o.nIter; i++) {
    const check = (i + 1) % N_ITER_CHECK === 0;
    const e = objective(p, grad, check);
    if (check) error = e;
    const mom = o.momentum, lr = o.learningRate;
    let gn = 0;
    for (let k = 0; k < m; k++) {
      const g = grad[k]!;
      let gain = gains[k]!;
      // Sign disagreement between the running update and the gradient means progress: grow.
      gain = update[k]! * g < 0 ? gain + 0.2 : gain * 0.8;
      if (gain < minGain) gain = minGain;
      gains[k] = gain;
      const gg = g * gain;
      gn += gg * gg;
      const u = mom * update[k]! - lr * gg;
      update[k] = u;
      p[k] = p[k]! + u;
    }
    o.onIter?.(i);
    if (check) {
      if (error < bestError) {
        bestError = error;
        bestIter = i;
      } else if (i - bestIter > o.nIterWithoutProgress) {
        break;
      }
      if (Math.sqrt(gn) <= o.minGradNorm) break;
    }
  }
  if (i === o.nIter) i = o.nIter - 1;
  return { error, it: i };
}

/**
 * kNN rows (excluding the row itself) by squared Euclidean distance, nearest first.
 * Distances are computed in row blocks so memory stays O(block · n).
 */
function firstK(knn: Knn, n: number, k: number): { indices: Int32Array; dist2: Float64Array } {
  if (knn.k === k) return knn;
  const indices = new Int32Array(n * k), dist2 = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    indices.set(knn.indices.subarray(i * knn.k, i * knn.k + k), i * k);
    dist2.set(knn.dist2.subarray(i * knn.k, i * knn.k + k), i * k);
  }
  return { indices, dist2 };
}

export function knnSquared(X: Matrix, k: number): Knn {
  const n = X.rows;
  const indices = new Int32Array(n * k);
  const dist2 = new Float64Array(n * k);
  const block = Math.max(1, Math.min(n, Math.floor(4_000_000 / Math.max(n, 1))));
  const hd = new Float64Array(k), hi = new Int32Array(k);
  for (let r0 = 0; r0 < n; r0 += block) {
    const r1 = Math.min(n, r0 + block);
    const sub: Matrix = { rows: r1 - r0, cols: X.cols, data: X.data.subarray(r0 * X.cols, r1 * X.cols) };
    const D = squaredDistancesBetween(sub, X);
    const dd = D.data;
    for (let i = r0; i < r1; i++) {
      const off = (i - r0) * n;
      // Max-heap of the k best seen so far (ties broken by lower index, as a stable sort would).
      let size = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const v = dd[off + j]!;
        if (size < k) {
          let c = size++;
          while (c > 0) {
            const par = (c - 1) >> 1;
            if (hd[par]! >= v) break;
            hd[c] = hd[par]!;
            hi[c] = hi[par]!;
            c = par;
          }
          hd[c] = v;
          hi[c] = j;
        } else if (v < hd[0]!) {
          siftDown(hd, hi, size, v, j);
        }
      }
      // Heap → ascending by popping.
      const o = i * k;
      for (let s = size; s > 0; s--) {
        const topD = hd[0]!, topI = hi[0]!;
        const lastD = hd[s - 1]!, lastI = hi[s - 1]!;
        indices[o + s - 1] = topI;
        dist2[o + s - 1] = topD < 0 ? 0 : topD;
        if (s > 1) siftDown(hd, hi, s - 1, lastD, lastI);
      }
    }
  }
  return { k, indices, dist2 };
}

function siftDown(hd: Float64Array, hi: Int32Array, size: number, v: number, j: number): void {
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= size) break;
    let m = l;
    if (l + 1 < size && hd[l + 1]! > hd[l]!) m = l + 1;
    if (hd[m]! <= v) break;
    hd[c] = hd[m]!;
    hi[c] = hi[m]!;
    c = m;
  }
  hd[c] = v;
  hi[c] = j;
}

/**
 * sklearn `_binary_search_perplexity` for one row of squared distances `d[off..off+m)`;
 * writes conditional probabilities to out[off..]. `skip` is an index to exclude (self) or −1.
 */
function binarySearchRow(d: Float64Array, off: number, m: number, perplexity: number, out: Float64Array, skip: number): void {
  const desiredEntropy = Math.log(perplexity);
  let beta = 1, betaMin = -Infinity, betaMax = Infinity;
  for (let step = 0; step < 100; step++) {
    let sumP = 0;
    for (let j = 0; j < m; j++) {
      const v = j === skip ? 0 : Math.exp(-d[off + j]! * beta);
      out[off + j] = v;
      sumP += v;
    }
    if (sumP === 0) sumP = 1e-8;
    let sumDP = 0;
    for (let j = 0; j < m; j++) {
      const v = out[off + j]! / sumP;
      out[off + j] = v;
      sumDP += d[off + j]! * v;
    }
    const entropyDiff = Math.log(sumP) + beta * sumDP - desiredEntropy;
    if (Math.abs(entropyDiff) <= 1e-5) break;
    if (entropyDiff > 0) {
      betaMin = beta;
      beta = betaMax === Infinity ? beta * 2 : (beta + betaMax) / 2;
    } else {
      betaMax = beta;
      beta = betaMin === -Infinity ? beta / 2 : (beta + betaMin) / 2;
    }
  }
}

/** Symmetrised, normalised sparse P from the k nearest neighbours (sklearn `_joint_probabilities_nn`). */
export function jointProbabilitiesNN(X: Matrix, k: number, perplexity: number, knn?: Knn): SparseP {
  const n = X.rows;
  const { indices, dist2 } = knn && knn.k >= k && knn.indices.length === n * knn.k ? firstK(knn, n, k) : knnSquared(X, k);
  const cond = new Float64Array(n * k);
  for (let i = 0; i < n; i++) binarySearchRow(dist2, i * k, k, perplexity, cond, -1);
  // P + Pᵀ: gather both directions per row, then sort by column and merge duplicates.
  const cnt = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    cnt[i + 1]! += k;
    for (let t = 0; t < k; t++) cnt[indices[i * k + t]! + 1]! += 1;
  }
  for (let i = 0; i < n; i++) cnt[i + 1]! += cnt[i]!;
  const fill = cnt.slice(0, n);
  const cols = new Int32Array(cnt[n]!);
  const vals = new Float64Array(cnt[n]!);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t]!, v = cond[i * k + t]!;
      let f = fill[i]!++;
      cols[f] = j;
      vals[f] = v;
      f = fill[j]!++;
      cols[f] = i;
      vals[f] = v;
    }
  }
  const indptr = new Int32Array(n + 1);
  const outCols = new Int32Array(cols.length);
  const outVals = new Float64Array(cols.length);
  let w = 0;
  let total = 0;
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = cnt[i]!, b = cnt[i + 1]!;
    order.length = 0;
    for (let s = a; s < b; s++) order.push(s);
    order.sort((x, y) => cols[x]! - cols[y]!);
    let last = -1;
    for (const s of order) {
      const c = cols[s]!;
      if (c === last) {
        outVals[w - 1] = outVals[w - 1]! + vals[s]!;
      } else {
        outCols[w] = c;
        outVals[w] = vals[s]!;
        w++;
        last = c;
      }
      total += vals[s]!;
    }
    indptr[i + 1] = w;
  }
  const sumP = Math.max(total, MACHINE_EPSILON);
  const values = outVals.slice(0, w);
  for (let s = 0; s < w; s++) values[s] = values[s]! / sumP;
  return { n, indptr, indices: outCols.slice(0, w), values };
}

/** Dense symmetric P for method 'exact' (sklearn `_joint_probabilities`), n × n row-major. */
export function exactJointProbabilities(X: Matrix, perplexity: number): Float64Array {
  const n = X.rows;
  const D = squaredDistancesBetween(X, X).data;
  for (let i = 0; i < D.length; i++) if (D[i]! < 0) D[i] = 0;
  const cond = new Float64Array(n * n);
  for (let i = 0; i < n; i++) binarySearchRow(D, i * n, n, perplexity, cond, i);
  const P = new Float64Array(n * n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = cond[i * n + j]! + cond[j * n + i]!;
      P[i * n + j] = v;
      total += v;
    }
  }
  // Normalised over ordered pairs (sklearn divides its condensed vector by the full sum).
  const sumP = Math.max(total, MACHINE_EPSILON);
  for (let i = 0; i < n * n; i++) P[i] = i % (n + 1) === 0 ? 0 : Math.max(P[i]! / sumP, MACHINE_EPSILON);
  return P;
}

/** KL(P‖Q) and its gradient, exact O(n²) (sklearn `_kl_divergence`, P over unordered pairs). */
function klExact(P: Float64Array, p: Float64Array, grad: Float64Array, n: number, nc: number, dof: number, computeError: boolean): number {
  const w = new Float64Array(n * n);
  const expo = (dof + 1) / -2;
  let sumW = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let d2 = 0;
      for (let a = 0; a < nc; a++) {
        const t = p[i * nc + a]! - p[j * nc + a]!;
        d2 += t * t;
      }
      const v = dof === 1 ? 1 / (1 + d2) : Math.pow(d2 / dof + 1, expo);
      w[i * n + j] = v;
      w[j * n + i] = v;
      sumW += 2 * v;
    }
  }
  let kl = 0;
  grad.fill(0);
  const c = (2 * (dof + 1)) / dof;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const wij = w[i * n + j]!;
      const q = Math.max(wij / sumW, MACHINE_EPSILON);
      const pij = P[i * n + j]!;
      if (computeError && j > i) kl += 2 * pij * Math.log(Math.max(pij, MACHINE_EPSILON) / q);
      const f = (pij - q) * wij;
      for (let a = 0; a < nc; a++) grad[i * nc + a]! += f * (p[i * nc + a]! - p[j * nc + a]!);
    }
  }
  for (let k = 0; k < grad.length; k++) grad[k] = grad[k]! * c;
  return kl;
}

/** KL(P‖Q) and gradient with the Barnes–Hut repulsion (sklearn `_kl_divergence_bh` + `gradient`). */
function klBarnesHut(
  P: SparseP,
  p: Float64Array,
  grad: Float64Array,
  neg: Float64Array,
  tree: SpTree,
  nc: number,
  dof: number,
  sqTheta: number,
  computeError: boolean,
): number {
  const n = P.n;
  tree.build(p, n);
  let sumQ = 0;
  if (nc === 2 && dof === 1) {
    for (let i = 0; i < n; i++) sumQ += tree.negativeForce2(p[2 * i]!, p[2 * i + 1]!, sqTheta, neg, 2 * i);
  } else {
    for (let i = 0; i < n; i++) sumQ += tree.negativeForce(p, i * nc, sqTheta, neg, i * nc, dof);
  }
  const { indptr, indices, values } = P;
  if (nc === 2 && dof === 1) return positive2(P, p, grad, neg, sumQ, computeError);
  const expo = (dof + 1) / 2;
  let C = 0;
  for (let i = 0; i < n; i++) {
    const io = i * nc;
    let f0 = 0, f1 = 0, f2 = 0;
    const y0 = p[io]!, y1 = nc > 1 ? p[io + 1]! : 0, y2 = nc > 2 ? p[io + 2]! : 0;
    for (let s = indptr[i]!, e = indptr[i + 1]!; s < e; s++) {
      const jo = indices[s]! * nc;
      const b0 = y0 - p[jo]!;
      const b1 = nc > 1 ? y1 - p[jo + 1]! : 0;
      const b2 = nc > 2 ? y2 - p[jo + 2]! : 0;
      const d2 = b0 * b0 + b1 * b1 + b2 * b2;
      let q = dof / (dof + d2);
      if (dof !== 1) q = Math.pow(q, expo);
      const pij = values[s]!;
      const m = pij * q;
      if (computeError) C += pij * Math.log(Math.max(pij, FLOAT32_TINY) / Math.max(q / sumQ, FLOAT32_TINY));
      f0 += m * b0;
      f1 += m * b1;
      f2 += m * b2;
    }
    grad[io] = f0;
    if (nc > 1) grad[io + 1] = f1;
    if (nc > 2) grad[io + 2] = f2;
  }
  const c = (2 * (dof + 1)) / dof;
  const inv = 1 / sumQ;
  for (let k = 0; k < n * nc; k++) grad[k] = c * (grad[k]! - neg[k]! * inv);
  return C;
}

/** Attractive forces and KL for 2-D, dof = 1; combines with the repulsion as klBarnesHut does. */
function positive2(P: SparseP, p: Float64Array, grad: Float64Array, neg: Float64Array, sumQ: number, computeError: boolean): number {
  const { n, indptr, indices, values } = P;
  let C = 0;
  const inv = 1 / sumQ;
  for (let i = 0; i < n; i++) {
    const y0 = p[2 * i]!, y1 = p[2 * i + 1]!;
    let f0 = 0, f1 = 0;
    const e = indptr[i + 1]!;
    for (let s = indptr[i]!; s < e; s++) {
      const jo = indices[s]! * 2;
      const b0 = y0 - p[jo]!;
      const b1 = y1 - p[jo + 1]!;
      const q = 1 / (1 + b0 * b0 + b1 * b1);
      const pij = values[s]!;
      const m = pij * q;
      f0 += m * b0;
      f1 += m * b1;
    }
    if (computeError) {
      for (let s = indptr[i]!; s < e; s++) {
        const jo = indices[s]! * 2;
        const b0 = y0 - p[jo]!, b1 = y1 - p[jo + 1]!;
        const q = 1 / (1 + b0 * b0 + b1 * b1);
        const pij = values[s]!;
        C += pij * Math.log(Math.max(pij, FLOAT32_TINY) / Math.max(q * inv, FLOAT32_TINY));
      }
    }
    // c = 2(dof + 1)/dof = 4 for dof = 1.
    grad[2 * i] = 4 * (f0 - neg[2 * i]! * inv);
    grad[2 * i + 1] = 4 * (f1 - neg[2 * i + 1]! * inv);
  }
  return C;
}
