/**
 * Exact order statistics of large arrays without an n-sized copy.
 *
 * `median` follows numpy's `np.median` (mean of the two middle values for an even count,
 * computed as (a + b) / 2). Small arrays are copied and sorted; large ones (e.g. the n² entries
 * of an affinity-propagation similarity matrix, 800 MB at n = 10,000) are narrowed by
 * histogram passes: bucket indices are monotone in the value, so each bucket is a contiguous
 * value range [min_b, max_b] and the next pass only looks at values inside it. Memory stays
 * O(buckets + one small bucket's values).
 */

const SORT_LIMIT = 1 << 16;
const BUCKETS = 4096;

/** k-th smallest value (0-based) of `data`; `data` must not contain NaN. Does not modify `data`. */
export function kthSmallest(data: ArrayLike<number>, k: number): number {
  return kthPair(data, k)[0];
}

/** The k-th and (k+1)-th smallest values (the second is NaN when k is the last index). */
export function kthPair(data: ArrayLike<number>, k: number): [number, number] {
  const n = data.length;
  if (!(k >= 0 && k < n) || !Number.isInteger(k)) throw new RangeError(`kthSmallest: k=${k} out of range for length ${n}`);
  if (n <= SORT_LIMIT) {
    const c = Float64Array.from(data as ArrayLike<number>);
    c.sort();
    return [c[k]!, k + 1 < n ? c[k + 1]! : NaN];
  }
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let kk = k;
  // The (k+1)-th value when it lies above the current range (smallest value of a later bucket).
  let next = NaN;
  const counts = new Float64Array(BUCKETS);
  const bmin = new Float64Array(BUCKETS);
  const bmax = new Float64Array(BUCKETS);
  let rangeCount = n;
  for (;;) {
    if (lo === hi) return [lo, kk + 1 < rangeCount ? lo : next];
    const width = (hi - lo) / BUCKETS;
    counts.fill(0);
    bmin.fill(Infinity);
    bmax.fill(-Infinity);
    let inRange = 0;
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      if (v < lo || v > hi) continue;
      let b = Math.floor((v - lo) / width);
      if (b >= BUCKETS) b = BUCKETS - 1;
      else if (b < 0) b = 0;
      counts[b]!++;
      if (v < bmin[b]!) bmin[b] = v;
      if (v > bmax[b]!) bmax[b] = v;
      inRange++;
    }
    let b = 0;
    let before = 0;
    while (b < BUCKETS && before + counts[b]! <= kk) before += counts[b++]!;
    if (b >= BUCKETS || inRange === 0) throw new Error('kthSmallest: inconsistent histogram (NaN in data?)');
    kk -= before;
    if (kk + 1 >= counts[b]!) {
      for (let c = b + 1; c < BUCKETS; c++) {
        if (counts[c]! > 0) {
          next = bmin[c]!;
          break;
        }
      }
    }
    rangeCount = counts[b]!;
    lo = bmin[b]!;
    hi = bmax[b]!;
    if (counts[b]! <= SORT_LIMIT) {
      const vals = new Float64Array(counts[b]!);
      let m = 0;
      for (let i = 0; i < n; i++) {
        const v = data[i]!;
        if (v >= lo && v <= hi) vals[m++] = v;
      }
      vals.sort();
      return [vals[kk]!, kk + 1 < m ? vals[kk + 1]! : next];
    }
  }
}

/** numpy-compatible median of all values (NaN if any value is NaN, as numpy), without copying large arrays. */
export function medianNoCopy(data: ArrayLike<number>): number {
  const n = data.length;
  if (n === 0) return NaN;
  for (let i = 0; i < n; i++) if (Number.isNaN(data[i])) return NaN;
  if (n <= SORT_LIMIT) {
    const c = Float64Array.from(data as ArrayLike<number>);
    c.sort();
    const h = n >> 1;
    return n % 2 ? c[h]! : (c[h - 1]! + c[h]!) / 2;
  }
  const h = n >> 1;
  if (n % 2) return kthSmallest(data, h);
  const [a, b] = kthPair(data, h - 1);
  return (a + b) / 2;
}

