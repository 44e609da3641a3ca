/**
 * The plan as a Snakemake (7.x) workflow: `writeWorkflow` writes, into the run folder,
 *
 *   plan.json                 the checked config and the plates (what every job reads)
 *   Snakefile                 one rule per step; each rule runs one `phenomap workflow <step>`
 *                             command with explicit input and output files and a log per job
 *   snakemake/local/config.yaml   `snakemake --profile snakemake/local`: this machine
 *   snakemake/slurm/config.yaml   `snakemake --profile snakemake/slurm`: every job through
 *                             `sbatch` (Snakemake's --cluster), threads / memory / time per rule
 *                             from the config's workflow.resources
 *   snakemake/slurm-status.sh the --cluster-status command (scontrol; Slurm has no sacct here):
 *                             a job killed by scancel or a time limit is reported failed instead
 *                             of waited for, and a controller that stops answering for
 *                             PHENOMAP_SLURM_DOWN_SECONDS (default 300) fails the job instead of
 *                             hanging the workflow
 *
 * phenomap never imports Snakemake and never calls sbatch: Snakemake schedules, Slurm runs,
 * phenomap only computes. `runSnakemake` starts `snakemake` for the user, after checking that
 * the pieces are there (snakemake 7 on PATH; for Slurm: sbatch on PATH and a controller that
 * answers), so that a missing piece is one clear message, not a hang.
 *
 * Rerun rules: Snakemake reruns a job when an input is newer than its outputs or when the
 * config sections the rule depends on change (each rule's `params: config=<hash>`); outputs
 * are written atomically by the steps, so a killed job leaves no file that looks done, and
 * `rerun-incomplete` in the profiles redoes it.
 */
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError, UsageError } from '../util/errors.js';
import type { ProfileConfig } from './config.js';
import { CLUSTER_FILES, CONSENSUS_FILES, CORRECTION_FILES, MERGED_STATS, PLAN_FILE, REPORT_FILE, SELECTION_FILE, knnBlockFile, knnShardFile, plateFiles, type RuleName, type WorkflowPlan } from './plan.js';

/** Default threads, memory (MB) and time limit (minutes) per rule; the config overrides them. */
export const DEFAULT_RESOURCES: Record<RuleName, { threads: number; memMb: number; runtimeMin: number }> = {
  plate: { threads: 2, memMb: 4000, runtimeMin: 120 },
  merge_stats: { threads: 1, memMb: 2000, runtimeMin: 30 },
  select: { threads: 1, memMb: 4000, runtimeMin: 30 },
  apply: { threads: 1, memMb: 2000, runtimeMin: 15 },
  correct: { threads: 2, memMb: 8000, runtimeMin: 60 },
  consensus: { threads: 1, memMb: 8000, runtimeMin: 60 },
  knn_shard: { threads: 1, memMb: 8000, runtimeMin: 240 },
  knn_merge: { threads: 1, memMb: 4000, runtimeMin: 30 },
  cluster: { threads: 1, memMb: 16000, runtimeMin: 240 },
  report: { threads: 1, memMb: 1000, runtimeMin: 10 },
};

export function ruleResources(config: ProfileConfig, rule: RuleName): { threads: number; memMb: number; runtimeMin: number } {
  return { ...DEFAULT_RESOURCES[rule], ...(config.workflow.resources[rule] ?? {}) };
}

/** How jobs start phenomap: the config's workflow.command, else this installation's bin/phenomap.js under this node. */
export function phenomapCommand(config: ProfileConfig): string[] {
  if (config.workflow.command) return config.workflow.command;
  // src/workflow/snakemake.ts or dist/workflow/snakemake.js → the package root.
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return [process.execPath, join(root, 'bin', 'phenomap.js')];
}

/** A word for the shell (single quotes unless plainly safe). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value ?? null)).digest('hex').slice(0, 16);
}

/** The config sections each rule's output depends on (a change reruns the rule). */
function ruleConfigHash(config: ProfileConfig, rule: RuleName): string {
  const c = config;
  switch (rule) {
    case 'plate':
      return hashOf([c.cells, c.aggregate, c.annotate, c.normalize, c.featureSelect && { ops: c.featureSelect.operations, samples: c.featureSelect.samples, corr: c.featureSelect.corrMethod, groups: c.featureSelect.noiseRemovalPerturbGroups }]);
    case 'merge_stats':
      return hashOf([c.featureJoin]);
    case 'select':
      return hashOf([c.featureSelect, c.featureJoin]);
    case 'correct':
      return hashOf([c.correct]);
    case 'consensus':
      return hashOf([c.consensus]);
    case 'knn_shard':
    case 'knn_merge':
    case 'cluster':
      return hashOf([c.cluster]);
    default:
      return hashOf([]);
  }
}

