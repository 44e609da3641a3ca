/**
 * Large-margin nearest neighbour metric learning (Weinberger & Saul 2009): a linear map L (k × d)
 * under which every row's k *target neighbours* (its nearest same-class rows in the input space,
 * fixed before learning) are pulled close, and every differently labelled row (an *impostor*)
 * is pushed at least one unit of squared distance further away than each target neighbour:
 *
 *   f(L) = (1 − μ)·Σ_i Σ_{j ∈ N(i)} d_ij + μ·Σ_i Σ_{j ∈ N(i)} Σ_{l: c(l) ≠ c(i)} [1 + d_ij − d_il]₊,
 *   d_ab = ‖L·(x_a − x_b)‖².
 *
 * This is metric-learn's LMNN objective with regularization = 1 − μ (test: objective and gradient
 * equal metric-learn's `_loss_grad` for the same targets). Its (sub)gradient, with every pull pair
 * and every active hinge term accumulated as a weight w_ab on the pair (a, b) — (1 − μ) per pull
 * pair, +μ on (i, j) and −μ on (i, l) per active triplet — is
 *   ∂f/∂L = 2·Σ w_ab·(y_a − y_b)(x_a − x_b)ᵀ = 2·Yᵀ·(Diag(A·1) − A)·X,   Y = X·Lᵀ, A = W + Wᵀ,
 * which needs no d × d outer products; A has a few nonzeros per row once few hinges are active,
 * so the Laplacian product is taken over those (`LmnnObjective`). The hinge is not smooth at its
 * kink; the project's L-BFGS (lbfgs.ts, backtracking Armijo search) takes it as it comes, as
 * PyLMNN does with scipy's L-BFGS. metric-learn instead takes fixed gradient steps with a step
 * size it adapts; the iterates therefore differ while objective and gradient agree.
 *
 * With `groups` (e.g. the compound of each row), target neighbours are taken from other groups
 * only: replicate wells of the row's own compound would otherwise be its targets, and the metric
 * would learn to recognise compounds rather than mechanisms. Rows whose class has no other group
 * get no target neighbour (they still act as impostors); they are counted in `warnings`.
 *
 * Deterministic given the initialisation (`seed` only reaches a randomized PCA); ties between
 * equally distant target candidates go to the lower row index.
 */
import { type Matrix, type StoredMatrix, zeros, gemmNT, gemmTN, asFloat64, transpose, squaredDistances, sortNonNegativeInPlace } from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import { lbfgs } from './lbfgs.js';
import { Lda } from './lda.js';
import { PCA } from './pca.js';
import { requireFiniteRows } from './finite.js';

export interface LmnnOptions {
  /** Target neighbours per row. Default 3 (metric-learn's n_neighbors). */
  k?: number;
  /** Output dimension (≤ features). Default: the number of features. */
  nComponents?: number;
  /** μ, the weight of the push (hinge) term; 1 − μ weighs the pull term. Default 0.5. */
  pushWeight?: number;
  /** Default 'identity' (the Euclidean metric LMNN starts from) when nComponents = features, else 'pca'. */
  init?: 'lda' | 'pca' | 'identity' | Matrix;
  /**
   * Rescale a built-in start (identity, PCA, LDA) to its best multiple before L-BFGS. Default true
   * (an explicit `init` matrix is never rescaled).
   */
  rescale?: boolean;
  /** L-BFGS iterations. Default 100. */
  maxIter?: number;
  /** Gradient tolerance. Default 1e-5. */
  tol?: number;
  seed?: number;
}

