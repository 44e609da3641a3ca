/**
 * Matrices of phenomap: dense, row-major. Element (i, j) lives at data[i * cols + j]. Metadata
 * never travels inside them.
 *
 * `Matrix` (float64) is what every computation produces. `StoredMatrix` also admits float32
 * storage, for the one big table a run holds (profiles × features, `--float32`): kernels that
 * read it widen each value to float64 on load and accumulate in float64, so only the stored
 * values are rounded (to ~6e-8 relative), never a sum.
 */
import { hugeFloat64 } from './native.js';

export type FeatureArray = Float64Array | Float32Array;

export interface StoredMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: FeatureArray;
}

export interface Matrix extends StoredMatrix {
  readonly data: Float64Array;
}

/** Storage precision names as the CLI and summary.json spell them. */
export type Precision = 'float64' | 'float32';

export function precisionOf(m: StoredMatrix): Precision {
  return m.data instanceof Float32Array ? 'float32' : 'float64';
}

/** Tables at least this large live in a SharedArrayBuffer, so worker threads read them in place. */
const SHARED_MIN_BYTES = 16 << 20;

/**
 * A zero-filled feature array of the given precision. Large ones are backed by a
 * SharedArrayBuffer: the k-NN workers then view the rows instead of receiving a copy.
 */
export function allocFeatures(precision: Precision, length: number): FeatureArray {
  const bytes = length * (precision === 'float32' ? 4 : 8);
  const buf = bytes >= SHARED_MIN_BYTES ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  return precision === 'float32' ? new Float32Array(buf) : new Float64Array(buf);
}

/** A new zero array of the same precision as `like` (shared when large, see allocFeatures). */
export function allocLike(like: FeatureArray, length: number): FeatureArray {
  return allocFeatures(like instanceof Float32Array ? 'float32' : 'float64', length);
}

/** The matrix as float64: itself when it already is, else a widened copy. */
export function asFloat64(m: StoredMatrix): Matrix {
  return m.data instanceof Float64Array ? (m as Matrix) : { rows: m.rows, cols: m.cols, data: Float64Array.from(m.data) };
}

export function zeros(rows: number, cols: number): Matrix {
  return { rows, cols, data: hugeFloat64(rows * cols) };
}

export function fromData(rows: number, cols: number, data: Float64Array): Matrix {
  if (data.length !== rows * cols) {
    throw new RangeError(`matrix data has ${data.length} values, expected ${rows}×${cols}=${rows * cols}`);
  }
  return { rows, cols, data };
}

/** Build from nested arrays (tests, small literals). */
export function fromRows(rowsIn: ArrayLike<ArrayLike<number>>): Matrix {
  const rows = rowsIn.length;
  const cols = rows ? rowsIn[0]!.length : 0;
  const out = zeros(rows, cols);
  for (let i = 0; i < rows; i++) {
    const r = rowsIn[i]!;
    if (r.length !== cols) throw new RangeError(`row ${i} has ${r.length} values, expected ${cols}`);
    for (let j = 0; j < cols; j++) out.data[i * cols + j] = r[j]!;
  }
  return out;
}

export function identity(n: number): Matrix {
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

export function clone(m: Matrix): Matrix {
  return { rows: m.rows, cols: m.cols, data: m.data.slice() };
}

/** A view of row i (no copy). */
export function row(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** Copy the given rows (in the given order) into a new matrix of the same precision. */
export function takeRows<M extends StoredMatrix>(m: M, idx: ArrayLike<number>): M {
  const data = allocLike(m.data, idx.length * m.cols);
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r]!;
    data.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), r * m.cols);
  }
  return { rows: idx.length, cols: m.cols, data } as StoredMatrix as M;
}

/**
 * Keep the given rows (strictly ascending) by moving them to the front of m's own storage: no
 * second copy of a large table. m must not be used afterwards; the result views the same buffer.
 */
export function compactRowsInPlace<M extends StoredMatrix>(m: M, idx: ArrayLike<number>): M {
  const d = m.cols, x = m.data;
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r]!;
    if (r > 0 && !(i > idx[r - 1]!)) throw new RangeError('compactRowsInPlace: row indices must be strictly ascending');
    if (i !== r) x.copyWithin(r * d, i * d, (i + 1) * d);
  }
  return { rows: idx.length, cols: d, data: x.subarray(0, idx.length * d) } as StoredMatrix as M;
}

/** Copy the given columns (in the given order) into a new matrix. */
export function takeCols(m: Matrix, idx: ArrayLike<number>): Matrix {
  const k = idx.length;
  const out = zeros(m.rows, k);
  const src = m.data, dst = out.data, c = m.cols;
  for (let i = 0; i < m.rows; i++) {
    const so = i * c, dO = i * k;
    for (let j = 0; j < k; j++) dst[dO + j] = src[so + idx[j]!]!;
  }
  return out;
}

/**
 * Keep the given columns (strictly ascending) by moving them to the front of each row in m's own
 * storage; the result views the same buffer and m must not be used afterwards. Every write lands
 * at or before a value not yet read, so one forward sweep is safe.
 */
export function compactColsInPlace<M extends StoredMatrix>(m: M, idx: ArrayLike<number>): M {
  const d = m.cols, k = idx.length, x = m.data;
  for (let c = 1; c < k; c++) if (!(idx[c]! > idx[c - 1]!)) throw new RangeError('compactColsInPlace: column indices must be strictly ascending');
  if (k === d) return m;
  for (let i = 0; i < m.rows; i++) {
    const o = i * d, oz = i * k;
    for (let c = 0; c < k; c++) x[oz + c] = x[o + idx[c]!]!;
  }
  return { rows: m.rows, cols: k, data: x.subarray(0, m.rows * k) } as StoredMatrix as M;
}

export function transpose(m: StoredMatrix): Matrix {
  const out = zeros(m.cols, m.rows);
  const { rows, cols, data } = m;
  const o = out.data;
  const B = 32; // cache blocking: both reads and writes stay within a few lines
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) {
        for (let j = j0; j < j1; j++) o[j * rows + i] = data[i * cols + j]!;
      }
    }
  }
  return out;
}

export function toNested(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}
