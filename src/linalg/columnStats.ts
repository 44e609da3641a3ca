/**
 * The column passes of z-scoring, as kernels: per-column sums and "ever differs from the first
 * value" flags, then residual sums and squares about the first-pass mean, then (x − mean) / std.
 * preprocess/zscore.ts decides what the numbers mean (dropped columns, the corrected variance).
 *
 * Tables up to WASM_MAX_VALUES values run as f64x2 wasm kernels (wasm/kernels.wat,
 * `col_sum_varies`, `col_moments`, `col_standardize`) on a copy in the wasm scratch memory; larger
 * ones stay in JS so a big table is never held twice. Every column's accumulator sees the rows in
 * the same order on both paths, so they agree bit for bit (PHENOMAP_NO_WASM=1 gives the JS path).
 * Float32 storage is widened when copied in, as the JS loops widen on load. Float64 tables of any
 * size, and float32 tables with float32 output, go to the native kernels instead when they are built
 * (in place, no copy; same order, values widened on load as the JS loops do).
 */
import type { FeatureArray, StoredMatrix } from './matrix.js';
import { wasm, wasmF64, wasmReserve } from './wasm/runtime.js';
import { native } from './native.js';

/** 4 M values (32 MB of float64 scratch): the LINCS plate ×8 fits, a 10⁵ × 10³ table does not. */
const WASM_MAX_VALUES = 1 << 22;
/** Below this the copy costs more than the loops. */
const WASM_MIN_VALUES = 1 << 12;

export interface ColumnMoments {
  /** Plain sum of each column (non-finite ⇔ a non-finite value, or an overflowing sum). */
  sum: Float64Array;
  /** 1 where some value differs from the column's first value (so the column is not constant). */
  varies: Uint8Array;
  /** sum / n. */
  mean0: Float64Array;
  /** Σ (x − mean0) per column. */
  res: Float64Array;
  /** Σ (x − mean0)² per column. */
  ss: Float64Array;
}

const up2 = (d: number) => d + (d & 1); // keep every array 16-byte aligned

function useWasm(X: StoredMatrix): boolean {
  const v = X.rows * X.cols;
  return wasm !== null && v >= WASM_MIN_VALUES && v <= WASM_MAX_VALUES;
}

/** Passes 1 and 2 of z-scoring over every column. */
export function columnMoments(X: StoredMatrix): ColumnMoments {
  const { rows: n, cols: d, data } = X;
  const sum = new Float64Array(d), mean0 = new Float64Array(d), res = new Float64Array(d), ss = new Float64Array(d);
  const varies = new Uint8Array(d);
  const nat = native();
  if (nat && (data instanceof Float64Array || data instanceof Float32Array)) {
    nat.colMoments(data, n, d, sum, varies, mean0, res, ss);
    return { sum, varies, mean0, res, ss };
  }
  if (useWasm(X) && wasmReserve((n * d + 6 * up2(d)) * 8)) {
    const mem = wasmF64();
    const x = 0, s = n * d + (n * d & 1), f = s + up2(d), v = f + up2(d), m = v + up2(d), r = m + up2(d), q = r + up2(d);
    mem.set(data, x);
    mem.fill(0, s, q + up2(d));
    for (let j = 0; j < d; j++) mem[f + j] = data[j]!;
    wasm!.col_sum_varies(x * 8, n, d, s * 8, f * 8, v * 8);
    for (let j = 0; j < d; j++) {
      sum[j] = mem[s + j]!;
      varies[j] = mem[v + j] !== 0 ? 1 : 0; // all-ones bits read as NaN, never 0
      mean0[j] = sum[j]! / n;
      mem[m + j] = mean0[j]!;
    }
    wasm!.col_moments(x * 8, n, d, m * 8, r * 8, q * 8);
    res.set(mem.subarray(r, r + d));
    ss.set(mem.subarray(q, q + d));
    return { sum, varies, mean0, res, ss };
  }
  const first = new Float64Array(d);
  if (n > 0) for (let j = 0; j < d; j++) first[j] = data[j]!;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const val = data[o + j]!;
      sum[j] += val;
      if (val !== first[j]) varies[j] = 1;
    }
  }
  for (let j = 0; j < d; j++) mean0[j] = sum[j]! / n;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const t = data[o + j]! - mean0[j]!;
      res[j] += t;
      ss[j] += t * t;
    }
  }
  return { sum, varies, mean0, res, ss };
}

/**
 * out[i·k + c] = (X[i][kept[c]] − mean[c]) / std[c] for k = kept.length. `out` may be X's own
 * storage (in place): each write lands at or before a value not yet read.
 */
export function standardizeColumns(X: StoredMatrix, kept: Int32Array, mean: Float64Array, std: Float64Array, out: FeatureArray): void {
  const { rows: n, cols: d, data } = X;
  const k = kept.length;
  const nat = native();
  if (nat && data instanceof Float64Array && out instanceof Float64Array) {
    nat.colStandardize(data, n, d, kept, mean, std, out);
    return;
  }
  if (nat && data instanceof Float32Array && out instanceof Float32Array) {
    nat.colStandardize(data, n, d, kept, mean, std, out);
    return;
  }
  if (k === d && useWasm(X) && wasmReserve((n * d + 2 * up2(d)) * 8)) {
    const mem = wasmF64();
    const x = 0, mo = n * d + (n * d & 1), so = mo + up2(d);
    mem.set(data, x);
    mem.set(mean, mo);
    mem.set(std, so);
    wasm!.col_standardize(x * 8, n, d, mo * 8, so * 8);
    out.set(mem.subarray(x, x + n * d));
    return;
  }
  if (k === d) {
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let c = 0; c < d; c++) out[o + c] = (data[o + c]! - mean[c]!) / std[c]!;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const o = i * d, oz = i * k;
    for (let c = 0; c < k; c++) out[oz + c] = (data[o + kept[c]!]! - mean[c]!) / std[c]!;
  }
}

/**
 * Column means and the total centred sum of squares Σⱼ Σᵢ (xᵢⱼ − meanⱼ)² in one pass (Welford's
 * update per column, the weight 1/(i + 1) computed once a row): what PCA's float32 Gram solver
 * needs, a pass cheaper than columnMoments' two. Natively when built (the same operations in the
 * same order: bit for bit these loops). A non-finite value makes the sum non-finite.
 */
export function columnMeanM2(X: StoredMatrix): { mean: Float64Array; sumSquares: number } {
  const { rows: n, cols: d, data } = X;
  const mean = new Float64Array(d), m2 = new Float64Array(d);
  const nat = native();
  if (nat && (data instanceof Float64Array || data instanceof Float32Array)) nat.colMeanM2(data, n, d, mean, m2);
  else {
    for (let i = 0; i < n; i++) {
      const o = i * d, w = 1 / (i + 1);
      for (let j = 0; j < d; j++) {
        const v = data[o + j]!;
        const delta = v - mean[j]!;
        const mu = mean[j]! + delta * w;
        mean[j] = mu;
        m2[j] += delta * (v - mu);
      }
    }
  }
  let sumSquares = 0;
  for (let j = 0; j < d; j++) sumSquares += m2[j]!;
  return { mean, sumSquares };
}
