/**
 * The steps of a profiling run, each reading and writing files only (paths relative to the run
 * folder `root`): what one workflow job does, and what `phenomap profile` runs in order. Every
 * output is written under a temporary name and renamed when complete, so a killed job leaves
 * nothing that looks finished; a plate's report (`…_plate.json`) is written last.
 *
 * Global steps read only small per-plate results (partial statistics, per-plate tables of well
 * profiles, k-NN candidate lists), never cells. Steps that need all well profiles at once —
 * consensus (median / MODZ over replicate wells that span plates), the k-NN shards (each queries
 * every profile) and the clustering (sparse AP's sampled preference) — read the selected
 * profiles, which are ~10³ times smaller than the cells they summarise.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { aggregatePlate, type PlateProfiles } from '../cells/aggregate.js';
import { planSources, withSource } from '../cells/sources.js';
import { writeProfilePage } from '../report/profileReport.js';
import { sourceWarnings, stackPlates, OBJECT_COUNT, type SourceReport } from '../cells/wellProfiles.js';
import type { ReadCounts } from '../cells/schema.js';
import { knnAffinityGraph, louvain, withRepresentatives } from '../cluster/louvain.js';
import { knnToSimilarity, sampledRecall } from '../cluster/knnGraph.js';
import { sampledSimilarityMedian, sparseAffinityPropagationWithRetry } from '../cluster/sparseAffinityPropagation.js';
import { moaEnrichment } from '../enrich/enrichment.js';
import { readFeatureList } from '../io/featureList.js';
import { joinAnnotations, type KeyKind } from '../io/join.js';
import { metaStrings, subsetRows, withFeatures, type Profiles, cellString } from '../io/profiles.js';
import { readProfiles, readTable } from '../io/read.js';
import { readProfileTables } from '../io/readMany.js';
import { formatNumber, quoteField, writeProfiles } from '../io/write.js';
import { takeCols } from '../linalg/matrix.js';
import { annotatePlatemap } from '../preprocess/annotate.js';
import { queryRows } from '../preprocess/query.js';
import { correctProfiles, type CorrectionReport } from '../batch/profiles.js';
import { saveModel } from '../batch/persist.js';
import type { CorrectionName } from '../batch/registry.js';
import { judgeBeforeAfter, type BatchMetricsFile } from '../evaluate/batchProtocol.js';
import { consensus } from '../preprocess/consensus.js';
import type { CorrelationMethod } from '../preprocess/correlation.js';
import { featureSelect, type FeatureSelectOperation, type FeatureSelectOptions, type FeatureSelectReport } from '../preprocess/featureSelect.js';
import { decodeFeatureStats, encodeFeatureStats, featureStats, frequencyCountsFromFiles, mergeFeatureStats, selectFromFeatureStats } from '../preprocess/featureStats.js';
import { normalize, type NormalizeMethod } from '../preprocess/normalize.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError, UsageError, isUserError } from '../util/errors.js';
import { CollectingReporter, silentReporter, type Reporter } from '../util/log.js';
import type { ProfileConfig } from './config.js';
import { knnShard, knnShardHeader, mergeKnnShardFiles, readKnnGraph, shardRange, writeKnnBlock, writeKnnShard, type KnnShardMethod } from './knnShards.js';
import {
  CLUSTER_FILES, CONSENSUS_FILES, CORRECTION_FILES, PLAN_FILE, REPORT_FILE, SELECTION_FILE, correctedFile, plateFiles, profileFile, sourceOptions,
  type PlatePlan, type WorkflowPlan,
} from './plan.js';

export interface PlateStep {
  readonly plate: string;
  readonly source: string;
  readonly wells: number;
  readonly cells: number;
  /** Cells of each well (by the well column), for the plate-layout picture. */
  readonly cellsPerWell: Record<string, number>;
  readonly annotation?: { matched: number; unmatched: number; columns: string[] };
  readonly normalization?: { referenceRows: number; featuresOut: number; droppedFeatures: number };
  /** Output files (absolute, in the run's final folder). */
  readonly files: Record<string, string>;
}

/** What a plate job leaves beside its tables (…_plate.json): written last, the job's done mark. */
export interface PlateRecord {
  readonly step: PlateStep;
  readonly sourceReport: SourceReport;
  readonly features: number;
  readonly warnings: string[];
  readonly seconds: number;
  readonly finished: string;
}

export interface Selection {
  /** The profiles' features after joining plates and selecting. */
  readonly features: string[];
  readonly featureSelect: FeatureSelectReport | null;
  /** Features left out because not every plate measures them (featureJoin: intersection). */
  readonly joinDropped: { name: string; missingFrom: string }[];
  readonly mode: 'partial statistics' | 'all well profiles';
  readonly reason?: string;
  readonly rows: number;
}

