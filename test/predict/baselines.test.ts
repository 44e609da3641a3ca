import { describe, it, expect } from 'vitest';
import { PerAssayLogistic, KnnActivity, CellCountModel, findCellCountColumn, fitLogistic } from '../../src/predict/baselines.js';
import { ActivityMatrix } from '../../src/predict/sparse.js';
import { aucRoc } from '../../src/predict/metrics.js';
import { zeros, fromRows } from '../../src/linalg/index.js';
import { Rng } from '../../src/linalg/rng.js';
import { heldOutAucs, plantedSplit, mean } from './planted-logistic.js';

const { data, testRows, Xtr, Xte, Ytr, Yte } = plantedSplit();

describe('baselines on a planted multitask logistic problem', () => {
  it('logistic regression approaches the true-logit AUC on held-out compounds', () => {
    const model = new PerAssayLogistic({ l2: 1 }).fit(Xtr, Ytr);
    const aucs = heldOutAucs(model.predict(Xte), Yte, aucRoc);
    const S = zeros(testRows.length, 12);
    testRows.forEach((i, r) => { for (let j = 0; j < 12; j++) S.data[r * 12 + j] = data.logit(i, j); });
    const optimal = heldOutAucs(S, Yte, aucRoc);
    expect(aucs.length).toBe(12);
    expect(mean(aucs)).toBeGreaterThan(mean(optimal) - 0.04);
    // The L2 penalty is rotation invariant: all principal components give the same model.
    const full = new PerAssayLogistic({ components: 20 }).fit(Xtr, Ytr).predict(Xte);
    const none = new PerAssayLogistic({ components: 'none' }).fit(Xtr, Ytr).predict(Xte);
    for (let t = 0; t < full.data.length; t += 7) expect(full.data[t]).toBeCloseTo(none.data[t]!, 6);
    // Fewer components give a different, still valid model.
    const few = new PerAssayLogistic({ components: 5 }).fit(Xtr, Ytr).predict(Xte);
    expect(mean(heldOutAucs(few, Yte, aucRoc))).toBeGreaterThan(0.55);
  });

  it('kNN beats chance', () => {
    const knn = new KnnActivity({ k: 15 }).fit(Xtr, Ytr);
    const P = knn.predict(Xte);
    expect(mean(heldOutAucs(P, Yte, aucRoc))).toBeGreaterThan(0.7);
    for (const v of P.data) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(1); }
  });

  it('kNN score is the similarity-weighted share of active neighbours', () => {
    const X = fromRows([[1, 0], [0.9, 0.1], [0, 1], [-1, 0]]);
    const Y = ActivityMatrix.fromDense(4, 1, [1, 0, 1, 0]);
    const knn = new KnnActivity({ k: 2, weighted: false }).fit(X, Y);
    const q = knn.predict(fromRows([[1, 0.05]]));
    // Standardised, the two nearest by cosine are rows 0 and 1: one active of two.
    expect(q.data[0]).toBeCloseTo(0.5, 12);
  });

  it('logistic Newton matches the analytic optimum of a separable-free 1-D case', () => {
    // Two points per side with the same x give the MLE intercept log(p/(1−p)) and zero weight.
    const Z = fromRows([[1], [1], [1], [1]]);
    const w = fitLogistic(Z, [0, 1, 2, 3], [1, 0, 0, 0], 1e-9);
    expect(1 / (1 + Math.exp(-(w[0]! + w[1]!)))).toBeCloseTo(0.25, 6);
  });

  it('cell-count-only model uses one column and flags single-class assays', () => {
    const rng = new Rng(4);
    const n = 300;
    const X = zeros(n, 3);
    rng.fillNormal(X.data);
    const vals: number[] = [];
    for (let i = 0; i < n; i++) vals.push(X.data[i * 3 + 1]! + 0.5 * rng.normal() < -0.5 ? 1 : 0, 0);
    const Y = ActivityMatrix.fromDense(n, 2, vals);
    const model = new CellCountModel(1).fit(X, Y);
    expect(model.degenerateAssays).toEqual([1]);
    const P = model.predict(X);
    const s: number[] = [], y: number[] = [];
    for (let i = 0; i < n; i++) { s.push(P.data[i * 2]!); y.push(vals[i * 2]!); }
    expect(aucRoc(s, y)).toBeGreaterThan(0.8);
    expect(P.data[1]).toBeLessThan(1e-3); // constant base rate (0) for the all-inactive assay
  });
});

describe('findCellCountColumn', () => {
  it('finds the usual names and skips look-alikes', () => {
    expect(findCellCountColumn(['a', 'Metadata_Count_Cells'])).toEqual({ index: 1, name: 'Metadata_Count_Cells' });
    expect(findCellCountColumn(['Cells_Children_Cytoplasm_Count', 'Cells_Number_Object_Number'])?.index).toBe(1);
    expect(findCellCountColumn(['Relative well cellcount significant', 'Relative well cellcount'])?.index).toBe(1);
    expect(findCellCountColumn(['x', 'Image_Count_Nuclei'])?.index).toBe(1);
    expect(findCellCountColumn(['x', 'Foo_COUNT'])?.index).toBe(1);
    expect(findCellCountColumn(['Cells_Children_Cytoplasm_Count', 'Cells_AreaShape_Area'])).toBeNull();
  });
});

describe('logistic ranking scores', () => {
  it('perfectly separable training data: held-out log-odds stay distinct where probabilities saturate', () => {
    // One informative feature, classes far apart: the fitted weights grow until probabilities are exactly 0 or 1.
    const n = 40;
    const X = { rows: n, cols: 1, data: Float64Array.from({ length: n }, (_, i) => (i < n / 2 ? -50 - i : 50 + i)) };
    const Y = ActivityMatrix.fromDense(n, 1, Float64Array.from({ length: n }, (_, i) => (i < n / 2 ? 0 : 1)));
    const model = new PerAssayLogistic({ l2: 1e-6, components: 'none' }).fit(X, Y);
    const test = { rows: 3, cols: 1, data: Float64Array.from([400, 500, 600]) };
    const p = model.predict(test).data;
    const s = model.rankScores(test).data;
    expect(s[0]!).toBeLessThan(s[1]!);
    expect(s[1]!).toBeLessThan(s[2]!);
    expect(p[2]!).toBeLessThanOrEqual(1);
  });
});
