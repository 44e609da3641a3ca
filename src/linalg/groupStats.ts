/**
 * Per-column median or mean over a subset of the rows of a row-major block — the kernel of
 * aggregating single cells into a well profile (one call per well and compartment).
 *
 * Semantics are pandas' `groupby(...).median()` / `.mean()` (what pycytominer's `aggregate`
 * calls): NaN is missing and skipped per column; a column with no value gives NaN; the median of
 * an even count is (a + b) / 2 of the two middle values; the mean is the compensated sum
 * (pandas' group_mean uses Kahan summation) divided by the count.
 *
 * The selected rows are first transposed, a block of columns at a time, into a column-major
 * scratch buffer, so every column's values are contiguous; the median is then found by
 * selection (Hoare's quickselect, median-of-three pivots) in O(m) per column instead of a sort.
 * The native addon has the same loops in C (native/kernels.c `subsetStats`, bit-identical:
 * selection is exact and the sums run in the same order); this file is its JavaScript twin.
 */
import { native } from './native.js';
import { selectInPlace } from './select.js';

export type GroupOperation = 'median' | 'mean';

/** Columns transposed per block: a block of rows × 64 columns stays in L2 while it is written. */
const COL_BLOCK = 64;

/**
 * out[outOffset + j] = op over rows `rows` (indices into X) of column j, for j < cols.
 * `scratch` needs rows.length × min(cols, 64) values; it is overwritten.
 */
export function subsetColumnStats(
  X: Float64Array,
  cols: number,
  rows: Int32Array,
  op: GroupOperation,
  out: Float64Array,
  outOffset: number,
  scratch: Float64Array,
): void {
  const nat = native();
  if (nat) return nat.subsetStats(X, cols, rows, op === 'median' ? 0 : 1, out, outOffset, scratch);
  subsetColumnStatsJs(X, cols, rows, op, out, outOffset, scratch);
}

/** The JavaScript twin of the native kernel (also the path without the addon). */
export function subsetColumnStatsJs(
  X: Float64Array,
  cols: number,
  rows: Int32Array,
  op: GroupOperation,
  out: Float64Array,
  outOffset: number,
  scratch: Float64Array,
): void {
  const m = rows.length;
  if (m === 0) {
    out.fill(NaN, outOffset, outOffset + cols);
    return;
  }
  for (let j0 = 0; j0 < cols; j0 += COL_BLOCK) {
    const w = Math.min(COL_BLOCK, cols - j0);
    // Transpose: scratch[q * m + r] = X[rows[r] * cols + j0 + q].
    for (let r = 0; r < m; r++) {
      const base = rows[r]! * cols + j0;
      for (let q = 0; q < w; q++) scratch[q * m + r] = X[base + q]!;
    }
    for (let q = 0; q < w; q++) {
      const a = q * m;
      out[outOffset + j0 + q] = op === 'median' ? medianOfRange(scratch, a, m) : meanOfRange(scratch, a, m);
    }
  }
}

/** Scratch length subsetColumnStats needs for `rows` rows. */
export function subsetScratchLength(rows: number, cols: number): number {
  return rows * Math.min(cols, COL_BLOCK);
}

/** Compensated (Neumaier) mean of the non-NaN values of a[from … from+n); NaN when there are none. */
export function meanOfRange(a: Float64Array, from: number, n: number): number {
  let s = 0;
  let c = 0;
  let k = 0;
  let finite = true;
  for (let i = from; i < from + n; i++) {
    const v = a[i]!;
    if (v !== v) continue;
    k++;
    if (v - v !== 0) finite = false;
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  if (k === 0) return NaN;
  // With an infinite value the compensation is meaningless (inf − inf); the plain sum is the answer.
  return (finite && Number.isFinite(s) ? s + c : s) / k;
}

/**
 * Median of the non-NaN values of a[from … from+n), found by selection; reorders that range.
 * NaN when there are no values.
 */
export function medianOfRange(a: Float64Array, from: number, n: number): number {
  // Move the NaNs out of the way: values first, count them.
  let k = from;
  for (let i = from; i < from + n; i++) {
    const v = a[i]!;
    if (v === v) a[k++] = v;
  }
  const len = k - from;
  if (len === 0) return NaN;
  const h = from + (len >> 1);
  const upper = selectInPlace(a, from, k - 1, h);
  if (len & 1) return upper;
  // After selection every value left of h is ≤ a[h]: the lower middle is their maximum.
  let lower = -Infinity;
  for (let i = from; i < h; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + upper) / 2;
}

