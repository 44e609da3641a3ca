import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readNpy, readNpyMatrix } from '../../src/io/npy.js';
import { readProfiles } from '../../src/io/read.js';
import * as F from '../../src/report/figures.js';
import { writeFigure, type Figure } from '../../src/report/render.js';
import { pngSize, encodePngRgb } from '../../src/report/png.js';
import { TSNE } from '../../src/embed/tsne.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { examplePath } from '../helpers/shared.js';
import { FIXTURES, readFixtureCsv } from './fakeRun.js';

/** Structural SVG checks: well-formed tags, root <svg>, and counts of elements by tag/class. */
function parseSvg(svg: string): { tags: Map<string, number>; texts: string[] } {
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  const stack: string[] = [];
  const tags = new Map<string, number>();
  const texts: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  let inText = false;
  while ((m = re.exec(svg))) {
    if (m[5] !== undefined) {
      if (inText) texts.push(m[5]);
      continue;
    }
    const [, close, name, , selfClose] = m;
    if (close) {
      expect(stack.pop()).toBe(name);
      if (name === 'text') inText = false;
    } else {
      tags.set(name!, (tags.get(name!) ?? 0) + 1);
      if (!selfClose) stack.push(name!);
      if (name === 'text' && !selfClose) inText = true;
    }
  }
  expect(stack).toEqual([]);
  return { tags, texts };
}

/** Number of child elements inside the mark group(s) whose class contains `cls`. */
function marksIn(svg: string, cls: string, tag = 'path'): number {
  let total = 0;
  const re = new RegExp(`<g class="[^"]*${cls}[^"]*"[^>]*>`, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(svg))) {
    let depth = 1, i = m.index + m[0].length;
    const tagRe = /<(\/?)(\w+)[^>]*?(\/?)>/g;
    tagRe.lastIndex = i;
    let t: RegExpExecArray | null;
    while (depth > 0 && (t = tagRe.exec(svg))) {
      if (t[1]) depth--;
      else if (!t[3]) depth++;
      if (!t[1] && depth >= 1 && t[2] === tag && (t[3] || depth === 2)) total++;
      i = tagRe.lastIndex;
    }
  }
  return total;
}

function checkPng(fig: Figure): void {
  const size = pngSize(fig.png);
  expect(size).toBeDefined();
  expect(size!.width).toBe(fig.width);
  expect(size!.height).toBe(fig.height);
  expect(fig.width).toBeGreaterThan(100);
  expect(fig.height).toBeGreaterThan(100);
}

