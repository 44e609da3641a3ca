/**
 * The workflow on a real engine: Snakemake's local executor, and a real Slurm cluster (CI starts
 * one with scripts/slurm/start.sh; `.ci/run` sets PHENOMAP_REQUIRE_SLURM=1 so that a missing
 * cluster fails instead of skipping). Without snakemake / Slurm these tests are skipped with
 * the reason printed.
 *
 * Slurm: ≥ 4 plates — generated single-cell plates in three layouts, one large enough to be
 * killed while it runs, and the real plates of ../shared/data/singlecell (cytominer-database
 * data_b, the NF1 Schwann-cell ExportToDatabase SQLite), joined on their shared features — run
 * through sbatch and compared with `phenomap profile` (every table identical, same clusters);
 * a plate job cancelled mid-way with scancel, then the workflow rerun: the finished plates are
 * not redone, nothing half-written counts as done, the answer is unchanged; a corrupt plate
 * fails its job naming it while the others complete; a controller that does not answer is a
 * clear message, not a hang. The jobs run the built CLI (bin/phenomap.js → dist/), rebuilt here
 * when src/ is newer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, closeSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeSingleCellPlate } from '../../src/cells/index.js';
import { loadProfileConfig, runProfile } from '../../src/workflow/index.js';
import { compareRuns } from '../../src/workflow/compare.js';
import { checkSlurm, checkSnakemake } from '../../src/workflow/snakemake.js';
import { repoRoot, sharedPath } from '../helpers/shared.js';

function available(check: () => unknown): string | null {
  try {
    check();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const noSnakemake = available(checkSnakemake);
const noSlurm = noSnakemake ?? available(() => checkSlurm(15));
const required = process.env.PHENOMAP_REQUIRE_SLURM === '1';

/** describe() when `missing` is null; else skipped with the reason printed (or failing when required). */
function describeWhen(name: string, missing: string | null, fn: () => void): void {
  if (!missing) {
    describe(name, fn);
    return;
  }
  if (required) {
    describe(name, () => it('needs Snakemake and Slurm (PHENOMAP_REQUIRE_SLURM=1)', () => {
      throw new Error(missing);
    }));
    return;
  }
  console.warn(`[skip] ${name}: ${missing}`);
  describe.skip(name, fn);
}

