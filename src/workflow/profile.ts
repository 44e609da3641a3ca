/**
 * `phenomap profile CONFIG`: a whole profiling run on one machine, the cytomining profiling
 * recipe's order — per plate: single cells → well profiles (cells/) → plate-map and compound
 * annotation → normalisation against the plate's own reference rows, with the plate's partial
 * feature statistics; then across plates: the partials merged → feature selection → the selected
 * profiles as a Parquet dataset partitioned by plate (`profiles/<plateColumn>=<plate>/
 * profiles.parquet`) → (optionally) batch correction (`corrected/…`) → consensus → (optionally) a k-NN graph built in shards → clusters.
 *
 * It runs the jobs of the workflow plan (plan.ts) one after the other in this process, through
 * the same step functions (steps.ts) the Snakemake workflow's jobs call, so `profile` and the
 * workflow on a cluster give the same tables bit for bit. The run is staged in a sibling folder
 * and replaces `output` whole only when complete (src/util/outputDir.ts: locked, refused over an
 * existing non-empty folder unless `overwrite`), so an interrupted run leaves the previous output
 * (or nothing), never a mixture.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputDir } from '../util/outputDir.js';
import { silentReporter, type Reporter } from '../util/log.js';
import type { ProfileConfig } from './config.js';
import { buildPlan, discoverPlates, planJobs, PLAN_FILE, REPORT_FILE, type Job, type WorkflowPlan } from './plan.js';
import {
  applyStep, clusterStep, consensusStep, correctStep, knnMergeStep, knnShardStep, mergeStatsStep, plateStep, reportStep, selectStep, type ProfileRunReport,
} from './steps.js';

/** Run one job of the plan in this process (`root`: the run folder the job's paths are relative to). */
export async function runJob(plan: WorkflowPlan, root: string, job: Job, opts: { reporter?: Reporter; outputRoot?: string; seconds?: number } = {}): Promise<void> {
  const outputRoot = opts.outputRoot ?? plan.config.output;
  const wildcard = job.id.split('/')[1] ?? '';
  switch (job.rule) {
    case 'plate':
      await plateStep(plan, root, wildcard, { reporter: opts.reporter, outputRoot });
      return;
    case 'merge_stats':
      mergeStatsStep(plan, root, job.inputs, job.outputs[0]!);
      return;
    case 'select': {
      const merge = plan.stats.exact ? plan.mergeRoot : job.inputs;
      await selectStep(plan, root, merge, job.outputs[0]!, job.outputs[1]);
      return;
    }
    case 'apply':
      await applyStep(root, job.inputs[0]!, job.inputs[1]!, job.outputs[0]!);
      return;
    case 'correct':
      await correctStep(plan, root, job.inputs, job.outputs[job.outputs.length - 1]!, outputRoot);
      return;
    case 'consensus':
      await consensusStep(plan, root, job.inputs, job.outputs[0]!, outputRoot);
      return;
    case 'knn_shard':
      await knnShardStep(plan, root, job.inputs, Number(wildcard), job.outputs[0]!);
      return;
    case 'knn_merge':
      knnMergeStep(plan, root, job.inputs, Number(wildcard), job.outputs[0]!);
      return;
    case 'cluster': {
      const graphs = job.inputs.filter((f) => f.startsWith('knn/'));
      await clusterStep(plan, root, graphs, job.inputs.filter((f) => !graphs.includes(f)), job.outputs[0]!, outputRoot);
      return;
    }
    case 'report':
      await reportStep(plan, root, job.outputs[0]!, { outputRoot, seconds: opts.seconds });
      return;
  }
}

/** Plan the run: find the plates, lay out the jobs. */
export async function planProfile(config: ProfileConfig): Promise<WorkflowPlan> {
  return buildPlan(config, await discoverPlates(config));
}

export async function runProfile(config: ProfileConfig, opts: { reporter?: Reporter; overwrite?: boolean } = {}): Promise<ProfileRunReport> {
  const t0 = performance.now();
  const reporter = opts.reporter ?? silentReporter;
  const out = config.output;
  // The output is checked and claimed before any work.
  const od = OutputDir.open(out, { command: 'profile', overwrite: opts.overwrite, flag: '--output' });
  const staging = od.staging;
  try {
    const plan = await planProfile(config);
    writeFileSync(join(staging, PLAN_FILE), JSON.stringify(plan, null, 2));
    // The report job last, with this process's wall time.
    for (const job of planJobs(plan).filter((j) => j.rule !== 'report')) {
      if (job.rule !== 'plate') reporter.info(job.id.replace('/', ' '));
      await runJob(plan, staging, job, { reporter, outputRoot: out });
    }
    const report = await reportStep(plan, staging, REPORT_FILE, { outputRoot: out, seconds: (performance.now() - t0) / 1000 });
    for (const w of report.warnings) reporter.warn(w);
    od.commit();
    return report;
  } catch (e) {
    od.discard();
    throw e;
  }
}