const py = (s: string) => JSON.stringify(s);

/** The Snakefile for a plan (see the module comment). */
export function snakefile(plan: WorkflowPlan, command: readonly string[]): string {
  const cfg = plan.config;
  const cmd = command.map(shellQuote).join(' ');
  const L: string[] = [];
  const res = (rule: RuleName) => {
    const r = ruleResources(cfg, rule);
    return [`    threads: ${r.threads}`, `    resources:`, `        mem_mb=${r.memMb},`, `        runtime=${r.runtimeMin},`];
  };
  const params = (rule: RuleName, extra: string[] = []) => [`    params:`, `        config=${py(ruleConfigHash(cfg, rule))},`, ...extra.map((e) => `        ${e},`)];
  const f = plateFiles(cfg, { id: '{plate}' });
  const plateOutputs = [f.aggregated, f.annotated, f.normalized, f.stats, f.report].filter((x): x is string => !!x);
  L.push(
    `# Generated by \`phenomap workflow\` for ${cfg.output}; do not edit: change the config and plan again.`,
    `#   cd ${shellQuote(cfg.output)}`,
    `#   snakemake --profile snakemake/local    # this machine`,
    `#   snakemake --profile snakemake/slurm    # every job through sbatch (settings: snakemake/slurm/config.yaml)`,
    `# Every job is one phenomap command with explicit inputs and outputs; phenomap writes outputs atomically.`,
    `import json`,
    ``,
    `with open(${py(PLAN_FILE)}) as f:`,
    `    PLAN = json.load(f)`,
    `PLATES = {p["id"]: p for p in PLAN["plates"]}`,
    `PARTS = {p["partition"]: p for p in PLAN["plates"]}`,
    `MERGE = {m["id"]: m for m in PLAN["merge"]}`,
    ``,
    `wildcard_constraints:`,
    `    plate="[^/]+",`,
    `    part="[^/]+",`,
    `    node="[^/]+",`,
    `    shard="[0-9]+",`,
    ``,
    `localrules: all`,
    ``,
    `rule all:`,
    `    input:`,
    `        ${py(REPORT_FILE)},`,
    ``,
    `rule plate:`,
    `    input:`,
    `        lambda wc: PLATES[wc.plate]["paths"],`,
    `    output:`,
    ...plateOutputs.map((o) => `        ${py(o)},`),
    `    log:`,
    `        "logs/plate/{plate}.log",`,
    ...params('plate', ['out=lambda wc: "plates/" + wc.plate']),
    ...res('plate'),
    `    shell:`,
    `        ${py(`PHENOMAP_THREADS={threads} ${cmd} workflow plate --plan ${PLAN_FILE} --plate {wildcards.plate:q} --out {params.out:q} > {log:q} 2>&1`)}`,
    ``,
  );
  if (plan.stats.exact) {
    L.push(
      `ROOT = PLAN["mergeRoot"]`,
      ``,
      `rule merge_stats:`,
      `    input:`,
      `        lambda wc: MERGE[wc.node]["inputs"],`,
      `    output:`,
      `        "stats/{node}.stats",`,
      `    log:`,
      `        "logs/merge_stats/{node}.log",`,
      ...params('merge_stats'),
      ...res('merge_stats'),
      `    shell:`,
      `        ${py(`${cmd} workflow merge-stats --plan ${PLAN_FILE} --out {output:q} {input:q} > {log:q} 2>&1`)}`,
      ``,
      `rule select:`,
      `    input:`,
      `        merge=ROOT,`,
      ...(plan.stats.spec.frequency ? [`        counts=[${py(plateFiles(cfg, { id: '{0}' }).stats)}.format(p["id"]) for p in PLAN["plates"]],`] : []),
      `    output:`,
      `        ${py(SELECTION_FILE)},`,
      `        ${py(MERGED_STATS)},`,
    );
  } else {
    L.push(
      `rule select:`,
      `    input:`,
      `        merge=[${py(plateFiles(cfg, { id: '{0}' }).last)}.format(p["id"]) for p in PLAN["plates"]],`,
      `    output:`,
      `        ${py(SELECTION_FILE)},`,
    );
  }
  const merged = plan.stats.exact ? ` --merged ${MERGED_STATS}` : '';
  L.push(
    `    log:`,
    `        "logs/select.log",`,
    ...params('select'),
    ...res('select'),
    `    shell:`,
    `        ${py(`${cmd} workflow select --plan ${PLAN_FILE} --out ${SELECTION_FILE}${merged} {input.merge:q} > {log:q} 2>&1`)}`,
    ``,
    `rule apply:`,
    `    input:`,
    `        table=lambda wc: ${py(plateFiles(cfg, { id: '{0}' }).last)}.format(PARTS[wc.part]["id"]),`,
    `        selection=${py(SELECTION_FILE)},`,
    `    output:`,
    `        "profiles/{part}/profiles.parquet",`,
    `    log:`,
    `        "logs/apply/{part}.log",`,
    ...params('apply'),
    ...res('apply'),
    `    shell:`,
    `        ${py(`${cmd} workflow apply --plan ${PLAN_FILE} --selection {input.selection:q} --out {output:q} {input.table:q} > {log:q} 2>&1`)}`,
    ``,
    `PROFILES = ["profiles/" + p["partition"] + "/profiles.parquet" for p in PLAN["plates"]]`,
    ``,
  );
  if (cfg.correct) {
    L.push(
      `CORRECTED = ["corrected/" + p["partition"] + "/profiles.parquet" for p in PLAN["plates"]]`,
      ``,
      `rule correct:`,
      `    input:`,
      `        PROFILES,`,
      `    output:`,
      `        CORRECTED,`,
      `        ${py(CORRECTION_FILES.model)},`,
      `        ${py(CORRECTION_FILES.report)},`,
      `    log:`,
      `        "logs/correct.log",`,
      ...params('correct'),
      ...res('correct'),
      `    shell:`,
      `        ${py(`PHENOMAP_THREADS={threads} ${cmd} workflow correct --plan ${PLAN_FILE} --out ${CORRECTION_FILES.report} {input:q} > {log:q} 2>&1`)}`,
      ``,
      // consensus, the k-NN graph and the report read the corrected profiles from here on
      `PROFILES = CORRECTED`,
      ``,
    );
  }
  if (cfg.consensus) {
    L.push(
      `rule consensus:`,
      `    input:`,
      `        PROFILES,`,
      `    output:`,
      `        ${py(CONSENSUS_FILES.table)},`,
      `        ${py(CONSENSUS_FILES.report)},`,
      `    log:`,
      `        "logs/consensus.log",`,
      ...params('consensus'),
      ...res('consensus'),
      `    shell:`,
      `        ${py(`${cmd} workflow consensus --plan ${PLAN_FILE} --out ${CONSENSUS_FILES.table} {input:q} > {log:q} 2>&1`)}`,
      ``,
    );
  }
  if (plan.cluster) {
    const S = plan.cluster.shards;
    const tables = plan.cluster.table === 'consensus' ? `[${py(CONSENSUS_FILES.table)}]` : 'PROFILES';
    const shardFiles = `[${Array.from({ length: S }, (_, s) => py(knnShardFile(s))).join(', ')}]`;
    const blockFiles = `[${Array.from({ length: S }, (_, b) => py(knnBlockFile(b))).join(', ')}]`;
    L.push(
      `CLUSTER_TABLES = ${tables}`,
      ``,
      `rule knn_shard:`,
      `    input:`,
      `        CLUSTER_TABLES,`,
      `    output:`,
      `        "knn/shard_{shard}.knn",`,
      `    log:`,
      `        "logs/knn_shard/{shard}.log",`,
      ...params('knn_shard'),
      ...res('knn_shard'),
      `    shell:`,
      `        ${py(`PHENOMAP_THREADS={threads} ${cmd} workflow knn-shard --plan ${PLAN_FILE} --shard {wildcards.shard} --out {output:q} {input:q} > {log:q} 2>&1`)}`,
      ``,
      `rule knn_merge:`,
      `    input:`,
      `        ${shardFiles},`,
      `    output:`,
      `        "knn/graph_{shard}.knn",`,
      `    log:`,
      `        "logs/knn_merge/{shard}.log",`,
      ...params('knn_merge'),
      ...res('knn_merge'),
      `    shell:`,
      `        ${py(`${cmd} workflow knn-merge --plan ${PLAN_FILE} --block {wildcards.shard} --out {output:q} {input:q} > {log:q} 2>&1`)}`,
      ``,
      `rule cluster:`,
      `    input:`,
      `        graphs=${blockFiles},`,
      `        tables=CLUSTER_TABLES,`,
      `    output:`,
      `        ${py(CLUSTER_FILES.clusters)},`,
      `        ${py(CLUSTER_FILES.report)},`,
      ...(cfg.cluster?.labelColumn ? [`        ${py(CLUSTER_FILES.enrichment)},`] : []),
      `    log:`,
      `        "logs/cluster.log",`,
      ...params('cluster'),
      ...res('cluster'),
      `    shell:`,
      `        ${py(`PHENOMAP_THREADS={threads} ${cmd} workflow cluster --plan ${PLAN_FILE} --out ${CLUSTER_FILES.clusters} ${Array.from({ length: S }, (_, b) => `--graph ${knnBlockFile(b)}`).join(' ')} {input.tables:q} > {log:q} 2>&1`)}`,
      ``,
    );
  }
  L.push(
    `rule report:`,
    `    input:`,
    `        [${py(plateFiles(cfg, { id: '{0}' }).report)}.format(p["id"]) for p in PLAN["plates"]],`,
    `        ${py(SELECTION_FILE)},`,
    `        PROFILES,`,
    ...(cfg.correct ? [`        ${py(CORRECTION_FILES.report)},`] : []),
    ...(cfg.consensus ? [`        ${py(CONSENSUS_FILES.report)},`] : []),
    ...(plan.cluster ? [`        ${py(CLUSTER_FILES.report)},`] : []),
    `    output:`,
    `        ${py(REPORT_FILE)},`,
    `    log:`,
    `        "logs/report.log",`,
    ...params('report'),
    ...res('report'),
    `    shell:`,
    `        ${py(`${cmd} workflow report --plan ${PLAN_FILE} --out {output:q} > {log:q} 2>&1`)}`,
    ``,
  );
  return L.join('\n');
}

