/**
 * The one matrix type of phenomap: dense, row-major, float64.
 * Element (i, j) lives at data[i * cols + j]. Metadata never travels inside it.
 */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function zeros(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
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

/** Copy the given rows (in the given order) into a new matrix. */
export function takeRows(m: Matrix, idx: ArrayLike<number>): Matrix {
  const out = zeros(idx.length, m.cols);
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r]!;
    out.data.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), r * m.cols);
  }
  return out;
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

export function transpose(m: Matrix): Matrix {
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