let X: Matrix;
let labels: number[];
let moa: string[];
let features: string[];
const out = mkdtempSync(join(tmpdir(), 'phenomap-figs-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

beforeAll(() => {
  X = readNpyMatrix(join(FIXTURES, 'X_zscored.npy'));
  labels = Array.from(readNpy(join(FIXTURES, 'labels_raw.npy')).data);
  const rc = readFixtureCsv('rows_and_clusters.csv');
  moa = rc.rows.map((r) => r[rc.header.indexOf('Metadata_moa')]!);
  features = readFileSync(join(FIXTURES, 'features.txt'), 'utf8').trim().split('\n');
});

describe('png encoder', () => {
  it('writes a PNG whose IHDR has the given size', () => {
    const png = encodePngRgb(3, 2, new Uint8Array(18).fill(200));
    expect(pngSize(png)).toEqual({ width: 3, height: 2 });
    expect(pngSize(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });
});

describe('figures from the bundled LINCS example', () => {
  it('feature histograms: raw (example file) vs normalised, pooled and per feature', async () => {
    const { profiles } = await readProfiles(examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz'));
    expect(profiles.features.length).toBe(454);
    const j = profiles.features.indexOf(features[0]!);
    const raw = new Float64Array(profiles.X.rows);
    for (let i = 0; i < raw.length; i++) raw[i] = profiles.X.data[i * profiles.X.cols + j]!;
    const norm = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) norm[i] = X.data[i * X.cols]!;
    const fig = await F.featureHistogramsFigure({ raw: profiles.X.data, normalised: X.data, features: [{ name: features[0]!, raw, normalised: norm }], bins: 40 });
    const { texts } = parseSvg(fig.svg);
    expect(marksIn(fig.svg, 'mark-rect role-mark')).toBe(4 * 40); // 2 panels × raw/normalised × 40 bins
    expect(texts).toContain('feature value');
    expect(texts).toContain('normalised (z-score)');
    checkPng(fig);
    writeFigure(out, fig);
    expect(existsSync(join(out, 'feature_histograms.svg'))).toBe(true);
    expect(existsSync(join(out, 'feature_histograms.png'))).toBe(true);
  });

  it('histogram counts every finite value once', () => {
    const h = F.histogram([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, NaN, 1000], 5);
    expect(h.reduce((a, b) => a + b.count, 0)).toBe(11);
  });

  it('MoA frequency: top-10 bars in count order', async () => {
    const fig = await F.moaFrequencyFigure({ labels: moa });
    const { texts } = parseSvg(fig.svg);
    expect(marksIn(fig.svg, 'mark-rect role-mark')).toBe(10);
    expect(texts).toContain('proteasome inhibitor');
    expect(texts).toContain('profiles');
    const top = F.topCategories(moa, 10);
    expect(top[0]!.n).toBe(12);
    expect(top.length).toBe(10);
    checkPng(fig);
  });

  it('embedding scatter by MoA (top-k + other) and by cluster', async () => {
    const Y = new TSNE({ seed: 0, nIter: 300 }).fitTransform(X);
    const g = F.groupTopK(moa, 10);
    expect(g.domain[g.domain.length - 1]).toBe(F.OTHER);
    const fig = await F.embeddingFigure({ name: 'tsne_moa', title: 't-SNE', coords: Y, colour: g.values, domain: g.domain, colourTitle: 'MoA', axisTitle: 't-SNE' });
    const { texts } = parseSvg(fig.svg);
    expect(marksIn(fig.svg, 'mark-symbol role-mark')).toBe(X.rows);
    expect(texts).toContain('t-SNE 1');
    expect(texts).toContain('MoA');
    expect(texts).toContain('other');
    checkPng(fig);
    const byCluster = await F.embeddingFigure({ name: 'tsne_cluster', title: 't-SNE', coords: Y, colour: labels.map(String), colourTitle: 'cluster' });
    expect(marksIn(byCluster.svg, 'mark-symbol role-mark')).toBe(X.rows);
    checkPng(byCluster);
    writeFigure(out, fig);
  });

  it('distance heatmap: block means ordered by cluster, one raster image, bands', async () => {
    const b = F.blockDistances(X, labels, 100);
    expect(b.factor).toBe(4);
    expect(b.m).toBe(86);
    // Within-cluster blocks of the largest cluster are closer than the overall mean.
    let mean = 0;
    for (const v of b.cells) mean += v / b.cells.length;
    expect(b.cells[0]!).toBeLessThan(mean);
    const fig = await F.distanceHeatmapFigure({ X, clusters: labels });
    const { tags, texts } = parseSvg(fig.svg);
    expect(tags.get('image')).toBe(1);
    const img = /href="data:image\/png;base64,([^"]+)"/.exec(fig.svg)![1]!;
    const size = pngSize(Buffer.from(img, 'base64'))!;
    expect(size.width % 171).toBe(0); // 342 rows → 2×2 blocks → 171 cells, whole pixels per cell
    // One band per run of equal clusters along the (block) diagonal; 2×2 blocks merge some singletons.
    const cc = F.blockDistances(X, labels, 300).cellCluster;
    const runs = cc.filter((c, i) => i === 0 || c !== cc[i - 1]).length;
    expect(runs).toBeGreaterThan(30);
    expect(runs).toBeLessThanOrEqual(new Set(labels).size);
    expect(marksIn(fig.svg, 'layer_2_marks')).toBe(runs);
    expect(marksIn(fig.svg, 'layer_3_marks')).toBe(runs);
    expect(texts).toContain('distance');
    checkPng(fig);
    writeFigure(out, fig);
  });

  it('cluster sizes and AP convergence', async () => {
    const sizes = (l: number[]) => [...l.reduce((m, c) => m.set(c, (m.get(c) ?? 0) + 1), new Map<number, number>()).values()];
    const pca = Array.from(readNpy(join(FIXTURES, 'labels_pca.npy')).data);
    const fig = await F.clusterSizesFigure({ sizes: { raw: sizes(labels), pca: sizes(pca) } });
    parseSvg(fig.svg);
    expect(marksIn(fig.svg, 'mark-rect role-mark')).toBe(new Set(labels).size + new Set(pca).size);
    checkPng(fig);
    const ap = await F.apConvergenceFigure({ traces: { raw: [342, 120, 80, 69, 69], itml: [342, 200, 90, 70, 69, 69] } });
    const { texts } = parseSvg(ap.svg);
    expect(marksIn(ap.svg, 'mark-line role-mark')).toBe(2);
    expect(marksIn(ap.svg, 'mark-symbol role-mark')).toBe(11);
    expect(texts).toContain('exemplars');
    checkPng(ap);
  });

  it('enrichment: cluster × MoA cells, significant ones outlined', async () => {
    const e = readFixtureCsv('enrichment_raw.csv');
    const ix = (c: string) => e.header.indexOf(c);
    const rows = e.rows.map((r) => ({ cluster: Number(r[ix('cluster')]), moa: r[ix('moa')]!, p: Number(r[ix('p')]), significant: r[ix('significant')] === 'True' }));
    const fig = await F.enrichmentFigure({ rows });
    parseSvg(fig.svg);
    const shown = rows.filter((r) => {
      const c = new Set(rows.filter((x) => x.p < 0.05 || x.significant).map((x) => x.cluster));
      const m = new Set(rows.filter((x) => x.p < 0.05 || x.significant).map((x) => x.moa));
      return c.has(r.cluster) && m.has(r.moa);
    });
    expect(marksIn(fig.svg, 'mark-rect role-mark')).toBe(shown.length);
    const outlined = (fig.svg.match(/stroke="black"/g) ?? []).length;
    expect(outlined).toBe(rows.filter((r) => r.significant).length); // 32 significant pairs in the reference
    expect(outlined).toBe(32);
    checkPng(fig);
  });

  it('CSIF heatmap: ratios on a log scale, CSIFs outlined; ratios agree with the reference CSIFs', async () => {
    const { clusterIds, ratio } = F.varianceRatios(X, labels, 2);
    const ref = JSON.parse(readFileSync(join(FIXTURES, 'csif_features_raw.json'), 'utf8')) as Record<string, string[]>;
    for (const [c, feats] of Object.entries(ref)) {
      const r = clusterIds.indexOf(Number(c));
      const mine = features.filter((_, j) => ratio[r * features.length + j]! < 0.01);
      expect(mine).toEqual(feats);
    }
    const view = F.selectCsifView(clusterIds, features, ratio, 0.01, 20, 40);
    expect(view.clusters.length).toBe(20);
    expect(view.features.length).toBe(40);
    const fig = await F.csifFigure(view);
    parseSvg(fig.svg);
    expect(marksIn(fig.svg, 'mark-rect role-mark')).toBe(20 * 40);
    let csifCells = 0;
    for (const v of view.ratio) if (v < 0.01) csifCells++;
    expect((fig.svg.match(/stroke="black"/g) ?? []).length).toBe(csifCells);
    checkPng(fig);
  });
});
