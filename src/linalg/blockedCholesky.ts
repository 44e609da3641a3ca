/**
 * Cholesky factorisation and solves for large matrices, blocked so that the O(n³) work runs in
 * the gemm kernels (native threads / wasm) rather than in cholesky.ts's row-by-row loops: the
 * right-looking block algorithm of LAPACK's dpotrf (Anderson et al., LAPACK Users' Guide §3.4),
 * with cholesky.ts factoring each diagonal block. Results agree with cholesky.ts to rounding,
 * not bit for bit (the sums run in another order). Used by the span form of LDA, whose n × n
 * systems reach a few thousand rows.
 */
import { type Matrix, zeros } from './matrix.js';
import { cholesky, NotPositiveDefiniteError } from './cholesky.js';
import { gemm, gemmNT, gemmTN, tcrossprod } from './blas.js';

/** Below this order the unblocked factorisation is as fast. */
const BLOCKED_MIN_N = 512;

/** Copy rows [r0, r1) × columns [c0, c1) of the n × n row-major a into a new matrix. */
function block(a: Float64Array, n: number, r0: number, r1: number, c0: number, c1: number): Matrix {
  const m = zeros(r1 - r0, c1 - c0);
  const w = c1 - c0;
  for (let i = r0; i < r1; i++) m.data.set(a.subarray(i * n + c0, i * n + c1), (i - r0) * w);
  return m;
}

/** Inverse of a small lower-triangular matrix (forward substitution on the identity). */
export function lowerInverse(L: Matrix): Matrix {
  const t = L.rows, l = L.data;
  const M = zeros(t, t), m = M.data;
  // Column c is forward substitution on e_c: v[i] = −(Σ_{k=c}^{i−1} L[i][k]·v[k]) / L[i][i]. Four
  // columns run side by side, each in its own contiguous vector and each sum still taken from
  // k = c upward (the same sums in the same order as one column at a time), so the four chains of
  // dependent additions overlap instead of waiting on each other.
  const vs = [new Float64Array(t), new Float64Array(t), new Float64Array(t), new Float64Array(t)] as const;
  const [v0, v1, v2, v3] = vs;
  for (let c0 = 0; c0 < t; c0 += 4) {
    const nc = Math.min(4, t - c0), top = c0 + nc;
    // Rows c0 … top − 1, one column at a time.
    for (let j = 0; j < nc; j++) {
      const v = vs[j]!, c = c0 + j;
      v[c] = 1 / l[c * t + c]!;
      for (let i = c + 1; i < top; i++) {
        let s = 0;
        for (let k = c; k < i; k++) s += l[i * t + k]! * v[k]!;
        v[i] = -s / l[i * t + i]!;
      }
    }
    // Rows below: the four sums together (a last group of fewer columns goes one at a time).
    for (let i = top; i < t; i++) {
      const o = i * t, d = l[o + i]!;
      if (nc === 4) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        s0 += l[o + c0]! * v0[c0]!;
        s0 += l[o + c0 + 1]! * v0[c0 + 1]!;
        s1 += l[o + c0 + 1]! * v1[c0 + 1]!;
        s0 += l[o + c0 + 2]! * v0[c0 + 2]!;
        s1 += l[o + c0 + 2]! * v1[c0 + 2]!;
        s2 += l[o + c0 + 2]! * v2[c0 + 2]!;
        for (let k = c0 + 3; k < i; k++) {
          const a = l[o + k]!;
          s0 += a * v0[k]!;
          s1 += a * v1[k]!;
          s2 += a * v2[k]!;
          s3 += a * v3[k]!;
        }
        v0[i] = -s0 / d;
        v1[i] = -s1 / d;
        v2[i] = -s2 / d;
        v3[i] = -s3 / d;
      } else {
        for (let j = 0; j < nc; j++) {
          const v = vs[j]!;
          let s = 0;
          for (let k = c0 + j; k < i; k++) s += l[o + k]! * v[k]!;
          v[i] = -s / d;
        }
      }
    }
    for (let j = 0; j < nc; j++) {
      const v = vs[j]!, c = c0 + j;
      for (let i = c; i < t; i++) m[i * t + c] = v[i]!;
    }
  }
  return M;
}

