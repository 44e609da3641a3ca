/**
 * Information-theoretic metric learning (Davis, Kulis, Jain, Sra & Dhillon, ICML 2007), with the
 * semantics of metric-learn 0.7's ITML (the study's software), plus a convergence flag and the
 * `squared` bounds mode of the original ITML code.
 *
 * Learns a Mahalanobis matrix M (d × d, SPD) by cyclic Bregman projections onto similar (d_M ≤ u)
 * and dissimilar (d_M ≥ l) pair constraints, staying close to the prior M0 = I in LogDet
 * divergence. Each projection is a rank-one update M ← M + β(Mv)(Mv)ᵀ: O(d²), never M·vvᵀ·M.
 * transform(X) = X·Lᵀ with M = LᵀL (L upper triangular: the transposed lower Cholesky factor).
 *
 * Full width. Every update direction lies in the span of the m constraint difference vectors, so
 * M = M0 + Wᵀ·C·W with an m × m matrix C (the low-rank form used when m ≤ d). Above
 * ITML_DENSE_MAX_FEATURES features (the whole CellProfiler space: d = 5,792 makes M 268 MB and its
 * Cholesky factor O(d³)) M is kept in that factored form: `transform` multiplies by the symmetric
 * square root I + P·diag(√(1+λ) − 1)·Pᵀ (O(n·d·m), the same distances as X·Lᵀ), and `metric` /
 * `components` are formed only when read. Up to that width, and always with a prior, the dense M
 * and metric-learn's Cholesky transform are kept (the study's exact coordinates).
 *
 * Bounds: `metric-learn` (compat) takes the 5th/95th percentiles of UNSQUARED Euclidean distances
 * among the rows in the pairs while the projections compare them with SQUARED Mahalanobis
 * distances — a unit mismatch kept only to reproduce the study; `squared` (default) uses squared
 * distances on both sides, as Davis et al.'s reference implementation does.
 */
import {
  type Matrix, type StoredMatrix, allocFeatures, zeros, identity, cholesky, choleskyBlocked, NotPositiveDefiniteError, squaredDistances, takeRows,
  percentileSorted, gemm, gemmNT, gemmTN, symmetricEigen, transpose,
} from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../linalg/rng.js';
import { type Reporter, silentReporter } from '../util/log.js';

export interface PairConstraint {
  /** Row indices into the training matrix. */
  a: number;
  b: number;
  /** +1 similar, −1 dissimilar. */
  sign: 1 | -1;
}

export type ItmlBounds = 'squared' | 'metric-learn' | readonly [number, number];

export interface ItmlOptions {
  /** Similar pairs AND dissimilar pairs to sample (20 → 40 constraints). */
  numConstraints?: number;
  maxIter?: number;
  /** Convergence threshold on the relative change of the dual variables. */
  tol?: number;
  gamma?: number;
  bounds?: ItmlBounds;
  /** Prior M0 (SPD); default identity. */
  prior?: Matrix;
  seed?: number;
  /** Update form: 'auto' (default), 'lowrank' (O(m²) per projection) or 'dense' (O(d²)). */
  algorithm?: 'auto' | 'lowrank' | 'dense';
  /**
   * How M is held after a low-rank fit: 'auto' (default: factored above ITML_DENSE_MAX_FEATURES
   * features), 'dense' (d × d, transform = X·Lᵀ as metric-learn) or 'factored' (see the header).
   */
  metricForm?: 'auto' | 'dense' | 'factored';
  reporter?: Reporter;
}

/** Widest table for which 'auto' forms the dense d × d metric and its Cholesky factor. */
export const ITML_DENSE_MAX_FEATURES = 2000;

