/**
 * The study's figures as Vega-Lite specs rendered to SVG + PNG (see render.ts). Every builder takes
 * plain data (arrays, matrices, label lists) and returns a Figure; none reads files.
 * Figures: feature-value histograms raw vs normalised, MoA frequency (top 10), embedding scatter
 * coloured by a category (MoA top-k + "other", or cluster), the distance-matrix heatmap ordered by
 * cluster with cluster bands, cluster sizes, enrichment (cluster × MoA, −log10 p, significant
 * outlined), CSIF heatmap (cluster × feature variance ratio, log scale), AP convergence.
 */
import type { Matrix } from '../linalg/matrix.js';
import { squaredDistancesBetween, takeRows } from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import type { EnrichmentRow } from '../enrich/enrichment.js';
import * as vega from 'vega';
import { baseConfig, renderFigure, type Figure, type VlSpec } from './render.js';
import { encodePngRgb } from './png.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
export const OTHER = 'other';
const OTHER_COLOUR = '#c7c7c7';
const TABLEAU10 = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
const CATEGORY20 = [
  '#1f77b4', '#aec7e8', '#ff7f0e', '#ffbb78', '#2ca02c', '#98df8a', '#d62728', '#ff9896', '#9467bd', '#c5b0d5',
  '#8c564b', '#c49c94', '#e377c2', '#f7b6d2', '#7f7f7f', '#c7c7c7', '#bcbd22', '#dbdb8d', '#17becf', '#9edae5',
];

function spec(s: Record<string, unknown>): VlSpec {
  return { $schema: SCHEMA, config: baseConfig, ...s } as unknown as VlSpec;
}

/** Categories by frequency (count desc, then label asc — the reference run's tie-break). */
export function topCategories(labels: ArrayLike<string | null>, k: number): { label: string; n: number }[] {
  const counts = new Map<string, number>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === null || l === undefined || l === '') continue;
    counts.set(l, (counts.get(l) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, k)
    .map(([label, n]) => ({ label, n }));
}

/** Map labels outside the top k to "other". */
export function groupTopK(labels: ArrayLike<string | null>, k: number): { values: string[]; domain: string[] } {
  const top = topCategories(labels, k).map((t) => t.label);
  const keep = new Set(top);
  const values: string[] = [];
  let hasOther = false;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== null && l !== undefined && keep.has(l)) values.push(l);
    else {
      values.push(OTHER);
      hasOther = true;
    }
  }
  return { values, domain: hasOther ? [...top, OTHER] : top };
}

// ---------------------------------------------------------------------------------------------

export interface HistogramInput {
  /** Feature values before normalisation (pooled over all features, or one feature). */
  raw: ArrayLike<number>;
  normalised: ArrayLike<number>;
  /** Optional single features to show below the pooled panel. */
  features?: { name: string; raw: ArrayLike<number>; normalised: ArrayLike<number> }[];
  bins?: number;
  name?: string;
}

/** Histogram counts over the 0.5–99.5 % range of the finite values (tails go into the end bins). */
export function histogram(values: ArrayLike<number>, bins: number): { x0: number; x1: number; count: number }[] {
  const v: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) v.push(values[i]!);
  if (v.length === 0) return [];
  const sorted = Float64Array.from(v).sort();
  let lo = sorted[Math.floor(0.005 * (sorted.length - 1))]!;
  let hi = sorted[Math.ceil(0.995 * (sorted.length - 1))]!;
  if (!(hi > lo)) {
    lo = sorted[0]! - 0.5;
    hi = sorted[sorted.length - 1]! + 0.5;
  }
  const w = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const x of sorted) {
    let b = Math.floor((x - lo) / w);
    if (b < 0) b = 0;
    if (b >= bins) b = bins - 1;
    counts[b]!++;
  }
  return counts.map((count, b) => ({ x0: lo + b * w, x1: lo + (b + 1) * w, count }));
}