export interface ConsensusRecord {
  readonly method: string;
  readonly strata: string[];
  readonly nRowsIn: number;
  readonly nGroups: number;
  readonly file: string;
  readonly warnings: string[];
}

/** What the correct job leaves (batch_correction.json). */
export interface CorrectionRecord {
  readonly report: CorrectionReport;
  /** Control wells the query selected (sphere's reference rows), or null without a query. */
  readonly controls: number | null;
  /** Batch mixing and biology before / after (with correct.labelColumn and compoundColumn). */
  readonly metrics: BatchMetricsFile | null;
  /** Why the metrics are missing although asked for. */
  readonly metricsError?: string;
  readonly files: { corrected: string[]; model: string[] };
}

export interface ClusterRecord {
  readonly table: 'consensus' | 'profiles';
  readonly rows: number;
  readonly droppedRows: number;
  readonly method: 'sparse-ap' | 'louvain';
  readonly knn: { k: number; method: KnnShardMethod; shards: number; edges: number; recall?: number; recallSample?: number };
  readonly clusters: number;
  readonly sparseAp?: { preference: number; converged: boolean; nIter: number; damping: number; unstable: number };
  readonly louvain?: { resolution: number; modularity: number; levels: number };
  readonly enrichment?: { labelColumn: string; labelled: number; labelsTested: number; enrichedClusters: number; ratio: number; significantPairs: number };
  readonly files: Record<string, string>;
  readonly warnings: string[];
}

/** The plan saved with a run (plan.json), with the config it was made from. */
export function loadPlan(path: string): WorkflowPlan {
  let raw: WorkflowPlan;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as WorkflowPlan;
  } catch (e) {
    throw new InputError(`${path}: cannot read the workflow plan (${(e as Error).message.split('\n')[0]}); write it with phenomap workflow CONFIG`);
  }
  if (raw?.version !== 1 || !Array.isArray(raw.plates) || !raw.config) throw new InputError(`${path}: not a phenomap workflow plan`);
  return raw;
}

function plateOf(plan: WorkflowPlan, id: string): PlatePlan {
  const p = plan.plates.find((q) => q.id === id || q.plate === id);
  if (!p) throw new InputError(`the plan has no plate ${id} (plates: ${plan.plates.slice(0, 8).map((q) => q.id).join(', ')}${plan.plates.length > 8 ? ', …' : ''})`);
  return p;
}

/** Run `fn`, and put "plate P (source): " in front of whatever it throws. */
async function namingPlate<T>(p: PlatePlan, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const msg = `plate ${p.plate} (${p.source}): ${(e as Error)?.message ?? String(e)}`;
    if (isUserError(e)) throw new InputError(msg);
    const err = new Error(msg);
    (err as Error & { cause?: unknown }).cause = e;
    throw err;
  }
}

function fsOptions(cfg: ProfileConfig): Omit<FeatureSelectOptions, 'samples' | 'reporter' | 'inPlace'> | null {
  const f = cfg.featureSelect;
  if (!f) return null;
  return {
    operations: f.operations as FeatureSelectOperation[], naCutoff: f.naCutoff, freqCut: f.freqCut, uniqueCut: f.uniqueCut, minVariance: f.minVariance,
    corrThreshold: f.corrThreshold, corrMethod: f.corrMethod as CorrelationMethod | undefined, blocklist: f.blocklist ? readFeatureList(f.blocklist) : undefined,
    outlierCutoff: f.outlierCutoff, noiseRemovalPerturbGroups: f.noiseRemovalPerturbGroups, noiseRemovalStdevCutoff: f.noiseRemovalStdevCutoff,
  };
}

/** One plate: single cells → aggregated → annotated → normalised tables and partial statistics. */
export async function plateStep(plan: WorkflowPlan, root: string, plateId: string, opts: { reporter?: Reporter; outputRoot?: string } = {}): Promise<PlateRecord> {
  const p = plateOf(plan, plateId);
  return namingPlate(p, () => runPlate(plan, root, p, opts.reporter ?? silentReporter, opts.outputRoot ?? plan.config.output));
}

