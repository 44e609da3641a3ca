/**
 * scikit-learn's svd_flip sign rule, in one place: each column's entry of largest magnitude (the
 * first such, on ties) becomes positive. PCA applies it to U, LDA to its scalings, the float32 Gram
 * solver to U before it scales the Ritz rotation with the same signs.
 */
import type { Matrix } from './matrix.js';

/**
 * Negate in place every column of M whose largest-|entry| is negative; returns 1 at the columns
 * that were negated (so a caller can negate what goes with them), 0 elsewhere.
 */
export function flipColumnSigns(M: Matrix): Uint8Array {
  const { rows, cols, data } = M;
  const flipped = new Uint8Array(cols);
  for (let c = 0; c < cols; c++) {
    let best = -1, bi = 0;
    for (let i = 0; i < rows; i++) {
      const a = Math.abs(data[i * cols + c]!);
      if (a > best) {
        best = a;
        bi = i;
      }
    }
    if (data[bi * cols + c]! < 0) {
      flipped[c] = 1;
      for (let i = 0; i < rows; i++) data[i * cols + c] = -data[i * cols + c]!;
    }
  }
  return flipped;
}