export class Itml {
  readonly numConstraints: number;
  readonly maxIter: number;
  readonly tol: number;
  readonly gamma: number;
  readonly boundsMode: ItmlBounds;
  readonly prior?: Matrix;
  readonly seed: number;
  /** 'auto' picks the O(m²)-per-projection low-rank form when constraints ≤ features. */
  readonly algorithm: 'auto' | 'lowrank' | 'dense';
  readonly metricForm: 'auto' | 'dense' | 'factored';
  private readonly reporter: Reporter;
  private denseMetric?: Matrix;
  private cholComponents?: Matrix;
  /** Features of the fitted metric. */
  private dim = 0;
  /** The symmetric square root's factors (factored form), computed on first use. */
  private sqrtFactors?: { P: Matrix; s: Float64Array };
  constraints: PairConstraint[] = [];
  bounds: [number, number] = [NaN, NaN];
  /** Number of full sweeps over the constraints. */
  nSweeps = 0;
  converged = false;
  /** Convergence criterion after each sweep. */
  convTrace: number[] = [];
  /** Final dual variables, similar pairs first. */
  lambda?: Float64Array;
  warnings: string[] = [];
  /**
   * M = I + Wᵀ·C·W (W: m × d difference vectors, C: m × m), kept after a low-rank fit with the
   * identity prior; enables `transformLowRank`.
   */
  lowRankFactors?: { W: Matrix; C: Matrix };

  constructor(opts: ItmlOptions = {}) {
    this.numConstraints = opts.numConstraints ?? 20;
    this.maxIter = opts.maxIter ?? 1000;
    this.tol = opts.tol ?? 1e-3;
    this.gamma = opts.gamma ?? 1;
    this.boundsMode = opts.bounds ?? 'squared';
    this.prior = opts.prior;
    this.seed = opts.seed ?? 0;
    this.algorithm = opts.algorithm ?? 'auto';
    this.metricForm = opts.metricForm ?? 'auto';
    this.reporter = opts.reporter ?? silentReporter;
    if (!(this.gamma > 0)) throw new InputError(`ITML: gamma must be > 0, got ${this.gamma}`);
    if (!(this.tol > 0)) throw new InputError(`ITML: tol must be > 0, got ${this.tol}`);
  }

  /** Whether M is held factored (M = I + Wᵀ·C·W, see the file header). */
  get factored(): boolean {
    return this.denseMetric === undefined && this.lowRankFactors !== undefined;
  }

  /** Learned Mahalanobis matrix M (d × d); formed on first read when held factored. */
  get metric(): Matrix | undefined {
    if (!this.denseMetric && this.lowRankFactors) {
      const { W, C } = this.lowRankFactors;
      const M = identity(this.dim);
      addLowRank(M.data, this.dim, W, C.data, W.rows);
      return M;
    }
    return this.denseMetric;
  }

  /** L (upper triangular), M = LᵀL (metric-learn's components_); formed on first read when held factored. */
  get components(): Matrix | undefined {
    if (!this.cholComponents && this.lowRankFactors) this.cholComponents = componentsFromMetric(this.metric!, this.warnings);
    return this.cholComponents;
  }

  /**
   * Fit from class labels: the whole label string is one class (compat with the study, where
   * `A|B` is its own class). Rows with a null/empty label are ignored.
   */
  fit(X: StoredMatrix, labels: readonly (string | null)[]): this {
    if (labels.length !== X.rows) throw new InputError(`ITML: ${labels.length} labels for ${X.rows} rows`);
    const pairs = sampleConstraints(labels, this.numConstraints, new Rng(this.seed), this.warnings);
    return this.fitPairs(X, pairs);
  }

