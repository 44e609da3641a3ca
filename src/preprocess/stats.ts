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
