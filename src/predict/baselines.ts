/**
 * Baselines that every activity-prediction table reports (spec "Baselines, always reported"):
 *  - per-assay L2-regularised logistic regression on standardised profiles, fitted by Newton's
 *    method (IRLS); wide profiles are first reduced to their leading principal components so
 *    that each Newton step is a small dense solve (Hofmarcher et al. 2019 use the same kind of
 *    linear baseline);
 *  - k-nearest neighbours by cosine similarity of standardised profiles: score = similarity-weighted
 *    share of active neighbours among the compounds measured in that assay;
 *  - a cell-count-only model: the same logistic regression on a single cell-count column
 *    (Seal et al. 2026: cell count alone scores well on many benchmark assays).
 * Assays with a single class in the training data get a constant score (their base rate) and are
 * listed in `degenerateAssays`.
 */
import {
  type Matrix, zeros, cholesky, choleskySolve, crossprod, symmetricEigen, gemm, gemmNT, takeCols,
  columnMeans, columnStd,
} from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import type { ActivityModel } from './model.js';
import type { ActivityMatrix } from './sparse.js';

/** Column standardisation learned on training rows (zero-variance columns keep scale 1). */
export class Standardizer {
  means: Float64Array = new Float64Array(0);
  scales: Float64Array = new Float64Array(0);
  fit(X: Matrix): this {
    this.means = columnMeans(X);
    this.scales = columnStd(X, 0, this.means).map((s) => (s > 1e-12 ? s : 1));
    return this;
  }
  transform(X: Matrix): Matrix {
    const d = this.means.length;
    if (X.cols !== d) throw new InputError(`expected ${d} feature columns, got ${X.cols}`);
    const out = zeros(X.rows, d);
    const x = X.data, o = out.data;
    for (let i = 0; i < X.rows; i++) {
      for (let f = 0; f < d; f++) {
        const v = x[i * d + f]!;
        if (!Number.isFinite(v)) throw new InputError(`feature value at row ${i}, column ${f} is not finite`);
        o[i * d + f] = (v - this.means[f]!) / this.scales[f]!;
      }
    }
    return out;
  }
}

export interface LogisticOptions {
  /** L2 penalty λ on the weights (not the intercept), objective Σ loss + λ/2 ‖w‖² (default 1). */
  l2?: number;
  maxIter?: number;
  /** Stop when the Newton step's largest change is below tol (default 1e-8). */
  tol?: number;
  /**
   * Principal components used as input: a number, 'none', or 'auto' (default): 50 components when
   * there are more than 100 features, else the standardised features themselves.
   */
  components?: number | 'none' | 'auto';
}

/** One binary logistic regression by Newton–Raphson with an L2 penalty. Returns [w…, b]. */
export function fitLogistic(Z: Matrix, rows: ArrayLike<number>, y: ArrayLike<number>, l2: number, maxIter = 50, tol = 1e-8): Float64Array {
  const p = Z.cols, P = p + 1, z = Z.data, n = rows.length;
  const w = new Float64Array(P);
  let pos = 0;
  for (let t = 0; t < n; t++) pos += y[t]! >= 0.5 ? 1 : 0;
  const rate = Math.min(Math.max(pos / n, 1e-6), 1 - 1e-6);
  w[p] = Math.log(rate / (1 - rate));
  const H = zeros(P, P), g = new Float64Array(P), h = H.data;
  for (let it = 0; it < maxIter; it++) {
    h.fill(0); g.fill(0);
    for (let t = 0; t < n; t++) {
      const o = rows[t]! * p;
      let eta = w[p]!;
      for (let f = 0; f < p; f++) eta += z[o + f]! * w[f]!;
      const mu = 1 / (1 + Math.exp(-eta));
      const r = mu - (y[t]! >= 0.5 ? 1 : 0);
      const s = Math.max(mu * (1 - mu), 1e-10);
      for (let a = 0; a < p; a++) {
        const za = z[o + a]!;
        g[a] += r * za;
        const sa = s * za, ra = a * P;
        for (let b = 0; b <= a; b++) h[ra + b] += sa * z[o + b]!;
        h[ra + p] += sa;
      }
      g[p] += r;
      h[p * P + p] += s;
    }
    for (let a = 0; a < p; a++) {
      g[a] += l2 * w[a]!;
      h[a * P + a] += l2;
      h[p * P + a] = h[a * P + p]!;
      for (let b = 0; b < a; b++) h[b * P + a] = h[a * P + b]!;
    }
    h[p * P + p] += 1e-8; // keeps the intercept's pivot positive when every score saturates
    const step = choleskySolve(cholesky(H), g);
    let maxStep = 0;
    for (let a = 0; a < P; a++) { w[a] -= step[a]!; maxStep = Math.max(maxStep, Math.abs(step[a]!)); }
    if (maxStep < tol) break;
  }
  return w;
}

