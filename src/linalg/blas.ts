/**
 * Dense matrix products on row-major Float64Array — the kernels everything else calls.
 *
 * All products funnel into one register-blocked kernel, C = A·Bᵀ ("NT"): in row-major storage both
 * operands are then read along contiguous rows, and a 4×4 block of C reuses each loaded value four
 * times. B is walked in panels that fit in L2 so its rows stay cached while A streams past.
 * Other shapes (A·B, Aᵀ·B, XᵀX) transpose once (O(n²)) and call the same kernel (O(n³)).
 */
import { type Matrix, zeros, transpose } from './matrix.js';

const PANEL = 64; // rows of B per panel: 64 × d × 8 bytes stays in L2 for d up to a few thousand

function checkInner(a: number, b: number, what: string): void {
  if (a !== b) throw new RangeError(`${what}: inner dimensions differ (${a} vs ${b})`);
}

/**
 * C[i0..i1, j0..j1] = A[i]·B[j] over k. Shared by gemmNT and the symmetric variant.
 * `symmetric` computes only j ≥ i blocks (the caller mirrors).
 */
function ntKernel(
  a: Float64Array, b: Float64Array, c: Float64Array,
  m: number, n: number, k: number, ldc: number, symmetric: boolean,
  iStart = 0, iEnd = m,
): void {
  for (let jp = 0; jp < n; jp += PANEL) {
    const jpEnd = Math.min(n, jp + PANEL);
    let i = iStart;
    for (; i + 3 < iEnd; i += 4) {
      if (symmetric && jpEnd <= i) continue;
      const a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
      let j = symmetric ? Math.max(jp, i - (i % 4)) : jp;
      for (; j + 3 < jpEnd; j += 4) {
        const b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let p = 0; p < k; p++) {
          const x0 = a[a0 + p]!, x1 = a[a1 + p]!, x2 = a[a2 + p]!, x3 = a[a3 + p]!;
          const y0 = b[b0 + p]!, y1 = b[b1 + p]!, y2 = b[b2 + p]!, y3 = b[b3 + p]!;
          c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
          c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
          c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
          c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
        }
        let o = i * ldc + j;
        c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; o += ldc;
        c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13; o += ldc;
        c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23; o += ldc;
        c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33;
      }
      for (; j < jpEnd; j++) {
        const b0 = j * k;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let p = 0; p < k; p++) {
          const y = b[b0 + p]!;
          s0 += a[a0 + p]! * y; s1 += a[a1 + p]! * y; s2 += a[a2 + p]! * y; s3 += a[a3 + p]! * y;
        }
        c[i * ldc + j] = s0; c[(i + 1) * ldc + j] = s1; c[(i + 2) * ldc + j] = s2; c[(i + 3) * ldc + j] = s3;
      }
    }
    for (; i < iEnd; i++) {
      const a0 = i * k;
      for (let j = symmetric ? Math.max(jp, i) : jp; j < jpEnd; j++) {
        const b0 = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[a0 + p]! * b[b0 + p]!;
        c[i * ldc + j] = s;
      }
    }
  }
}

/** C = A·Bᵀ (A: m×k, B: n×k). */
export function gemmNT(A: Matrix, B: Matrix, out?: Matrix): Matrix {
  checkInner(A.cols, B.cols, 'gemmNT');
  const C = out ?? zeros(A.rows, B.rows);
  ntKernel(A.data, B.data, C.data, A.rows, B.rows, A.cols, B.rows, false);
  return C;
}

/** C = A·B (A: m×k, B: k×n). */
export function gemm(A: Matrix, B: Matrix, out?: Matrix): Matrix {
  checkInner(A.cols, B.rows, 'gemm');
  return gemmNT(A, transpose(B), out);
}

/** C = Aᵀ·B (A: k×m, B: k×n). */
export function gemmTN(A: Matrix, B: Matrix, out?: Matrix): Matrix {
  checkInner(A.rows, B.rows, 'gemmTN');
  return gemmNT(transpose(A), transpose(B), out);
}

/** X·Xᵀ (rows × rows), symmetric: computes one triangle and mirrors it. */
export function tcrossprod(X: Matrix): Matrix {
  const n = X.rows;
  const C = zeros(n, n);
  const c = C.data;
  ntKernel(X.data, X.data, c, n, n, X.cols, n, true);
  for (let i = 1; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j < i; j++) c[ri + j] = c[j * n + i]!;
  }
  return C;
}

/** Xᵀ·X (cols × cols), symmetric. */
export function crossprod(X: Matrix): Matrix {
  return tcrossprod(transpose(X));
}

/** y = A·x. */
export function matvec(A: Matrix, x: ArrayLike<number>, out?: Float64Array): Float64Array {
  if (x.length !== A.cols) throw new RangeError(`matvec: vector has ${x.length} values, matrix has ${A.cols} columns`);
  const y = out ?? new Float64Array(A.rows);
  const a = A.data, k = A.cols;
  for (let i = 0; i < A.rows; i++) {
    const o = i * k;
    let s = 0;
    for (let p = 0; p < k; p++) s += a[o + p]! * x[p]!;
    y[i] = s;
  }
  return y;
}

/** y = Aᵀ·x (without forming Aᵀ). */
export function matvecT(A: Matrix, x: ArrayLike<number>, out?: Float64Array): Float64Array {
  if (x.length !== A.rows) throw new RangeError(`matvecT: vector has ${x.length} values, matrix has ${A.rows} rows`);
  const y = out ?? new Float64Array(A.cols);
  y.fill(0);
  const a = A.data, k = A.cols;
  for (let i = 0; i < A.rows; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const o = i * k;
    for (let p = 0; p < k; p++) y[p] += a[o + p]! * xi;
  }
  return y;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** In-place y += alpha·x. */
export function axpy(alpha: number, x: ArrayLike<number>, y: Float64Array): Float64Array {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i]!;
  return y;
}

/** A + alpha·B as a new matrix. */
export function addScaled(A: Matrix, B: Matrix, alpha = 1): Matrix {
  if (A.rows !== B.rows || A.cols !== B.cols) throw new RangeError('addScaled: shapes differ');
  const out = zeros(A.rows, A.cols);
  const o = out.data, a = A.data, b = B.data;
  for (let i = 0; i < o.length; i++) o[i] = a[i]! + alpha * b[i]!;
  return out;
}
