/**
 * The workflow glue without Snakemake (as Snakemake catalogue workflows test their `.test/`
 * configs): a tiny three-plate config is planned, written, and its jobs' commands are run one
 * by one through the CLI; the answer must be `phenomap profile`'s, bit for bit. Bad input gets a
 * clear message: a config naming a missing plate, a corrupt plate (its job fails naming it, the
 * other plates' jobs complete), a missing Snakemake or Slurm.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync, closeSync, writeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeSingleCellPlate } from '../../src/cells/index.js';
import { exactKnn } from '../../src/cluster/knnGraph.js';
import { Rng } from '../../src/linalg/rng.js';
import { loadProfileConfig, planJobs, mergeTree, planProfile, runProfile } from '../../src/workflow/index.js';
import { compareRuns } from '../../src/workflow/compare.js';
import { knnShard, mergeKnnShardFiles, writeKnnBlock, writeKnnShard, readKnnGraph } from '../../src/workflow/knnShards.js';
import { checkSlurm, checkSnakemake, phenomapCommand, snakefile, writeWorkflow } from '../../src/workflow/snakemake.js';
import { runCli } from '../io/helpers.js';

let dir: string;
let cfgPath: string;

/** Three small generated plates in three layouts, a plate map, and a config using every step. */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'phenomap-workflow-'));
  const plates = join(dir, 'plates');
  mkdirSync(plates);
  const layouts = ['cytominer-sqlite', 'cellprofiler-sqlite', 'spreadsheet'] as const;
  for (const [k, layout] of layouts.entries()) {
    const name = `P${k + 1}`;
    await writeSingleCellPlate(join(plates, layout === 'spreadsheet' ? name : `${name}.sqlite`), { layout, cells: 400, features: 6, wells: 8, sites: 2, plate: name, seed: 11 + k });
  }
  mkdirSync(join(dir, 'meta', 'platemap'), { recursive: true });
  writeFileSync(join(dir, 'meta', 'barcode_platemap.csv'), 'Assay_Plate_Barcode,Plate_Map_Name\nP1,M\nP2,M\nP3,M\nP4,M\n');
  writeFileSync(join(dir, 'meta', 'platemap', 'M.txt'), 'well_position\tcompound\tmoa\nA01\tDMSO\t\nA02\tDMSO\t\nA03\td1\tm1\nA04\td1\tm1\nA05\td2\tm2\nA06\td2\tm2\nA07\td3\tm1\nA08\td3\tm1\n');
  cfgPath = join(dir, 'config.yaml');
  writeFileSync(cfgPath, stringify({
    output: 'run-profile',
    sources: ['plates'],
    annotate: { barcodePlatemap: 'meta/barcode_platemap.csv' },
    normalize: { method: 'mad_robustize', samples: "Metadata_compound == 'DMSO'" },
    featureSelect: { operations: ['drop_na_columns', 'frequency_threshold', 'correlation_threshold', 'drop_outliers'], corrThreshold: 0.7 },
    consensus: { strata: ['Metadata_compound'] },
    cluster: { on: 'profiles', k: 4, shards: 2, labelColumn: 'Metadata_moa', minLabel: 2 },
    workflow: { mergeFanIn: 2 },
  }));
});

