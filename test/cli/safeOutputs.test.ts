/** What phenomap writes is safe to open (issue 21, part 6). */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../io/helpers.js';
import { syntheticCsv } from '../helpers/cli.js';
import { setRawText, spreadsheetSafe } from '../../src/util/csvSafe.js';
import { displayText, esc } from '../../src/report/escape.js';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'phenomap-safe-'))));
afterAll(() => {
  setRawText(false);
  rmSync(dir, { recursive: true, force: true });
});

describe('spreadsheetSafe', () => {
  it("prefixes formula-like text with ', leaves numbers and ordinary text alone; --raw-text turns it off", () => {
    expect(['=1+1', '+cmd|calc', '-2+3', '@SUM(A1)', '\tx', '\rx'].map(spreadsheetSafe)).toEqual(["'=1+1", "'+cmd|calc", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx"]);
    expect(['-0.5', '+3', '-1e-7', '-inf', 'a=b', 'DMSO', ''].map(spreadsheetSafe)).toEqual(['-0.5', '+3', '-1e-7', '-inf', 'a=b', 'DMSO', '']);
    setRawText(true);
    expect(spreadsheetSafe('=1+1')).toBe('=1+1');
    setRawText(false);
  });
});

describe('hostile labels and identifiers', () => {
  let table: string;
  beforeAll(() => {
    const lines = syntheticCsv(80, 8, 4).trim().split('\n');
    const hostile = ['=HYPERLINK("http://x")', '+cmd|calc', '@SUM(1)', '-2+3'];
    table = join(dir, 'hostile.csv');
    writeFileSync(
      table,
      lines.map((l, i) => (i === 0 ? l : l.replace(/^drug(\d+),moa(\d)/, (_m, d, m) => `"${hostile[Number(m)]!.replace(/"/g, '""')} ${d}",${['=cmd', '+moa', '@moa', 'moa\u2028\u202Eevil'][Number(m)]}`))).join('\n') + '\n',
    );
  });

  it("clusters.csv and enrichment.csv get a leading ' on formula-like text; --raw-text writes it as is", async () => {
    const r = await runCli(['run', table, '-o', join(dir, 'safe'), '--representations', 'raw', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const clusters = readFileSync(join(dir, 'safe', 'clusters.csv'), 'utf8');
    expect(clusters).toMatch(/\n\d+,"'=HYPERLINK\(""http:\/\/x""\) 0",'=cmd,/);
    expect(clusters).toMatch(/\n\d+,'\+cmd\|calc 1,'\+moa,/);
    expect(clusters).not.toMatch(/(^|[,\n])[=+@]/);
    const enrichment = readFileSync(join(dir, 'safe', 'enrichment.csv'), 'utf8');
    expect(enrichment).toMatch(/,'=cmd,/);
    expect(enrichment).not.toMatch(/,[=+@]/);
    const raw = await runCli(['run', table, '-o', join(dir, 'raw'), '--representations', 'raw', '-q', '--raw-text']);
    expect(raw.code, raw.stderr).toBe(0);
    expect(readFileSync(join(dir, 'raw', 'clusters.csv'), 'utf8')).toMatch(/\n\d+,\+cmd\|calc 1,\+moa,/);
    // Read back as written by the user: query finds the name without the added quote.
    const q = await runCli(['query', '=HYPERLINK("http://x") 0', '--run', join(dir, 'safe'), '--json', '-q']);
    expect(q.code, q.stderr).toBe(0);
    const answer = JSON.parse(q.stdout).answers[0];
    expect(answer.compound).toBe('=HYPERLINK("http://x") 0');
    expect(answer.annotations.label).toEqual(['=cmd']);
  });

  it('report.html shows U+2028 as a space and a right-to-left override as visible text', async () => {
    const r = await runCli(['report', '--run', join(dir, 'safe'), '-q']);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(dir, 'safe', 'report.html'), 'utf8');
    expect(html.includes('\u2028')).toBe(false);
    expect(html.includes('\u202E')).toBe(false);
    expect(html).toContain('[U+202E]evil');
  });

  it('displayText and esc', () => {
    expect(displayText('a\u2028b\u2029c\u0085d\u0007e')).toBe('a b c d e');
    expect(displayText('x\u202Eyz\u2066w')).toBe('x[U+202E]yz[U+2066]w');
    expect(esc('<b>\u202E')).toBe('&lt;b&gt;[U+202E]');
  });
});