export function featureHistogramsFigure(inp: HistogramInput): Promise<Figure> {
  const bins = inp.bins ?? 50;
  const rows: Record<string, unknown>[] = [];
  const panels = [{ name: 'all features (pooled)', raw: inp.raw, normalised: inp.normalised }, ...(inp.features ?? [])];
  for (const p of panels) {
    for (const [stage, vals] of [['raw', p.raw], ['normalised (z-score)', p.normalised]] as const) {
      for (const h of histogram(vals, bins)) rows.push({ panel: p.name, stage, ...h });
    }
  }
  if (rows.length === 0) throw new InputError('feature histograms: no finite values');
  return renderFigure(
    inp.name ?? 'feature_histograms',
    spec({
      title: 'Feature values before and after normalisation',
      data: { values: rows },
      facet: {
        // Feature names are long: print them above each row of panels, not rotated beside it.
        row: {
          field: 'panel',
          type: 'nominal',
          title: null,
          sort: panels.map((p) => p.name),
          header: { labelAngle: 0, labelOrient: 'top', labelAlign: 'left', labelAnchor: 'start', labelFontSize: 12, labelLimit: 600, labelFontWeight: 'bold' },
        },
        column: { field: 'stage', type: 'nominal', title: null, sort: ['raw', 'normalised (z-score)'], header: { labelFontSize: 13, labelFontWeight: 'bold' } },
      },
      spec: {
        width: 260,
        height: 130,
        mark: { type: 'rect', color: '#4c78a8' },
        encoding: {
          x: { field: 'x0', type: 'quantitative', title: 'feature value', scale: { zero: false, nice: false } },
          x2: { field: 'x1' },
          y: { field: 'count', type: 'quantitative', title: 'count' },
          y2: { datum: 0 },
        },
      },
      resolve: { scale: { x: 'independent', y: 'independent' } },
    }),
  );
}

// ---------------------------------------------------------------------------------------------

export function moaFrequencyFigure(inp: { labels: ArrayLike<string | null>; top?: number; name?: string }): Promise<Figure> {
  const top = topCategories(inp.labels, inp.top ?? 10);
  if (top.length === 0) throw new InputError('MoA frequency: no labels');
  return renderFigure(
    inp.name ?? 'moa_frequency',
    spec({
      title: `Most frequent mechanisms of action (top ${top.length})`,
      data: { values: top.map((t) => ({ moa: t.label, n: t.n })) },
      width: 360,
      height: { step: 22 },
      mark: { type: 'bar', color: '#4c78a8' },
      encoding: {
        y: { field: 'moa', type: 'nominal', sort: top.map((t) => t.label), title: null, axis: { labelLimit: 320 } },
        x: { field: 'n', type: 'quantitative', title: 'profiles' },
        tooltip: [{ field: 'moa' }, { field: 'n' }],
      },
    }),
  );
}

// ---------------------------------------------------------------------------------------------

export interface EmbeddingFigureInput {
  name: string;
  title: string;
  coords: Matrix;
  /** One category per row (e.g. MoA grouped to top-k + "other", or a cluster id). */
  colour: ArrayLike<string>;
  colourTitle: string;
  /** Category order (legend); "other" is drawn grey and underneath. */
  domain?: string[];
  axisTitle?: string;
}

