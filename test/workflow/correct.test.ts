/**
 * Batch correction in the profiling config (issue 19): a `correct` section adds one job after the
 * per-plate `apply` jobs; it fits the correction on every plate's selected profiles, writes each
 * plate's corrected partition, the model and a record with the before / after metrics, and the
 * consensus and clustering read the corrected profiles. `profile` and the jobs run one by one
 * through the CLI give the same bits; the corrected partitions equal the library call on the
 * stacked profiles. Config mistakes name the key.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeSingleCellPlate } from '../../src/cells/index.js';
import { readProfileTables } from '../../src/io/readMany.js';
import { readProfiles } from '../../src/io/read.js';
import { metaStrings } from '../../src/io/profiles.js';
import { correctProfiles } from '../../src/batch/profiles.js';
import { loadModel } from '../../src/batch/persist.js';
import { consensus } from '../../src/preprocess/consensus.js';
import { checkProfileConfig, loadProfileConfig, planJobs, planProfile, runProfile } from '../../src/workflow/index.js';
import { compareRuns } from '../../src/workflow/compare.js';
import { phenomapCommand, snakefile, writeWorkflow } from '../../src/workflow/snakemake.js';
import type { Profiles } from '../../src/io/profiles.js';
import { runCli } from '../io/helpers.js';

let dir: string;
let cfgPath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'phenomap-correct-'));
  const plates = join(dir, 'plates');
  mkdirSync(plates);
  for (const [k, name] of ['P1', 'P2', 'P3'].entries()) {
    await writeSingleCellPlate(join(plates, `${name}.sqlite`), { layout: 'cytominer-sqlite', cells: 400, features: 6, wells: 8, sites: 2, plate: name, seed: 40 + k });
  }
  mkdirSync(join(dir, 'meta', 'platemap'), { recursive: true });
  writeFileSync(join(dir, 'meta', 'barcode_platemap.csv'), 'Assay_Plate_Barcode,Plate_Map_Name\nP1,M\nP2,M\nP3,M\n');
  writeFileSync(join(dir, 'meta', 'platemap', 'M.txt'), 'well_position\tcompound\tmoa\nA01\tDMSO\tcontrol\nA02\tDMSO\tcontrol\nA03\td1\tm1\nA04\td1\tm1\nA05\td2\tm2\nA06\td2\tm2\nA07\td3\tm1\nA08\td3\tm1\n');
  cfgPath = join(dir, 'config.yaml');
  writeFileSync(cfgPath, stringify({
    output: 'run-profile',
    sources: ['plates'],
    annotate: { barcodePlatemap: 'meta/barcode_platemap.csv' },
    normalize: { method: 'standardize', samples: 'all' },
    featureSelect: { operations: ['drop_na_columns', 'frequency_threshold'] },
    correct: { method: 'sphere', controls: "Metadata_compound == 'DMSO'", options: { shrinkage: 0.5 }, labelColumn: 'Metadata_moa', compoundColumn: 'Metadata_compound' },
    consensus: { strata: ['Metadata_compound'] },
    cluster: { on: 'profiles', k: 4, shards: 2, labelColumn: 'Metadata_moa', minLabel: 2 },
  }));
});

describe('profiling config: correct section', () => {
  it('one correct job between apply and consensus; profile = the jobs one by one = the library call', async () => {
    const config = loadProfileConfig(cfgPath);
    const a = await runProfile(config);
    const out = config.output;
    expect(a.correction?.report.method).toBe('sphere');
    expect(a.correction?.report.batchCol).toBe('Metadata_Plate');
    expect(a.correction?.report.batches).toEqual([{ batch: 'P1', rows: 8, controls: 2 }, { batch: 'P2', rows: 8, controls: 2 }, { batch: 'P3', rows: 8, controls: 2 }]);
    expect(a.correction?.controls).toBe(6);
    expect(a.correction?.metrics?.before.mixing.ilisi).toBeGreaterThan(0);
    expect(a.correction?.metrics?.after.mixing.ilisi).toBeGreaterThan(0);
    expect(a.correction?.files.corrected.map((f) => f.slice(out.length + 1))).toEqual(['P1', 'P2', 'P3'].map((p) => `corrected/Metadata_Plate=${p}/profiles.parquet`));

    // The corrected partitions are the library's correction of the stacked selected profiles.
    const sel = (await readProfileTables(a.profiles.files, { metadata: ['Metadata_*'] })).profiles as Profiles;
    const isDmso = metaStrings(sel, 'Metadata_compound').map((c) => c === 'DMSO');
    const lib = correctProfiles(sel, { method: 'sphere', batchCol: 'Metadata_Plate', controls: isDmso, options: { shrinkage: 0.5 } }).profiles;
    const cor = (await readProfileTables(a.correction!.files.corrected, { metadata: ['Metadata_*'] })).profiles;
    expect(cor.features).toEqual(lib.features);
    expect(Array.from(cor.X.data)).toEqual(Array.from(lib.X.data));
    expect(Array.from(cor.X.data)).not.toEqual(Array.from(sel.X.data));
    expect(metaStrings(cor, 'Metadata_Well')).toEqual(metaStrings(sel, 'Metadata_Well'));
    // The model is an output and reads back; consensus is taken over the corrected profiles.
    expect(loadModel<{ kind: string }>(join(out, 'batch_model.json')).kind).toBe('sphere');
    const cons = (await readProfiles(join(out, 'consensus.parquet'))).profiles;
    const want = consensus(lib, { strata: ['Metadata_compound'], method: 'median' }).profiles;
    expect(Array.from(cons.X.data)).toEqual(Array.from(want.X.data));
    expect(readFileSync(join(out, 'profile_report.html'), 'utf8')).toContain('corrected profiles (per Metadata_Plate)');

    const jobsOut = join(dir, 'run-jobs');
    const plan = await planProfile({ ...config, output: jobsOut });
    writeWorkflow(plan);
    const jobs = planJobs(plan);
    expect(jobs.map((j) => j.rule)).toEqual(['plate', 'plate', 'plate', 'select', 'apply', 'apply', 'apply', 'correct', 'consensus', 'knn_shard', 'knn_shard', 'knn_merge', 'knn_merge', 'cluster', 'report']);
    expect(jobs.find((j) => j.rule === 'consensus')!.inputs.every((f) => f.startsWith('corrected/'))).toBe(true);
    expect(jobs.find((j) => j.rule === 'knn_shard')!.inputs.every((f) => f.startsWith('corrected/'))).toBe(true);
    for (const job of jobs) {
      const args = job.args.map((x) => (x === 'plan.json' ? join(jobsOut, 'plan.json') : x));
      const r = await runCli(job.rule === 'plate' ? [...args, '-q'] : args);
      expect(r.code, `${job.id}: ${r.stderr}`).toBe(0);
      for (const o of job.outputs) expect(existsSync(join(jobsOut, o)), `${job.id} wrote ${o}`).toBe(true);
    }
    const cmp = await compareRuns(out, jobsOut);
    expect(cmp.problems).toEqual([]);
    for (const t of cmp.tables) expect(t.identical, t.file).toBe(true);
    expect(cmp.tables.some((t) => t.file.startsWith('corrected'))).toBe(true);
    expect(readFileSync(join(jobsOut, 'clusters.csv'), 'utf8')).toBe(readFileSync(join(out, 'clusters.csv'), 'utf8'));
    const smk = readFileSync(join(jobsOut, 'Snakefile'), 'utf8');
    expect(smk).toBe(snakefile(plan, phenomapCommand(plan.config)));
    expect(smk).toContain(' workflow correct --plan plan.json --out batch_correction.json');
    expect(smk.indexOf('PROFILES = CORRECTED')).toBeLessThan(smk.indexOf('rule consensus:'));
  });

  it('config mistakes name the key', () => {
    const base = { output: 'o', sources: ['s'] };
    const check = (correct: unknown) => () => checkProfileConfig({ ...base, correct }, 'c.yaml', dir);
    expect(check({ method: 'sphere' })).toThrow(/c\.yaml: correct\.method sphere needs correct\.controls/);
    expect(check({ method: 'harmony', options: { nClusterz: 5 } })).toThrow(/c\.yaml: correct\.options: unknown option "nClusterz"/);
    expect(check({ method: 'harmony', options: { nClusters: -1 } })).toThrow(/correct\.options: nClusters must be/);
    expect(check({ method: 'combat', labelColumn: 'Metadata_moa' })).toThrow(/correct\.labelColumn and correct\.compoundColumn go together/);
    expect(check({ method: 'mnn' })).toThrow(/c\.yaml: correct\.method: /);
    expect(checkProfileConfig({ ...base, correct: { method: 'combat' } }, 'c.yaml', dir).correct).toEqual({ method: 'combat', options: {} });
  });

  it('a batch column the profiles lack is named by the correct job', async () => {
    const config = loadProfileConfig(cfgPath);
    const bad = { ...config, output: join(dir, 'bad'), correct: { ...config.correct!, batchColumn: 'Metadata_Microscope' } };
    await expect(runProfile(bad)).rejects.toThrow(/batch column "Metadata_Microscope" not found/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });
});
