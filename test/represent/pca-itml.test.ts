import { describe, it, expect } from 'vitest';
import { PCA } from '../../src/represent/pca.js';
import { Itml, sampleConstraints } from '../../src/represent/itml.js';
import { gemmTN, squaredDistances, zeros, fromRows, identity } from '../../src/linalg/index.js';
import { Rng } from '../../src/linalg/rng.js';
import { fixtureMatrix, fixtureConstraints, fixtureSummary, maxRelDiff, fixtureMoaLabels } from '../helpers/fixtures.js';

describe('PCA (scikit-learn parity on the LINCS plate)', () => {
  const Z = fixtureMatrix('X_zscored.npy');

  it('50 components match X_pca.npy including sklearn signs', () => {
    const P = new PCA({ nComponents: 50 }).fitTransform(Z);
    const ref = fixtureMatrix('X_pca.npy');
    expect(P.rows).toBe(342);
    expect(P.cols).toBe(50);
    expect(maxRelDiff(P.data, ref.data)).toBeLessThan(1e-10);
  });

  it('explained variance total and transform() agree with fit', () => {
    const pca = new PCA({ nComponents: 50 });
    const P = pca.fitTransform(Z);
    const total = pca.explainedVarianceRatio!.reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(fixtureSummary().pca.explained_variance_total, 10);
    expect(maxRelDiff(pca.transform(Z).data, P.data)).toBeLessThan(1e-10);
  });

  it('a variance fraction selects the smallest k exceeding it', () => {
    const pca = new PCA({ nComponents: 0.8 }).fit(Z);
    const ratios = pca.explainedVarianceRatio!;
    const cum = ratios.reduce((a, b) => a + b, 0);
    expect(cum).toBeGreaterThan(0.8);
    expect(cum - ratios[ratios.length - 1]!).toBeLessThanOrEqual(0.8);
  });

  it('distances in PCA space with all components equal the original distances', () => {
    const X = zeros(20, 6);
    new Rng(3).fillNormal(X.data);
    const P = new PCA().fitTransform(X);
    expect(maxRelDiff(squaredDistances(P).data, squaredDistances(X).data)).toBeLessThan(1e-10);
  });

  it('rejects impossible component counts', () => {
    expect(() => new PCA({ nComponents: 500 }).fit(Z)).toThrow(/n_components/);
  });
});

