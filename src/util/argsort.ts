/**
 * The order numpy's `argsort(kind='quicksort')` gives a float64 array, ties included.
 *
 * Why: pandas' `sort_values` is that argsort, and reference code ranks by it (pycytominer's
 * correlation_threshold ranks features by Σ|r| and drops the later member of each correlated
 * pair). The sort is not stable, but it is deterministic: exactly tied values come out in the order
 * its partitioning leaves them, so the same algorithm on the same values gives the same ranks.
 *
 * The algorithm (numpy ≤ 1.24 for float64 on every CPU; numpy ≥ 1.25 sends 64-bit argsort to
 * AVX-512 code where the CPU has it, whose tie order differs): an introsort on the index array —
 * quicksort with the median of the first, middle and last element as pivot (the three put in order
 * in place), the larger part deferred on a stack; parts of at most 16 elements by insertion sort;
 * a part whose depth budget (2·⌊log₂ n⌋, one less per partition) is spent when it is taken off the
 * stack by heapsort. NaN sorts after every number.
 */

/** a < b, with NaN the largest (numpy's order for floats). */
function less(a: number, b: number): boolean {
  return a < b || (b !== b && a === a);
}

/** ⌊log₂ n⌋ for n ≥ 1. */
function floorLog2(n: number): number {
  let k = 0;
  while ((n = Math.floor(n / 2)) > 0) k++;
  return k;
}

/** Heapsort of idx[lo .. lo + n − 1] by v (a 1-based max-heap over that range). */
function heapsortRange(v: ArrayLike<number>, idx: Int32Array, lo: number, n: number): void {
  const at = (k: number) => lo + k - 1;
  const siftDown = (start: number, size: number, item: number) => {
    let i = start;
    for (let j = 2 * i; j <= size; ) {
      if (j < size && less(v[idx[at(j)]!]!, v[idx[at(j + 1)]!]!)) j++;
      if (!less(v[item]!, v[idx[at(j)]!]!)) break;
      idx[at(i)] = idx[at(j)]!;
      i = j;
      j *= 2;
    }
    idx[at(i)] = item;
  };
  for (let l = Math.floor(n / 2); l > 0; l--) siftDown(l, n, idx[at(l)]!);
  for (let size = n; size > 1; ) {
    const item = idx[at(size)]!;
    idx[at(size)] = idx[at(1)]!;
    size--;
    siftDown(1, size, item);
  }
}

/** Indices that sort `v` ascending, in the order numpy's argsort(kind='quicksort') gives (see above). */
export function argsortQuick(v: ArrayLike<number>): Int32Array {
  const n = v.length;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  if (n < 2) return idx;
  const swap = (a: number, b: number) => {
    const t = idx[a]!;
    idx[a] = idx[b]!;
    idx[b] = t;
  };
  const val = (p: number) => v[idx[p]!]!;
  // Deferred parts: [lo, hi, depth] triples.
  const stack: number[] = [];
  let lo = 0, hi = n - 1;
  let depth = 2 * floorLog2(n);
  for (;;) {
    if (depth < 0) heapsortRange(v, idx, lo, hi - lo + 1);
    else {
      while (hi - lo > 15) {
        const mid = lo + ((hi - lo) >> 1);
        if (less(val(mid), val(lo))) swap(mid, lo);
        if (less(val(hi), val(mid))) swap(hi, mid);
        if (less(val(mid), val(lo))) swap(mid, lo);
        const pivot = val(mid);
        let i = lo, j = hi - 1;
        swap(mid, j);
        for (;;) {
          do i++;
          while (less(val(i), pivot));
          do j--;
          while (less(pivot, val(j)));
          if (i >= j) break;
          swap(i, j);
        }
        swap(i, hi - 1);
        depth--;
        if (i - lo < hi - i) {
          stack.push(i + 1, hi, depth);
          hi = i - 1;
        } else {
          stack.push(lo, i - 1, depth);
          lo = i + 1;
        }
      }
      for (let i = lo + 1; i <= hi; i++) {
        const item = idx[i]!;
        const x = v[item]!;
        let j = i;
        while (j > lo && less(x, val(j - 1))) {
          idx[j] = idx[j - 1]!;
          j--;
        }
        idx[j] = item;
      }
    }
    if (stack.length === 0) break;
    depth = stack.pop()!;
    hi = stack.pop()!;
    lo = stack.pop()!;
  }
  return idx;
}

/** Indices that sort `v` ascending in the order numpy's argsort(kind='heapsort') gives (the fallback above, on the whole array). */
export function argsortHeap(v: ArrayLike<number>): Int32Array {
  const idx = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) idx[i] = i;
  if (v.length > 1) heapsortRange(v, idx, 0, v.length);
  return idx;
}
