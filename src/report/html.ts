/**
 * `writeReport(runDir)` → runDir/report.html: ONE self-contained, offline file (styles, script,
 * data and figures inlined; no CDN, no network request). It shows the summary per representation,
 * every figure (also written to runDir/figures/ as SVG + PNG), sortable / filterable enrichment and
 * CSIF tables, an interactive canvas embedding (hover: drug, MoA, cluster, dose; search: the drug,
 * its community and its nearest neighbours), and the evaluation table when evaluation/summary.json
 * exists. For large runs the page stays light: compact JSON arrays, a canvas scatter, a
 * block-averaged heatmap as PNG, paginated tables, neighbours precomputed (top-k per row).
 */
import { displayText, esc } from './escape.js';
import { join, resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import type { Matrix } from '../linalg/matrix.js';
import { readProfileTables } from '../io/readMany.js';
import { readProfiles } from '../io/read.js';
import { InputError } from '../util/errors.js';
import { knnSquared, type Knn } from '../embed/tsne.js';
import { writeFileAtomic } from '../util/atomic.js';
import { silentReporter, type Reporter } from '../util/log.js';
import {
  apConvergenceFigure, clusterSizesFigure, csifFigure, distanceHeatmapFigure, embeddingFigure, enrichmentFigure,
  featureHistogramsFigure, groupTopK, moaFrequencyFigure, selectCsifView, topCategories, varianceRatios,
} from './figures.js';
import { writeFigure, type Figure } from './render.js';
import { readRunDir, type RunData } from '../io/runDir.js';
import { computeEmbeddings, type Embedding, type EmbeddingMethod, SPACE_LABEL } from './embeddings.js';
import { REPORT_CSS, REPORT_JS } from './client.js';
import type { CompoundSearchData } from './compoundSearch.js';

export interface ReportOptions {
  /** MoAs coloured individually in embeddings (others grey). Default 10. */
  topMoas?: number;
  /** Embedding method(s). Default 'tsne'. */
  embedding?: EmbeddingMethod | 'both';
  /** Embed all rows (default) or only the rows of the top-k MoAs, as in the study's figure. */
  embeddingSubset?: 'all' | 'top-moas';
  seed?: number;
  /** Nearest neighbours stored per row for the search. Default 10. */
  neighbours?: number;
  /** Recompute cached embeddings. */
  force?: boolean;
  /** Where the figure files go. Default runDir/figures. */
  figuresDir?: string;
  /** Draw the static figures (default true); false gives a quick page with tables and the explorer only. */
  figures?: boolean;
  /** Raw (un-normalised) profiles for the histograms; default summary.inputs.file when readable. */
  rawProfiles?: string;
  /** Inline SVG up to this size, else the PNG as a data URI. Default 250 kB. */
  maxInlineSvg?: number;
  /**
   * Compound-level answers for the search box (activity verdict, ranked neighbouring compounds,
   * community), as src/repurpose's compoundSearchData builds them; without them the search
   * highlights profiles only.
   */
  compounds?: CompoundSearchData;
  reporter?: Reporter;
}

export interface ReportResult {
  path: string;
  figures: { name: string; svg: string; png: string }[];
  embeddings: { key: string; label: string; cached: boolean }[];
  bytes: number;
}

interface FigureEntry {
  fig: Figure;
  caption: string;
  section: 'overview' | 'embedding' | 'clusters' | 'enrichment' | 'batch';
}

/** What `run --correct` wrote for the report: batch_metrics.json (evaluate/batchProtocol.ts). */
interface BatchMetricsView {
  batchCol: string;
  method: string;
  rows: number;
  sampled: boolean;
  before: { mixing: Record<string, unknown>; biology: Record<string, unknown> & { cluster?: Record<string, unknown> } };
  after: { mixing: Record<string, unknown>; biology: Record<string, unknown> & { cluster?: Record<string, unknown> } };
}

function readBatchMetrics(runDir: string): BatchMetricsView | undefined {
  const path = join(runDir, 'batch_metrics.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as BatchMetricsView;
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

export async function writeReport(runDir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const reporter = opts.reporter ?? silentReporter;
  const topMoas = opts.topMoas ?? 10;
  const seed = opts.seed ?? 0;
  const k = opts.neighbours ?? 10;
  const run = displayableRun(await readRunDir(runDir));
  const figDir = opts.figuresDir ?? join(runDir, 'figures');

  // One exact kNN search per representation serves the search box (k neighbours) and t-SNE's
  // affinities (⌊3·30 + 1⌋ = 91 neighbours), the O(n²·d) step of both.
  const knn: Record<string, Knn> = {};
  for (const r of run.reps) {
    const X = run.repr(r);
    if (!X || run.n < 2) continue;
    if (run.n > 2000) reporter.info(`nearest neighbours of ${run.n} rows (${r})`);
    knn[r] = knnSquared(X, Math.min(run.n - 1, Math.max(k, 91)));
  }
  const methods: EmbeddingMethod[] = opts.embedding === 'both' ? ['tsne', 'umap'] : [opts.embedding ?? 'tsne'];
  const embeddings = computeEmbeddings(run, { methods, seed, subset: opts.embeddingSubset ?? 'all', topMoas, force: opts.force, knn, reporter });

  const figures: FigureEntry[] = [];
  const drawFigures = opts.figures ?? true;
  const tryFig = async (section: FigureEntry['section'], caption: string, make: () => Promise<Figure>) => {
    if (!drawFigures) return;
    try {
      figures.push({ fig: await make(), caption, section });
    } catch (e) {
      reporter.warn(`report: figure "${caption}" skipped: ${(e as Error).message}`);
    }
  };

  // Overview: histograms and MoA frequency.
  const rawX = run.repr('raw');
  const hist = drawFigures ? await rawFeatureValues(run, opts.rawProfiles, reporter) : undefined;
  if (hist && rawX) {
    const picks = pickFeatures(run.features, 3);
    await tryFig('overview', 'Feature values before and after normalisation (pooled over all features, and three single features).', () =>
      featureHistogramsFigure({
        raw: hist.values.data,
        normalised: rawX.data,
        features: picks.map((j) => ({ name: run.features[j]!, raw: column(hist.values, j), normalised: column(rawX, j) })),
      }),
    );
  }
  if (run.labelCol) await tryFig('overview', `Frequency of the ${topMoas} most common MoA labels.`, () => moaFrequencyFigure({ labels: run.moa, top: topMoas }));

  // Embeddings coloured by MoA and by cluster.
  for (const e of embeddings) {
    const moaSub = Array.from(e.rows, (r) => run.moa[r] ?? null);
    const g = groupTopK(moaSub, topMoas);
    const clusterRep = e.space === 'itml' && run.clusters.itml ? 'itml' : e.space === 'pca' && run.clusters.pca ? 'pca' : run.reps[0]!;
    const axis = e.method === 'tsne' ? 't-SNE' : 'UMAP';
    await tryFig('embedding', `${e.label}, coloured by MoA (top ${topMoas}; others grey).`, () =>
      embeddingFigure({ name: `${e.key}_moa`, title: `${e.label} — MoA`, coords: e.coords, colour: g.values, domain: g.domain, colourTitle: 'MoA', axisTitle: axis }),
    );
    await tryFig('embedding', `${e.label}, coloured by ${clusterRep} cluster.`, () =>
      embeddingFigure({ name: `${e.key}_cluster`, title: `${e.label} — ${clusterRep} clusters`, coords: e.coords, colour: Array.from(e.rows, (r) => String(run.clusters[clusterRep]![r])), colourTitle: `cluster (${clusterRep})`, axisTitle: axis }),
    );
  }

  // Batch correction (run --correct): the same rows embedded before and after, coloured by batch.
  const batch = readBatchMetrics(runDir);
  const batchValues = batch ? run.table.values.get(batch.batchCol) : undefined;
  if (batch && batchValues && run.repr('uncorrected')) {
    const before = computeEmbeddings(run, { methods: ['tsne'], seed, subset: 'all', spaces: ['uncorrected'], force: opts.force, reporter });
    const after = embeddings.find((e) => e.space === 'raw' && e.method === 'tsne' && e.rows.length === run.n)
      ?? computeEmbeddings(run, { methods: ['tsne'], seed, subset: 'all', spaces: ['raw'], force: opts.force, knn, reporter })[0];
    const colour = Array.from({ length: run.n }, (_, i) => batchValues[i] ?? 'missing');
    for (const [e, when] of [[before[0], 'before'], [after, 'after']] as const) {
      if (!e) continue;
      await tryFig('batch', `t-SNE of the analysed profiles ${when} ${batch.method}, coloured by ${batch.batchCol}.`, () =>
        embeddingFigure({ name: `batch_tsne_${when}`, title: `${when} ${batch.method} — ${batch.batchCol}`, coords: e.coords, colour, colourTitle: batch.batchCol, axisTitle: 't-SNE' }),
      );
    }
  }

  // Clusters: heatmaps, sizes, AP convergence.
  for (const r of run.reps) {
    const X = run.repr(r);
    if (!X) continue;
    await tryFig('clusters', `Distances in the ${r} representation, rows and columns ordered by ${r} cluster (largest first); bands mark clusters.`, () =>
      distanceHeatmapFigure({ X, clusters: run.clusters[r]!, name: `distance_heatmap_${r}`, title: `Distances (${r}) ordered by cluster` }),
    );
  }
  const sizes: Record<string, number[]> = {};
  const traces: Record<string, number[]> = {};
  for (const r of run.reps) {
    sizes[r] = clusterSizes(run.clusters[r]!);
    const t = run.summary.representations?.[r]?.apTrace;
    if (Array.isArray(t) && t.length) traces[r] = t;
  }
  await tryFig('clusters', 'Cluster sizes per representation.', () => clusterSizesFigure({ sizes }));
  if (Object.keys(traces).length) await tryFig('clusters', 'Affinity propagation: number of exemplars per iteration.', () => apConvergenceFigure({ traces }));

  // Enrichment and CSIF per representation.
  for (const r of run.reps) {
    const rows = run.enrichment.filter((e) => e.representation === r);
    if (rows.length) {
      await tryFig('enrichment', `MoA enrichment in ${r} clusters: −log10 hypergeometric p; outlined cells are significant (BH).`, () =>
        enrichmentFigure({ rows, name: `enrichment_${r}`, title: `MoA enrichment (${r} clusters)` }),
      );
    }
    if (drawFigures && rawX && run.features.length === rawX.cols) {
      const thr = Number(run.summary.parameters?.csifThreshold ?? 0.01);
      const minSize = Number(run.summary.parameters?.csifMinSize ?? 2);
      const { clusterIds, ratio } = varianceRatios(rawX, run.clusters[r]!, minSize);
      const view = selectCsifView(clusterIds, run.features, ratio, thr);
      if (view.clusters.length) {
        await tryFig('enrichment', `CSIF (${r} clusters): variance ratio of z-scored features within the cluster vs all rows (log scale); outlined < ${thr}. Clusters with most CSIFs and their most frequent CSIFs.`, () =>
          csifFigure({ ...view, name: `csif_${r}`, title: `Community-specific image features (${r} clusters)` }),
        );
      }
    }
  }

  const written = figures.map((f) => ({ name: f.fig.name, ...writeFigure(figDir, f.fig) }));
  if (drawFigures) reporter.info(`${written.length} figures drawn`);

  const neighbours: Record<string, number[]> = {};
  for (const [r, nn] of Object.entries(knn)) {
    const kk = Math.min(k, nn.k);
    const flat = new Array<number>(run.n * k).fill(-1);
    for (let i = 0; i < run.n; i++) for (let t = 0; t < kk; t++) flat[i * k + t] = nn.indices[i * nn.k + t]!;
    neighbours[r] = flat;
  }

  const html = buildHtml(run, { figures, embeddings, neighbours, k, topMoas, maxInlineSvg: opts.maxInlineSvg ?? 250_000, compounds: opts.compounds ?? null, batch });
  const path = join(runDir, 'report.html');
  writeFileAtomic(path, html);
  return { path, figures: written, embeddings: embeddings.map((e) => ({ key: e.key, label: e.label, cached: e.cached })), bytes: Buffer.byteLength(html) };
}

// ---------------------------------------------------------------------------------------------

/** The run's names as the figures and tables show them (displayText): a label cannot reorder or break them. */
function displayableRun(run: RunData): RunData {
  const show = (s: string) => displayText(s);
  return {
    ...run,
    drug: run.drug.map(show),
    moa: run.moa.map((m) => (m === null ? null : show(m))),
    enrichment: run.enrichment.map((e) => ({ ...e, moa: show(e.moa) })),
    csif: run.csif.map((c) => ({ ...c, feature: show(c.feature) })),
  };
}

async function rawFeatureValues(run: RunData, override: string | undefined, reporter: Reporter): Promise<{ values: Matrix } | undefined> {
  const recorded = run.summary.inputs?.files ?? (run.summary.inputs?.file ? [run.summary.inputs.file] : []);
  // Recorded inputs are absolute, or relative to the run folder (an input kept inside it).
  const files = override ? [override] : recorded.map((f) => resolve(run.dir, f));
  const file = files.join(', ');
  const missing = files.find((f) => !existsSync(f));
  if (!files.length || missing) {
    reporter.warn(`report: raw profiles ${missing ? `"${missing}" not found` : 'not recorded in summary.json'}; histograms skipped`);
    return undefined;
  }
  try {
    const { profiles } = await readProfileTables(files);
    const rowCol = run.table.values.get('row');
    const featIdx = run.features.map((f) => profiles.features.indexOf(f));
    if (featIdx.some((j) => j < 0)) throw new Error('the feature names of the run are not all in the raw file');
    const n = run.n, d = featIdx.length, src = profiles.X;
    const out = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const r = rowCol ? Number(rowCol[i]) : i;
      if (!(r >= 0 && r < src.rows)) throw new Error(`row ${r} of clusters.csv is not in the raw file`);
      for (let j = 0; j < d; j++) out[i * d + j] = src.data[r * src.cols + featIdx[j]!]!;
    }
    return { values: { rows: n, cols: d, data: out } };
  } catch (e) {
    reporter.warn(`report: cannot read raw values from ${file} (${(e as Error).message}); histograms skipped`);
    return undefined;
  }
}

function pickFeatures(features: string[], k: number): number[] {
  if (features.length === 0) return [];
  const out: number[] = [];
  for (let t = 0; t < Math.min(k, features.length); t++) out.push(Math.floor(((t + 0.5) * features.length) / Math.min(k, features.length)));
  return out;
}

function column(X: Matrix, j: number): Float64Array {
  const out = new Float64Array(X.rows);
  for (let i = 0; i < X.rows; i++) out[i] = X.data[i * X.cols + j]!;
  return out;
}

function clusterSizes(labels: Int32Array): number[] {
  const m = new Map<number, number>();
  for (const l of labels) m.set(l, (m.get(l) ?? 0) + 1);
  return [...m.values()];
}

function num(v: unknown, digits = 3): string {
  if (typeof v === 'number' && Number.isFinite(v)) return Number.isInteger(v) ? String(v) : v.toFixed(digits);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return v === undefined || v === null ? '—' : esc(v);
}

/**
 * JSON safe inside <script>: no "</script"; its strings shown as text by the page's script too
 * (displayText: bidi controls visible, line separators a space; JSON holds such characters only
 * inside strings, so the replacement keeps it valid).
 */
function scriptJson(v: unknown): string {
  return displayText(JSON.stringify(v)).replace(/</g, '\\u003c');
}

/** Vega numbers its gradient / clip ids per process; prefix them so inline SVGs never collide. */
function uniquifyIds(svg: string, prefix: string): string {
  return svg.replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`).replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

function figureHtml(f: FigureEntry, maxInlineSvg: number): string {
  const body =
    f.fig.svg.length <= maxInlineSvg
      ? uniquifyIds(f.fig.svg, `f-${f.fig.name}`).replace(/^<svg /, `<svg role="img" aria-label="${esc(f.caption)}" `)
      : `<img alt="${esc(f.caption)}" width="${Math.round(f.fig.width / 2)}" src="data:image/png;base64,${Buffer.from(f.fig.png).toString('base64')}">`;
  return `<figure id="fig-${esc(f.fig.name)}" data-figure="${esc(f.fig.name)}">${body}<figcaption>${esc(f.caption)}</figcaption></figure>`;
}

function flatten(obj: unknown, prefix = '', out: [string, unknown][] = []): [string, unknown][] {
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(obj) && obj.length > 12) {
    out.push([prefix, `[${obj.length} values]`]);
  } else {
    out.push([prefix, Array.isArray(obj) ? JSON.stringify(obj) : obj]);
  }
  return out;
}

/** The evaluation table: rows of objects when the JSON has such an array, else flattened key/value pairs. */
function evaluationTable(ev: unknown): { columns: string[]; rows: unknown[][] } | null {
  if (ev === undefined || ev === null) return null;
  const arrays = typeof ev === 'object' ? Object.entries(ev as Record<string, unknown>).filter(([, v]) => Array.isArray(v) && v.length && v.every((x) => x && typeof x === 'object' && !Array.isArray(x))) : [];
  if (arrays.length) {
    const rows = arrays.flatMap(([name, v]) => (v as Record<string, unknown>[]).map((x) => ({ table: name, ...x })));
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return { columns, rows: rows.map((r) => columns.map((c) => cell((r as Record<string, unknown>)[c]))) };
  }
  return { columns: ['key', 'value'], rows: flatten(ev).map(([k, v]) => [k, cell(v)]) };
}

function cell(v: unknown): unknown {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

interface BuildInput {
  figures: FigureEntry[];
  embeddings: Embedding[];
  neighbours: Record<string, number[]>;
  k: number;
  topMoas: number;
  maxInlineSvg: number;
  compounds: CompoundSearchData | null;
  batch?: BatchMetricsView;
}

const BATCH_ROWS: [string, string, string][] = [
  ['mixing', 'graphConnectivity', 'graph connectivity (higher: each label\'s wells stay connected)'],
  ['mixing', 'ilisi', 'iLISI, scaled (higher: batches mixed in every neighbourhood)'],
  ['mixing', 'silhouetteBatch', 'batch silhouette, 1 − |s| (higher: better mixed)'],
  ['mixing', 'otherBatchShare', 'share of 24 nearest neighbours from another batch'],
  ['mixing', 'otherBatchShareExpected', '… with perfectly mixed batches'],
  ['biology', 'replicateMap', 'replicate mAP (treatment wells vs controls)'],
  ['biology', 'moaMap', 'MoA mAP (treatments, other compounds)'],
  ['biology', 'nsc', 'NSC (1-NN MoA, other compounds)'],
  ['biology', 'nscb', 'NSCB (… and other batches)'],
  ['cluster', 'ari', 'cluster agreement with labels, ARI'],
  ['cluster', 'nmi', 'cluster agreement with labels, NMI'],
];

function batchTable(b: BatchMetricsView): string {
  const get = (side: BatchMetricsView['before'], group: string, key: string): unknown =>
    group === 'cluster' ? side.biology.cluster?.[key] : (side as unknown as Record<string, Record<string, unknown>>)[group]?.[key];
  const rows = BATCH_ROWS.map(([g, k, label]) => `<tr><td>${esc(label)}</td><td class="num">${num(get(b.before, g, k))}</td><td class="num">${num(get(b.after, g, k))}</td></tr>`).join('');
  return `<p class="muted">${esc(b.method)} on ${esc(b.batchCol)}; metrics on ${b.sampled ? `a seeded sample of ${b.rows}` : `all ${b.rows}`} rows of the table (mixing on labelled non-control wells; cosine), as Arevalo et al. 2024 define them.</p>
<table class="data" id="batch-table"><thead><tr><th>metric</th><th>before</th><th>after</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function buildHtml(run: RunData, b: BuildInput): string {
  const s = run.summary;
  const reps = run.reps;
  const data = {
    n: run.n,
    reps,
    drugCol: run.drugCol,
    labelCol: run.labelCol,
    doseCol: run.doseCol,
    rows: { drug: run.drug, moa: run.moa, dose: run.dose },
    clusters: Object.fromEntries(reps.map((r) => [r, Array.from(run.clusters[r]!)])),
    neighbours: b.neighbours,
    neighbourK: b.k,
    moaTop: topCategories(run.moa, b.topMoas).map((t) => t.label),
    embeddings: b.embeddings.map((e) => ({
      key: e.key,
      label: e.label,
      rows: e.rows.length === run.n ? null : Array.from(e.rows),
      xy: Array.from(e.coords.data.subarray(0, e.rows.length * 2), round4),
    })),
    enrichment: {
      columns: ['representation', 'cluster', 'moa', 'k', 'n', 'K', 'N', 'p', 'q', 'significant'],
      rows: run.enrichment.map((e) => [e.representation, e.cluster, e.moa, e.k, e.n, e.K, e.N, e.p, Number.isFinite(e.q) ? e.q : '', e.significant]),
    },
    csif: { columns: ['representation', 'cluster', 'size', 'feature', 'ratio'], rows: run.csif.map((c) => [c.representation, c.cluster, c.size, c.feature, c.ratio]) },
    evaluation: evaluationTable(run.evaluation),
    compounds: b.compounds,
  };

  const summaryRows = reps
    .map((r) => {
      const x = s.representations?.[r] ?? {};
      return `<tr><td>${esc(r)}</td><td class="num">${num(x.clusters ?? new Set(run.clusters[r]).size)}</td><td class="num">${num(x.enrichedClusters)}</td><td class="num">${num(x.enrichmentRatio)}</td><td class="num">${num(x.apIterations)}</td><td>${num(x.apConverged)}</td><td class="num">${num(x.dim ?? run.repr(r)?.cols)}</td><td class="num">${num(x.csifClusters)}</td><td class="num">${num(x.csifTotal)}</td></tr>`;
    })
    .join('');
  const secFigs = (sec: FigureEntry['section']) => b.figures.filter((f) => f.section === sec).map((f) => figureHtml(f, b.maxInlineSvg)).join('\n');
  const inputs = s.inputs ?? {};
  const warnings = (s.warnings ?? []).map((w) => `<div class="warn">${esc(w)}</div>`).join('');
  const title = `phenomap report — ${inputs.file ? esc(inputs.file.split(/[\\/]/).pop()) : esc(run.dir)}`;
  const embOptions = b.embeddings.length
    ? `<div class="tools"><label>embedding <select id="emb-select"></select></label><label>colour <select id="colour-select"></select></label>
<label>communities of <select id="rep-select"></select></label>
<input id="search" type="search" placeholder="search a drug (${esc(run.drugCol)})…" size="34" list="drug-list" autocomplete="off">
<datalist id="drug-list">${[...new Set(run.drug)].slice(0, 5000).map((d) => `<option value="${esc(d)}">`).join('')}</datalist></div>
<div id="scatter-wrap"><div id="scatter-box"><canvas id="scatter" width="640" height="640"></canvas><div id="tooltip"></div></div>
<div><div id="legend"></div><div id="info"></div></div></div>
<p class="muted">Hover a point for its drug, MoA, dose and clusters; click it or type a name to highlight the drug (black ring), its community (blue ring: every profile in the same cluster of the chosen representation) and ${b.compounds ? `its ${b.k} nearest compounds (orange ring: their profiles). Beside the plot: the compound's answer — whether it is active at all (replicate retrieval against the negative controls), its ranked neighbouring compounds with p-values, and its community with that community's enrichment, as \`phenomap query\` gives it` : `its ${b.k} nearest neighbours in that representation (orange ring)`}.</p>`
    : '<p class="muted">No embedding (no repr_*.npy in the run directory).</p>';

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${title}</title>
<style>${REPORT_CSS}</style>
</head><body data-ready="0">
<header><h1>${title}</h1>
<div class="meta">${run.n} profiles × ${num(s.d ?? run.features.length)} features · label ${esc(run.labelCol || '—')} · drug names from ${esc(run.drugCol)}${run.doseCol ? ` · dose ${esc(run.doseCol)}` : ''} · phenomap ${esc(s.phenomap ?? '')}${s.parameters?.preset ? ` · preset ${esc(s.parameters.preset)}` : ''} · seed ${num(s.parameters?.seed)}</div></header>
<nav><a href="#summary">Summary</a><a href="#explore">Explore</a><a href="#overview">Data</a><a href="#embeddings">Embeddings</a>${b.batch ? '<a href="#batch">Batch correction</a>' : ''}<a href="#clusters">Clusters</a><a href="#enrichment">Enrichment &amp; CSIF</a>${data.evaluation ? '<a href="#evaluation">Evaluation</a>' : ''}</nav>
<main>
<section id="summary"><h2>Summary per representation</h2>
<table class="data" id="summary-table"><thead><tr><th>representation</th><th>clusters</th><th>enriched clusters</th><th>enrichment ratio</th><th>AP iterations</th><th>converged</th><th>dim</th><th>CSIF clusters</th><th>CSIFs</th></tr></thead><tbody>${summaryRows}</tbody></table>
${warnings}</section>
<section id="explore"><h2>Explore the embedding</h2>${embOptions}</section>
<section id="overview"><h2>Data</h2><div class="figs">${secFigs('overview')}</div></section>
<section id="embeddings"><h2>Embeddings (${esc(b.embeddings.map((e) => SPACE_LABEL[e.space] ?? e.space).filter((v, i, a) => a.indexOf(v) === i).join(' / '))})</h2><div class="figs">${secFigs('embedding')}</div></section>
${b.batch ? `<section id="batch"><h2>Batch correction</h2><div class="figs">${secFigs('batch')}</div>${batchTable(b.batch)}</section>` : ''}
<section id="clusters"><h2>Clusters</h2><div class="figs">${secFigs('clusters')}</div></section>
<section id="enrichment"><h2>MoA enrichment and community-specific image features</h2><div class="figs">${secFigs('enrichment')}</div>
<h3>Enrichment table</h3><div id="enrichment-table"></div>
<h3>CSIF table</h3><div id="csif-table"></div></section>
${data.evaluation ? '<section id="evaluation"><h2>Evaluation</h2><div id="evaluation-table"></div></section>' : ''}
</main>
<script type="application/json" id="phenomap-data">${scriptJson(data)}</script>
<script>${REPORT_JS}</script>
</body></html>
`;
}
