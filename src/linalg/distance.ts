/**
 * Pairwise squared Euclidean distances and cosine similarities.
 * Uses the dot-product expansion ‖x‖² + ‖y‖² − 2·x·y through the gemm kernel (as scikit-learn's
 * euclidean_distances does for float64), then clips rounding negatives to 0 and sets the
 * self-distance diagonal to exactly 0.
 */
import { type Matrix, type StoredMatrix, zeros } from './matrix.js';
import { gemmNT, tcrossprod, tcrossprodUpper, nativeThreads } from './blas.js';
import { native } from './native.js';

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

/**
 * n × n matrix of squared distances between the rows of X: ‖xᵢ‖² + ‖xⱼ‖² − 2xᵢ·xⱼ, clipped at 0,
 * with sklearn's operation order ((−2g + ‖xᵢ‖²) + ‖xⱼ‖² for entry (i, j)). Only the upper triangle
 * of the Gram matrix is computed; one tiled pass turns each g into both (i, j) and (j, i). The
 * norms are the Gram diagonal (the same sequential sums rowSquaredNorms would compute).
 * `out` (n × n) receives every entry: a caller computing many distance matrices of one size (an
 * iterative fit) keeps one buffer instead of fresh pages each time.
 */
export function squaredDistances(X: StoredMatrix, out?: Matrix): Matrix {
  const n = X.rows;
  if (out && (out.rows !== n || out.cols !== n)) throw new RangeError(`squaredDistances: out is ${out.rows}×${out.cols}, expected ${n}×${n}`);
  const nat = native();
  if (nat) {
    // The same entries, fused: each Gram tile becomes distances as soon as it is summed.
    const D = out ?? zeros(n, n);
    if (nat.sqdist(X.data, n, X.cols, D.data, nativeThreads(n * n * X.cols))) return D;
  }
  if (out) {
    out.data.set(squaredDistances(X).data);
    return out;
  }
  const G = tcrossprodUpper(X);
  const g = G.data;
  const nrm = new Float64Array(n);
  for (let i = 0; i < n; i++) nrm[i] = g[i * n + i]!;
  // 32×32 tiles: the (j, i) writes walk a column of the transposed tile, which stays in cache.
  const T = 32;
  for (let i0 = 0; i0 < n; i0 += T) {
    const i1 = Math.min(n, i0 + T);
    for (let j0 = i0; j0 < n; j0 += T) {
      const j1 = Math.min(n, j0 + T);
      for (let i = i0; i < i1; i++) {
        const o = i * n, ni = nrm[i]!;
        for (let j = j0 === i0 ? i + 1 : j0; j < j1; j++) {
          const m2 = -2 * g[o + j]!, nj = nrm[j]!;
          const v = m2 + ni + nj, w = m2 + nj + ni;
          g[o + j] = v > 0 ? v : 0;
          g[j * n + i] = w > 0 ? w : 0;
        }
        if (j0 === i0) g[o + i] = 0;
      }
    }
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
