/**
 * Learners refuse a missing or infinite value up front, naming its row and column (1-based), rather
 * than let it turn every later statistic into NaN.
 */
import { InputError } from '../util/errors.js';

/** Throw if any value of `rows` (all rows when omitted) of the row-major matrix is not finite. */
export function requireFiniteRows(X: { rows: number; cols: number; data: ArrayLike<number> }, who: string, rows?: ArrayLike<number>): void {
  const d = X.cols, x = X.data;
  const n = rows ? rows.length : X.rows;
  for (let r = 0; r < n; r++) {
    const i = rows ? rows[r]! : r;
    const o = i * d;
    for (let j = 0; j < d; j++) if (!Number.isFinite(x[o + j]!)) throw new InputError(`${who}: non-finite value at row ${i + 1}, column ${j + 1}`);
  }
}
