import { describe, it, expect } from 'vitest';
import { Macau } from '../../src/predict/macau.js';
import { plantedMacau } from '../../src/predict/synthetic.js';
import { ActivityMatrix, splitCells, type Triplet } from '../../src/predict/sparse.js';
import { aucRoc, intervalCoverage } from '../../src/predict/metrics.js';
import { takeRows } from '../../src/linalg/index.js';
import { InputError } from '../../src/util/errors.js';

const rmse = (pred: ArrayLike<number>, cells: readonly Triplet[]) =>
  Math.sqrt(cells.reduce((s, c, t) => s + (pred[t]! - c.value) ** 2, 0) / cells.length);

// The brief's planted problem: 600 compounds × 40 features, 60 assays, rank 4, 15 % observed,
// noise sd 0.3; the features explain the latent factors (Macau's generative model with Λ_U⁻¹ → 0).
const gauss = plantedMacau({ compounds: 600, features: 40, assays: 60, rank: 4, density: 0.15, noiseSd: 0.3, seed: 1, sideInfoShare: 1, mean: 5 });
const gaussSplit = splitCells(gauss.Y, 0.2, 2);

describe('Macau on data from its own generative model', () => {
  it('recovers held-out cells to within 10 % of the noise floor, with calibrated intervals', () => {
    const { train, test } = gaussSplit;
    const m = new Macau({ numLatent: 4, burnin: 60, nsamples: 100, seed: 3 }).fit(train, gauss.F, { track: test });
    const r = rmse(m.tracked!.mean, test);
    expect(r).toBeLessThan(1.1 * 0.3);
    // The posterior of the noise variance brackets the truth (adaptive noise capped at SN 10 → ≥ var/11).
    expect(m.noiseVariance).toBeGreaterThan(0.06);
    expect(m.noiseVariance).toBeLessThan(0.13);
    const cov = intervalCoverage(m.tracked!.mean, m.tracked!.predictiveStd, test.map((c) => c.value));
    expect(cov).toBeGreaterThan(0.9);
    expect(cov).toBeLessThan(0.99);
    // predict() from the stored samples agrees with the running sums over all samples.
    const p = m.predict(test);
    expect(rmse(p.mean, test)).toBeLessThan(1.1 * 0.3);
  });

  it('beats plain BPMF on cold-start compounds through the side information', () => {
    const n = gauss.Y.rows;
    const trainRows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 !== 0);
    const testRows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 === 0);
    const Ytr = gauss.Y.subsetRows(trainRows);
    const Yte = gauss.Y.subsetRows(testRows);
    const cells: Triplet[] = [];
    for (let i = 0; i < Yte.rows; i++) for (let k = Yte.rowPtr[i]!; k < Yte.rowPtr[i + 1]!; k++) cells.push({ row: i, col: Yte.rowCol[k]!, value: Yte.rowVal[k]! });
    const Fte = takeRows(gauss.F, testRows);
    const score = (model: Macau) => {
      const P = model.predictNew(Fte);
      return rmse(cells.map((c) => P.mean.data[c.row * P.mean.cols + c.col]!), cells);
    };
    const macau = new Macau({ numLatent: 4, burnin: 50, nsamples: 60, seed: 4 }).fit(Ytr, takeRows(gauss.F, trainRows));
    const bpmf = new Macau({ numLatent: 4, burnin: 50, nsamples: 60, seed: 4 }).fit(Ytr);
    const rMacau = score(macau), rBpmf = score(bpmf);
    expect(rMacau).toBeLessThan(0.6 * rBpmf);
    expect(rMacau).toBeLessThan(0.4);
    // predictNew restricted to some assays returns those columns.
    const sub = macau.predictNew(Fte, [3, 7]);
    const all = macau.predictNew(Fte);
    expect(sub.mean.cols).toBe(2);
    expect(sub.mean.data[5 * 2 + 1]).toBeCloseTo(all.mean.data[5 * all.mean.cols + 7]!, 12);
  });

  it('ranks binary data close to the Bayes-optimal ranking with probit noise', () => {
    const p = plantedMacau({ compounds: 600, features: 40, assays: 60, rank: 4, density: 0.2, noiseSd: 0.3, seed: 1, sideInfoShare: 1, binary: true, bias: -0.5 });
    const { train, test } = splitCells(p.Y, 0.2, 2);
    const m = new Macau({ numLatent: 4, burnin: 60, nsamples: 100, seed: 3, noise: { kind: 'probit' } }).fit(train, p.F, { track: test });
    const labels = test.map((c) => c.value);
    const auc = aucRoc(m.tracked!.mean, labels);
    const optimal = aucRoc(test.map((c) => p.truth(c.row, c.col)), labels);
    expect(optimal).toBeGreaterThan(0.95);
    expect(auc).toBeGreaterThan(optimal - 0.04);
    for (const v of m.tracked!.mean) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(1); }
  });
});

