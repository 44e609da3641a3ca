/** The report's search box gives the compound answer, offline, and renders hostile names as text. */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runWorkflow } from '../../src/pipeline/run.js';
import { presetParameters } from '../../src/pipeline/params.js';
import { writeReportWithAnswers } from '../../src/repurpose/report.js';
import { CollectingReporter } from '../../src/util/log.js';
import { tempDir } from '../io/helpers.js';
import { HOSTILE, syntheticTable } from './synthetic.js';

const CHROMIUM = '/usr/bin/chromium';
let run: string, html: string;

beforeAll(async () => {
  const dir = tempDir();
  run = join(dir, 'run');
  const p = presetParameters('default', 'Metadata_label');
  p.representations = ['raw', 'pca'];
  p.pca = 5;
  p.idCols = ['Metadata_compound'];
  await runWorkflow(syntheticTable(dir, 'plate.csv'), run, p);
  const rep = new CollectingReporter();
  const r = await writeReportWithAnswers(run, { figures: false, neighbours: 4, reporter: rep }, { nullSize: 300 });
  expect(rep.warnings).toEqual([]);
  html = readFileSync(r.path, 'utf8');
}, 60_000);

describe('report with compound answers', () => {
  it('inlines every compound answer, per representation, with hostile names escaped', () => {
    const data = JSON.parse(/<script type="application\/json" id="phenomap-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
    const c = data.compounds;
    expect(c.representations).toEqual(['raw', 'pca']);
    expect(c.compounds).toContain('A');
    expect(c.compounds).toContain(HOSTILE);
    expect(c.controlNames).toEqual(['DMSO']);
    const a = c.compounds.indexOf('A');
    expect(c.verdict[a]).toMatch(/^A is ACTIVE/);
    expect(c.activity[a][0]).toBe(1);
    expect(c.compounds[c.perRep.raw.neighbours[a][0][0]]).toBe('B');
    expect(c.perRep.raw.neighbours[a]).toHaveLength(4);
    // The hostile name never appears raw in the page (inline JSON escapes "<").
    expect(html.includes(HOSTILE)).toBe(false);
    expect(html.split('</script>').length).toBe(3);
  });
});

const describeBrowser = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.warn(`[skip] compound search in headless Chromium: ${CHROMIUM} not found`);

describeBrowser('compound search in headless Chromium', () => {
  it('verdict first, neighbours, unreliable marking, candidates, suggestions, controls; hostile names stay text', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('request', (r) => requests.push(r.url()));
      const url = `file://${join(run, 'report.html')}`;
      await page.goto(url);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
      const answer = () => page.evaluate(() => (globalThis as unknown as { __phenomap: { answer: { compound: string; status: string; neighbours: string[] } | null } }).__phenomap.answer);

      await page.fill('#search', 'a');
      await page.waitForSelector('body[data-answer-status="answer"]');
      expect(await page.locator('#answer-verdict').innerText()).toMatch(/^A is ACTIVE/);
      expect((await answer())!.neighbours[0]).toBe('B');
      expect(await page.locator('#answer-neighbours tr:nth-child(2) td:nth-child(2)').innerText()).toBe('B');
      expect(await page.locator('#info').innerText()).toMatch(/Community \d+ \(raw\)/);

      await page.fill('#search', 'D');
      expect(await page.locator('#answer-verdict').innerText()).toMatch(/^D is INDISTINGUISHABLE FROM NEGATIVE CONTROLS/);
      expect(await page.locator('#info').innerText()).toMatch(/UNRELIABLE — Nearest compounds/);
      // Clicking a neighbour asks about it.
      const first = await page.locator('#answer-neighbours tr:nth-child(2) td:nth-child(2) button').innerText();
      await page.locator('#answer-neighbours tr:nth-child(2) td:nth-child(2) button').click();
      expect((await answer())!.compound).toBe(first);

      await page.fill('#search', 'alpha');
      expect(await page.getAttribute('body', 'data-answer-status')).toBe('candidates');
      expect(await page.locator('#info button.cand').allInnerTexts()).toEqual(['Alpha-1', 'Alpha-2']);
      await page.fill('#search', 'Alfa-2');
      expect(await page.getAttribute('body', 'data-answer-status')).toBe('not-found');
      expect((await page.locator('#info button.cand').allInnerTexts())[0]).toBe('Alpha-2');
      await page.fill('#search', 'dmso');
      expect(await page.getAttribute('body', 'data-answer-status')).toBe('control');

      await page.fill('#search', HOSTILE);
      await page.waitForSelector('body[data-answer-status="answer"]');
      expect(await page.locator('#answer-verdict').innerText()).toContain(HOSTILE);
      expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.locator('#info img').count()).toBe(0);

      expect(problems).toEqual([]);
      expect(requests).toEqual([url]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
