/**
 * Bad single-cell input gets one clear message naming the file, table, column or site — or, where
 * the data can still be used, a warning with a count — and an interrupted run leaves no file that
 * looks complete. The CSV faults are CytoTable's real ones (bundled data_b_csv folders).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, truncateSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregateCells, mergeCells, writeSingleCellPlate } from '../../src/cells/index.js';
import { runCli } from '../io/helpers.js';
import { fixtures } from './helpers.js';

let dir: string;
const csvFolders = join(fixtures, 'data_b_csv');

/** A writable copy of a bundled SQLite file, changed by `sql`. */
function damaged(name: string, sql: string): string {
  const p = join(dir, `${Math.random().toString(36).slice(2)}-${name}`);
  copyFileSync(join(fixtures, name), p);
  chmodSync(p, 0o644);
  const db = new Database(p);
  db.exec(sql);
  db.close();
  return p;
}

/** A copy of some of the bundled site folders in a new plate folder. */
function sites(...names: string[]): string {
  const p = join(dir, `sites-${Math.random().toString(36).slice(2)}`);
  mkdirSync(p);
  for (const n of names) cpSync(join(csvFolders, n), join(p, n), { recursive: true });
  return p;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'phenomap-cells-bad-'));
});

describe('CellProfiler CSV folders with real faults', () => {
  it('empty Cells.csv / Nuclei.csv (E17-4): the site is reported, its well gives no profile, the rest is aggregated', async () => {
    const { profiles, report } = await aggregateCells([sites('A01-1', 'E17-4')]);
    expect(profiles.X.rows).toBe(1);
    expect(report.sources[0]!.emptyFiles.map((f) => f.replace(/.*\/(E17-4\/\w+\.csv)$/, '$1')).sort()).toEqual(['E17-4/Cells.csv', 'E17-4/Nuclei.csv']);
    expect(report.warnings.join('\n')).toMatch(/E17-4\/Cells\.csv is empty \(0 bytes\)/);
    expect(report.warnings.join('\n')).toMatch(/Metadata_Well=E17 gives no profile: no linked cells \(0 Cells, 10 Cytoplasm, 0 Nuclei objects\)/);
  });

  it('a truncated row (J21-2/Cells.csv: 564 of 586 fields) names the file and row', async () => {
    await expect(aggregateCells([sites('A01-1', 'J21-2')])).rejects.toThrow(/J21-2\/Cells\.csv: data row 1 has 564 fields, the header has 586/);
  });

  it('an Image.csv with a header and no image (N23-5): its objects belong to no image and are counted', async () => {
    const { report } = await aggregateCells([sites('A01-1', 'N23-5')]);
    expect(report.sources[0]!.orphanObjects).toEqual({ 'Cells.csv': 10, 'Cytoplasm.csv': 10, 'Nuclei.csv': 10 });
    expect(report.warnings.join('\n')).toMatch(/10 object\(s\) in Cells\.csv belong to no image/);
    await expect(aggregateCells([sites('N23-5')])).rejects.toThrow(/hold no images/);
  });

  it('a site folder without Image.csv is named', async () => {
    const p = sites('A01-1');
    const bare = join(p, 'bare');
    mkdirSync(bare);
    copyFileSync(join(csvFolders, 'A01-1', 'Cells.csv'), join(bare, 'Cells.csv'));
    await expect(aggregateCells([p])).rejects.toThrow(/bare: has Cells\.csv but no Image\.csv/);
  });

  it('sites of one plate with different columns are refused, naming both sites and the column', async () => {
    const p = sites('A01-1', 'E17-4');
    const f = join(p, 'E17-4', 'Cytoplasm.csv');
    chmodSync(f, 0o644);
    const text = readFileSync(f, 'utf8');
    writeFileSync(f, text.replace('AreaShape_Area,', 'AreaShape_Size,'));
    await expect(aggregateCells([p])).rejects.toThrow(/Cytoplasm\.csv has different columns in .*A01-1 \(572\) and .*E17-4 \(572\): column \d+ is "AreaShape_Area" in one and "AreaShape_Size"/);
  });

  it('a column named twice in one file, and a non-number in a feature column, are named', async () => {
    const p = sites('A01-1');
    const f = join(p, 'A01-1', 'Nuclei.csv');
    chmodSync(f, 0o644);
    const lines = readFileSync(f, 'utf8').split('\n');
    writeFileSync(f, [lines[0]!.replace('AreaShape_Perimeter', 'AreaShape_Area'), ...lines.slice(1)].join('\n'));
    await expect(aggregateCells([p])).rejects.toThrow(/Nuclei\.csv has the column Nuclei_AreaShape_Area twice/);
    const q = sites('A01-1');
    const g = join(q, 'A01-1', 'Cells.csv');
    chmodSync(g, 0o644);
    const rows = readFileSync(g, 'utf8').split('\n');
    const cells = rows[3]!.split(',');
    cells[5] = 'abc';
    rows[3] = cells.join(',');
    writeFileSync(g, rows.join('\n'));
    await expect(aggregateCells([q])).rejects.toThrow(/A01-1\/Cells\.csv: line 4, column AreaShape_Compactness: "abc" is not a number/);
  });
});