async function aggregateOnePlate(plan: WorkflowPlan, p: PlatePlan, reporter: Reporter): Promise<{ agg: PlateProfiles; counts: ReadCounts; seconds: number }> {
  const cfg = plan.config;
  const so = sourceOptions(cfg);
  const t0 = performance.now();
  const plans = planSources(p.paths, so);
  // (a source unreadable when planned is read again: its reader says what is wrong with it)
  if (plans.length !== 1) throw new InputError(`${p.paths.join(', ')} plan as ${plans.length} sources now (one when the workflow was planned); plan the workflow again`);
  const src = plans[0]!;
  const aopts = { operation: cfg.aggregate.operation, perCompartment: cfg.aggregate.perCompartment, reporter };
  if (!p.shared) {
    const { agg, counts } = await src.aggregate(aopts);
    return { agg, counts, seconds: (performance.now() - t0) / 1000 };
  }
  // A source holding several plates: aggregate this plate's wells only.
  const at = so.strata.indexOf(cfg.cells.plateColumn);
  return withSource(src, async (s) => {
    const wells: number[] = [];
    s.schema.wells.keys.forEach((k, w) => {
      if ((k[at] === null || k[at] === undefined ? '(missing)' : String(k[at])) === p.plate) wells.push(w);
    });
    if (!wells.length) throw new InputError(`holds no well of this plate any more; plan the workflow again`);
    const agg = await aggregatePlate(s, { ...aopts, wells });
    return { agg, counts: s.counts, seconds: (performance.now() - t0) / 1000 };
  });
}

/** Temporary files of an earlier attempt that was killed (atomic writes name them .<file>.…tmp…). */
function removeLeftovers(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir)) if (e.startsWith('.') && e.includes('.tmp')) rmSync(join(dir, e), { force: true });
}

async function runPlate(plan: WorkflowPlan, root: string, p: PlatePlan, reporter: Reporter, outputRoot: string): Promise<PlateRecord> {
  const cfg = plan.config;
  const t0 = performance.now();
  const so = sourceOptions(cfg);
  const plateCol = cfg.cells.plateColumn;
  const f = plateFiles(cfg, p);
  const abs = (rel: string) => join(root, rel);
  const warnings: string[] = [];
  removeLeftovers(join(root, dirname(f.report)));
  reporter.info(`plate ${p.plate}: aggregating ${p.source}`);
  const { agg, counts, seconds } = await aggregateOnePlate(plan, p, reporter);
  const sourceReport: SourceReport = {
    source: agg.schema.source, layout: agg.schema.layout, images: agg.schema.images.n, wells: agg.schema.wells.keys.length, profiles: agg.wells.length,
    objects: agg.objects, cells: agg.cells, links: agg.links, textNumbers: { ...counts.textNumbers }, orphanObjects: { ...counts.orphanObjects },
    emptyFiles: [...counts.emptyFiles], rowReaders: { ...counts.rowReaders }, droppedWells: agg.droppedWells, seconds,
  };
  warnings.push(...sourceWarnings(sourceReport));
  if (!agg.wells.length) throw new InputError(`no well has any linked cell, so the plate gives no profile`);
  let prof = stackPlates([agg], so.strata);
  const other = metaStrings(prof, plateCol).find((v) => (v ?? '(missing)') !== p.plate);
  if (other !== undefined) throw new InputError(`${p.unreadable ? 'could not be read when the workflow was planned and' : 'now also'} holds plate ${other}; plan the workflow again`);
  const perWell = prof.meta.find((m) => m.name === OBJECT_COUNT)!.values as Float64Array;
  const cells = perWell.reduce((a, b) => a + b, 0);
  const wellNames = metaStrings(prof, cfg.annotate?.wellColumn ?? 'Metadata_Well');
  const cellsPerWell: Record<string, number> = {};
  for (let i = 0; i < perWell.length; i++) cellsPerWell[wellNames[i] ?? `row ${i}`] = perWell[i]!;
  await writeProfiles(abs(f.aggregated), prof);
  let annotation: PlateStep['annotation'];
  if (cfg.annotate) {
    const a = cfg.annotate;
    const cols: string[] = [];
    let matched = prof.X.rows, unmatched = 0;
    if (a.barcodePlatemap || a.platemap) {
      const r = await annotatePlatemap(prof, {
        barcodePlatemap: a.barcodePlatemap, platemapDir: a.platemapDir, platemap: a.platemap,
        plateColumn: plateCol, wellColumn: a.wellColumn, platemapWellColumn: a.platemapWellColumn,
      });
      prof = r.profiles;
      matched = r.report.matched;
      unmatched = r.report.unmatched;
      cols.push(...r.report.addedColumns);
      warnings.push(...r.report.warnings);
    }
    for (const e of a.external) {
      const table = await readTable(e.file);
      const j = joinAnnotations(prof, table, { profileKey: e.profileKey, tableKey: e.tableKey, keyKind: e.keyKind as KeyKind, columns: e.columns });
      prof = j.profiles;
      cols.push(...j.addedColumns);
      if (j.unmatched) warnings.push(`${j.unmatched} well(s) found no row in ${e.file} by ${e.profileKey} (kept unannotated; e.g. ${j.unmatchedKeys.slice(0, 3).join(', ')})`);
    }
    annotation = { matched, unmatched, columns: cols };
    await writeProfiles(abs(f.annotated!), prof);
  }
  let normalization: PlateStep['normalization'];
  if (cfg.normalize) {
    const steps = new CollectingReporter();
    const n = normalize(prof, {
      method: cfg.normalize.method as NormalizeMethod, samples: cfg.normalize.samples, madEpsilon: cfg.normalize.madEpsilon,
      inverseNormalQuantiles: cfg.normalize.inverseNormalQuantiles, reporter: steps,
    });
    warnings.push(...steps.warnings);
    prof = n.profiles;
    normalization = { referenceRows: n.report.strata[0]?.nReference ?? 0, featuresOut: n.report.featuresOut, droppedFeatures: n.report.droppedFeatures.length };
    for (const d of n.report.droppedFeatures.slice(0, 3)) warnings.push(`normalization dropped ${d.name}: ${d.reason}`);
    await writeProfiles(abs(f.normalized!), prof);
  }
  const spec = plan.stats.exact ? plan.stats.spec : { frequency: false, correlation: false, groups: null };
  const stats = featureStats(prof, { spec, samples: cfg.featureSelect?.samples ?? 'all', source: `plate ${p.plate}` });
  writeFileAtomic(abs(f.stats), encodeFeatureStats(stats));
  const out = (rel: string) => join(outputRoot, rel);
  const files: Record<string, string> = { aggregated: out(f.aggregated) };
  if (f.annotated) files.annotated = out(f.annotated);
  if (f.normalized) files.normalized = out(f.normalized);
  const record: PlateRecord = {
    step: { plate: p.plate, source: p.source, wells: prof.X.rows, cells, cellsPerWell, annotation, normalization, files },
    sourceReport,
    features: prof.features.length,
    warnings: warnings.map((w) => `plate ${p.plate}: ${w}`),
    seconds: (performance.now() - t0) / 1000,
    finished: new Date().toISOString(),
  };
  writeFileAtomic(abs(f.report), JSON.stringify(record, null, 2));
  return record;
}

