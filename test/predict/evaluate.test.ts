import { describe, it, expect } from 'vitest';
import { crossValidateActivity, MacauActivityModel } from '../../src/predict/evaluate.js';
import { PerAssayLogistic, KnnActivity } from '../../src/predict/baselines.js';
import { plantedLogistic } from './planted-logistic.js';

describe('crossValidateActivity', () => {
  it('scores every labelled compound out of fold and summarises per assay', () => {
    const data = plantedLogistic(300, 10, 6, 0.6, 2);
    // Replicate rows: compound c_i appears twice; the grouped split keeps both copies together.
    const groups = Array.from({ length: 300 }, (_, i) => `c${Math.floor(i / 2)}`);
    const { folds, results } = crossValidateActivity([
      { name: 'logistic', create: () => new PerAssayLogistic() },
      { name: 'knn', create: () => new KnnActivity({ k: 10 }) },
      { name: 'macau', create: () => new MacauActivityModel({ numLatent: 4, burnin: 20, nsamples: 20, seed: 1 }) },
    ], data.X, data.Y, { k: 3, seed: 1, groups });
    expect(folds.length).toBe(3);
    for (const f of folds) for (const i of f.test) expect(f.test.includes(i ^ 1)).toBe(true);
    const byName = Object.fromEntries(results.map((r) => [r.model, r]));
    for (const r of results) {
      expect(r.perAssay.length).toBe(6);
      expect(r.summary.scored).toBe(6);
      for (const a of r.perAssay) {
        expect(a.foldAucs.length).toBe(3);
        expect(a.nPos + a.nNeg).toBe(data.Y.colNnz(a.assay));
      }
      expect(r.summary.above07).toBeLessThanOrEqual(6);
    }
    expect(byName.logistic!.summary.meanAuc).toBeGreaterThan(0.8);
    expect(byName.knn!.summary.meanAuc).toBeGreaterThan(0.65);
    expect(byName.macau!.summary.meanAuc).toBeGreaterThan(0.7);
    expect(byName.logistic!.summary.meanEf5).toBeGreaterThan(1.5);
  });
});
