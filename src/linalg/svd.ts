/**
 * Thin SVD X = U·diag(s)·Vt through the symmetric eigendecomposition of the smaller Gram matrix
 * (X·Xᵀ when rows ≤ cols, else Xᵀ·X). Accurate for the leading singular values that PCA and
 * whitening use; singular values below ~1e-8·s_max lose relative accuracy (squared condition
 * number), so callers treat those as zero.
 */
import { type Matrix, zeros } from './matrix.js';
import { tcrossprod, crossprod, gemm, gemmTN } from './blas.js';
import { symmetricEigen } from './eigen.js';

export interface SvdResult {
  U: Matrix; // m × k
  s: Float64Array; // k, descending
  Vt: Matrix; // k × n
}

export function thinSvd(X: Matrix, k?: number): SvdResult {
  const m = X.rows, n = X.cols;
  const r = Math.min(m, n, k ?? Math.min(m, n));
  const wide = m <= n;
  const G = wide ? tcrossprod(X) : crossprod(X);
  const { values, vectors } = symmetricEigen(G, { k: r });
  const s = new Float64Array(r);
  const smax = Math.sqrt(Math.max(values[0] ?? 0, 0));
  for (let c = 0; c < r; c++) s[c] = Math.sqrt(Math.max(values[c]!, 0));
  const cutoff = smax * 1e-12;
  if (wide) {
    // vectors = U (m × r); V = Xᵀ U / s.
    const U = vectors;
    const XtU = gemmTN(X, U); // n × r
    const Vt = zeros(r, n);
    for (let c = 0; c < r; c++) {
      const inv = s[c]! > cutoff ? 1 / s[c]! : 0;
      for (let j = 0; j < n; j++) Vt.data[c * n + j] = XtU.data[j * r + c]! * inv;
    }
    return { U, s, Vt };
  }
  const V = vectors; // n × r
  const XV = gemm(X, V); // m × r
  const U = zeros(m, r);
  for (let c = 0; c < r; c++) {
    const inv = s[c]! > cutoff ? 1 / s[c]! : 0;
    for (let i = 0; i < m; i++) U.data[i * r + c] = XV.data[i * r + c]! * inv;
  }
  const Vt = zeros(r, n);
  for (let c = 0; c < r; c++) for (let j = 0; j < n; j++) Vt.data[c * n + j] = V.data[j * r + c]!;
  return { U, s, Vt };
}