/** Merge partial statistics files (one node of the merge tree). */
export function mergeStatsStep(plan: WorkflowPlan, root: string, inputs: readonly string[], out: string): void {
  const parts = inputs.map((f) => decodeFeatureStats(readFileSync(resolve(root, f)), f));
  let merged;
  try {
    merged = mergeFeatureStats(parts, { featureJoin: plan.config.featureJoin });
  } catch (e) {
    if (isUserError(e) && /different features/.test((e as Error).message) && plan.config.featureJoin === 'same') {
      throw new InputError(`${(e as Error).message}; plates profiled together must measure the same features, or set featureJoin: intersection`);
    }
    throw e;
  }
  writeFileAtomic(resolve(root, out), encodeFeatureStats(merged));
}

/**
 * The last merge of the partial statistics (written to `merged`), then feature selection from
 * them — with frequency_threshold's value counts read from every plate's partial (the plan's
 * plates/<id>/<id>_stats.bin) — or, where that is not exact, from every plate's table (`inputs`
 * are then the tables).
 */
export async function selectStep(plan: WorkflowPlan, root: string, inputs: readonly string[], out: string, merged?: string): Promise<Selection> {
  const cfg = plan.config;
  const opts = fsOptions(cfg);
  let sel: Selection;
  if (plan.stats.exact) {
    if (!merged) throw new UsageError('select: name the merged statistics file (--merged)');
    mergeStatsStep(plan, root, inputs, merged);
    const S = decodeFeatureStats(readFileSync(resolve(root, merged)), merged);
    // frequency_threshold: the plates' value counts, reduced feature block by feature block.
    const freq = plan.stats.spec.frequency ? frequencyCountsFromFiles(plan.plates.map((p) => resolve(root, plateFiles(cfg, p).stats)), S.features) : undefined;
    const report = opts ? selectFromFeatureStats(S, opts, freq) : null;
    sel = { features: report?.keptFeatures ?? S.features, featureSelect: report, joinDropped: S.joinDropped ?? [], mode: 'partial statistics', rows: S.n };
  } else {
    const all = await readProfileTables(inputs.map((f) => resolve(root, f)), { metadata: ['Metadata_*'], featureJoin: cfg.featureJoin });
    const r = featureSelect(all.profiles, { ...opts!, samples: cfg.featureSelect!.samples, inPlace: true });
    const joinDropped = all.report.droppedFeatures.filter((d) => /not in every table/.test(d.reason)).map((d) => ({ name: d.name, missingFrom: d.reason }));
    sel = { features: r.report.keptFeatures, featureSelect: r.report, joinDropped, mode: 'all well profiles', reason: plan.stats.reason, rows: r.report.nSamples };
  }
  writeFileAtomic(resolve(root, out), JSON.stringify(sel, null, 2));
  return sel;
}

