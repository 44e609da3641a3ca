/**
 * LDA-whitening: a supervised linear metric from class labels (Fisher 1936; the shrinkage
 * estimator of Ledoit & Wolf 2004, as scikit-learn's LinearDiscriminantAnalysis(solver='eigen',
 * shrinkage='auto') uses it).
 *
 * fit(X, labels): pooled within-class scatter Sw = Σ_i (x_i − μ_{c(i)})(x_i − μ_{c(i)})ᵀ / (n − K),
 * shrunk towards a scaled identity, Sw_s = (1 − α)·Sw + α·(tr Sw / d)·I, with α given or chosen by
 * Ledoit–Wolf on the within-class residuals (computed on residuals scaled to unit variance and
 * scaled back, as sklearn's `_cov(X, 'auto')`). Whitening W = Sw_s^(−1/2) (symmetric
 * eigendecomposition) makes within-class variation isotropic, so Euclidean/cosine geometry after
 * `transform` discounts the directions in which replicates and same-class compounds vary.
 * With `nComponents` = k the whitened space is further projected on the k leading eigenvectors
 * of the whitened between-class scatter (k ≤ K − 1): classical LDA's discriminant directions,
 * scaled so the within-class covariance is the identity (sklearn's `scalings_` up to sign/order).
 *
 * Differences from sklearn, on purpose: the within-class scatter is pooled before shrinkage
 * (sklearn shrinks each class covariance and weights them by priors); without `nComponents` the
 * full whitening (d dimensions) is returned rather than at most K − 1 directions.
 * Rows with a null/empty label are ignored. Deterministic (no random step; `seed` is accepted for
 * the uniform learner interface and unused).
 */
import {
  type Matrix, zeros, crossprod, symmetricEigen, gemm, gemmTN,
} from '../linalg/index.js';
import { InputError } from '../util/errors.js';

export interface LdaOptions {
  /** Shrinkage α in [0, 1], or 'auto' (Ledoit–Wolf). Default 'auto'. */
  shrinkage?: number | 'auto';
  /** Project on this many discriminant directions (≤ classes − 1); default: whitening only. */
  nComponents?: number;
  /** Subtract the training mean in transform (sklearn). Default true. */
  center?: boolean;
  /** Eigenvalues of Sw_s below this fraction of the largest are floored to it. Default 1e-10. */
  eigenFloor?: number;
  seed?: number;
}

export class Lda {
  readonly shrinkageOpt: number | 'auto';
  readonly nComponentsRequested?: number;
  readonly center: boolean;
  readonly eigenFloor: number;
  /** Training mean (of the labelled rows). */
  mean?: Float64Array;
  /** d × k projection; transform(X) = (X − mean)·scalings. */
  scalings?: Matrix;
  classes: string[] = [];
  /** The α actually used. */
  shrinkage = NaN;
  /** Between-class eigenvalues of the kept directions (when nComponents is set). */
  explainedVariance?: Float64Array;

  constructor(opts: LdaOptions = {}) {
    this.shrinkageOpt = opts.shrinkage ?? 'auto';
    this.nComponentsRequested = opts.nComponents;
    this.center = opts.center ?? true;
    this.eigenFloor = opts.eigenFloor ?? 1e-10;
    if (typeof this.shrinkageOpt === 'number' && !(this.shrinkageOpt >= 0 && this.shrinkageOpt <= 1)) {
      throw new InputError(`LDA: shrinkage must be in [0, 1] or 'auto', got ${this.shrinkageOpt}`);
    }
  }

