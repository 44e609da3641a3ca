import { describe, it, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readProfiles, writeProfiles } from '../../src/io/read.js';
import type { Profiles } from '../../src/io/profiles.js';
import { examplePath } from '../helpers/shared.js';
import { tempDir } from './helpers.js';
import { withDuck } from '../../src/io/duck.js';
import { openTableWriter } from '../../src/io/tableWriter.js';

function sample(): Profiles {
  const rows = 5;
  const features = ['Cells_a', 'Nuclei_b [x]', 'Cytoplasm_c'];
  const data = new Float64Array([
    1.5, -0.1, 1e-300,
    NaN, 2 / 3, -1234567.890123,
    0, Math.PI, 5e20,
    -0, 0.1 + 0.2, NaN,
    7, 8, 9,
  ]);
  return {
    features,
    X: { rows, cols: 3, data },
    meta: [
      { name: 'Metadata_name', kind: 'string', values: ['plain', 'a, comma', 'say "hi"', null, 'line\nbreak'] },
      { name: 'Metadata_dose', kind: 'number', values: new Float64Array([0.1, NaN, 10, 3e-7, 2]) },
      { name: 'Compound Concentration (microMolar)', kind: 'number', values: new Float64Array([1, 2, 3, 4, 5]) },
      { name: 'metadata_NAME', kind: 'string', values: ['x', 'y', 'z', 'w', 'v'] },
    ],
  };
}

function expectSame(a: Profiles, b: Profiles): void {
  expect(b.features).toEqual(a.features);
  expect(b.X.rows).toBe(a.X.rows);
  expect(b.X.cols).toBe(a.X.cols);
  // One assertion for the whole matrix (an expect() per value is slow); -0 and 0 count as equal.
  const bad: number[] = [];
  for (let i = 0; i < a.X.data.length; i++) {
    const x = a.X.data[i]!;
    const y = b.X.data[i]!;
    if (Number.isNaN(x) ? !Number.isNaN(y) : y !== x) bad.push(i);
  }
  expect(bad).toEqual([]);
  expect(b.meta.map((m) => m.name)).toEqual(a.meta.map((m) => m.name));
  a.meta.forEach((m, k) => {
    const n = b.meta[k]!;
    expect(n.kind).toBe(m.kind);
    expect(Array.from(n.values as ArrayLike<unknown>)).toEqual(Array.from(m.values as ArrayLike<unknown>));
  });
}