/** Per-assay L2 logistic regression on (optionally PCA-reduced) standardised profiles. */
export class PerAssayLogistic implements ActivityModel {
  readonly name: string = 'logistic';
  readonly options: Required<LogisticOptions>;
  private std = new Standardizer();
  private projection: Matrix | null = null;
  /** Weights per assay (inputs × assays) and intercepts. */
  private W: Matrix = zeros(0, 0);
  private b = new Float64Array(0);
  degenerateAssays: number[] = [];

  constructor(opts: LogisticOptions = {}) {
    this.options = { l2: opts.l2 ?? 1, maxIter: opts.maxIter ?? 50, tol: opts.tol ?? 1e-8, components: opts.components ?? 'auto' };
  }

  fit(X: Matrix, Y: ActivityMatrix): this {
    if (X.rows !== Y.rows) throw new InputError(`logistic: ${X.rows} profile rows, ${Y.rows} activity rows`);
    const Xs = this.std.fit(X).transform(X);
    const c = this.options.components;
    const nc = c === 'none' ? 0 : c === 'auto' ? (X.cols > 100 ? 50 : 0) : c;
    this.projection = null;
    let Z = Xs;
    if (nc > 0) {
      const eig = symmetricEigen(crossprod(Xs));
      const k = Math.min(nc, X.cols, Math.max(1, X.rows - 1));
      this.projection = takeCols(eig.vectors, Array.from({ length: k }, (_, t) => t));
      Z = gemm(Xs, this.projection);
    }
    const p = Z.cols, m = Y.cols;
    this.W = zeros(p, m);
    this.b = new Float64Array(m);
    this.degenerateAssays = [];
    for (let j = 0; j < m; j++) {
      const lo = Y.colPtr[j]!, hi = Y.colPtr[j + 1]!;
      const rows = Y.colRow.subarray(lo, hi), y = Y.colVal.subarray(lo, hi);
      let pos = 0;
      for (let t = 0; t < y.length; t++) pos += y[t]! >= 0.5 ? 1 : 0;
      if (pos === 0 || pos === y.length) {
        this.degenerateAssays.push(j);
        const rate = y.length ? Math.min(Math.max(pos / y.length, 1e-6), 1 - 1e-6) : 0.5;
        this.b[j] = Math.log(rate / (1 - rate));
        continue;
      }
      const w = fitLogistic(Z, rows, y, this.options.l2, this.options.maxIter, this.options.tol);
      for (let f = 0; f < p; f++) this.W.data[f * m + j] = w[f]!;
      this.b[j] = w[p]!;
    }
    return this;
  }

  /** Log-odds per compound and assay (ranking without the ties of saturated probabilities). */
  rankScores(X: Matrix): Matrix {
    let Z = this.std.transform(X);
    if (this.projection) Z = gemm(Z, this.projection);
    const S = gemm(Z, this.W);
    const s = S.data, m = this.b.length;
    for (let t = 0; t < s.length; t++) s[t] = s[t]! + this.b[t % m]!;
    return S;
  }

  predict(X: Matrix): Matrix {
    const S = this.rankScores(X);
    const s = S.data;
    for (let t = 0; t < s.length; t++) s[t] = 1 / (1 + Math.exp(-s[t]!));
    return S;
  }
}

export interface KnnOptions {
  /** Neighbours per query among the compounds measured in the assay (default 5). */
  k?: number;
  /** Weight neighbours by their (positive part of) cosine similarity (default true). */
  weighted?: boolean;
}

/** kNN on cosine similarity of standardised profiles. */
export class KnnActivity implements ActivityModel {
  readonly name = 'knn';
  readonly options: Required<KnnOptions>;
  private std = new Standardizer();
  private Xtrain: Matrix = zeros(0, 0);
  private Y: ActivityMatrix | null = null;

  constructor(opts: KnnOptions = {}) {
    this.options = { k: opts.k ?? 5, weighted: opts.weighted ?? true };
    if (!(Number.isInteger(this.options.k) && this.options.k >= 1)) throw new RangeError(`knn: k must be a positive integer, got ${this.options.k}`);
  }

  fit(X: Matrix, Y: ActivityMatrix): this {
    if (X.rows !== Y.rows) throw new InputError(`knn: ${X.rows} profile rows, ${Y.rows} activity rows`);
    this.Xtrain = normalizeRowsSafe(this.std.fit(X).transform(X));
    this.Y = Y;
    return this;
  }

