import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy, readNpyMatrix } from '../../src/io/npy.js';
import { affinityPropagation } from '../../src/cluster/affinityPropagation.js';
import {
  completeGraphFromDense, sparseAffinityPropagation, sparseAffinityPropagationWithRetry, sampledSimilarityMedian,
  type SparseSimilarity,
} from '../../src/cluster/sparseAffinityPropagation.js';
import { knnGraph, knnToSimilarity } from '../../src/cluster/knnGraph.js';
import { fromRows, zeros, type Matrix } from '../../src/linalg/matrix.js';
import { squaredDistances } from '../../src/linalg/index.js';
import { nativeAvailable, useNative } from '../../src/linalg/native.js';
import { adjustedRandIndex } from '../../src/evaluate/ari.js';
import { Rng } from '../../src/linalg/rng.js';
import { repoRoot } from '../helpers/shared.js';

const FIX = join(repoRoot, 'test', 'fixtures', 'lincs_SQ00015054');

function negSq(X: Matrix): Matrix {
  const D = squaredDistances(X);
  for (let i = 0; i < D.data.length; i++) D.data[i] = -D.data[i]!;
  return D;
}

function blobs(n: number, k: number, d: number, spread: number, seed: number): { X: Matrix; y: Int32Array } {
  const rng = new Rng(seed);
  const X = zeros(n, d);
  const y = new Int32Array(n);
  const C = Array.from({ length: k }, () => Array.from({ length: d }, () => rng.normal() * 10));
  for (let i = 0; i < n; i++) {
    const c = i % k;
    y[i] = c;
    for (let j = 0; j < d; j++) X.data[i * d + j] = C[c]![j]! + spread * rng.normal();
  }
  return { X, y };
}

describe('sparse AP on a complete graph = dense AP (LINCS fixture)', () => {
  const noise = readNpyMatrix(join(FIX, 'ap_noise_seed0.npy'));
  const expected = { raw: [69, 33], pca: [68, 29], itml: [69, 71] } as const;
  for (const rep of ['raw', 'pca', 'itml'] as const) {
    it(`${rep}: sklearn's noise → the reference labels, n_iter, convergence`, () => {
      const S = readNpyMatrix(join(FIX, `ap_S_${rep}.npy`));
      const G = completeGraphFromDense(S);
      const res = sparseAffinityPropagation(G, { noise });
      const ref = readNpy(join(FIX, `labels_${rep}.npy`)).data;
      expect(res.complete).toBe(true);
      expect(res.nnz).toBe(S.rows * S.rows);
      expect(Array.from(res.labels)).toEqual(Array.from(ref));
      expect(res.exemplars.length).toBe(expected[rep][0]);
      expect(res.nIter).toBe(expected[rep][1]);
      expect(res.converged).toBe(true);
    });
  }
  it("raw: phenomap's own seeded noise → exactly the dense function's result", () => {
    const S = readNpyMatrix(join(FIX, 'ap_S_raw.npy'));
    const G = completeGraphFromDense(S);
    for (const seed of [0, 7]) {
      const dense = affinityPropagation(S, { noise: { seed }, threads: 1 });
      const sparse = sparseAffinityPropagation(G, { noise: { seed } });
      expect(sparse.preference).toBe(dense.preference);
      expect(Array.from(sparse.labels)).toEqual(Array.from(dense.labels));
      expect(Array.from(sparse.exemplars)).toEqual(Array.from(dense.exemplars));
      expect(sparse.nIter).toBe(dense.nIter);
      expect(Array.from(sparse.exemplarTrace)).toEqual(Array.from(dense.exemplarTrace));
    }
  });
  it('non-convergence and damping retry match the dense function', () => {
    const S = readNpyMatrix(join(FIX, 'ap_S_pca.npy'));
    const G = completeGraphFromDense(S);
    const dense = affinityPropagation(S, { noise: { seed: 1 }, maxIter: 20, threads: 1 });
    const sparse = sparseAffinityPropagation(G, { noise: { seed: 1 }, maxIter: 20 });
    expect(sparse.converged).toBe(dense.converged);
    expect(Array.from(sparse.labels)).toEqual(Array.from(dense.labels));
    const r = sparseAffinityPropagationWithRetry(G, { noise: { seed: 1 }, dampings: [0.9] });
    const rd = affinityPropagation(S, { noise: { seed: 1 }, damping: 0.9, threads: 1 });
    expect(Array.from(r.labels)).toEqual(Array.from(rd.labels));
    expect(r.nIter).toBe(rd.nIter);
  });
  it('convergence tolerance: 0 is the exact rule; a tolerance stops once enough points are stable', () => {
    const S = readNpyMatrix(join(FIX, 'ap_S_pca.npy'));
    const G = completeGraphFromDense(S);
    const exact = sparseAffinityPropagation(G, { noise: { seed: 1 }, maxIter: 20 });
    const zero = sparseAffinityPropagation(G, { noise: { seed: 1 }, maxIter: 20, convergenceTolerance: 0 });
    expect(zero.nIter).toBe(exact.nIter);
    const loose = sparseAffinityPropagation(G, { noise: { seed: 1 }, maxIter: 200, convergenceTolerance: 0.5 });
    expect(loose.converged).toBe(true);
    expect(loose.unstable).toBeLessThanOrEqual(Math.floor(0.5 * S.rows));
    const strict = sparseAffinityPropagation(G, { noise: { seed: 1 }, maxIter: 200 });
    expect(loose.nIter).toBeLessThanOrEqual(strict.nIter);
    expect(strict.unstable).toBe(0);
    expect(() => sparseAffinityPropagation(G, { convergenceTolerance: 1 })).toThrow(/convergenceTolerance/);
  });
});

