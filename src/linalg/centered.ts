/**
 * Products with the column-centred matrix X − 1·μᵀ without ever materialising it: rows are
 * centred block by block into a small float64 scratch and fed to the gemm kernels. This is how
 * PCA on a 100,000 × 1,000 table (possibly float32 storage) holds one copy of the data, not two;
 * every sum is still float64 and, within a block, in the kernels' usual order.
 */
import { type Matrix, type StoredMatrix, zeros } from './matrix.js';
import { crossprod, gemm } from './blas.js';

/** Rows per centred block: 1,024 × 1,000 features = 8 MB of scratch. */
const BLOCK_ROWS = 1024;

function centredBlock(X: StoredMatrix, mean: ArrayLike<number>, i0: number, i1: number, scratch: Float64Array): Matrix {
  const d = X.cols, x = X.data;
  for (let i = i0; i < i1; i++) {
    const o = i * d, so = (i - i0) * d;
    for (let j = 0; j < d; j++) scratch[so + j] = x[o + j]! - mean[j]!;
  }
  return { rows: i1 - i0, cols: d, data: scratch.subarray(0, (i1 - i0) * d) };
}

/** (X − 1μᵀ)ᵀ·(X − 1μᵀ), d × d. */
export function centeredCrossprod(X: StoredMatrix, mean: ArrayLike<number>, blockRows = BLOCK_ROWS): Matrix {
  const n = X.rows, d = X.cols;
  const scratch = new Float64Array(Math.min(n, blockRows) * d);
  let G: Matrix | undefined;
  for (let i0 = 0; i0 < n; i0 += blockRows) {
    const Gb = crossprod(centredBlock(X, mean, i0, Math.min(n, i0 + blockRows), scratch));
    if (!G) G = Gb;
    else for (let t = 0, g = G.data, b = Gb.data; t < g.length; t++) g[t] += b[t]!;
  }
  return G ?? zeros(d, d);
}

/** (X − 1μᵀ)·V, n × V.cols. */
export function centeredProduct(X: StoredMatrix, mean: ArrayLike<number>, V: Matrix, blockRows = BLOCK_ROWS): Matrix {
  const n = X.rows, d = X.cols, r = V.cols;
  if (V.rows !== d) throw new RangeError(`centeredProduct: X has ${d} columns, V has ${V.rows} rows`);
  const out = zeros(n, r);
  const scratch = new Float64Array(Math.min(n, blockRows) * d);
  for (let i0 = 0; i0 < n; i0 += blockRows) {
    const i1 = Math.min(n, i0 + blockRows);
    gemm(centredBlock(X, mean, i0, i1, scratch), V, { rows: i1 - i0, cols: r, data: out.data.subarray(i0 * r, i1 * r) });
  }
  return out;
}