/** Class ids and group ids as small integers (group −1 = no group: a row of its own). */
function encode(labels: readonly string[], groups?: readonly (string | null)[]): { cls: Int32Array; names: string[]; grp?: Int32Array } {
  const ids = new Map<string, number>();
  const cls = Int32Array.from(labels, (l) => {
    let c = ids.get(l);
    if (c === undefined) ids.set(l, (c = ids.size));
    return c;
  });
  let grp: Int32Array | undefined;
  if (groups) {
    const g = new Map<string, number>();
    grp = Int32Array.from(groups, (v, i) => {
      const key = v ?? `\u0000row${i}`;
      let c = g.get(key);
      if (c === undefined) g.set(key, (c = g.size));
      return c;
    });
  }
  return { cls, names: [...ids.keys()], grp };
}

/**
 * The largest k every row with at least one candidate can use: per row, the number of rows of its
 * class (outside its group when groups are given). Rows with no candidate at all are not counted
 * (they get no target neighbour); 0 when no row has a candidate.
 */
export function lmnnMaxK(labels: readonly string[], groups?: readonly (string | null)[]): number {
  const { cls, grp } = encode(labels, groups);
  const n = cls.length;
  const perClass = new Map<number, number>();
  const perGroup = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    perClass.set(cls[i]!, (perClass.get(cls[i]!) ?? 0) + 1);
    if (grp) perGroup.set(`${cls[i]}:${grp[i]}`, (perGroup.get(`${cls[i]}:${grp[i]}`) ?? 0) + 1);
  }
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const m = perClass.get(cls[i]!)! - (grp ? perGroup.get(`${cls[i]}:${grp[i]}`)! : 1);
    if (m > 0 && m < best) best = m;
  }
  return best === Infinity ? 0 : best;
}

/**
 * Each row's k nearest rows of the same class (squared Euclidean distance in X), outside the row's
 * group when `grp` is given; −1 where the row has none. Row-major n × k.
 */
export function lmnnTargets(X: Matrix, cls: Int32Array, k: number, grp?: Int32Array): { targets: Int32Array; without: number } {
  const n = X.rows;
  const D = squaredDistances(X).data;
  const targets = new Int32Array(n * k).fill(-1);
  let without = 0;
  const cand: number[] = [];
  for (let i = 0; i < n; i++) {
    cand.length = 0;
    for (let j = 0; j < n; j++) {
      if (j === i || cls[j] !== cls[i] || (grp && grp[j] === grp[i])) continue;
      cand.push(j);
    }
    if (!cand.length) {
      without++;
      continue;
    }
    const row = i * n;
    cand.sort((a, b) => D[row + a]! - D[row + b]! || a - b);
    for (let t = 0; t < Math.min(k, cand.length); t++) targets[i * k + t] = cand[t]!;
  }
  return { targets, without };
}

/**
 * For each class, the rows of every other class (its possible impostors), in ascending row order:
 * the breakpoint loop walks these instead of testing the class of all n rows.
 */
function impostorPools(cls: Int32Array): Int32Array[] {
  let K = 0;
  for (let i = 0; i < cls.length; i++) if (cls[i]! + 1 > K) K = cls[i]! + 1;
  const count = new Int32Array(K);
  for (let i = 0; i < cls.length; i++) count[cls[i]!]++;
  return Array.from({ length: K }, (_, c) => {
    const pool = new Int32Array(cls.length - count[c]!);
    for (let i = 0, p = 0; i < cls.length; i++) if (cls[i] !== c) pool[p++] = i;
    return pool;
  });
}

/** z[zo …] += v·y[yo …] over m entries. */
function addRow(z: Float64Array, zo: number, v: number, y: Float64Array, yo: number, m: number): void {
  for (let c = 0; c < m; c++) z[zo + c] += v * y[yo + c]!;
}