/**
 * Lower Cholesky factor L of a symmetric positive-definite A (only its lower triangle is read);
 * entries above L's diagonal are zero. Throws NotPositiveDefiniteError with the global pivot index.
 */
export function choleskyBlocked(A: Matrix, nb = 256): Matrix {
  const n = A.rows;
  if (A.cols !== n) throw new RangeError(`choleskyBlocked: matrix is ${A.rows}×${A.cols}, not square`);
  if (n < BLOCKED_MIN_N) return cholesky(A);
  const a = A.data.slice();
  for (let k0 = 0; k0 < n; k0 += nb) {
    const k1 = Math.min(n, k0 + nb), b = k1 - k0;
    let L11: Matrix;
    try {
      L11 = cholesky(block(a, n, k0, k1, k0, k1));
    } catch (e) {
      if (e instanceof NotPositiveDefiniteError) throw new NotPositiveDefiniteError(k0 + e.pivot, e.value);
      throw e;
    }
    for (let i = 0; i < b; i++) {
      const ro = (k0 + i) * n + k0;
      for (let j = 0; j < b; j++) a[ro + j] = j <= i ? L11.data[i * b + j]! : 0;
    }
    if (k1 === n) break;
    // L21 = A21·L11⁻ᵀ, then the trailing A22 −= L21·L21ᵀ (lower triangle only is needed).
    const L21 = gemmNT(block(a, n, k1, n, k0, k1), lowerInverse(L11));
    const m = n - k1;
    for (let i = 0; i < m; i++) a.set(L21.data.subarray(i * b, (i + 1) * b), (k1 + i) * n + k0);
    const U = tcrossprod(L21);
    for (let i = 0; i < m; i++) {
      const ro = (k1 + i) * n + k1, uo = i * m;
      for (let j = 0; j <= i; j++) a[ro + j] -= U.data[uo + j]!;
    }
  }
  for (let i = 0; i < n; i++) a.fill(0, i * n + i + 1, (i + 1) * n);
  return { rows: n, cols: n, data: a };
}

/** Solve A·X = B (B: n × m) from A's lower Cholesky factor L, by blocks of rows. */
export function choleskySolveBlocked(L: Matrix, B: Matrix, nb = 256): Matrix {
  const n = L.rows, m = B.cols;
  if (B.rows !== n) throw new RangeError(`choleskySolveBlocked: B has ${B.rows} rows, L is ${n}×${n}`);
  const l = L.data;
  const X = zeros(n, m);
  X.data.set(B.data);
  const x = X.data;
  const inverses: Matrix[] = [];
  // Forward: Y_i = L_ii⁻¹·(B_i − L_i,<i·Y_<i).
  for (let k0 = 0; k0 < n; k0 += nb) {
    const k1 = Math.min(n, k0 + nb), b = k1 - k0;
    const Xi: Matrix = { rows: b, cols: m, data: x.subarray(k0 * m, k1 * m) };
    if (k0 > 0) {
      const P = gemm(block(l, n, k0, k1, 0, k0), { rows: k0, cols: m, data: x.subarray(0, k0 * m) });
      for (let t = 0; t < b * m; t++) Xi.data[t] -= P.data[t]!;
    }
    const inv = lowerInverse(block(l, n, k0, k1, k0, k1));
    inverses.push(inv);
    Xi.data.set(gemm(inv, Xi).data);
  }
  // Backward: X_i = L_iiᵀ⁻¹·(Y_i − L_>i,iᵀ·X_>i).
  for (let k0 = Math.floor((n - 1) / nb) * nb; k0 >= 0; k0 -= nb) {
    const k1 = Math.min(n, k0 + nb), b = k1 - k0;
    const Xi: Matrix = { rows: b, cols: m, data: x.subarray(k0 * m, k1 * m) };
    if (k1 < n) {
      const P = gemmTN(block(l, n, k1, n, k0, k1), { rows: n - k1, cols: m, data: x.subarray(k1 * m, n * m) });
      for (let t = 0; t < b * m; t++) Xi.data[t] -= P.data[t]!;
    }
    Xi.data.set(gemmTN(inverses[k0 / nb]!, Xi).data);
  }
  return X;
}
