import { describe, it, expect } from 'vitest';
import { fromRows } from '../../src/linalg/index.js';
import type { Profiles } from '../../src/io/profiles.js';
import { labelAssayRecords, positiveCompounds } from '../../src/predict/label-assays.js';
import { prepareActivityData } from '../../src/predict/prepare.js';
import { assembleOutOfFold, rateBaselines } from '../../src/predict/report.js';
import { alignFeatures, rankOrder } from '../../src/predict/saved-model.js';
import { ActivityMatrix } from '../../src/predict/sparse.js';

describe('labelAssayRecords', () => {
  it('one-vs-rest per compound; "|" splits; unlabelled compounds get no cells; exclusions drop labels', () => {
    const ids = ['a', 'a', 'b', 'c', 'd', null];
    const labels = ['X|Y', 'X|Y', 'Y', null, 'DMSO', 'X'];
    const { records, assays, report } = labelAssayRecords(ids, labels, { exclude: ['DMSO'] });
    expect(assays).toEqual(['X', 'Y']);
    expect(report).toEqual({ compounds: 4, labelledCompounds: 2, unlabelledCompounds: 2, inconsistentCompounds: 0, assays: 2 });
    expect(records).toEqual([
      { compound: 'a', assay: 'X', value: 1 }, { compound: 'a', assay: 'Y', value: 1 },
      { compound: 'b', assay: 'X', value: 0 }, { compound: 'b', assay: 'Y', value: 1 },
    ]);
    expect(labelAssayRecords(['a', 'a'], ['X', 'Y']).report.inconsistentCompounds).toBe(1);
  });

  it('positiveCompounds counts distinct groups, not rows', () => {
    const Y = ActivityMatrix.fromDense(4, 2, [1, 0, 1, 0, 1, 1, 0, NaN]);
    expect(Array.from(positiveCompounds(Y, ['g1', 'g1', 'g2', 'g3']))).toEqual([2, 1]);
  });
});

function profiles(): Profiles {
  // 6 wells: compounds c1..c3, two wells each; feature F1 has a NaN; a numeric cell count column.
  const X = fromRows([[1, 0, 5], [3, 0, 6], [0, 1, NaN], [0, 3, 7], [5, 5, 1], [7, 7, 1]]);
  return {
    features: ['F0', 'F2', 'F1'], X,
    meta: [
      { name: 'cpd', kind: 'string', values: ['c1', 'c1', 'c2', 'c2', 'c3', 'c3'] },
      { name: 'label', kind: 'string', values: ['A', 'A', 'B', 'B', 'A|B', 'A|B'] },
      { name: 'Metadata_Count_Cells', kind: 'number', values: Float64Array.from([10, 20, 30, 40, 50, 60]) },
    ],
  };
}

describe('prepareActivityData', () => {
  it('averages rows per stratum (mean of the present values), keeps the cell count', () => {
    const d = prepareActivityData(profiles(), {
      groupCol: 'cpd', aggregate: ['cpd'], activity: { kind: 'labels', column: 'label' }, minPositiveCompounds: 1, minNegativeCompounds: 1,
    });
    expect(d.features).toEqual(['F0', 'F2', 'F1']);
    expect(d.report.droppedFeatures).toEqual([]);
    expect(d.ids).toEqual(['c1', 'c2', 'c3']);
    expect(Array.from(d.X.data)).toEqual([2, 0, 5.5, 0, 2, 7, 6, 6, 1]);
    expect(d.cellCount!.name).toBe('Metadata_Count_Cells');
    expect(Array.from(d.cellCount!.X.data)).toEqual([15, 35, 55]);
    expect(d.assays).toEqual(['A', 'B']);
    expect(Array.from(d.positiveCompounds)).toEqual([2, 2]);
  });

  it('drops assays below the compound minimums and rows left without cells; matches a table by id', () => {
    const records = [
      { compound: 'c1', assay: 'T', value: '1' }, { compound: 'c2', assay: 'T', value: '0' }, { compound: 'c3', assay: 'T', value: 'x' },
      { compound: 'c1', assay: 'U', value: '1' }, { compound: 'c2', assay: 'U', value: '1' }, { compound: 'c3', assay: 'U', value: '0' },
      { compound: 'zz', assay: 'U', value: '0' },
    ];
    const d = prepareActivityData(profiles(), { groupCol: 'cpd', activity: { kind: 'table', records }, minPositiveCompounds: 2, minNegativeCompounds: 1, cellCountCol: '' });
    expect(d.assays).toEqual(['U']);
    expect(d.report.droppedAssays).toEqual([{ assay: 'T', positiveCompounds: 1, negativeCompounds: 1 }]);
    expect(d.report.table.nonNumeric).toBe(1);
    expect(d.report.table.missingCompounds).toBe(1);
    expect(d.X.rows).toBe(6); // two wells per compound, each with the compound's cells
    expect(d.groups).toEqual(['c1', 'c1', 'c2', 'c2', 'c3', 'c3']);
    expect(d.cellCount).toBeNull();
    expect(d.features).toEqual(['F0', 'F2']); // F1 has a missing value in well 3
    expect(d.report.droppedFeatures).toEqual(['F1']);
    expect(() => prepareActivityData(profiles(), { groupCol: 'cpd', activity: { kind: 'table', records }, minPositiveCompounds: 5 })).toThrow(/no assay has ≥ 5 active/);
  });
});

describe('report helpers', () => {
  it('assembleOutOfFold places fold rows back', () => {
    const M = assembleOutOfFold([fromRows([[1], [2]]), fromRows([[3]])], [{ test: [2, 0] }, { test: [1] }], 3, 1);
    expect(Array.from(M.data)).toEqual([2, 3, 1]);
  });

  it('rateBaselines: shrunk assay and compound active rates of the training cells', () => {
    const train = ActivityMatrix.fromDense(2, 2, [1, 1, 0, NaN]); // global rate 2/3
    const { assayRate, compoundRate } = rateBaselines(train, [{ row: 1, col: 1 }, { row: 0, col: 0 }]);
    const g = 2 / 3;
    expect(assayRate[0]).toBeCloseTo((1 + 2 * g) / 3, 12);
    expect(compoundRate[0]).toBeCloseTo((0 + 2 * g) / 3, 12);
    expect(assayRate[1]).toBeCloseTo((1 + 2 * g) / 4, 12);
    expect(compoundRate[1]).toBeCloseTo((2 + 2 * g) / 4, 12);
  });

  it('alignFeatures reorders by name and names missing features; rankOrder is descending and stable', () => {
    const X = fromRows([[1, 2, 3], [4, 5, 6]]);
    expect(Array.from(alignFeatures(X, ['a', 'b', 'c'], ['c', 'a']).data)).toEqual([3, 1, 6, 4]);
    expect(() => alignFeatures(X, ['a', 'b', 'c'], ['a', 'd'], 'lib.csv')).toThrow(/lib.csv: 1 of the model's 2 features are missing: d/);
    const Y = fromRows([[1, NaN]]);
    expect(() => alignFeatures(Y, ['a', 'b'], ['b'])).toThrow(/row 1, feature "b"/);
    expect(Array.from(rankOrder([0.2, 0.9, 0.2, 0.5]))).toEqual([1, 3, 0, 2]);
  });
});