/** The --cluster-status script (see the module comment). */
export const SLURM_STATUS_SCRIPT = `#!/usr/bin/env bash
# Written by phenomap workflow: job status for Snakemake 7 --cluster-status (running, success or
# failed) from scontrol, since a cluster may have no accounting (sacct). A job killed by scancel,
# a time limit or a node failure is reported failed instead of being waited for forever; a
# controller that does not answer for PHENOMAP_SLURM_DOWN_SECONDS (default 300) fails the job
# with a message instead of hanging the workflow.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: slurm-status.sh JOBID" >&2; exit 2; }
jobid=\${1%%;*}
state_dir=\${PHENOMAP_STATUS_DIR:-.snakemake/phenomap-slurm-status}
mkdir -p "$state_dir" 2>/dev/null || true
if out=$(timeout 20 scontrol show job -o "$jobid" 2>&1); then
  rm -f "$state_dir/$jobid.down"
else
  if [[ $out == *"Invalid job id"* ]]; then
    echo "slurm-status.sh: job $jobid is unknown to slurmctld (finished long ago and purged, or never existed)" >&2
    echo failed; exit 0
  fi
  now=$(date +%s)
  [ -s "$state_dir/$jobid.down" ] || echo "$now" > "$state_dir/$jobid.down"
  since=$(cat "$state_dir/$jobid.down")
  if [ $((now - since)) -ge "\${PHENOMAP_SLURM_DOWN_SECONDS:-300}" ]; then
    echo "slurm-status.sh: slurmctld has not answered about job $jobid for $((now - since)) s ($out); reporting it failed" >&2
    echo failed; exit 0
  fi
  echo running; exit 0
fi
line=\${out%%$'\\n'*}
state=""
if [[ $line =~ (^|[[:space:]])JobState=([A-Z_]+) ]]; then state=\${BASH_REMATCH[2]}; fi
case $state in
  COMPLETED) echo success ;;
  PENDING|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|REQUEUED|REQUEUE_FED|REQUEUE_HOLD|RESIZING|SIGNALING|STAGE_OUT|STOPPED|RESV_DEL_HOLD) echo running ;;
  *) echo failed ;;
esac
`;

