import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport, type ReportResult } from '../../src/report/html.js';
import { readRunDir } from '../../src/io/runDir.js';
import { pngSize } from '../../src/report/png.js';
import { CollectingReporter } from '../../src/util/log.js';
import { buildProgram } from '../../src/cli/main.js';
import { makeFakeRun } from './fakeRun.js';

const CHROMIUM = '/usr/bin/chromium';

let dir: string;
let first: ReportResult;
let html: string;

beforeAll(async () => {
  dir = makeFakeRun({ evaluation: true });
  const rep = new CollectingReporter();
  first = await writeReport(dir, { reporter: rep });
  expect(rep.warnings).toEqual([]);
  html = readFileSync(first.path, 'utf8');
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('run directory reader', () => {
  it('reads the contract files and picks the drug-name column by fallback', async () => {
    const run = await readRunDir(dir);
    expect(run.n).toBe(342);
    expect(run.reps).toEqual(['raw', 'pca', 'itml']);
    expect(run.drugCol).toBe('Metadata_broad_sample'); // Metadata_pert_iname is not in this plate
    expect(run.doseCol).toBe('Metadata_mmoles_per_liter');
    expect(new Set(run.clusters.raw).size).toBe(69);
    expect(run.enrichment.filter((e) => e.representation === 'raw' && e.significant).length).toBe(32);
    expect(run.csif.length).toBe(846);
    expect(run.repr('itml')!.cols).toBe(454);
    expect(run.evaluation).toBeDefined();
  });

  it('rejects a directory without summary.json with a user error', async () => {
    await expect(readRunDir(mkdtempSync(join(tmpdir(), 'phenomap-empty-')))).rejects.toThrow(/summary\.json/);
  });
});

describe('writeReport', () => {
  it('writes every figure as SVG + PNG', () => {
    const names = first.figures.map((f) => f.name).sort();
    expect(names).toEqual([
      'ap_convergence', 'cluster_sizes', 'csif_itml', 'csif_pca', 'csif_raw', 'distance_heatmap_itml', 'distance_heatmap_pca',
      'distance_heatmap_raw', 'enrichment_itml', 'enrichment_pca', 'enrichment_raw', 'feature_histograms', 'moa_frequency',
      'tsne_itml_cluster', 'tsne_itml_moa', 'tsne_raw_cluster', 'tsne_raw_moa',
    ]);
    for (const f of first.figures) {
      expect(readFileSync(f.svg, 'utf8').startsWith('<svg')).toBe(true);
      expect(pngSize(readFileSync(f.png))).toBeDefined();
    }
    expect(readdirSync(join(dir, 'figures')).filter((f) => f.startsWith('.')).length).toBe(0); // no temp files left
  });

  it('is one self-contained file: inline data, no external resource', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/url\((['"])?https?:/);
    expect(html).toContain("default-src 'none'");
    const data = JSON.parse(/<script type="application\/json" id="phenomap-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
    expect(data.n).toBe(342);
    expect(data.embeddings.map((e: { key: string }) => e.key)).toEqual(['tsne_raw', 'tsne_itml']);
    expect(data.embeddings[0].xy.length).toBe(684);
    expect(data.neighbours.itml.length).toBe(3420);
    expect(data.evaluation.rows.length).toBe(3);
    expect(html).toContain('id="summary-table"');
    expect((html.match(/<figure /g) ?? []).length).toBe(17);
    expect(first.bytes).toBeLessThan(5e6);
  });

  it('caches the embeddings and reuses them', async () => {
    expect(existsSync(join(dir, 'embedding_tsne_raw_seed0.npy'))).toBe(true);
    expect(first.embeddings.every((e) => !e.cached)).toBe(true);
    const again = await writeReport(dir, { figures: false });
    expect(again.embeddings.every((e) => e.cached)).toBe(true);
    expect(again.figures).toEqual([]);
    const data2 = /id="phenomap-data">([\s\S]*?)<\/script>/.exec(readFileSync(again.path, 'utf8'))![1];
    const data1 = /id="phenomap-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(data2).toBe(data1);
  });

  it('embeds only the top-MoA rows when asked (the study figure)', async () => {
    const r = await writeReport(dir, { embeddingSubset: 'top-moas', topMoas: 10, figures: false });
    expect(r.embeddings.map((e) => e.key)).toEqual(['tsne_raw_top10', 'tsne_itml_top10']);
    const data = JSON.parse(/id="phenomap-data">([\s\S]*?)<\/script>/.exec(readFileSync(r.path, 'utf8'))![1]!);
    expect(data.embeddings[0].rows.length).toBe(102);
  });

  it('the CLI `report --run DIR` writes the report', async () => {
    const out: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    try {
      await buildProgram().parseAsync(['node', 'phenomap', 'report', '--run', dir, '--quiet']);
    } finally {
      process.stdout.write = orig;
    }
    expect(out.join('')).toContain(join(dir, 'report.html'));
    expect(statSync(join(dir, 'report.html')).size).toBeGreaterThan(100_000);
    expect((readFileSync(join(dir, 'report.html'), 'utf8').match(/<figure /g) ?? []).length).toBe(17);
  });
});

const describeBrowser = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.warn(`[skip] report in headless Chromium: ${CHROMIUM} not found`);

describeBrowser('report.html in headless Chromium', () => {
  it('opens offline, searches a drug, highlights its community, no console errors or network requests', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      // report.html as last written by the CLI test above (all rows, all figures).
      const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      const url = `file://${join(dir, 'report.html')}`;
      await page.goto(url);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });

      const run = await readRunDir(dir);
      const target = run.drug[run.moa.indexOf('proteasome inhibitor')]!;
      const rows = run.drug.map((d, i) => (d === target ? i : -1)).filter((i) => i >= 0);
      const lab = run.clusters.itml!;
      const clusters = new Set(rows.map((r) => lab[r]!));
      const community = Array.from(lab.keys()).filter((i) => clusters.has(lab[i]!));

      await page.fill('#search', target.toLowerCase());
      await page.waitForSelector('body[data-highlight="on"]');
      const state = await page.evaluate(() => {
        const s = (globalThis as unknown as { __phenomap: { drug: string; matched: number[]; community: number[]; neighbours: number[]; rep: string } }).__phenomap;
        return { drug: s.drug, matched: s.matched, community: s.community, neighbours: s.neighbours, rep: s.rep };
      });
      expect(state.rep).toBe('itml');
      expect(state.drug).toBe(target);
      expect(state.matched).toEqual(rows);
      expect(state.community).toEqual(community);
      expect(state.neighbours.length).toBeGreaterThan(0);
      expect(await page.getAttribute('body', 'data-community-size')).toBe(String(community.length));
      expect(await page.locator('#info').innerText()).toContain(target);

      // Switching the representation recomputes the community.
      await page.selectOption('#rep-select', 'raw');
      const rawSize = await page.getAttribute('body', 'data-community-size');
      const labRaw = run.clusters.raw!;
      const cRaw = new Set(rows.map((r) => labRaw[r]!));
      expect(rawSize).toBe(String(Array.from(labRaw).filter((c) => cRaw.has(c)).length));

      // Sort the enrichment table by p (ascending): the first row holds the smallest p.
      await page.locator('#enrichment-table th', { hasText: /^p$/ }).click();
      const firstP = Number(await page.locator('#enrichment-table tbody tr:first-child td:nth-child(8)').innerText());
      expect(firstP).toBeCloseTo(Math.min(...run.enrichment.map((e) => e.p)), 10);

      const shots = mkdtempSync(join(tmpdir(), 'phenomap-shot-'));
      const shot = join(shots, 'report-search.png');
      await page.locator('#explore').screenshot({ path: shot });
      expect(pngSize(readFileSync(shot))!.width).toBeGreaterThan(600);
      console.log(`screenshot: ${shot}`);

      expect(problems).toEqual([]);
      expect(requests).toEqual([url]);
    } finally {
      await browser.close();
    }
  });
});
