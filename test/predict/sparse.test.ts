import { describe, it, expect } from 'vitest';
import { ActivityMatrix, splitCells } from '../../src/predict/sparse.js';
import { normalCdf, normalQuantile, truncatedNormalPositive } from '../../src/predict/normal.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/linalg/rng.js';

describe('ActivityMatrix', () => {
  it('builds consistent CSR and CSC views and merges duplicates', () => {
    const Y = ActivityMatrix.fromCOO(3, 4, [2, 0, 0, 1, 2, 0], [1, 3, 0, 2, 1, 3], [1, 2, 3, 4, 5, 6]);
    expect(Y.nnz).toBe(4);
    expect(Y.duplicatesMerged).toBe(2);
    expect(Y.get(0, 3)).toBe(4); // mean of 2 and 6
    expect(Y.get(2, 1)).toBe(3); // mean of 1 and 5
    expect(Y.get(0, 0)).toBe(3);
    expect(Y.get(1, 1)).toBeNaN();
    expect(Array.from(Y.rowPtr)).toEqual([0, 2, 3, 4]);
    expect(Array.from(Y.rowCol)).toEqual([0, 3, 2, 1]);
    expect(Array.from(Y.colPtr)).toEqual([0, 1, 2, 3, 4]);
    for (let k = 0; k < Y.nnz; k++) expect(Y.colVal[k]).toBe(Y.rowVal[Y.colToRowPos[k]!]);
    const mx = ActivityMatrix.fromCOO(1, 1, [0, 0], [0, 0], [1, 5], { duplicates: 'max' });
    expect(mx.get(0, 0)).toBe(5);
    expect(() => ActivityMatrix.fromCOO(1, 1, [0, 0], [0, 0], [1, 5], { duplicates: 'error' })).toThrow(InputError);
    expect(() => ActivityMatrix.fromCOO(1, 1, [0], [0], [NaN])).toThrow(InputError);
    expect(() => ActivityMatrix.fromCOO(1, 1, [1], [0], [1])).toThrow(InputError);
  });
  it('subsets, binarises, counts classes and splits cells', () => {
    const Y = ActivityMatrix.fromDense(3, 3, [1, NaN, 0, 0, 1, NaN, NaN, 0, 1]);
    expect(Y.nnz).toBe(6);
    const s = Y.subsetRows([2, 0]);
    expect(s.get(0, 1)).toBe(0);
    expect(s.get(1, 0)).toBe(1);
    expect(Y.subsetCols([2]).get(2, 0)).toBe(1);
    const { pos, neg } = Y.classCounts();
    expect(Array.from(pos)).toEqual([1, 1, 1]);
    expect(Array.from(neg)).toEqual([1, 1, 1]);
    expect(ActivityMatrix.fromDense(1, 2, [0.2, 0.7]).binarize(0.5).rowVal).toEqual(Float64Array.from([0, 1]));
    const { train, test } = splitCells(Y, 0.5, 3);
    expect(train.nnz + test.length).toBe(6);
    for (const c of test) { expect(train.get(c.row, c.col)).toBeNaN(); expect(Y.get(c.row, c.col)).toBe(c.value); }
  });
});

describe('normal helpers', () => {
  it('Φ and Φ⁻¹ match reference values and invert each other', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 14);
    expect(normalCdf(-3.5)).toBeCloseTo(2.326290790355250e-4, 17);
    expect(normalCdf(-10) / 7.619853024160527e-24).toBeCloseTo(1, 10);
    for (const x of [-6, -2.5, -0.3, 0.7, 2.9, 3.1, 5]) expect(normalQuantile(normalCdf(x))).toBeCloseTo(x, 9);
  });
  it('truncated draws have the right support and mean', () => {
    const rng = new Rng(2);
    for (const mu of [-3, 0, 1.5]) {
      let s = 0, min = Infinity;
      const n = 20000;
      for (let t = 0; t < n; t++) { const x = truncatedNormalPositive(rng, mu); min = Math.min(min, x); s += x; }
      expect(min).toBeGreaterThan(0);
      // E[X | X > 0] = μ + φ(μ)/Φ(μ)
      const phi = Math.exp(-0.5 * mu * mu) / Math.sqrt(2 * Math.PI);
      expect(s / n).toBeCloseTo(mu + phi / normalCdf(mu), 1);
    }
  });
});
