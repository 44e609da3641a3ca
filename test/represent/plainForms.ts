/**
 * The plain forms the faster LMNN objective (represent/lmnn.ts `LmnnObjective`, `lmnnBestScale`) and
 * the fused L-BFGS loops (represent/lbfgs.ts) must equal to the last bit: a dense n × n weight
 * matrix, its Laplacian and two dense products per evaluation; a full sort of the breakpoints; the
 * two-loop recursion with one pass per dot product and per update. Kept as they were before the
 * speed-ups (issue 24), for the tests only.
 */
import { type Matrix, zeros, gemm, gemmNT, gemmTN, squaredDistances } from '../../src/linalg/index.js';
import { backtrack, type LbfgsOptions, type LbfgsResult, type Objective } from '../../src/represent/lbfgs.js';

export function plainLossGrad(X: Matrix, cls: Int32Array, targets: Int32Array, k: number, L: Matrix, pushWeight = 0.5): { loss: number; gradient: Matrix; active: number } {
  const n = X.rows;
  const Y = gemmNT(X, L);
  const D = squaredDistances(Y).data;
  const W = zeros(n, n);
  const w = W.data;
  const pull = 1 - pushWeight, mu = pushWeight;
  let lossPull = 0, lossPush = 0, active = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let t = 0; t < k; t++) {
      const j = targets[i * k + t]!;
      if (j < 0) continue;
      const dij = D[row + j]!;
      lossPull += dij;
      w[row + j] += pull;
      const radius = 1 + dij;
      for (let l = 0; l < n; l++) {
        if (cls[l] === cls[i]) continue;
        const dil = D[row + l]!;
        if (dil < radius) {
          lossPush += radius - dil;
          active++;
          w[row + j] += mu;
          w[row + l] -= mu;
        }
      }
    }
  }
  for (let a = 0; a < n; a++) {
    let s = 0;
    for (let b = 0; b < n; b++) if (b !== a) s += w[a * n + b]! + w[b * n + a]!;
    w[a * n + a] = s;
  }
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const v = -(w[a * n + b]! + w[b * n + a]!);
      w[a * n + b] = v;
      w[b * n + a] = v;
    }
  }
  const T = gemmTN(Y, W);
  const gradient = gemm(T, X);
  for (let i = 0; i < gradient.data.length; i++) gradient.data[i] *= 2;
  return { loss: pull * lossPull + mu * lossPush, gradient, active };
}

export function plainBestScale(X: Matrix, cls: Int32Array, targets: Int32Array, k: number, L: Matrix, pushWeight = 0.5): number {
  const n = X.rows;
  const D = squaredDistances(gemmNT(X, L)).data;
  const mu = pushWeight;
  let slope = 0;
  const pos: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let t = 0; t < k; t++) {
      const j = targets[i * k + t]!;
      if (j < 0) continue;
      const dij = D[row + j]!;
      slope += (1 - mu) * dij;
      for (let l = 0; l < n; l++) {
        if (cls[l] === cls[i]) continue;
        const delta = D[row + l]! - dij;
        slope -= mu * delta;
        if (delta > 0) pos.push(delta);
      }
    }
  }
  if (slope >= 0) return 0;
  pos.sort((a, b) => b - a);
  for (const delta of pos) {
    slope += mu * delta;
    if (slope >= 0) return 1 / delta;
  }
  return 0;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (v > m) m = v;
  }
  return m;
}

export function lbfgsPlain(f: Objective, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
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
  const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [];
  const alpha = new Float64Array(m);
  const dir = new Float64Array(n);
  let xNew = new Float64Array(n), gNew = new Float64Array(n);
  let iterations = 0;
  let reason: LbfgsResult['reason'] = 'maxIter';
  if (maxAbs(g) <= gtol) return { x, f: fx, iterations: 0, evaluations, converged: true, reason: 'gtol' };
  while (iterations < maxIter) {
    // Two-loop recursion: dir = −H·g.
    for (let i = 0; i < n; i++) dir[i] = -g[i]!;
    const k = S.length;
    for (let j = k - 1; j >= 0; j--) {
      alpha[j] = rho[j]! * dot(S[j]!, dir);
      const y = Y[j]!;
      for (let i = 0; i < n; i++) dir[i] -= alpha[j]! * y[i]!;
    }
    let gamma = 1;
    if (k) gamma = dot(S[k - 1]!, Y[k - 1]!) / dot(Y[k - 1]!, Y[k - 1]!);
    else gamma = 1 / Math.max(Math.sqrt(dot(g, g)), 1e-300);
    for (let i = 0; i < n; i++) dir[i] *= gamma;
    for (let j = 0; j < k; j++) {
      const beta = rho[j]! * dot(Y[j]!, dir);
      const s = S[j]!;
      for (let i = 0; i < n; i++) dir[i] += s[i]! * (alpha[j]! - beta);
    }
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // Not a descent direction (numerical loss of curvature information): restart on −g.
      S.length = 0; Y.length = 0; rho.length = 0;
      const s0 = 1 / Math.max(Math.sqrt(dot(g, g)), 1e-300);
      for (let i = 0; i < n; i++) dir[i] = -g[i]! * s0;
      slope = dot(g, dir);
    }
    // The line search is not part of the speed-up: the production one (represent/lbfgs.ts).
    const ls = backtrack(f, x, dir, fx, slope, xNew, gNew, maxLs);
    const fNew = ls.fNew, ok = ls.ok;
    evaluations += ls.evaluations;
    iterations++;
    if (!ok) {
      reason = 'lineSearch';
      break;
    }
    const s = new Float64Array(n), y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-10 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (S.length === m) { S.shift(); Y.shift(); rho.shift(); }
      S.push(s); Y.push(y); rho.push(1 / sy);
    }
    const fOld = fx;
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    fx = fNew;
    if (maxAbs(g) <= gtol) { reason = 'gtol'; break; }
    if ((fOld - fx) / Math.max(Math.abs(fOld), Math.abs(fx), 1) <= ftol) { reason = 'ftol'; break; }
  }
  return { x, f: fx, iterations, evaluations, converged: reason === 'gtol' || reason === 'ftol', reason };
}
