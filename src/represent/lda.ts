/**
 * LDA-whitening: a supervised linear metric from class labels (Fisher 1936; the shrinkage
 * estimator of Ledoit & Wolf 2004, as scikit-learn's LinearDiscriminantAnalysis(solver='eigen',
 * shrinkage='auto') uses it).
 *
 * fit(X, labels): pooled within-class scatter Sw = Σ_i (x_i − μ_{c(i)})(x_i − μ_{c(i)})ᵀ / (n − K),
 * shrunk towards a scaled identity, Sw_s = (1 − α)·Sw + α·(tr Sw / d)·I, with α given or chosen by
 * Ledoit–Wolf on the within-class residuals (computed on residuals scaled to unit variance and
 * scaled back, as sklearn's `_cov(X, 'auto')`). Whitening W = Sw_s^(−1/2) (the symmetric inverse
 * square root) makes within-class variation isotropic, so Euclidean/cosine geometry after
 * `transform` discounts the directions in which replicates and same-class compounds vary.
 * With `nComponents` = k the data are instead projected on the k leading discriminant directions
 * (k ≤ K − 1): the generalized eigenvectors of Sb·v = λ·Sw_s·v (Sb the between-class scatter of
 * the class means, weighted by class size), scaled so that vᵀ·Sw_s·v = 1 — sklearn's `scalings_`,
 * each sign fixed so that its largest entry is positive.
 *
 * Two forms with the same results (tests: to 1e-8 on BBBC021 and the LINCS plate):
 * - direct: the d × d matrix Sw_s, O(d³) — its eigendecomposition for the whitening (and for a
 *   projection whose eigenvalues might be floored), otherwise a Cholesky solve;
 * - span (when the n labelled rows are fewer than the d features): Sw is zero outside the span of
 *   the n within-class residuals, so Sw_s = α·μ·I there and everything reduces to n × n matrices,
 *   O(n²·d). The projection solves Sw_s·Z = Bᵀ by the Woodbury identity
 *   Sw_s⁻¹ = (αμ)⁻¹·(I − Rᵀ·(c·I + R·Rᵀ)⁻¹·R), c = αμ(n − K)/(1 − α) (one n × n Cholesky), then
 *   takes the K × K eigenproblem B·Sw_s⁻¹·Bᵀ; the whitening takes the eigendecomposition of R·Rᵀ.
 * 'auto' picks the span form when n < d.
 *
 * Differences from sklearn, on purpose: the within-class scatter is pooled before shrinkage
 * (sklearn shrinks each class covariance and weights them by priors); without `nComponents` the
 * full whitening (d dimensions) is returned rather than at most K − 1 directions.
 * Rows with a null/empty label are ignored. Deterministic (no random step; `seed` is accepted for
 * the uniform learner interface and unused).
 */
import {
  type Matrix, type StoredMatrix, zeros, crossprod, tcrossprod, symmetricEigen, gemm, gemmNT, gemmTN, choleskyBlocked, choleskySolveBlocked, centeredProduct,
  NotPositiveDefiniteError, transpose, flipColumnSigns,
} from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import { requireFiniteRows } from './finite.js';
import { type FitWorkspace, workMatrix } from './workspace.js';

export type LdaSolver = 'auto' | 'direct' | 'span';
export const LDA_SOLVERS: readonly LdaSolver[] = ['auto', 'direct', 'span'];

export interface LdaOptions {
  /** Shrinkage α in [0, 1], or 'auto' (Ledoit–Wolf). Default 'auto'. */
  shrinkage?: number | 'auto';
  /** Project on this many discriminant directions (≤ classes − 1); default: whitening only. */
  nComponents?: number;
  /** Subtract the training mean in transform (sklearn). Default true. */
  center?: boolean;
  /** Eigenvalues of Sw_s below this fraction of the largest are floored to it. Default 1e-10. */
  eigenFloor?: number;
  /** 'auto' (default: span when labelled rows < features), 'direct' (d × d) or 'span' (n × n). */
  solver?: LdaSolver;
  seed?: number;
}

/**
 * Sw_s^(−1/2) in the span form: outside·I + Qᵀ·diag(scale − outside)·Q, Q (r × d) orthonormal
 * rows spanning the residuals.
 */
export interface SpanWhitening {
  readonly Q: Matrix;
  readonly scale: Float64Array;
  readonly outside: number;
}

/**
 * The labelled rows and their class numbers (classes numbered in order of first appearance; null and
 * '' are unlabelled), refusing fewer than 2 classes or no more labelled rows than classes.
 */
