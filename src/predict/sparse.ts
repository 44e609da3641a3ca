/**
 * The activity matrix: compounds (rows) × assays (columns), observed cells only.
 *
 * Missing cells are unknown, never inactive, so nothing here ever densifies Y. The matrix is
 * stored once in compressed-row form (CSR: the cells of compound i are contiguous, for the
 * compound-side Gibbs update and for mini-batches of compounds) and once in compressed-column
 * form (CSC: the cells of assay j are contiguous, for the assay-side update and per-assay
 * models). Within a row (column) cells are sorted by column (row).
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../linalg/rng.js';

/** One observed cell in coordinate form. */
export interface Cell {
  row: number;
  col: number;
}

export interface Triplet extends Cell {
  value: number;
}

/** How duplicate (row, col) cells are combined when building from triplets. */
export type DuplicatePolicy = 'mean' | 'max' | 'last' | 'error';

export class ActivityMatrix {
  /** CSR: cells of row i are rowIdx[rowPtr[i] .. rowPtr[i+1]) with assay rowCol[k] and value rowVal[k]. */
  readonly rowPtr: Int32Array;
  readonly rowCol: Int32Array;
  readonly rowVal: Float64Array;
  /** CSC: cells of column j are colPtr[j] .. colPtr[j+1]) with compound colRow[k] and value colVal[k]. */
  readonly colPtr: Int32Array;
  readonly colRow: Int32Array;
  readonly colVal: Float64Array;
  /** For CSC position k, the CSR position of the same cell (lets per-cell state be shared). */
  readonly colToRowPos: Int32Array;
  /** Number of (row, col) duplicates merged when the matrix was built. */
  duplicatesMerged = 0;

  private constructor(
    readonly rows: number,
    readonly cols: number,
    rowPtr: Int32Array,
    rowCol: Int32Array,
    rowVal: Float64Array,
  ) {
    this.rowPtr = rowPtr;
    this.rowCol = rowCol;
    this.rowVal = rowVal;
    const nnz = rowCol.length;
    const colPtr = new Int32Array(cols + 1);
    for (let k = 0; k < nnz; k++) colPtr[rowCol[k]! + 1]++;
    for (let j = 0; j < cols; j++) colPtr[j + 1] += colPtr[j]!;
    const fill = colPtr.slice(0, cols);
    const colRow = new Int32Array(nnz);
    const colVal = new Float64Array(nnz);
    const colToRowPos = new Int32Array(nnz);
    // Walking rows in order keeps each column's rows sorted.
    for (let i = 0; i < rows; i++) {
      for (let k = rowPtr[i]!; k < rowPtr[i + 1]!; k++) {
        const p = fill[rowCol[k]!]!++;
        colRow[p] = i;
        colVal[p] = rowVal[k]!;
        colToRowPos[p] = k;
      }
    }
    this.colPtr = colPtr;
    this.colRow = colRow;
    this.colVal = colVal;
    this.colToRowPos = colToRowPos;
  }

  get nnz(): number {
    return this.rowCol.length;
  }