describe('the workflow plan run job by job (no Snakemake)', () => {
  it('equals phenomap profile bit for bit; the Snakefile runs the same commands', async () => {
    const config = loadProfileConfig(cfgPath);
    const a = await runProfile(config);
    expect(a.plates.map((p) => [p.plate, p.wells])).toEqual([['P1', 8], ['P2', 8], ['P3', 8]]);
    expect(a.cluster?.knn).toEqual(expect.objectContaining({ method: 'exact', shards: 2 }));
    expect(a.featureSelect!.removed.length).toBeGreaterThan(0);

    const out = join(dir, 'run-jobs');
    const plan = await planProfile({ ...config, output: out });
    writeWorkflow(plan);
    const jobs = planJobs(plan);
    // 3 plates, merge tree (P1+P2, P3) → the select job merges the two, 3 applies, consensus, 2 shards, 2 merges, cluster, report
    expect(jobs.map((j) => j.rule)).toEqual(['plate', 'plate', 'plate', 'merge_stats', 'merge_stats', 'select', 'apply', 'apply', 'apply', 'consensus', 'knn_shard', 'knn_shard', 'knn_merge', 'knn_merge', 'cluster', 'report']);
    for (const job of jobs) {
      const args = job.args.map((x) => (x === 'plan.json' ? join(out, 'plan.json') : x));
      const r = await runCli(job.rule === 'plate' ? [...args, '-q'] : args);
      expect(r.code, `${job.id}: ${r.stderr}`).toBe(0);
      for (const o of job.outputs) expect(existsSync(join(out, o)), `${job.id} wrote ${o}`).toBe(true);
    }
    const cmp = await compareRuns(config.output, out);
    expect(cmp.problems).toEqual([]);
    expect(cmp.tables.length).toBe(3 * 3 + 3 + 1); // per plate 3 tables, 3 partitions, consensus
    for (const t of cmp.tables) expect(t.identical, t.file).toBe(true);
    expect(readFileSync(join(out, 'clusters.csv'), 'utf8')).toBe(readFileSync(join(config.output, 'clusters.csv'), 'utf8'));
    const cli = await runCli(['workflow', 'compare', config.output, out]);
    expect(cli.stdout).toMatch(/13 table\(s\) compared: 13 identical, largest relative difference 0/);

    // Every job's command appears in the Snakefile's shell templates with its wildcards.
    const smk = readFileSync(join(out, 'Snakefile'), 'utf8');
    expect(smk).toBe(snakefile(plan, phenomapCommand(plan.config)));
    for (const step of ['plate', 'merge-stats', 'select', 'apply', 'consensus', 'knn-shard', 'knn-merge', 'cluster', 'report']) expect(smk).toContain(` workflow ${step} --plan plan.json`);
    expect(readFileSync(join(out, 'snakemake', 'slurm', 'config.yaml'), 'utf8')).toMatch(/cluster: "sbatch --parsable .*--mem=\{resources.mem_mb\}/);
  });

  it('a config naming a plate no source holds is refused, naming it and the plates found', async () => {
    const config = loadProfileConfig(cfgPath);
    await expect(planProfile({ ...config, plates: ['P1', 'P9'] })).rejects.toThrow(/the config names plate P9, which no source holds \(the sources hold 3 plate\(s\): P1, P2, P3\)/);
    const r = await runCli(['workflow', cfgPath, '--output', join(dir, 'x')]);
    expect(r.code).toBe(0);
    const p = await planProfile({ ...config, plates: ['P2'] });
    expect(p.plates.map((q) => q.plate)).toEqual(['P2']);
  });

  it('a corrupt plate is planned under its file name; its job fails naming it while the other plates complete', async () => {
    const plates = join(dir, 'plates-bad');
    mkdirSync(plates);
    for (const [k, name] of ['P1', 'P4'].entries()) {
      await writeSingleCellPlate(join(plates, `${name}.sqlite`), { layout: 'cytominer-sqlite', cells: 300, features: 4, wells: 8, sites: 2, plate: name, seed: k });
    }
    // Damage the second half of P4 (its object tables and indexes).
    const f = join(plates, 'P4.sqlite');
    const size = statSync(f).size;
    const fd = openSync(f, 'r+');
    const junk = Buffer.alloc(size - Math.floor(size / 2));
    new Rng(3).fillNormal(new Float64Array(junk.buffer, 0, Math.floor(junk.length / 8)));
    writeSync(fd, junk, 0, junk.length, Math.floor(size / 2));
    closeSync(fd);
    const config = { ...loadProfileConfig(cfgPath), sources: [plates], output: join(dir, 'run-bad'), cluster: undefined, consensus: undefined };
    const plan = await planProfile(config);
    expect(plan.plates.map((p) => [p.id, !!p.unreadable])).toEqual([['P1', false], ['P4', true]]);
    writeWorkflow(plan);
    const runPlate = (id: string) => runCli(['workflow', 'plate', '--plan', join(config.output, 'plan.json'), '--plate', id, '--out', `plates/${id}`, '-q']);
    const bad = await runPlate('P4');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^phenomap: plate P4 \(.*P4\.sqlite\): .*P4\.sqlite.*(malformed|not a database|damaged)/);
    expect(existsSync(join(config.output, 'plates', 'P4', 'P4_plate.json'))).toBe(false);
    const good = await runPlate('P1');
    expect(good.code, good.stderr).toBe(0);
    expect(existsSync(join(config.output, 'plates', 'P1', 'P1_plate.json'))).toBe(true);
    // single machine: the run stops at the bad plate with the same message, and leaves no output
    await expect(runProfile({ ...config, output: join(dir, 'run-bad-profile') })).rejects.toThrow(/plate P4 \(.*P4\.sqlite\)/);
    expect(existsSync(join(dir, 'run-bad-profile'))).toBe(false);
  });

  it('missing pieces are named: no snakemake, no sbatch', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'empty-bin');
    try {
      expect(() => checkSnakemake()).toThrow(/snakemake is not on PATH: install Snakemake 7/);
      expect(() => checkSlurm()).toThrow(/sbatch is not on PATH: this machine has no Slurm client/);
      const r = await runCli(['workflow', cfgPath, '--output', join(dir, 'y'), '--run', 'slurm']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/snakemake is not on PATH/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('workflow pieces', () => {
  it('the merge tree: fan-in per node, plates in order, root stats/all.stats', () => {
    const leaves = Array.from({ length: 7 }, (_, i) => `p${i}.stats`);
    const t = mergeTree(leaves, 3);
    expect(t.map((n) => [n.id, n.inputs])).toEqual([
      ['m1_0', ['p0.stats', 'p1.stats', 'p2.stats']], ['m1_1', ['p3.stats', 'p4.stats', 'p5.stats']], ['m1_2', ['p6.stats']],
      ['all', ['stats/m1_0.stats', 'stats/m1_1.stats', 'stats/m1_2.stats']],
    ]);
    expect(mergeTree(leaves, 64).map((n) => n.id)).toEqual(['all']);
  });

  it('k-NN in shards: exact shards merged through files = the exact graph; HNSW shards recall ≥ 0.95', () => {
    const rng = new Rng(5);
    const n = 600, d = 12;
    const X = { rows: n, cols: d, data: new Float64Array(n * d) };
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X.data[i * d + j] = rng.normal() + (i % 6) * 0.8 * (j % 3 === 0 ? 1 : 0);
    const k = 10, S = 3;
    const kdir = join(dir, 'knn');
    for (const method of ['exact', 'hnsw'] as const) {
      const shards = Array.from({ length: S }, (_, s) => {
        const f = join(kdir, `${method}_shard_${s}.knn`);
        writeKnnShard(f, knnShard(X, k, s, S, { method, hnsw: { seed: 1 } }));
        return f;
      });
      const blocks = [0, 250, 410, n].slice(1).map((to, b, a) => {
        const f = join(kdir, `${method}_block_${b}.knn`);
        writeKnnBlock(f, mergeKnnShardFiles(shards, b === 0 ? 0 : a[b - 1]!, to));
        return f;
      });
      const G = readKnnGraph(blocks);
      const E = exactKnn(X, k);
      let hit = 0;
      for (let i = 0; i < n; i++) {
        const want = new Set(E.indices.subarray(i * k, (i + 1) * k));
        for (const j of G.indices.subarray(i * k, (i + 1) * k)) if (want.has(j)) hit++;
      }
      if (method === 'exact') {
        expect(Array.from(G.indices)).toEqual(Array.from(E.indices));
        expect(Array.from(G.distances)).toEqual(Array.from(E.distances));
      } else expect(hit / (n * k)).toBeGreaterThanOrEqual(0.95);
    }
    expect(() => mergeKnnShardFiles([join(kdir, 'exact_shard_0.knn')], 0, 10)).toThrow(/1 of 3 shards given/);
  });
});
