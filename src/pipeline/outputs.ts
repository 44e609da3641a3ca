/**
 * Writes what `phenomap run` produces into its output directory (the layout the report and
 * query commands read back): summary.json, clusters.csv, enrichment.csv, csif.csv,
 * itml_metric.npy, repr_<name>.npy, features.txt and optionally distances_<name>.npy.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { MetaColumn, Profiles } from '../io/profiles.js';
import { writeProfiles } from '../io/write.js';
import type { Matrix } from '../linalg/matrix.js';
import { writeNpy } from '../io/npy.js';
import { writeFileAtomic } from '../util/atomic.js';
import { writeCompletionRecord } from '../util/outputDir.js';
import { zeros, linalgBackend, type LinalgBackend } from '../linalg/index.js';
import type { AnalysisResult } from './analyse.js';
import type { Representation } from './params.js';
import type { ClusteringInfo } from './clustering.js';
import { peakRssNowMB } from './stageClock.js';
import type { CorrectionReport } from '../batch/profiles.js';

export const PHENOMAP_VERSION = '0.1.0';

export interface RepresentationSummary {
  clusters: number;
  enrichedClusters: number;
  enrichmentRatio: number;
  apIterations: number;
  apConverged: boolean;
  apDamping: number;
  apAttempts: { damping: number; converged: boolean; nIter: number; clusters: number }[];
  dim: number;
  preference: number;
  clusterSizes: number[];
  singletons: number;
  apTrace: number[];
  significantPairs: number;
  moasTested: number;
  csifClusters: number;
  csifTotal: number;
  csifDistinctFeatures: number;
  /** Dense AP, sparse AP or Louvain on a k-NN graph, and why (see pipeline/clustering.ts). */
  clustering?: ClusteringInfo;
}

export interface RunSummary {
  phenomap: string;
  inputs: {
    /** The input table (the first one when several were stacked; see files). */
    file: string | null;
    /** Every input table, in the order stacked (absent for runs on profiles passed in memory). */
    files?: string[];
    rowsInFile: number;
    labelCol: string;
    idCols: string[];
    idCol: string | null;
    doseCol: string | null;
    /** Storage of the feature matrix: float32 halves memory (sums stay float64). */
    precision: AnalysisResult['precision'];
  };
  parameters: AnalysisResult['params'];
  dropped: { rows: number; features: number; details: { kind: string; name: string; reason: string }[] };
  n: number;
  d: number;
  labelClasses: number;
  representations: Partial<Record<Representation, RepresentationSummary>>;
  pca?: { components: number; explainedVariance: number };
  itml?: { sweeps: number; converged: boolean; bounds: [number, number]; constraints: number; warnings: string[] };
  timings: Record<string, number>;
  /** Which kernels computed this run (native, wasm-simd or js; results are the same, timings are not). */
  engine: LinalgBackend;
  /** Process peak RSS (MB) when each stage ended, in stage order: the jump shows which stage set the peak. */
  peakRssMB: Record<string, number>;
  warnings: string[];
  /** `run --correct`: what the batch correction did (src/batch) and the files it wrote. */
  batchCorrection?: CorrectionReport & { files: string[] };
}

/** Columns recognised as the dose (concentration) of a treatment, in order of preference. */
export const DOSE_COLS = ['Metadata_mmoles_per_liter', 'Metadata_dose_recode', 'Metadata_concentration', 'Compound Concentration (microMolar)', 'Image_Metadata_Concentration'];

