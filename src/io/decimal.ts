/**
 * Decimal text → float64, correctly rounded (round to nearest, ties to even), as DuckDB's DOUBLE
 * cast and JavaScript's Number() round: the text reader gives the same bits either would.
 *
 * The reader accumulates a field's significant digits itself (decimalValue below receives the
 * first 15 as `hi`, the next up to 4 as `lo`, and the power of ten). Then:
 * - ≤ 15 digits and |power| ≤ 22: Clinger's fast path — the integer and the power of ten are both
 *   exact doubles, so one IEEE multiplication or division is the correctly rounded value
 *   (W. D. Clinger, "How to read floating point numbers accurately", PLDI 1990).
 * - 16–19 digits (pandas writes up to 17): the integer is formed exactly as a double-double, scaled
 *   by the exact power of ten with error-free products (Dekker 1971), leaving the value as h + l
 *   with a relative error below 2⁻¹⁰⁰. h is the correctly rounded value unless h + l lies within
 *   that error of a halfway point between two doubles; only then (about once in 2³⁷ fields, and for
 *   exact ties such as 9007199254740993) does the caller fall back to Number() on the text.
 * Everything else (more digits, larger powers, inf/nan words, DuckDB's 1_000 digit groups) takes
 * the text path in parseDecimalText, which follows DuckDB's CSV grammar for DOUBLE columns.
 */

/** Exact powers of ten 10⁰ … 10²² (every one is a double). */
const P10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Dekker's splitter 2²⁷ + 1: x·SPLIT separates a double into two 26-bit halves. */
const SPLIT = 134217729;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** 2^(e − 1075) for every biased exponent e: the spacing of doubles with that exponent. */
const ULP = Float64Array.from({ length: 2048 }, (_, e) => 2 ** (Math.max(e, 1) - 1075));
/** Relative distance from a halfway point below which the double-double result is not trusted. */
const TIE_MARGIN = 2 ** -90;

/**
 * out[0] = the correctly rounded double of (hi·10^nLo + lo)·10^exp10; false (out untouched) when
 * this fast path cannot decide and the caller must convert the text. hi < 10¹⁵ holds the first
 * ≤ 15 significant digits, lo < 10^nLo the next nLo ≤ 4. The result goes through `out` so that a
 * call allocates nothing (a returned double would be boxed when the call is not inlined).
 * Dekker's split product and Knuth's TwoSum are written out inline for the same reason.
 */
export function decimalInto(hi: number, lo: number, nLo: number, exp10: number, out: Float64Array): boolean {
  if (nLo === 0) {
    if (exp10 === 0) out[0] = hi;
    else if (exp10 > 0 && exp10 <= 22) out[0] = hi * P10[exp10]!;
    else if (exp10 < 0 && exp10 >= -22) out[0] = hi / P10[-exp10]!;
    else return false;
    return true;
  }
  if (exp10 > 22 || exp10 < -22) return false;
  // w = hi·10^nLo + lo exactly, as wh + wl: an exact product, then an exact sum.
  let a = hi, b = P10[nLo]!;
  let p = a * b;
  let t = SPLIT * a;
  let ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  let bh = t - (t - b), bl = b - bh;
  let wl = al * bl - (((p - ah * bh) - al * bh) - ah * bl);
  let s = p + lo;
  let bb = s - p;
  wl += (p - (s - bb)) + (lo - bb);
  let wh = s + wl;
  wl -= wh - s;
  let h: number, l: number;
  if (exp10 >= 0) {
    // (wh + wl)·10^exp10: exact product of the leading part, the tail's product rounded.
    b = P10[exp10]!;
    h = wh * b;
    t = SPLIT * wh;
    ah = t - (t - wh);
    al = wh - ah;
    t = SPLIT * b;
    bh = t - (t - b);
    bl = b - bh;
    l = al * bl - (((h - ah * bh) - al * bh) - ah * bl) + wl * b;
  } else {
    // (wh + wl)/10^−exp10: quotient, exact remainder wh − q·p (Sterbenz), corrected quotient.
    b = P10[-exp10]!;
    h = wh / b;
    const m = h * b;
    t = SPLIT * h;
    ah = t - (t - h);
    al = h - ah;
    t = SPLIT * b;
    bh = t - (t - b);
    bl = b - bh;
    const ml = al * bl - (((m - ah * bh) - al * bh) - ah * bl);
    l = ((wh - m) - ml + wl) / b;
  }
  s = h + l;
  l -= s - h;
  h = s;
  if (l !== 0) {
    // Is h + l too close to the midpoint between h and its neighbour on l's side?
    f64[0] = h;
    const hiWord = u32[1]!;
    const e = (hiWord >>> 20) & 0x7ff;
    if (e === 0 || e === 0x7ff) return false; // subnormal or overflow: let Number() decide
    let gap = ULP[e]!;
    // Towards zero from a power of two the spacing halves.
    if ((hiWord & 0xfffff) === 0 && u32[0] === 0 && (l < 0) === (h > 0)) gap *= 0.5;
    const d = Math.abs(l) - 0.5 * gap;
    const margin = TIE_MARGIN * Math.abs(h);
    if (d <= margin && d >= -margin) return false;
  }
  out[0] = h;
  return true;
}

const one = new Float64Array(1);

/** decimalInto as a value: NaN when the text must decide. */
export function decimalValue(hi: number, lo: number, nLo: number, exp10: number): number {
  return decimalInto(hi, lo, nLo, exp10, one) ? one[0]! : NaN;
}

const DECIMAL = /^[+-]?(\d+(_\d+)*(\.(\d+)?)?|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;
/** Texts DuckDB's reader is told mean "missing" (nullstr). */
export const MISSING_TEXTS: ReadonlySet<string> = new Set(['', 'NA', 'NaN', 'nan']);

/**
 * A feature field's text (already unquoted) as DuckDB's CSV reader reads a DOUBLE: missing words →
 * NaN, surrounding spaces and tabs ignored, inf/infinity/nan in any case, digit groups 1_000;
 * undefined when the text is not a number.
 */
export function parseDecimalText(text: string): number | undefined {
  if (MISSING_TEXTS.has(text)) return NaN;
  const t = text.replace(/^[ \t]+|[ \t]+$/g, '');
  if (DECIMAL.test(t)) return Number(t.includes('_') ? t.replace(/_/g, '') : t);
  const s = SPECIAL.exec(t);
  if (s) return s[2]!.toLowerCase() === 'nan' ? NaN : s[1] === '-' ? -Infinity : Infinity;
  return undefined;
}
