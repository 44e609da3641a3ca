/**
 * Small order statistics and grouping helpers shared by the preprocessing steps. They follow
 * numpy/pandas conventions so results match pycytominer: NaN is "missing" and skipped,
 * quantiles use numpy's default linear interpolation (including its `_lerp` rounding rule),
 * the median of an even count is the mean of the two middle values, ranks are averaged on ties.
 */
import type { Profiles } from '../io/profiles.js';
import { cellString, getMeta } from '../io/profiles.js';

/**
 * Copy the finite-or-infinite (non-NaN) values of column j over the given rows into `buf`
 * and sort them ascending; returns how many there were.
 */
export function gatherSorted(
  data: Float64Array,
  cols: number,
  j: number,
  rows: ArrayLike<number>,
  buf: Float64Array,
): number {
  let k = 0;
  for (let r = 0; r < rows.length; r++) {
    const v = data[rows[r]! * cols + j]!;
    if (v === v) buf[k++] = v;
  }
  buf.subarray(0, k).sort();
  return k;
}

/** Median of the first n (sorted) values; NaN when n = 0. */
export function medianSorted(a: Float64Array, n: number): number {
  if (n === 0) return NaN;
  const h = n >> 1;
  return n & 1 ? a[h]! : (a[h - 1]! + a[h]!) / 2;
}

/** numpy's `_lerp`: a + (b−a)·t, computed from the nearer end so q = 1 returns b exactly. */
function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/** Quantile q ∈ [0, 1] of the first n sorted values (numpy 'linear'); NaN when n = 0. */
export function quantileSorted(a: Float64Array, n: number, q: number): number {
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return lerp(a[lo]!, a[hi]!, pos - lo);
}

/** Median of |x − m| over the first n values of `a` (any order); uses `tmp` as scratch. */
export function madAround(a: Float64Array, n: number, m: number, tmp: Float64Array): number {
  for (let i = 0; i < n; i++) tmp[i] = Math.abs(a[i]! - m);
  const s = tmp.subarray(0, n).sort();
  return medianSorted(s, n);
}

/**
 * Average ranks (1-based, ties share the mean of their positions) of `x`, written to `out`.
 * NaN inputs get NaN ranks and do not take a position (pandas `rank(method='average')`).
 */
export function averageRanks(x: ArrayLike<number>, out: Float64Array): Float64Array {
  const n = x.length;
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(x[i]!)) out[i] = NaN;
    else idx.push(i);
  }
  idx.sort((a, b) => x[a]! - x[b]! || a - b);
  const m = idx.length;
  let i = 0;
  while (i < m) {
    let j = i;
    const v = x[idx[i]!]!;
    while (j + 1 < m && x[idx[j + 1]!]! === v) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[idx[k]!] = r;
    i = j + 1;
  }
  return out;
}

/** Groups of rows sharing the same values of some metadata columns. */
export interface RowGroups {
  /** The grouping columns. */
  readonly columns: string[];
  /** Per group, the key values (null = missing), in order of first appearance. */
  readonly keys: (string | null)[][];
  /** Per group, its row indices (ascending). */
  readonly rows: Int32Array[];
  /** Number of groups whose key has a missing value. */
  readonly missingKeyGroups: number;
}

/** "Metadata_Plate=P1, Metadata_Well=A01" — a group's key for messages. */
export function groupLabel(g: RowGroups, k: number): string {
  if (g.columns.length === 0) return 'all rows';
  return g.columns.map((c, i) => `${c}=${g.keys[k]![i] ?? '(missing)'}`).join(', ');
}

/**
 * Group rows by the given metadata columns (order of first appearance). No columns → one group
 * of all rows. Missing values form their own group (pandas would silently drop those rows).
 */
export function groupRows(p: Profiles, columns: string[]): RowGroups {
  const n = p.X.rows;
  if (columns.length === 0) {
    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    return { columns: [], keys: [[]], rows: [all], missingKeyGroups: 0 };
  }
  const cols = columns.map((c) => getMeta(p, c));
  const index = new Map<string, number>();
  const keys: (string | null)[][] = [];
  const members: number[][] = [];
  let missingKeyGroups = 0;
  for (let i = 0; i < n; i++) {
    const key = cols.map((c) => cellString(c, i));
    // \u0000 cannot occur in CSV text cells, so it separates key parts unambiguously.
    const id = key.map((v) => (v === null ? '\u0001' : v)).join('\u0000');
    let g = index.get(id);
    if (g === undefined) {
      g = keys.length;
      index.set(id, g);
      keys.push(key);
      members.push([]);
      if (key.some((v) => v === null)) missingKeyGroups++;
    }
    members[g]!.push(i);
  }
  return { columns: [...columns], keys, rows: members.map((m) => Int32Array.from(m)), missingKeyGroups };
}

const SQRT2PI = Math.sqrt(2 * Math.PI);

/**
 * Standard normal upper tail Q(x) = 1 − Φ(x) to ~1e-15 relative: for |x| < 3 from
 * Φ(x) = 1/2 + φ(x)·(x + x³/3 + x⁵/(3·5) + …) (positive terms, no cancellation in the series),
 * beyond from the Laplace continued fraction of Mills' ratio (modified Lentz).
 */
export function normalUpperTail(x: number): number {
  if (x !== x) return NaN;
  if (x < 0) return 1 - normalUpperTail(-x);
  const pdf = Math.exp(-0.5 * x * x) / SQRT2PI;
  if (x < 3) {
    let term = x, sum = x;
    for (let k = 3; term > 1e-17 * sum; k += 2) {
      term *= (x * x) / k;
      sum += term;
    }
    return 0.5 - pdf * sum;
  }
  // Q(x) = φ(x) / (x + 1/(x + 2/(x + 3/(x + …))))
  const tiny = 1e-300;
  let f = x, C = x, D = 0;
  for (let k = 1; k < 500; k++) {
    D = x + k * D;
    C = x + k / C;
    if (Math.abs(D) < tiny) D = tiny;
    if (Math.abs(C) < tiny) C = tiny;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return pdf / f;
}

/**
 * Standard normal quantile Φ⁻¹(p) (scipy.stats.norm.ppf): Acklam's rational approximation
 * (relative error < 1.2e-9) refined by one Halley step on the accurate tail above, so the result
 * is good to ~1e-15. As scipy's ndtri, p above 1 − e⁻² is mirrored through 1 − p.
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p > 1 - Math.exp(-2)) return -normalQuantile(1 - p);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else {
    const q = p - 0.5, r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  }
  // Halley: e = Φ(x) − p, on the side where Φ(x) is small enough to be exact.
  for (let it = 0; it < 2; it++) {
    const e = (x < 0 ? normalUpperTail(-x) : 1 - normalUpperTail(x)) - p;
    const u = e * SQRT2PI * Math.exp(0.5 * x * x);
    x -= u / (1 + 0.5 * x * u);
  }
  return x;
}
