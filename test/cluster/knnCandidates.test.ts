/**
 * Exact candidate search (the native fused Gram + heap kernel against the JavaScript blocked
 * path) and the projected exact k-NN graph (exact candidates on principal components, re-ranked in
 * all dimensions), on real profiles and on hand-made cases: ties, duplicate rows, k ≥ n − 1,
 * float32 storage, more columns than one k chunk of the kernel (512).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { exactKnn, knnGraph, knnRecall, projectedExactKnn, sampledRecall, type KnnGraph } from '../../src/cluster/knnGraph.js';
import { zeros, type Matrix, type StoredMatrix } from '../../src/linalg/matrix.js';
import { nativeAvailable, useNative } from '../../src/linalg/native.js';
import { zscore } from '../../src/preprocess/zscore.js';
import { bbbc021Recipe, cellInjuryRecipe, BBBC021_FILES, CELL_INJURY_FILES } from '../../src/io/recipes.js';
import { Rng } from '../../src/linalg/rng.js';
import { bruteForceKnn } from '../helpers/bruteKnn.js';
import { fixtureMatrix } from '../helpers/fixtures.js';
import { describeShared, sharedPath } from '../helpers/shared.js';

/** The k best per row by brute force (every `step`-th row). */
const bruteForce = (X: StoredMatrix, k: number, step = 1): number[][] => bruteForceKnn(X, k, step).idx;

/** The graph with the native kernels and with the JavaScript path: identical, bit for bit. */
function bothBackends(f: () => KnnGraph): KnnGraph {
  const a = f();
  if (!nativeAvailable) return a;
  useNative(false);
  let b: KnnGraph;
  try {
    b = f();
  } finally {
    useNative(true);
  }
  expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
  expect(Array.from(a.distances)).toEqual(Array.from(b.distances));
  expect(Array.from(a.indptr)).toEqual(Array.from(b.indptr));
  return a;
}

function gaussian(n: number, d: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const X = zeros(n, d);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  return X;
}

describe('exact candidate search: native kernel and JavaScript path', () => {
  it('ties everywhere (small integer grid) and duplicate rows: the (distance, index) order decides, as brute force', () => {
    // 3 values per coordinate in 3 dimensions: 27 distinct points, each present twice or three times.
    const n = 70, d = 3;
    const X = zeros(n, d);
    for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) X.data[i * d + c] = Math.floor((i % 27) / 3 ** c) % 3;
    const bf = bruteForce(X, 12);
    for (const k of [1, 12]) {
      const G = bothBackends(() => exactKnn(X, k, { blockRows: 8, panelRows: 16 }));
      for (let i = 0; i < n; i++) expect(Array.from(G.indices.subarray(i * k, (i + 1) * k))).toEqual(bf[i]!.slice(0, k));
    }
  });

  it('k ≥ n − 1: every other row, ascending', () => {
    const X = gaussian(9, 4, 3);
    const bf = bruteForce(X, 8);
    for (const k of [8, 9, 50]) {
      const G = bothBackends(() => exactKnn(X, k));
      expect(G.k).toBe(8);
      for (let i = 0; i < 9; i++) expect(Array.from(G.indices.subarray(i * 8, i * 8 + 8))).toEqual(bf[i]);
    }
  });

  it('float32 storage, odd sizes (not multiples of the tile), more than 512 columns (partial sums across k chunks)', () => {
    for (const [n, d] of [[131, 7], [77, 600], [300, 1]] as const) {
      const X = gaussian(n, d, n + d);
      const X32: StoredMatrix = { rows: n, cols: d, data: Float32Array.from(X.data) };
      const k = Math.min(15, n - 1);
      for (const M of [X, X32]) {
        const G = bothBackends(() => exactKnn(M, k));
        // one thread or several (per-thread heaps merged): the same graph
        for (const threads of [1, 3]) expect(Array.from(exactKnn(M, k, { threads }).indices)).toEqual(Array.from(G.indices));
        const bf = bruteForce(M, k);
        for (let i = 0; i < n; i++) expect(Array.from(G.indices.subarray(i * k, (i + 1) * k))).toEqual(bf[i]);
      }
    }
  });
});

/** The bundled LINCS plate (z-scored, 1,000+ features) and its 50 PCA scores. */
describe('projected exact k-NN graph on the LINCS plate', () => {
  const Z = fixtureMatrix('X_zscored.npy');
  it('candidates on principal components re-ranked in all dimensions: recall against exact, distances exact', () => {
    const k = 10;
    const exact = exactKnn(Z, k);
    const G = bothBackends(() => projectedExactKnn(Z, k, { projected: { dims: Math.floor(Z.cols / 4) } }));
    expect(G.projectedDims).toBe(Math.floor(Z.cols / 4));
    expect(knnRecall(G, exact)).toBeGreaterThanOrEqual(0.95);
    expect(sampledRecall(Z, G, 100, 1)).toBeCloseTo(knnRecall(G, exact, undefined), 0);
    // every kept pair's distance is the one exactKnn reports for it (the same direct float64 sum)
    for (let i = 0; i < Z.rows; i++) {
      for (let p = G.indptr[i]!; p < G.indptr[i + 1]!; p++) {
        for (let q = exact.indptr[i]!; q < exact.indptr[i + 1]!; q++) {
          if (exact.indices[q] === G.indices[p]) expect(G.distances[p]).toBe(exact.distances[q]);
        }
      }
    }
    // a one-dimensional projection misses much: the measure shows it
    const weak = projectedExactKnn(Z, k, { projected: { dims: 1 } });
    expect(knnRecall(weak, exact)).toBeLessThan(0.9);
  });
  it('no projection (0, or too wide for the columns) is the exact graph; knnGraph dispatches to it', () => {
    const P = fixtureMatrix('X_pca.npy');
    const exact = exactKnn(P, 7);
    for (const dims of [0, P.cols, Math.ceil(P.cols / 2) + 1]) {
      const G = knnGraph(P, 7, { method: 'projected', projected: { dims } });
      expect(G.projectedDims).toBeUndefined();
      expect(Array.from(G.indices)).toEqual(Array.from(exact.indices));
      expect(Array.from(G.distances)).toEqual(Array.from(exact.distances));
    }
  });
});

describeShared('exact and projected k-NN on BBBC021 and the cell-injury wells', [...Object.values(BBBC021_FILES).map((f) => `data/${f}`), `data/${CELL_INJURY_FILES.well}`], () => {
  it('BBBC021 (632 × 516) and cell-injury: exact equals brute force on both backends; projected recall ≥ 0.95', async () => {
    const bbbc = zscore((await bbbc021Recipe(join(sharedPath('data')!))).profiles.X).Z;
    const injury = zscore((await cellInjuryRecipe(sharedPath(`data/${CELL_INJURY_FILES.well}`)!)).profiles.X).Z;
    for (const Z of [bbbc, injury]) {
      const k = 20;
      const X32: StoredMatrix = { rows: Z.rows, cols: Z.cols, data: Float32Array.from(Z.data) };
      const exact = bothBackends(() => exactKnn(X32, k));
      const bf = bruteForce(X32, k, 7);
      for (let i = 0; i < Z.rows; i += 7) expect(Array.from(exact.indices.subarray(i * k, (i + 1) * k))).toEqual(bf[i]);
      const dims = Math.min(64, Math.floor(Z.cols / 2));
      const G = bothBackends(() => projectedExactKnn(X32, k, { projected: { dims, candidates: 4 * k } }));
      expect(knnRecall(G, exact)).toBeGreaterThanOrEqual(0.95);
    }
  });
});