  /** Fit from an explicit, ordered constraint list (similar pairs are processed before dissimilar ones). */
  fitPairs(X: StoredMatrix, constraints: readonly PairConstraint[]): this {
    const d = X.cols;
    for (const c of constraints) {
      if (!(c.a >= 0 && c.a < X.rows && c.b >= 0 && c.b < X.rows)) {
        throw new InputError(`ITML: constraint pair (${c.a}, ${c.b}) is outside the ${X.rows} rows`);
      }
    }
    const pos = constraints.filter((c) => c.sign === 1);
    const neg = constraints.filter((c) => c.sign === -1);
    if (!pos.length || !neg.length) {
      throw new InputError('ITML needs at least one similar and one dissimilar pair (are there ≥ 2 label classes with ≥ 2 rows?)');
    }
    this.constraints = [...pos, ...neg];
    this.bounds = this.computeBounds(X, this.constraints);
    this.denseMetric = undefined;
    this.cholComponents = undefined;
    this.lowRankFactors = undefined;
    this.sqrtFactors = undefined;
    this.dim = d;
    const nPos = pos.length, nC = this.constraints.length;
    // Difference vectors, one row each.
    const V = zeros(nC, d);
    for (let c = 0; c < nC; c++) {
      const { a, b } = this.constraints[c]!;
      for (let j = 0; j < d; j++) V.data[c * d + j] = X.data[a * d + j]! - X.data[b * d + j]!;
    }
    const lambda = new Float64Array(nC);
    let lambdaOld = new Float64Array(nC);
    const bhat = new Float64Array(nC);
    for (let c = 0; c < nC; c++) bhat[c] = c < nPos ? this.bounds[0] : this.bounds[1];
    const gammaProj = Number.isFinite(this.gamma) ? this.gamma / (this.gamma + 1) : 1;
    const gamma = this.gamma;
    // Every update direction M·v lies in span(M0·V) (V = the m difference vectors), so
    // M = M0 + W·C·Wᵀ with W = M0·V (d × m) and a small m × m matrix C. With K = Vᵀ·W, a projection
    // needs only O(m²) work: Mv_c = W·w with w = e_c + C·K_c, p = (K·w)_c, C ← C + β·w·wᵀ.
    // When m > d the dense O(d²) rank-one update of M is cheaper and is used instead.
    const lowRank = this.algorithm === 'lowrank' || (this.algorithm === 'auto' && nC <= d);
    const factored = lowRank && !this.prior && (this.metricForm === 'factored' || (this.metricForm === 'auto' && d > ITML_DENSE_MAX_FEATURES));
    // The dense M exists from the start for the dense update, at the end for a dense low-rank fit.
    const M = factored ? undefined : this.prior ? checkPrior(this.prior, d) : lowRank ? undefined : identity(d);
    const v = V.data;
    let W: Matrix | undefined, K: Matrix | undefined, C: Float64Array | undefined;
    let Mv = new Float64Array(lowRank ? nC : d);
    let MvNext = new Float64Array(lowRank ? nC : d);
    if (lowRank) {
      W = this.prior ? gemmNT(V, M!) : { rows: nC, cols: d, data: V.data.slice() }; // rows are (M0·v_c)ᵀ
      K = gemmNT(V, W); // m × m, K[c, c'] = v_cᵀ·M0·v_c'
      C = new Float64Array(nC * nC);
    } else {
      updatePass(M!.data, d, Mv, 0, null, 0, v, 0);
    }
    const w = new Float64Array(nC);
    const progress = this.reporter.progress('ITML sweeps', this.maxIter);
    this.convTrace = [];
    this.converged = false;
    let sweep = 0;
    for (; sweep < this.maxIter; sweep++) {
      for (let c = 0; c < nC; c++) {
        let p = 0;
        if (lowRank) {
          p = lowRankDirection(K!.data, C!, nC, c, w);
        } else {
          const vo = c * d;
          for (let i = 0; i < d; i++) p += v[vo + i]! * Mv[i]!;
        }
        let beta = 0;
        if (p > 0) {
          let alpha: number;
          if (c < nPos) {
            alpha = Math.min(lambda[c]!, gammaProj * (1 / p - 1 / bhat[c]!));
            lambda[c] -= alpha;
            beta = alpha / (1 - alpha * p);
            bhat[c] = 1 / (1 / bhat[c]! + alpha / gamma);
          } else {
            alpha = Math.min(lambda[c]!, gammaProj * (1 / bhat[c]! - 1 / p));
            lambda[c] -= alpha;
            beta = -alpha / (1 + alpha * p);
            bhat[c] = 1 / (1 / bhat[c]! - alpha / gamma);
          }
          if (!Number.isFinite(beta)) {
            throw new InputError(`ITML numerical breakdown at sweep ${sweep + 1}, constraint ${c}: update factor is ${beta}`);
          }
        } else if (p < 0 || Number.isNaN(p)) {
          throw new InputError(`ITML numerical breakdown: squared distance ${p} for pair (${this.constraints[c]!.a}, ${this.constraints[c]!.b}) — M lost positive definiteness`);
        }
        // p === 0: the pair's rows are identical, the constraint is void under any metric.
        if (lowRank) {
          if (beta !== 0) {
            const cc = C!;
            for (let a = 0; a < nC; a++) {
              const f = beta * w[a]!;
              if (f === 0) continue;
              const ro = a * nC;
              for (let b = 0; b < nC; b++) cc[ro + b] += f * w[b]!;
            }
          }
        } else {
          // One fused pass: update row i of M and, while it is in cache, multiply it by the next
          // constraint's vector — M is read once per projection instead of twice.
          updatePass(M!.data, d, MvNext, beta, Mv, beta === 0 ? 0 : 1, v, ((c + 1) % nC) * d);
          const t = Mv;
          Mv = MvNext;
          MvNext = t;
        }
      }
      const normsum = norm2(lambda) + norm2(lambdaOld);
      if (normsum === 0) {
        // No constraint was ever violated: M stays the prior.
        this.convTrace.push(Infinity);
        this.converged = true;
        break;
      }
      let diff = 0;
      for (let c = 0; c < nC; c++) diff += Math.abs(lambdaOld[c]! - lambda[c]!);
      const conv = diff / normsum;
      this.convTrace.push(conv);
      progress.tick(sweep + 1, `conv ${conv.toExponential(2)}`);
      if (conv < this.tol) {
        this.converged = true;
        break;
      }
      lambdaOld = lambda.slice();
    }
    this.nSweeps = Math.min(sweep + 1, this.maxIter);
    progress.done();
    if (!this.converged) {
      this.warnings.push(`ITML did not converge in ${this.maxIter} sweeps (last criterion ${this.convTrace.at(-1)?.toExponential(3)} ≥ tol ${this.tol})`);
    }
    this.lambda = lambda;
    this.lowRankFactors = lowRank && !this.prior ? { W: W!, C: { rows: nC, cols: nC, data: C! } } : undefined;
    if (factored) {
      for (let i = 0; i < C!.length; i++) {
        if (!Number.isFinite(C![i]!)) throw new InputError('ITML numerical breakdown: the learned metric has non-finite entries');
      }
    } else {
      let Md = M;
      if (lowRank) {
        Md = Md ?? identity(d);
        addLowRank(Md.data, d, W!, C!, nC);
      }
      const m = Md!.data;
      for (let i = 0; i < m.length; i++) {
        if (!Number.isFinite(m[i]!)) throw new InputError('ITML numerical breakdown: the learned metric has non-finite entries');
      }
      this.denseMetric = Md;
      this.cholComponents = componentsFromMetric(Md!, this.warnings);
    }
    for (const w of this.warnings) this.reporter.warn(w);
    return this;
  }

