import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readProfiles, readTable } from '../../src/io/read.js';
import { getMeta } from '../../src/io/profiles.js';
import { InputError } from '../../src/util/errors.js';
import { examplePath } from '../helpers/shared.js';
import { runCli, tempDir, tempFile } from './helpers.js';
import { withDuck } from '../../src/io/duck.js';

async function inputError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected an InputError');
}

const dir = tempDir();
/** name → [content, expected message pattern] */
const cases: Record<string, [string | Buffer, RegExp]> = {
  'empty.csv': ['', /empty\.csv: empty file/],
  'blank.csv': ['\n\n', /blank\.csv: empty file/],
  'header-only.csv': ['Metadata_a,Cells_x\n', /header-only\.csv: no data rows \(header only\)/],
  'ragged-short.csv': ['Metadata_a,Cells_x,Cells_y\nu,1,2\nv,3\nw,4,5\n', /ragged-short\.csv: data row 2 has 2 fields, the header has 3/],
  'ragged-long.csv': ['Metadata_a,Cells_x\nu,1\nv,2\nw,3,9\n', /ragged-long\.csv: data row 3 has 3 fields, the header has 2/],
  'text.csv': ['Metadata_a,Cells_x,Nuclei_y\nu,1,2\nv,3,oops\n', /text\.csv: feature column "Nuclei_y" has non-numeric value "oops" in data row 2/],
  'dup.csv': ['Metadata_a,Cells_x,Cells_x\nu,1,2\n', /dup\.csv: duplicate column name "Cells_x" \(columns 2 and 3\)/],
  'nofeat.csv': ['Metadata_a,width,height\nu,1,2\n', /nofeat\.csv: no feature columns/],
  'bad.csv.gz': [Buffer.from('this is not gzip at all'), /bad\.csv\.gz: unreadable gzip file/],
};

