import { describe, expect, it } from 'vitest';
import { exactKnn, hnswKnn, knnGraph, knnRecall, knnToSimilarity, sampledRecall } from '../../src/cluster/knnGraph.js';
import { zeros, type Matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/rng.js';
import { nativeAvailable, useNative } from '../../src/linalg/native.js';
import { bruteForceKnn } from '../helpers/bruteKnn.js';

function randomMatrix(n: number, d: number, seed: number, clusters = 0): Matrix {
  const rng = new Rng(seed);
  const X = zeros(n, d);
  const C = Array.from({ length: Math.max(clusters, 1) }, () => Array.from({ length: d }, () => (clusters ? rng.normal() * 3 : 0)));
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X.data[i * d + j] = C[i % C.length]![j]! + rng.normal();
  return X;
}

const bruteForce = bruteForceKnn;

describe('exact k-NN graph', () => {
  it('equals brute force (indices and distances), across block/panel sizes', () => {
    const X = randomMatrix(300, 7, 1);
    const bf = bruteForce(X, 8);
    for (const [blockRows, panelRows] of [[512, 8192], [16, 37], [5, 300]] as const) {
      const G = exactKnn(X, 8, { blockRows, panelRows });
      expect(G.k).toBe(8);
      expect(G.indptr[300]).toBe(2400);
      for (let i = 0; i < 300; i++) {
        expect(Array.from(G.indices.subarray(i * 8, i * 8 + 8))).toEqual(bf.idx[i]);
        const ds = Array.from(G.distances.subarray(i * 8, i * 8 + 8));
        ds.forEach((v, t) => expect(v).toBeCloseTo(bf.dist[i]![t]!, 12));
      }
    }
  });
  it('handles duplicate rows and k ≥ n', () => {
    const X = zeros(5, 2);
    X.data.set([0, 0, 0, 0, 1, 1, 1, 1, 5, 5]);
    const G = exactKnn(X, 10);
    expect(G.k).toBe(4);
    expect(Array.from(G.indices.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    expect(G.distances[0]).toBe(0);
    expect(() => exactKnn(X, 0)).toThrow(/k must be/);
    X.data[3] = NaN;
    expect(() => exactKnn(X, 2)).toThrow(/non-finite value at row 1/);
  });
});

describe('HNSW k-NN graph', () => {
  it('recall@10 ≥ 0.9 on 2,000 clustered points in 32 dimensions; deterministic by seed', () => {
    const X = randomMatrix(2000, 32, 2, 20);
    const exact = knnGraph(X, 10);
    const approx = hnswKnn(X, 10, { hnsw: { m: 16, efConstruction: 100, efSearch: 50, seed: 1 } });
    const recall = knnRecall(approx, exact);
    expect(recall).toBeGreaterThanOrEqual(0.9);
    expect(sampledRecall(X, approx, 300, 3)).toBeGreaterThanOrEqual(0.9);
    expect(sampledRecall(X, exact, 300, 3)).toBe(1);
    const again = hnswKnn(X, 10, { hnsw: { m: 16, efConstruction: 100, efSearch: 50, seed: 1 } });
    expect(Array.from(again.indices)).toEqual(Array.from(approx.indices));
    // a worker thread searching half the rows from the saved index gives the same graph
    const threaded = hnswKnn(X, 10, { hnsw: { m: 16, efConstruction: 100, efSearch: 50, seed: 1, threads: 2 } });
    expect(Array.from(threaded.indices)).toEqual(Array.from(approx.indices));
    expect(threaded.searchThreads).toBe(2);
    expect(approx.searchThreads).toBe(1);
    // two shards built in parallel and merged: still high recall, deterministic
    const sharded = hnswKnn(X, 10, { hnsw: { m: 16, efConstruction: 100, efSearch: 50, seed: 1, shards: 2 } });
    expect(sharded.shards).toBe(2);
    expect(knnRecall(sharded, exact)).toBeGreaterThanOrEqual(0.9);
    const sharded2 = hnswKnn(X, 10, { hnsw: { m: 16, efConstruction: 100, efSearch: 50, seed: 1, shards: 2 } });
    expect(Array.from(sharded2.indices)).toEqual(Array.from(sharded.indices));
    // rows in a SharedArrayBuffer (large tables are) reach the workers as views, not copies: same graphs
    const shared = new Float64Array(new SharedArrayBuffer(X.data.length * 8 + 16), 16, X.data.length);
    shared.set(X.data);
    const XS = { rows: X.rows, cols: X.cols, data: shared };
    const shardedS = hnswKnn(XS, 10, { hnsw: { m: 16, efConstruction: 100, efSearch: 50, seed: 1, shards: 2 } });
    expect(Array.from(shardedS.indices)).toEqual(Array.from(sharded.indices));
    const threadedS = hnswKnn(XS, 10, { hnsw: { m: 16, efConstruction: 100, efSearch: 50, seed: 1, threads: 2 } });
    expect(Array.from(threadedS.indices)).toEqual(Array.from(approx.indices));
    expect([shardedS.shards, threadedS.searchThreads]).toEqual([2, 2]);
    // no self loops, distances ascending and exact
    for (let i = 0; i < 2000; i++) {
      for (let p = approx.indptr[i]!; p < approx.indptr[i + 1]!; p++) {
        expect(approx.indices[p]).not.toBe(i);
        if (p > approx.indptr[i]!) expect(approx.distances[p]!).toBeGreaterThanOrEqual(approx.distances[p - 1]!);
      }
    }
  });
  it('a weak index has lower measured recall (the measure can fail)', () => {
    const X = randomMatrix(2000, 32, 4);
    const exact = exactKnn(X, 10);
    const weak = hnswKnn(X, 10, { hnsw: { m: 2, efConstruction: 10, efSearch: 11, seed: 0 } });
    expect(knnRecall(weak, exact)).toBeLessThan(0.9);
  });
});

describe('projected HNSW k-NN graph', () => {
  /** n points around 20 centres that span an 8-dimensional subspace of d dimensions, plus noise. */
  function lowRank(n: number, d: number, seed: number, noise: number): Matrix {
    const rng = new Rng(seed);
    const W = Array.from({ length: 8 }, () => Array.from({ length: d }, () => rng.normal()));
    const C = Array.from({ length: 20 }, () => Array.from({ length: 8 }, () => rng.normal() * 3));
    const X = zeros(n, d);
    for (let i = 0; i < n; i++) {
      const z = C[i % 20]!.map((v) => v + rng.normal());
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let l = 0; l < 8; l++) s += z[l]! * W[l]![j]!;
        X.data[i * d + j] = s + noise * rng.normal();
      }
    }
    return X;
  }
  it('index on 16 principal components, candidates re-ranked by their exact distance in all 300 dimensions', () => {
    const X = lowRank(1500, 300, 5, 0.3);
    const exact = exactKnn(X, 10);
    const G = hnswKnn(X, 10, { hnsw: { seed: 1, projectDims: 16 } });
    expect(G.projectedDims).toBe(16);
    expect(knnRecall(G, exact)).toBeGreaterThanOrEqual(0.95);
    // every kept distance is the direct float64 sum in the full space, ascending per row
    for (let i = 0; i < 1500; i += 37) {
      for (let p = G.indptr[i]!; p < G.indptr[i + 1]!; p++) {
        const j = G.indices[p]!;
        let s = 0;
        for (let c = 0; c < 300; c++) s += (X.data[i * 300 + c]! - X.data[j * 300 + c]!) ** 2;
        expect(G.distances[p]).toBe(s);
        if (p > G.indptr[i]!) expect(G.distances[p]!).toBeGreaterThanOrEqual(G.distances[p - 1]!);
      }
    }
    // the candidates' exact distances: native kernel and JavaScript loop agree bit for bit (float64 and float32 rows)
    if (nativeAvailable) {
      const X32 = { rows: X.rows, cols: X.cols, data: Float32Array.from(X.data) };
      for (const M of [X, X32]) {
        const a = hnswKnn(M, 10, { hnsw: { seed: 1, projectDims: 16, candidates: 23 } });
        useNative(false);
        const b = hnswKnn(M, 10, { hnsw: { seed: 1, projectDims: 16, candidates: 23 } });
        useNative(true);
        expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
        expect(Array.from(a.distances)).toEqual(Array.from(b.distances));
      }
    }
    // too few dimensions for the data's structure: the recall measure shows it
    const iso = randomMatrix(1500, 300, 6);
    const weak = hnswKnn(iso, 10, { hnsw: { seed: 1, projectDims: 4 } });
    expect(sampledRecall(iso, weak, 200, 1)).toBeLessThan(0.5);
  });
});

describe('similarity graph', () => {
  it('symmetrized union, ascending columns, −d² values', () => {
    const X = randomMatrix(50, 3, 5);
    const G = exactKnn(X, 4);
    const S = knnToSimilarity(G);
    const has = (i: number, j: number) => {
      for (let p = S.indptr[i]!; p < S.indptr[i + 1]!; p++) if (S.indices[p] === j) return S.values[p]!;
      return undefined;
    };
    for (let i = 0; i < 50; i++) {
      for (let p = S.indptr[i]! + 1; p < S.indptr[i + 1]!; p++) expect(S.indices[p]!).toBeGreaterThan(S.indices[p - 1]!);
      for (let p = G.indptr[i]!; p < G.indptr[i + 1]!; p++) {
        const j = G.indices[p]!;
        expect(has(i, j)).toBe(-G.distances[p]!);
        expect(has(j, i)).toBe(-G.distances[p]!);
      }
    }
    // nothing else: every stored pair is an edge of G in one direction or the other
    const inG = (i: number, j: number) => Array.from(G.indices.subarray(G.indptr[i]!, G.indptr[i + 1]!)).includes(j);
    for (let i = 0; i < 50; i++) for (let p = S.indptr[i]!; p < S.indptr[i + 1]!; p++) expect(inG(i, S.indices[p]!) || inG(S.indices[p]!, i)).toBe(true);
    const directed = knnToSimilarity(G, { symmetrize: false });
    expect(directed.indices.length).toBe(200);
    for (let i = 0; i < 50; i++) {
      const cols = Array.from(directed.indices.subarray(directed.indptr[i]!, directed.indptr[i + 1]!));
      expect(cols).toEqual(Array.from(G.indices.subarray(G.indptr[i]!, G.indptr[i + 1]!)).sort((a, b) => a - b));
    }
  });
});
