import { describe, expect, it } from 'vitest';
import { fromRows, zeros } from '../../src/linalg/matrix.js';
import { silhouetteSamples } from '../../src/evaluate/silhouette.js';
import { normalizedMutualInfo } from '../../src/evaluate/ari.js';
import { batchBiology, batchMixing, cosineKnn, graphConnectivity, lisi } from '../../src/evaluate/batchMetrics.js';
import { Rng } from '../../src/linalg/rng.js';
import { planted } from '../batch/planted.js';
import { fitCombat, applyCombat } from '../../src/batch/combat.js';

describe('reference values (scikit-learn 1.2.1, computed once)', () => {
  const X = fromRows([[1, 0.2, 0.1], [0.9, 0.1, 0.3], [0.2, 1, 0.1], [0.1, 0.8, 0.4], [0.5, 0.5, 0.9], [0.6, 0.4, 1.0], [1, 1, 0.2]]);
  const lab = [0, 0, 1, 1, 2, 2, 1];
  it('cosine and Euclidean silhouette samples equal sklearn\'s silhouette_samples', () => {
    const cos = [0.9291669358422344, 0.8970594501764729, 0.746024196060329, 0.4025955462160781, 0.9738839959140486, 0.9752014897397033, -0.038630464254870864];
    const euc = [0.7544293705212937, 0.701855558078531, 0.44924022726966983, 0.16852128323657975, 0.8069811274002524, 0.8100324525428589, -0.01849240600364614];
    const sc = silhouetteSamples(X, lab, { metric: 'cosine' }), se = silhouetteSamples(X, lab);
    cos.forEach((v, i) => expect(sc[i]).toBeCloseTo(v, 12));
    euc.forEach((v, i) => expect(se[i]).toBeCloseTo(v, 12));
  });
  it('NMI equals normalized_mutual_info_score (arithmetic)', () => {
    expect(normalizedMutualInfo([0, 0, 1, 1, 2, 2, 2], [1, 1, 0, 0, 0, 2, 2])).toBeCloseTo(0.7471790950662618, 14);
    expect(normalizedMutualInfo(['a', 'a'], [3, 3])).toBe(1);
    expect(normalizedMutualInfo([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(0, 14);
  });
});

describe('batch mixing, hand-checked', () => {
  // Two tight groups of 40 points on different directions; batch either alternates (mixed) or
  // follows the group (separated).
  const rng = new Rng(3);
  const n = 80;
  const X = zeros(n, 3);
  for (let i = 0; i < n; i++) {
    const g = i < 40 ? 0 : 1;
    X.data[i * 3] = g ? 0.1 : 1;
    X.data[i * 3 + 1] = g ? 1 : 0.1;
    X.data[i * 3 + 2] = 0.01 * rng.normal();
  }
  const label = Array.from({ length: n }, (_, i) => (i < 40 ? 'A' : 'B'));
  const mixed = Array.from({ length: n }, (_, i) => `b${i % 2}`);
  const separated = Array.from({ length: n }, (_, i) => (i < 40 ? 'b0' : 'b1'));

  it('iLISI: ≈ 2 batches in every neighbourhood when mixed, 1 when each group is one batch', () => {
    const G = cosineKnn(X, 79);
    const lm = lisi(G, mixed, 10), ls = lisi(G, separated, 10);
    // Neighbours' batches are random here, so single rows vary; the median is near 2.
    expect(Float64Array.from(lm).sort()[40]).toBeGreaterThan(1.8);
    expect(Math.max(...ls)).toBeLessThan(1.0001);
    const m = batchMixing(X, mixed, label, { perplexity: 10, nNeighbors: 11 });
    const s = batchMixing(X, separated, label, { perplexity: 10, nNeighbors: 11 });
    expect(m.ilisi).toBeGreaterThan(0.8);
    expect(s.ilisi).toBeLessThan(1e-4);
    expect(m.otherBatchShare).toBeGreaterThan(0.35);
    expect(s.otherBatchShare).toBe(0);
    expect(m.otherBatchShareExpected).toBeCloseTo(40 / 79, 12);
    // Separated: every label lives in one batch, so the batch silhouette has nothing to score.
    expect(s.silhouetteSkipped.sort()).toEqual(['A', 'B']);
    expect(m.silhouetteBatch).toBeGreaterThan(0.6);
  });

  it('graph connectivity: 1 for connected labels, the largest component share otherwise', () => {
    // A path 0-1-2 and a separate pair 3-4, all one label: largest component 3 of 5.
    const G = { n: 5, k: 1, indptr: Int32Array.from([0, 1, 2, 3, 4, 5]), indices: Int32Array.from([1, 2, 1, 4, 3]), distances: new Float64Array(5) };
    expect(graphConnectivity(G, ['x', 'x', 'x', 'x', 'x']).score).toBeCloseTo(0.6, 14);
    expect(graphConnectivity(G, ['x', 'x', 'x', 'y', 'y']).score).toBe(1);
  });
});

describe('batch metrics judge a correction', () => {
  it('ComBat on planted batches raises mixing and keeps the classes', () => {
    const P = planted({ batches: 3, perBatch: 60, features: 8, controls: 12, classes: 3, shift: 4, seed: 5 });
    const treated = P.batch.map((_, i) => i).filter((i) => !P.isControl[i]);
    const sub = (X: typeof P.X) => ({ rows: treated.length, cols: X.cols, data: Float64Array.from(treated.flatMap((i) => Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols)))) });
    const before = batchMixing(sub(P.X), treated.map((i) => P.batch[i]!), treated.map((i) => P.label[i]!), { perplexity: 10 });
    const Y = applyCombat(fitCombat(P.X, P.batch), P.X, P.batch);
    const after = batchMixing(sub(Y), treated.map((i) => P.batch[i]!), treated.map((i) => P.label[i]!), { perplexity: 10 });
    expect(after.ilisi).toBeGreaterThan(before.ilisi + 0.3);
    expect(after.graphConnectivity).toBeGreaterThanOrEqual(before.graphConnectivity);
    const bio = batchBiology(Y, { compound: P.compound, label: P.label, batch: P.batch, isControl: P.isControl }, { nullSize: 50 });
    expect(bio.nsc).toBeGreaterThan(0.9);
    expect(bio.cluster.method).toBe('ap');
    expect(bio.replicateMap).toBeGreaterThan(0.5);
  });
});