/** The jobs run bin/phenomap.js, i.e. dist/: rebuild it when a source file is newer. */
function ensureBuilt(): void {
  const newest = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(d, e.name)) : statSync(join(d, e.name)).mtimeMs), 0);
  const built = join(repoRoot, 'dist', 'cli', 'main.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(repoRoot, 'src'))) return;
  const r = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed: ${r.stdout}${r.stderr}`);
}

/** Run the built CLI; resolves with its exit code and output. `onLine` sees stdout+stderr as they come. */
function phenomap(args: string[], opts: { env?: NodeJS.ProcessEnv; log?: string; onStart?: (pid: number) => void } = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'phenomap.js'), ...args], { env: { ...process.env, CI: 'true', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const add = (b: Buffer) => {
      out += b.toString();
      if (opts.log) writeFileSync(opts.log, out);
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
const realPlates = ['data/singlecell/cytominer-database/data_b.sqlite', 'data/singlecell/cellprofiler/nf1-schwann/all_cellprofiler.sqlite'];

/** Generated plates (+ the real ones when ../shared is there), plate maps, and a config using every step. */
async function makeInputs(withBig: boolean, withReal: boolean): Promise<{ config: string; sources: string[] }> {
  const plates = join(dir, withBig ? 'plates' : 'plates-small');
  mkdirSync(plates, { recursive: true });
  const gen: [string, 'cytominer-sqlite' | 'cellprofiler-sqlite' | 'spreadsheet', number][] = [['G1', 'cytominer-sqlite', 1500], ['G2', 'cellprofiler-sqlite', 1500], ['G3', 'spreadsheet', 1000]];
  if (withBig) gen.push(['BIG', 'cytominer-sqlite', 150000]);
  for (const [k, [name, layout, cells]] of gen.entries()) {
    const out = join(plates, layout === 'spreadsheet' ? name : `${name}.sqlite`);
    if (!existsSync(out)) await writeSingleCellPlate(out, { layout, cells, features: 40, wells: 24, sites: 2, plate: name, seed: 100 + k });
  }
  const meta = join(dir, 'meta');
  mkdirSync(join(meta, 'platemap'), { recursive: true });
  writeFileSync(join(meta, 'barcode_platemap.csv'), 'Assay_Plate_Barcode,Plate_Map_Name\nG1,M\nG2,M\nG3,M\nBIG,M\nSQ00015116,C-7161-01-LM6-001\n001,NF1\n');
  const rows = ['well_position\tcompound\tmoa'];
  for (let i = 0; i < 24; i++) rows.push(`A${String(i + 1).padStart(2, '0')}\t${i < 4 ? 'DMSO' : `drug${(i - 4) >> 1}`}\t${i < 4 ? '' : `moa${((i - 4) >> 1) % 3}`}`);
  writeFileSync(join(meta, 'platemap', 'M.txt'), rows.join('\n') + '\n');
  const sources = [plates];
  const lincs = sharedPath('data/singlecell/metadata/C-7161-01-LM6-001.txt'), nf1 = sharedPath('data/singlecell/metadata/platemap_NF1_CP.csv');
  if (withReal && realPlates.every((p) => sharedPath(p)) && lincs && nf1) {
    copyFileSync(lincs, join(meta, 'platemap', 'C-7161-01-LM6-001.txt'));
    copyFileSync(nf1, join(meta, 'platemap', 'NF1.csv'));
    sources.push(...realPlates.map((p) => sharedPath(p)!));
  } else if (withReal) console.warn('[note] ../shared/data/singlecell is absent: the Slurm test runs on generated plates only');
  const config = join(dir, withBig ? 'config.yaml' : 'config-small.yaml');
  writeFileSync(config, stringify({
    output: 'unused',
    sources,
    featureJoin: 'intersection',
    annotate: { barcodePlatemap: 'meta/barcode_platemap.csv' },
    normalize: { method: 'mad_robustize', samples: 'all' },
    featureSelect: { operations: ['drop_na_columns', 'frequency_threshold', 'correlation_threshold', 'drop_outliers'], corrThreshold: 0.8 },
    consensus: { strata: ['Metadata_Plate', 'Metadata_compound'] },
    cluster: { on: 'profiles', k: 5, shards: 2, labelColumn: 'Metadata_moa', minLabel: 2 },
    workflow: {
      mergeFanIn: 3, jobs: 8, latencyWait: 5,
      resources: Object.fromEntries(['plate', 'merge_stats', 'select', 'apply', 'consensus', 'knn_shard', 'knn_merge', 'cluster', 'report'].map((r) => [r, { threads: 1, memMb: 1000, runtimeMin: 20 }])),
    },
  }));
  return { config, sources };
}

/** Inode and mtime of every file under a folder (what "not redone" means). */
function snapshot(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out[p] = `${s.ino}:${s.mtimeMs}`;
      }
    }
  };
  walk(folder);
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'phenomap-slurm-'));
  // In-process runs read SQLite plates on one thread: cells/'s worker threads load the compiled
  // worker (dist/), which vitest's TypeScript sources do not provide.
  process.env.PHENOMAP_THREADS = '1';
});
afterAll(() => {
  if (process.env.PHENOMAP_KEEP_TEST_DIR) console.warn(`[kept] ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

describeWhen('the workflow through Snakemake\'s local executor', noSnakemake, () => {
  it('gives phenomap profile\'s tables and clusters', { timeout: 600_000 }, async () => {
    ensureBuilt();
    const { config } = await makeInputs(false, false);
    const local = join(dir, 'local-profile'), smk = join(dir, 'local-snakemake');
    await runProfile({ ...loadProfileConfig(config), output: local });
    const r = await phenomap(['workflow', config, '--output', smk, '--run', 'local', '--cores', '2']);
    expect(r.code, r.out).toBe(0);
    const cmp = await compareRuns(local, smk);
    expect(cmp.problems).toEqual([]);
    for (const t of cmp.tables) expect(t.identical, t.file).toBe(true);
    // a second run has nothing to do
    const again = await phenomap(['workflow', config, '--output', smk, '--run', 'local']);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/Nothing to be done/);
  });
});

