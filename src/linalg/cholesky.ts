/**
 * Cholesky factorisation A = L·Lᵀ (L lower triangular) and triangular solves.
 * Row-oriented (Cholesky–Crout): every inner loop is a dot product of two contiguous row prefixes.
 */
import { type Matrix, zeros } from './matrix.js';

export class NotPositiveDefiniteError extends Error {
  override readonly name = 'NotPositiveDefiniteError';
  constructor(readonly pivot: number, readonly value: number) {
    super(`matrix is not positive definite (pivot ${pivot} is ${value.toPrecision(4)})`);
  }
}

/** Lower Cholesky factor of a symmetric positive-definite matrix (only the lower triangle of A is read). */
export function cholesky(A: Matrix, out?: Matrix): Matrix {
  const n = A.rows;
  if (A.cols !== n) throw new RangeError(`cholesky: matrix is ${A.rows}×${A.cols}, not square`);
  const L = out ?? zeros(n, n);
  const a = A.data, l = L.data;
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= l[ri + k]! * l[rj + k]!;
      if (i === j) {
        if (!(s > 0)) throw new NotPositiveDefiniteError(i, s);
        l[ri + i] = Math.sqrt(s);
      } else {
        l[ri + j] = s / l[rj + j]!;
      }
    }
    for (let j = i + 1; j < n; j++) l[ri + j] = 0;
  }
  return L;
}

/** Solve L·y = b (forward substitution), in place in `out` (may alias b). */
export function forwardSubstitute(L: Matrix, b: ArrayLike<number>, out?: Float64Array): Float64Array {
  const n = L.rows, l = L.data;
  const y = out ?? new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[ri + k]! * y[k]!;
    y[i] = s / l[ri + i]!;
  }
  return y;
}

/** Solve Lᵀ·x = y (back substitution with the lower factor), in place in `out` (may alias y). */
export function backSubstituteT(L: Matrix, y: ArrayLike<number>, out?: Float64Array): Float64Array {
  const n = L.rows, l = L.data;
  const x = out ?? new Float64Array(n);
  if (x !== y) for (let i = 0; i < n; i++) x[i] = y[i]!;
  // Column-oriented on Lᵀ = row-oriented on L: subtract x[i]·L[i, k] from x[k] for k < i.
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    const xi = x[i]! / l[ri + i]!;
    x[i] = xi;
    for (let k = 0; k < i; k++) x[k] -= l[ri + k]! * xi;
  }
  return x;
}

/** Solve A·x = b given the lower Cholesky factor L of A. */
export function choleskySolve(L: Matrix, b: ArrayLike<number>, out?: Float64Array): Float64Array {
  const y = forwardSubstitute(L, b, out);
  return backSubstituteT(L, y, y);
}

/** Solve A·X = B (B: n×m, columns are right-hand sides) given L. */
export function choleskySolveMatrix(L: Matrix, B: Matrix): Matrix {
  const n = L.rows, m = B.cols;
  if (B.rows !== n) throw new RangeError(`choleskySolveMatrix: B has ${B.rows} rows, L is ${n}×${n}`);
  const X = zeros(n, m);
  const l = L.data, x = X.data;
  x.set(B.data);
  // Forward: rows of X updated together so the inner loop runs along contiguous rows of X.
  for (let i = 0; i < n; i++) {
    const ri = i * n, xi = i * m;
    for (let k = 0; k < i; k++) {
      const lik = l[ri + k]!;
      if (lik === 0) continue;
      const xk = k * m;
      for (let c = 0; c < m; c++) x[xi + c] -= lik * x[xk + c]!;
    }
    const d = 1 / l[ri + i]!;
    for (let c = 0; c < m; c++) x[xi + c] *= d;
  }
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n, xi = i * m;
    const d = 1 / l[ri + i]!;
    for (let c = 0; c < m; c++) x[xi + c] *= d;
    for (let k = 0; k < i; k++) {
      const lik = l[ri + k]!;
      if (lik === 0) continue;
      const xk = k * m;
      for (let c = 0; c < m; c++) x[xk + c] -= lik * x[xi + c]!;
    }
  }
  return X;
}

/** A⁻¹ from its lower Cholesky factor. */
export function choleskyInverse(L: Matrix): Matrix {
  const n = L.rows;
  const I = zeros(n, n);
  for (let i = 0; i < n; i++) I.data[i * n + i] = 1;
  const inv = choleskySolveMatrix(L, I);
  // Symmetrise away rounding asymmetry.
  const d = inv.data;
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) {
    const v = 0.5 * (d[i * n + j]! + d[j * n + i]!);
    d[i * n + j] = v; d[j * n + i] = v;
  }
  return inv;
}

/** log|A| from its Cholesky factor. */
export function choleskyLogDet(L: Matrix): number {
  let s = 0;
  for (let i = 0; i < L.rows; i++) s += Math.log(L.data[i * L.rows + i]!);
  return 2 * s;
}
