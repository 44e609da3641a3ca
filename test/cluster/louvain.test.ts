import { describe, expect, it } from 'vitest';
import { louvain, knnAffinityGraph, modularity, type WeightedGraph } from '../../src/cluster/louvain.js';
import { exactKnn } from '../../src/cluster/knnGraph.js';
import { adjustedRandIndex } from '../../src/evaluate/ari.js';
import { moaEnrichment } from '../../src/enrich/enrichment.js';
import { csif } from '../../src/enrich/csif.js';
import { zeros } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/rng.js';

/** Planted partition: `groups` groups of `size`, edge prob pIn inside, pOut across. */
function planted(groups: number, size: number, pIn: number, pOut: number, seed: number): { g: WeightedGraph; truth: Int32Array } {
  const n = groups * size;
  const rng = new Rng(seed);
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const same = Math.floor(i / size) === Math.floor(j / size);
      if (rng.uniform() < (same ? pIn : pOut)) {
        adj[i]!.push(j);
        adj[j]!.push(i);
      }
    }
  const indptr = new Int32Array(n + 1);
  const idx: number[] = [];
  adj.forEach((a, i) => {
    a.sort((x, y) => x - y).forEach((j) => idx.push(j));
    indptr[i + 1] = idx.length;
  });
  const truth = Int32Array.from({ length: n }, (_, i) => Math.floor(i / size));
  return { g: { n, indptr, indices: Int32Array.from(idx), weights: new Float64Array(idx.length).fill(1) }, truth };
}

describe('louvain', () => {
  it('finds planted communities (ARI > 0.9), deterministic by seed', () => {
    const { g, truth } = planted(10, 40, 0.3, 0.01, 1);
    const r = louvain(g, { seed: 0 });
    expect(adjustedRandIndex(r.labels, truth)).toBeGreaterThan(0.9);
    expect(r.modularity).toBeCloseTo(modularity(g, r.labels), 12);
    expect(r.modularity).toBeGreaterThan(modularity(g, truth) - 0.01);
    const again = louvain(g, { seed: 0 });
    expect(Array.from(again.labels)).toEqual(Array.from(r.labels));
  });
  it('resolution: larger γ gives more communities', () => {
    const { g } = planted(6, 30, 0.4, 0.02, 2);
    const lo = louvain(g, { resolution: 0.2 }).communities;
    const hi = louvain(g, { resolution: 5 }).communities;
    expect(hi).toBeGreaterThan(lo);
  });
  it('on a k-NN graph of blobs; enrichment and CSIF run unchanged on its labels', () => {
    const rng = new Rng(4);
    const n = 600, d = 6, K = 6;
    const X = zeros(n, d);
    const y = new Int32Array(n);
    const C = Array.from({ length: K }, () => Array.from({ length: d }, () => rng.normal() * 8));
    for (let i = 0; i < n; i++) {
      y[i] = i % K;
      for (let j = 0; j < d; j++) X.data[i * d + j] = C[y[i]!]![j]! + rng.normal();
    }
    for (const weighting of ['gaussian', 'inverse'] as const) {
      const g = knnAffinityGraph(exactKnn(X, 15), { weighting });
      const r = louvain(g, { seed: 1 });
      expect(adjustedRandIndex(r.labels, y)).toBeGreaterThan(0.9);
      const moas = Array.from(y, (c) => `moa${c}`);
      const enr = moaEnrichment(r.labels, moas);
      expect(enr.enrichedClusters.length).toBeGreaterThanOrEqual(K - 1);
      const cs = csif(X, r.labels, Array.from({ length: d }, (_, j) => `f${j}`), { threshold: 0.5 });
      expect(cs.perCluster.length).toBe(r.communities);
    }
  });
  it('rejects bad input', () => {
    const g: WeightedGraph = { n: 2, indptr: Int32Array.from([0, 1, 2]), indices: Int32Array.from([1, 0]), weights: Float64Array.from([-1, -1]) };
    expect(() => louvain(g)).toThrow(/≥ 0/);
    g.weights.fill(1);
    expect(() => louvain(g, { resolution: 0 })).toThrow(/resolution/);
    expect(louvain(g).communities).toBe(1);
  });
});

describe('withRepresentatives', () => {
  it('numbers communities by ascending representative, each representative in its own community', async () => {
    const { withRepresentatives } = await import('../../src/cluster/louvain.js');
    const { g } = planted(5, 20, 0.5, 0.02, 9);
    const r = louvain(g, { seed: 2 });
    const w = withRepresentatives(g, r.labels);
    expect(adjustedRandIndex(w.labels, r.labels)).toBe(1);
    for (let k = 1; k < w.exemplars.length; k++) expect(w.exemplars[k]!).toBeGreaterThan(w.exemplars[k - 1]!);
    w.exemplars.forEach((e, k) => expect(w.labels[e]).toBe(k));
  });
});
