/**
 * Cholesky factorisation A = L·Lᵀ (L lower triangular) and triangular solves.
 * Row-oriented (Cholesky–Crout): every inner loop is a dot product of two contiguous row prefixes.
 */
import { type Matrix, zeros } from './matrix.js';
import { wasm, wasmF64, wasmReserve } from './wasm/runtime.js';

export class NotPositiveDefiniteError extends Error {
  override readonly name = 'NotPositiveDefiniteError';
  constructor(readonly pivot: number, readonly value: number) {
    super(`matrix is not positive definite (pivot ${pivot} is ${value.toPrecision(4)})`);
  }
}

/** Below this order the copy into wasm memory costs more than it saves. */
const WASM_MIN_N = 24;

/**
 * Lower Cholesky factor of a symmetric positive-definite matrix (only the lower triangle of A is read).
 *
 * Row i is built in groups of four columns j0…j0+3: their four dot products over the common
 * prefix p < j0 share the loads of row i and run as two interleaved partial sums (even and odd p,
 * combined as even + odd) — independent accumulators that break the add-latency chain — then the
 * in-group terms p = j0…j−1 are subtracted in order. The wasm kernel `chol` performs exactly these
 * operations (f64x2 lanes = the two partial sums), so both paths agree bit for bit.
 */
export function cholesky(A: Matrix, out?: Matrix): Matrix {
  const n = A.rows;
  if (A.cols !== n) throw new RangeError(`cholesky: matrix is ${A.rows}×${A.cols}, not square`);
  const L = out ?? zeros(n, n);
  if (wasm && n >= WASM_MIN_N && wasmReserve((n * n + 8) * 8)) {
    const mem = wasmF64();
    const scratch = n * n;
    mem.set(A.data.subarray(0, n * n), 0);
    const piv = wasm.chol(0, n, scratch * 8);
    if (piv >= 0) throw new NotPositiveDefiniteError(piv, mem[scratch]!);
    L.data.set(mem.subarray(0, n * n));
    return L;
  }
  choleskyJs(A.data, L.data, n);
  return L;
}

function choleskyJs(a: Float64Array, l: Float64Array, n: number): void {
  const dots = new Float64Array(4);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j0 = 0; j0 <= i; j0 += 4) {
      const cnt = Math.min(4, i + 1 - j0);
      const r0 = j0 * n;
      const r1 = cnt > 1 ? r0 + n : ri, r2 = cnt > 2 ? r1 + n : ri, r3 = cnt > 3 ? r2 + n : ri;
      let e0 = 0, o0 = 0, e1 = 0, o1 = 0, e2 = 0, o2 = 0, e3 = 0, o3 = 0;
      for (let p = 0; p < j0; p += 2) {
        const x0 = l[ri + p]!, x1 = l[ri + p + 1]!;
        e0 += x0 * l[r0 + p]!; o0 += x1 * l[r0 + p + 1]!;
        e1 += x0 * l[r1 + p]!; o1 += x1 * l[r1 + p + 1]!;
        e2 += x0 * l[r2 + p]!; o2 += x1 * l[r2 + p + 1]!;
        e3 += x0 * l[r3 + p]!; o3 += x1 * l[r3 + p + 1]!;
      }
      dots[0] = e0 + o0; dots[1] = e1 + o1; dots[2] = e2 + o2; dots[3] = e3 + o3;
      for (let q = 0; q < cnt; q++) {
        const jj = j0 + q, rq = jj * n;
        let s = a[ri + jj]! - dots[q]!;
        for (let t = j0; t < jj; t++) s -= l[ri + t]! * l[rq + t]!;
        if (jj < i) {
          l[ri + jj] = s / l[rq + jj]!;
        } else {
          if (!(s > 0)) throw new NotPositiveDefiniteError(i, s);
          l[ri + i] = Math.sqrt(s);
        }
      }
    }
    for (let j = i + 1; j < n; j++) l[ri + j] = 0;
  }
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
