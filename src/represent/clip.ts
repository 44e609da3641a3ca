/**
 * Robust clipping (winsorising) of features, fitted on training rows only.
 *
 * After robust normalisation Cell Painting features reach hundreds of MADs (BBBC021 z-scores
 * reach ~25 s.d., cell-injury features ~1,300 MADs): a few wells then dominate every covariance a
 * learner estimates. The clipper learns per-feature bounds on the rows it is fitted on and clamps
 * every row (fitted or not) into them, so a held-out row never influences its own bounds.
 *
 * - 'mad': [median − t·s, median + t·s], s = 1.4826·MAD (the normal-consistent MAD); a feature
 *   with MAD 0 falls back to the standard deviation, and with that 0 too it is left as is.
 * - 'quantile': [q_lower, q_upper] of the fitted rows, linear interpolation between order
 *   statistics (numpy's default `np.quantile`).
 */
import { type Matrix, type StoredMatrix, kthPairInPlace, zeros } from '../linalg/index.js';
import { InputError } from '../util/errors.js';

export type ClipMethod = 'mad' | 'quantile';

export interface ClipOptions {
  /** 'mad' (default) or 'quantile'. */
  method?: ClipMethod;
  /** 'mad': half-width in robust s.d. units. Default 5. */
  threshold?: number;
  /** 'quantile': lower and upper quantiles in [0, 1]. Default 0.01 / 0.99. */
  lower?: number;
  upper?: number;
}

export class RobustClipper {
  readonly method: ClipMethod;
  readonly threshold: number;
  readonly lower: number;
  readonly upper: number;
  lo?: Float64Array;
  hi?: Float64Array;
  /** Share of the fitted rows' values that were clamped (reported by callers). */
  clippedFraction = NaN;

  constructor(opts: ClipOptions = {}) {
    this.method = opts.method ?? 'mad';
    this.threshold = opts.threshold ?? 5;
    this.lower = opts.lower ?? 0.01;
    this.upper = opts.upper ?? 0.99;
    if (this.method !== 'mad' && this.method !== 'quantile') throw new InputError(`clip: method must be 'mad' or 'quantile', got "${String(this.method)}"`);
    if (!(this.threshold > 0)) throw new InputError(`clip: threshold must be > 0, got ${this.threshold}`);
    if (!(this.lower >= 0 && this.lower < this.upper && this.upper <= 1)) {
      throw new InputError(`clip: quantiles must satisfy 0 ≤ lower < upper ≤ 1, got ${this.lower} and ${this.upper}`);
    }
  }

  fit(X: StoredMatrix): this {
    const { rows: n, cols: d, data } = X;
    if (n < 2) throw new InputError(`clip: needs at least 2 rows to fit, got ${n}`);
    const lo = new Float64Array(d), hi = new Float64Array(d);
    const col = new Float64Array(n);
    const dev = new Float64Array(n);
    for (let j = 0; j < d; j++) {
      for (let i = 0; i < n; i++) {
        const v = data[i * d + j]!;
        if (!Number.isFinite(v)) throw new InputError(`clip: non-finite value at row ${i + 1}, column ${j + 1}`);
        col[i] = v;
      }
      if (this.method === 'quantile') {
        col.sort();
        lo[j] = quantileSorted(col, this.lower);
        hi[j] = quantileSorted(col, this.upper);
        continue;
      }
      // Medians from the two middle order statistics (quickselect), as quantileSorted takes them.
      const med = middle(col);
      for (let i = 0; i < n; i++) dev[i] = Math.abs(col[i]! - med);
      let s = 1.4826 * middle(dev);
      if (!(s > 0)) {
        // The fallback's sums run over the sorted column, as they always did.
        col.sort();
        let m = 0, q = 0;
        for (let i = 0; i < n; i++) m += col[i]!;
        m /= n;
        for (let i = 0; i < n; i++) q += (col[i]! - m) ** 2;
        s = Math.sqrt(q / (n - 1));
      }
      lo[j] = s > 0 ? med - this.threshold * s : -Infinity;
      hi[j] = s > 0 ? med + this.threshold * s : Infinity;
    }
    this.lo = lo;
    this.hi = hi;
    let clipped = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const v = data[i * d + j]!;
        if (v < lo[j]! || v > hi[j]!) clipped++;
      }
    }
    this.clippedFraction = clipped / (n * d);
    return this;
  }

  /** X with every entry clipped to its feature's bounds; `into` (n × d) receives it instead of a new matrix. */
  transform(X: StoredMatrix, into?: Matrix): Matrix {
    const { lo, hi } = this;
    if (!lo || !hi) throw new Error('RobustClipper.transform called before fit');
    const { rows: n, cols: d, data } = X;
    if (d !== lo.length) throw new InputError(`clip: data has ${d} features, the clipper was fitted on ${lo.length}`);
    if (into && (into.rows !== n || into.cols !== d)) throw new RangeError(`clip: output is ${into.rows} × ${into.cols}, the data ${n} × ${d}`);
    const out = into ?? zeros(n, d);
    const o = out.data;
    for (let i = 0; i < n; i++) {
      const b = i * d;
      for (let j = 0; j < d; j++) {
        const v = data[b + j]!;
        o[b + j] = v < lo[j]! ? lo[j]! : v > hi[j]! ? hi[j]! : v;
      }
    }
    return out;
  }
}

/** quantileSorted(sorted a, 0.5) without sorting: a is reordered. */
function middle(a: Float64Array): number {
  const pos = 0.5 * (a.length - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  const [v, w] = kthPairInPlace(a, i);
  return i + 1 < a.length ? v + f * (w - v) : v;
}

/** numpy's default (linear) quantile of an ascending array. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < n ? sorted[i]! + f * (sorted[i + 1]! - sorted[i]!) : sorted[n - 1]!;
}