export function summarise(res: AnalysisResult, input: string | readonly string[] | null): RunSummary {
  const files = input === null ? null : typeof input === 'string' ? [input] : [...input];
  const file = files?.[0] ?? null;
  const metaNames = new Set(res.profiles.meta.map((c) => c.name));
  const reps: RunSummary['representations'] = {};
  for (const [name, r] of Object.entries(res.representations) as [Representation, NonNullable<AnalysisResult['representations']['raw']>][]) {
    const sizes = new Array<number>(r.ap.exemplars.length).fill(0);
    for (const l of r.ap.labels) if (l >= 0) sizes[l]++;
    reps[name] = {
      clusters: r.enrichment.nClusters,
      enrichedClusters: r.enrichment.enrichedClusters.length,
      enrichmentRatio: r.enrichment.enrichmentRatio,
      apIterations: r.ap.nIter,
      apConverged: r.ap.converged,
      apDamping: r.ap.damping,
      apAttempts: r.ap.attempts,
      dim: r.coords.cols,
      preference: r.ap.preference,
      clusterSizes: sizes,
      singletons: sizes.filter((s) => s === 1).length,
      apTrace: Array.from(r.ap.exemplarTrace),
      significantPairs: r.enrichment.nSignificantPairs,
      moasTested: r.enrichment.nMoasTested,
      csifClusters: r.csif.perCluster.filter((c) => c.features.length > 0).length,
      csifTotal: r.csif.perCluster.reduce((a, c) => a + c.features.length, 0),
      csifDistinctFeatures: r.csif.featureCounts.size,
      clustering: r.clustering,
    };
  }
  const droppedRows = res.dropped.filter((d) => d.kind === 'row');
  const droppedFeatures = res.dropped.filter((d) => d.kind === 'feature');
  return {
    phenomap: PHENOMAP_VERSION,
    inputs: {
      file,
      ...(files ? { files } : {}),
      rowsInFile: res.rowsInInput,
      labelCol: res.params.labelCol,
      idCols: res.params.idCols.filter((c) => metaNames.has(c)),
      idCol: res.params.idCols.find((c) => metaNames.has(c)) ?? null,
      doseCol: DOSE_COLS.find((c) => metaNames.has(c)) ?? null,
      precision: res.precision,
    },
    parameters: res.params,
    dropped: { rows: droppedRows.length, features: droppedFeatures.length, details: res.dropped.map((d) => ({ ...d })) },
    n: res.profiles.X.rows,
    d: res.profiles.X.cols,
    labelClasses: new Set(res.labels).size,
    representations: reps,
    pca: res.pcaExplained !== undefined ? { components: res.representations.pca?.coords.cols ?? 0, explainedVariance: res.pcaExplained } : undefined,
    itml: res.itml ? { sweeps: res.itml.sweeps, converged: res.itml.converged, bounds: res.itml.bounds, constraints: res.itml.constraints, warnings: res.itml.warnings } : undefined,
    timings: { ...res.timings },
    engine: linalgBackend(),
    peakRssMB: { ...res.peakRssMB },
    warnings: res.warnings,
  };
}

function table(columns: MetaColumn[], rows: number): Profiles {
  return { features: [], X: zeros(rows, 0), meta: columns };
}

/** communities.gct is written up to this many values (profiles × features). */
export const GCT_MAX_VALUES = 20_000_000;

export interface WriteOptions {
  saveDistances?: boolean;
  batchCorrection?: RunSummary['batchCorrection'];
  /** Write communities.gct up to this many values (default GCT_MAX_VALUES). */
  gctMaxValues?: number;
  /** performance.now() when the run started: timings.json then has the total. */
  startedAt?: number;
}

/** Where a run's measured times and memory go, so that summary.json is the same for the same input and seed. */
export const TIMINGS_FILE = 'timings.json';

/**
 * summary.json as written: the summary without what changes from one run to the next (stage
 * times, peak memory, k-NN seconds, the batch correction's seconds), which go to timings.json.
 */
export function splitTimings(summary: RunSummary): { result: Record<string, unknown>; timings: Record<string, unknown> } {
  const { timings, peakRssMB, ...rest } = summary;
  const knnSeconds: Record<string, number> = {};
  const representations: Record<string, unknown> = {};
  for (const [name, r] of Object.entries(rest.representations)) {
    if (!r) continue;
    const knn = r.clustering?.knn;
    if (knn) knnSeconds[name] = knn.seconds;
    representations[name] = knn ? { ...r, clustering: { ...r.clustering, knn: { ...knn, seconds: undefined } } } : r;
  }
  const batch = rest.batchCorrection;
  return {
    result: { ...rest, representations, ...(batch ? { batchCorrection: { ...batch, seconds: undefined } } : {}) },
    timings: {
      seconds: timings, peakRssMB, engine: rest.engine,
      ...(Object.keys(knnSeconds).length ? { knnSeconds } : {}),
      ...(batch ? { batchCorrectionSeconds: batch.seconds } : {}),
    },
  };
}

