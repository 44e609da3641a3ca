import { describe, expect, it } from 'vitest';
import { Itml } from '../../src/represent/itml.js';
import { squaredDistances, zeros } from '../../src/linalg/index.js';
import { Rng } from '../../src/linalg/rng.js';

describe('Itml.transformLowRank', () => {
  it('gives the same pairwise distances as the Cholesky transform', () => {
    const rng = new Rng(1);
    const n = 200, d = 60;
    const X = zeros(n, d);
    const labels: string[] = [];
    for (let i = 0; i < n; i++) {
      labels.push(`c${i % 5}`);
      for (let j = 0; j < d; j++) X.data[i * d + j] = rng.normal() + (j < 5 && j === i % 5 ? 2 : 0);
    }
    const itml = new Itml({ numConstraints: 20, seed: 3 }).fit(X, labels);
    expect(itml.lowRankFactors).toBeDefined();
    const a = squaredDistances(itml.transform(X));
    const b = squaredDistances(itml.transformLowRank(X));
    let maxRel = 0;
    for (let i = 0; i < a.data.length; i++) {
      if (a.data[i]! > 0) maxRel = Math.max(maxRel, Math.abs(a.data[i]! - b.data[i]!) / a.data[i]!);
    }
    expect(maxRel).toBeLessThan(1e-9);
    // and the metric really differs from the identity (the test can fail)
    const plain = squaredDistances(X);
    let diff = 0;
    for (let i = 0; i < a.data.length; i++) diff = Math.max(diff, Math.abs(a.data[i]! - plain.data[i]!));
    expect(diff).toBeGreaterThan(1e-3);
  });
  it('falls back to transform for the dense update', () => {
    const rng = new Rng(2);
    const X = zeros(40, 3);
    for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
    const labels = Array.from({ length: 40 }, (_, i) => `c${i % 2}`);
    const itml = new Itml({ numConstraints: 10, algorithm: 'dense' }).fit(X, labels);
    expect(itml.lowRankFactors).toBeUndefined();
    expect(Array.from(itml.transformLowRank(X).data)).toEqual(Array.from(itml.transform(X).data));
  });
});
