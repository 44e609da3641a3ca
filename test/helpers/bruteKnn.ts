import type { StoredMatrix } from '../../src/linalg/matrix.js';

/**
 * Brute-force k nearest neighbours, the reference the k-NN tests compare with: every squared
 * distance computed directly, sorted by (distance, index). Rows not on the `step` grid get empty
 * lists (sampled references on larger tables).
 */
export function bruteForceKnn(X: StoredMatrix, k: number, step = 1): { idx: number[][]; dist: number[][] } {
  const n = X.rows, d = X.cols;
  const idx: number[][] = [], dist: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (i % step) {
      idx.push([]);
      dist.push([]);
      continue;
    }
    const all: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let c = 0; c < d; c++) s += (X.data[i * d + c]! - X.data[j * d + c]!) ** 2;
      all.push([s, j]);
    }
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    idx.push(all.slice(0, k).map((a) => a[1]));
    dist.push(all.slice(0, k).map((a) => a[0]));
  }
  return { idx, dist };
}
