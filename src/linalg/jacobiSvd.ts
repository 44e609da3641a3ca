/**
 * Singular values and right singular vectors of a matrix to the accuracy of LAPACK's SVD, for
 * decisions that hang on the small ones (the numerical rank as numpy's `matrix_rank` finds it).
 *
 * Why not svd.ts: it goes through the Gram matrix, whose eigenvalues carry an absolute error of
 * about ε·s_max², so singular values below ~1e-8·s_max are lost — a reference set whose features
 * span many orders of magnitude then looks rank-deficient (297 of 498 dimensions on BBBC021).
 *
 * How (the preconditioned one-sided Jacobi SVD of Drmač & Veselić, LAPACK's dgejsv, simplified):
 * Householder QR with column pivoting, A·P = Q·R, on the orientation with more rows (Xᵀ for a
 * wide X); then one-sided Jacobi rotations on the columns of Rᵀ until they are orthogonal. Rᵀ's
 * columns are graded by the pivoting, so a few sweeps suffice, and each singular value has an
 * absolute error of order ε·s_max, as LAPACK's. Rᵀ·J = V_R·S gives R's right singular vectors as
 * its normalised columns, and A's are P·V_R.
 */
import { type Matrix, zeros } from './matrix.js';

const EPS = 2.220446049250313e-16;

export interface AccurateSvd {
  /** Singular values, descending, min(n, d) of them. */
  readonly s: Float64Array;
  /**
   * The singular vectors on the side of min(n, d) (k × k with k = min(n, d), columns): X's right
   * singular vectors when X is tall (n ≥ d), its left ones when X is wide.
   */
  readonly V: Matrix;
  /** Whether X was wide (n < d), so V holds left singular vectors. */
  readonly wide: boolean;
}

/**
 * Householder QR with column pivoting of the m × k matrix given column-major in `a` (m ≥ k),
 * in place; returns R (k × k, upper triangular, column-major) and the pivot order.
 */
function pivotedQr(a: Float64Array, m: number, k: number): { R: Float64Array; piv: Int32Array } {
  const piv = Int32Array.from({ length: k }, (_, j) => j);
  const norm2 = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let t = 0;
    for (let i = 0; i < m; i++) t += a[j * m + i]! ** 2;
    norm2[j] = t;
  }
  const col = (j: number) => piv[j]! * m;
  for (let s = 0; s < k; s++) {
    // Largest remaining column to position s (recomputed exactly: the downdated norms drift).
    let best = s, bestNorm = -1;
    for (let j = s; j < k; j++) {
      const o = col(j);
      let t = 0;
      for (let i = s; i < m; i++) t += a[o + i]! ** 2;
      norm2[piv[j]!] = t;
      if (t > bestNorm) (bestNorm = t), (best = j);
    }
    const tp = piv[s]!;
    piv[s] = piv[best]!;
    piv[best] = tp;
    const o = col(s);
    const alpha = Math.sqrt(bestNorm);
    if (alpha === 0) continue;
    const x0 = a[o + s]!;
    const beta = x0 > 0 ? -alpha : alpha;
    // v = x − beta·e_s, stored in place of the column below the diagonal; R[s,s] = beta.
    a[o + s] = x0 - beta;
    let vv = 0;
    for (let i = s; i < m; i++) vv += a[o + i]! ** 2;
    if (vv > 0) {
      for (let j = s + 1; j < k; j++) {
        const oj = col(j);
        let dot = 0;
        for (let i = s; i < m; i++) dot += a[o + i]! * a[oj + i]!;
        const f = (2 * dot) / vv;
        for (let i = s; i < m; i++) a[oj + i] -= f * a[o + i]!;
      }
    }
    a[o + s] = beta;
    for (let i = s + 1; i < m; i++) a[o + i] = 0;
  }
  const R = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    const o = col(j);
    for (let i = 0; i <= j; i++) R[j * k + i] = a[o + i]!;
  }
  return { R, piv };
}

/** Thin SVD of X (n × d): accurate singular values and the singular vectors of the smaller side. */
export function accurateSvd(X: Matrix): AccurateSvd {
  const { rows: n, cols: d, data } = X;
  const wide = n < d;
  const m = wide ? d : n, k = wide ? n : d;
  // A column-major: A = X (tall) or Xᵀ (wide); either way a[j·m + i] = A[i, j].
  const a = new Float64Array(m * k);
  if (wide) a.set(data.subarray(0, n * d));
  else for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) a[j * n + i] = data[i * d + j]!;
  const { R, piv } = pivotedQr(a, m, k);
  // b = Rᵀ, column-major: column c of Rᵀ is row c of R.
  const b = new Float64Array(k * k);
  for (let j = 0; j < k; j++) for (let i = 0; i <= j; i++) b[i * k + j] = R[j * k + i]!;
  const norm2 = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let t = 0;
    for (let i = 0; i < k; i++) t += b[c * k + i]! ** 2;
    norm2[c] = t;
  }
  const tol = k * EPS;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < k - 1; p++) {
      const op = p * k;
      for (let q = p + 1; q < k; q++) {
        const alpha = norm2[p]!, beta = norm2[q]!;
        if (alpha === 0 || beta === 0) continue;
        const oq = q * k;
        let gamma = 0;
        for (let i = 0; i < k; i++) gamma += b[op + i]! * b[oq + i]!;
        if (Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        let na = 0, nb = 0;
        for (let i = 0; i < k; i++) {
          const x = b[op + i]!, y = b[oq + i]!;
          const x2 = c * x - s * y, y2 = s * x + c * y;
          b[op + i] = x2;
          b[oq + i] = y2;
          na += x2 * x2;
          nb += y2 * y2;
        }
        norm2[p] = na;
        norm2[q] = nb;
      }
    }
    if (!rotated) break;
  }
  const order = Array.from({ length: k }, (_, j) => j).sort((x, y) => norm2[y]! - norm2[x]! || x - y);
  const s = Float64Array.from(order, (j) => Math.sqrt(norm2[j]!));
  // Rᵀ·J = V_R·S: V_R's columns are b's normalised columns; A's are P·V_R.
  const V = zeros(k, k);
  for (let c = 0; c < k; c++) {
    const j = order[c]!;
    const nrm = Math.sqrt(norm2[j]!);
    if (!(nrm > 0)) continue;
    for (let i = 0; i < k; i++) V.data[piv[i]! * k + c] = b[j * k + i]! / nrm;
  }
  return { s, V, wide };
}

/** numpy's matrix_rank rule: singular values above s_max · max(n, d) · ε. */
export function numericalRank(s: ArrayLike<number>, n: number, d: number): number {
  const tol = (s[0] ?? 0) * Math.max(n, d) * EPS;
  let r = 0;
  for (let i = 0; i < s.length; i++) if (s[i]! > tol) r++;
  return r;
}
