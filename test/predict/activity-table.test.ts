import { describe, it, expect } from 'vitest';
import { buildActivityMatrix, parseActivityValue } from '../../src/predict/activity-table.js';
import { InputError } from '../../src/util/errors.js';

describe('buildActivityMatrix', () => {
  it('aligns a long table to profile rows and reports what did not fit', () => {
    const compounds = ['a', 'b', 'c', 'b']; // b has two replicate rows
    const { Y, assays, report } = buildActivityMatrix([
      { compound: 'a', assay: 'T1', value: '1' },
      { compound: 'b', assay: 'T1', value: 'inactive' },
      { compound: 'b', assay: 'T2', value: 6.5 },
      { compound: 'b', assay: 'T2', value: '7.5' }, // duplicate → mean 7
      { compound: 'z', assay: 'T1', value: 1 }, // no profile
      { compound: 'y', assay: 'T2', value: 0 }, // no profile
      { compound: 'c', assay: 'T1', value: 'NA' },
      { compound: 'c', assay: 'T2', value: 'potent' },
    ], compounds);
    expect(assays).toEqual(['T1', 'T2']);
    expect(Y.rows).toBe(4);
    expect(Y.get(0, 0)).toBe(1);
    expect(Y.get(1, 0)).toBe(0);
    expect(Y.get(3, 0)).toBe(0);
    expect(Y.get(1, 1)).toBe(7);
    expect(Y.get(3, 1)).toBe(7);
    expect(Y.get(2, 0)).toBeNaN();
    expect(report.missingCompounds).toBe(2);
    expect(report.recordsWithoutProfile).toBe(2);
    expect(report.missingValues).toBe(1);
    expect(report.nonNumeric).toBe(1);
    expect(report.nonNumericExamples).toEqual([{ record: 7, value: 'potent' }]);
    expect(report.duplicatesMerged).toBe(2);
    expect(report.used).toBe(4);
    expect(report.singleClassAssays).toEqual(['T2']); // 7 ≥ 0.5 everywhere
  });
  it('parses values and enforces a requested assay list', () => {
    expect(parseActivityValue(' Active ')).toBe(1);
    expect(parseActivityValue('FALSE')).toBe(0);
    expect(parseActivityValue('-1')).toBe(-1);
    expect(parseActivityValue('')).toBe('missing');
    expect(parseActivityValue(Infinity)).toBe('invalid');
    expect(() => buildActivityMatrix([{ compound: 'a', assay: 'X', value: 1 }], ['a'], { assays: ['Y'] })).toThrow(InputError);
  });
});
