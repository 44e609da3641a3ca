/**
 * Correlation matrices between the columns of a matrix, as `pandas.DataFrame.corr`:
 * Pearson or Spearman (Pearson on average ranks), pairwise-complete when values are missing,
 * NaN for a pair where either column is constant.
 *
 * Complete columns go through the linalg core: centre, scale each column to unit norm, and
 * C = ZᵀZ (`crossprod`). Only pairs that involve a column with missing values are computed one
 * by one on the rows where both are present (pandas' pairwise deletion, ranks recomputed on
 * that subset for Spearman).
 */
import type { Matrix } from '../linalg/matrix.js';
import { zeros } from '../linalg/matrix.js';
import { crossprod } from '../linalg/index.js';
import { averageRanks } from './stats.js';

export type CorrelationMethod = 'pearson' | 'spearman';

/** Pearson correlation of two equal-length vectors; NaN when either is constant. */
function pearsonVec(a: Float64Array, b: Float64Array, n: number): number {
  if (n < 2) return NaN;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma, y = b[i]! - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  if (!(saa > 0 && sbb > 0)) return NaN;
  const r = sab / Math.sqrt(saa * sbb);
  return r > 1 ? 1 : r < -1 ? -1 : r;
}

/** d × d correlation matrix of the columns of X (n × d). Diagonal 1 (NaN for a constant column). */
export function columnCorrelation(X: Matrix, method: CorrelationMethod = 'pearson'): Matrix {
  const { rows: n, cols: d, data } = X;
  const hasNaN = new Uint8Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) if (data[o + j] !== data[o + j]) hasNaN[j] = 1;
  }
  // Standardised complete columns (missing-value columns are zero here and filled pairwise).
  const Z = zeros(n, d);
  const z = Z.data;
  const col = new Float64Array(n);
  const rk = new Float64Array(n);
  const constant = new Uint8Array(d);
  for (let j = 0; j < d; j++) {
    if (hasNaN[j]) continue;
    for (let i = 0; i < n; i++) col[i] = data[i * d + j]!;
    const v = method === 'spearman' ? averageRanks(col, rk) : col;
    let m = 0;
    for (let i = 0; i < n; i++) m += v[i]!;
    m /= n;
    let c = 0;
    for (let i = 0; i < n; i++) c += v[i]! - m;
    m += c / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const t = v[i]! - m;
      ss += t * t;
    }
    if (!(ss > 0)) {
      constant[j] = 1;
      continue;
    }
    const s = 1 / Math.sqrt(ss);
    for (let i = 0; i < n; i++) z[i * d + j] = (v[i]! - m) * s;
  }
  const C = crossprod(Z);
  const c = C.data;
  for (let j = 0; j < d; j++) {
    const o = j * d;
    for (let k = 0; k < d; k++) {
      if (constant[j] || constant[k]) c[o + k] = NaN;
      else if (j === k) c[o + k] = 1;
      else {
        const v = c[o + k]!;
        c[o + k] = v > 1 ? 1 : v < -1 ? -1 : v;
      }
    }
  }
  // Pairwise-complete fallback for columns with missing values.
  const a = new Float64Array(n), b = new Float64Array(n);
  const ra = new Float64Array(n), rb = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    if (!hasNaN[j]) continue;
    for (let k = 0; k < d; k++) {
      if (k < j && hasNaN[k]) continue; // already filled from (k, j)
      let m = 0;
      for (let i = 0; i < n; i++) {
        const x = data[i * d + j]!, y = data[i * d + k]!;
        if (x === x && y === y) {
          a[m] = x;
          b[m] = y;
          m++;
        }
      }
      let r: number;
      if (method === 'spearman') {
        averageRanks(a.subarray(0, m), ra);
        averageRanks(b.subarray(0, m), rb);
        r = pearsonVec(ra, rb, m);
      } else r = pearsonVec(a, b, m);
      if (j === k && r === r) r = 1;
      c[j * d + k] = r;
      c[k * d + j] = r;
    }
  }
  return C;
}