  /** X·Lᵀ: Euclidean distances of the result are the learned Mahalanobis distances. */
  transform(X: StoredMatrix): Matrix {
    if (!this.cholComponents && !this.lowRankFactors) throw new Error('Itml.transform called before fit');
    if (X.cols !== this.dim) throw new InputError(`ITML.transform: data has ${X.cols} features, the metric was learned on ${this.dim}`);
    if (this.factored) return this.sqrtTransform(X, 'float64') as Matrix;
    return gemmNT(X, this.components!);
  }

  /**
   * X·M^{1/2} through the low-rank structure M = I + Wᵀ·C·W (m = #constraints ≪ d): with
   * W·Wᵀ = V·Σ²·Vᵀ, Q = Wᵀ·V·Σ⁻¹ (orthonormal, d × r) and Σ·Vᵀ·C·V·Σ = U·Λ·Uᵀ,
   * M^{1/2} = I + P·diag(√(1+λ) − 1)·Pᵀ with P = Q·U. Euclidean distances of the result equal
   * those of `transform` (a rotation apart) at O(n·d·m) instead of O(n·d²) — for 10⁵ rows.
   * Falls back to `transform` when the fit did not keep the factors (dense update or a prior).
   * The result has X's precision (float32 storage in, float32 out) and is built in row blocks, so
   * no n × d float64 temporary exists beside it.
   */
  transformLowRank<M extends StoredMatrix>(X: M): M {
    if (!this.cholComponents && !this.lowRankFactors) throw new Error('Itml.transformLowRank called before fit');
    if (!this.lowRankFactors) return this.transform(X) as StoredMatrix as M;
    if (X.cols !== this.dim) throw new InputError(`ITML.transform: data has ${X.cols} features, the metric was learned on ${this.dim}`);
    return this.sqrtTransform(X, X.data instanceof Float32Array ? 'float32' : 'float64') as StoredMatrix as M;
  }

