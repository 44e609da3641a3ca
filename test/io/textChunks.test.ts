/**
 * Text writers hand their output out in bounded pieces: V8 refuses a string longer than
 * 2^29 − 24 characters ("Invalid string length", what `run` died of at 7,680 × 5,792 writing
 * communities.gct). The sinks here play V8 with a tiny limit, so a writer that builds its text
 * whole, or in blocks of rows whose size grows with the width, fails these tests at any size.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TextChunks } from '../../src/io/textChunks.js';
import { writeDelimitedText, writeProfiles } from '../../src/io/write.js';
import { gctText, readGct, writeGctText } from '../../src/io/interchange.js';
import { readProfiles } from '../../src/io/read.js';
import type { Profiles } from '../../src/io/profiles.js';
import { Rng } from '../../src/linalg/rng.js';

/** A sink that fails like V8 does above `limit` characters, and keeps what it was given. */
function limitedSink(limit: number): { pieces: string[]; sink: (s: string) => void } {
  const pieces: string[] = [];
  return {
    pieces,
    sink: (s: string) => {
      if (s.length > limit) throw new RangeError('Invalid string length');
      pieces.push(s);
    },
  };
}

function table(n: number, d: number, seed: number): Profiles {
  const rng = new Rng(seed);
  const data = Float64Array.from({ length: n * d }, () => rng.normal());
  data[5] = NaN;
  return {
    features: Array.from({ length: d }, (_, j) => `Cells_F${j}`),
    X: { rows: n, cols: d, data },
    meta: [
      { name: 'Metadata_compound', kind: 'string', values: Array.from({ length: n }, (_, i) => (i % 5 ? `c,${i % 7}` : null)) },
      { name: 'Metadata_dose', kind: 'number', values: Float64Array.from({ length: n }, (_, i) => i / 3) },
    ],
  };
}

describe('TextChunks', () => {
  it('keeps every line, in order, and no piece above the limit but a single longer line', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 50; trial++) {
      const limit = 1 + Math.floor(rng.uniform() * 200);
      const lines = Array.from({ length: Math.floor(rng.uniform() * 60) }, (_, i) => 'x'.repeat(Math.floor(rng.uniform() * 90)) + i);
      const pieces: string[] = [];
      const t = new TextChunks((s) => { pieces.push(s); }, limit);
      for (const l of lines) t.line(l);
      t.flush();
      expect(pieces.join('')).toBe(lines.map((l) => `${l}\n`).join(''));
      for (const p of pieces) {
        if (p.length > limit) expect(p.indexOf('\n')).toBe(p.length - 1);
      }
    }
  });

  it('waits for an asynchronous sink before queueing more', async () => {
    const seen: string[] = [];
    let busy = false;
    const t = new TextChunks(async (s) => {
      expect(busy).toBe(false);
      busy = true;
      await new Promise((r) => setTimeout(r, 1));
      seen.push(s);
      busy = false;
    }, 10);
    for (const l of ['abcd', 'efgh', 'ijkl', 'mnop']) {
      const w = t.line(l);
      if (w) await w;
    }
    await t.flush();
    expect(seen).toEqual(['abcd\nefgh\n', 'ijkl\nmnop\n']);
  });

  it('rejects a limit that is not a positive integer', () => {
    expect(() => new TextChunks(() => {}, 0)).toThrow(RangeError);
  });
});

describe('wide tables as text, under a string limit', () => {
  const p = table(40, 300, 5); // ≈ 230 k characters of CSV, ≈ 40 rows of 5.8 k characters

  it('CSV: pieces within the limit, and the file reads back exactly', async () => {
    const { pieces, sink } = limitedSink(8000);
    await writeDelimitedText(p, ',', sink, 8000);
    expect(pieces.length).toBeGreaterThan(20);
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-chunks-'));
    await writeProfiles(join(dir, 't.csv'), p);
    expect(pieces.join('')).toBe(readFileSync(join(dir, 't.csv'), 'utf8'));
    const back = (await readProfiles(join(dir, 't.csv'))).profiles;
    expect(back.X.data[5]).toBeNaN();
    expect(Array.from(back.X.data.subarray(6))).toEqual(Array.from(p.X.data.subarray(6)));
  });

  it('GCT: pieces within the limit, equal to the whole text, and it reads back', async () => {
    const { pieces, sink } = limitedSink(4000);
    writeGctText(p, sink, 4000);
    expect(pieces.length).toBeGreaterThan(20);
    expect(pieces.join('')).toBe(gctText(p));
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-chunks-'));
    await writeProfiles(join(dir, 't.gct'), p);
    const back = readGct(join(dir, 't.gct'));
    expect(Array.from(back.X.data.subarray(6))).toEqual(Array.from(p.X.data.subarray(6)));
  });
});