export function embeddingFigure(inp: EmbeddingFigureInput): Promise<Figure> {
  const { coords, colour } = inp;
  if (coords.cols < 2) throw new InputError('embedding figure: need 2 columns');
  if (colour.length !== coords.rows) throw new InputError(`embedding figure: ${colour.length} colours for ${coords.rows} rows`);
  const values: { x: number; y: number; c: string; o: number }[] = [];
  for (let i = 0; i < coords.rows; i++) {
    const c = colour[i]!;
    values.push({ x: round(coords.data[i * coords.cols]!), y: round(coords.data[i * coords.cols + 1]!), c, o: c === OTHER ? 0 : 1 });
  }
  // Grey "other" first so the coloured points are drawn on top.
  values.sort((a, b) => a.o - b.o);
  const domain = inp.domain ?? [...new Set(Array.from(colour))].sort(naturalCompare);
  const many = domain.length > 20;
  const range = domain.map((d, i) => (d === OTHER ? OTHER_COLOUR : (domain.length <= 10 ? TABLEAU10 : CATEGORY20)[i % (domain.length <= 10 ? 10 : 20)]!));
  const size = coords.rows > 3000 ? 8 : coords.rows > 800 ? 18 : 36;
  const ax = inp.axisTitle ?? 'dimension';
  return renderFigure(
    inp.name,
    spec({
      title: inp.title,
      data: { values },
      width: 420,
      height: 420,
      mark: { type: 'circle', size, opacity: 0.85 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: `${ax} 1`, scale: { zero: false }, axis: { labels: false, ticks: false } },
        y: { field: 'y', type: 'quantitative', title: `${ax} 2`, scale: { zero: false }, axis: { labels: false, ticks: false } },
        color: {
          field: 'c',
          type: 'nominal',
          title: inp.colourTitle,
          scale: { domain, range },
          legend: many ? null : { orient: 'right', symbolLimit: 30 },
        },
      },
    }),
  );
}

// ---------------------------------------------------------------------------------------------

export interface HeatmapOrder {
  /** Row indices in display order (grouped by cluster). */
  order: Int32Array;
  /** Cluster of each displayed row. */
  clusterOfRow: number[];
}

/** Rows grouped by cluster: clusters by size (desc) then id; rows within a cluster in input order. */
export function orderByCluster(clusters: ArrayLike<number>): HeatmapOrder {
  const size = new Map<number, number>();
  for (let i = 0; i < clusters.length; i++) size.set(clusters[i]!, (size.get(clusters[i]!) ?? 0) + 1);
  const ids = [...size.keys()].sort((a, b) => size.get(b)! - size.get(a)! || a - b);
  const rank = new Map(ids.map((c, r) => [c, r]));
  const idx = Array.from({ length: clusters.length }, (_, i) => i);
  idx.sort((a, b) => rank.get(clusters[a]!)! - rank.get(clusters[b]!)! || a - b);
  return { order: Int32Array.from(idx), clusterOfRow: idx.map((i) => clusters[i]!) };
}

/**
 * Euclidean distance matrix of X ordered by cluster and block-averaged to at most maxCells × maxCells
 * (integer block factor), computed in row blocks so a 10,000-row run never holds n × n.
 */
export function blockDistances(X: Matrix, clusters: ArrayLike<number>, maxCells = 300): { m: number; factor: number; cells: Float64Array; cellCluster: number[]; order: HeatmapOrder } {
  const n = X.rows;
  if (clusters.length !== n) throw new InputError(`heatmap: ${clusters.length} cluster labels for ${n} rows`);
  const order = orderByCluster(clusters);
  const Xo = takeRows(X, order.order);
  const factor = Math.max(1, Math.ceil(n / maxCells));
  const m = Math.ceil(n / factor);
  const sums = new Float64Array(m * m);
  const cnt = new Float64Array(m * m);
  const block = Math.max(factor, Math.floor(2_000_000 / Math.max(n, 1) / factor) * factor);
  for (let r0 = 0; r0 < n; r0 += block) {
    const r1 = Math.min(n, r0 + block);
    const sub: Matrix = { rows: r1 - r0, cols: Xo.cols, data: Xo.data.subarray(r0 * Xo.cols, r1 * Xo.cols) };
    const D = squaredDistancesBetween(sub, Xo).data;
    for (let i = r0; i < r1; i++) {
      const ci = Math.floor(i / factor) * m, off = (i - r0) * n;
      for (let j = 0; j < n; j++) {
        const v = D[off + j]!;
        const k = ci + Math.floor(j / factor);
        sums[k]! += i === j || v <= 0 ? 0 : Math.sqrt(v);
        cnt[k]! += 1;
      }
    }
  }
  for (let k = 0; k < m * m; k++) sums[k] = sums[k]! / cnt[k]!;
  const cellCluster: number[] = [];
  for (let c = 0; c < m; c++) cellCluster.push(order.clusterOfRow[c * factor]!);
  return { m, factor, cells: sums, cellCluster, order };
}