export function labelledClasses(labels: readonly (string | null)[], who: string): { classIndex: Map<string, number>; rows: number[]; cls: number[]; K: number; n: number } {
  const classIndex = new Map<string, number>();
  const rows: number[] = [], cls: number[] = [];
  labels.forEach((l, i) => {
    if (l === null || l === '') return;
    let c = classIndex.get(l);
    if (c === undefined) classIndex.set(l, (c = classIndex.size));
    rows.push(i);
    cls.push(c);
  });
  const K = classIndex.size, n = rows.length;
  if (K < 2) throw new InputError(`${who} needs at least 2 classes, got ${K}`);
  if (n <= K) throw new InputError(`${who} needs more labelled rows (${n}) than classes (${K})`);
  return { classIndex, rows, cls, K, n };
}

/** Rows per class, the class means (K × d) and the overall mean of the labelled rows. */
export function classMeans(x: ArrayLike<number>, d: number, rows: readonly number[], cls: readonly number[], K: number): { counts: Float64Array; means: Float64Array; mean: Float64Array } {
  const n = rows.length;
  const counts = new Float64Array(K), means = new Float64Array(K * d), mean = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const o = rows[r]! * d, c = cls[r]!;
    counts[c]++;
    for (let j = 0; j < d; j++) {
      means[c * d + j] += x[o + j]!;
      mean[j] += x[o + j]!;
    }
  }
  for (let c = 0; c < K; c++) for (let j = 0; j < d; j++) means[c * d + j] /= counts[c]!;
  for (let j = 0; j < d; j++) mean[j] /= n;
  return { counts, means, mean };
}

export class Lda {
  readonly shrinkageOpt: number | 'auto';
  readonly nComponentsRequested?: number;
  readonly center: boolean;
  readonly eigenFloor: number;
  readonly solverRequested: LdaSolver;
  /** Training mean (of the labelled rows). */
  mean?: Float64Array;
  /**
   * transform(X) = (X − mean)·scalings: d × k with nComponents, else the d × d whitening (direct
   * form only; the span form keeps `whitening`).
   */
  scalings?: Matrix;
  /** The span form's whitening factors (no nComponents). */
  whitening?: SpanWhitening;
  classes: string[] = [];
  /** The α actually used. */
  shrinkage = NaN;
  /** Between-class eigenvalues of the kept directions (when nComponents is set). */
  explainedVariance?: Float64Array;
  /** The form the last fit used. */
  solver?: 'direct' | 'span';

  constructor(opts: LdaOptions = {}) {
    this.shrinkageOpt = opts.shrinkage ?? 'auto';
    this.nComponentsRequested = opts.nComponents;
    this.center = opts.center ?? true;
    this.eigenFloor = opts.eigenFloor ?? 1e-10;
    this.solverRequested = opts.solver ?? 'auto';
    if (typeof this.shrinkageOpt === 'number' && !(this.shrinkageOpt >= 0 && this.shrinkageOpt <= 1)) {
      throw new InputError(`LDA: shrinkage must be in [0, 1] or 'auto', got ${this.shrinkageOpt}`);
    }
    if (!LDA_SOLVERS.includes(this.solverRequested)) throw new InputError(`LDA: solver must be one of ${LDA_SOLVERS.join(', ')}, got "${this.solverRequested}"`);
  }

  /** Fit on the labelled rows of X (null = not used). `ws`: work arrays to reuse (workspace.ts). */
  fit(X: StoredMatrix, labels: readonly (string | null)[], ws?: FitWorkspace): this {
    if (labels.length !== X.rows) throw new InputError(`LDA: ${labels.length} labels for ${X.rows} rows`);
    const d = X.cols, x = X.data;
    const { classIndex, rows, cls, K, n } = labelledClasses(labels, 'LDA');
    const k = this.nComponentsRequested;
    if (k !== undefined && !(Number.isInteger(k) && k >= 1 && k <= K - 1)) {
      throw new InputError(`LDA: nComponents must be an integer in [1, ${K - 1}] (classes − 1), got ${k}`);
    }
    requireFiniteRows(X, 'LDA', rows);
    this.classes = [...classIndex.keys()];
    const { counts, means, mean } = classMeans(x, d, rows, cls, K);
    // Within-class residuals.
    const R = workMatrix(ws, 'residuals', n, d);
    const rd = R.data;
    let ss = 0;
    for (let r = 0; r < n; r++) {
      const o = rows[r]! * d, mo = cls[r]! * d, ro = r * d;
      for (let j = 0; j < d; j++) {
        const v = x[o + j]! - means[mo + j]!;
        rd[ro + j] = v;
        ss += v * v;
      }
    }
    const dof = n - K;
    const alpha = this.shrinkageOpt === 'auto' ? ledoitWolfScaled(R, ws) : this.shrinkageOpt;
    this.shrinkage = alpha;
    const mu = ss / dof / d;
    // Class-mean offsets weighted by √(n_c / n): Sb = Bᵀ·B.
    const B = zeros(K, d);
    for (let c = 0; c < K; c++) {
      const f = Math.sqrt(counts[c]! / n);
      for (let j = 0; j < d; j++) B.data[c * d + j] = f * (means[c * d + j]! - mean[j]!);
    }
    const span = this.solverRequested === 'span' || (this.solverRequested === 'auto' && n < d);
    this.solver = span ? 'span' : 'direct';
    this.scalings = undefined;
    this.whitening = undefined;
    this.explainedVariance = undefined;
    if (!span) this.fitDirect(R, B, alpha, mu, dof, k);
    else this.fitSpan(R, B, alpha, mu, dof, k, ws);
    this.mean = mean;
    return this;
  }