describe('sparse AP on k-NN graphs', () => {
  it('recovers well-separated blobs (50 rows each) from a 40-NN graph, agreeing with dense AP', () => {
    const { X, y } = blobs(400, 8, 5, 1, 3);
    const S = negSq(X);
    const pref = sampledSimilarityMedian(X, 50_000, 1);
    const dense = affinityPropagation(S, { preference: pref, threads: 1 });
    const G = knnToSimilarity(knnGraph(X, 40), { symmetrize: true });
    const sparse = sparseAffinityPropagation(G, { preference: pref });
    expect(sparse.converged).toBe(true);
    expect(sparse.complete).toBe(false);
    expect(Math.min(...sparse.labels)).toBeGreaterThanOrEqual(0);
    expect(adjustedRandIndex(sparse.labels, y)).toBeGreaterThan(0.95);
    expect(adjustedRandIndex(sparse.labels, dense.labels)).toBeGreaterThan(0.9);
    // O(nnz): the messages live on the stored entries only
    expect(sparse.nnz).toBeLessThan(400 * 81 + 1);
  });
  it('the native sweep and its JavaScript twin give the same messages (labels, trace, iterations)', () => {
    if (!nativeAvailable) return;
    const { X } = blobs(600, 12, 6, 2.5, 5);
    const G = knnToSimilarity(knnGraph(X, 15), { symmetrize: true });
    const opts = { preference: sampledSimilarityMedian(X, 20_000, 2), convergenceTolerance: 0.01, maxIter: 120 };
    const nat = sparseAffinityPropagationWithRetry(G, opts);
    useNative(false);
    try {
      const js = sparseAffinityPropagationWithRetry(G, opts);
      expect(Array.from(js.labels)).toEqual(Array.from(nat.labels));
      expect(Array.from(js.exemplarTrace)).toEqual(Array.from(nat.exemplarTrace));
      expect(js.attempts).toEqual(nat.attempts);
      expect(js.unstable).toBe(nat.unstable);
    } finally {
      useNative(true);
    }
  });
  it('default preference on an incomplete graph is the median of the edge similarities', () => {
    const G: SparseSimilarity = {
      n: 4,
      indptr: Int32Array.from([0, 1, 3, 5, 6]),
      indices: Int32Array.from([1, 0, 2, 1, 3, 2]),
      values: Float64Array.from([-1, -1, -4, -4, -9, -9]),
    };
    const res = sparseAffinityPropagation(G, { noise: 'none' });
    expect(res.complete).toBe(false);
    expect(res.preference).toBe(-4);
    expect(res.labels.length).toBe(4);
  });
  it('rows without an exemplar neighbour take their most similar labelled neighbour\'s cluster', () => {
    // a path 0–1–…–9 (similarity −1 per step) plus an isolated pair {10, 11} with a huge distance
    const n = 12;
    const rows: [number, number][][] = Array.from({ length: n }, () => []);
    for (let i = 0; i < 9; i++) {
      rows[i]!.push([i + 1, -1]);
      rows[i + 1]!.push([i, -1]);
    }
    rows[10]!.push([11, -1]);
    rows[11]!.push([10, -1]);
    const indptr = new Int32Array(n + 1);
    const indices: number[] = [], values: number[] = [];
    rows.forEach((r, i) => {
      r.sort((a, b) => a[0] - b[0]).forEach(([j, v]) => (indices.push(j), values.push(v)));
      indptr[i + 1] = indices.length;
    });
    const G: SparseSimilarity = { n, indptr, indices: Int32Array.from(indices), values: Float64Array.from(values) };
    const res = sparseAffinityPropagation(G, { preference: -3, noise: { seed: 2 } });
    const path = Array.from(res.labels.subarray(0, 10));
    expect(path.every((l) => l >= 0)).toBe(true);
    // contiguous segments along the path
    for (let i = 1; i < 10; i++) if (path[i] !== path[i - 1]) expect(path.slice(i).includes(path[i - 1]!)).toBe(false);
    expect(new Set(path).size).toBeGreaterThan(1);
    // every exemplar belongs to its own cluster
    res.exemplars.forEach((e, k) => expect(res.labels[e]).toBe(k));
  });
  it('rejects bad graphs', () => {
    const bad: SparseSimilarity = { n: 2, indptr: Int32Array.from([0, 0, 1]), indices: Int32Array.from([0]), values: Float64Array.from([-1]) };
    expect(() => sparseAffinityPropagation(bad)).toThrow(/no neighbour/);
    const unsorted: SparseSimilarity = { n: 3, indptr: Int32Array.from([0, 2, 3, 4]), indices: Int32Array.from([2, 1, 0, 0]), values: Float64Array.from([-1, -1, -1, -1]) };
    expect(() => sparseAffinityPropagation(unsorted)).toThrow(/ascending/);
    const nan: SparseSimilarity = { n: 2, indptr: Int32Array.from([0, 1, 2]), indices: Int32Array.from([1, 0]), values: Float64Array.from([NaN, -1]) };
    expect(() => sparseAffinityPropagation(nan)).toThrow(/not finite/);
  });
  it('degenerate shortcuts as the dense function', () => {
    const S = fromRows([[0, -1, -1], [-1, 0, -1], [-1, -1, 0]]);
    const d = affinityPropagation(S);
    const s = sparseAffinityPropagation(completeGraphFromDense(S));
    expect(Array.from(s.labels)).toEqual(Array.from(d.labels));
    expect(Array.from(s.exemplars)).toEqual(Array.from(d.exemplars));
  });
});