/**
 * The distance heatmap: cells drawn as one embedded PNG image (a raster layer: 300 × 300 cells cost
 * ~100 kB instead of 90,000 SVG rects), with cluster bands as rects on the left and top and a
 * colour legend from an invisible layer sharing the same viridis scale.
 */
export function distanceHeatmapFigure(inp: { X: Matrix; clusters: ArrayLike<number>; maxCells?: number; name?: string; title?: string }): Promise<Figure> {
  const maxCells = Math.min(inp.maxCells ?? 300, 300);
  const { m, factor, cells, cellCluster } = blockDistances(inp.X, inp.clusters, maxCells);
  let lo = Infinity, hi = -Infinity;
  for (let k = 0; k < cells.length; k++) {
    if (cells[k]! < lo) lo = cells[k]!;
    if (cells[k]! > hi) hi = cells[k]!;
  }
  if (!(hi > lo)) hi = lo + 1;
  // Whole pixels per cell: crisp cells in every renderer, no smoothing between them.
  const px = Math.max(1, Math.min(6, Math.floor(540 / m)));
  const side = m * px;
  const interp = vega.scheme('viridis') as (t: number) => string;
  const lut = new Uint8Array(256 * 3);
  for (let t = 0; t < 256; t++) {
    const c = parseRgb(interp(1 - t / 255)); // reversed: short distances bright
    lut.set(c, t * 3);
  }
  const rgb = new Uint8Array(side * side * 3);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const t = Math.round((255 * (cells[i * m + j]! - lo)) / (hi - lo));
      for (let a = 0; a < px; a++) {
        let o = ((i * px + a) * side + j * px) * 3;
        for (let b = 0; b < px; b++, o += 3) {
          rgb[o] = lut[t * 3]!;
          rgb[o + 1] = lut[t * 3 + 1]!;
          rgb[o + 2] = lut[t * 3 + 2]!;
        }
      }
    }
  }
  const url = `data:image/png;base64,${encodePngRgb(side, side, rgb).toString('base64')}`;
  // Cluster bands: consecutive runs of cells with the same cluster, alternating colours.
  const bands: { s: number; e: number; k: number; c: string }[] = [];
  for (let c = 0; c < m; ) {
    let e = c;
    while (e < m && cellCluster[e] === cellCluster[c]) e++;
    bands.push({ s: c, e, k: bands.length % 10, c: String(cellCluster[c]) });
    c = e;
  }
  const bw = Math.max(2, Math.round(m / 40));
  const size = (m + bw + 1) * px;
  const scale = { domain: [-bw - 1, m], nice: false, zero: false };
  const yscale = { domain: [-bw - 1, m], nice: false, zero: false, reverse: true };
  const band = (horizontal: boolean) => ({
    data: { values: bands },
    mark: { type: 'rect' },
    transform: [{ calculate: `${-bw - 1}`, as: 'b0' }, { calculate: '-1', as: 'b1' }],
    encoding: {
      [horizontal ? 'y' : 'x']: { field: 'b0', type: 'quantitative', scale: horizontal ? yscale : scale, axis: null },
      [horizontal ? 'y2' : 'x2']: { field: 'b1' },
      [horizontal ? 'x' : 'y']: { field: 's', type: 'quantitative', scale: horizontal ? scale : yscale, axis: null },
      [horizontal ? 'x2' : 'y2']: { field: 'e' },
      color: { field: 'k', type: 'nominal', scale: { range: TABLEAU10 }, legend: null },
    },
  });
  return renderFigure(
    inp.name ?? 'distance_heatmap',
    spec({
      title: inp.title ?? 'Euclidean distances ordered by cluster',
      description: `${m} × ${m} cells${factor > 1 ? ` (means of ${factor} × ${factor} blocks)` : ''}`,
      width: size,
      height: size,
      layer: [
        {
          data: { values: [{ x: 0, y: 0 }] },
          mark: { type: 'image', width: side, height: side, aspect: false, smooth: false, align: 'left', baseline: 'top' },
          encoding: {
            x: { field: 'x', type: 'quantitative', scale, axis: null },
            y: { field: 'y', type: 'quantitative', scale: yscale, axis: null },
            url: { value: url },
          },
        },
        {
          data: { values: [{ d: lo }, { d: hi }] },
          mark: { type: 'point', opacity: 0 },
          encoding: {
            color: { field: 'd', type: 'quantitative', title: 'distance', scale: { scheme: 'viridis', reverse: true, domain: [lo, hi] } },
          },
        },
        band(false),
        band(true),
      ],
      resolve: { scale: { color: 'independent' } },
    }),
  );
}

