/**
 * `phenomap run`: read a profile table, run the study's workflow, write the outputs.
 */
import { resolve } from 'node:path';
import { readProfileTables, type ReadManyOptions } from '../io/readMany.js';
import type { Profiles } from '../io/profiles.js';
import { prestartThreads, type StoredMatrix } from '../linalg/index.js';
import { type Reporter, silentReporter } from '../util/log.js';
import { analyse, type AnalysisResult } from './analyse.js';
import { writeRunOutputs, type RunSummary } from './outputs.js';
import { StageClock } from './stageClock.js';
import type { RunParameters } from './params.js';

export interface RunWorkflowOptions {
  read?: ReadManyOptions;
  reporter?: Reporter;
  saveDistances?: boolean;
}

export interface RunWorkflowResult {
  summary: RunSummary;
  analysis: AnalysisResult;
}

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
    file = r.tables.map((t) => resolve(t.file));
    profiles = r.profiles;
    reporter.info(`read ${r.report.rows} rows × ${r.report.features} features (${r.report.metadataColumns.length} metadata columns) from ${r.report.file}`);
    for (const d of r.report.droppedFeatures) reporter.warn(`feature ${d.name} dropped at ingest: ${d.reason}`);
  } else {
    profiles = input as Profiles<StoredMatrix>;
  }
  const analysis = analyse(profiles, params, { reporter, keepSimilarity: !!opts.saveDistances, consumeInput: file !== null, clock });
  const summary = await writeRunOutputs(outDir, analysis, file, { saveDistances: opts.saveDistances });
  summary.timings.total = (performance.now() - t0) / 1000;
  return { summary, analysis };
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
