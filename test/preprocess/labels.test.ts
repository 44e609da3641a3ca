/** Labels as people type them (issue 21, part 4). */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanLabels } from '../../src/preprocess/labels.js';
import { runCli } from '../io/helpers.js';
import { syntheticCsv } from '../helpers/cli.js';

describe('cleanLabels', () => {
  it('trims, reads NA tokens as missing (counted by token), and groups spellings that differ only in case or punctuation', () => {
    const r = cleanLabels(['DNA synthesis inhibitor ', 'dna synthesis inhibitor', ' DNA synthesis inhibitor', 'None', 'null', 'NA', 'nan', '', null, '  ', 'HDAC-inhibitor', 'HDAC inhibitor']);
    expect(r.labels).toEqual(['DNA synthesis inhibitor', 'dna synthesis inhibitor', 'DNA synthesis inhibitor', null, null, null, null, null, null, null, 'HDAC-inhibitor', 'HDAC inhibitor']);
    expect(r.missingTokens).toEqual({ None: 1, null: 1, NA: 1, nan: 1 });
    expect(r.missingBlank).toBe(3);
    expect(r.nearDuplicates).toEqual([
      { key: 'dnasynthesisinhibitor', spellings: [{ label: 'DNA synthesis inhibitor', rows: 2 }, { label: 'dna synthesis inhibitor', rows: 1 }] },
      { key: 'hdacinhibitor', spellings: [{ label: 'HDAC inhibitor', rows: 1 }, { label: 'HDAC-inhibitor', rows: 1 }] },
    ]);
  });

  it('an empty token list keeps every non-blank value', () => {
    expect(cleanLabels(['NA', ' x '], { naTokens: [] }).labels).toEqual(['NA', 'x']);
  });
});

describe('run with messy labels', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'phenomap-labels-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('NA tokens are no label (counted in summary.json); near-identical spellings are warned about with counts', async () => {
    const lines = syntheticCsv(80, 8, 4).trim().split('\n');
    // Rows 1–4 "None"/"null"/"NA"/"nan"; rows 5 and 9 of moa1 spelled "MOA1 " and "moa-1".
    const edited = lines.map((l, i) => {
      const cells = l.split(',');
      if (i >= 1 && i <= 4) cells[1] = ['None', 'null', 'NA', 'nan'][i - 1]!;
      if (i === 6) cells[1] = 'MOA1 ';
      if (i === 10) cells[1] = 'moa-1';
      return cells.join(',');
    });
    const file = join(dir, 'messy.csv');
    writeFileSync(file, edited.join('\n') + '\n');
    const r = await runCli(['run', file, '-o', join(dir, 'messy'), '--representations', 'raw']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'messy', 'summary.json'), 'utf8'));
    expect(summary.n).toBe(76);
    expect(summary.dropped.rows).toBe(4);
    // "NA" and "nan" are already missing when read (the CSV reader's nullstr); "None" and "null" are read as missing here.
    expect(summary.dropped.details.filter((d: { reason: string }) => /is "(None|null)", read as missing/.test(d.reason))).toHaveLength(2);
    expect(summary.labelClasses).toBe(6);
    const warnings = summary.warnings.join('\n');
    expect(warnings).toMatch(/2 row\(s\) of Metadata_moa hold a missing-value token, read as no label: "None" 1, "null" 1/);
    expect(warnings).toMatch(/differ only in case, spaces or punctuation.*"moa1" \(\d+\) \/ "MOA1" \(1\) \/ "moa-1" \(1\)/);
    expect(r.stderr).toMatch(/warning: .*differ only in case/);
  });

  it('a label column where every row is its own class is refused before any work', async () => {
    const lines = syntheticCsv(60, 6, 3).trim().split('\n');
    const file = join(dir, 'ids.csv');
    writeFileSync(file, lines.map((l, i) => (i === 0 ? l : l.replace(/,moa\d+,/, `,id${i},`))).join('\n') + '\n');
    const t0 = performance.now();
    const r = await runCli(['run', file, '-o', join(dir, 'ids'), '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/every labelled row has its own Metadata_moa value \(60 classes for 60 rows\).*--label-col/);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(existsSync(join(dir, 'ids'))).toBe(false);
  });
});