function parseRgb(c: string): [number, number, number] {
  const m = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(c);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  const h = /^#([0-9a-f]{6})$/i.exec(c);
  if (h) return [parseInt(h[1]!.slice(0, 2), 16), parseInt(h[1]!.slice(2, 4), 16), parseInt(h[1]!.slice(4, 6), 16)];
  throw new Error(`unexpected colour ${c}`);
}

// ---------------------------------------------------------------------------------------------

export function clusterSizesFigure(inp: { sizes: Record<string, ArrayLike<number>>; name?: string }): Promise<Figure> {
  const values: { representation: string; rank: number; size: number }[] = [];
  const reps = Object.keys(inp.sizes);
  for (const r of reps) {
    const s = Array.from(inp.sizes[r]!).sort((a, b) => b - a);
    s.forEach((size, i) => values.push({ representation: r, rank: i + 1, size }));
  }
  if (values.length === 0) throw new InputError('cluster sizes: no clusters');
  return renderFigure(
    inp.name ?? 'cluster_sizes',
    spec({
      title: 'Cluster sizes (clusters ranked by size)',
      data: { values },
      facet: { row: { field: 'representation', type: 'nominal', title: null, sort: reps } },
      spec: {
        width: 480,
        height: 110,
        mark: { type: 'bar', color: '#54a24b' },
        encoding: {
          x: { field: 'rank', type: 'ordinal', title: 'cluster (by size)', axis: { labels: false, ticks: false } },
          y: { field: 'size', type: 'quantitative', title: 'profiles' },
          tooltip: [{ field: 'rank' }, { field: 'size' }],
        },
      },
    }),
  );
}

// ---------------------------------------------------------------------------------------------

/** What the enrichment grid needs of an enrichment row; the cluster may be a label ("raw 12"). */
export type EnrichmentCell = Pick<EnrichmentRow, 'moa' | 'p' | 'significant'> & { cluster: string | number };

/**
 * Cluster × MoA grid of −log10 p, significant pairs outlined. To stay readable, shows the clusters
 * and MoAs that take part in at least one pair with p < `showP` (default 0.05), or all if none.
 */