/**
 * The k-th and (k+1)-th smallest values of `a` (the second NaN when k is the last index), found by
 * quickselect in place: `a` is reordered. O(n) on average instead of a sort's O(n log n), for the
 * many short columns of a robust-scale fit. Equal to the sorted array's a[k], a[k + 1] (values
 * only: -0 and +0 compare equal here). `a` must not contain NaN.
 */
export function kthPairInPlace(a: Float64Array, k: number): [number, number] {
  const n = a.length;
  if (!(k >= 0 && k < n) || !Number.isInteger(k)) throw new RangeError(`kthPairInPlace: k=${k} out of range for length ${n}`);
  selectInPlace(a, 0, n - 1, k);
  const v = a[k]!;
  if (k + 1 >= n) return [v, NaN];
  let next = Infinity;
  for (let t = k + 1; t < n; t++) if (a[t]! < next) next = a[t]!;
  return [v, next];
}

/**
 * Place the value of rank (t − lo) of a[lo … hi] at index t and return it (Hoare partition,
 * median-of-3 pivot, insertion sort below 16 values): afterwards a[lo … t] ≤ a[t] ≤ a[t … hi].
 */
export function selectInPlace(a: Float64Array, lo: number, hi: number, t: number): number {
  while (hi > lo) {
    if (hi - lo < 16) {
      for (let i = lo + 1; i <= hi; i++) {
        const v = a[i]!;
        let j = i - 1;
        while (j >= lo && a[j]! > v) {
          a[j + 1] = a[j]!;
          j--;
        }
        a[j + 1] = v;
      }
      return a[t]!;
    }
    const mid = (lo + hi) >> 1;
    // Median of three as the pivot guards against sorted input.
    let x = a[lo]!, y = a[mid]!, z = a[hi]!;
    if (x > y) [x, y] = [y, x];
    if (y > z) [y, z] = [z, y];
    if (x > y) [x, y] = [y, x];
    const pivot = y;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    // Now a[lo … j] ≤ pivot ≤ a[i … hi], and a[j+1 … i−1] equal the pivot.
    if (t <= j) hi = j;
    else if (t >= i) lo = i;
    else return a[t]!;
  }
  return a[t]!;
}

/** Whether a double's low 32 bits come first in memory (the radix sort below reads them so). */
const LITTLE_ENDIAN = new Uint32Array(Float64Array.of(1).buffer)[1] === 0x3ff00000;

/**
 * Sort `a` ascending in place, every value ≥ +0 and finite or +∞ (no NaN, no −0): for such doubles
 * the IEEE bit patterns, read as unsigned integers, are in the order of the values, so a least-
 * significant-digit radix sort on four 16-bit digits orders them exactly — O(n) where the engine's
 * comparison sort of a Float64Array spends ≈ 100 ns per value. Equal values are interchangeable.
 */
export function sortNonNegativeInPlace(a: Float64Array): Float64Array {
  const n = a.length;
  for (let i = 0; i < n; i++) {
    if (!(a[i]! >= 0) || Object.is(a[i], -0)) throw new RangeError(`sortNonNegativeInPlace: value ${a[i]} at ${i} is not ≥ +0`);
  }
  if (n < 64 || !LITTLE_ENDIAN) return a.sort();
  let src: Uint32Array = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  let dst: Uint32Array = new Uint32Array(2 * n);
  const count = new Int32Array(65536);
  // Little-endian halves: word 2i is the low 32 bits of value i, 2i + 1 the high.
  for (let pass = 0; pass < 4; pass++) {
    const word = pass >> 1, shift = (pass & 1) * 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(src[2 * i + word]! >>> shift) & 0xffff]++;
    let sum = 0;
    for (let b = 0; b < 65536; b++) {
      const c = count[b]!;
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const b = (src[2 * i + word]! >>> shift) & 0xffff;
      const p = 2 * count[b]!;
      count[b] = p / 2 + 1;
      dst[p] = src[2 * i]!;
      dst[p + 1] = src[2 * i + 1]!;
    }
    [src, dst] = [dst, src];
  }
  // After an even number of passes the sorted words are back in `a`'s own memory.
  return a;
}
