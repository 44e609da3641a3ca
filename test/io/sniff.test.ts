/** The files users actually have (issue 21, part 5): read when the intent is clear, else one line. */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readProfiles, readTable } from '../../src/io/read.js';
import { firstInvalidUtf8 } from '../../src/io/text.js';
import { runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'phenomap-sniff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const csv = 'Metadata_name,Metadata_moa,Cells_a,Cells_b\nx1,m1,1.5,2\nx2,m2,3,4.25\n';
const file = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

describe('sniffed', () => {
  it('a gzip file named .csv', async () => {
    const r = await readProfiles(file('gz.csv', gzipSync(csv)));
    expect(r.profiles.features).toEqual(['Cells_a', 'Cells_b']);
    expect(Array.from(r.profiles.X.data)).toEqual([1.5, 2, 3, 4.25]);
  });

  it('a ";"- or tab-separated file named .csv (profiles and annotation tables)', async () => {
    for (const [name, d] of [['semi.csv', ';'], ['tabs.csv', '\t']] as const) {
      const p = file(name, csv.replace(/,/g, d));
      expect(Array.from((await readProfiles(p)).profiles.X.data)).toEqual([1.5, 2, 3, 4.25]);
      expect((await readTable(p)).columns).toEqual(['Metadata_name', 'Metadata_moa', 'Cells_a', 'Cells_b']);
    }
  });

  it('Latin-1 text: read as Latin-1, said in a warning (profiles), and by the annotation reader', async () => {
    const p = file('latin1.csv', Buffer.from(csv.replace('x1', 'café'), 'latin1'));
    const warnings: string[] = [];
    const r = await readProfiles(p, { reporter: { info() {}, warn: (m: string) => warnings.push(m), progress: () => ({ tick() {}, done() {} }) } });
    expect(r.profiles.meta[0]!.values[0]).toBe('café');
    expect(warnings.join('\n')).toMatch(/not UTF-8 text; read as Latin-1/);
    const t = await readTable(file('annot.tsv', Buffer.from('key\tinfo\ncafé\tyes\n', 'latin1')));
    expect(t.values.get('key')).toEqual(['café']);
    expect(firstInvalidUtf8(Buffer.from('café', 'utf8'))).toBe(-1);
    expect(firstInvalidUtf8(Buffer.from('cafés', 'latin1'))).toBe(3);
  });

  it('a spreadsheet (by its name, or a zip archive named .csv): one line saying how to convert it', async () => {
    for (const [name, content] of [['book.xlsx', 'whatever'], ['book.csv', Buffer.from('PK\x03\x04 zipped sheet', 'latin1')]] as const) {
      const r = await runCli(['inspect', file(name, content)]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/phenomap reads CSV, TSV and Parquet: save the sheet as CSV UTF-8/);
    }
  });
});