describe('writeProfiles → readProfiles round trip', () => {
  for (const name of ['p.csv', 'p.csv.gz', 'p.tsv', 'p.parquet']) {
    it(`${name} is exact (values, NaN, quoting, names with spaces/brackets/case)`, async () => {
      const dir = tempDir();
      const p = sample();
      const path = join(dir, name);
      await writeProfiles(path, p);
      expect(readdirSync(dir)).toEqual([name]); // no temporary files left
      const { profiles } = await readProfiles(path, { features: p.features });
      expectSame(p, profiles);
    });
  }

  it('the bundled LINCS plate survives CSV.gz and Parquet', async () => {
    const { profiles: a } = await readProfiles(examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz'));
    const dir = tempDir();
    for (const name of ['l.csv.gz', 'l.parquet']) {
      const path = join(dir, name);
      await writeProfiles(path, a);
      const { profiles: b } = await readProfiles(path);
      expectSame(a, b);
    }
  });

  it('Parquet rows land in file order across row groups and column passes', async () => {
    const dir = tempDir();
    const path = join(dir, 'order.parquet');
    const nf = 450; // more than one column pass
    const feats = Array.from({ length: nf }, (_, j) => `i * ${nf} + ${j} AS Cells_f${j}`).join(', ');
    await withDuck(async (con) => {
      await con.run(`COPY (SELECT 'r' || i AS Metadata_id, i AS Metadata_i, ${feats} FROM range(30000) t(i) ORDER BY i) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
    });
    const { profiles } = await readProfiles(path);
    expect(profiles.X.rows).toBe(30000);
    expect(profiles.X.cols).toBe(nf);
    let wrong = 0;
    const d = profiles.X.data;
    for (let k = 0; k < d.length; k++) if (d[k] !== k) wrong++;
    expect(wrong).toBe(0);
    const id = profiles.meta.find((m) => m.name === 'Metadata_id')!;
    expect(id.values[29999]).toBe('r29999');
    const num = profiles.meta.find((m) => m.name === 'Metadata_i')!;
    expect(num.kind).toBe('number');
    expect(num.values[12345]).toBe(12345);
  });

  it('refuses two columns with one name, leaving nothing behind', async () => {
    const dir = tempDir();
    const p = sample();
    const bad: Profiles = { ...p, features: ['Cells_a', 'Cells_a', 'Cytoplasm_c'] };
    await expect(writeProfiles(join(dir, 'x.csv'), bad)).rejects.toThrow(/two columns named "Cells_a"/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('openTableWriter (streamed blocks)', () => {
  it('Parquet: blocks of any size across row groups read back exactly, NaN and missing text as null', async () => {
    const dir = tempDir();
    const path = join(dir, 'cells.parquet');
    const nf = 3;
    const w = await openTableWriter(path, [{ name: 'Metadata_Well', kind: 'string' }, { name: 'Metadata_ImageNumber', kind: 'number' }], ['Cells_a', 'Cells_b', 'Nuclei_c'], { rowGroupRows: 7 });
    let r = 0;
    // Block sizes that straddle, fill and skip whole groups of 7.
    for (const n of [1, 6, 7, 20, 3, 0, 9]) {
      const X = new Float64Array(n * nf);
      for (let i = 0; i < n; i++) for (let j = 0; j < nf; j++) X[i * nf + j] = (r + i) % 11 === 5 && j === 1 ? NaN : (r + i) * 10 + j + 0.1;
      const well = Array.from({ length: n }, (_, i) => ((r + i) % 13 === 4 ? null : `W${r + i}`));
      const image = Float64Array.from({ length: n }, (_, i) => ((r + i) % 17 === 3 ? NaN : r + i));
      await w.append({ rows: n, meta: [well, image], X });
      r += n;
    }
    expect(readdirSync(dir).length).toBe(1); // the temporary file only
    await w.close();
    expect(readdirSync(dir)).toEqual(['cells.parquet']);
    const { profiles } = await readProfiles(path);
    expect(profiles.X.rows).toBe(r);
    expect(profiles.features).toEqual(['Cells_a', 'Cells_b', 'Nuclei_c']);
    const wellCol = profiles.meta.find((m) => m.name === 'Metadata_Well')!;
    const imgCol = profiles.meta.find((m) => m.name === 'Metadata_ImageNumber')!;
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < nf; j++) {
        const want = i % 11 === 5 && j === 1 ? NaN : i * 10 + j + 0.1;
        expect(profiles.X.data[i * nf + j]).toBe(want);
      }
      expect(wellCol.values[i] ?? null).toBe(i % 13 === 4 ? null : `W${i}`);
      expect(imgCol.values[i]).toBe(i % 17 === 3 ? NaN : i);
    }
    // DuckDB reads the same file: seven groups of 7 and one of 4.
    await withDuck(async (con) => {
      const groups = await con.runAndReadAll(`SELECT count(DISTINCT row_group_id) AS g FROM parquet_metadata('${path}')`);
      expect(Number(groups.getRowObjects()[0]!.g)).toBe(Math.ceil(r / 7));
      const sum = await con.runAndReadAll(`SELECT count(*) AS n, count("Cells_b") AS b FROM '${path}'`);
      const row = sum.getRowObjects()[0]!;
      expect(Number(row.n)).toBe(r);
      expect(Number(row.b)).toBe(r - Array.from({ length: r }, (_, i) => i).filter((i) => i % 11 === 5).length);
    });
  });

  it('an aborted Parquet writer leaves nothing', async () => {
    const dir = tempDir();
    const w = await openTableWriter(join(dir, 'x.parquet'), [], ['Cells_a'], { rowGroupRows: 2 });
    await w.append({ rows: 5, meta: [], X: new Float64Array(5) });
    await w.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});