describe('sparse AP: exemplar refinement of large clusters', () => {
  it('above 4,096 members the exemplar still maximises the within-cluster similarity sum (missing pairs imputed)', () => {
    const n = 5000, d = 2;
    const rng = new Rng(11);
    const X = zeros(n, d);
    for (let i = 0; i < n * d; i++) X.data[i] = rng.normal();
    const G = knnToSimilarity(knnGraph(X, 8), { symmetrize: true });
    const res = sparseAffinityPropagation(G, { preference: -1e4, damping: 0.9, convergenceTolerance: 0.01 });
    const sizes = new Map<number, number[]>();
    res.labels.forEach((l, i) => sizes.set(l, [...(sizes.get(l) ?? []), i]));
    const big = [...sizes.entries()].filter(([l, m]) => l >= 0 && m.length > 4096);
    expect(big.length).toBeGreaterThan(0);
    // the O(m²) definition, straight from the module comment
    const rowMin = new Float64Array(n).fill(Infinity);
    const stored = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      for (let p = G.indptr[i]!; p < G.indptr[i + 1]!; p++) {
        if (G.indices[p] === i) continue;
        rowMin[i] = Math.min(rowMin[i]!, G.values[p]!);
        stored.set(i * n + G.indices[p]!, G.values[p]!);
      }
    }
    for (const [l, members] of big) {
      const sums = members.map((q) => members.reduce((s, r) => s + (r === q ? -1e4 : stored.get(r * n + q) ?? rowMin[r]!), 0));
      const best = Math.max(...sums);
      const ex = res.exemplars[l]!;
      // the noise on the diagonal is ~1e-12 relative: equal up to that
      expect(sums[members.indexOf(ex)]!).toBeGreaterThanOrEqual(best - 1e-6 * Math.abs(best));
    }
  });
});