describeWhen('the workflow on Slurm', noSlurm, () => {
  let config: string;
  let single: string;
  const out = () => join(dir, 'slurm');
  let job = '';
  let before: Record<string, Record<string, string>> = {};
  let others: string[] = [];

  beforeAll(async () => {
    ensureBuilt();
    ({ config } = await makeInputs(true, true));
    single = join(dir, 'single-machine');
    await runProfile({ ...loadProfileConfig(config), output: single });
  }, 600_000);

  it('a plate job cancelled mid-way (scancel) fails alone: the other plates finish, nothing of it counts as done', { timeout: 600_000 }, async () => {
    const log = join(dir, 'slurm-1.log');
    const run = phenomap(['workflow', config, '--output', out(), '--run', 'slurm'], { log });
    // Find BIG's Slurm job, wait until it is aggregating, cancel it.
    const t0 = Date.now();
    for (;;) {
      expect(Date.now() - t0, 'BIG did not start within 3 minutes').toBeLessThan(180_000);
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      // Snakemake prints each job's block (… wildcards: plate=BIG …), then "Submitted (group) job … with external jobid 'X'".
      const at = text.indexOf('wildcards: plate=BIG');
      const sm = at < 0 ? null : /Submitted (?:group )?job \S+ with external jobid '(\d+)'/.exec(text.slice(at));
      const bigLog = join(out(), 'logs', 'plate', 'BIG.log');
      const started = existsSync(bigLog) && /aggregating/.test(readFileSync(bigLog, 'utf8'));
      if (sm && started && spawnSync('squeue', ['-h', '-j', sm[1]!, '-o', '%T'], { encoding: 'utf8' }).stdout.trim() === 'RUNNING') {
        job = sm[1]!;
        break;
      }
      await sleep(200);
    }
    await sleep(1000);
    expect(spawnSync('scancel', [job]).status).toBe(0);
    const first = await run;
    expect(first.code).not.toBe(0);
    expect(first.out).toMatch(/Error in (rule plate|group plates):/);
    expect(first.out).toMatch(new RegExp(`Error executing .* on cluster \\(jobid: .*external: ${job}\\b`));
    expect(spawnSync('scontrol', ['show', 'job', '-o', job], { encoding: 'utf8' }).stdout).toMatch(/JobState=CANCELLED/);
    // nothing of BIG counts as done (its report is the job's last output), no final name holds a partial file
    expect(existsSync(join(out(), 'plates', 'BIG', 'BIG_plate.json'))).toBe(false);
    for (const f of existsSync(join(out(), 'plates', 'BIG')) ? readdirSync(join(out(), 'plates', 'BIG')) : []) expect(f.startsWith('.'), `left ${f}`).toBe(true);
    others = readdirSync(join(out(), 'plates')).filter((p) => p !== 'BIG');
    expect(others.length).toBeGreaterThanOrEqual(4);
    for (const p of others) expect(existsSync(join(out(), 'plates', p, `${p}_plate.json`)), p).toBe(true);
    before = Object.fromEntries(others.map((p) => [p, snapshot(join(out(), 'plates', p))]));
  });

  it('the rerun redoes only that plate and what follows; every job ran through sbatch; tables (≤ 1e-12, here identical) and clusters equal phenomap profile\'s', { timeout: 600_000 }, async () => {
    expect(job, 'the first run was not cancelled').not.toBe('');
    const second = await phenomap(['workflow', config, '--output', out(), '--run', 'slurm'], { log: join(dir, 'slurm-2.log') });
    expect(second.code, second.out.slice(-3000)).toBe(0);
    expect((second.out.match(/rule plate:/g) ?? []).length).toBe(1);
    expect(second.out).toMatch(/rule plate:[\s\S]*?wildcards: plate=BIG/);
    for (const p of others) expect(snapshot(join(out(), 'plates', p)), p).toEqual(before[p]);
    const plan = JSON.parse(readFileSync(join(out(), 'plan.json'), 'utf8')) as { plates: { source: string }[] };
    expect(plan.plates.length).toBeGreaterThanOrEqual(5);
    // every job went through sbatch: one Slurm log per submission (plate and subset jobs are bundled per group)
    const both = readFileSync(join(dir, 'slurm-1.log'), 'utf8') + second.out;
    const submitted = new Set([...both.matchAll(/Submitted (?:group )?job \S+ with external jobid '(\d+)'/g)].map((m) => m[1]));
    expect(submitted.size).toBe(readdirSync(join(out(), 'logs', 'slurm')).length);
    expect(both).not.toMatch(/localrule (?!all)/);
    const cmp = await compareRuns(single, out());
    expect(cmp.problems).toEqual([]);
    expect(cmp.tables.length).toBeGreaterThanOrEqual(3 * plan.plates.length);
    for (const t of cmp.tables) expect(t.identical, t.file).toBe(true);
    expect(readFileSync(join(out(), 'clusters.csv'), 'utf8')).toBe(readFileSync(join(single, 'clusters.csv'), 'utf8'));
  });

  it('a corrupt plate fails its own job with a message naming it; the other plates complete', { timeout: 600_000 }, async () => {
    const plates = join(dir, 'plates-corrupt');
    mkdirSync(plates, { recursive: true });
    for (const p of ['G1.sqlite', 'G2.sqlite']) copyFileSync(join(dir, 'plates', p), join(plates, p));
    copyFileSync(join(dir, 'plates', 'G1.sqlite'), join(plates, 'BAD.sqlite'));
    const f = join(plates, 'BAD.sqlite');
    const size = statSync(f).size;
    const fd = openSync(f, 'r+');
    const from = Math.floor(size / 3);
    writeSync(fd, Buffer.alloc(size - from, 0x5a), 0, size - from, from);
    closeSync(fd);
    const cfg = join(dir, 'config-corrupt.yaml');
    const base = readFileSync(config, 'utf8').replace(/sources:[\s\S]*?featureJoin/, `sources:\n  - ${plates}\nfeatureJoin`);
    writeFileSync(cfg, base);
    const out = join(dir, 'corrupt');
    const r = await phenomap(['workflow', cfg, '--output', out, '--run', 'slurm']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/warning: .*BAD\.sqlite could not be read .*its job \(plate BAD\) will fail, the other plates run/);
    expect(readFileSync(join(out, 'logs', 'plate', 'BAD.log'), 'utf8')).toMatch(/phenomap: plate BAD \(.*BAD\.sqlite\): .*BAD\.sqlite.*(malformed|damaged|not a database)/);
    for (const p of ['G1', 'G2']) expect(existsSync(join(out, 'plates', p, `${p}_plate.json`)), p).toBe(true);
  });

  it('a Slurm controller that does not answer is a clear message, not a hang', { timeout: 600_000 }, async () => {
    const conf = readFileSync(process.env.SLURM_CONF ?? '/etc/slurm/slurm.conf', 'utf8').replace(/^SlurmctldPort=.*$/m, 'SlurmctldPort=6999');
    const dead = join(dir, 'dead');
    mkdirSync(dead, { recursive: true });
    writeFileSync(join(dead, 'slurm.conf'), /SlurmctldPort=/.test(conf) ? conf : `${conf}\nSlurmctldPort=6999\n`);
    if (existsSync(join(process.env.SLURM_CONF ? join(process.env.SLURM_CONF, '..') : '/etc/slurm', 'cgroup.conf'))) {
      copyFileSync(join(process.env.SLURM_CONF ? join(process.env.SLURM_CONF, '..') : '/etc/slurm', 'cgroup.conf'), join(dead, 'cgroup.conf'));
    }
    const t0 = Date.now();
    const r = await phenomap(['workflow', config, '--output', join(dir, 'dead-run'), '--run', 'slurm'], { env: { SLURM_CONF: join(dead, 'slurm.conf') } });
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/phenomap: Slurm does not answer \(sinfo: .*\); is slurmctld running for SLURM_CONF=.*dead\/slurm\.conf\?/);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });
});