  /**
   * Build from coordinate arrays. Values must be finite; indices in range. Duplicate cells are
   * combined by `duplicates` (default 'mean'); their number is kept in `duplicatesMerged`.
   */
  static fromCOO(
    rows: number,
    cols: number,
    rowIdx: ArrayLike<number>,
    colIdx: ArrayLike<number>,
    values: ArrayLike<number>,
    opts: { duplicates?: DuplicatePolicy } = {},
  ): ActivityMatrix {
    const n = rowIdx.length;
    if (colIdx.length !== n || values.length !== n) {
      throw new InputError(`activity matrix: ${n} row indices, ${colIdx.length} column indices, ${values.length} values`);
    }
    const policy = opts.duplicates ?? 'mean';
    for (let k = 0; k < n; k++) {
      const r = rowIdx[k]!, c = colIdx[k]!, v = values[k]!;
      if (!Number.isInteger(r) || r < 0 || r >= rows) throw new InputError(`activity matrix: cell ${k} has row ${r}, outside 0..${rows - 1}`);
      if (!Number.isInteger(c) || c < 0 || c >= cols) throw new InputError(`activity matrix: cell ${k} has column ${c}, outside 0..${cols - 1}`);
      if (!Number.isFinite(v)) throw new InputError(`activity matrix: cell ${k} (row ${r}, column ${c}) has non-finite value ${v}`);
    }
    // Counting sort by row, then sort each row by column (rows are short).
    const ptr = new Int32Array(rows + 1);
    for (let k = 0; k < n; k++) ptr[rowIdx[k]! + 1]++;
    for (let i = 0; i < rows; i++) ptr[i + 1] += ptr[i]!;
    const fill = ptr.slice(0, rows);
    const order = new Int32Array(n);
    for (let k = 0; k < n; k++) order[fill[rowIdx[k]!]!++] = k;
    const outCol: number[] = [];
    const outVal: number[] = [];
    const outPtr = new Int32Array(rows + 1);
    let merged = 0;
    for (let i = 0; i < rows; i++) {
      const seg = Array.from(order.subarray(ptr[i]!, ptr[i + 1]!));
      // Stable sort by column keeps input order among duplicates ('last' relies on it).
      seg.sort((a, b) => colIdx[a]! - colIdx[b]! || a - b);
      let s = 0;
      while (s < seg.length) {
        const c = colIdx[seg[s]!]!;
        let e = s + 1;
        while (e < seg.length && colIdx[seg[e]!]! === c) e++;
        let v = values[seg[s]!]!;
        if (e - s > 1) {
          if (policy === 'error') throw new InputError(`activity matrix: cell (row ${i}, column ${c}) occurs ${e - s} times`);
          merged += e - s - 1;
          if (policy === 'mean') {
            let sum = 0;
            for (let t = s; t < e; t++) sum += values[seg[t]!]!;
            v = sum / (e - s);
          } else if (policy === 'max') {
            for (let t = s + 1; t < e; t++) v = Math.max(v, values[seg[t]!]!);
          } else {
            v = values[seg[e - 1]!]!;
          }
        }
        outCol.push(c);
        outVal.push(v);
        s = e;
      }
      outPtr[i + 1] = outCol.length;
    }
    const m = new ActivityMatrix(rows, cols, outPtr, Int32Array.from(outCol), Float64Array.from(outVal));
    m.duplicatesMerged = merged;
    return m;
  }

  static fromTriplets(rows: number, cols: number, cells: readonly Triplet[], opts: { duplicates?: DuplicatePolicy } = {}): ActivityMatrix {
    return ActivityMatrix.fromCOO(
      rows, cols,
      cells.map((c) => c.row), cells.map((c) => c.col), cells.map((c) => c.value), opts,
    );
  }

