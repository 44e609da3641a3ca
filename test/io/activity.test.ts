import { describe, it, expect, beforeAll } from 'vitest';
import { readActivityRecords, readIndexNames, readLongActivity, readMatrixMarketActivity, matrixMarketRecords } from '../../src/io/activity.js';
import { buildActivityMatrix } from '../../src/predict/activity-table.js';
import { InputError } from '../../src/util/errors.js';
import { describeShared, sharedPath } from '../helpers/shared.js';
import { tempDir, tempFile } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = tempDir();
});

describe('long activity tables', () => {
  it('reads records by the given column names and leaves bad values to the counted builder', async () => {
    const p = tempFile(dir, 'act.csv', 'cpd,target,pIC50,extra\nA,T1,7.1,x\nB,T1,abc,y\nA,T2,,z\nC,T1,5,w\nA,T1,6.9,v\nZ,T2,8,u\n');
    const r = await readLongActivity(p, { compoundCol: 'cpd', assayCol: 'target', valueCol: 'pIC50' });
    expect(r.records.length).toBe(6);
    expect(r.records[1]).toEqual({ compound: 'B', assay: 'T1', value: 'abc' });
    const { Y, assays, report } = buildActivityMatrix(r.records, ['A', 'B', 'C'], { threshold: 6 });
    expect(assays).toEqual(['T1']);
    expect(report.nonNumeric).toBe(1);
    expect(report.nonNumericExamples[0]).toEqual({ record: 1, value: 'abc' });
    expect(report.missingValues).toBe(1);
    expect(report.missingCompounds).toBe(1); // Z
    expect(report.duplicatesMerged).toBe(1); // (A, T1) twice → mean 7.0
    expect(Y.get(0, 0)).toBeCloseTo(7.0, 12);
    expect(Y.get(2, 0)).toBe(5);
  });

  it('reads TSV.gz and names a missing column or an empty compound', async () => {
    const p = tempFile(dir, 'act.tsv.gz', 'compound\tassay\tvalue\nA\tT1\tactive\n');
    const r = await readActivityRecords(p, {});
    expect(r.format).toBe('long');
    expect(r.records).toEqual([{ compound: 'A', assay: 'T1', value: 'active' }]);
    await expect(readLongActivity(p, { compoundCol: 'cpd', assayCol: 'assay', valueCol: 'value' })).rejects.toThrow(/no column "cpd"/);
    const q = tempFile(dir, 'empty-id.csv', 'compound,assay,value\nA,T1,1\n,T1,0\n');
    await expect(readActivityRecords(q, {})).rejects.toThrow(/data row 2 has an empty compound/);
  });
});