describe('bad input: one-line InputError naming file, column or row', () => {
  for (const [name, [content, re]] of Object.entries(cases)) {
    it(name, async () => {
      const p = join(dir, name);
      writeFileSync(p, content);
      expect(await inputError(readProfiles(p))).toMatch(re);
    });
  }

  it('non-numeric text far beyond any sniffing sample names the row', async () => {
    const lines = ['Metadata_a,Cells_x'];
    for (let i = 1; i <= 30000; i++) lines.push(`m${i},${i}.5`);
    lines.push('m30001,abc');
    const p = tempFile(dir, 'late.csv.gz', lines.join('\n') + '\n');
    expect(await inputError(readProfiles(p))).toMatch(/late\.csv\.gz: feature column "Cells_x" has non-numeric value "abc" in data row 30001/);
  });

  it('a ragged row far down the file', async () => {
    const lines = ['Metadata_a,Cells_x'];
    for (let i = 1; i <= 25000; i++) lines.push(`m${i},${i}`);
    lines.push('m,1,2');
    const p = tempFile(dir, 'late-ragged.csv', lines.join('\n') + '\n');
    expect(await inputError(readProfiles(p))).toMatch(/late-ragged\.csv: data row 25001 has 3 fields, the header has 2/);
  });

  it('a metadata column numeric at first and text later stays text', async () => {
    const lines = ['Metadata_plate,Cells_x'];
    for (let i = 1; i <= 25000; i++) lines.push(`${i},${i}`);
    lines.push('P-7,1');
    const { profiles } = await readProfiles(tempFile(dir, 'late-meta.csv', lines.join('\n') + '\n'));
    const m = getMeta(profiles, 'Metadata_plate');
    expect(m.kind).toBe('string');
    if (m.kind === 'string') expect(m.values[25000]).toBe('P-7');
  });

  it('a truncated gzip names the file', async () => {
    const full = readFileSync(examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz'));
    const p = join(dir, 'trunc.csv.gz');
    writeFileSync(p, full.subarray(0, Math.floor(full.length / 2)));
    expect(await inputError(readProfiles(p))).toMatch(/trunc\.csv\.gz: truncated gzip file/);
    // Cut inside the gzip trailer as well (data complete, checksum missing).
    const whole = gzipSync(Buffer.from('Metadata_a,Cells_x\nu,1\n'));
    const p2 = join(dir, 'trailer.csv.gz');
    writeFileSync(p2, whole.subarray(0, whole.length - 4));
    expect(await inputError(readProfiles(p2))).toMatch(/trailer\.csv\.gz: truncated gzip file/);
  });

  it('Parquet: text in a feature column names the row; a truncated file names the file; header only', async () => {
    const p = join(dir, 'text.parquet');
    const empty = join(dir, 'empty.parquet');
    await withDuck(async (con) => {
      await con.run(`COPY (SELECT 'w' || i AS Metadata_a, CASE WHEN i = 3 THEN 'n/a!' ELSE CAST(i AS VARCHAR) END AS Cells_x FROM range(1, 6) t(i) ORDER BY i) TO '${p}' (FORMAT parquet)`);
      await con.run(`COPY (SELECT 'w' AS Metadata_a, 1.0 AS Cells_x LIMIT 0) TO '${empty}' (FORMAT parquet)`);
    });
    expect(await inputError(readProfiles(p))).toMatch(/text\.parquet: feature column "Cells_x" has non-numeric value "n\/a!" in data row 3/);
    expect(await inputError(readProfiles(empty))).toMatch(/empty\.parquet: no data rows/);
    const whole = readFileSync(p);
    const cut = join(dir, 'cut.parquet');
    writeFileSync(cut, whole.subarray(0, whole.length - 20));
    expect(await inputError(readProfiles(cut))).toMatch(/cut\.parquet: not a readable Parquet file/);
  });

  it('a missing file and an unsupported extension', async () => {
    expect(await inputError(readProfiles(join(dir, 'nope.csv')))).toMatch(/nope\.csv: file not found/);
    expect(await inputError(readProfiles(tempFile(dir, 'x.xlsx', 'a')))).toMatch(/x\.xlsx is an Excel workbook \(\.xlsx\); .*save the sheet as CSV UTF-8/);
    expect(await inputError(readProfiles(tempFile(dir, 'x.json', 'a')))).toMatch(/x\.json: unsupported file type/);
  });

  it('a --features pattern matching nothing', async () => {
    const p = tempFile(dir, 'ok.csv', 'Metadata_a,Cells_x\nu,1\n');
    expect(await inputError(readProfiles(p, { features: ['Foo_*'] }))).toMatch(/ok\.csv: --features pattern "Foo_\*" matches no column/);
  });

  it('a missing label/key column names the file and the column', async () => {
    const { profiles } = await readProfiles(tempFile(dir, 'ok2.csv', 'Metadata_a,Cells_x\nu,1\n'));
    expect(() => getMeta(profiles, 'Metadata_moa')).toThrow(/ok2\.csv: no metadata column "Metadata_moa"/);
  });

  it('readTable: empty, header only, ragged', async () => {
    expect(await inputError(readTable(tempFile(dir, 'te.tsv', '')))).toMatch(/te\.tsv: empty file/);
    expect(await inputError(readTable(tempFile(dir, 'th.tsv', 'a\tb\n')))).toMatch(/th\.tsv: no data rows/);
    expect(await inputError(readTable(tempFile(dir, 'tr.tsv', 'a\tb\n1\t2\n3\n')))).toMatch(/tr\.tsv: data row 2 has 1 fields, the header has 2/);
  });
});

describe('bad input through the CLI: exit 2, one line, no output file', () => {
  const annot = tempFile(dir, 'annot.tsv', 'key\tname\nu\tUU\n');
  const inputs = [...Object.keys(cases), 'nope.csv'];
  for (const name of inputs) {
    it(`inspect ${name} → exit 2`, async () => {
      const p = join(dir, name);
      if (name !== 'nope.csv' && !existsSync(p)) writeFileSync(p, cases[name]![0]);
      const r = await runCli(['inspect', p]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^phenomap: /);
      expect(r.stderr).toContain(name);
    });
  }

  it('join with bad profiles leaves no output (nor temp file)', async () => {
    const outDir = tempDir();
    for (const name of ['text.csv', 'ragged-short.csv', 'dup.csv']) {
      const p = join(dir, name);
      if (!existsSync(p)) writeFileSync(p, cases[name]![0]);
      const out = join(outDir, 'joined.csv');
      const r = await runCli(['join', p, annot, '--profile-key', 'Metadata_a', '--table-key', 'key', '--key-kind', 'name', '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    }
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('join with a missing key column: exit 2, names the column', async () => {
    const outDir = tempDir();
    const p = tempFile(dir, 'good.csv', 'Metadata_a,Cells_x\nu,1\n');
    const out = join(outDir, 'joined.parquet');
    const r = await runCli(['join', p, annot, '--profile-key', 'Metadata_missing', '--table-key', 'key', '--key-kind', 'name', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no metadata column "Metadata_missing"/);
    expect(readdirSync(outDir)).toEqual([]);
    const r2 = await runCli(['join', p, annot, '--profile-key', 'Metadata_a', '--table-key', 'nokey', '--key-kind', 'name', '--out', out]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/annot\.tsv: no column "nokey"/);
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('bad usage exits 2', async () => {
    const r = await runCli(['join', 'a.csv', 'b.tsv', '--profile-key', 'k', '--table-key', 'k', '--key-kind', 'smiles', '--out', 'x.csv']);
    expect(r.code).toBe(2);
    const r2 = await runCli(['recipe', 'nonsense', '--data', dir, '--out', join(dir, 'o.csv')]);
    expect(r2.code).toBe(2);
  });
});