  /** P (d × r) and s with M^{1/2} = I + P·diag(s)·Pᵀ, from the factors (see transformLowRank). */
  private squareRoot(): { P: Matrix; s: Float64Array } {
    if (this.sqrtFactors) return this.sqrtFactors;
    const { W, C } = this.lowRankFactors!;
    const m = W.rows;
    const g = symmetricEigen(gemmNT(W, W)); // W·Wᵀ = V·Σ²·Vᵀ
    const tol = Math.max(g.values[0]!, 0) * 1e-12 * m;
    let r = 0;
    while (r < m && g.values[r]! > tol) r++;
    // Vr·Σ⁻¹ (m × r) and Q = Wᵀ·Vr·Σ⁻¹ (d × r)
    const VS = zeros(m, r), SV = zeros(m, r);
    for (let a = 0; a < m; a++) {
      for (let k = 0; k < r; k++) {
        const sig = Math.sqrt(g.values[k]!);
        VS.data[a * r + k] = g.vectors.data[a * m + k]! / sig;
        SV.data[a * r + k] = g.vectors.data[a * m + k]! * sig;
      }
    }
    const Q = gemmTN(W, VS);
    const B = gemmTN(SV, gemm(C, SV)); // Σ·Vᵀ·C·V·Σ (r × r)
    for (let a = 0; a < r; a++) for (let b = 0; b < a; b++) B.data[a * r + b] = B.data[b * r + a] = 0.5 * (B.data[a * r + b]! + B.data[b * r + a]!);
    const e = symmetricEigen(B);
    const P = gemm(Q, e.vectors); // d × r
    const s = new Float64Array(r);
    for (let k = 0; k < r; k++) {
      const lam = 1 + e.values[k]!;
      if (!(lam > 0)) throw new InputError('ITML: the learned metric is not positive definite; use transform() with metricForm "dense"');
      s[k] = Math.sqrt(lam) - 1;
    }
    this.sqrtFactors = { P, s };
    return this.sqrtFactors;
  }

  /**
   * X·M^{1/2} = X + (X·P·diag(s))·Pᵀ, a block of rows at a time, into storage of the given
   * precision (so no n × d float64 temporary exists beside a float32 result).
   */
  private sqrtTransform(X: StoredMatrix, precision: 'float32' | 'float64'): StoredMatrix {
    const d = this.dim;
    const { P, s } = this.squareRoot();
    const r = s.length;
    const n = X.rows, x = X.data;
    if (r === 0) return { rows: n, cols: d, data: precision === 'float32' ? Float32Array.from(x) : Float64Array.from(x) };
    const o = allocFeatures(precision, n * d);
    const rowsPer = Math.max(1, Math.min(n, 2048));
    const XPb = zeros(rowsPer, r), Yb = zeros(rowsPer, d);
    for (let i0 = 0; i0 < n; i0 += rowsPer) {
      const bn = Math.min(rowsPer, n - i0);
      const Xb: StoredMatrix = { rows: bn, cols: d, data: x.subarray(i0 * d, (i0 + bn) * d) };
      const XP: Matrix = { rows: bn, cols: r, data: XPb.data.subarray(0, bn * r) };
      gemm(Xb, P, XP);
      for (let i = 0; i < bn; i++) for (let k = 0; k < r; k++) XP.data[i * r + k] *= s[k]!;
      const Y: Matrix = { rows: bn, cols: d, data: Yb.data.subarray(0, bn * d) };
      gemmNT(XP, P, Y);
      const base = i0 * d, y = Y.data;
      for (let t = 0; t < bn * d; t++) o[base + t] = x[base + t]! + y[t]!;
    }
    return { rows: n, cols: d, data: o };
  }