/**
 * f(L) and ∂f/∂L (see the file header) for one X and its targets, evaluated many times (the L-BFGS
 * objective) on buffers kept from one evaluation to the next. Every sum is the one the plain form
 * computes, term for term in the same order, so the values are the same to the last bit:
 *  - row i's hinge terms are met only among the impostors closer than its largest target radius
 *    (collected once per row by one contiguous pass over its distances, in ascending row order;
 *    each target then scans that short list instead of all n rows — an impostor outside it is
 *    inactive for every target);
 *  - the pair weights W are touched only where a pull pair or an active triplet puts one (and reset
 *    the same way), and the gradient's Laplacian product runs over those pairs (`gradient`);
 *  - Y = X·Lᵀ, the distances and the last product of the gradient go through the dense kernels
 *    into kept buffers (the gradient straight into the caller's array).
 * Measured on BBBC021's inner training sides (≈ 200 rows, PCA-50): after the first few iterations
 * 400–900 pairs carry weight, against n² ≈ 40,000 entries of the dense Laplacian.
 */
export class LmnnObjective {
  /** Active hinge terms at the last evaluation. */
  active = 0;
  private readonly n: number;
  private readonly Y: Matrix;
  private readonly D: Matrix;
  private readonly W: Float64Array;
  /** Lap·Y (n × nc) and Lap's rows: row a's entries at deg[a] … deg[a + 1] − 1 of col / val. */
  private readonly LY: Matrix;
  private readonly deg: Int32Array;
  private readonly fill: Int32Array;
  private col = new Int32Array(0);
  private val = new Float64Array(0);
  private readonly mark: Uint8Array;
  private readonly touched: Int32Array;
  private nTouched = 0;
  private readonly cand: Int32Array;

  constructor(
    private readonly X: Matrix, private readonly cls: Int32Array, private readonly targets: Int32Array, private readonly k: number,
    private readonly nc: number, private readonly pushWeight = 0.5,
  ) {
    const n = (this.n = X.rows);
    this.Y = zeros(n, nc);
    this.D = zeros(n, n);
    this.W = new Float64Array(n * n);
    this.LY = zeros(n, nc);
    this.deg = new Int32Array(n + 1);
    this.fill = new Int32Array(n);
    this.mark = new Uint8Array(n * n);
    this.touched = new Int32Array(n * n);
    this.cand = new Int32Array(n);
  }

  /** f(L) for the nc × d map L (row-major); ∂f/∂L written into `grad` when given. */
  evaluate(L: Float64Array, grad?: Float64Array): number {
    const { n, k, cls, targets, W: w, mark, touched, cand } = this;
    const d = this.X.cols;
    if (L.length !== this.nc * d) throw new RangeError(`LmnnObjective: L has ${L.length} values, expected ${this.nc} × ${d}`);
    gemmNT(this.X, { rows: this.nc, cols: d, data: L }, this.Y);
    const D = squaredDistances(this.Y, this.D).data;
    for (let t = 0; t < this.nTouched; t++) {
      w[touched[t]!] = 0;
      mark[touched[t]!] = 0;
    }
    let nt = 0;
    const pull = 1 - this.pushWeight, mu = this.pushWeight;
    let lossPull = 0, lossPush = 0, active = 0;
    for (let i = 0; i < n; i++) {
      const row = i * n, tk = i * k;
      let reach = -Infinity;
      for (let t = 0; t < k; t++) {
        const j = targets[tk + t]!;
        if (j >= 0 && 1 + D[row + j]! > reach) reach = 1 + D[row + j]!;
      }
      if (reach === -Infinity) continue;
      const ci = cls[i]!;
      let m = 0;
      for (let l = 0; l < n; l++) if (D[row + l]! < reach && cls[l] !== ci) cand[m++] = l;
      for (let t = 0; t < k; t++) {
        const j = targets[tk + t]!;
        if (j < 0) continue;
        const dij = D[row + j]!;
        lossPull += dij;
        w[row + j] += pull;
        if (!mark[row + j]) {
          mark[row + j] = 1;
          touched[nt++] = row + j;
        }
        const radius = 1 + dij;
        for (let c = 0; c < m; c++) {
          const l = cand[c]!;
          const dil = D[row + l]!;
          if (dil < radius) {
            lossPush += radius - dil;
            active++;
            w[row + j] += mu;
            w[row + l] -= mu;
            if (!mark[row + l]) {
              mark[row + l] = 1;
              touched[nt++] = row + l;
            }
          }
        }
      }
    }
    this.nTouched = nt;
    this.active = active;
    if (grad) this.gradient(grad);
    return pull * lossPull + mu * lossPush;
  }

