import { describe, it, expect } from 'vitest';
import { parseQuery, queryRows, sampleRows } from '../../src/preprocess/query.js';
import { InputError, UsageError } from '../../src/util/errors.js';
import { makeProfiles } from './make.js';

const p = makeProfiles(
  [[1], [2], [3], [4], [5]],
  ['Cells_a'],
  {
    Metadata_pert_type: ['control', 'trt', 'trt', 'control', null],
    Metadata_broad_sample: ['DMSO', 'BRD-1', 'BRD-2', 'DMSO', 'BRD-3'],
    Metadata_moa: ['', 'ATPase inhibitor', 'ATPase inhibitor|x', '', 'y'],
    Metadata_dose: [0, 1, 0.5, 0, 1],
  },
);

describe('parseQuery', () => {
  it('parses ==, !=, in, not in and "and"', () => {
    expect(parseQuery('Metadata_pert_type == control').conditions).toEqual([{ column: 'Metadata_pert_type', op: '==', values: ['control'] }]);
    expect(parseQuery(`Metadata_broad_sample == "DMSO"`).conditions[0]!.values).toEqual(['DMSO']);
    expect(parseQuery(`Metadata_x in [a, 'b c', "d"]`).conditions[0]).toEqual({ column: 'Metadata_x', op: 'in', values: ['a', 'b c', 'd'] });
    const q = parseQuery('A != 1 and B not in [x] and `C D` == ATPase inhibitor');
    expect(q.conditions.map((c) => c.op)).toEqual(['!=', 'not in', '==']);
    expect(q.conditions[2]).toEqual({ column: 'C D', op: '==', values: ['ATPase inhibitor'] });
  });
  it('rejects malformed queries with a UsageError naming the query', () => {
    for (const bad of ['', 'A =', 'A = b', 'A == ', 'A in b', 'A in []', 'A == "x', 'A == b or C == d', 'A == b and']) {
      expect(() => parseQuery(bad), bad).toThrow(UsageError);
    }
    expect(() => parseQuery('A ~ b')).toThrow(/query "A ~ b"/);
  });
});

describe('queryRows', () => {
  it('selects matching rows (strings, quoted, lists, numbers, conjunctions)', () => {
    expect(Array.from(queryRows(p, 'Metadata_pert_type == control'))).toEqual([0, 3]);
    expect(Array.from(queryRows(p, `Metadata_broad_sample == 'DMSO'`))).toEqual([0, 3]);
    expect(Array.from(queryRows(p, 'Metadata_broad_sample in [BRD-1, BRD-3]'))).toEqual([1, 4]);
    // missing is "not equal" to everything, as in pandas
    expect(Array.from(queryRows(p, 'Metadata_pert_type != control'))).toEqual([1, 2, 4]);
    expect(Array.from(queryRows(p, 'Metadata_dose == 1.0'))).toEqual([1, 4]);
    expect(Array.from(queryRows(p, 'Metadata_dose in [0.5, 1] and Metadata_moa == ATPase inhibitor'))).toEqual([1]);
    expect(Array.from(sampleRows(p, 'all'))).toEqual([0, 1, 2, 3, 4]);
  });
  it('a query matching nothing is an InputError naming the query and the values present', () => {
    let err: unknown;
    try {
      queryRows(p, 'Metadata_pert_type == ctrl');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as Error).message;
    expect(msg).toContain('Metadata_pert_type == ctrl');
    expect(msg).toContain('"control"');
    expect(msg).toContain('"trt"');
    expect(msg).toContain('test.csv');
  });
  it('an unknown column is an InputError listing the columns', () => {
    expect(() => queryRows(p, 'Metadata_nope == 1')).toThrow(InputError);
    expect(() => queryRows(p, 'Metadata_nope == 1')).toThrow(/Metadata_pert_type/);
  });
});