  private computeBounds(X: StoredMatrix, constraints: PairConstraint[]): [number, number] {
    if (Array.isArray(this.boundsMode)) {
      const [u, l] = this.boundsMode as readonly [number, number];
      if (!(u > 0 && l > 0)) throw new InputError(`ITML: bounds must be positive, got [${u}, ${l}]`);
      return [u, l];
    }
    const rows = distinctRows(X, constraints);
    const D = squaredDistances(takeRows(X, rows));
    const vals = D.data;
    if (this.boundsMode === 'metric-learn') for (let i = 0; i < vals.length; i++) vals[i] = Math.sqrt(vals[i]!);
    const sorted = vals.slice().sort();
    let u = percentileSorted(sorted, 5);
    let l = percentileSorted(sorted, 95);
    if (u === 0) u = 1e-9;
    if (l === 0) l = 1e-9;
    return [u, l];
  }
}

/** Rows occurring in the pairs, distinct by value (as numpy.unique(axis=0)), in first-seen order. */
function distinctRows(X: StoredMatrix, constraints: readonly PairConstraint[]): number[] {
  const seenIdx = new Set<number>();
  const seenVal = new Map<string, number>();
  const out: number[] = [];
  const d = X.cols;
  for (const c of constraints) {
    for (const r of [c.a, c.b]) {
      if (seenIdx.has(r)) continue;
      seenIdx.add(r);
      const key = Array.prototype.join.call(X.data.subarray(r * d, (r + 1) * d), ',');
      if (seenVal.has(key)) continue;
      seenVal.set(key, r);
      out.push(r);
    }
  }
  return out;
}

/** w = e_c + C·K_c (so that M·v_c = W·w); returns p = v_cᵀ·M·v_c = (K·w)_c. */
function lowRankDirection(k: Float64Array, C: Float64Array, m: number, c: number, w: Float64Array): number {
  // C and K are symmetric, so row c of K serves as its column.
  const kc = c * m;
  for (let a = 0; a < m; a++) {
    const ro = a * m;
    let s = 0;
    for (let b = 0; b < m; b++) s += C[ro + b]! * k[kc + b]!;
    w[a] = s;
  }
  w[c] += 1;
  let p = 0;
  for (let b = 0; b < m; b++) p += k[kc + b]! * w[b]!;
  return p;
}

/** M += Wᵀ·C·W where W holds one direction per row (m × d). */
function addLowRank(mData: Float64Array, d: number, W: Matrix, C: Float64Array, m: number): void {
  const CW = gemm({ rows: m, cols: m, data: C }, W); // m × d
  const upd = gemmTN(W, CW); // d × d
  const u = upd.data;
  for (let i = 0; i < d; i++) {
    const ro = i * d;
    for (let j = 0; j < d; j++) {
      // Symmetrise: the two triangles of Wᵀ·C·W differ only by rounding.
      mData[ro + j] += i <= j ? u[ro + j]! : u[j * d + i]!;
    }
  }
}

/**
 * If `apply`, M ← M + β·u·uᵀ (u = the previous Mv); then out = M·v[vo…]. Four accumulators break
 * the floating-point add dependency chain of the dot product.
 */
function updatePass(
  m: Float64Array, d: number, out: Float64Array, beta: number, u: Float64Array | null, apply: number,
  v: Float64Array, vo: number,
): void {
  const d4 = d - (d % 4);
  for (let i = 0; i < d; i++) {
    const ro = i * d;
    if (apply && u) {
      const f = u[i]! * beta;
      for (let j = 0; j < d; j++) m[ro + j] += f * u[j]!;
    }
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let j = 0;
    for (; j < d4; j += 4) {
      s0 += m[ro + j]! * v[vo + j]!;
      s1 += m[ro + j + 1]! * v[vo + j + 1]!;
      s2 += m[ro + j + 2]! * v[vo + j + 2]!;
      s3 += m[ro + j + 3]! * v[vo + j + 3]!;
    }
    for (; j < d; j++) s0 += m[ro + j]! * v[vo + j]!;
    out[i] = s0 + s1 + s2 + s3;
  }
}

