/**
 * The plan of a profiling run as jobs: which plates there are (found by opening each source's
 * image table once), and the list of jobs — each one `phenomap workflow <step>` command with
 * explicit input and output files, relative to the run folder:
 *
 *   plate        per plate: single cells → aggregated → annotated → normalised tables, and the
 *                plate's partial feature statistics (plates/<id>/…)
 *   merge_stats  partial statistics merged, `mergeFanIn` at a time, up a tree (only above
 *                mergeFanIn plates: the last merge is the select job's own first step)
 *   select       the last merge (→ stats/all.stats), then feature selection → selection.json
 *   apply        per plate: the selected features → profiles/<plateColumn>=<plate>/profiles.parquet
 *   correct      (with a correct section) the batch correction fitted on every plate's profiles →
 *                corrected/<plateColumn>=<plate>/profiles.parquet, batch_model.json, batch_correction.json;
 *                the steps below then read the corrected profiles
 *   consensus    replicate wells → consensus.parquet
 *   knn_shard    per shard: every profile's k nearest among the shard's rows → knn/shard_<s>.knn
 *   knn_merge    per block of rows: the k best over the shards → knn/graph_<b>.knn
 *   cluster      sparse affinity propagation or Louvain on the graph, enrichment → clusters.csv
 *   report       profile_report.json
 *
 * `phenomap profile` runs these jobs in this order in one process; `phenomap workflow` writes
 * them as Snakemake rules. Both call the same step functions (steps.ts) on the same files, so
 * the two answers are the same bits.
 */
import { basename, join } from 'node:path';
import { planSources, resolveSourceOptions, withSource, type ResolvedSourceOptions } from '../cells/sources.js';
import type { LayoutName } from '../cells/layouts.js';
import { resolveFeatureSelectOptions, type FeatureSelectOperation } from '../preprocess/featureSelect.js';
import { featureStatsSpec, type FeatureStatsSpec } from '../preprocess/featureStats.js';
import type { CorrelationMethod } from '../preprocess/correlation.js';
import { InputError, isUserError } from '../util/errors.js';
import type { ProfileConfig } from './config.js';

export interface PlatePlan {
  /** The plate, as cells.plateColumn holds it. */
  readonly plate: string;
  /** Its folder name under plates/ (path separators and the like → '_'). */
  readonly id: string;
  /** Its partition folder under profiles/ (`<plateColumn>=<plate, URI-encoded>`). */
  readonly partition: string;
  /** The source, as planSources labels it, and the paths that plan it again. */
  readonly source: string;
  readonly paths: string[];
  /** The source holds other plates too (the plate job then aggregates only this plate's wells). */
  readonly shared: boolean;
  /**
   * The source could not be read when planning (this message): the plate is named after the
   * file, and its job will fail with the reader's message while the other plates run.
   */
  readonly unreadable?: string;
}

export interface MergeNode {
  readonly id: string;
  /** Partial statistics files (relative to the run folder). */
  readonly inputs: string[];
  readonly output: string;
}

export type RuleName = 'plate' | 'merge_stats' | 'select' | 'apply' | 'correct' | 'consensus' | 'knn_shard' | 'knn_merge' | 'cluster' | 'report';
export const RULES: readonly RuleName[] = ['plate', 'merge_stats', 'select', 'apply', 'correct', 'consensus', 'knn_shard', 'knn_merge', 'cluster', 'report'];

export interface WorkflowPlan {
  readonly version: 1;
  /** The checked config (absolute paths). */
  readonly config: ProfileConfig;
  readonly plates: PlatePlan[];
  /** Partial statistics the plate jobs compute, or why feature selection reads the tables instead. */
  readonly stats: { readonly exact: true; readonly spec: FeatureStatsSpec } | { readonly exact: false; readonly reason: string };
  /** Merge jobs below the root (none up to mergeFanIn plates). */
  readonly merge: MergeNode[];
  /** What the select job merges first: the plates' partials, or the top merge jobs' outputs. */
  readonly mergeRoot: string[];
  readonly cluster: { readonly table: 'consensus' | 'profiles'; readonly shards: number } | null;
}

export interface Job {
  readonly rule: RuleName;
  /** Unique within the plan: `<rule>` or `<rule>/<wildcard>`. */
  readonly id: string;
  readonly inputs: string[];
  readonly outputs: string[];
  /** The phenomap arguments (after the command), paths relative to the run folder. */
  readonly args: string[];
}

