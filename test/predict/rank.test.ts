import { describe, it, expect } from 'vitest';
import { ActivityMatrix } from '../../src/predict/sparse.js';
import { expectedAtTop, fitCellCountBaseline, testedCompounds, type SavedExpectation } from '../../src/predict/rank.js';
import { fromRows } from '../../src/linalg/index.js';

describe('predict rank helpers', () => {
  const exp: SavedExpectation = {
    folds: 5, seed: 0, groupedBy: 'c', fractions: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
    assays: { T: { labelled: 100, active: 10, baseRate: 0.1, model: { auc: 0.8, enrichment: [9, 8, 5, 3, 2, 1.5] }, cellCount: { auc: 0.5, enrichment: [0, 1, 1, 1, 1, 1] } } },
  };

  it('the expectation for the top k of N uses the smallest stored fraction ≥ k / N', () => {
    const e = expectedAtTop(exp, 'T', 4, 100)!; // 4 % → the 5 % point
    expect(e.atFraction).toBe(0.05);
    expect(e.model.enrichment).toBe(5);
    expect(e.model.hitRate).toBeCloseTo(0.5, 12);
    expect(e.cellCount!.hitRate).toBeCloseTo(0.1, 12);
    expect(expectedAtTop(exp, 'T', 1, 100)!.atFraction).toBe(0.01);
    expect(expectedAtTop(exp, 'T', 90, 100)!.atFraction).toBe(0.5); // beyond the last point: the last one
    expect(expectedAtTop({ ...exp, assays: { T: { ...exp.assays.T!, model: { auc: 0.99, enrichment: [20, 20, 20, 20, 20, 20] } } } }, 'T', 1, 100)!.model.hitRate).toBe(1);
    expect(expectedAtTop(exp, 'other', 5, 100)).toBeNull();
  });

  it('tested compounds per assay; a compound active on any row counts as active', () => {
    // rows: c1, c1, c2, c3; assay 0: c1 0 / c1 1 / c2 0; assay 1: c3 1
    const Y = ActivityMatrix.fromCOO(4, 2, [0, 1, 2, 3], [0, 0, 0, 1], [0, 1, 0, 1]);
    expect(testedCompounds(['c1', 'c1', 'c2', 'c3'], Y, ['A', 'B'])).toEqual({ A: { active: ['c1'], inactive: ['c2'] }, B: { active: ['c3'], inactive: [] } });
  });

  it('the cell-count baseline: higher count → higher probability when actives have more cells; one-class assays keep their rate', () => {
    const count = fromRows([[100], [110], [120], [130], [140], [150], [160], [170]]);
    const Y = ActivityMatrix.fromCOO(8, 2, [0, 1, 2, 3, 4, 5, 6, 7, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 0, 1, 1, 1, 0, 0]);
    const b = fitCellCountBaseline(count, 'Count', Y);
    expect(b.mean).toBeCloseTo(135, 12);
    expect(b.weights[0]![0]).toBeGreaterThan(0);
    expect(b.weights[1]![0]).toBe(0);
    expect(b.weights[1]![1]).toBeLessThan(-10); // rate 1e-6 (no active) on the log-odds scale
  });
});