  /** Eigendecomposition of the d × d Sw_s. */
  private fitDirect(R: Matrix, B: Matrix, alpha: number, mu: number, dof: number, k: number | undefined): void {
    const d = R.cols;
    const Sw = crossprod(R);
    const sw = Sw.data;
    for (let i = 0; i < sw.length; i++) sw[i] = (sw[i]! / dof) * (1 - alpha);
    let trace = 0;
    for (let j = 0; j < d; j++) {
      sw[j * d + j] += alpha * mu;
      trace += sw[j * d + j]!;
    }
    const b = alpha * mu;
    if (k !== undefined && b > 0 && b >= this.eigenFloor * trace) {
      // No eigenvalue can fall under the floor (all are ≥ α·μ, the largest ≤ the trace): the
      // projection needs only Sw_s⁻¹·Bᵀ, from a Cholesky factor (d³/3) instead of the d × d
      // eigendecomposition.
      this.keepProjection(discriminantProjection(B, shrunkScatterSolveDirect(Sw, B, 'LDA'), k));
      return;
    }
    const { values, vectors } = symmetricEigen(Sw);
    const floor = Math.max(values[0]! * this.eigenFloor, Number.MIN_VALUE);
    // V·Λ^(−1/2): whitened coordinates in the eigenbasis.
    const W = zeros(d, d);
    const v = vectors.data, w = W.data;
    for (let c = 0; c < d; c++) {
      const s = 1 / Math.sqrt(Math.max(values[c]!, floor));
      for (let j = 0; j < d; j++) w[j * d + c] = v[j * d + c]! * s;
    }
    if (k === undefined) {
      // The symmetric Sw_s^(−1/2) = V·Λ^(−1/2)·Vᵀ: no dependence on the eigenbasis chosen within
      // a repeated eigenvalue (α·μ is one whenever n < d).
      this.scalings = gemmNT(W, vectors);
      return;
    }
    const Bw = gemm(B, W); // K × d
    const eb = symmetricEigen(gemmTN(Bw, Bw), { k });
    this.scalings = flipColumns(gemm(W, eb.vectors)); // d × k
    this.explainedVariance = eb.values.slice(0, k);
  }