describe('SQLite faults', () => {
  it('objects whose parent is missing are dropped and counted; a parent link of 0 too', async () => {
    const p = damaged('data_b.sqlite', 'UPDATE Cytoplasm SET Cytoplasm_Parent_Cells = 999 WHERE rowid = 1; UPDATE Cytoplasm SET Cytoplasm_Parent_Nuclei = 0 WHERE rowid = 2;');
    const { profiles, report } = await aggregateCells([p]);
    expect(report.sources[0]!.links.missingParent).toEqual({ Cells: 1 });
    expect(report.sources[0]!.links.noParent).toEqual({ Nuclei: 1 });
    expect(report.sources[0]!.cells).toBe(38);
    expect(Array.from(profiles.meta.find((m) => m.name === 'Metadata_Object_Count')!.values as Float64Array).reduce((a, b) => a + b)).toBe(38);
    expect(report.warnings.join('\n')).toMatch(/1 object\(s\) name a Cells parent that does not exist/);
  });

  it('duplicate object keys are refused, naming the table, image and object', async () => {
    const p = damaged('data_b.sqlite', 'INSERT INTO Cells SELECT * FROM Cells WHERE rowid = 3;');
    await expect(aggregateCells([p])).rejects.toThrow(/Cells has object \d+ twice in TableNumber \w+, ImageNumber \d+ \(Metadata_Plate=SQ00015116, Metadata_Well=\w+\)/);
  });

  it('"nan", "inf" and "-Infinity" stored as text are numbers; other text is named', async () => {
    const p = damaged('data_b.sqlite', `UPDATE Cells SET Cells_AreaShape_Area = 'inf', Cells_AreaShape_Perimeter = '-Infinity' WHERE rowid = 1; UPDATE Nuclei SET Nuclei_AreaShape_Area = 'nan' WHERE rowid = 1;`);
    const { report } = await aggregateCells([p]);
    expect(report.sources[0]!.textNumbers).toEqual({ Cells: 2, Nuclei: 1 });
    const q = damaged('data_b.sqlite', `UPDATE Cells SET Cells_AreaShape_Area = 'n/a?' WHERE rowid = 7;`);
    await expect(aggregateCells([q])).rejects.toThrow(/table Cells, column Cells_AreaShape_Area, rowid 7: "n\/a\?" is not a number/);
  });

  it('a plate with zero cells is named', async () => {
    const p = damaged('data_b.sqlite', 'DELETE FROM Cells; DELETE FROM Cytoplasm; DELETE FROM Nuclei;');
    await expect(aggregateCells([p])).rejects.toThrow(/the plate has no cells/);
  });

  it('truncated, empty and non-SQLite files are named, never a stack trace', async () => {
    const t = join(dir, 'truncated.sqlite');
    copyFileSync(join(fixtures, 'data_b.sqlite'), t);
    chmodSync(t, 0o644);
    truncateSync(t, 300_000);
    await expect(aggregateCells([t])).rejects.toThrow(/truncated\.sqlite: cannot read .*(malformed|disk image).*may be truncated or damaged/);
    const e = join(dir, 'empty.sqlite');
    writeFileSync(e, '');
    await expect(aggregateCells([e])).rejects.toThrow(/empty\.sqlite: empty file \(0 bytes\)/);
    const g = join(dir, 'garbage.sqlite');
    writeFileSync(g, Buffer.alloc(8192, 7));
    await expect(aggregateCells([g])).rejects.toThrow(/garbage\.sqlite: (cannot open as SQLite|cannot read).*not a database/);
    const r = await runCli(['cells', 'aggregate', g, '-o', join(dir, 'x.csv'), '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/at \w+ \(/);
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
  });

  it('compartments named twice, an unknown layout, a missing table and a missing strata column are named', async () => {
    const p = join(fixtures, 'data_b.sqlite');
    await expect(aggregateCells([p], { compartments: ['Cells', 'CELLS'] })).rejects.toThrow(/--compartments names CELLS twice/);
    await expect(aggregateCells([p], { compartments: ['Cells', 'Mitochondria'] })).rejects.toThrow(/no Mitochondria table for compartment Mitochondria/);
    await expect(aggregateCells([p], { strata: ['Metadata_Plate', 'Metadata_Batch'] })).rejects.toThrow(/no column "Metadata_Batch" to group wells by/);
    await expect(aggregateCells([p], { layout: 'spreadsheet' })).rejects.toThrow(/cannot be read with --layout spreadsheet/);
    await expect(aggregateCells([join(dir, 'nowhere.sqlite')])).rejects.toThrow(/nowhere\.sqlite: file or folder not found/);
  });
});

describe('interrupted runs', () => {
  it('a merge that fails on its second source leaves neither the output nor a temporary file', async () => {
    const plateDir = join(dir, 'merge-fail');
    mkdirSync(plateDir);
    const good = join(plateDir, 'a.sqlite');
    await writeSingleCellPlate(good, { layout: 'cytominer-sqlite', cells: 100, features: 5, wells: 2, sites: 1 });
    const bad = join(plateDir, 'b.sqlite');
    writeFileSync(bad, Buffer.alloc(4096, 1));
    for (const out of ['cells.parquet', 'cells.csv.gz']) {
      await expect(mergeCells([good, bad], join(plateDir, out))).rejects.toThrow(/b\.sqlite/);
      expect(existsSync(join(plateDir, out))).toBe(false);
    }
    expect(readdirSync(plateDir).sort()).toEqual(['a.sqlite', 'b.sqlite']);
  });
});