export interface WrittenWorkflow {
  readonly dir: string;
  readonly files: string[];
  readonly command: string[];
}

/** Write plan.json, the Snakefile and the two Snakemake profiles into the run folder. */
export function writeWorkflow(plan: WorkflowPlan, opts: { command?: string[]; cores?: number } = {}): WrittenWorkflow {
  const cfg = plan.config;
  const dir = cfg.output;
  const command = opts.command ?? phenomapCommand(cfg);
  mkdirSync(join(dir, 'logs', 'slurm'), { recursive: true });
  const files: string[] = [];
  const put = (rel: string, text: string) => {
    writeFileAtomic(join(dir, rel), text);
    files.push(join(dir, rel));
  };
  put(PLAN_FILE, JSON.stringify(plan, null, 2) + '\n');
  put('Snakefile', snakefile(plan, command));
  const common = ['keep-going: true', 'rerun-incomplete: true', 'printshellcmds: true', `latency-wait: ${cfg.workflow.latencyWait}`];
  put('snakemake/local/config.yaml', [
    '# phenomap workflow, this machine: cd <run folder> && snakemake --profile snakemake/local',
    `cores: ${opts.cores ?? 'all'}`,
    ...common,
  ].join('\n') + '\n');
  const status = join(dir, 'snakemake', 'slurm-status.sh');
  put('snakemake/slurm-status.sh', SLURM_STATUS_SCRIPT);
  chmodSync(status, 0o755);
  const sbatch = 'sbatch --parsable --job-name=phenomap-{rule} --cpus-per-task={threads} --mem={resources.mem_mb} --time={resources.runtime} --output=logs/slurm/{rule}-%j.out';
  put('snakemake/slurm/config.yaml', [
    '# phenomap workflow on Slurm: cd <run folder> && snakemake --profile snakemake/slurm',
    '# Every job is submitted with sbatch; per-rule threads, memory (MB) and time (min) come from the',
    '# config\'s workflow.resources. Add partition / account flags to the sbatch line as your site needs.',
    `cluster: ${JSON.stringify(sbatch)}`,
    `cluster-status: ${JSON.stringify(status)}`,
    'cluster-cancel: scancel',
    `jobs: ${cfg.workflow.jobs}`,
    'max-status-checks-per-second: 5',
    '# many small jobs share a submission: plate jobs platesPerJob at a time, the per-plate subsets appliesPerJob',
    'groups: [plate=plates, apply=applies]',
    `group-components: [plates=${cfg.workflow.platesPerJob}, applies=${cfg.workflow.appliesPerJob}]`,
    ...common,
  ].join('\n') + '\n');
  return { dir, files, command };
}

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${shellQuote(cmd)}`], { encoding: 'utf8', timeout: 10000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Snakemake 7 on PATH (Snakemake 8 dropped --cluster, which the Slurm profile uses). */
export function checkSnakemake(): string {
  if (!which('snakemake')) {
    throw new UsageError('snakemake is not on PATH: install Snakemake 7 (Debian 12: apt-get install snakemake; or pip install "snakemake<8"), or run the jobs one by one with phenomap profile');
  }
  const r = spawnSync('snakemake', ['--version'], { encoding: 'utf8', timeout: 60000 });
  const v = (r.stdout ?? '').trim();
  if (r.status !== 0 || !/^\d+\./.test(v)) throw new UsageError(`snakemake --version failed (${(r.stderr ?? '').trim().split('\n').pop() || `exit ${r.status}`})`);
  if (Number(v.split('.')[0]) >= 8) {
    throw new UsageError(`snakemake ${v} found; this workflow's Slurm profile uses --cluster, which Snakemake 8 removed: install Snakemake 7 (pip install "snakemake<8"), or write a profile for the slurm executor plugin`);
  }
  return v;
}

