/**
 * Thin SVD X = U·diag(s)·Vt through the symmetric eigendecomposition of the smaller Gram matrix
 * (X·Xᵀ when rows ≤ cols, else Xᵀ·X). Accurate for the leading singular values that PCA and
 * whitening use; singular values below ~1e-8·s_max lose relative accuracy (squared condition
 * number), so callers treat those as zero.
 */
import { type Matrix, type StoredMatrix, zeros } from './matrix.js';
import { tcrossprod, crossprod, gemm, gemmTN } from './blas.js';
import { symmetricEigen } from './eigen.js';
import { centeredCrossprod, centeredProduct } from './centered.js';
import { native } from './native.js';

export interface SvdResult {
  U: Matrix; // m × k
  s: Float64Array; // k, descending
  Vt: Matrix; // k × n
}

export function thinSvd(X: Matrix, k?: number): SvdResult {
  const m = X.rows, n = X.cols;
  const r = Math.min(m, n, k ?? Math.min(m, n));
  const wide = m <= n;
  return fromGram(wide ? tcrossprod(X) : crossprod(X), r, wide, (V) => (wide ? gemmTN(X, V) : gemm(X, V)));
}

/**
 * The centred copy of a wide X is scratch: kept between calls (up to SCRATCH_MAX values) so that
 * repeated fits do not pay for fresh pages each time — first-touch page faults cost as much as the
 * Gram product itself on a 384 × 5,792 table.
 */
const SCRATCH_MAX = 1 << 25;
let scratch: Float64Array | null = null;
let scratchInUse = false;

function centredScratch(len: number): Float64Array {
  if (scratchInUse || len > SCRATCH_MAX) return new Float64Array(len);
  if (!scratch || scratch.length < len) scratch = new Float64Array(len);
  scratchInUse = true;
  return scratch.subarray(0, len);
}

function releaseScratch(): void {
  scratchInUse = false;
}

/**
 * Thin SVD of the column-centred X − 1·μᵀ, plus its total sum of squares. Tall matrices (the
 * large case) never form the centred copy: the Gram matrix and U come from centred row blocks
 * (linalg/centered.ts), so X may be a 100,000-row float32 table held once. Wide ones centre a
 * float64 copy (n ≤ d keeps it no larger than the d × d work of the tall case).
 */
export function thinSvdCentered(X: StoredMatrix, mean: ArrayLike<number>, k?: number): SvdResult & { sumSquares: number } {
  const m = X.rows, n = X.cols;
  const r = Math.min(m, n, k ?? Math.min(m, n));
  if (m <= n) {
    const Xc: Matrix = { rows: m, cols: n, data: centredScratch(m * n) };
    try {
      const nat = native();
      let ss = 0;
      if (nat && X.data instanceof Float64Array && mean instanceof Float64Array) {
        ss = nat.centerRows(X.data, m, n, mean, Xc.data); // the loops below, natively
      } else {
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) Xc.data[i * n + j] = X.data[i * n + j]! - mean[j]!;
        for (let t = 0; t < Xc.data.length; t++) ss += Xc.data[t]! * Xc.data[t]!;
      }
      return { ...thinSvd(Xc, r), sumSquares: ss };
    } finally {
      if (Xc.data.buffer === scratch?.buffer) releaseScratch();
    }
  }
  const G = centeredCrossprod(X, mean);
  let ss = 0;
  for (let j = 0; j < n; j++) ss += G.data[j * n + j]!;
  return { ...fromGram(G, r, false, (V) => centeredProduct(X, mean, V)), sumSquares: ss };
}

/**
 * The SVD from the eigenpairs of the Gram matrix G (X·Xᵀ when `wide`, else Xᵀ·X); `project(V)`
 * returns Xᵀ·V (wide) or X·V (tall).
 */
function fromGram(G: Matrix, r: number, wide: boolean, project: (V: Matrix) => Matrix): SvdResult {
  const { values, vectors } = symmetricEigen(G, { k: r });
  const s = new Float64Array(r);
  const smax = Math.sqrt(Math.max(values[0] ?? 0, 0));
  for (let c = 0; c < r; c++) s[c] = Math.sqrt(Math.max(values[c]!, 0));
  const cutoff = smax * 1e-12;
  if (wide) {
    // vectors = U (m × r); V = Xᵀ U / s.
    const U = vectors;
    const XtU = project(U); // n × r
    const n = XtU.rows;
    const Vt = zeros(r, n);
    for (let c = 0; c < r; c++) {
      const inv = s[c]! > cutoff ? 1 / s[c]! : 0;
      for (let j = 0; j < n; j++) Vt.data[c * n + j] = XtU.data[j * r + c]! * inv;
    }
    return { U, s, Vt };
  }
  const V = vectors; // n × r
  const n = V.rows;
  const XV = project(V); // m × r
  const m = XV.rows;
  const U = zeros(m, r);
  for (let c = 0; c < r; c++) {
    const inv = s[c]! > cutoff ? 1 / s[c]! : 0;
    for (let i = 0; i < m; i++) U.data[i * r + c] = XV.data[i * r + c]! * inv;
  }
  const Vt = zeros(r, n);
  for (let c = 0; c < r; c++) for (let j = 0; j < n; j++) Vt.data[c * n + j] = V.data[j * r + c]!;
  return { U, s, Vt };
}