  /** The n × n form (see the file header). */
  private fitSpan(R: Matrix, B: Matrix, alpha: number, mu: number, dof: number, k: number | undefined, ws?: FitWorkspace): void {
    const n = R.rows, d = R.cols, K = B.rows;
    const a = (1 - alpha) / dof; // Sw_s = a·RᵀR + b·I
    const b = alpha * mu;
    const G = tcrossprod(R, workMatrix(ws, 'gram', n, n)); // n × n
    let trG = 0;
    for (let i = 0; i < n; i++) trG += G.data[i * n + i]!;
    // The direct form floors Sw_s's eigenvalues at eigenFloor·λ_max; λ_max ≤ a·tr(RRᵀ) + b, so when
    // b clears that bound no eigenvalue is floored and the Woodbury solve is exact.
    if (k !== undefined && b > 0 && b >= this.eigenFloor * (a * trG + b)) {
      this.keepProjection(discriminantProjection(B, shrunkScatterSolveSpan(R, G, B, a, b, 'LDA', ws), k));
      return;
    }
    // Eigendecomposition of R·Rᵀ = U·Λ·Uᵀ: Q = Λ^(−1/2)·Uᵀ·R spans the residuals, where Sw_s has
    // eigenvalues a·λ + b; elsewhere b.
    const e = symmetricEigen(G);
    const tol = Math.max(e.values[0]!, 0) * 1e-12 * n;
    let r = 0;
    while (r < n && e.values[r]! > tol) r++;
    const Ur = zeros(n, r);
    for (let i = 0; i < n; i++) for (let c = 0; c < r; c++) Ur.data[i * r + c] = e.vectors.data[i * n + c]!;
    const Q = gemmTN(Ur, R); // r × d
    for (let c = 0; c < r; c++) {
      const inv = 1 / Math.sqrt(e.values[c]!);
      for (let j = 0; j < d; j++) Q.data[c * d + j] *= inv;
    }
    const top = Math.max(r > 0 ? a * e.values[0]! + b : b, b);
    const floor = Math.max(top * this.eigenFloor, Number.MIN_VALUE);
    const scale = new Float64Array(r);
    for (let c = 0; c < r; c++) scale[c] = 1 / Math.sqrt(Math.max(a * e.values[c]! + b, floor));
    const outside = r < d ? 1 / Math.sqrt(Math.max(b, floor)) : 0;
    if (k === undefined) {
      this.whitening = { Q, scale, outside };
      return;
    }
    // Sw_s⁻¹·Bᵀ as rows: outside²·B + (B·Qᵀ)·diag(scale² − outside²)·Q.
    const BQ = gemmNT(B, Q); // K × r
    for (let t = 0; t < K; t++) for (let c = 0; c < r; c++) BQ.data[t * r + c] *= scale[c]! * scale[c]! - outside * outside;
    const Zt = gemm(BQ, Q);
    for (let t = 0; t < K * d; t++) Zt.data[t] += outside * outside * B.data[t]!;
    this.keepProjection(discriminantProjection(B, Zt, k));
  }

  private keepProjection(p: { scalings: Matrix; values: Float64Array }): void {
    this.scalings = p.scalings;
    this.explainedVariance = p.values;
  }

  /**
   * The same fitted model, transforming with or without subtracting the training mean: the fit does
   * not depend on `center`, so candidates that differ only there share one fit.
   */
  withCenter(center: boolean): Lda {
    const twin = Object.assign(Object.create(Lda.prototype) as Lda, this);
    (twin as { center: boolean }).center = center;
    return twin;
  }

  transform(X: StoredMatrix): Matrix {
    if ((!this.scalings && !this.whitening) || !this.mean) throw new Error('Lda.transform called before fit');
    const d = this.mean.length;
    if (X.cols !== d) throw new InputError(`LDA.transform: data has ${X.cols} features, the model was fitted on ${d}`);
    const mean = this.center ? this.mean : new Float64Array(d);
    // Centred row blocks on the fly (linalg/centered.ts): no n × d copy of X.
    if (this.scalings) return centeredProduct(X, mean, this.scalings);
    const { Q, scale, outside } = this.whitening!;
    const r = Q.rows;
    const T = centeredProduct(X, mean, transpose(Q)); // N × r
    for (let i = 0; i < X.rows; i++) for (let c = 0; c < r; c++) T.data[i * r + c] *= scale[c]! - outside;
    const Y = gemm(T, Q);
    const x = X.data, y = Y.data;
    for (let i = 0; i < X.rows; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) y[o + j] += outside * (x[o + j]! - mean[j]!);
    }
    return Y;
  }
}

/** Sw_s⁻¹·Bᵀ as rows (K × d) for the d × d Sw_s: one Cholesky factor and two triangular solves. */
export function shrunkScatterSolveDirect(Sw: Matrix, B: Matrix, who: string): Matrix {
  return transpose(choleskySolveBlocked(shrunkScatterFactor(Sw, who), transpose(B)));
}

/** The Cholesky factor of a shrunk scatter (or its span form); not positive definite → InputError naming `who`. */
function shrunkScatterFactor(M: Matrix, who: string, ws?: FitWorkspace): Matrix {
  try {
    return choleskyBlocked(M, undefined, workMatrix(ws, 'factor', M.rows, M.rows));
  } catch (e) {
    if (e instanceof NotPositiveDefiniteError) throw new InputError(`${who}: the shrunk within-class scatter is not positive definite (${e.message})`);
    throw e;
  }
}

/**
 * Sw_s⁻¹·Bᵀ as rows (K × d) for Sw_s = a·RᵀR + b·I (b > 0) in the n-dimensional span of R's rows,
 * by the Woodbury identity Sw_s⁻¹ = b⁻¹·(I − Rᵀ·(c·I + R·Rᵀ)⁻¹·R), c = b / a. `G` = R·Rᵀ (n × n) is
 * overwritten; `ws` holds the Cholesky factor.
 */