describe('Macau determinism and persistence', () => {
  const small = plantedMacau({ compounds: 120, features: 10, assays: 15, rank: 3, density: 0.3, noiseSd: 0.3, seed: 9 });
  const { train, test } = splitCells(small.Y, 0.2, 1);

  it('gives identical predictions for the same seed and different ones for another seed', () => {
    const a = new Macau({ numLatent: 3, burnin: 10, nsamples: 15, seed: 5 }).fit(train, small.F, { track: test });
    const b = new Macau({ numLatent: 3, burnin: 10, nsamples: 15, seed: 5 }).fit(train, small.F, { track: test });
    const c = new Macau({ numLatent: 3, burnin: 10, nsamples: 15, seed: 6 }).fit(train, small.F, { track: test });
    expect(Array.from(b.tracked!.mean)).toEqual(Array.from(a.tracked!.mean));
    expect(Array.from(b.tracked!.std)).toEqual(Array.from(a.tracked!.std));
    expect(Array.from(c.tracked!.mean)).not.toEqual(Array.from(a.tracked!.mean));
  });

  it('round-trips through JSON with identical predictions', () => {
    for (const noise of [{ kind: 'fixed', precision: 10 }, { kind: 'probit' }] as const) {
      const Y = noise.kind === 'probit' ? train.binarize(small.Y.valueStats().mean) : train;
      const m = new Macau({ numLatent: 3, burnin: 5, nsamples: 12, keep: 4, seed: 2, noise }).fit(Y, small.F);
      expect(m.keptSamples).toBe(4);
      const text = JSON.stringify(m.toJSON());
      const back = Macau.fromJSON(JSON.parse(text));
      const p1 = m.predict(test), p2 = back.predict(test);
      expect(Array.from(p2.mean)).toEqual(Array.from(p1.mean));
      expect(Array.from(p2.std)).toEqual(Array.from(p1.std));
      const n1 = m.predictNew(small.F), n2 = back.predictNew(small.F);
      expect(Array.from(n2.mean.data)).toEqual(Array.from(n1.mean.data));
      expect(Array.from(n2.predictiveStd.data)).toEqual(Array.from(n1.predictiveStd.data));
      expect(m.storedBytes()).toBe(4 * 8 * (15 * 3 + 3 + 10 * 3 + 120 * 3 + 1));
    }
    expect(() => Macau.fromJSON({ format: 'other' } as never)).toThrow(InputError);
  });

  it('samples β by conjugate gradient with the same accuracy as by Cholesky', () => {
    const p = plantedMacau({ compounds: 300, features: 30, assays: 30, rank: 3, density: 0.2, noiseSd: 0.3, seed: 4, sideInfoShare: 1 });
    const n = p.Y.rows;
    const trainRows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 4 !== 0);
    const testRows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 4 === 0);
    const Yte = p.Y.subsetRows(testRows);
    const cells: Triplet[] = [];
    for (let i = 0; i < Yte.rows; i++) for (let k = Yte.rowPtr[i]!; k < Yte.rowPtr[i + 1]!; k++) cells.push({ row: i, col: Yte.rowCol[k]!, value: Yte.rowVal[k]! });
    const res: number[] = [];
    for (const betaSolver of ['cholesky', 'cg'] as const) {
      const m = new Macau({ numLatent: 3, burnin: 40, nsamples: 40, seed: 1, betaSolver }).fit(p.Y.subsetRows(trainRows), takeRows(p.F, trainRows));
      const P = m.predictNew(takeRows(p.F, testRows));
      res.push(rmse(cells.map((c) => P.mean.data[c.row * P.mean.cols + c.col]!), cells));
    }
    expect(res[1]!).toBeLessThan(0.4);
    expect(Math.abs(res[1]! - res[0]!)).toBeLessThan(0.1 * res[0]!);
  });

  it('rejects inputs that do not fit', () => {
    expect(() => new Macau({ burnin: 1, nsamples: 1 }).fit(train, small.F.rows === 120 ? takeRows(small.F, [0, 1]) : small.F)).toThrow(InputError);
    expect(() => new Macau({ burnin: 1, nsamples: 1 }).fit(ActivityMatrix.fromCOO(3, 3, [], [], []))).toThrow(InputError);
    const m = new Macau({ numLatent: 2, burnin: 1, nsamples: 2, seed: 1 }).fit(train, small.F);
    expect(() => m.predict([{ row: 500, col: 0 }])).toThrow(InputError);
    expect(() => m.predictNew(takeRows(small.F, [0]), [99])).toThrow(InputError);
    expect(() => new Macau({ numLatent: 0 })).toThrow(RangeError);
  });
});

