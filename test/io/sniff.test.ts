/** The files users actually have (issue 21, part 5): read when the intent is clear, else one line. */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readProfiles, readTable } from '../../src/io/read.js';
import { firstInvalidUtf8, parseDelimiter, parseEncoding, setTextOptions, Utf8Checker } from '../../src/io/text.js';
import { MAX_RECORD_BYTES, readDelimited } from '../../src/io/delimited.js';
import { silentReporter } from '../../src/util/log.js';
import { runCli } from './helpers.js';

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

  it('Latin-1 text: refused by default in one line (file, line, byte, what was found, the flag); read with encoding latin1', async () => {
    const p = file('latin1.csv', Buffer.from(csv.replace('x2', 'café'), 'latin1'));
    await expect(readProfiles(p)).rejects.toThrow(
      /latin1\.csv: line 3, byte 59: found byte 0xE9 after "caf", which is not UTF-8 \(in Latin-1 it is "é"\); if the file is Latin-1 \(ISO-8859-1\) text, add --encoding latin-1$/,
    );
    const r = await readProfiles(p, { text: { encoding: 'latin1' } });
    expect(r.profiles.meta[0]!.values[1]).toBe('café');
    const annot = file('annot.tsv', Buffer.from('key\tinfo\ncafé\tyes\n', 'latin1'));
    await expect(readTable(annot)).rejects.toThrow(/annot\.tsv: line 2, byte 13: found byte 0xE9.*--encoding latin-1/);
    expect((await readTable(annot, { encoding: 'latin1' })).values.get('key')).toEqual(['café']);
    // The command line's flag holds for every read of the command (main.ts sets it).
    setTextOptions({ encoding: 'latin1' });
    try {
      expect((await readTable(annot)).values.get('key')).toEqual(['café']);
    } finally {
      setTextOptions({});
    }
  });

  it('a byte that is not UTF-8 far down the file (after the sniffed 64 KB), plain and gzip, in both readers', async () => {
    const rows = Array.from({ length: 20000 }, (_, i) => `w${i},m${i % 3},${i},${i / 2}`).join('\n');
    const text = Buffer.concat([Buffer.from(`Metadata_name,Metadata_moa,Cells_a,Cells_b\n${rows}\n`), Buffer.from('Zo\xeb,m1,1,2\n', 'latin1')]);
    const offset = text.indexOf(0xeb) + 1;
    const byte = offset.toLocaleString('en-US');
    for (const [name, content, where] of [['late.csv', text, `byte ${byte}:`], ['late.csv.gz', gzipSync(text), `byte ${byte} of the uncompressed text:`]] as const) {
      const p = file(name, content);
      const msg = `line 20002, ${where} found byte 0xEB after "Zo"`;
      await expect(readProfiles(p)).rejects.toThrow(msg);
      await expect(readTable(p)).rejects.toThrow(msg);
      expect((await readProfiles(p, { text: { encoding: 'latin1' } })).profiles.meta[0]!.values[20000]).toBe('Zoë');
    }
  });

  it('UTF-8 checked in chunks: multi-byte characters cut at any boundary are valid; the first bad byte is found (property, 200 cases)', () => {
    const rng = mulberry(7);
    const alphabet = ['a', ',', '\n', 'é', '€', '𝛼', 'ß', '中'];
    for (let k = 0; k < 200; k++) {
      const s = Array.from({ length: 1 + Math.floor(rng() * 60) }, () => alphabet[Math.floor(rng() * alphabet.length)]).join('');
      const good = Buffer.from(s, 'utf8');
      const bad = Buffer.from(good);
      const at = Math.floor(rng() * bad.length);
      // A lone continuation byte or a truncated sequence where a character starts.
      const starts = [...bad.keys()].filter((i) => (bad[i]! & 0xc0) !== 0x80);
      const pos = starts.find((i) => i >= at) ?? starts[0]!;
      bad[pos] = rng() < 0.5 ? 0x80 : 0xff;
      for (const [buf, want] of [[good, -1], [bad, firstInvalidUtf8(bad)]] as const) {
        const c = new Utf8Checker();
        let got = -1;
        for (let i = 0; i < buf.length && got < 0; ) {
          const n = 1 + Math.floor(rng() * 5);
          got = c.push(buf.subarray(i, i + n));
          i += n;
        }
        if (got < 0) got = c.end();
        expect(got, `${JSON.stringify(s)} → ${buf.toString('hex')}`).toBe(want);
      }
      expect(firstInvalidUtf8(bad)).toBe(pos);
    }
    // Overlong forms, surrogates and code points above U+10FFFF are not UTF-8 either.
    for (const b of [[0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) expect(firstInvalidUtf8(Uint8Array.from(b))).toBe(0);
    // A sequence left open at the end of the text.
    const c = new Utf8Checker();
    expect(c.push(Buffer.from([0x61, 0xe2, 0x82]))).toBe(-1);
    expect(c.end()).toBe(1);
  });

  it('an explicit delimiter replaces the guess (profiles and annotation tables); names and bad values refused', async () => {
    const p = file('pipes.txt', csv.replace(/,/g, '|'));
    expect((await readProfiles(p, { text: { delimiter: '|' } })).profiles.features).toEqual(['Cells_a', 'Cells_b']);
    expect((await readTable(p, { delimiter: '|' })).columns).toEqual(['Metadata_name', 'Metadata_moa', 'Cells_a', 'Cells_b']);
    // A ".csv" whose header holds commas inside names but ";" between them: the guess says ",".
    const q = file('semi-names.csv', 'Metadata_a,b;Cells_x\nu,v;1\nw,z;2\n');
    expect((await readProfiles(q, { text: { delimiter: ';' } })).profiles.meta[0]!.values).toEqual(['u,v', 'w,z']);
    expect(parseDelimiter('tab')).toBe('\t');
    expect(parseDelimiter('\\t')).toBe('\t');
    expect(parseDelimiter('semicolon')).toBe(';');
    for (const bad of ['', '::', '"', '\n', 'é']) expect(() => parseDelimiter(bad)).toThrow(/--delimiter must be one ASCII character/);
    for (const bad of ['.', '5', 'e', '-']) expect(() => parseDelimiter(bad)).toThrow(/--delimiter cannot be ".*": numbers are written with it/);
    expect(parseEncoding('ISO-8859-1')).toBe('latin1');
    expect(parseEncoding('UTF8')).toBe('utf8');
    expect(() => parseEncoding('cp1252')).toThrow(/--encoding must be utf-8 or latin-1, got "cp1252"/);
  });

  it('a 50 MB field (a metadata cell, quoted, with delimiters and line breaks) is read whole by both readers', async () => {
    const big = 'ab,c\n"de'.repeat(50e6 / 8);
    const quoted = `"${big.replace(/"/g, '""')}"`;
    const p = file('huge.csv', `Metadata_name,Metadata_note,Cells_a\nw1,${quoted},1.5\nw2,short,2.5\n`);
    const r = await readProfiles(p);
    const note = r.profiles.meta[1]!.values[0] as string;
    expect(note.length).toBe(big.length);
    expect(note === big).toBe(true);
    expect(Array.from(r.profiles.X.data)).toEqual([1.5, 2.5]);
    const t = await readTable(p);
    expect(t.values.get('Metadata_note')![0]!.length).toBe(big.length);
    expect(t.values.get('Metadata_note')![1]).toBe('short');
  }, 60_000);

  it("a record longer than the reader's bound is refused by name (an unmatched quote swallowing the file too)", async () => {
    // Longer than one 4 MB read, so the record is still open when the bound is reached.
    const p = file('long-field.csv', `Metadata_name,Cells_a\nw1,1\n"${'x'.repeat(6 << 20)},2\nw3,3\n`);
    const opts = { gzip: false, bytes: 0, precision: 'float64' as const, memory: { bytes: 1e9, source: 'option' as const }, reporter: silentReporter, label: 'x',
      delimiter: () => ',', roles: (names: string[]) => names.map((n) => n.startsWith('Cells_')), maxRecordBytes: 1 << 20 };
    await expect(readDelimited(p, opts)).rejects.toThrow(/long-field\.csv: data row 2 is longer than 1(\.0)? MB \(a quoted field opened in it has not closed.*refuses rows this long/);
    const q = file('long-plain.csv', `Metadata_name,Cells_a\nw1,1\n${'x'.repeat(6 << 20)},2\n`);
    await expect(readDelimited(q, opts)).rejects.toThrow(/long-plain\.csv: data row 2 is longer than 1(\.0)? MB; phenomap holds one row/);
    expect((await readDelimited(q, { ...opts, maxRecordBytes: 8 << 20 })).rows).toBe(2);
    expect(MAX_RECORD_BYTES).toBe(256 << 20);
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