export async function writeRunOutputs(dir: string, res: AnalysisResult, file: string | readonly string[] | null, opts: WriteOptions = {}): Promise<RunSummary> {
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const n = res.profiles.X.rows;
  const reps = Object.values(res.representations);
  // clusters.csv: input row index, every metadata column, then cluster and exemplar flag per representation.
  const cols: MetaColumn[] = [{ name: 'row', kind: 'number', values: Float64Array.from(res.inputRows) }];
  const taken = new Set(['row']);
  for (const c of res.profiles.meta) {
    if (taken.has(c.name)) continue;
    taken.add(c.name);
    cols.push(c);
  }
  for (const r of reps) {
    cols.push({ name: `cluster_${r.name}`, kind: 'number', values: Float64Array.from(r.ap.labels) });
  }
  for (const r of reps) {
    const isEx = new Set(r.ap.exemplars);
    cols.push({ name: `exemplar_${r.name}`, kind: 'string', values: Array.from({ length: n }, (_, i) => (isEx.has(i) ? 'true' : 'false')) });
  }
  await writeProfiles(join(dir, 'clusters.csv'), table(cols, n));

  const enr = reps.flatMap((r) => r.enrichment.rows.map((row) => ({ rep: r.name, ...row })));
  await writeProfiles(join(dir, 'enrichment.csv'), table([
    { name: 'representation', kind: 'string', values: enr.map((e) => e.rep) },
    { name: 'cluster', kind: 'number', values: Float64Array.from(enr, (e) => e.cluster) },
    { name: 'moa', kind: 'string', values: enr.map((e) => e.moa) },
    { name: 'k', kind: 'number', values: Float64Array.from(enr, (e) => e.k) },
    { name: 'n', kind: 'number', values: Float64Array.from(enr, (e) => e.n) },
    { name: 'K', kind: 'number', values: Float64Array.from(enr, (e) => e.K) },
    { name: 'N', kind: 'number', values: Float64Array.from(enr, (e) => e.N) },
    { name: 'p', kind: 'number', values: Float64Array.from(enr, (e) => e.p) },
    { name: 'q', kind: 'number', values: Float64Array.from(enr, (e) => e.q) },
    { name: 'significant', kind: 'string', values: enr.map((e) => String(e.significant)) },
  ], enr.length));

  // Morpheus: the profiles with their communities and each community's enriched MoAs as column annotations.
  const gctMeta = [...cols];
  for (const r of reps) {
    const byCluster = new Map<number, { moa: string; p: number }[]>();
    for (const e of r.enrichment.rows) if (e.significant) (byCluster.get(e.cluster) ?? byCluster.set(e.cluster, []).get(e.cluster)!).push({ moa: e.moa, p: e.p });
    gctMeta.push({
      name: `enriched_moa_${r.name}`, kind: 'string',
      values: Array.from(r.ap.labels, (c) => (byCluster.get(c) ?? []).sort((a, b) => a.p - b.p).map((e) => e.moa).join('|') || null),
    });
  }
  // As text, every value costs ≈ 1 µs to format (7,680 × 5,792 values: ≈ 0.8 GB and a minute or
  // more), for a file Morpheus could not open anyway; above the limit it is left out and said so.
  const gctValues = n * res.profiles.features.length;
  let gctSkipped: string | undefined;
  if (gctValues <= (opts.gctMaxValues ?? GCT_MAX_VALUES)) {
    await writeProfiles(join(dir, 'communities.gct'), { features: res.profiles.features, X: res.profiles.X as Matrix, meta: gctMeta });
  } else {
    gctSkipped = `communities.gct not written: ${n.toLocaleString('en-US')} profiles × ${res.profiles.features.length.toLocaleString('en-US')} features = ${(gctValues / 1e6).toFixed(1)} M values, above ${(opts.gctMaxValues ?? GCT_MAX_VALUES) / 1e6} M (text that large takes minutes to write); the same profiles, clusters and enriched MoAs are in repr_raw.npy, clusters.csv and enrichment.csv (\`phenomap normalize … --format gct\` writes a GCT of any table)`;
  }

  const cs = reps.flatMap((r) => r.csif.perCluster.flatMap((c) => c.features.map((f) => ({ rep: r.name, cluster: c.cluster, size: c.size, ...f }))));
  await writeProfiles(join(dir, 'csif.csv'), table([
    { name: 'representation', kind: 'string', values: cs.map((e) => e.rep) },
    { name: 'cluster', kind: 'number', values: Float64Array.from(cs, (e) => e.cluster) },
    { name: 'size', kind: 'number', values: Float64Array.from(cs, (e) => e.size) },
    { name: 'feature', kind: 'string', values: cs.map((e) => e.feature) },
    { name: 'ratio', kind: 'number', values: Float64Array.from(cs, (e) => e.ratio) },
  ], cs.length));

  if (res.itml) writeNpy(join(dir, 'itml_metric.npy'), res.itml.metric);
  for (const r of reps) {
    writeNpy(join(dir, `repr_${r.name}.npy`), r.coords);
    if (opts.saveDistances) {
      if (r.similarity) {
        const S = r.similarity;
        // Euclidean (not squared) distances, the study's distance matrix.
        const D = { rows: S.rows, cols: S.cols, data: S.data.map((v) => Math.sqrt(Math.max(-v, 0))) };
        writeNpy(join(dir, `distances_${r.name}.npy`), D);
      }
    }
  }
  writeFileAtomic(join(dir, 'features.txt'), res.profiles.features.join('\n') + '\n');
  const summary = summarise(res, file);
  if (gctSkipped) summary.warnings = [...summary.warnings, gctSkipped];
  if (opts.batchCorrection) summary.batchCorrection = opts.batchCorrection;
  summary.timings.write = (performance.now() - t0) / 1000;
  summary.peakRssMB.write = peakRssNowMB();
  if (opts.startedAt !== undefined) summary.timings.total = (performance.now() - opts.startedAt) / 1000;
  const { result, timings } = splitTimings(summary);
  writeFileAtomic(join(dir, 'summary.json'), JSON.stringify(result, null, 1) + '\n');
  writeFileAtomic(join(dir, TIMINGS_FILE), JSON.stringify(timings, null, 1) + '\n');
  // Last: the record that readers (report, query) require of a finished run.
  writeCompletionRecord(dir, 'run');
  return summary;
}