export function enrichmentFigure(inp: { rows: EnrichmentCell[]; name?: string; title?: string; showP?: number }): Promise<Figure> {
  const showP = inp.showP ?? 0.05;
  let rows = inp.rows.filter((r) => Number.isFinite(r.p));
  if (rows.length === 0) throw new InputError('enrichment figure: no tested pairs');
  const keepC = new Set(rows.filter((r) => r.p < showP || r.significant).map((r) => String(r.cluster)));
  const keepM = new Set(rows.filter((r) => r.p < showP || r.significant).map((r) => r.moa));
  if (keepC.size > 0) rows = rows.filter((r) => keepC.has(String(r.cluster)) && keepM.has(r.moa));
  const clusters = [...new Set(rows.map((r) => String(r.cluster)))].sort(naturalCompare);
  const moas = [...new Set(rows.map((r) => r.moa))].sort();
  const values = rows.map((r) => ({
    cluster: String(r.cluster),
    moa: r.moa,
    lp: round(-Math.log10(Math.max(r.p, 1e-300))),
    p: r.p,
    sig: r.significant,
  }));
  return renderFigure(
    inp.name ?? 'enrichment',
    spec({
      title: inp.title ?? 'MoA enrichment per cluster (−log10 p; outlined: significant)',
      data: { values },
      width: { step: 14 },
      height: { step: 14 },
      mark: { type: 'rect' },
      encoding: {
        x: { field: 'cluster', type: 'ordinal', sort: clusters, title: 'cluster' },
        y: { field: 'moa', type: 'nominal', sort: moas, title: null, axis: { labelLimit: 280 } },
        color: { field: 'lp', type: 'quantitative', title: '−log10 p', scale: { scheme: 'orangered' } },
        stroke: { condition: { test: 'datum.sig', value: 'black' }, value: null },
        strokeWidth: { condition: { test: 'datum.sig', value: 1.5 }, value: 0 },
        tooltip: [{ field: 'cluster' }, { field: 'moa' }, { field: 'p', format: '.2e' }, { field: 'sig', title: 'significant' }],
      },
    }),
  );
}

// ---------------------------------------------------------------------------------------------

export interface CsifInput {
  clusters: (string | number)[];
  features: string[];
  /** clusters.length × features.length variance ratios (NaN = not computed). */
  ratio: Float64Array;
  threshold?: number;
  name?: string;
  title?: string;
}

export function csifFigure(inp: CsifInput): Promise<Figure> {
  const { clusters, features, ratio } = inp;
  const thr = inp.threshold ?? 0.01;
  if (ratio.length !== clusters.length * features.length) throw new InputError('CSIF figure: ratio matrix has the wrong size');
  const values: { cluster: string; feature: string; r: number; csif: boolean }[] = [];
  const floor = 1e-6;
  for (let c = 0; c < clusters.length; c++) {
    for (let f = 0; f < features.length; f++) {
      const r = ratio[c * features.length + f]!;
      if (!Number.isFinite(r)) continue;
      values.push({ cluster: String(clusters[c]), feature: features[f]!, r: Math.max(r, floor), csif: r < thr });
    }
  }
  if (values.length === 0) throw new InputError('CSIF figure: no ratios');
  return renderFigure(
    inp.name ?? 'csif',
    spec({
      title: inp.title ?? `Community-specific image features: Var(cluster) / Var(all) (outlined: < ${thr})`,
      data: { values },
      width: { step: 11 },
      height: { step: 14 },
      mark: { type: 'rect' },
      encoding: {
        x: { field: 'feature', type: 'nominal', sort: features, title: null, axis: { labelLimit: 220, labelFontSize: 8 } },
        y: { field: 'cluster', type: 'ordinal', sort: clusters.map(String), title: 'cluster' },
        color: { field: 'r', type: 'quantitative', title: 'variance ratio', scale: { type: 'log', scheme: 'blues', reverse: true } },
        stroke: { condition: { test: 'datum.csif', value: 'black' }, value: null },
        strokeWidth: { condition: { test: 'datum.csif', value: 1 }, value: 0 },
        tooltip: [{ field: 'cluster' }, { field: 'feature' }, { field: 'r', format: '.3g', title: 'ratio' }],
      },
    }),
  );
}

/**
 * Per-cluster variance ratio Var(rows of c, j) / Var(all rows, j) (population variances), for
 * clusters with ≥ minSize members. Rows of the result follow `clusterIds`.
 */