/** sbatch on PATH and a Slurm controller that answers within `timeoutS`. */
export function checkSlurm(timeoutS = 20): string {
  for (const c of ['sbatch', 'scontrol', 'scancel', 'sinfo']) {
    if (!which(c)) throw new UsageError(`${c} is not on PATH: this machine has no Slurm client (Debian: apt-get install slurm-client), so the workflow cannot submit jobs; run it with --run local`);
  }
  const r = spawnSync('sinfo', ['-h', '-o', '%P %a %D %T'], { encoding: 'utf8', timeout: timeoutS * 1000 });
  if (r.error || r.status !== 0) {
    const why = r.error ? (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `no answer in ${timeoutS} s` : r.error.message : (r.stderr ?? '').trim().split('\n').pop();
    throw new InputError(`Slurm does not answer (sinfo: ${why}); is slurmctld running${process.env.SLURM_CONF ? ` for SLURM_CONF=${process.env.SLURM_CONF}` : ''}?`);
  }
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  if (!lines.length) throw new InputError('Slurm answers but has no partition (sinfo lists nothing)');
  if (!lines.some((l) => / up /.test(` ${l} `))) throw new InputError(`Slurm has no partition up (sinfo: ${lines.join('; ')})`);
  return lines.join('; ');
}

/** Run snakemake on the written workflow (stdio inherited); resolves to its exit code. */
export function runSnakemake(dir: string, executor: 'local' | 'slurm', extra: readonly string[] = []): Promise<number> {
  if (!existsSync(join(dir, 'Snakefile'))) throw new InputError(`${dir}: no Snakefile; write the workflow first`);
  return new Promise((resolveP, reject) => {
    const child = spawn('snakemake', ['--snakefile', 'Snakefile', '--profile', `snakemake/${executor}`, ...extra], { cwd: dir, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolveP(code ?? (signal ? 128 : 1)));
  });
}
