/**
 * phenomap_rows, the direct record reader (native/sqlite_records.c), against SQLite's own
 * decoder: the same numbers bit for bit on the real SQLite plates, on text / NULL / integer
 * values, on rows that fit one page and rows with long overflow chains; WAL mode and PHENOMAP's
 * switch fall back to SQLite and say so; damaged files give an InputError naming the file.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregateCells, writeSingleCellPlate } from '../../src/cells/index.js';
import { openSqlitePlate } from '../../src/cells/sqliteSource.js';
import { sqliteExtension } from '../../src/cells/sqliteExtension.js';
import { InputError } from '../../src/util/errors.js';
import { describeShared, repoRoot, sharedPath } from '../helpers/shared.js';
import { fixtures } from './helpers.js';

const native = sqliteExtension() !== null;
const describeNative = native ? describe : describe.skip;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'phenomap-direct-'));
});

const STRATA = ['Metadata_Plate', 'Metadata_Well'];
const COMPARTMENTS = ['Cells', 'Cytoplasm', 'Nuclei'];

/** Every well's rows of every compartment, as one Float64Array per compartment, and the readers. */
async function readAll(path: string, directRows: boolean, compartments = COMPARTMENTS) {
  const plate = openSqlitePlate(path, { compartments, strata: STRATA, directRows });
  try {
    const parts: Float64Array[][] = compartments.map(() => []);
    const keys: number[] = [];
    const rows = compartments.map(() => 0);
    for await (const w of plate.wells()) {
      w.compartments.forEach((c, ci) => {
        parts[ci]!.push(c.X);
        rows[ci] += c.n;
        // The keys too: image, object and parent links, row by row.
        for (let r = 0; r < c.n; r++) keys.push(w.well, ci, c.image[r]!, c.object[r]!, ...c.links.map((l) => l[r]!));
      });
    }
    const X = parts.map((p) => {
      const all = new Float64Array(p.reduce((a, x) => a + x.length, 0));
      let o = 0;
      for (const x of p) {
        all.set(x, o);
        o += x.length;
      }
      return all;
    });
    return { X, keys: Float64Array.from(keys), rows, readers: { ...plate.counts.rowReaders }, text: { ...plate.counts.textNumbers } };
  } finally {
    plate.close();
  }
}

/** Same bits: Object.is tells -0 from 0 and takes NaN as NaN; the byte views tell NaN payloads apart. */
function expectSameBits(a: Float64Array, b: Float64Array, what: string): void {
  expect(a.length, what).toBe(b.length);
  const ua = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const ub = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) expect(`${what}[${i}] = ${b[i]}`).toBe(`${what}[${i}] = ${a[i]}`);
  }
}

async function expectSameAsSqlite(path: string, compartments = COMPARTMENTS) {
  const slow = await readAll(path, false, compartments);
  const fast = await readAll(path, true, compartments);
  expect(Object.values(slow.readers).every((r) => r.startsWith('sqlite'))).toBe(true);
  expect(Object.values(fast.readers)).toEqual(compartments.map(() => 'direct'));
  expect(fast.rows).toEqual(slow.rows);
  expect(fast.text).toEqual(slow.text);
  compartments.forEach((c, ci) => expectSameBits(slow.X[ci]!, fast.X[ci]!, `${path} ${c}`));
  expectSameBits(slow.keys, fast.keys, `${path} keys`);
  return fast;
}

/** A writable copy of `src`, changed by `sql` (several statements). */
function copyWith(src: string, name: string, sql: string): string {
  const p = join(dir, `${Math.random().toString(36).slice(2)}-${name}`);
  copyFileSync(src, p);
  chmodSync(p, 0o644);
  const db = new Database(p);
  db.exec(sql);
  db.close();
  return p;
}

let plateNo = 0;
async function synthPlate(features: number, cells = 300): Promise<string> {
  const out = join(dir, `synth-${features}-${plateNo++}.sqlite`);
  await writeSingleCellPlate(out, { layout: 'cellprofiler-sqlite', cells, features, wells: 6, sites: 2, seed: 3 });
  return out;
}

