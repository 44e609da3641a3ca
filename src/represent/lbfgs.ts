/**
 * Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989) for smooth unconstrained objectives:
 * the two-loop recursion over the last m curvature pairs, initial Hessian scaled by sᵀy / yᵀy,
 * and a backtracking line search with the Armijo condition and cubic/quadratic interpolation
 * (a pair with sᵀy ≤ ε·‖s‖·‖y‖ is skipped, which keeps the inverse-Hessian estimate positive
 * definite without a Wolfe search). Stops when max |gradient| ≤ gtol, when the relative
 * decrease of f falls under ftol (scipy's L-BFGS-B criteria), or after maxIter iterations.
 * Deterministic: no random step.
 */
import { dot } from '../linalg/index.js';

export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  maxIter?: number;
  /** Stop when max |g_i| ≤ gtol. Default 1e-5. */
  gtol?: number;
  /** Stop when (f_prev − f) / max(|f_prev|, |f|, 1) ≤ ftol. Default 2.2e-9 (scipy's factr 1e7). */
  ftol?: number;
  /** Curvature pairs kept. Default 10. */
  memory?: number;
  /** Function evaluations allowed per line search. Default 30. */
  maxLineSearch?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  reason: 'gtol' | 'ftol' | 'maxIter' | 'lineSearch';
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (v > m) m = v;
  }
  return m;
}

/**
 * Backtracking line search from x along dir (Armijo, c1 = 1e-4) with safeguarded quadratic / cubic
 * interpolation, at most maxLs evaluations. xNew and gNew hold the last point tried and its
 * gradient; `ok` says whether it was accepted.
 */
export function backtrack(
  f: Objective, x: Float64Array, dir: Float64Array, fx: number, slope: number, xNew: Float64Array, gNew: Float64Array, maxLs: number,
): { fNew: number; ok: boolean; evaluations: number } {
  const n = x.length;
  let t = 1, fNew = NaN, evaluations = 0;
  let tPrev = 0, fPrev = fx;
  for (let ls = 0; ls < maxLs; ls++) {
    for (let i = 0; i < n; i++) xNew[i] = x[i]! + t * dir[i]!;
    fNew = f(xNew, gNew);
    evaluations++;
    if (Number.isFinite(fNew) && fNew <= fx + 1e-4 * t * slope) return { fNew, ok: true, evaluations };
    let tn: number;
    if (!Number.isFinite(fNew)) tn = 0.1 * t;
    else if (ls === 0 || tPrev === 0) tn = -slope * t * t / (2 * (fNew - fx - slope * t));
    else {
      // Cubic through (0, fx, slope), (t, fNew), (tPrev, fPrev).
      const r1 = fNew - fx - slope * t, r2 = fPrev - fx - slope * tPrev;
      const a = (r1 / (t * t) - r2 / (tPrev * tPrev)) / (t - tPrev);
      const b = (-tPrev * r1 / (t * t) + t * r2 / (tPrev * tPrev)) / (t - tPrev);
      tn = a === 0 ? -slope / (2 * b) : (-b + Math.sqrt(Math.max(b * b - 3 * a * slope, 0))) / (3 * a);
    }
    tPrev = t;
    fPrev = fNew;
    t = Number.isFinite(tn) ? Math.min(Math.max(tn, 0.1 * t), 0.5 * t) : 0.5 * t;
  }
  return { fNew, ok: false, evaluations };
}

/**
 * The loops are fused where one pass can feed the next (the two-loop recursion's update of `dir`
 * with the following dot product; the new pair s, y with sᵀy, sᵀs, yᵀy and max |g|), and the
 * curvature pairs live in kept buffers; every dot product is still its own sequential sum over
 * the same terms in the same order, so the iterates are those of the plain loops to the last bit.
 */