export function shrunkScatterSolveSpan(R: Matrix, G: Matrix, B: Matrix, a: number, b: number, who: string, ws?: FitWorkspace): Matrix {
  const n = R.rows, d = R.cols, K = B.rows;
  const Zt = zeros(K, d);
  if (a === 0) {
    for (let t = 0; t < K * d; t++) Zt.data[t] = B.data[t]! / b;
    return Zt;
  }
  const c = b / a;
  for (let i = 0; i < n; i++) G.data[i * n + i] += c;
  const S = choleskySolveBlocked(shrunkScatterFactor(G, who, ws), gemmNT(R, B)); // (cI + RRᵀ)⁻¹·R·Bᵀ, n × K
  const RtS = gemmTN(S, R); // K × d = Sᵀ·R
  for (let t = 0; t < K * d; t++) Zt.data[t] = (B.data[t]! - RtS.data[t]!) / b;
  return Zt;
}

/**
 * Discriminant directions from Z = Sw_s⁻¹·Bᵀ (given as rows Zt): eigenpairs (λ, y) of the K × K
 * B·Sw_s⁻¹·Bᵀ give v = Z·y/√λ, for which vᵀ·Sw_s·v = 1; each sign fixed by `flipColumns`.
 */
export function discriminantProjection(B: Matrix, Zt: Matrix, k: number): { scalings: Matrix; values: Float64Array } {
  const K = B.rows, d = B.cols;
  const M = gemmNT(B, Zt);
  for (let i = 0; i < K; i++) for (let j = 0; j < i; j++) M.data[i * K + j] = M.data[j * K + i] = 0.5 * (M.data[i * K + j]! + M.data[j * K + i]!);
  const eb = symmetricEigen(M, { k });
  const V = gemmTN(Zt, eb.vectors); // d × k
  for (let c = 0; c < k; c++) {
    const inv = eb.values[c]! > 0 ? 1 / Math.sqrt(eb.values[c]!) : 0;
    for (let j = 0; j < d; j++) V.data[j * k + c] *= inv;
  }
  return { scalings: flipColumns(V), values: eb.values.slice(0, k) };
}

/** Each column's sign fixed so that its largest-magnitude entry is positive (svd_flip's rule). */
function flipColumns(V: Matrix): Matrix {
  flipColumnSigns(V);
  return V;
}

/**
 * Ledoit–Wolf shrinkage of the covariance of R (rows = observations, already centred per class),
 * computed on columns scaled to unit variance as sklearn's `_cov(X, shrinkage='auto')` does
 * (zero-variance columns keep scale 1). Formula of sklearn.covariance.ledoit_wolf_shrinkage
 * (its re-centring of already centred residuals is a no-op up to rounding). `ws` holds the scaled copy.
 */
export function ledoitWolfScaled(R: Matrix, ws?: FitWorkspace): number {
  const n = R.rows, d = R.cols, r = R.data;
  const scale = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) scale[j] += r[o + j]! * r[o + j]!;
  }
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(scale[j]! / n);
    scale[j] = s > 0 ? s : 1;
  }
  const Z = workMatrix(ws, 'lw-scaled', n, d);
  const z = Z.data;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) z[o + j] = r[o + j]! / scale[j]!;
  }
  return ledoitWolfShrinkage(Z, ws);
}

/** sklearn.covariance.ledoit_wolf_shrinkage(X, assume_centered=True); `ws` holds the Gram matrix. */
export function ledoitWolfShrinkage(X: Matrix, ws?: FitWorkspace): number {
  const n = X.rows, d = X.cols, x = X.data;
  if (n === 0 || d === 0) return 0;
  // Σ of all entries of X2ᵀ·X2 = Σ_i (Σ_j x_ij²)²; trace of the empirical covariance per column.
  let beta_ = 0;
  const traceCols = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const q = x[o + j]! * x[o + j]!;
      s += q;
      traceCols[j] += q;
    }
    beta_ += s * s;
  }
  let traceSum = 0;
  for (let j = 0; j < d; j++) traceSum += traceCols[j]! / n;
  const mu = traceSum / d;
  // ‖XᵀX‖²_F = ‖X·Xᵀ‖²_F (both are Σ of squared inner products): the smaller Gram matrix.
  const G = n < d ? tcrossprod(X, workMatrix(ws, 'lw-gram', n, n)) : crossprod(X, workMatrix(ws, 'lw-gram', d, d));
  let delta_ = 0;
  for (let i = 0; i < G.data.length; i++) delta_ += G.data[i]! * G.data[i]!;
  delta_ /= n * n;
  let beta = (1 / (d * n)) * (beta_ / n - delta_);
  let delta = delta_ - 2 * mu * traceSum + d * mu * mu;
  delta /= d;
  beta = Math.min(beta, delta);
  return beta === 0 ? 0 : beta / delta;
}