  predict(X: Matrix): Matrix {
    const Y = this.Y;
    if (!Y) throw new Error('knn: model is not fitted');
    const Q = normalizeRowsSafe(this.std.transform(X));
    const S = gemmNT(Q, this.Xtrain); // cosine similarities, queries × training compounds
    const nq = Q.rows, nt = this.Xtrain.rows, m = Y.cols, k = this.options.k;
    const out = zeros(nq, m);
    const topS = new Float64Array(k), topY = new Float64Array(k);
    for (let j = 0; j < m; j++) {
      const lo = Y.colPtr[j]!, hi = Y.colPtr[j + 1]!;
      const cnt = hi - lo;
      let pos = 0;
      for (let t = lo; t < hi; t++) pos += Y.colVal[t]! >= 0.5 ? 1 : 0;
      const base = cnt ? pos / cnt : 0;
      const kk = Math.min(k, cnt);
      for (let q = 0; q < nq; q++) {
        if (kk === 0) { out.data[q * m + j] = base; continue; }
        // Insertion into a small sorted buffer: k is tiny, the measured compounds are many.
        let filled = 0;
        const so = q * nt;
        for (let t = lo; t < hi; t++) {
          const s = S.data[so + Y.colRow[t]!]!;
          if (filled === kk && s <= topS[kk - 1]!) continue;
          let p = filled < kk ? filled++ : kk - 1;
          while (p > 0 && topS[p - 1]! < s) { topS[p] = topS[p - 1]!; topY[p] = topY[p - 1]!; p--; }
          topS[p] = s;
          topY[p] = Y.colVal[t]! >= 0.5 ? 1 : 0;
        }
        let num = 0, den = 0;
        for (let t = 0; t < kk; t++) {
          const w = this.options.weighted ? Math.max(topS[t]!, 0) + 1e-9 : 1;
          num += w * topY[t]!;
          den += w;
        }
        out.data[q * m + j] = num / den;
      }
    }
    return out;
  }
}

function normalizeRowsSafe(X: Matrix): Matrix {
  const d = X.cols, x = X.data;
  for (let i = 0; i < X.rows; i++) {
    let s = 0;
    for (let f = 0; f < d; f++) s += x[i * d + f]! * x[i * d + f]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let f = 0; f < d; f++) x[i * d + f] *= inv;
  }
  return X;
}

const CELL_COUNT_NAMES = [
  'metadata_count_cells', 'count_cells', 'image_count_cells', 'metadata_cell_count', 'cell_count', 'cellcount',
  'cells_number_object_number', 'relative well cellcount', 'nuclei_number_object_number', 'image_count_nuclei',
  'count_nuclei',
];

/**
 * Index and name of a cell-count column, or null: known names first (case-insensitive:
 * Metadata_Count_Cells, Count_Cells, Cells_Number_Object_Number, "Relative well cellcount", …),
 * then any name containing "cellcount"/"cell_count"/"count_cells", then any containing "count"
 * — skipping per-object child counts ("children") and derived flags ("significant").
 */
export function findCellCountColumn(names: readonly string[]): { index: number; name: string } | null {
  const lower = names.map((n) => n.toLowerCase());
  for (const want of CELL_COUNT_NAMES) {
    const i = lower.indexOf(want);
    if (i >= 0) return { index: i, name: names[i]! };
  }
  const excluded = (s: string) => s.includes('children') || s.includes('significant');
  const tiers = [
    (s: string) => /cell\s*_?count|count_?cells|cells?_?number|count_?nuclei/.test(s),
    (s: string) => s.includes('count'),
  ];
  for (const tier of tiers) {
    const i = lower.findIndex((s) => tier(s) && !excluded(s));
    if (i >= 0) return { index: i, name: names[i]! };
  }
  return null;
}

/** Logistic regression on one cell-count column of X. */
export class CellCountModel implements ActivityModel {
  readonly name = 'cellcount';
  private inner: PerAssayLogistic;
  constructor(readonly column: number, opts: Omit<LogisticOptions, 'components'> = {}) {
    this.inner = new PerAssayLogistic({ ...opts, components: 'none' });
  }
  get degenerateAssays(): number[] {
    return this.inner.degenerateAssays;
  }
  fit(X: Matrix, Y: ActivityMatrix): this {
    this.check(X);
    this.inner.fit(takeCols(X, [this.column]), Y);
    return this;
  }
  rankScores(X: Matrix): Matrix {
    this.check(X);
    return this.inner.rankScores(takeCols(X, [this.column]));
  }
  predict(X: Matrix): Matrix {
    this.check(X);
    return this.inner.predict(takeCols(X, [this.column]));
  }
  private check(X: Matrix): void {
    if (!(this.column >= 0 && this.column < X.cols)) throw new InputError(`cell-count column ${this.column} is outside the ${X.cols} feature columns`);
  }
}
