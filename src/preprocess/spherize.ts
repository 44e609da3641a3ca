/**
 * Sphering (whitening) fitted on reference rows, as pycytominer's `Spherize`
 * (pycytominer/operations/transform.py; Kessy, Lewin & Strimmer 2018, "Optimal whitening and
 * decorrelation"). With Xc the centred reference rows (n × d) and Xcᵀ·Xc = V·diag(s²)·Vᵀ
 * (s = the singular values of Xc), pycytominer's weights are
 *
 *   PCA: W = V · diag(√(n−1) / (s + ε))          ZCA: W = V · diag(√(n−1) / (s + ε)) · Vᵀ
 *
 * and the transform is (x − mean)·W; the `-cor` variants first standardise each feature
 * (population std, as sklearn's StandardScaler). ε (default 1e-6) is added to the singular
 * values, exactly where pycytominer adds it. phenomap obtains s and V from the symmetric
 * eigendecomposition of Xcᵀ·Xc (the linalg core) rather than an SVD of Xc: same W, since
 * ZCA's W does not depend on the eigenvector signs.
 *
 * Rank: ZCA needs full rank d (so more reference rows than features); otherwise an InputError
 * says how many rows and features there are. PCA with rank r < d pads the missing singular
 * values with s[r−1], as pycytominer does when n ≤ d.
 */
import type { Matrix } from '../linalg/matrix.js';
import { transpose, zeros } from '../linalg/matrix.js';
import { crossprod, gemm, symmetricEigen } from '../linalg/index.js';
import { InputError } from '../util/errors.js';

export type SpherizeMethod = 'ZCA' | 'ZCA-cor' | 'PCA' | 'PCA-cor';

export interface SpherizeOptions {
  method?: SpherizeMethod;
  epsilon?: number;
  center?: boolean;
}

export interface SpherizeModel {
  readonly method: SpherizeMethod;
  /** Subtracted before W (zeros when not centring). */
  readonly mean: Float64Array;
  /** Divided after centring (ones unless a -cor method). */
  readonly scale: Float64Array;
  /** d × d weights. */
  readonly W: Matrix;
  /** Numerical rank of the centred reference rows. */
  readonly rank: number;
  /** Singular values of the (centred, scaled) reference rows, descending, before padding. */
  readonly singularValues: Float64Array;
}

/**
 * Fit on the reference rows R (n × d, complete data). `what` names the rows for messages,
 * e.g. "the 24 rows matching Metadata_pert_type == control in Metadata_Plate=P1".
 */
export function fitSpherize(R: Matrix, opts: SpherizeOptions = {}, what = 'the reference rows', featureNames?: string[]): SpherizeModel {
  const method = opts.method ?? 'ZCA';
  const eps = opts.epsilon ?? 1e-6;
  const center = opts.center ?? true;
  const cor = method === 'ZCA-cor' || method === 'PCA-cor';
  if (cor && !center) throw new InputError(`spherize ${method} requires centring (center = true)`);
  const { rows: n, cols: d, data } = R;
  if (n < 2) throw new InputError(`spherize: ${what} are ${n} row(s); need at least 2`);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      const j = i % d;
      throw new InputError(
        `spherize: ${what} have a missing or infinite value in feature ${featureNames?.[j] ?? `#${j}`} (row ${Math.floor(i / d)}); ` +
          'remove such features first (feature-select drop_na_columns)',
      );
    }
  }
  const mean = new Float64Array(d);
  const scale = new Float64Array(d).fill(1);
  if (center) {
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) mean[j] += data[o + j]!;
    }
    for (let j = 0; j < d; j++) mean[j] /= n;
  }
  const Xc = zeros(n, d);
  const xc = Xc.data;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) xc[o + j] = data[o + j]! - mean[j]!;
  }
  if (cor) {
    const ss = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) ss[j] += xc[o + j]! * xc[o + j]!;
    }
    const zero: string[] = [];
    for (let j = 0; j < d; j++) {
      const s = Math.sqrt(ss[j]! / n);
      if (!(s > 0)) zero.push(featureNames?.[j] ?? `#${j}`);
      scale[j] = s;
    }
    if (zero.length) {
      throw new InputError(
        `spherize ${method}: ${zero.length} feature(s) have zero variance in ${what} (${zero.slice(0, 5).join(', ')}${zero.length > 5 ? ', …' : ''}); remove low-variance features first`,
      );
    }
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) xc[o + j] /= scale[j]!;
    }
  }

  const { values, vectors: V } = symmetricEigen(crossprod(Xc));
  const lmax = Math.max(values[0] ?? 0, 0);
  // Eigenvalues of XᵀX carry absolute error ≈ d·ε·λmax; below that they are zero.
  const tol = lmax * Math.max(n, d) * 2.220446049250313e-16;
  let rank = 0;
  for (let k = 0; k < d; k++) if (values[k]! > tol) rank++;
  const s = new Float64Array(d);
  for (let k = 0; k < d; k++) s[k] = Math.sqrt(Math.max(values[k]!, 0));
  const singularValues = s.slice(0, rank);
  const zca = method === 'ZCA' || method === 'ZCA-cor';
  if (rank === 0) throw new InputError(`spherize: ${what} have no variance at all`);
  if (zca && rank < d) {
    throw new InputError(
      `spherize ${method}: ${what} (n = ${n}) span only ${rank} of ${d} feature dimensions; ZCA needs full rank ` +
        `(more reference rows than features, no linearly dependent features). Select fewer features first, or use PCA`,
    );
  }
  for (let k = rank; k < d; k++) s[k] = s[rank - 1]!;
  const f = new Float64Array(d);
  const sq = Math.sqrt(n - 1);
  for (let k = 0; k < d; k++) f[k] = sq / (s[k]! + eps);
  // V·diag(f)
  const VD = zeros(d, d);
  const vd = VD.data, v = V.data;
  for (let i = 0; i < d; i++) {
    const o = i * d;
    for (let k = 0; k < d; k++) vd[o + k] = v[o + k]! * f[k]!;
  }
  let W: Matrix = VD;
  if (zca) {
    W = gemm(VD, transpose(V));
  }
  return { method, mean, scale, W, rank, singularValues };
}

/** Apply a fitted sphering to rows X (n × d): ((x − mean) / scale) · W. */
export function applySpherize(model: SpherizeModel, X: Matrix): Matrix {
  const { rows: n, cols: d, data } = X;
  if (d !== model.W.rows) throw new RangeError(`applySpherize: ${d} features, model has ${model.W.rows}`);
  const C = zeros(n, d);
  const c = C.data;
  const { mean, scale } = model;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) c[o + j] = (data[o + j]! - mean[j]!) / scale[j]!;
  }
  return gemm(C, model.W);
}
