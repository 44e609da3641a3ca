/**
 * Pairwise squared Euclidean distances and cosine similarities.
 * Uses the dot-product expansion ‖x‖² + ‖y‖² − 2·x·y through the gemm kernel (as scikit-learn's
 * euclidean_distances does for float64), then clips rounding negatives to 0 and sets the
 * self-distance diagonal to exactly 0.
 */
import { type Matrix, type StoredMatrix, zeros } from './matrix.js';
import { gemmNT, tcrossprod } from './blas.js';

export function rowSquaredNorms(X: StoredMatrix, out?: Float64Array): Float64Array {
  const n = X.rows, d = X.cols, x = X.data;
  const r = out ?? new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = x[o + j]!;
      s += v * v;
    }
    r[i] = s;
  }
  return r;
}

/** n × n matrix of squared distances between the rows of X. */
export function squaredDistances(X: StoredMatrix): Matrix {
  const n = X.rows;
  const G = tcrossprod(X);
  const nrm = rowSquaredNorms(X);
  const g = G.data;
  for (let i = 0; i < n; i++) {
    const o = i * n, ni = nrm[i]!;
    for (let j = 0; j < n; j++) {
      const v = -2 * g[o + j]! + ni + nrm[j]!;
      g[o + j] = v > 0 ? v : 0;
    }
    g[o + i] = 0;
  }
  return G;
}

/** rows(X) × rows(Y) squared distances. */
export function squaredDistancesBetween(X: StoredMatrix, Y: StoredMatrix): Matrix {
  if (X.cols !== Y.cols) throw new RangeError(`squaredDistancesBetween: ${X.cols} vs ${Y.cols} columns`);
  const G = gemmNT(X, Y);
  const nx = rowSquaredNorms(X), ny = rowSquaredNorms(Y);
  const g = G.data, m = Y.rows;
  for (let i = 0; i < X.rows; i++) {
    const o = i * m, ni = nx[i]!;
    for (let j = 0; j < m; j++) {
      const v = -2 * g[o + j]! + ni + ny[j]!;
      g[o + j] = v > 0 ? v : 0;
    }
  }
  return G;
}

/** Squared distance between two rows (direct, exact summation). */
export function rowSquaredDistance(a: Float64Array, ao: number, b: Float64Array, bo: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = a[ao + j]! - b[bo + j]!;
    s += t * t;
  }
  return s;
}

/** Rows scaled to unit length (zero rows stay zero). */
export function normalizeRows(X: Matrix): Matrix {
  const out = zeros(X.rows, X.cols);
  const nrm = rowSquaredNorms(X);
  const x = X.data, o = out.data, d = X.cols;
  for (let i = 0; i < X.rows; i++) {
    const s = nrm[i]! > 0 ? 1 / Math.sqrt(nrm[i]!) : 0;
    const r = i * d;
    for (let j = 0; j < d; j++) o[r + j] = x[r + j]! * s;
  }
  return out;
}

/** n × n cosine similarity between rows of X. */
export function cosineSimilarity(X: Matrix): Matrix {
  return tcrossprod(normalizeRows(X));
}

/** rows(X) × rows(Y) cosine similarity. */
export function cosineSimilarityBetween(X: Matrix, Y: Matrix): Matrix {
  return gemmNT(normalizeRows(X), normalizeRows(Y));
}
