/**
 * Neighbourhood components analysis (Goldberger, Roweis, Hinton & Salakhutdinov 2004): a linear
 * map L (k × d) maximising the expected leave-one-out accuracy of a stochastic nearest-neighbour
 * classifier, Σ_i p_i with p_i = Σ_{j: c(j) = c(i)} p_ij and p_ij = softmax_j(−‖L·x_i − L·x_j‖²)
 * (p_ii = 0; with `groups`, p_ij = 0 also for j in i's group, e.g. its own compound). The objective and its analytic gradient are scikit-learn's
 * NeighborhoodComponentsAnalysis (`_loss_grad_lbfgs`): with Y = X·Lᵀ and
 * W_ij = p_ij·[c(j) = c(i)] − p_ij·p_i, G = W + Wᵀ with diagonal −Σ_i W_ij,
 *   ∂(Σ p_i)/∂L = 2·Yᵀ·G·X,
 * minimised (as −Σ p_i) by the project's L-BFGS (lbfgs.ts) — scipy's L-BFGS-B takes other steps,
 * so iterates differ while objective and gradient agree (test: against sklearn's to 1e-10).
 * O(n²·k + n·k·d) per evaluation; no centring (transform = X·Lᵀ), as sklearn.
 *
 * Initialisation (sklearn's options): 'lda' = the shrinkage-LDA projection of represent/lda.ts
 * (the best linear learner phenomap had; NCA then refines it), 'pca' = the leading principal
 * axes, 'identity' = the first k coordinates, or an explicit k × d matrix. Deterministic given
 * the init (`seed` only reaches a randomized PCA).
 */
import { type Matrix, type StoredMatrix, zeros, gemm, gemmNT, gemmTN, asFloat64, transpose } from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import { lbfgs } from './lbfgs.js';
import { Lda } from './lda.js';
import { PCA } from './pca.js';
import { requireFiniteRows } from './finite.js';

export interface NcaOptions {
  /** Output dimension k (≤ features). Default min(classes − 1, features). */
  nComponents?: number;
  init?: 'lda' | 'pca' | 'identity' | Matrix;
  /** L-BFGS iterations (sklearn's max_iter). Default 50. */
  maxIter?: number;
  /** Gradient tolerance (sklearn's tol). Default 1e-5. */
  tol?: number;
  seed?: number;
}

export class Nca {
  readonly opts: NcaOptions;
  /** k × d. */
  components?: Matrix;
  iterations = 0;
  /** Σ p_i / n at the end (the expected leave-one-out accuracy on the training rows). */
  score = NaN;
  warnings: string[] = [];

  constructor(opts: NcaOptions = {}) {
    this.opts = opts;
    const it = opts.maxIter ?? 50;
    if (!(Number.isInteger(it) && it >= 0)) throw new InputError(`NCA: maxIter must be an integer ≥ 0, got ${it}`);
  }

  /**
   * `groups` (e.g. the compound of each row) restricts every row's stochastic neighbours to rows
   * of other groups: on replicate wells plain NCA is already near its optimum by matching a well
   * to its own compound's replicates, so it would learn nothing about the mechanism.
   */
  fit(Xs: StoredMatrix, labels: readonly string[], groups?: readonly (string | null)[]): this {
    const X = asFloat64(Xs);
    const n = X.rows, d = X.cols;
    if (labels.length !== n) throw new InputError(`NCA: ${labels.length} labels for ${n} rows`);
    requireFiniteRows(X, 'NCA');
    const ids = new Map<string, number>();
    const cls = Int32Array.from(labels, (l) => {
      let c = ids.get(l);
      if (c === undefined) ids.set(l, (c = ids.size));
      return c;
    });
    const K = ids.size;
    if (K < 2) throw new InputError(`NCA needs at least 2 classes, got ${K}`);
    let grp: Int32Array | undefined;
    if (groups) {
      if (groups.length !== n) throw new InputError(`NCA: ${groups.length} groups for ${n} rows`);
      const g = new Map<string, number>();
      grp = Int32Array.from(groups, (v, i) => {
        const key = v ?? `\u0000row${i}`;
        let c = g.get(key);
        if (c === undefined) g.set(key, (c = g.size));
        return c;
      });
    }
    const k = this.opts.nComponents ?? Math.min(K - 1, d);
    if (!(Number.isInteger(k) && k >= 1 && k <= d)) throw new InputError(`NCA: nComponents must be an integer in [1, ${d}] (features), got ${k}`);
    const L0 = this.initial(X, labels, k, K);
    const res = lbfgs((w, grad) => {
      const { loss, gradient } = ncaLossGrad(X, cls, { rows: k, cols: d, data: w }, grp);
      for (let t = 0; t < grad.length; t++) grad[t] = -gradient.data[t]!;
      return -loss;
    }, L0.data, { maxIter: this.opts.maxIter ?? 50, gtol: this.opts.tol ?? 1e-5 });
    this.components = { rows: k, cols: d, data: res.x };
    this.iterations = res.iterations;
    this.score = -res.f / n;
    if (res.reason === 'lineSearch') this.warnings.push('NCA: the line search stopped before convergence (kept the last improving step)');
    return this;
  }

