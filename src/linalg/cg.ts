/**
 * Conjugate gradient for a symmetric positive-definite operator with several right-hand sides.
 *
 * The k systems A·x_c = b_c are iterated in lockstep (one CG recurrence per column, each with
 * its own step sizes) so that the operator is applied to a whole n×k block at once: for
 * A = FᵀF + λI that is two dense matrix products per iteration instead of 2k matrix-vector
 * products, which is what makes wide side information tractable (Macau's block CG does the same).
 * Columns that have converged are frozen. Reference: Hestenes & Stiefel (1952); Saad,
 * "Iterative Methods for Sparse Linear Systems", alg. 6.18.
 */
import { type Matrix, zeros } from './matrix.js';

export interface CgOptions {
  /** Relative residual ‖b − A x‖ / ‖b‖ at which a column stops (default 1e-8). */
  tol?: number;
  /** Iteration cap (default: n, the exact-arithmetic bound). */
  maxIter?: number;
  /** Starting point (n×k), e.g. the previous solution in a sampler; default zeros. Not modified. */
  x0?: Matrix;
}

export interface CgResult {
  X: Matrix;
  iterations: number;
  /** Final relative residual per column. */
  relResidual: Float64Array;
}

/**
 * Solve A·X = B for SPD A given only `apply(P, out)` which writes A·P (n×k) into `out`.
 */
export function conjugateGradient(
  apply: (P: Matrix, out: Matrix) => void,
  B: Matrix,
  opts: CgOptions = {},
): CgResult {
  const n = B.rows, k = B.cols;
  const tol = opts.tol ?? 1e-8;
  const maxIter = opts.maxIter ?? Math.max(n, 1);
  const X = zeros(n, k);
  if (opts.x0) {
    if (opts.x0.rows !== n || opts.x0.cols !== k) throw new RangeError('conjugateGradient: x0 shape differs from B');
    X.data.set(opts.x0.data);
  }
  const R = zeros(n, k), P = zeros(n, k), AP = zeros(n, k);
  const x = X.data, r = R.data, p = P.data, ap = AP.data, b = B.data;
  // r = b − A x0
  if (opts.x0) {
    apply(X, AP);
    for (let t = 0; t < n * k; t++) r[t] = b[t]! - ap[t]!;
  } else {
    r.set(b);
  }
  p.set(r);
  const rr = colNorms2(r, n, k);
  const bnorm = colNorms2(b, n, k).map((v) => Math.sqrt(v) || 1);
  const active = new Uint8Array(k);
  const rel = new Float64Array(k);
  let nActive = 0;
  for (let c = 0; c < k; c++) {
    rel[c] = Math.sqrt(rr[c]!) / bnorm[c]!;
    if (rel[c]! > tol) { active[c] = 1; nActive++; }
  }
  const alpha = new Float64Array(k), pap = new Float64Array(k);
  let it = 0;
  while (nActive > 0 && it < maxIter) {
    it++;
    apply(P, AP);
    pap.fill(0);
    for (let i = 0; i < n; i++) {
      const o = i * k;
      for (let c = 0; c < k; c++) pap[c] += p[o + c]! * ap[o + c]!;
    }
    for (let c = 0; c < k; c++) alpha[c] = active[c] && pap[c]! > 0 ? rr[c]! / pap[c]! : 0;
    const rrNew = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const o = i * k;
      for (let c = 0; c < k; c++) {
        const a = alpha[c]!;
        x[o + c] += a * p[o + c]!;
        const rv = r[o + c]! - a * ap[o + c]!;
        r[o + c] = rv;
        rrNew[c] += rv * rv;
      }
    }
    const beta = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      if (!active[c]) continue;
      rel[c] = Math.sqrt(rrNew[c]!) / bnorm[c]!;
      if (rel[c]! <= tol || !(pap[c]! > 0)) { active[c] = 0; nActive--; continue; }
      beta[c] = rrNew[c]! / rr[c]!;
      rr[c] = rrNew[c]!;
    }
    for (let i = 0; i < n; i++) {
      const o = i * k;
      for (let c = 0; c < k; c++) p[o + c] = active[c] ? r[o + c]! + beta[c]! * p[o + c]! : 0;
    }
  }
  return { X, iterations: it, relResidual: rel };
}

function colNorms2(a: Float64Array, n: number, k: number): Float64Array {
  const s = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    for (let c = 0; c < k; c++) s[c] += a[o + c]! * a[o + c]!;
  }
  return s;
}