  /**
   * 2·Yᵀ·Lap·X for the weights of the last evaluation, Lap the Laplacian of A = W + Wᵀ (off the
   * diagonal −A_ab, on it Σ_b A_ab in b order). Lap has a few nonzeros per row (the pull pairs and
   * the few active impostors), so Lap·Y is formed row by row over its nonzeros in ascending column
   * order — each entry the dense product's sum without its zero terms, which change no sum — and
   * then (Lap·Y)ᵀ·X by the dense kernel.
   */
  private gradient(grad: Float64Array): void {
    const { n, nc, W: w, mark, touched, nTouched: nt } = this;
    const deg = this.deg;
    deg.fill(0);
    // Each unordered pair once: (a, b) is skipped when (b, a) is touched too and comes first in row order.
    for (let t = 0; t < nt; t++) {
      const idx = touched[t]!;
      const a = (idx / n) | 0, b = idx - a * n;
      if (a > b && mark[b * n + a]) continue;
      deg[a + 1]++;
      deg[b + 1]++;
    }
    for (let a = 0; a < n; a++) deg[a + 1] += deg[a]!;
    const nnz = deg[n]!;
    if (this.col.length < nnz) {
      this.col = new Int32Array(2 * nnz);
      this.val = new Float64Array(2 * nnz);
    }
    const { col, val, fill } = this;
    fill.set(deg.subarray(0, n));
    for (let t = 0; t < nt; t++) {
      const idx = touched[t]!;
      const a = (idx / n) | 0, b = idx - a * n;
      if (a > b && mark[b * n + a]) continue;
      const v = -(w[idx]! + w[b * n + a]!);
      col[fill[a]!] = b;
      val[fill[a]!++] = v;
      col[fill[b]!] = a;
      val[fill[b]!++] = v;
    }
    const y = this.Y.data, z = this.LY.data;
    z.fill(0);
    for (let b = 0; b < n; b++) {
      const e0 = deg[b]!, e1 = deg[b + 1]!;
      // Columns of row b in ascending order (insertion sort: a row holds a few entries).
      for (let e = e0 + 1; e < e1; e++) {
        const c = col[e]!, v = val[e]!;
        let f = e - 1;
        while (f >= e0 && col[f]! > c) {
          col[f + 1] = col[f]!;
          val[f + 1] = val[f]!;
          f--;
        }
        col[f + 1] = c;
        val[f + 1] = v;
      }
      let diag = 0;
      for (let e = e0; e < e1; e++) diag -= val[e]!;
      // Row b of Lap·Y: the entries left of the diagonal, the diagonal, those right of it.
      const zo = b * nc;
      let e = e0;
      for (; e < e1 && col[e]! < b; e++) addRow(z, zo, val[e]!, y, col[e]! * nc, nc);
      addRow(z, zo, diag, y, b * nc, nc);
      for (; e < e1; e++) addRow(z, zo, val[e]!, y, col[e]! * nc, nc);
    }
    gemmTN(this.LY, this.X, { rows: nc, cols: this.X.cols, data: grad });
    for (let i = 0; i < grad.length; i++) grad[i] *= 2;
  }
}

/** f(L), its gradient (k × d) and the number of active hinge terms; see the file header. */
export function lmnnLossGrad(X: Matrix, cls: Int32Array, targets: Int32Array, k: number, L: Matrix, pushWeight = 0.5): { loss: number; gradient: Matrix; active: number } {
  if (L.cols !== X.cols) throw new RangeError(`lmnnLossGrad: L has ${L.cols} columns, X ${X.cols}`);
  const obj = new LmnnObjective(X, cls, targets, k, L.rows, pushWeight);
  const gradient = zeros(L.rows, L.cols);
  const loss = obj.evaluate(L.data, gradient.data);
  return { loss, gradient, active: obj.active };
}