export function varianceRatios(X: Matrix, labels: ArrayLike<number>, minSize = 2): { clusterIds: number[]; ratio: Float64Array } {
  const n = X.rows, d = X.cols, xd = X.data;
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    let a = members.get(l);
    if (!a) members.set(l, (a = []));
    a.push(i);
  }
  const varOf = (rows: ArrayLike<number>, out: Float64Array, off: number) => {
    const mean = new Float64Array(d);
    for (let t = 0; t < rows.length; t++) {
      const o = rows[t]! * d;
      for (let j = 0; j < d; j++) mean[j]! += xd[o + j]!;
    }
    for (let j = 0; j < d; j++) mean[j] = mean[j]! / rows.length;
    for (let t = 0; t < rows.length; t++) {
      const o = rows[t]! * d;
      for (let j = 0; j < d; j++) {
        const v = xd[o + j]! - mean[j]!;
        out[off + j]! += v * v;
      }
    }
    for (let j = 0; j < d; j++) out[off + j] = out[off + j]! / rows.length;
  };
  const all = new Float64Array(d);
  varOf(Array.from({ length: n }, (_, i) => i), all, 0);
  const clusterIds = [...members.keys()].filter((c) => members.get(c)!.length >= minSize).sort((a, b) => a - b);
  const ratio = new Float64Array(clusterIds.length * d);
  clusterIds.forEach((c, r) => {
    varOf(members.get(c)!, ratio, r * d);
    for (let j = 0; j < d; j++) ratio[r * d + j] = all[j]! > 0 ? ratio[r * d + j]! / all[j]! : NaN;
  });
  return { clusterIds, ratio };
}

/**
 * Pick what a CSIF heatmap can show legibly: the clusters with the most CSIFs (≤ maxClusters) and
 * the features that are CSIF most often among them (≤ maxFeatures).
 */
export function selectCsifView(
  clusterIds: number[],
  features: string[],
  ratio: Float64Array,
  threshold = 0.01,
  maxClusters = 25,
  maxFeatures = 60,
): CsifInput {
  const d = features.length;
  const nPer = clusterIds.map((_, r) => {
    let k = 0;
    for (let j = 0; j < d; j++) if (ratio[r * d + j]! < threshold) k++;
    return k;
  });
  const rowsSel = clusterIds.map((_, r) => r).filter((r) => nPer[r]! > 0).sort((a, b) => nPer[b]! - nPer[a]! || clusterIds[a]! - clusterIds[b]!).slice(0, maxClusters);
  const fCount = new Array<number>(d).fill(0);
  for (const r of rowsSel) for (let j = 0; j < d; j++) if (ratio[r * d + j]! < threshold) fCount[j]!++;
  const fSel = fCount.map((_, j) => j).filter((j) => fCount[j]! > 0).sort((a, b) => fCount[b]! - fCount[a]! || a - b).slice(0, maxFeatures);
  const out = new Float64Array(rowsSel.length * fSel.length);
  rowsSel.forEach((r, a) => fSel.forEach((j, b) => (out[a * fSel.length + b] = ratio[r * d + j]!)));
  return { clusters: rowsSel.map((r) => clusterIds[r]!), features: fSel.map((j) => features[j]!), ratio: out, threshold };
}

// ---------------------------------------------------------------------------------------------

export function apConvergenceFigure(inp: { traces: Record<string, ArrayLike<number>>; name?: string }): Promise<Figure> {
  const values: { representation: string; iteration: number; exemplars: number }[] = [];
  for (const [r, t] of Object.entries(inp.traces)) for (let i = 0; i < t.length; i++) values.push({ representation: r, iteration: i + 1, exemplars: t[i]! });
  if (values.length === 0) throw new InputError('AP convergence: no traces');
  return renderFigure(
    inp.name ?? 'ap_convergence',
    spec({
      title: 'Affinity propagation: exemplars per iteration',
      data: { values },
      width: 420,
      height: 220,
      mark: { type: 'line', point: { size: 12 } },
      encoding: {
        x: { field: 'iteration', type: 'quantitative', title: 'iteration' },
        y: { field: 'exemplars', type: 'quantitative', title: 'exemplars', scale: { zero: false } },
        color: { field: 'representation', type: 'nominal', title: 'representation', scale: { domain: Object.keys(inp.traces), range: TABLEAU10 } },
      },
    }),
  );
}

// ---------------------------------------------------------------------------------------------

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

function naturalCompare(a: string, b: string): number {
  const na = Number(a), nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