export function lbfgs(f: Objective, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const maxIter = opts.maxIter ?? 100;
  const gtol = opts.gtol ?? 1e-5;
  const ftol = opts.ftol ?? 2.220446049250313e-9;
  const m = opts.memory ?? 10;
  const maxLs = opts.maxLineSearch ?? 30;
  const n = x0.length;
  let x = x0.slice();
  let g = new Float64Array(n);
  let fx = f(x, g);
  let evaluations = 1;
  if (!Number.isFinite(fx)) throw new RangeError('L-BFGS: the objective is not finite at the starting point');
  // Curvature pairs, oldest first, with sᵀy and yᵀy kept for the initial Hessian scale.
  const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [], SY: number[] = [], YY: number[] = [];
  const alpha = new Float64Array(m);
  const dir = new Float64Array(n);
  let xNew = new Float64Array(n), gNew = new Float64Array(n);
  // The buffers the next pair is written to (an evicted pair's once the memory is full).
  let sNext: Float64Array = new Float64Array(n), yNext: Float64Array = new Float64Array(n);
  let iterations = 0;
  let reason: LbfgsResult['reason'] = 'maxIter';
  if (maxAbs(g) <= gtol) return { x, f: fx, iterations: 0, evaluations, converged: true, reason: 'gtol' };
  while (iterations < maxIter) {
    // Two-loop recursion: dir = −H·g; slope = gᵀ·dir.
    const k = S.length;
    let slope: number;
    if (k === 0) {
      const gamma = 1 / Math.max(Math.sqrt(dot(g, g)), 1e-300);
      let acc = 0;
      for (let i = 0; i < n; i++) {
        dir[i] = -g[i]! * gamma;
        acc += g[i]! * dir[i]!;
      }
      slope = acc;
    } else {
      let acc = 0;
      let s = S[k - 1]!;
      for (let i = 0; i < n; i++) {
        dir[i] = -g[i]!;
        acc += s[i]! * dir[i]!;
      }
      for (let j = k - 1; j >= 1; j--) {
        const a = (alpha[j] = rho[j]! * acc);
        const y = Y[j]!;
        s = S[j - 1]!;
        acc = 0;
        for (let i = 0; i < n; i++) {
          dir[i] -= a * y[i]!;
          acc += s[i]! * dir[i]!;
        }
      }
      {
        const a = (alpha[0] = rho[0]! * acc);
        const gamma = SY[k - 1]! / YY[k - 1]!;
        const y = Y[0]!;
        acc = 0;
        for (let i = 0; i < n; i++) {
          dir[i] -= a * y[i]!;
          dir[i] *= gamma;
          acc += y[i]! * dir[i]!;
        }
      }
      for (let j = 0; j < k; j++) {
        const c = alpha[j]! - rho[j]! * acc;
        const sj = S[j]!;
        const next = j + 1 < k ? Y[j + 1]! : g;
        acc = 0;
        for (let i = 0; i < n; i++) {
          dir[i] += sj[i]! * c;
          acc += next[i]! * dir[i]!;
        }
      }
      slope = acc;
    }
    if (!(slope < 0)) {
      // Not a descent direction (numerical loss of curvature information): restart on −g.
      S.length = 0; Y.length = 0; rho.length = 0; SY.length = 0; YY.length = 0;
      const s0 = 1 / Math.max(Math.sqrt(dot(g, g)), 1e-300);
      for (let i = 0; i < n; i++) dir[i] = -g[i]! * s0;
      slope = dot(g, dir);
    }
    const ls = backtrack(f, x, dir, fx, slope, xNew, gNew, maxLs);
    const fNew = ls.fNew, ok = ls.ok;
    evaluations += ls.evaluations;
    iterations++;
    if (!ok) {
      reason = 'lineSearch';
      break;
    }
    const s = sNext, y = yNext;
    let sy = 0, ss = 0, yy = 0, gMax = 0;
    for (let i = 0; i < n; i++) {
      const si = (s[i] = xNew[i]! - x[i]!);
      const yi = (y[i] = gNew[i]! - g[i]!);
      sy += si * yi;
      ss += si * si;
      yy += yi * yi;
      const ga = Math.abs(gNew[i]!);
      if (ga > gMax) gMax = ga;
    }
    if (sy > 1e-10 * Math.sqrt(ss * yy)) {
      if (S.length === m) {
        sNext = S.shift()!; yNext = Y.shift()!;
        rho.shift(); SY.shift(); YY.shift();
      } else {
        sNext = new Float64Array(n); yNext = new Float64Array(n);
      }
      S.push(s); Y.push(y); rho.push(1 / sy); SY.push(sy); YY.push(yy);
    }
    const fOld = fx;
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    fx = fNew;
    if (gMax <= gtol) { reason = 'gtol'; break; }
    if ((fOld - fx) / Math.max(Math.abs(fOld), Math.abs(fx), 1) <= ftol) { reason = 'ftol'; break; }
  }
  return { x, f: fx, iterations, evaluations, converged: reason === 'gtol' || reason === 'ftol', reason };
}