/**
 * The t ≥ 0 minimising f(√t·L). Distances scale with t, so f(√t·L) = (1 − μ)·t·P + μ·Σ [1 − t·δ]₊
 * with P the pull sum and δ = d_il − d_ij per triplet: convex and piecewise linear in t. Its slope
 * starts at (1 − μ)·P − μ·Σ δ and rises by μ·δ at each breakpoint t = 1/δ (δ > 0); the minimum is
 * the first breakpoint where the slope turns ≥ 0 — exact, no search. 0 when the slope is ≥ 0 from
 * the start (the pull term dominates: no usable scale; the caller keeps L).
 */
export function lmnnBestScale(X: Matrix, cls: Int32Array, targets: Int32Array, k: number, L: Matrix, pushWeight = 0.5): number {
  const n = X.rows;
  const D = squaredDistances(gemmNT(X, L)).data;
  const pools = impostorPools(cls);
  const mu = pushWeight;
  let slope = 0;
  let pos = new Float64Array(1024), np = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    const pool = pools[cls[i]!]!;
    for (let t = 0; t < k; t++) {
      const j = targets[i * k + t]!;
      if (j < 0) continue;
      const dij = D[row + j]!;
      slope += (1 - mu) * dij;
      if (np + pool.length > pos.length) {
        const grown = new Float64Array(Math.max(2 * pos.length, np + pool.length));
        grown.set(pos.subarray(0, np));
        pos = grown;
      }
      for (let p = 0; p < pool.length; p++) {
        const delta = D[row + pool[p]!]! - dij;
        slope -= mu * delta;
        if (delta > 0) pos[np++] = delta;
      }
    }
  }
  if (slope >= 0) return 0;
  // Breakpoints 1/δ in increasing order = δ in decreasing order (equal δ are interchangeable).
  // The slope turns late (typically past 3/4 of the δ), so all are sorted, by radix.
  const sorted = sortNonNegativeInPlace(pos.subarray(0, np));
  for (let p = np - 1; p >= 0; p--) {
    slope += mu * sorted[p]!;
    if (slope >= 0) return 1 / sorted[p]!;
  }
  return 0;
}

export class Lmnn {
  readonly opts: LmnnOptions;
  /** nComponents × d. */
  components?: Matrix;
  iterations = 0;
  /** Objective at the end and active hinge terms there. */
  objective = NaN;
  active = 0;
  warnings: string[] = [];

  constructor(opts: LmnnOptions = {}) {
    this.opts = opts;
    const k = opts.k ?? 3;
    if (!(Number.isInteger(k) && k >= 1)) throw new InputError(`LMNN: k (target neighbours) must be an integer ≥ 1, got ${k}`);
    const mu = opts.pushWeight ?? 0.5;
    if (!(mu >= 0 && mu <= 1)) throw new InputError(`LMNN: pushWeight must be in [0, 1], got ${mu}`);
    const it = opts.maxIter ?? 100;
    if (!(Number.isInteger(it) && it >= 0)) throw new InputError(`LMNN: maxIter must be an integer ≥ 0, got ${it}`);
  }

