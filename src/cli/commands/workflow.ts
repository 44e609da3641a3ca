import type { Command } from 'commander';
import { dirname, resolve } from 'node:path';
import { loadProfileConfig } from '../../workflow/config.js';
import { compareRuns } from '../../workflow/compare.js';
import { planJobs, plateFiles, type RuleName } from '../../workflow/plan.js';
import { planProfile } from '../../workflow/profile.js';
import { checkSlurm, checkSnakemake, runSnakemake, writeWorkflow } from '../../workflow/snakemake.js';
import {
  applyStep, clusterStep, consensusStep, correctStep, knnMergeStep, knnShardStep, loadPlan, mergeStatsStep, plateStep, reportStep, selectStep,
} from '../../workflow/steps.js';
import { InputError, UsageError } from '../../util/errors.js';
import { intOption, numberOption } from '../options.js';
import { terminalReporter } from '../terminal.js';
import { printLines } from './preprocessShared.js';

const RUN_FOLDER = 'paths are relative to the run folder (the folder of --plan)';

function planAt(path: string) {
  const plan = loadPlan(path);
  return { plan, root: dirname(resolve(path)) };
}

export function register(program: Command): void {
  const w = program
    .command('workflow')
    .description('the profiling config as a Snakemake workflow: per-plate jobs, merges of small partial results, a k-NN graph in shards; writes plan.json, a Snakefile and Snakemake profiles for this machine (snakemake/local) and for Slurm (snakemake/slurm) into the run folder, and with --run starts snakemake')
    .argument('[config]', 'profiling config (YAML or JSON; as for phenomap profile)')
    .option('--output <dir>', 'run folder (default: the config\'s output)')
    .option('--run <executor>', 'then run it: local (this machine) or slurm (sbatch)')
    .option('--dry-run', 'with --run: let snakemake show the jobs it would run')
    .option('--cores <n>', 'cores of the local profile (default all)', intOption('--cores', 1))
    .option('--json', 'print the plan summary as JSON')
    .action(async (configPath: string | undefined, flags: { output?: string; run?: string; dryRun?: boolean; cores?: number; json?: boolean }) => {
      if (!configPath) throw new UsageError('workflow needs a config file (see phenomap profile --help), or a step: phenomap workflow <step> --help');
      if (flags.run && flags.run !== 'local' && flags.run !== 'slurm') throw new UsageError(`--run must be local or slurm, got "${flags.run}"`);
      const config = loadProfileConfig(configPath);
      const cfg = flags.output ? { ...config, output: resolve(flags.output) } : config;
      // Check the engine before planning, so a missing piece is the first thing said.
      if (flags.run) {
        checkSnakemake();
        if (flags.run === 'slurm' && !flags.dryRun) checkSlurm();
      }
      const plan = await planProfile(cfg);
      const written = writeWorkflow(plan, { cores: flags.cores });
      const jobs = planJobs(plan);
      const byRule = new Map<RuleName, number>();
      for (const j of jobs) byRule.set(j.rule, (byRule.get(j.rule) ?? 0) + 1);
      if (flags.json) printLines([JSON.stringify({ dir: written.dir, files: written.files, command: written.command, plates: plan.plates, jobs: Object.fromEntries(byRule) }, null, 2)]);
      else {
        printLines([
          `workflow: ${plan.plates.length} plate(s), ${jobs.length} jobs (${[...byRule].map(([r, n]) => `${r} ${n}`).join(', ')}) → ${written.dir}`,
          plan.stats.exact ? `feature selection from merged partial statistics (${plan.merge.length} merge job(s) before the select job's own merge)` : `feature selection reads every plate's table: ${plan.stats.reason}`,
          ...plan.plates.filter((p) => p.unreadable).map((p) => `warning: ${p.source} could not be read (${p.unreadable}); its job (plate ${p.id}) will fail, the other plates run`),
          `run it: cd ${written.dir} && snakemake --profile snakemake/local   (or snakemake/slurm)`,
        ]);
      }
      if (flags.run) {
        const code = await runSnakemake(written.dir, flags.run as 'local' | 'slurm', flags.dryRun ? ['--dry-run'] : []);
        if (code !== 0) throw new InputError(`snakemake exited with code ${code}; each job's log is in ${resolve(written.dir, 'logs')}`);
      }
    });

  w.command('plate')
    .description(`job: one plate's single cells → aggregated, annotated, normalised tables and partial feature statistics (${RUN_FOLDER})`)
    .requiredOption('--plan <file>', 'plan.json of the run')
    .requiredOption('--plate <id>', 'the plate (its folder name under plates/)')
    .requiredOption('--out <dir>', 'the plate\'s folder: plates/<id>')
    .option('-q, --quiet', 'nothing on stderr but errors')
    .action(async (flags: { plan: string; plate: string; out: string; quiet?: boolean }) => {
      const { plan, root } = planAt(flags.plan);
      const want = resolve(root, dirname(plateFiles(plan.config, { id: flags.plate }).report));
      if (resolve(root, flags.out) !== want) throw new UsageError(`--out ${flags.out}: plate ${flags.plate}'s outputs go to ${want}`);
      const r = await plateStep(plan, root, flags.plate, { reporter: terminalReporter({ quiet: flags.quiet }) });
      printLines([`plate ${r.step.plate}: ${r.step.wells} wells, ${r.step.cells} cells, ${r.features} features in ${r.seconds.toFixed(1)} s`, ...r.warnings.map((x) => `warning: ${x}`)]);
    });

  w.command('merge-stats')
    .description(`job: merge partial feature statistics (Chan et al.'s pairwise update) into one file (${RUN_FOLDER})`)
    .argument('<stats...>', 'partial statistics files, merged in this order')
    .requiredOption('--plan <file>', 'plan.json of the run')
    .requiredOption('--out <file>', 'merged statistics')
    .action((inputs: string[], flags: { plan: string; out: string }) => {
      const { plan, root } = planAt(flags.plan);
      mergeStatsStep(plan, root, inputs, flags.out);
      printLines([`merged ${inputs.length} partial(s) → ${flags.out}`]);
    });

  w.command('select')
    .description(`job: the last merge of the partial feature statistics, then feature selection (or, where that is not exact, selection from every plate's table) → selection.json (${RUN_FOLDER})`)
    .argument('<inputs...>', 'partial statistics, merged in this order (or the plates\' tables)')
    .requiredOption('--plan <file>', 'plan.json of the run')
    .requiredOption('--out <file>', 'selection.json')
    .option('--merged <file>', 'the merged statistics (stats/all.stats)')
    .action(async (inputs: string[], flags: { plan: string; out: string; merged?: string }) => {
      const { plan, root } = planAt(flags.plan);
      const s = await selectStep(plan, root, inputs, flags.out, flags.merged);
      printLines([`selected ${s.features.length} feature(s) from ${s.featureSelect?.featuresIn ?? s.features.length} (${s.mode}) → ${flags.out}`]);
    });

  w.command('apply')
    .description(`job: one plate's profiles with the selected features → its partition of the profiles dataset (${RUN_FOLDER})`)
    .argument('<table>', 'the plate\'s last table (normalised, annotated or aggregated)')
    .requiredOption('--plan <file>', 'plan.json of the run')
    .requiredOption('--selection <file>', 'selection.json')
    .requiredOption('--out <file>', 'profiles/<plateColumn>=<plate>/profiles.parquet')
    .action(async (table: string, flags: { plan: string; selection: string; out: string }) => {
      const { root } = planAt(flags.plan);
      const r = await applyStep(root, table, flags.selection, flags.out);
      printLines([`${r.rows} profiles × ${r.features} features → ${flags.out}`]);
    });

  w.command('correct')
    .description(`job: the config's batch correction fitted on every plate's profiles → corrected/<plateColumn>=<plate>/profiles.parquet, batch_model.json (${RUN_FOLDER})`)
    .argument('<tables...>', 'the profiles dataset\'s partitions, in the plan\'s plate order')
    .requiredOption('--plan <file>', 'plan.json of the run')
    .requiredOption('--out <file>', 'batch_correction.json (the record: what was done, before / after metrics)')
    .action(async (tables: string[], flags: { plan: string; out: string }) => {
      const { plan, root } = planAt(flags.plan);
      const r = await correctStep(plan, root, tables, flags.out);
      printLines([`batch correction ${r.report.method} on ${r.report.batchCol}: ${r.report.batches.length} batches, ${r.report.rows} profiles → corrected/ (${r.report.seconds.toFixed(2)} s)`]);
    });

  w.command('consensus')
    .description(`job: consensus profiles over every plate's profiles (${RUN_FOLDER})`)
    .argument('<tables...>', 'the profiles dataset\'s partitions')
    .requiredOption('--plan <file>', 'plan.json of the run')
    .requiredOption('--out <file>', 'consensus.parquet (consensus.json is written beside it)')
    .action(async (tables: string[], flags: { plan: string; out: string }) => {
      const { plan, root } = planAt(flags.plan);
      const r = await consensusStep(plan, root, tables, flags.out);
      printLines([`consensus (${r.method} by ${r.strata.join(' + ')}): ${r.nRowsIn} profiles → ${r.nGroups} → ${flags.out}`]);
    });

  w.command('knn-shard')
    .description(`job: every profile's k nearest neighbours among one shard's rows (${RUN_FOLDER})`)
    .argument('<tables...>', 'the table(s) to cluster')
    .requiredOption('--plan <file>', 'plan.json of the run')
    .requiredOption('--shard <s>', 'shard index (0-based)', intOption('--shard', 0))
    .requiredOption('--out <file>', 'knn/shard_<s>.knn')
    .action(async (tables: string[], flags: { plan: string; shard: number; out: string }) => {
      const { plan, root } = planAt(flags.plan);
      await knnShardStep(plan, root, tables, flags.shard, flags.out);
      printLines([`k-NN shard ${flags.shard} → ${flags.out}`]);
    });

  w.command('knn-merge')
    .description(`job: the k best neighbours over every shard, for one block of rows (${RUN_FOLDER})`)
    .argument('<shards...>', 'every shard file')
    .requiredOption('--plan <file>', 'plan.json of the run')
    .requiredOption('--block <b>', 'block of rows (0-based; blocks follow the shards\' row ranges)', intOption('--block', 0))
    .requiredOption('--out <file>', 'knn/graph_<b>.knn')
    .action((shards: string[], flags: { plan: string; block: number; out: string }) => {
      const { plan, root } = planAt(flags.plan);
      knnMergeStep(plan, root, shards, flags.block, flags.out);
      printLines([`k-NN block ${flags.block} → ${flags.out}`]);
    });

  w.command('cluster')
    .description(`job: sparse affinity propagation or Louvain on the k-NN graph, and label enrichment (${RUN_FOLDER})`)
    .argument('<tables...>', 'the clustered table(s)')
    .requiredOption('--plan <file>', 'plan.json of the run')
    .requiredOption('--graph <file>', 'a block of the k-NN graph (repeat for every block)', (v: string, prev: string[] = []) => [...prev, v])
    .requiredOption('--out <file>', 'clusters.csv (cluster_report.json and enrichment.csv beside it)')
    .action(async (tables: string[], flags: { plan: string; graph: string[]; out: string }) => {
      const { plan, root } = planAt(flags.plan);
      const r = await clusterStep(plan, root, flags.graph, tables, flags.out);
      printLines([`${r.method}: ${r.rows} profiles → ${r.clusters} clusters${r.enrichment ? `; ${r.enrichment.enrichedClusters} enriched in ${r.enrichment.labelColumn}` : ''} → ${flags.out}`]);
    });

  w.command('report')
    .description(`job: the run's report from the jobs' records (${RUN_FOLDER})`)
    .requiredOption('--plan <file>', 'plan.json of the run')
    .requiredOption('--out <file>', 'profile_report.json')
    .action(async (flags: { plan: string; out: string }) => {
      const { plan, root } = planAt(flags.plan);
      const r = await reportStep(plan, root, flags.out);
      printLines([`report: ${r.plates.length} plate(s), ${r.profiles.rows} profiles × ${r.profiles.features} features → ${flags.out}`]);
    });

  w.command('compare')
    .description('compare two runs of one config (e.g. Slurm and phenomap profile): every table to a relative tolerance, the selected features and the clusters exactly; exit 2 when they differ')
    .argument('<a>', 'run folder')
    .argument('<b>', 'run folder')
    .option('--rtol <x>', 'relative tolerance', numberOption('--rtol', 0, 1), 1e-12)
    .option('--json', 'print the comparison as JSON')
    .action(async (a: string, b: string, flags: { rtol: number; json?: boolean }) => {
      const r = await compareRuns(a, b, { rtol: flags.rtol });
      if (flags.json) printLines([JSON.stringify(r, null, 2)]);
      else {
        const identical = r.tables.filter((t) => t.identical).length;
        const worst = r.tables.reduce((m, t) => Math.max(m, t.maxRel), 0);
        printLines([
          `${r.tables.length} table(s) compared: ${identical} identical, largest relative difference ${worst}`,
          ...r.tables.filter((t) => t.problems.length).map((t) => `  ${t.file}: ${t.problems.join('; ')}`),
          ...r.problems.map((p) => `  ${p}`),
        ]);
      }
      if (!r.same) throw new InputError(`${a} and ${b} differ (${r.problems.length + r.tables.filter((t) => t.problems.length).length} difference(s), rtol ${flags.rtol})`);
    });
}