describe('MatrixMarket activity files', () => {
  const mtx = '%%MatrixMarket matrix coordinate integer general\n% comment\n3 2 5\n1 1 1\n2 1 -1\n3 2 1\n1 2 -1\n1 1 1\n';

  it('reads 1-based coordinates, counts duplicate entries and names rows/columns from index CSVs', async () => {
    const p = tempFile(dir, 'm.mtx', mtx);
    const rows = tempFile(dir, 'rows.csv', 'INDEX,INCHIKEY\n2,KEY-C\n0,KEY-A\n1,KEY-B\n');
    const cols = tempFile(dir, 'cols.csv', 'ASSAY_ID\n600\n700\n');
    const mm = await readMatrixMarketActivity(p, { rows, cols });
    expect([mm.rows, mm.cols, mm.values.length, mm.duplicateEntries]).toEqual([3, 2, 5, 1]);
    expect(Array.from(mm.rowIdx)).toEqual([0, 1, 2, 0, 0]);
    expect(mm.rowNames).toEqual(['KEY-A', 'KEY-B', 'KEY-C']);
    expect(mm.colNames).toEqual(['600', '700']);
    const recs = matrixMarketRecords(mm);
    expect(recs[2]).toEqual({ compound: 'KEY-C', assay: '700', value: 1 });
    // Through the builder: ±1 labels, duplicate (KEY-A, 600) merged, KEY-B missing from the profiles.
    const { Y, report } = buildActivityMatrix(recs, ['KEY-A', 'KEY-C']);
    expect(report.duplicatesMerged).toBe(1);
    expect(report.missingCompounds).toBe(1);
    expect(Y.nnz).toBe(3);
    expect(Y.binarize(0.5).get(0, 1)).toBe(0);
    // Without index files, names are the 1-based indices.
    const plain = await readMatrixMarketActivity(p);
    expect(plain.rowNames).toEqual(['1', '2', '3']);
  });

  it('gzip and pattern files', async () => {
    const p = tempFile(dir, 'pat.mtx.gz', '%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 2\n2 1\n');
    const mm = await readMatrixMarketActivity(p);
    expect(mm.field).toBe('pattern');
    expect(Array.from(mm.values)).toEqual([1, 1]);
  });

  it('rejects malformed files with the line number', async () => {
    const cases: [string, RegExp][] = [
      ['%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n', /format "array" is not supported/],
      ['%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 1 1\n', /symmetry "symmetric"/],
      ['%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 0.5\n2 1 x\n', /line 4: value "x" is not a finite number/],
      ['%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 0.5\n', /line 3: value "0.5" is not an integer/],
      ['%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n', /line 3: row index "3" is not an integer in 1..2/],
      ['%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n', /1 entries, the size line announces 3/],
      ['%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1\n2 2 1\n', /line 4: more entries than the 1 announced/],
      ['hello\n', /line 1 is not a MatrixMarket header/],
    ];
    for (const [text, re] of cases) {
      const p = tempFile(dir, `bad${cases.findIndex((c) => c[0] === text)}.mtx`, text);
      await expect(readMatrixMarketActivity(p)).rejects.toThrow(re);
      await expect(readMatrixMarketActivity(p)).rejects.toBeInstanceOf(InputError);
    }
  });

  it('index CSVs must match the matrix size and have unique in-range indices', async () => {
    const a = tempFile(dir, 'idx-short.csv', 'ASSAY_ID\n1\n');
    await expect(readIndexNames(a, 2, 'columns')).rejects.toThrow(/1 names for the matrix's 2 columns/);
    const b = tempFile(dir, 'idx-dup.csv', 'INDEX,NAME\n0,a\n0,b\n');
    await expect(readIndexNames(b, 2, 'rows')).rejects.toThrow(/INDEX 0 occurs twice/);
    const c = tempFile(dir, 'idx-one.csv', 'INDEX,NAME\n1,a\n2,b\n');
    expect(await readIndexNames(c, 2, 'rows')).toEqual(['a', 'b']); // 1-based indices are recognised
  });
});

describeShared('HTI label matrix (Hofmarcher et al. 2019)', ['data/hti/label-matrix.mtx', 'data/hti/row-compound-index.csv', 'data/hti/column-assay-index.csv'], () => {
  it('reads 10,574 × 209 with 55,542 ±1 labels named by InChIKey and assay id', async () => {
    const mm = await readMatrixMarketActivity(sharedPath('data/hti/label-matrix.mtx')!, {
      rows: sharedPath('data/hti/row-compound-index.csv')!, cols: sharedPath('data/hti/column-assay-index.csv')!,
    });
    expect([mm.rows, mm.cols, mm.values.length, mm.duplicateEntries]).toEqual([10574, 209, 55542, 0]);
    expect(new Set(mm.values)).toEqual(new Set([1, -1]));
    expect(mm.rowNames[0]).toBe('IENZQIKPVFGBNW-UHFFFAOYSA-N');
    expect(mm.colNames[0]).toBe('600885');
    expect(mm.rowNames.every((k) => /^[A-Z]{14}-[A-Z]{10}-[A-Z]$/.test(k))).toBe(true);
    let active = 0;
    for (const v of mm.values) if (v === 1) active++;
    expect(active).toBe(19274);
  });
});