  /** Observed cells of a dense matrix whose missing entries are NaN (tests, small tables). */
  static fromDense(rows: number, cols: number, data: ArrayLike<number>): ActivityMatrix {
    const r: number[] = [], c: number[] = [], v: number[] = [];
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
      const x = data[i * cols + j]!;
      if (!Number.isNaN(x)) { r.push(i); c.push(j); v.push(x); }
    }
    return ActivityMatrix.fromCOO(rows, cols, r, c, v);
  }

  /** Coordinate arrays in CSR order. */
  toCOO(): { rows: Int32Array; cols: Int32Array; values: Float64Array } {
    const r = new Int32Array(this.nnz);
    for (let i = 0; i < this.rows; i++) r.fill(i, this.rowPtr[i]!, this.rowPtr[i + 1]!);
    return { rows: r, cols: this.rowCol.slice(), values: this.rowVal.slice() };
  }

  /** Value of cell (i, j), or NaN when unobserved (binary search in the row). */
  get(i: number, j: number): number {
    let lo = this.rowPtr[i]!, hi = this.rowPtr[i + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = this.rowCol[mid]!;
      if (c === j) return this.rowVal[mid]!;
      if (c < j) lo = mid + 1;
      else hi = mid - 1;
    }
    return NaN;
  }

  rowNnz(i: number): number {
    return this.rowPtr[i + 1]! - this.rowPtr[i]!;
  }

  colNnz(j: number): number {
    return this.colPtr[j + 1]! - this.colPtr[j]!;
  }

  /** Rows `idx` (in that order) as a new matrix with idx.length rows; columns unchanged. */
  subsetRows(idx: ArrayLike<number>): ActivityMatrix {
    const r: number[] = [], c: number[] = [], v: number[] = [];
    for (let t = 0; t < idx.length; t++) {
      const i = idx[t]!;
      for (let k = this.rowPtr[i]!; k < this.rowPtr[i + 1]!; k++) { r.push(t); c.push(this.rowCol[k]!); v.push(this.rowVal[k]!); }
    }
    return ActivityMatrix.fromCOO(idx.length, this.cols, r, c, v, { duplicates: 'error' });
  }

  /** Columns `idx` (in that order) as a new matrix; rows unchanged. */
  subsetCols(idx: ArrayLike<number>): ActivityMatrix {
    const r: number[] = [], c: number[] = [], v: number[] = [];
    for (let t = 0; t < idx.length; t++) {
      const j = idx[t]!;
      for (let k = this.colPtr[j]!; k < this.colPtr[j + 1]!; k++) { r.push(this.colRow[k]!); c.push(t); v.push(this.colVal[k]!); }
    }
    return ActivityMatrix.fromCOO(this.rows, idx.length, r, c, v, { duplicates: 'error' });
  }

  /** Same cells with values mapped to 1 (value ≥ threshold) or 0. */
  binarize(threshold = 0.5): ActivityMatrix {
    const m = new ActivityMatrix(
      this.rows, this.cols, this.rowPtr, this.rowCol,
      this.rowVal.map((x) => (x >= threshold ? 1 : 0)),
    );
    return m;
  }

  /** Keep only the cells for which keep(row, col, value) is true. */
  filter(keep: (row: number, col: number, value: number) => boolean): ActivityMatrix {
    const r: number[] = [], c: number[] = [], v: number[] = [];
    for (let i = 0; i < this.rows; i++) {
      for (let k = this.rowPtr[i]!; k < this.rowPtr[i + 1]!; k++) {
        if (keep(i, this.rowCol[k]!, this.rowVal[k]!)) { r.push(i); c.push(this.rowCol[k]!); v.push(this.rowVal[k]!); }
      }
    }
    return ActivityMatrix.fromCOO(this.rows, this.cols, r, c, v, { duplicates: 'error' });
  }

  /** Per-column counts of positives (value ≥ threshold) and negatives. */
  classCounts(threshold = 0.5): { pos: Int32Array; neg: Int32Array } {
    const pos = new Int32Array(this.cols), neg = new Int32Array(this.cols);
    for (let j = 0; j < this.cols; j++) {
      for (let k = this.colPtr[j]!; k < this.colPtr[j + 1]!; k++) {
        if (this.colVal[k]! >= threshold) pos[j]++;
        else neg[j]++;
      }
    }
    return { pos, neg };
  }

  /** Mean and (population) variance of the observed values. */
  valueStats(): { mean: number; variance: number } {
    const n = this.nnz;
    if (n === 0) return { mean: 0, variance: 0 };
    let s = 0;
    for (let k = 0; k < n; k++) s += this.rowVal[k]!;
    const mean = s / n;
    let ss = 0;
    for (let k = 0; k < n; k++) { const d = this.rowVal[k]! - mean; ss += d * d; }
    return { mean, variance: ss / n };
  }
}

/**
 * Hold out a random share of observed cells (matrix completion protocol): returns the training
 * matrix (same shape) and the held-out cells with their values. Seeded.
 */
export function splitCells(Y: ActivityMatrix, testFraction: number, seed: number): { train: ActivityMatrix; test: Triplet[] } {
  if (!(testFraction > 0 && testFraction < 1)) throw new RangeError(`splitCells: testFraction must be in (0, 1), got ${testFraction}`);
  const rng = new Rng(seed);
  const n = Y.nnz;
  const nTest = Math.round(n * testFraction);
  const perm = rng.permutation(n);
  const isTest = new Uint8Array(n);
  for (let t = 0; t < nTest; t++) isTest[perm[t]!] = 1;
  const test: Triplet[] = [];
  const r: number[] = [], c: number[] = [], v: number[] = [];
  for (let i = 0; i < Y.rows; i++) {
    for (let k = Y.rowPtr[i]!; k < Y.rowPtr[i + 1]!; k++) {
      const cell = { row: i, col: Y.rowCol[k]!, value: Y.rowVal[k]! };
      if (isTest[k]) test.push(cell);
      else { r.push(i); c.push(cell.col); v.push(cell.value); }
    }
  }
  return { train: ActivityMatrix.fromCOO(Y.rows, Y.cols, r, c, v), test };
}