/** A plate name as a folder name: path separators and the like become '_'. */
export function plateFolderName(plate: string): string {
  return plate.replace(/[/\\:*?"<>|\s]+/g, '_') || '_';
}

export function sourceOptions(config: ProfileConfig): ResolvedSourceOptions {
  return resolveSourceOptions({
    layout: config.cells.layout === 'auto' ? undefined : (config.cells.layout as LayoutName),
    compartments: config.cells.compartments,
    strata: config.cells.strata,
  });
}

/** The plate values of a source's wells, in well order. */
function platesOf(keys: readonly (readonly (string | number | null)[])[], at: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const k of keys) {
    const v = k[at] === null || k[at] === undefined ? '(missing)' : String(k[at]);
    if (!seen.has(v)) (seen.add(v), out.push(v));
  }
  return out;
}

/** Every plate of the config's sources (opening each source's image table once). */
export async function discoverPlates(config: ProfileConfig): Promise<PlatePlan[]> {
  const so = sourceOptions(config);
  const plateCol = config.cells.plateColumn;
  const at = so.strata.indexOf(plateCol);
  const out: PlatePlan[] = [];
  const where = new Map<string, string>();
  const ids = new Map<string, string>();
  const unreadable: string[] = [];
  for (const plan of planSources(config.sources, so)) {
    let plates: string[];
    let problem: string | undefined;
    try {
      plates = await withSource(plan, async (s) => platesOf(s.schema.wells.keys, at));
    } catch (e) {
      if (!isUserError(e)) throw e;
      // A damaged source must not stop the other plates: plan it under its file name; its job fails.
      problem = (e as Error).message;
      plates = [basename(plan.paths[0]!).replace(/\.(sqlite|db|parquet|pq)$/i, '')];
      unreadable.push(`${plan.label}: ${problem}`);
    }
    for (const plate of plates) {
      const prev = where.get(plate);
      if (prev !== undefined) throw new InputError(`plate ${plate} appears in both ${prev} and ${plan.label}; each plate must come from one source`);
      where.set(plate, plan.label);
      const id = plateFolderName(plate);
      if (ids.has(id)) throw new InputError(`plates ${ids.get(id)} and ${plate} would share the folder plates/${id}; rename one of them`);
      ids.set(id, plate);
      out.push({
        plate, id, partition: `${plateCol}=${encodeURIComponent(plate)}`, source: plan.label, paths: [...plan.paths], shared: plates.length > 1,
        ...(problem ? { unreadable: problem } : {}),
      });
    }
  }
  if (config.plates) {
    const readable = out.filter((p) => !p.unreadable);
    const missing = config.plates.filter((p) => !readable.some((q) => q.plate === p));
    if (missing.length) {
      throw new InputError(
        `the config names plate${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which no source holds ` +
          `(the sources hold ${readable.length} plate(s): ${readable.slice(0, 8).map((p) => p.plate).join(', ')}${readable.length > 8 ? ', …' : ''}` +
          `${unreadable.length ? `; ${unreadable.length} source(s) could not be read: ${unreadable.join('; ')}` : ''})`,
      );
    }
    const want = new Set(config.plates);
    return out.filter((p) => want.has(p.plate));
  }
  if (!out.length) throw new InputError(`${config.sources.join(', ')}: no plate found`);
  return out;
}

/** What the plate jobs compute for feature selection. */
export function statsPlan(config: ProfileConfig): WorkflowPlan['stats'] {
  const f = config.featureSelect;
  if (!f) return { exact: true, spec: { frequency: false, correlation: false, groups: null } };
  const o = resolveFeatureSelectOptions({
    operations: f.operations as FeatureSelectOperation[], naCutoff: f.naCutoff, freqCut: f.freqCut, uniqueCut: f.uniqueCut, minVariance: f.minVariance,
    corrThreshold: f.corrThreshold, corrMethod: f.corrMethod as CorrelationMethod | undefined, outlierCutoff: f.outlierCutoff,
    noiseRemovalPerturbGroups: f.noiseRemovalPerturbGroups, noiseRemovalStdevCutoff: f.noiseRemovalStdevCutoff,
    blocklist: f.operations.includes('blocklist') ? [] : undefined,
  });
  return featureStatsSpec(o);
}

/**
 * The merge tree: leaves are the plates' partials, at most `fanIn` inputs per node; the last
 * node (id 'all', output stats/all.stats) is the root, which the select job merges itself.
 */
export function mergeTree(leaves: readonly string[], fanIn: number): MergeNode[] {
  const nodes: MergeNode[] = [];
  let level = [...leaves];
  let depth = 1;
  while (level.length > fanIn) {
    const next: string[] = [];
    for (let i = 0, g = 0; i < level.length; i += fanIn, g++) {
      const id = `m${depth}_${g}`;
      const output = `stats/${id}.stats`;
      nodes.push({ id, inputs: level.slice(i, i + fanIn), output });
      next.push(output);
    }
    level = next;
    depth++;
  }
  nodes.push({ id: 'all', inputs: level, output: 'stats/all.stats' });
  return nodes;
}

export function buildPlan(config: ProfileConfig, plates: PlatePlan[]): WorkflowPlan {
  const stats = statsPlan(config);
  const leaves = plates.map((p) => plateFiles(config, p).stats);
  const c = config.cluster;
  const tree = stats.exact ? mergeTree(leaves, config.workflow.mergeFanIn) : [];
  return {
    version: 1,
    config,
    plates,
    stats,
    merge: tree.slice(0, -1),
    mergeRoot: tree.length ? tree[tree.length - 1]!.inputs : [],
    cluster: c ? { table: c.on ?? (config.consensus ? 'consensus' : 'profiles'), shards: c.shards } : null,
  };
}

/** A plate job's output files (relative to the run folder). */
export function plateFiles(config: ProfileConfig, p: Pick<PlatePlan, 'id'>): { aggregated: string; annotated?: string; normalized?: string; stats: string; report: string; last: string } {
  const stem = join('plates', p.id, p.id);
  const f = {
    aggregated: `${stem}_aggregated.parquet`,
    annotated: config.annotate ? `${stem}_annotated.parquet` : undefined,
    normalized: config.normalize ? `${stem}_normalized.parquet` : undefined,
    stats: `${stem}_stats.bin`,
    report: `${stem}_plate.json`,
  };
  return { ...f, last: f.normalized ?? f.annotated ?? f.aggregated };
}

export function profileFile(p: Pick<PlatePlan, 'partition'>): string {
  return join('profiles', p.partition, 'profiles.parquet');
}

/** A plate's partition of the batch-corrected profiles (with a correct section). */
export function correctedFile(p: Pick<PlatePlan, 'partition'>): string {
  return join('corrected', p.partition, 'profiles.parquet');
}

/** The well profiles consensus and clustering read: the corrected ones when the config corrects. */
export function wellTables(plan: WorkflowPlan): string[] {
  return plan.plates.map(plan.config.correct ? correctedFile : profileFile);
}

export const SELECTION_FILE = 'selection.json';
export const CORRECTION_FILES = { model: 'batch_model.json', report: 'batch_correction.json' };
export const MERGED_STATS = 'stats/all.stats';
export const CONSENSUS_FILES = { table: 'consensus.parquet', report: 'consensus.json' };
export const CLUSTER_FILES = { clusters: 'clusters.csv', report: 'cluster_report.json', enrichment: 'enrichment.csv' };
export const REPORT_FILE = 'profile_report.json';
/** The offline page the report job writes beside REPORT_FILE. */
export const REPORT_PAGE = 'profile_report.html';
export const PLAN_FILE = 'plan.json';

export function knnShardFile(s: number): string {
  return `knn/shard_${s}.knn`;
}
export function knnBlockFile(b: number): string {
  return `knn/graph_${b}.knn`;
}

/** The table the cluster jobs read. */
export function clusterTables(plan: WorkflowPlan): string[] {
  return plan.cluster?.table === 'consensus' ? [CONSENSUS_FILES.table] : wellTables(plan);
}

/** Every job of the plan, in an order that runs (each job after the jobs making its inputs). */
export function planJobs(plan: WorkflowPlan): Job[] {
  const cfg = plan.config;
  const jobs: Job[] = [];
  const P = ['--plan', PLAN_FILE];
  for (const p of plan.plates) {
    const f = plateFiles(cfg, p);
    jobs.push({
      rule: 'plate', id: `plate/${p.id}`, inputs: [...p.paths],
      outputs: [f.aggregated, ...(f.annotated ? [f.annotated] : []), ...(f.normalized ? [f.normalized] : []), f.stats, f.report],
      args: ['workflow', 'plate', ...P, '--plate', p.id, '--out', join('plates', p.id)],
    });
  }
  for (const m of plan.merge) {
    jobs.push({ rule: 'merge_stats', id: `merge_stats/${m.id}`, inputs: m.inputs, outputs: [m.output], args: ['workflow', 'merge-stats', ...P, '--out', m.output, ...m.inputs] });
  }
  const selectInputs = plan.stats.exact ? plan.mergeRoot : plan.plates.map((p) => plateFiles(cfg, p).last);
  // frequency_threshold reads every plate's value counts too
  const leaves = plan.stats.exact && plan.stats.spec.frequency ? plan.plates.map((p) => plateFiles(cfg, p).stats).filter((f) => !selectInputs.includes(f)) : [];
  jobs.push({
    rule: 'select', id: 'select', inputs: [...selectInputs, ...leaves], outputs: plan.stats.exact ? [SELECTION_FILE, MERGED_STATS] : [SELECTION_FILE],
    args: ['workflow', 'select', ...P, '--out', SELECTION_FILE, ...(plan.stats.exact ? ['--merged', MERGED_STATS] : []), ...selectInputs],
  });
  for (const p of plan.plates) {
    const table = plateFiles(cfg, p).last;
    jobs.push({
      rule: 'apply', id: `apply/${p.id}`, inputs: [table, SELECTION_FILE], outputs: [profileFile(p)],
      args: ['workflow', 'apply', ...P, '--selection', SELECTION_FILE, '--out', profileFile(p), table],
    });
  }
  const selected = plan.plates.map(profileFile);
  if (cfg.correct) {
    jobs.push({
      rule: 'correct', id: 'correct', inputs: selected, outputs: [...plan.plates.map(correctedFile), CORRECTION_FILES.model, CORRECTION_FILES.report],
      args: ['workflow', 'correct', ...P, '--out', CORRECTION_FILES.report, ...selected],
    });
  }
  const profiles = wellTables(plan);
  if (cfg.consensus) {
    jobs.push({ rule: 'consensus', id: 'consensus', inputs: profiles, outputs: [CONSENSUS_FILES.table, CONSENSUS_FILES.report], args: ['workflow', 'consensus', ...P, '--out', CONSENSUS_FILES.table, ...profiles] });
  }
  if (plan.cluster) {
    const tables = clusterTables(plan);
    const S = plan.cluster.shards;
    for (let s = 0; s < S; s++) {
      jobs.push({ rule: 'knn_shard', id: `knn_shard/${s}`, inputs: tables, outputs: [knnShardFile(s)], args: ['workflow', 'knn-shard', ...P, '--shard', String(s), '--out', knnShardFile(s), ...tables] });
    }
    const shards = Array.from({ length: S }, (_, s) => knnShardFile(s));
    for (let b = 0; b < S; b++) {
      jobs.push({ rule: 'knn_merge', id: `knn_merge/${b}`, inputs: shards, outputs: [knnBlockFile(b)], args: ['workflow', 'knn-merge', ...P, '--block', String(b), '--out', knnBlockFile(b), ...shards] });
    }
    const blocks = Array.from({ length: S }, (_, b) => knnBlockFile(b));
    const outs = [CLUSTER_FILES.clusters, CLUSTER_FILES.report, ...(cfg.cluster?.labelColumn ? [CLUSTER_FILES.enrichment] : [])];
    jobs.push({ rule: 'cluster', id: 'cluster', inputs: [...blocks, ...tables], outputs: outs, args: ['workflow', 'cluster', ...P, '--out', CLUSTER_FILES.clusters, ...blocks.flatMap((b) => ['--graph', b]), ...tables] });
  }
  const reportInputs = [
    ...plan.plates.map((p) => plateFiles(cfg, p).report), SELECTION_FILE, ...profiles, ...(cfg.correct ? [CORRECTION_FILES.report] : []),
    ...(cfg.consensus ? [CONSENSUS_FILES.report] : []), ...(plan.cluster ? [CLUSTER_FILES.report] : []),
  ];
  jobs.push({ rule: 'report', id: 'report', inputs: reportInputs, outputs: [REPORT_FILE, REPORT_PAGE], args: ['workflow', 'report', ...P, '--out', REPORT_FILE] });
  return jobs;
}