  private initial(X: Matrix, labels: readonly string[], k: number, K: number): Matrix {
    const init = this.opts.init ?? 'lda';
    const d = X.cols;
    if (typeof init === 'object') {
      if (init.rows !== k || init.cols !== d) throw new InputError(`NCA: init is ${init.rows} × ${init.cols}, expected ${k} × ${d}`);
      return { rows: k, cols: d, data: init.data.slice() };
    }
    if (init === 'identity') {
      const L = zeros(k, d);
      for (let i = 0; i < Math.min(k, d); i++) L.data[i * d + i] = 1;
      return L;
    }
    if (init === 'lda' && k <= K - 1) {
      const lda = new Lda({ shrinkage: 'auto', nComponents: k }).fit(X, labels);
      return transpose(lda.scalings!);
    }
    if (init === 'lda') this.warnings.push(`NCA: ${k} components exceed classes − 1 = ${K - 1}; initialised by PCA instead of LDA`);
    const pca = new PCA({ nComponents: Math.min(k, X.rows), seed: this.opts.seed ?? 0 }).fit(X);
    const L = zeros(k, d);
    L.data.set(pca.components!.data.subarray(0, Math.min(k, X.rows) * d));
    return L;
  }

  transform(X: StoredMatrix): Matrix {
    if (!this.components) throw new Error('Nca.transform called before fit');
    if (X.cols !== this.components.cols) throw new InputError(`NCA: data has ${X.cols} features, the model was fitted on ${this.components.cols}`);
    return gemmNT(X, this.components);
  }
}

/** Σ_i p_i and its gradient with respect to L (k × d); see the file header. */
export function ncaLossGrad(X: Matrix, cls: Int32Array, L: Matrix, grp?: Int32Array): { loss: number; gradient: Matrix } {
  const n = X.rows, k = L.rows;
  const Y = gemmNT(X, L); // n × k
  const y = Y.data;
  const P = zeros(n, n);
  const p = P.data;
  const pi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const oi = i * k, row = i * n;
    let mx = -Infinity;
    for (let j = 0; j < n; j++) {
      if (j === i || (grp && grp[j] === grp[i])) continue;
      const oj = j * k;
      let s = 0;
      for (let t = 0; t < k; t++) {
        const v = y[oi + t]! - y[oj + t]!;
        s += v * v;
      }
      p[row + j] = -s;
      if (-s > mx) mx = -s;
    }
    let z = 0;
    for (let j = 0; j < n; j++) {
      if (j === i || (grp && grp[j] === grp[i])) { p[row + j] = 0; continue; }
      const e = Math.exp(p[row + j]! - mx);
      p[row + j] = e;
      z += e;
    }
    let same = 0;
    for (let j = 0; j < n; j++) {
      p[row + j] /= z;
      if (cls[j] === cls[i]) same += p[row + j]!;
    }
    pi[i] = same;
  }
  let loss = 0;
  for (let i = 0; i < n; i++) loss += pi[i]!;
  // W_ij = p_ij·([same] − p_i); G = W + Wᵀ, diag(G) = −column sums of W.
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) p[row + j] = p[row + j]! * ((cls[j] === cls[i] ? 1 : 0) - pi[i]!);
  }
  const colSum = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) colSum[j] += p[i * n + j]!;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = p[i * n + j]! + p[j * n + i]!;
      p[i * n + j] = s;
      p[j * n + i] = s;
    }
    p[i * n + i] = -colSum[i]!;
  }
  const T = gemmTN(Y, P); // k × n
  const gradient = gemm(T, X); // k × d
  for (let i = 0; i < gradient.data.length; i++) gradient.data[i] *= 2;
  return { loss, gradient };
}