function norm2(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

function checkPrior(P: Matrix, d: number): Matrix {
  if (P.rows !== d || P.cols !== d) throw new InputError(`ITML: prior is ${P.rows}×${P.cols}, data has ${d} features`);
  try {
    cholesky(P);
  } catch (e) {
    if (e instanceof NotPositiveDefiniteError) throw new InputError(`ITML: the prior matrix is not symmetric positive definite (${e.message})`);
    throw e;
  }
  return { rows: d, cols: d, data: P.data.slice() };
}

/**
 * L with M = LᵀL: transpose of the lower Cholesky factor when M is positive definite (as
 * metric-learn); otherwise from the eigendecomposition with negative eigenvalues clipped.
 */
export function componentsFromMetric(M: Matrix, warnings: string[] = []): Matrix {
  try {
    // Blocked above 512 features (the same factor to rounding; unblocked, bit for bit, below).
    return transpose(choleskyBlocked(M));
  } catch (e) {
    if (!(e instanceof NotPositiveDefiniteError)) throw e;
    warnings.push('ITML: learned metric is only positive semi-definite; components taken from its eigendecomposition');
    const d = M.rows;
    const { values, vectors } = symmetricEigen(M);
    const L = zeros(d, d);
    for (let c = 0; c < d; c++) {
      const s = Math.sqrt(Math.max(values[c]!, 0));
      for (let j = 0; j < d; j++) L.data[c * d + j] = s * vectors.data[j * d + c]!;
    }
    return L;
  }
}

/**
 * Sample `n` similar and `n` dissimilar ordered pairs from labels (null/empty = unlabelled):
 * anchors uniform among labelled rows, partner uniform among same-label rows other than the
 * anchor (similar) or among rows of other labels (dissimilar); distinct pairs; up to 10 rounds.
 */
export function sampleConstraints(
  labels: readonly (string | null)[], n: number, rng: Rng, warnings: string[] = [],
): PairConstraint[] {
  const idx: number[] = [];
  const byLabel = new Map<string, number[]>();
  labels.forEach((l, i) => {
    if (l === null || l === '') return;
    idx.push(i);
    let g = byLabel.get(l);
    if (!g) byLabel.set(l, (g = []));
    g.push(i);
  });
  if (idx.length < 2) throw new InputError(`ITML needs at least 2 labelled rows, got ${idx.length}`);
  if (byLabel.size < 2) throw new InputError(`ITML needs at least 2 label classes, got ${byLabel.size} ("${[...byLabel.keys()][0]}")`);
  const out: PairConstraint[] = [];
  for (const sign of [1, -1] as const) {
    const seen = new Set<string>();
    const pairs: PairConstraint[] = [];
    for (let round = 0; round < 10 && pairs.length < n; round++) {
      const need = n - pairs.length;
      for (let t = 0; t < need; t++) {
        const a = idx[rng.int(idx.length)]!;
        const la = labels[a]!;
        const group = byLabel.get(la)!;
        let b: number;
        if (sign === 1) {
          if (group.length < 2) continue;
          const r = rng.int(group.length - 1);
          const pos = group.indexOf(a);
          b = group[r >= pos ? r + 1 : r]!;
        } else {
          if (group.length === idx.length) continue;
          // Rejection sampling gives a uniform draw among rows of other labels.
          do b = idx[rng.int(idx.length)]!;
          while (labels[b] === la);
        }
        const key = `${a},${b}`;
        if (seen.has(key)) continue;
        seen.add(key);
        pairs.push({ a, b, sign });
      }
    }
    if (pairs.length < n) {
      warnings.push(`ITML: only ${pairs.length} distinct ${sign === 1 ? 'similar' : 'dissimilar'} pairs could be sampled (asked for ${n})`);
    }
    out.push(...pairs);
  }
  return out;
}