  fit(Xs: StoredMatrix, labels: readonly string[], groups?: readonly (string | null)[]): this {
    const X = asFloat64(Xs);
    const n = X.rows, d = X.cols;
    if (labels.length !== n) throw new InputError(`LMNN: ${labels.length} labels for ${n} rows`);
    if (groups && groups.length !== n) throw new InputError(`LMNN: ${groups.length} groups for ${n} rows`);
    requireFiniteRows(X, 'LMNN');
    const { cls, names, grp } = encode(labels, groups);
    const K = names.length;
    if (K < 2) throw new InputError(`LMNN needs at least 2 classes, got ${K}`);
    const k = this.opts.k ?? 3;
    const maxK = lmnnMaxK(labels, groups);
    if (maxK === 0) throw new InputError(`LMNN: no row has a target neighbour (no class has two ${groups ? 'groups (compounds)' : 'rows'})`);
    if (k > maxK) {
      throw new InputError(`LMNN: k = ${k} target neighbours, but some row has only ${maxK} row(s) of its class${groups ? ' in other groups (compounds)' : ''}; choose k ≤ ${maxK}`);
    }
    const nc = this.opts.nComponents ?? d;
    if (!(Number.isInteger(nc) && nc >= 1 && nc <= d)) throw new InputError(`LMNN: nComponents must be an integer in [1, ${d}] (features), got ${nc}`);
    const { targets, without } = lmnnTargets(X, cls, k, grp);
    if (without) {
      const classes = [...new Set(Array.from({ length: n }, (_, i) => i).filter((i) => targets[i * k]! < 0).map((i) => names[cls[i]!]!))];
      this.warnings.push(`LMNN: ${without} row(s) of ${classes.length} class(es) (${classes.slice(0, 5).join(', ')}${classes.length > 5 ? ', …' : ''}) have no other ${groups ? 'compound' : 'row'} of their class: no target neighbour (impostors only)`);
    }
    const mu = this.opts.pushWeight ?? 0.5;
    const L0 = this.initial(X, labels, nc, K);
    if (typeof this.opts.init !== 'object' && (this.opts.rescale ?? true)) {
      const t = lmnnBestScale(X, cls, targets, k, L0, mu);
      if (t > 0) for (let i = 0; i < L0.data.length; i++) L0.data[i] *= Math.sqrt(t);
    }
    const objective = new LmnnObjective(X, cls, targets, k, nc, mu);
    const res = lbfgs((x, grad) => objective.evaluate(x, grad), L0.data, { maxIter: this.opts.maxIter ?? 100, gtol: this.opts.tol ?? 1e-5 });
    this.components = { rows: nc, cols: d, data: res.x };
    this.iterations = res.iterations;
    this.objective = res.f;
    objective.evaluate(res.x);
    this.active = objective.active;
    if (res.reason === 'lineSearch') this.warnings.push('LMNN: the line search stopped before convergence (kept the last improving step)');
    return this;
  }

  private initial(X: Matrix, labels: readonly string[], nc: number, K: number): Matrix {
    const d = X.cols;
    const init = this.opts.init ?? (nc === d ? 'identity' : 'pca');
    if (typeof init === 'object') {
      if (init.rows !== nc || init.cols !== d) throw new InputError(`LMNN: init is ${init.rows} × ${init.cols}, expected ${nc} × ${d}`);
      return { rows: nc, cols: d, data: init.data.slice() };
    }
    if (init === 'identity') {
      const L = zeros(nc, d);
      for (let i = 0; i < nc; i++) L.data[i * d + i] = 1;
      return L;
    }
    if (init === 'lda' && nc <= K - 1) {
      const lda = new Lda({ shrinkage: 'auto', nComponents: nc }).fit(X, labels);
      return transpose(lda.scalings!);
    }
    if (init === 'lda') this.warnings.push(`LMNN: ${nc} components exceed classes − 1 = ${K - 1}; initialised by PCA instead of LDA`);
    const m = Math.min(nc, X.rows);
    const pca = new PCA({ nComponents: m, seed: this.opts.seed ?? 0 }).fit(X);
    const L = zeros(nc, d);
    L.data.set(pca.components!.data.subarray(0, m * d));
    return L;
  }

  transform(X: StoredMatrix): Matrix {
    if (!this.components) throw new Error('Lmnn.transform called before fit');
    if (X.cols !== this.components.cols) throw new InputError(`LMNN: data has ${X.cols} features, the model was fitted on ${this.components.cols}`);
    return gemmNT(X, this.components);
  }
}