describe('ITML (metric-learn parity on the LINCS plate)', () => {
  const Z = fixtureMatrix('X_zscored.npy');
  const L = fixtureMatrix('itml_components_L.npy');
  const Mref = gemmTN(L, L);
  const ref = fixtureSummary().itml;

  it.each(['lowrank', 'dense'] as const)('given the fixture constraints, M = LᵀL matches to 1e-12 with 3 sweeps (%s updates)', (algorithm) => {
    const itml = new Itml({ bounds: 'metric-learn', maxIter: 1000, tol: 1e-3, algorithm }).fitPairs(Z, fixtureConstraints());
    expect(itml.bounds[0]).toBeCloseTo(ref.bounds_u_l[0], 12);
    expect(itml.bounds[1]).toBeCloseTo(ref.bounds_u_l[1], 11);
    expect(maxRelDiff(itml.metric!.data, Mref.data)).toBeLessThan(1e-12);
    expect(maxRelDiff(itml.components!.data, L.data)).toBeLessThan(1e-12);
    expect(itml.nSweeps).toBe(ref.sweeps);
    expect(itml.converged).toBe(true);
    expect(maxRelDiff(itml.lambda!, ref.lambda_)).toBeLessThan(1e-10);
    expect(maxRelDiff(itml.convTrace, ref.conv_trace)).toBeLessThan(1e-9);
  });

  it('transform gives the learned Mahalanobis distances', () => {
    const itml = new Itml({ bounds: 'metric-learn' }).fitPairs(Z, fixtureConstraints());
    const T = itml.transform(Z);
    const M = itml.metric!;
    const d = Z.cols;
    const v = new Float64Array(d);
    for (const [a, b] of [[0, 1], [5, 77], [300, 12]] as const) {
      for (let j = 0; j < d; j++) v[j] = Z.data[a * d + j]! - Z.data[b * d + j]!;
      let dm = 0;
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) dm += v[i]! * M.data[i * d + j]! * v[j]!;
      let de = 0;
      for (let j = 0; j < d; j++) de += (T.data[a * d + j]! - T.data[b * d + j]!) ** 2;
      expect(de).toBeCloseTo(dm, 8);
    }
  });

  it('with near-hard constraints (large gamma) pulls similar pairs inside u and pushes dissimilar beyond l', () => {
    const labels = fixtureMoaLabels();
    const itml = new Itml({ numConstraints: 20, seed: 3, gamma: 1e8, tol: 1e-6 }).fit(Z, labels);
    expect(itml.converged).toBe(true);
    const T = itml.transform(Z);
    const d = Z.cols;
    const [u, l] = itml.bounds;
    for (const c of itml.constraints) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (T.data[c.a * d + j]! - T.data[c.b * d + j]!) ** 2;
      // Converged within tol: constraints hold up to a small slack.
      if (c.sign === 1) expect(s).toBeLessThan(u * 1.05);
      else expect(s).toBeGreaterThan(l * 0.95);
    }
  });

  it('soft constraints (gamma = 1) shrink similar-pair distances', () => {
    const labels = fixtureMoaLabels();
    const itml = new Itml({ numConstraints: 20, seed: 3 }).fit(Z, labels);
    const T = itml.transform(Z);
    const d = Z.cols;
    let before = 0, after = 0;
    for (const c of itml.constraints.filter((x) => x.sign === 1)) {
      for (let j = 0; j < d; j++) {
        before += (Z.data[c.a * d + j]! - Z.data[c.b * d + j]!) ** 2;
        after += (T.data[c.a * d + j]! - T.data[c.b * d + j]!) ** 2;
      }
    }
    expect(after).toBeLessThan(0.7 * before);
  });

  it('same seed → same metric; different seed → different constraints', () => {
    const labels = fixtureMoaLabels();
    const a = new Itml({ seed: 1 }).fit(Z, labels);
    const b = new Itml({ seed: 1 }).fit(Z, labels);
    const c = new Itml({ seed: 2 }).fit(Z, labels);
    expect(Array.from(a.metric!.data)).toEqual(Array.from(b.metric!.data));
    expect(a.constraints).not.toEqual(c.constraints);
  });

  it('nothing violated → M stays the identity and converges at once', () => {
    // Two tight, far-apart classes: every similar pair is within u and every dissimilar beyond l.
    const X = fromRows([[0, 0], [0.01, 0], [10, 10], [10.01, 10]]);
    const itml = new Itml({ bounds: [1, 50] }).fitPairs(X, [
      { a: 0, b: 1, sign: 1 }, { a: 2, b: 3, sign: 1 }, { a: 0, b: 2, sign: -1 },
    ]);
    expect(Array.from(itml.metric!.data)).toEqual(Array.from(identity(2).data));
    expect(itml.converged).toBe(true);
  });

  it('bad input: single class, too few rows, non-SPD prior', () => {
    expect(() => sampleConstraints(['a', 'a', 'a'], 5, new Rng(0))).toThrow(/2 label classes/);
    expect(() => sampleConstraints(['a', null], 5, new Rng(0))).toThrow(/2 labelled rows/);
    const X = fromRows([[0, 1], [1, 0], [2, 2]]);
    expect(() => new Itml({ prior: fromRows([[1, 2], [2, 1]]) }).fitPairs(X, [{ a: 0, b: 1, sign: 1 }, { a: 0, b: 2, sign: -1 }])).toThrow(/positive definite/);
  });

  it('constraint sampling: distinct pairs, similar share a label, dissimilar do not, warns when short', () => {
    const labels = ['a', 'a', 'b', 'b', 'c', null];
    const warnings: string[] = [];
    const pairs = sampleConstraints(labels, 4, new Rng(5), warnings);
    const keys = new Set(pairs.map((p) => `${p.a},${p.b},${p.sign}`));
    expect(keys.size).toBe(pairs.length);
    for (const p of pairs) {
      expect(p.a).not.toBe(p.b);
      expect(labels[p.a]).not.toBeNull();
      expect(labels[p.b]).not.toBeNull();
      if (p.sign === 1) expect(labels[p.a]).toBe(labels[p.b]);
      else expect(labels[p.a]).not.toBe(labels[p.b]);
    }
    const many = sampleConstraints(labels, 50, new Rng(5), warnings);
    expect(many.filter((p) => p.sign === 1).length).toBe(4); // only 4 ordered similar pairs exist
    expect(warnings.some((w) => /similar pairs/.test(w))).toBe(true);
  });
});

