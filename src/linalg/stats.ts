/**
 * Column statistics on row-major matrices. Means use two passes (mean, then a correction from
 * the residual sum) so results agree with numpy's pairwise summation to ~1e-16 relative.
 */
import type { Matrix, StoredMatrix } from './matrix.js';
import { native } from './native.js';

export function columnMeans(X: StoredMatrix, out?: Float64Array): Float64Array {
  const n = X.rows, d = X.cols, x = X.data;
  const m = out ?? new Float64Array(d);
  const nat = native();
  if (nat && x instanceof Float64Array) {
    // columnStats' passes 1 and 2 are these two passes (same sums, same order).
    const sum = new Float64Array(d), mean0 = new Float64Array(d), res = new Float64Array(d), ss = new Float64Array(d);
    nat.colMoments(x, n, d, sum, new Uint8Array(d), mean0, res, ss);
    for (let j = 0; j < d; j++) m[j] = mean0[j]! + res[j]! / n;
    return m;
  }
  m.fill(0);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) m[j] += x[o + j]!;
  }
  for (let j = 0; j < d; j++) m[j] /= n;
  // Second pass: add the mean residual (removes most of the first pass's rounding error).
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) c[j] += x[o + j]! - m[j]!;
  }
  for (let j = 0; j < d; j++) m[j] += c[j]! / n;
  return m;
}

/** Column standard deviations (population when ddof = 0), from centred sums of squares. */
export function columnStd(X: StoredMatrix, ddof = 0, means?: Float64Array): Float64Array {
  const n = X.rows, d = X.cols, x = X.data;
  const m = means ?? columnMeans(X);
  const ss = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const t = x[o + j]! - m[j]!;
      ss[j] += t * t;
    }
  }
  const denom = n - ddof;
  for (let j = 0; j < d; j++) ss[j] = denom > 0 ? Math.sqrt(ss[j]! / denom) : NaN;
  return ss;
}

/** Population variance of each column. */
export function columnVariance(X: StoredMatrix, means?: Float64Array): Float64Array {
  const s = columnStd(X, 0, means);
  for (let j = 0; j < s.length; j++) s[j] = s[j]! * s[j]!;
  return s;
}

/** Subtract a vector from every row (in place). */
export function centerColumns(X: Matrix, means: ArrayLike<number>): Matrix {
  const n = X.rows, d = X.cols, x = X.data;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) x[o + j] -= means[j]!;
  }
  return X;
}

/** Median of a numeric array (copy-sorted; NaN values ignored; NaN when empty). */
export function median(values: ArrayLike<number>): number {
  const a = Float64Array.from(values).filter((v) => !Number.isNaN(v)).sort();
  const n = a.length;
  if (!n) return NaN;
  return n % 2 ? a[(n - 1) >> 1]! : 0.5 * (a[n / 2 - 1]! + a[n / 2]!);
}

/** Percentile with linear interpolation (numpy's default method). q in [0, 100]. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const a = Float64Array.from(values).sort();
  return percentileSorted(a, q);
}

export function percentileSorted(a: Float64Array, q: number): number {
  const n = a.length;
  if (!n) return NaN;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  const frac = pos - lo;
  // numpy computes lo + (hi − lo)·frac via its _lerp, which is symmetric for frac ≥ 0.5.
  const a0 = a[lo]!, a1 = a[hi]!;
  const diff = a1 - a0;
  return frac >= 0.5 ? a1 - diff * (1 - frac) : a0 + diff * frac;
}