function readSelection(path: string): Selection {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Selection;
  } catch (e) {
    throw new InputError(`${path}: cannot read the feature selection (${(e as Error).message.split('\n')[0]})`);
  }
}

/** Keep `features` (in that order) of a table; every one must be present. */
function keepFeatures(p: Profiles, features: readonly string[], where: string): Profiles {
  const pos = new Map(p.features.map((f, j) => [f, j]));
  const idx = features.map((f) => {
    const j = pos.get(f);
    if (j === undefined) throw new InputError(`${where}: has no feature ${f}, which the selection keeps`);
    return j;
  });
  if (idx.length === p.features.length && idx.every((j, c) => j === c)) return p;
  return withFeatures(p, takeCols(p.X, idx), [...features]);
}

async function readTableFile(path: string): Promise<Profiles> {
  return (await readProfiles(path, { metadata: ['Metadata_*'] })).profiles as Profiles;
}

/** One plate's profiles with the selected features: its partition of the profiles dataset. */
export async function applyStep(root: string, table: string, selection: string, out: string): Promise<{ rows: number; features: number }> {
  const sel = readSelection(resolve(root, selection));
  const p = keepFeatures(await readTableFile(resolve(root, table)), sel.features, table);
  await writeProfiles(resolve(root, out), p);
  return { rows: p.X.rows, features: p.features.length };
}

/**
 * The batch correction of the selected profiles: fitted on every plate's wells at once (the
 * profiles are small beside the cells), each plate's rows then written to its partition of
 * corrected/, with the fitted model and a record (before / after metrics when configured).
 */
