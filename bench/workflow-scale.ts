/**
 * The figures of docs/scaling.md's Slurm design (issue 16), each job measured as the whole
 * process a Slurm job would run (`node bin/phenomap.js workflow <step> …` under /usr/bin/time):
 * wall time and peak RSS, and the size of every partial result.
 *
 *   npx tsx bench/workflow-scale.ts plate  [--cells 1000000] [--features 500] [--keep]
 *       one 384-well plate of N cells × 3 compartments × F features (phenomap synth
 *       --single-cell), planned and profiled by the plate job (aggregate → annotate →
 *       normalise → partial statistics); the plate (~14 GB at 10⁶ × 500) is deleted afterwards
 *   npx tsx bench/workflow-scale.ts reduce [--profiles 100000] [--features 500] [--distinct-plates N]
 *       N well profiles (phenomap synth) cut into 384-well plates with their partial statistics
 *       (the plate job's featureStats); then one merge_stats job (64 partials), the select job
 *       (last merge + value counts of every plate + selection), one apply job and the consensus
 *       job over every plate's partition. --distinct-plates k: only k plates are distinct, the
 *       others are hard links to them (same sizes and reading work, far less disk)
 *   npx tsx bench/workflow-scale.ts knn    [--profiles 100000] [--features 500] [--shards 4] [--k 20] [--recall-k 10] [--recall-sample 1000]
 *       the k-NN graph in shards (HNSW), the merge jobs and the cluster job (sparse AP) on N
 *       distinct profiles; recall@10 of the sharded graph against exact search on sampled rows
 *   npx tsx bench/workflow-scale.ts show [--plates 2000] [--nodes 1,10,50,200] [--cores-per-node 32] [--mem-per-node 128] [--job-overhead 12]
 *       the table of everything measured so far, and the projected wall time for 2,000 plates on
 *       N nodes from those measurements (see projection() for the model)
 *
 * Heavy stages belong under `flock /tmp/phenomap-heavy.lock`. Results accumulate in
 * bench/out/workflow-scale.json; scratch data goes to --scratch (default /work/scratch/16 or
 * bench/out/workflow-scale).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readProfiles } from '../src/io/read.js';
import { subsetRows, type Profiles } from '../src/io/profiles.js';
import { writeProfiles } from '../src/io/write.js';
import { encodeFeatureStats, featureStats } from '../src/preprocess/featureStats.js';
import { sampledRecall } from '../src/cluster/knnGraph.js';
import { checkProfileConfig } from '../src/workflow/config.js';
import { buildPlan, plateFiles, profileFile, type PlatePlan, type WorkflowPlan } from '../src/workflow/plan.js';
import { readKnnGraph } from '../src/workflow/knnShards.js';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'bin', 'phenomap.js');
const stage = process.argv[2] ?? 'show';
const { values } = parseArgs({
  args: process.argv.slice(3),
  options: {
    cells: { type: 'string', default: '1000000' },
    features: { type: 'string', default: '500' },
    profiles: { type: 'string', default: '100000' },
    'distinct-plates': { type: 'string' },
    shards: { type: 'string', default: '4' },
    k: { type: 'string', default: '20' },
    'recall-k': { type: 'string', default: '10' },
    'recall-sample': { type: 'string', default: '1000' },
    scratch: { type: 'string', default: existsSync('/work/scratch/16') ? '/work/scratch/16/bench' : join(root, 'bench', 'out', 'workflow-scale') },
    keep: { type: 'boolean', default: false },
    plates: { type: 'string', default: '2000' },
    nodes: { type: 'string', default: '1,10,50,200' },
    'cores-per-node': { type: 'string', default: '32' },
    'mem-per-node': { type: 'string', default: '128' },
    'job-overhead': { type: 'string', default: '12' },
  },
});
const scratch = resolve(values.scratch!);
// The jobs run bin/phenomap.js, i.e. dist/: rebuild it when a source file is newer.
{
  const newest = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(d, e.name)) : statSync(join(d, e.name)).mtimeMs), 0);
  const built = join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(built) || statSync(built).mtimeMs < newest(join(root, 'src'))) {
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('the build failed');
  }
}
mkdirSync(scratch, { recursive: true });
const resultsFile = join(root, 'bench', 'out', 'workflow-scale.json');

interface Measure {
  stage: string;
  size: string;
  job: string;
  wallS: number;
  rssMB: number;
  note?: string;
  bytes?: Record<string, number>;
}
const results: Measure[] = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : [];

function record(m: Measure): void {
  const i = results.findIndex((r) => r.stage === m.stage && r.size === m.size && r.job === m.job);
  if (i >= 0) results[i] = m;
  else results.push(m);
  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
  console.log(`${m.stage} ${m.size} ${m.job}: ${m.wallS.toFixed(1)} s, ${m.rssMB.toFixed(0)} MB peak RSS${m.note ? ` (${m.note})` : ''}`);
}

/** Run a phenomap command as its own process under /usr/bin/time -v: wall seconds, peak RSS (MB). */
function timed(args: string[], env: Record<string, string> = {}, cwd = root): { wallS: number; rssMB: number; out: string } {
  const tf = join(scratch, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-v', '-o', tf, process.execPath, cli, ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const t = existsSync(tf) ? readFileSync(tf, 'utf8') : '';
  if (r.status !== 0) throw new Error(`phenomap ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const wall = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)/.exec(t);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(t);
  const wallS = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN;
  return { wallS, rssMB: rss ? Number(rss[1]) / 1024 : NaN, out: r.stdout + r.stderr };
}

function sizes(dir: string, rel = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = join(rel, e.name);
    if (e.isDirectory()) Object.assign(out, sizes(dir, p));
    else if (!e.name.startsWith('.')) out[p] = statSync(join(dir, p)).size;
  }
  return out;
}

const MB = (b: number) => `${(b / 2 ** 20).toFixed(2)} MB`;

/** A 384-well plate map: 16 DMSO wells, 92 compounds × 4 replicates. */
function writePlatemap(dir: string, plates: string[]): string {
  mkdirSync(join(dir, 'platemap'), { recursive: true });
  const rows = ['well_position\tcompound\tmoa'];
  for (let i = 0; i < 384; i++) {
    const w = `${String.fromCharCode(65 + Math.floor(i / 24))}${String((i % 24) + 1).padStart(2, '0')}`;
    rows.push(i < 16 ? `${w}\tDMSO\t` : `${w}\tcpd${(i - 16) >> 2}\tmoa${((i - 16) >> 2) % 10}`);
  }
  writeFileSync(join(dir, 'platemap', 'M.txt'), rows.join('\n') + '\n');
  writeFileSync(join(dir, 'barcode_platemap.csv'), `Assay_Plate_Barcode,Plate_Map_Name\n${plates.map((p) => `${p},M`).join('\n')}\n`);
  return join(dir, 'barcode_platemap.csv');
}

const FS = ['drop_na_columns', 'variance_threshold', 'correlation_threshold', 'drop_outliers'];

function stagePlate(): void {
  const cells = Number(values.cells), F = Number(values.features);
  const size = `${cells} cells × ${F}/compartment`;
  const dir = join(scratch, `plate-${cells}`);
  mkdirSync(dir, { recursive: true });
  const plate = join(dir, 'plate.sqlite');
  if (!existsSync(plate)) {
    const g = timed(['synth', '--single-cell', '--cells', String(cells), '--features', String(F), '--plate', 'SYNTH', '--out', plate, '-q']);
    console.log(`generated ${plate}: ${MB(statSync(plate).size)} in ${g.wallS.toFixed(0)} s`);
  }
  const barcodes = writePlatemap(join(dir, 'meta'), ['SYNTH']);
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify({
    output: join(dir, 'run'), sources: [plate],
    annotate: { barcodePlatemap: barcodes },
    normalize: { method: 'mad_robustize', samples: "Metadata_compound == 'DMSO'" },
    featureSelect: { operations: FS },
    consensus: { strata: ['Metadata_compound'] },
  }));
  const plan = timed(['workflow', cfg, '--json']);
  record({ stage: 'plate', size, job: 'plan (open the source, write the workflow)', wallS: plan.wallS, rssMB: plan.rssMB });
  const run = join(dir, 'run');
  const job = timed(['workflow', 'plate', '--plan', join(run, 'plan.json'), '--plate', 'SYNTH', '--out', 'plates/SYNTH', '-q'], { PHENOMAP_THREADS: '2' });
  const bytes = sizes(join(run, 'plates', 'SYNTH'));
  record({ stage: 'plate', size, job: 'plate (2 threads)', wallS: job.wallS, rssMB: job.rssMB, bytes, note: `source ${MB(statSync(plate).size)}` });
  for (const [f, b] of Object.entries(bytes)) console.log(`  ${f}: ${MB(b)}`);
  if (!values.keep) {
    rmSync(plate, { force: true });
    console.log(`deleted ${plate}`);
  }
}

/** A run folder of N profiles in 384-well plates with their partials (the plate jobs' outputs). */
async function reduceFolder(N: number, F: number, kind: 'reduce' | 'knn', distinctPlates = Math.ceil(N / 384)): Promise<{ dir: string; plan: WorkflowPlan }> {
  const dir = join(scratch, `${kind}-${N}x${F}`);
  const run = join(dir, 'run');
  mkdirSync(run, { recursive: true });
  const table = join(dir, 'profiles.parquet');
  if (!existsSync(table)) {
    // only the distinct plates' rows are generated
    const rows = Math.min(N, distinctPlates * 384);
    const g = timed(['synth', '--rows', String(rows), '--features', String(F), '--plates', String(Math.ceil(rows / 384)), '--seed', '1', '--out', table]);
    console.log(`generated ${table}: ${rows} × ${F}, ${MB(statSync(table).size)} in ${g.wallS.toFixed(0)} s`);
  }
  const P = Math.ceil(N / 384);
  const config = checkProfileConfig({
    output: run, sources: [table],
    normalize: { method: 'mad_robustize' },
    featureSelect: { operations: FS },
    consensus: { strata: ['Metadata_compound'] },
    cluster: { on: 'consensus', k: Number(values.k), shards: Number(values.shards), knn: 'hnsw' },
    workflow: { mergeFanIn: 64 },
  }, 'bench', run);
  const plates: PlatePlan[] = Array.from({ length: P }, (_, i) => {
    const id = `P${String(i).padStart(5, '0')}`;
    return { plate: id, id, partition: `Metadata_Plate=${id}`, source: table, paths: [table], shared: true };
  });
  const plan = buildPlan(config, plates);
  writeFileSync(join(run, 'plan.json'), JSON.stringify(plan, null, 2));
  return { dir, plan };
}

async function stageReduce(): Promise<void> {
  const N = Number(values.profiles), F = Number(values.features);
  const wanted = values['distinct-plates'] ? Number(values['distinct-plates']) : Math.ceil(N / 384);
  const { dir, plan } = await reduceFolder(N, F, 'reduce', wanted);
  const run = join(dir, 'run');
  const P = plan.plates.length;
  const distinct = Math.min(P, wanted);
  const size = `${N} profiles × ${F}`;
  const spec = plan.stats.exact ? plan.stats.spec : null;
  if (!spec) throw new Error('expected exact statistics');
  // The plate jobs' outputs: per plate its table (and partition) and partial statistics.
  const last = plateFiles(plan.config, plan.plates[P - 1]!);
  if (!existsSync(join(run, last.stats))) {
    const { profiles } = await readProfiles(join(dir, 'profiles.parquet'));
    const t0 = performance.now();
    for (let i = 0; i < P; i++) {
      const p = plan.plates[i]!;
      const f = plateFiles(plan.config, p);
      mkdirSync(join(run, dirname(f.stats)), { recursive: true });
      mkdirSync(join(run, dirname(profileFile(p))), { recursive: true });
      if (i < distinct) {
        const rows = Int32Array.from({ length: Math.min(384, N - i * 384) }, (_, r) => i * 384 + r);
        const sub = subsetRows(profiles as Profiles, rows);
        await writeProfiles(join(run, f.normalized!), sub);
        writeFileSync(join(run, f.stats), encodeFeatureStats(featureStats(sub, { spec, source: `plate ${p.plate}` })));
      } else {
        const src = plateFiles(plan.config, plan.plates[i % distinct]!);
        linkSync(join(run, src.normalized!), join(run, f.normalized!));
        linkSync(join(run, src.stats), join(run, f.stats));
      }
      rmSync(join(run, profileFile(p)), { force: true });
      linkSync(join(run, f.normalized!), join(run, profileFile(p)));
      if (i % 100 === 0) console.log(`  plate ${i}/${P} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  }
  const one = plateFiles(plan.config, plan.plates[0]!);
  const note = distinct < P ? `${distinct} distinct plates, the rest hard links` : undefined;
  record({ stage: 'reduce', size, job: 'partial of one plate (384 wells)', wallS: 0, rssMB: 0, bytes: { stats: statSync(join(run, one.stats)).size, table: statSync(join(run, one.normalized!)).size } });
  // merge_stats: one job of the tree (fan-in 64), then the rest of that level, untimed.
  const m0 = plan.merge[0];
  if (m0) {
    const m = timed(['workflow', 'merge-stats', '--plan', join(run, 'plan.json'), '--out', m0.output, ...m0.inputs], {}, run);
    record({ stage: 'reduce', size, job: `merge_stats (${m0.inputs.length} partials)`, wallS: m.wallS, rssMB: m.rssMB, bytes: { merged: statSync(join(run, m0.output)).size }, note });
    for (const n of plan.merge.slice(1)) timed(['workflow', 'merge-stats', '--plan', join(run, 'plan.json'), '--out', n.output, ...n.inputs], {}, run);
  }
  const s = timed(['workflow', 'select', '--plan', join(run, 'plan.json'), '--out', 'selection.json', '--merged', 'stats/all.stats', ...plan.mergeRoot], {}, run);
  const sel = JSON.parse(readFileSync(join(run, 'selection.json'), 'utf8'));
  record({
    stage: 'reduce', size, job: `select (merge of ${plan.mergeRoot.length} + value counts of ${P} plates)`, wallS: s.wallS, rssMB: s.rssMB,
    bytes: { 'stats/all.stats': statSync(join(run, 'stats/all.stats')).size, 'selection.json': statSync(join(run, 'selection.json')).size }, note: `${sel.featureSelect.featuresIn} → ${sel.features.length} features${note ? `; ${note}` : ''}`,
  });
  const a = timed(['workflow', 'apply', '--plan', join(run, 'plan.json'), '--selection', 'selection.json', '--out', 'apply-test/profiles.parquet', one.normalized!], {}, run);
  record({ stage: 'reduce', size, job: 'apply (one plate)', wallS: a.wallS, rssMB: a.rssMB });
  const parts = plan.plates.map(profileFile);
  const c = timed(['workflow', 'consensus', '--plan', join(run, 'plan.json'), '--out', 'consensus.parquet', ...parts], {}, run);
  record({ stage: 'reduce', size, job: `consensus (${P} partitions, ${F} features)`, wallS: c.wallS, rssMB: c.rssMB, bytes: { 'consensus.parquet': statSync(join(run, 'consensus.parquet')).size }, note });
}

async function stageKnn(): Promise<void> {
  const N = Number(values.profiles), F = Number(values.features), S = Number(values.shards), k = Number(values.k);
  const { dir, plan } = await reduceFolder(N, F, 'knn');
  const run = join(dir, 'run');
  const size = `${N} profiles × ${F}, ${S} shards, k ${k}`;
  // The cluster jobs read consensus.parquet: here the N generated profiles themselves.
  rmSync(join(run, 'consensus.parquet'), { force: true });
  symlinkSync(join(dir, 'profiles.parquet'), join(run, 'consensus.parquet'));
  const P = ['--plan', join(run, 'plan.json')];
  let worst = { wallS: 0, rssMB: 0 };
  for (let s = 0; s < S; s++) {
    const r = timed(['workflow', 'knn-shard', ...P, '--shard', String(s), '--out', `knn/shard_${s}.knn`, 'consensus.parquet'], { PHENOMAP_THREADS: '1' }, run);
    console.log(`  shard ${s}: ${r.wallS.toFixed(1)} s, ${r.rssMB.toFixed(0)} MB`);
    if (r.wallS > worst.wallS) worst = r;
  }
  record({ stage: 'knn', size, job: 'knn_shard (slowest of the shards)', wallS: worst.wallS, rssMB: worst.rssMB, bytes: { shard: statSync(join(run, 'knn/shard_0.knn')).size } });
  const shards = Array.from({ length: S }, (_, s) => `knn/shard_${s}.knn`);
  let mw = { wallS: 0, rssMB: 0 };
  for (let b = 0; b < S; b++) {
    const r = timed(['workflow', 'knn-merge', ...P, '--block', String(b), '--out', `knn/graph_${b}.knn`, ...shards], {}, run);
    if (r.wallS > mw.wallS) mw = r;
  }
  record({ stage: 'knn', size, job: 'knn_merge (slowest block)', wallS: mw.wallS, rssMB: mw.rssMB, bytes: { block: statSync(join(run, 'knn/graph_0.knn')).size } });
  const graphs = Array.from({ length: S }, (_, b) => ['--graph', `knn/graph_${b}.knn`]).flat();
  const c = timed(['workflow', 'cluster', ...P, '--out', 'clusters.csv', ...graphs, 'consensus.parquet'], { PHENOMAP_THREADS: '2' }, run);
  const rep = JSON.parse(readFileSync(join(run, 'cluster_report.json'), 'utf8'));
  record({ stage: 'knn', size, job: 'cluster (sparse AP, 2 threads)', wallS: c.wallS, rssMB: c.rssMB, note: `${rep.clusters} clusters, ${rep.sparseAp.nIter} iterations, converged ${rep.sparseAp.converged}; sampled recall@${k} ${rep.knn.recall?.toFixed(3)}` });
  // recall@10 of the sharded graph against exact search on sampled rows
  const rk = Number(values['recall-k']);
  const G = readKnnGraph(Array.from({ length: S }, (_, b) => join(run, `knn/graph_${b}.knn`)));
  const { profiles } = await readProfiles(join(dir, 'profiles.parquet'));
  const G10 = { ...G, k: rk, indptr: Int32Array.from({ length: G.n + 1 }, (_, i) => i * rk), indices: new Int32Array(G.n * rk), distances: new Float64Array(G.n * rk) };
  for (let i = 0; i < G.n; i++) {
    G10.indices.set(G.indices.subarray(i * G.k, i * G.k + rk), i * rk);
    G10.distances.set(G.distances.subarray(i * G.k, i * G.k + rk), i * rk);
  }
  const t0 = performance.now();
  const recall = sampledRecall(profiles.X, G10, Number(values['recall-sample']), 7);
  record({ stage: 'knn', size, job: `recall@${rk} vs exact (${values['recall-sample']} sampled rows)`, wallS: (performance.now() - t0) / 1000, rssMB: 0, note: recall.toFixed(4) });
}

function show(): void {
  console.log('| stage | size | job | wall | peak RSS | note |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    const b = r.bytes ? ` sizes: ${Object.entries(r.bytes).map(([k, v]) => `${k} ${MB(v)}`).join(', ')}` : '';
    console.log(`| ${r.stage} | ${r.size} | ${r.job} | ${r.wallS.toFixed(1)} s | ${r.rssMB ? `${r.rssMB.toFixed(0)} MB` : '—'} | ${r.note ?? ''}${b} |`);
  }
  projection();
}

/**
 * Projected wall time of a whole run of `--plates` plates on N nodes of C cores, from the jobs
 * measured above, stage after stage as the Snakefile orders them (a stage waits for the one before):
 *
 *   plate       ⌈P / (N·j)⌉ waves of the 10⁶-cell plate job, j = plate jobs per node: 2 threads
 *               each, and as many as the node's memory (--mem-per-node GB) holds at their peak RSS
 *   merge_stats ⌈⌈P/64⌉ / (N·C)⌉ waves of the 64-partial merge job
 *   select      one job (measured at the profile count nearest to P·384)
 *   apply       ⌈P / (N·C)⌉ waves of the one-plate apply job
 *   consensus   one job (nearest profile count)
 *   knn_shard   ⌈S / (N·C)⌉ waves of the slowest shard job, S = the measured shard count
 *   knn_merge   one wave (S blocks)
 *   cluster     one job
 *
 * plus --job-overhead seconds per stage (submission, scheduling, start-up: about 12 s per job round
 * trip through sbatch in test/workflow/slurm.test.ts on this machine) and the report. The
 * cluster stage works on consensus profiles (one per compound), so its measurement at 10⁵
 * profiles is the JUMP case (~116,000 compounds). Nodes are assumed as fast as this one's
 * cores; I/O to a shared file system is not modelled (every partial is small: see the sizes).
 */
function projection(): void {
  const P = Number(values.plates), C = Number(values['cores-per-node']), memGB = Number(values['mem-per-node']), over = Number(values['job-overhead']);
  const profiles = P * 384;
  const pick = (stage: string, job: RegExp, near?: number): Measure | undefined => {
    const c = results.filter((r) => r.stage === stage && job.test(r.job) && r.wallS > 0);
    if (!c.length) return undefined;
    if (near === undefined) return c[c.length - 1];
    const n = (r: Measure) => Number(/^(\d+)/.exec(r.size)?.[1] ?? 0);
    return c.reduce((a, b) => (Math.abs(Math.log(n(b) / near)) < Math.abs(Math.log(n(a) / near)) ? b : a));
  };
  const plate = pick('plate', /^plate \(/);
  const merge = pick('reduce', /^merge_stats/, profiles);
  const select = pick('reduce', /^select/, profiles);
  const apply = pick('reduce', /^apply/, profiles);
  const consensus = pick('reduce', /^consensus/, profiles);
  const shard = pick('knn', /^knn_shard/), kmerge = pick('knn', /^knn_merge/), cluster = pick('knn', /^cluster/);
  const missing = Object.entries({ plate, merge, select, apply, consensus, shard, kmerge, cluster }).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length) {
    console.log(`\nprojection: not yet measured: ${missing.join(', ')}`);
    return;
  }
  const S = Number(/(\d+) shards/.exec(shard!.size)?.[1] ?? 1);
  const perNode = Math.max(1, Math.min(Math.floor(C / 2), Math.floor((memGB * 1024) / plate!.rssMB)));
  console.log(`\nProjected wall time for ${P} plates (${profiles} wells; plate job measured at ${plate!.size}: ${plate!.wallS.toFixed(0)} s, ${(plate!.rssMB / 1024).toFixed(2)} GB), nodes of ${C} cores and ${memGB} GB (${perNode} plate jobs at a time per node), ${over} s per stage for submission and start-up:`);
  console.log(`reduce steps measured at ${select!.size}; k-NN and clustering at ${shard!.size}\n`);
  console.log('| nodes | plate jobs | merge + select | apply | consensus | k-NN (shards + merge) | cluster | total |');
  console.log('|---|---|---|---|---|---|---|---|');
  const fmt = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);
  for (const N of values.nodes!.split(',').map(Number)) {
    const slots = N * C, plateSlots = N * perNode;
    const tPlate = Math.ceil(P / plateSlots) * plate!.wallS + over;
    const tMerge = Math.ceil(Math.ceil(P / 64) / slots) * merge!.wallS + over + select!.wallS + over;
    const tApply = Math.ceil(P / slots) * apply!.wallS + over;
    const tCons = consensus!.wallS + over;
    const tKnn = Math.ceil(S / slots) * shard!.wallS + over + kmerge!.wallS + over;
    const tCluster = cluster!.wallS + over + over;
    const total = tPlate + tMerge + tApply + tCons + tKnn + tCluster;
    console.log(`| ${N} × ${C} cores | ${fmt(tPlate)} | ${fmt(tMerge)} | ${fmt(tApply)} | ${fmt(tCons)} | ${fmt(tKnn)} | ${fmt(tCluster)} | **${fmt(total)}** |`);
  }
}

if (stage === 'plate') stagePlate();
else if (stage === 'reduce') await stageReduce();
else if (stage === 'knn') await stageKnn();
show();
