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
import { native } from './native.js';

/** Below this order the unblocked factorisation is as fast. */
const BLOCKED_MIN_N = 512;

/** Copy rows [r0, r1) × columns [c0, c1) of the n × n row-major a into a new matrix. */
function block(a: Float64Array, n: number, r0: number, r1: number, c0: number, c1: number): Matrix {
  const m = zeros(r1 - r0, c1 - c0);
  const w = c1 - c0;
  for (let i = r0; i < r1; i++) m.data.set(a.subarray(i * n + c0, i * n + c1), (i - r0) * w);
  return m;
}

/** Below this order the native call costs more than it saves. */
const NATIVE_INVERSE_MIN = 16;

/**
 * Inverse of a small lower-triangular matrix (forward substitution on the identity): natively
 * when the addon is built (the same operations in the same order, so the same bits), else
 * `lowerInverseJs`.
 */
export function lowerInverse(L: Matrix): Matrix {
  const t = L.rows;
  const nat = t >= NATIVE_INVERSE_MIN ? native() : null;
  if (!nat) return lowerInverseJs(L);
  const M = zeros(t, t);
  nat.lowerInverse(L.data, M.data, t);
  return M;
}

/** The JavaScript twin of the native lowerInverse. */
export function lowerInverseJs(L: Matrix): Matrix {
  const t = L.rows, l = L.data;
  const M = zeros(t, t), m = M.data;
  // Column c is forward substitution on e_c: v[i] = −(Σ_{k=c}^{i−1} L[i][k]·v[k]) / L[i][i]. Eight
  // columns run side by side, each in its own contiguous row of V and each sum still taken from
  // k = c upward (the same sums in the same order as one column at a time), so eight chains of
  // dependent additions overlap instead of waiting on each other (about 3× faster at t = 256).
  const W = 8;
  const V = new Float64Array(W * t);
  for (let c0 = 0; c0 < t; c0 += W) {
    const nc = Math.min(W, t - c0), top = c0 + nc;
    // Rows c0 … top − 1, one column at a time.
    for (let j = 0; j < nc; j++) {
      const c = c0 + j, vo = j * t;
      V[vo + c] = 1 / l[c * t + c]!;
      for (let i = c + 1; i < top; i++) {
        let s = 0;
        for (let k = c; k < i; k++) s += l[i * t + k]! * V[vo + k]!;
        V[vo + i] = -s / l[i * t + i]!;
      }
    }
    for (let i = top; i < t; i++) {
      const o = i * t, d = l[o + i]!;
      if (nc < W) {
        // The last, narrower group: one column at a time.
        for (let j = 0; j < nc; j++) {
          const vo = j * t;
          let s = 0;
          for (let k = c0 + j; k < i; k++) s += l[o + k]! * V[vo + k]!;
          V[vo + i] = -s / d;
        }
        continue;
      }
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      // Column c0 + j's sum starts at k = c0 + j.
      for (let k = c0; k < top - 1; k++) {
        const a = l[o + k]!, r = k - c0;
        s0 += a * V[k]!;
        if (r >= 1) s1 += a * V[t + k]!;
        if (r >= 2) s2 += a * V[2 * t + k]!;
        if (r >= 3) s3 += a * V[3 * t + k]!;
        if (r >= 4) s4 += a * V[4 * t + k]!;
        if (r >= 5) s5 += a * V[5 * t + k]!;
        if (r >= 6) s6 += a * V[6 * t + k]!;
      }
      for (let k = top - 1; k < i; k++) {
        const a = l[o + k]!;
        s0 += a * V[k]!;
        s1 += a * V[t + k]!;
        s2 += a * V[2 * t + k]!;
        s3 += a * V[3 * t + k]!;
        s4 += a * V[4 * t + k]!;
        s5 += a * V[5 * t + k]!;
        s6 += a * V[6 * t + k]!;
        s7 += a * V[7 * t + k]!;
      }
      V[i] = -s0 / d;
      V[t + i] = -s1 / d;
      V[2 * t + i] = -s2 / d;
      V[3 * t + i] = -s3 / d;
      V[4 * t + i] = -s4 / d;
      V[5 * t + i] = -s5 / d;
      V[6 * t + i] = -s6 / d;
      V[7 * t + i] = -s7 / d;
    }
    for (let j = 0; j < nc; j++) {
      const c = c0 + j, vo = j * t;
      for (let i = c; i < t; i++) m[i * t + c] = V[vo + i]!;
    }
  }
  return M;
}

/**
 * Lower Cholesky factor L of a symmetric positive-definite A (only its lower triangle is read);
 * entries above L's diagonal are zero. Throws NotPositiveDefiniteError with the global pivot index.
 * `out` (a zeroed n × n matrix) receives L below BLOCKED_MIN_N, where the unblocked factorisation runs.
 */
export function choleskyBlocked(A: Matrix, nb = 256, out?: Matrix): Matrix {
  const n = A.rows;
  if (A.cols !== n) throw new RangeError(`choleskyBlocked: matrix is ${A.rows}×${A.cols}, not square`);
  if (n < BLOCKED_MIN_N) return cholesky(A, out);
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
    // One block (n ≤ nb): L itself, not a copy of it.
    const inv = lowerInverse(k0 === 0 && k1 === n ? L : block(l, n, k0, k1, k0, k1));
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