export async function correctStep(plan: WorkflowPlan, root: string, inputs: readonly string[], out: string, outputRoot = plan.config.output): Promise<CorrectionRecord> {
  const c = plan.config.correct;
  if (!c) throw new InputError('the config has no correct section');
  const expected = plan.plates.map(profileFile);
  if (inputs.length !== expected.length || inputs.some((f, i) => resolve(root, f) !== resolve(root, expected[i]!))) {
    throw new InputError(`the correct job reads every plate's profiles in the plan's order (${expected.slice(0, 3).join(', ')}${expected.length > 3 ? ', …' : ''}), got ${inputs.slice(0, 3).join(', ')}${inputs.length > 3 ? ', …' : ''}`);
  }
  // Each table alone first: its row count places its rows in the stacked table.
  const all = await readProfileTables(inputs.map((f) => resolve(root, f)), { metadata: ['Metadata_*'] });
  const profiles = all.profiles as Profiles;
  const batchCol = c.batchColumn ?? plan.config.cells.plateColumn;
  let isControl: Uint8Array | undefined;
  if (c.controls) {
    isControl = new Uint8Array(profiles.X.rows);
    for (const i of queryRows(profiles, c.controls)) isControl[i] = 1;
  }
  const r = correctProfiles(profiles, { method: c.method as CorrectionName, batchCol, controls: isControl, options: c.options });
  const corrected: string[] = [];
  let r0 = 0;
  for (const [k, p] of plan.plates.entries()) {
    const rows = all.tables[k]!.rows;
    const part = subsetRows(r.profiles, Int32Array.from({ length: rows }, (_, i) => r0 + i));
    r0 += rows;
    await writeProfiles(resolve(root, correctedFile(p)), part);
    corrected.push(join(outputRoot, correctedFile(p)));
  }
  if (r0 !== r.profiles.X.rows) throw new Error(`correct: ${r0} rows in the tables, ${r.profiles.X.rows} corrected`);
  const model = saveModel(resolve(root, CORRECTION_FILES.model), r.model).map((f) => join(outputRoot, f.slice(resolve(root).length + 1)));
  let metrics: BatchMetricsFile | null = null;
  let metricsError: string | undefined;
  if (c.labelColumn && c.compoundColumn) {
    try {
      metrics = judgeBeforeAfter(profiles, r.profiles, { method: c.method, batchCol, labelCol: c.labelColumn, groupCol: c.compoundColumn, isControl, seed: 0 });
    } catch (e) {
      if (!isUserError(e)) throw e;
      metricsError = (e as Error).message;
    }
  }
  const rec: CorrectionRecord = {
    report: r.report, controls: isControl ? isControl.reduce((a, v) => a + v, 0) : null, metrics, ...(metricsError ? { metricsError } : {}),
    files: { corrected, model },
  };
  writeFileAtomic(resolve(root, out), JSON.stringify(rec, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
  return rec;
}

/** Consensus profiles over every plate's selected (or corrected) profiles. */
export async function consensusStep(plan: WorkflowPlan, root: string, inputs: readonly string[], out: string, outputRoot = plan.config.output): Promise<ConsensusRecord> {
  const c = plan.config.consensus;
  if (!c) throw new InputError('the config has no consensus section');
  const all = await readProfileTables(inputs.map((f) => resolve(root, f)), { metadata: ['Metadata_*'] });
  const r = consensus(all.profiles as Profiles, { strata: c.strata, method: c.method });
  await writeProfiles(resolve(root, out), r.profiles);
  const rec: ConsensusRecord = { method: r.report.method, strata: r.report.strata, nRowsIn: r.report.nRowsIn, nGroups: r.report.nGroups, file: join(outputRoot, out), warnings: r.report.warnings };
  writeFileAtomic(resolve(root, CONSENSUS_FILES.report), JSON.stringify(rec, null, 2));
  return rec;
}

/** The table the cluster steps work on: rows with a missing or infinite feature are left out (counted). */
async function clusterTable(root: string, tables: readonly string[]): Promise<{ profiles: Profiles; dropped: number }> {
  const all = (await readProfileTables(tables.map((f) => resolve(root, f)), { metadata: ['Metadata_*'] })).profiles as Profiles;
  const { rows: n, cols: d, data } = all.X;
  const keep: number[] = [];
  for (let i = 0; i < n; i++) {
    let ok = true;
    for (let j = 0; j < d && ok; j++) ok = Number.isFinite(data[i * d + j]!);
    if (ok) keep.push(i);
  }
  return { profiles: keep.length === n ? all : subsetRows(all, keep), dropped: n - keep.length };
}

function knnMethod(cfg: NonNullable<ProfileConfig['cluster']>, n: number): KnnShardMethod {
  return cfg.knn === 'auto' ? (n <= 20000 ? 'exact' : 'hnsw') : cfg.knn;
}

/** One k-NN shard: every profile's k nearest among the shard's rows. */
export async function knnShardStep(plan: WorkflowPlan, root: string, tables: readonly string[], shard: number, out: string): Promise<void> {
  const c = plan.config.cluster;
  if (!c || !plan.cluster) throw new InputError('the config has no cluster section');
  const { profiles } = await clusterTable(root, tables);
  const r = knnShard(profiles.X, c.k, shard, plan.cluster.shards, {
    method: knnMethod(c, profiles.X.rows), hnsw: { m: c.hnsw.m, efConstruction: c.hnsw.efConstruction, efSearch: c.hnsw.efSearch, seed: c.seed },
  });
  writeKnnShard(resolve(root, out), r);
}

/** One block of rows of the k-NN graph: the k best over every shard's candidates. */
export function knnMergeStep(plan: WorkflowPlan, root: string, shards: readonly string[], block: number, out: string): void {
  if (!plan.cluster) throw new InputError('the config has no cluster section');
  const paths = shards.map((s) => resolve(root, s));
  const [from, to] = shardRange(knnShardHeader(paths[0]!).n, plan.cluster.shards, block);
  writeKnnBlock(resolve(root, out), mergeKnnShardFiles(paths, from, to));
}

function writeCsvAtomic(path: string, header: string[], rows: string[][]): void {
  const lines = [header.map((h) => quoteField(h, ',')).join(','), ...rows.map((r) => r.map((v) => quoteField(v, ',')).join(','))];
  writeFileAtomic(path, lines.join('\n') + '\n');
}

/** Cluster the k-NN graph (sparse affinity propagation or Louvain) and test label enrichment. */
export async function clusterStep(plan: WorkflowPlan, root: string, graphs: readonly string[], tables: readonly string[], out: string, outputRoot = plan.config.output): Promise<ClusterRecord> {
  const c = plan.config.cluster;
  if (!c || !plan.cluster) throw new InputError('the config has no cluster section');
  const { profiles, dropped } = await clusterTable(root, tables);
  const G = readKnnGraph(graphs.map((g) => resolve(root, g)));
  if (G.n !== profiles.X.rows) throw new InputError(`the k-NN graph has ${G.n} rows but the tables ${tables.join(', ')} have ${profiles.X.rows}; rerun the k-NN jobs`);
  const warnings: string[] = [];
  if (dropped) warnings.push(`${dropped} profile(s) with a missing or infinite feature value were left out of the clustering`);
  const method = knnMethod(c, G.n);
  const knn: ClusterRecord['knn'] = { k: G.k, method, shards: plan.cluster.shards, edges: G.indices.length };
  if (method === 'hnsw') {
    const sample = Math.min(200, G.n);
    knn.recall = sampledRecall(profiles.X, G, sample, c.seed);
    knn.recallSample = sample;
  }
  let labels: Int32Array, exemplars: Int32Array;
  let rec: Pick<ClusterRecord, 'sparseAp' | 'louvain'>;
  if (c.method === 'sparse-ap') {
    const preference = sampledSimilarityMedian(profiles.X, c.preferencePairs, c.seed);
    const ap = sparseAffinityPropagationWithRetry(knnToSimilarity(G), {
      preference, damping: c.damping, maxIter: c.maxIter, convergenceIter: c.convergenceIter, convergenceTolerance: c.convergenceTolerance, noise: { seed: c.seed },
    });
    labels = ap.labels;
    exemplars = ap.exemplars;
    warnings.push(...ap.warnings);
    rec = { sparseAp: { preference: ap.preference, converged: ap.converged, nIter: ap.nIter, damping: ap.damping, unstable: ap.unstable } };
  } else {
    const g = knnAffinityGraph(G);
    const r = louvain(g, { resolution: c.resolution, seed: c.seed });
    ({ labels, exemplars } = withRepresentatives(g, r.labels));
    rec = { louvain: { resolution: c.resolution, modularity: r.modularity, levels: r.levels } };
  }
  const files: Record<string, string> = { clusters: join(outputRoot, out), report: join(outputRoot, CLUSTER_FILES.report) };
  let enrichment: ClusterRecord['enrichment'];
  if (c.labelColumn) {
    const lab = metaStrings(profiles, c.labelColumn);
    const e = moaEnrichment(labels, lab, { minMoa: c.minLabel, alpha: c.alpha });
    warnings.push(...e.warnings);
    enrichment = { labelColumn: c.labelColumn, labelled: e.nLabelled, labelsTested: e.nMoasTested, enrichedClusters: e.enrichedClusters.length, ratio: e.enrichmentRatio, significantPairs: e.nSignificantPairs };
    writeCsvAtomic(resolve(root, CLUSTER_FILES.enrichment), ['cluster', 'label', 'k', 'n', 'K', 'N', 'p', 'q', 'significant'],
      e.rows.map((r) => [String(r.cluster), r.moa, String(r.k), String(r.n), String(r.K), String(r.N), formatNumber(r.p), formatNumber(r.q), String(r.significant)]));
    files.enrichment = join(outputRoot, CLUSTER_FILES.enrichment);
  }
  const isExemplar = new Uint8Array(G.n);
  for (const e of exemplars) isExemplar[e] = 1;
  const metaNames = profiles.meta.map((m) => m.name);
  writeCsvAtomic(resolve(root, out), [...metaNames, 'Metadata_Cluster', 'Metadata_Exemplar'],
    Array.from({ length: G.n }, (_, i) => [...profiles.meta.map((m) => cellString(m, i) ?? ''), String(labels[i]), isExemplar[i] ? '1' : '0']));
  const record: ClusterRecord = {
    table: plan.cluster.table, rows: G.n, droppedRows: dropped, method: c.method, knn, clusters: exemplars.length, ...rec, enrichment, files, warnings,
  };
  writeFileAtomic(resolve(root, CLUSTER_FILES.report), JSON.stringify(record, null, 2));
  return record;
}

export interface ProfileRunReport {
  readonly output: string;
  readonly sources: SourceReport[];
  readonly plates: PlateStep[];
  readonly featureSelect: FeatureSelectReport | null;
  readonly selection: Pick<Selection, 'mode' | 'reason' | 'joinDropped' | 'rows'>;
  readonly profiles: { rows: number; features: number; dataset: string; files: string[] };
  readonly correction: CorrectionRecord | null;
  readonly consensus: Pick<ConsensusRecord, 'method' | 'strata' | 'nRowsIn' | 'nGroups' | 'file'> | null;
  readonly cluster: ClusterRecord | null;
  readonly warnings: string[];
  /** Wall time: this process for `profile`; first plate job start to the report for a workflow. */
  readonly seconds: number;
}

function readJson<T>(path: string, what: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new InputError(`${path}: cannot read the ${what} (${(e as Error).message.split('\n')[0]})`);
  }
}

/** The run's report from the jobs' records. */
export async function reportStep(plan: WorkflowPlan, root: string, out: string, opts: { seconds?: number; outputRoot?: string } = {}): Promise<ProfileRunReport> {
  const cfg = plan.config;
  const outputRoot = opts.outputRoot ?? cfg.output;
  const records = plan.plates.map((p) => readJson<PlateRecord>(resolve(root, plateFiles(cfg, p).report), `report of plate ${p.plate}`));
  const sel = readJson<Selection>(resolve(root, SELECTION_FILE), 'feature selection');
  const corr = cfg.correct ? readJson<CorrectionRecord>(resolve(root, CORRECTION_FILES.report), 'batch correction record') : null;
  const cons = cfg.consensus ? readJson<ConsensusRecord>(resolve(root, CONSENSUS_FILES.report), 'consensus report') : null;
  const clus = plan.cluster ? readJson<ClusterRecord>(resolve(root, CLUSTER_FILES.report), 'cluster report') : null;
  const warnings = [
    ...records.flatMap((r) => r.warnings),
    ...(sel.joinDropped.length ? [`${sel.joinDropped.length} feature(s) are not measured on every plate and were left out (featureJoin: intersection), e.g. ${sel.joinDropped.slice(0, 3).map((d) => d.name).join(', ')}`] : []),
    ...(sel.featureSelect?.warnings ?? []),
    ...(corr?.report.notes.filter((n) => /NOT converged|did not converge|unadjusted/.test(n)) ?? []),
    ...(corr?.metricsError ? [`batch metrics not computed: ${corr.metricsError}`] : []),
    ...(cons?.warnings ?? []),
    ...(clus?.warnings ?? []),
  ];
  const started = Math.min(...records.map((r) => Date.parse(r.finished) - r.seconds * 1000));
  const report: ProfileRunReport = {
    output: outputRoot,
    sources: records.map((r) => r.sourceReport),
    plates: records.map((r) => r.step),
    featureSelect: sel.featureSelect,
    selection: { mode: sel.mode, reason: sel.reason, joinDropped: sel.joinDropped, rows: sel.rows },
    profiles: {
      rows: records.reduce((a, r) => a + r.step.wells, 0),
      features: sel.features.length,
      dataset: join(outputRoot, 'profiles'),
      files: plan.plates.map((p) => join(outputRoot, profileFile(p))),
    },
    correction: corr,
    consensus: cons && { method: cons.method, strata: cons.strata, nRowsIn: cons.nRowsIn, nGroups: cons.nGroups, file: cons.file },
    cluster: clus,
    warnings,
    seconds: opts.seconds ?? (Date.now() - started) / 1000,
  };
  writeFileAtomic(resolve(root, out), JSON.stringify({ ...report, config: cfg }, null, 2));
  await writeProfilePage(resolve(root, out.replace(/\.json$/, '') + '.html'), {
    title: `phenomap profile: ${report.plates.length} plate(s)`,
    plates: report.plates.map((p) => ({
      plate: p.plate, source: p.source, wells: p.wells, cells: p.cells,
      annotated: p.annotation ? `${p.annotation.matched} of ${p.annotation.matched + p.annotation.unmatched}` : undefined,
      reference: p.normalization?.referenceRows,
    })),
    cellsPerWell: report.plates.map((p) => ({ plate: p.plate, cells: p.cellsPerWell })),
    featureSelection: report.featureSelect?.operations ?? null,
    features: report.featureSelect ? { in: report.featureSelect.featuresIn, out: report.featureSelect.kept } : null,
    outputs: [
      { what: 'profiles (partitioned by plate)', path: report.profiles.dataset },
      ...(corr ? [{ what: `${corr.report.method}-corrected profiles (per ${corr.report.batchCol})`, path: join(outputRoot, 'corrected') }, { what: 'batch correction: model, record, before / after metrics', path: join(outputRoot, CORRECTION_FILES.report) }] : []),
      ...(report.consensus ? [{ what: 'consensus', path: report.consensus.file }] : []),
      ...(report.cluster ? [{ what: 'clusters', path: join(outputRoot, CLUSTER_FILES.clusters) }] : []),
      { what: 'per-plate tables', path: join(outputRoot, 'plates') },
      { what: 'report (JSON)', path: join(outputRoot, out) },
    ],
    warnings: report.warnings,
  });
  return report;
}

export { PLAN_FILE, REPORT_FILE };