  fit(X: Matrix, labels: readonly (string | null)[]): this {
    if (labels.length !== X.rows) throw new InputError(`LDA: ${labels.length} labels for ${X.rows} rows`);
    const d = X.cols, x = X.data;
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
    if (K < 2) throw new InputError(`LDA needs at least 2 classes, got ${K}`);
    if (n <= K) throw new InputError(`LDA needs more labelled rows (${n}) than classes (${K})`);
    for (let r = 0; r < n; r++) {
      const o = rows[r]! * d;
      for (let j = 0; j < d; j++) if (!Number.isFinite(x[o + j]!)) throw new InputError(`LDA: non-finite value at row ${rows[r]! + 1}, column ${j + 1}`);
    }
    this.classes = [...classIndex.keys()];
    const counts = new Float64Array(K);
    const means = new Float64Array(K * d);
    const mean = new Float64Array(d);
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
    // Within-class residuals.
    const R = zeros(n, d);
    const rd = R.data;
    for (let r = 0; r < n; r++) {
      const o = rows[r]! * d, mo = cls[r]! * d, ro = r * d;
      for (let j = 0; j < d; j++) rd[ro + j] = x[o + j]! - means[mo + j]!;
    }
    const Sw = crossprod(R);
    const sw = Sw.data;
    const dof = n - K;
    for (let i = 0; i < sw.length; i++) sw[i] /= dof;
    const alpha = this.shrinkageOpt === 'auto' ? ledoitWolfScaled(R) : this.shrinkageOpt;
    this.shrinkage = alpha;
    let tr = 0;
    for (let j = 0; j < d; j++) tr += sw[j * d + j]!;
    const mu = tr / d;
    for (let i = 0; i < sw.length; i++) sw[i] *= 1 - alpha;
    for (let j = 0; j < d; j++) sw[j * d + j] += alpha * mu;
    const { values, vectors } = symmetricEigen(Sw);
    const floor = Math.max(values[0]! * this.eigenFloor, Number.MIN_VALUE);
    // W = V·Λ^(−1/2): columns scaled.
    const W = zeros(d, d);
    const v = vectors.data, w = W.data;
    for (let c = 0; c < d; c++) {
      const s = 1 / Math.sqrt(Math.max(values[c]!, floor));
      for (let j = 0; j < d; j++) w[j * d + c] = v[j * d + c]! * s;
    }
    let scalings = W;
    const k = this.nComponentsRequested;
    if (k !== undefined) {
      if (!(Number.isInteger(k) && k >= 1 && k <= K - 1)) throw new InputError(`LDA: nComponents must be an integer in [1, ${K - 1}] (classes − 1), got ${k}`);
      // Whitened class-mean offsets, weighted by √(n_c / n): Sb_w = Bᵀ·B.
      const B = zeros(K, d);
      for (let c = 0; c < K; c++) {
        const f = Math.sqrt(counts[c]! / n);
        for (let j = 0; j < d; j++) B.data[c * d + j] = f * (means[c * d + j]! - mean[j]!);
      }
      const Bw = gemm(B, W); // K × d
      const Sb = gemmTN(Bw, Bw);
      const eb = symmetricEigen(Sb, { k });
      scalings = gemm(W, eb.vectors); // d × k
      this.explainedVariance = eb.values.slice(0, k);
    }
    this.mean = mean;
    this.scalings = scalings;
    return this;
  }

  transform(X: Matrix): Matrix {
    if (!this.scalings || !this.mean) throw new Error('Lda.transform called before fit');
    const d = this.mean.length;
    if (X.cols !== d) throw new InputError(`LDA.transform: data has ${X.cols} features, the model was fitted on ${d}`);
    if (!this.center) return gemm(X, this.scalings);
    const Xc = zeros(X.rows, d);
    const x = X.data, o = Xc.data, m = this.mean;
    for (let i = 0; i < X.rows; i++) {
      const r = i * d;
      for (let j = 0; j < d; j++) o[r + j] = x[r + j]! - m[j]!;
    }
    return gemm(Xc, this.scalings);
  }
}

/**
 * Ledoit–Wolf shrinkage of the covariance of R (rows = observations, already centred per class),
 * computed on columns scaled to unit variance as sklearn's `_cov(X, shrinkage='auto')` does
 * (zero-variance columns keep scale 1). Formula of sklearn.covariance.ledoit_wolf_shrinkage
 * (its re-centring of already centred residuals is a no-op up to rounding).
 */
export function ledoitWolfScaled(R: Matrix): number {
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
  const Z = zeros(n, d);
  const z = Z.data;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) z[o + j] = r[o + j]! / scale[j]!;
  }
  return ledoitWolfShrinkage(Z);
}

/** sklearn.covariance.ledoit_wolf_shrinkage(X, assume_centered=True). */
export function ledoitWolfShrinkage(X: Matrix): number {
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
  const G = crossprod(X);
  let delta_ = 0;
  for (let i = 0; i < G.data.length; i++) delta_ += G.data[i]! * G.data[i]!;
  delta_ /= n * n;
  let beta = (1 / (d * n)) * (beta_ / n - delta_);
  let delta = delta_ - 2 * mu * traceSum + d * mu * mu;
  delta /= d;
  beta = Math.min(beta, delta);
  return beta === 0 ? 0 : beta / delta;
}
