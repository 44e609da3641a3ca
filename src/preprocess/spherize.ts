/**
 * Sphering (whitening) fitted on reference rows, as pycytominer's `Spherize`
 * (pycytominer/operations/transform.py; Kessy, Lewin & Strimmer 2018, "Optimal whitening and
 * decorrelation"). With Xc the centred reference rows (n × d), s its singular values and V its
 * right singular vectors, pycytominer's weights are
 *
 *   PCA: W = V · diag(√(n−1) / (s + ε))          ZCA: W = V · diag(√(n−1) / (s + ε)) · Vᵀ
 *
 * and the transform is (x − mean)·W; the `-cor` variants first standardise each feature
 * (population std, as sklearn's StandardScaler). ε (default 1e-6) is added to the singular
 * values, exactly where pycytominer adds it.
 *
 * pycytominer at HEAD takes the SVD of the raw X where its own derivation (and its rank check)
 * use the centred one; phenomap follows the centred form, which is pycytominer's on centred input.
 *
 * Rank, as pycytominer finds it: numpy's `matrix_rank` rule (s > s_max·max(n, d)·ε) on singular
 * values as accurate as LAPACK's (linalg/jacobiSvd.ts whenever the Gram eigenvalues leave any
 * doubt; the Gram matrix alone loses singular values below ~1e-8·s_max). When n ≤ d, s has n
 * values and pycytominer pads it to d with s[r−1] (r = the rank); when n > d all d are used,
 * however small (+ ε). Rank-deficient references are accepted for both methods:
 *
 * - ZCA does not depend on the basis chosen for the directions the reference rows do not span:
 *   with n ≤ d, W = √(n−1)·[Σ_{k<r} v_k v_kᵀ·(1/(s_k+ε) − c) + c·I], c = 1/(s_{r−1}+ε), which is
 *   pycytominer's W whatever basis LAPACK completed V with.
 * - PCA's components there are that basis itself (LAPACK's arbitrary choice in pycytominer):
 *   phenomap completes V from the standard basis by Gram–Schmidt. The reference rows are 0 on
 *   those components either way.
 * - Signs: each component (column of W for PCA) has its largest-magnitude loading positive, as
 *   scikit-learn's `svd_flip(u_based_decision=False)`; pycytominer keeps LAPACK's signs, so PCA
 *   output equals pycytominer's up to the sign of each column.
 */
import type { Matrix } from '../linalg/matrix.js';
import { transpose, zeros } from '../linalg/matrix.js';
import { crossprod, gemm, symmetricEigen } from '../linalg/index.js';
import { accurateSvd, numericalRank } from '../linalg/jacobiSvd.js';
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

  const zca = method === 'ZCA' || method === 'ZCA-cor';
  const { s: sv, V: Vr, rank } = singularPairs(Xc);
  if (rank === 0) throw new InputError(`spherize: ${what} have no variance at all`);
  const singularValues = sv.slice(0, rank);
  const sq = Math.sqrt(n - 1);
  // Σ as pycytominer pads it: n ≤ d → the first r, then s[r−1]; n > d → all d as they are.
  const k = Vr.cols; // right singular vectors known: all d when n > d, the first r otherwise
  const f = new Float64Array(k);
  for (let c = 0; c < k; c++) f[c] = sq / (sv[c]! + eps);
  const fPad = sq / (sv[rank - 1]! + eps);
  let W: Matrix;
  if (zca) {
    // V_k·diag(f − pad)·V_kᵀ + pad·I (pad = 0 when V is complete).
    const pad = k < d ? fPad : 0;
    const VD = zeros(d, k);
    for (let i = 0; i < d; i++) for (let c = 0; c < k; c++) VD.data[i * k + c] = Vr.data[i * k + c]! * (f[c]! - pad);
    W = gemm(VD, transpose(Vr));
    for (let i = 0; i < d; i++) W.data[i * d + i] += pad;
  } else {
    const V = k < d ? completeBasis(Vr) : Vr;
    W = zeros(d, d);
    for (let c = 0; c < d; c++) {
      // svd_flip on V: the largest |loading| of each component positive.
      let big = 0;
      for (let i = 0; i < d; i++) if (Math.abs(V.data[i * d + c]!) > Math.abs(big)) big = V.data[i * d + c]!;
      const w = (c < k ? f[c]! : fPad) * (big < 0 ? -1 : 1);
      for (let i = 0; i < d; i++) W.data[i * d + c] = V.data[i * d + c]! * w;
    }
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

/**
 * Singular values of Xc (n × d), descending, its numerical rank (numpy's rule), and right singular
 * vectors as columns of V: all d when n > d, else the first `rank`. The Gram eigendecomposition
 * answers when every eigenvalue is clearly zero-free (above 1e-9·λ_max, far above its error);
 * otherwise the accurate SVD decides (see the file header).
 */
function singularPairs(Xc: Matrix): { s: Float64Array; V: Matrix; rank: number } {
  const { rows: n, cols: d } = Xc;
  if (n > d) {
    const { values, vectors } = symmetricEigen(crossprod(Xc));
    if (values[d - 1]! > 1e-9 * values[0]!) {
      const s = Float64Array.from(values, (l) => Math.sqrt(l));
      return { s, V: vectors, rank: d };
    }
    const { s, V } = accurateSvd(Xc);
    return { s, V, rank: numericalRank(s, n, d) };
  }
  // n ≤ d: the accurate SVD of the n × n side (cheap), right vectors as Xcᵀ·u / s.
  const { s, V: U } = accurateSvd(Xc);
  const rank = numericalRank(s, n, d);
  const V = zeros(d, rank);
  const x = Xc.data;
  for (let c = 0; c < rank; c++) {
    const inv = 1 / s[c]!;
    for (let i = 0; i < n; i++) {
      const u = U.data[i * n + c]! * inv;
      if (u === 0) continue;
      const o = i * d;
      for (let j = 0; j < d; j++) V.data[j * rank + c] += x[o + j]! * u;
    }
  }
  return { s, V, rank };
}

/** The d × d orthonormal basis whose first columns are V's (d × k, orthonormal), completed from e_1, e_2, … by Gram–Schmidt (twice, for orthogonality). */
function completeBasis(V: Matrix): Matrix {
  const d = V.rows, k = V.cols;
  const cols: Float64Array[] = [];
  for (let c = 0; c < k; c++) cols.push(Float64Array.from({ length: d }, (_, i) => V.data[i * k + c]!));
  const w = new Float64Array(d);
  for (let e = 0; e < d && cols.length < d; e++) {
    w.fill(0);
    w[e] = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (const q of cols) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += q[i]! * w[i]!;
        for (let i = 0; i < d; i++) w[i] -= dot * q[i]!;
      }
    }
    let nrm = 0;
    for (let i = 0; i < d; i++) nrm += w[i]! * w[i]!;
    nrm = Math.sqrt(nrm);
    // A standard basis vector (almost) inside the span so far adds nothing.
    if (nrm < 1e-6) continue;
    cols.push(Float64Array.from(w, (x) => x / nrm));
  }
  const out = zeros(d, d);
  cols.forEach((q, c) => {
    for (let i = 0; i < d; i++) out.data[i * d + c] = q[i]!;
  });
  return out;
}