describeNative('direct record reader: the same numbers as SQLite', () => {
  it('the bundled cytominer-database plates (data_b, cell-health)', async () => {
    for (const name of ['data_b.sqlite', 'cell-health-SQ00014613.sqlite']) {
      const r = await expectSameAsSqlite(join(fixtures, name));
      expect(r.rows[0]).toBeGreaterThan(0);
    }
  });

  it('text ("nan", "inf", "1.5"), NULL, integers of every width, 0 and 1; bad text gets the same error', async () => {
    const base = join(fixtures, 'data_b.sqlite');
    const p = copyWith(base, 'mixed.sqlite', `
      UPDATE Cells SET Cells_AreaShape_Area = 'inf', Cells_AreaShape_Perimeter = '-Infinity' WHERE rowid = 1;
      UPDATE Cells SET Cells_AreaShape_Area = ' 1.5 ', Cells_AreaShape_Perimeter = 'nan' WHERE rowid = 5;
      UPDATE Nuclei SET Nuclei_AreaShape_Area = NULL WHERE rowid = 2;
      UPDATE Nuclei SET Nuclei_AreaShape_Area = 0, Nuclei_AreaShape_Perimeter = 1 WHERE rowid = 3;
      UPDATE Nuclei SET Nuclei_AreaShape_Area = -7, Nuclei_AreaShape_Perimeter = 300 WHERE rowid = 4;
      UPDATE Nuclei SET Nuclei_AreaShape_Area = -70000, Nuclei_AreaShape_Perimeter = 9000000 WHERE rowid = 5;
      UPDATE Nuclei SET Nuclei_AreaShape_Area = 2000000000, Nuclei_AreaShape_Perimeter = -200000000000 WHERE rowid = 6;
      UPDATE Nuclei SET Nuclei_AreaShape_Area = 9007199254740993, Nuclei_AreaShape_Perimeter = -9223372036854775808 WHERE rowid = 7;
      UPDATE Cytoplasm SET Cytoplasm_AreaShape_Area = -0.0 WHERE rowid = 8;
    `);
    const db = new Database(p, { readonly: true });
    const types = db.prepare('SELECT typeof(Nuclei_AreaShape_Area) FROM Nuclei WHERE rowid BETWEEN 3 AND 7').pluck().all();
    db.close();
    expect(types).toEqual(['integer', 'integer', 'integer', 'integer', 'integer']);
    const r = await expectSameAsSqlite(p);
    // ' 1.5 ' went in as the REAL 1.5 (the column's affinity); the other three stay text.
    expect(r.text).toEqual({ Cells: 3 });
    const q = copyWith(base, 'bad.sqlite', `UPDATE Cells SET Cells_AreaShape_Area = 'n/a?' WHERE rowid = 7;`);
    await expect(readAll(q, true)).rejects.toThrow(/table Cells, column Cells_AreaShape_Area, rowid 7: "n\/a\?" is not a number/);
    const b = copyWith(base, 'blob.sqlite', `UPDATE Cells SET Cells_AreaShape_Area = x'0102' WHERE rowid = 9;`);
    await expect(readAll(b, true)).rejects.toThrow(/table Cells, column Cells_AreaShape_Area, rowid 9: a binary value \(BLOB\)/);
  });

  it('a column added after the rows were written (shorter records) takes its default through SQLite', async () => {
    const p = copyWith(join(fixtures, 'data_b.sqlite'), 'added.sqlite', `
      ALTER TABLE Cells ADD COLUMN Cells_Extra_Added REAL DEFAULT 2.5;
      UPDATE Cells SET Cells_Extra_Added = 4 WHERE rowid = 3;
    `);
    const r = await expectSameAsSqlite(p);
    const plate = openSqlitePlate(p, { compartments: COMPARTMENTS, strata: STRATA });
    const j = plate.schema.compartments[0]!.features.findIndex((f) => f.name === 'Cells_Extra_Added');
    plate.close();
    expect(j).toBeGreaterThanOrEqual(0);
    const nf = r.X[0]!.length / r.rows[0]!;
    const values = new Set(Array.from({ length: r.rows[0]! }, (_, i) => r.X[0]![i * nf + j]));
    expect([...values].sort()).toEqual([2.5, 4]);
  });

  it('rows that fit on their page (5 features; 500 features on 64 KiB pages) and long overflow chains (1,900 features on 512-byte pages)', async () => {
    await expectSameAsSqlite(await synthPlate(5));
    const wide = await synthPlate(500, 120);
    await expectSameAsSqlite(copyWith(wide, 'big-pages.sqlite', 'PRAGMA page_size = 65536; VACUUM;'));
    const widest = await synthPlate(1900, 60);
    const small = copyWith(widest, 'small-pages.sqlite', 'PRAGMA page_size = 512; VACUUM;');
    const db = new Database(small, { readonly: true });
    expect(db.pragma('page_size', { simple: true })).toBe(512);
    db.close();
    await expectSameAsSqlite(small);
  });

  it('rows scattered over the file (deleted and re-inserted in another order) are found by rowid', async () => {
    const p = copyWith(await synthPlate(40, 400), 'shuffled.sqlite', 'SELECT 1;');
    // Every fifth row re-inserted with its rowid, in reverse order: its pages come last, and backwards.
    const db = new Database(p);
    const cols = (db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('Per_Cells') as string[]).map((c) => `"${c}"`).join(', ');
    db.exec(`CREATE TABLE keep AS SELECT rowid AS r, ${cols} FROM Per_Cells WHERE rowid % 5 = 0; DELETE FROM Per_Cells WHERE rowid % 5 = 0;`);
    db.exec(`INSERT INTO Per_Cells (rowid, ${cols}) SELECT r, ${cols} FROM keep ORDER BY r DESC; DROP TABLE keep;`);
    db.close();
    await expectSameAsSqlite(p);
  });

  it('the hub\'s key scan: text and NULL in key columns are read as the SQL scan reads them', async () => {
    const base = await synthPlate(30, 300);
    const p = copyWith(base, 'keys.sqlite', `
      UPDATE Per_Cytoplasm SET Cytoplasm_Parent_Cells = 'nan' WHERE rowid = 4;
      UPDATE Per_Cytoplasm SET ImageNumber = NULL WHERE rowid = 9;
      UPDATE Per_Cytoplasm SET Cytoplasm_Parent_Nuclei = NULL WHERE rowid = 11;
    `);
    const slow = openSqlitePlate(p, { compartments: COMPARTMENTS, strata: STRATA, directRows: false });
    const fast = openSqlitePlate(p, { compartments: COMPARTMENTS, strata: STRATA });
    expect(fast.counts.orphanObjects).toEqual({ Per_Cytoplasm: 1 });
    expect(fast.counts.orphanObjects).toEqual(slow.counts.orphanObjects);
    expect(fast.wellWeights!()).toEqual(slow.wellWeights!());
    slow.close();
    fast.close();
    await expectSameAsSqlite(p);
    const q = copyWith(base, 'badkey.sqlite', `UPDATE Per_Cytoplasm SET Cytoplasm_Parent_Cells = 'abc' WHERE rowid = 5;`);
    expect(() => openSqlitePlate(q, { compartments: COMPARTMENTS, strata: STRATA })).toThrow(/table Per_Cytoplasm, column Cytoplasm_Parent_Cells, rowid 5: key value "abc" is not a number/);
  });

  it('a database in WAL mode is read by SQLite, and the report says why', async () => {
    const p = copyWith(join(fixtures, 'data_b.sqlite'), 'wal.sqlite', 'PRAGMA journal_mode = WAL; UPDATE Cells SET Cells_AreaShape_Area = 1 WHERE rowid = 1;');
    const r = await readAll(p, true);
    expect(Object.values(r.readers)).toEqual(COMPARTMENTS.map(() => 'sqlite (the database is in WAL mode)'));
    const { report } = await aggregateCells([join(fixtures, 'data_b.sqlite')]);
    expect(report.sources[0]!.rowReaders).toEqual({ Cells: 'direct', Cytoplasm: 'direct', Nuclei: 'direct' });
  });

  it('PHENOMAP_NO_NATIVE=1 keeps SQLite\'s reader, says so, and gives the same profiles', async () => {
    const file = join(fixtures, 'data_b.sqlite');
    const script = `
      import { aggregateCells } from ${JSON.stringify(join(repoRoot, 'src/cells/index.ts'))};
      const { profiles, report } = await aggregateCells([${JSON.stringify(file)}]);
      console.log(JSON.stringify({ readers: report.sources[0].rowReaders, x: Array.from(profiles.X.data, String) }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot, encoding: 'utf8', env: { ...process.env, PHENOMAP_NO_NATIVE: '1' },
    });
    expect(r.stderr).toBe('');
    const child = JSON.parse(r.stdout) as { readers: Record<string, string>; x: string[] };
    expect(child.readers).toEqual({ Cells: 'sqlite (PHENOMAP_NO_NATIVE=1)', Cytoplasm: 'sqlite (PHENOMAP_NO_NATIVE=1)', Nuclei: 'sqlite (PHENOMAP_NO_NATIVE=1)' });
    const { profiles } = await aggregateCells([file]);
    expect(child.x).toEqual(Array.from(profiles.X.data, String));
  });

  it('damaged files: an InputError naming the file, never a crash', async () => {
    const src = await synthPlate(60, 200);
    const bytes = readFileSync(src);
    const db = new Database(src, { readonly: true });
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    const pages = bytes.length / pageSize;
    let failures = 0;
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 60; trial++) {
      const copy = Buffer.from(bytes);
      if (trial % 4 === 0) {
        // Truncated at a random page.
        const keep = Math.max(2, Math.floor(rand() * pages)) * pageSize;
        writeFileSync(join(dir, 'fuzz.sqlite'), copy.subarray(0, keep));
      } else {
        // A few random bytes anywhere past the header: page types, cell pointers, varints, overflow links.
        for (let k = 0; k < 1 + (trial % 5); k++) copy[100 + Math.floor(rand() * (copy.length - 100))] = Math.floor(rand() * 256);
        writeFileSync(join(dir, 'fuzz.sqlite'), copy);
      }
      try {
        await readAll(join(dir, 'fuzz.sqlite'), true);
      } catch (e) {
        failures++;
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).toContain('fuzz.sqlite');
      }
    }
    expect(failures).toBeGreaterThan(0);
  });
});

const SHARED = [
  'data/singlecell/cellprofiler/nf1-schwann/all_cellprofiler.sqlite',
  'data/singlecell/cytominer-database/data_b.sqlite',
  'data/singlecell/cytominer-database/cell-health-SQ00014613.sqlite',
];

(native ? describeShared : describe.skip)('direct record reader on the shared single-cell SQLite files', SHARED, () => {
  it('nf1-schwann (CellProfiler ExportToDatabase) and the cytominer-database plates', async () => {
    for (const f of SHARED) await expectSameAsSqlite(sharedPath(f)!);
  });
});
