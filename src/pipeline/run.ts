/**
 * `phenomap run`: read a profile table, optionally correct batch effects (src/batch), run the
 * study's workflow, write the outputs.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { readProfileTables, type ReadManyOptions } from '../io/readMany.js';
import type { Profiles } from '../io/profiles.js';
import { prestartThreads, type StoredMatrix } from '../linalg/index.js';
import { type Reporter, silentReporter } from '../util/log.js';
import { analyse, type AnalysisResult } from './analyse.js';
import { writeRunOutputs, type RunSummary } from './outputs.js';
import { StageClock } from './stageClock.js';
import type { RunParameters } from './params.js';
import { correctProfiles, type CorrectionResult } from '../batch/profiles.js';
import type { CorrectionName } from '../batch/registry.js';
import { saveModel } from '../batch/persist.js';
import { queryRows } from '../preprocess/query.js';
import { writeProfiles } from '../io/write.js';
import { UsageError } from '../util/errors.js';

/** A batch correction before the workflow (the table's features are replaced by the corrected ones). */
export interface RunCorrection {
  method: CorrectionName;
  batchCol: string;
  /** Negative-control rows as a metadata query, e.g. "Metadata_compound == DMSO" (sphering needs it). */
  controls?: string;
  options?: Record<string, unknown>;
}

export interface RunWorkflowOptions {
  read?: ReadManyOptions;
  reporter?: Reporter;
  saveDistances?: boolean;
  correct?: RunCorrection;
  /** communities.gct is written up to this many values (profiles × features; default 20 M). */
  gctMaxValues?: number;
}

export interface RunWorkflowResult {
  summary: RunSummary;
  analysis: AnalysisResult;
  /** With `correct`: the table before correction and the correction (corrected table, model, report). */
  correction?: { uncorrected: Profiles<StoredMatrix>; result: CorrectionResult };
}

/** Files a corrected run writes besides the usual ones. */
export const CORRECTED_PROFILES = 'corrected.parquet';
export const BATCH_MODEL = 'batch_model.json';

/**
 * Run on a file — or several, stacked (files, globs, a partitioned dataset's folder) — or on
 * already loaded profiles, and write everything into outDir. A table read here is z-scored in its
 * own storage (held once); profiles passed in are left untouched.
 */
export async function runWorkflow(
  input: string | readonly string[] | Profiles<StoredMatrix>, outDir: string, params: RunParameters, opts: RunWorkflowOptions = {},
): Promise<RunWorkflowResult> {
  const reporter = opts.reporter ?? silentReporter;
  const t0 = performance.now();
  let profiles: Profiles<StoredMatrix>;
  let file: string[] | null = null;
  const clock = new StageClock();
  if (typeof input === 'string' || Array.isArray(input)) {
    const inputs: readonly string[] = typeof input === 'string' ? [input] : input;
    prestartThreads(); // the kernel workers boot while the file is read
    const r = await clock.timeAsync('load', () => readProfileTables(inputs, { ...opts.read, reporter }));
    // An input inside the output folder (demo's joined table) is recorded relative to it: the
    // folder is written under another name and renamed into place.
    file = r.tables.map((t) => {
      const abs = resolve(t.file), rel = relative(resolve(outDir), abs);
      return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
    });
    profiles = r.profiles;
    reporter.info(`read ${r.report.rows} rows × ${r.report.features} features (${r.report.metadataColumns.length} metadata columns) from ${r.report.file}`);
    for (const d of r.report.droppedFeatures) reporter.warn(`feature ${d.name} dropped at ingest: ${d.reason}`);
  } else {
    profiles = input as Profiles<StoredMatrix>;
  }
  let correction: RunWorkflowResult['correction'];
  let owned = file !== null;
  if (opts.correct) {
    const c = opts.correct;
    const controls = c.controls ? queryRows(profiles as Profiles, c.controls) : undefined;
    if (!controls && c.method === 'sphere') throw new UsageError('--correct sphere needs --controls <query> (e.g. "Metadata_compound == DMSO")');
    let flags: Uint8Array | undefined;
    if (controls) {
      flags = new Uint8Array(profiles.X.rows);
      for (const i of controls) flags[i] = 1;
    }
    const result = clock.time('batch', () => correctProfiles(profiles, { method: c.method, batchCol: c.batchCol, controls: flags, options: c.options, reporter }));
    reporter.info(`batch correction ${c.method} on ${c.batchCol}: ${result.report.batches.length} batches, ${result.report.seconds.toFixed(2)} s`);
    await writeProfiles(join(outDir, CORRECTED_PROFILES), result.profiles);
    saveModel(join(outDir, BATCH_MODEL), result.model);
    correction = { uncorrected: profiles, result };
    profiles = result.profiles;
    // The corrected table is ours: the workflow may z-score it in place; the input stays intact.
    owned = true;
  }
  const analysis = analyse(profiles, params, { reporter, keepSimilarity: !!opts.saveDistances, consumeInput: owned, clock });
  const summary = await writeRunOutputs(outDir, analysis, file, {
    saveDistances: opts.saveDistances,
    startedAt: t0,
    gctMaxValues: opts.gctMaxValues,
    batchCorrection: correction && { ...correction.result.report, files: [CORRECTED_PROFILES, BATCH_MODEL] },
  });
  summary.timings.total = (performance.now() - t0) / 1000;
  return { summary, analysis, correction };
}

/** The study's comparison table, one line per representation. */
export function formatComparisonTable(summary: RunSummary): string {
  const head = ['representation', 'dim', 'clusters', 'enriched', 'ratio', 'AP iter', 'converged', 'clustering'];
  const rows: string[][] = [];
  for (const [name, r] of Object.entries(summary.representations)) {
    if (!r) continue;
    rows.push([
      name, String(r.dim), String(r.clusters), String(r.enrichedClusters), r.enrichmentRatio.toFixed(4),
      String(r.apIterations), r.apConverged ? (r.apDamping !== 0.5 ? `yes (damping ${r.apDamping})` : 'yes') : 'NO',
      r.clustering ? (r.clustering.knn ? `${r.clustering.method} (${r.clustering.knn.k}-NN ${r.clustering.knn.method})` : r.clustering.method) : 'dense',
    ]);
  }
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const fmt = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}