describe('Macau row conditional', () => {
  it('both row samplers (perturbation for few cells, Cholesky for many) draw from the exact Gaussian conditional', async () => {
    const { sampleRows, RowWorkspace } = await import('../../src/predict/macau.js');
    const { Rng } = await import('../../src/linalg/rng.js');
    const { cholesky, choleskyInverse, fromData } = await import('../../src/linalg/index.js');
    const K = 3, alpha = 4;
    const W = Float64Array.from([1, 0.5, -0.2, 0.3, -1, 0.8, -0.6, 0.2, 1.1, 0.9, 0.4, 0.1, -0.3, -0.7, 0.5]); // 5 rows
    const Lam = Float64Array.from([2, 0.3, 0, 0.3, 1.5, -0.2, 0, -0.2, 1]);
    const mu = Float64Array.from([0.2, -0.1, 0.3]);
    const prior = Float64Array.from([0.5, 0.1, -0.4]);
    for (const nObs of [2, 5]) { // 2 ≤ K: perturbation; 5 > K: Cholesky
      const ptr = Int32Array.from([0, nObs]);
      const idx = Int32Array.from({ length: nObs }, (_, t) => t);
      const target = Float64Array.from([0.7, -1.2, 0.4, 1.5, -0.3].slice(0, nObs));
      // Analytic conditional: P = Λ + α WᵀW, mean = P⁻¹(Λ(μ + prior) + α Wᵀt).
      const P = Lam.slice(), b = new Float64Array(K);
      for (let p = 0; p < K; p++) for (let q = 0; q < K; q++) b[p] += Lam[p * K + q]! * (mu[q]! + prior[q]!);
      for (let j = 0; j < nObs; j++) for (let p = 0; p < K; p++) {
        b[p] += alpha * W[j * K + p]! * target[j]!;
        for (let q = 0; q < K; q++) P[p * K + q] += alpha * W[j * K + p]! * W[j * K + q]!;
      }
      const Cov = choleskyInverse(cholesky(fromData(K, K, P))).data;
      const mean = new Float64Array(K);
      for (let p = 0; p < K; p++) for (let q = 0; q < K; q++) mean[p] += Cov[p * K + q]! * b[q]!;
      const rng = new Rng(1);
      const ws = new RowWorkspace(K, 5);
      const X = new Float64Array(K);
      const N = 20000;
      const s1 = new Float64Array(K), s2 = new Float64Array(K * K);
      for (let t = 0; t < N; t++) {
        sampleRows(X, W, K, 1, ptr, idx, null, target, target, false, 0, alpha, { mu, Lambda: Lam }, prior, ws, rng);
        for (let p = 0; p < K; p++) { s1[p] += X[p]!; for (let q = 0; q < K; q++) s2[p * K + q] += X[p]! * X[q]!; }
      }
      for (let p = 0; p < K; p++) expect(s1[p]! / N).toBeCloseTo(mean[p]!, 2);
      for (let p = 0; p < K; p++) for (let q = 0; q < K; q++) {
        const c = s2[p * K + q]! / N - (s1[p]! / N) * (s1[q]! / N);
        expect(Math.abs(c - Cov[p * K + q]!)).toBeLessThan(0.01 + 0.03 * Math.abs(Cov[p * K + q]!));
      }
    }
  });
});
