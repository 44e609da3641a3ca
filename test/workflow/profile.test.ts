/**
 * Plate maps (against pycytominer's annotate), several tables read as one, and a whole profiling
 * run from a config file on the bundled real plate and on generated ones.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync, copyFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { aggregateCells, writeSingleCellPlate } from '../../src/cells/index.js';
import { cellString, getMeta } from '../../src/io/profiles.js';
import { readProfiles } from '../../src/io/read.js';
import { readProfileTables } from '../../src/io/readMany.js';
import { writeProfiles } from '../../src/io/write.js';
import { annotatePlatemap } from '../../src/preprocess/annotate.js';
import { normalize } from '../../src/preprocess/normalize.js';
import { checkProfileConfig, loadProfileConfig, profileConfigJsonSchema, runProfile } from '../../src/workflow/index.js';
import { repoRoot, sharedPath, describeShared } from '../helpers/shared.js';
import { fixtures, readReference, reference } from '../cells/helpers.js';
import { runCli } from '../io/helpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'phenomap-profile-'));
});

function column(p: Parameters<typeof getMeta>[0], name: string): (string | null)[] {
  const c = getMeta(p, name);
  return Array.from({ length: p.X.rows }, (_, i) => cellString(c, i));
}

describe('annotate with the profiling recipe\'s plate maps', () => {
  it('equals pycytominer annotate on data_b (barcode_platemap.csv → platemap/<name>.txt)', async () => {
    const { profiles } = await aggregateCells([join(fixtures, 'data_b.sqlite')]);
    const { profiles: out, report } = await annotatePlatemap(profiles, { barcodePlatemap: join(fixtures, 'metadata', 'barcode_platemap.csv') });
    expect(report.plates).toEqual({ SQ00015116: 'C-7161-01-LM6-001' });
    expect(report.matched).toBe(2);
    expect(report.addedColumns).toEqual(['Metadata_plate_map_name', 'Metadata_broad_sample', 'Metadata_mg_per_ml', 'Metadata_mmoles_per_liter', 'Metadata_solvent']);
    const ref = await readReference(reference('cytominer_database_data_b_median_annotated.csv.gz') ?? sharedPath('reference/singlecell/cytominer_database_data_b_median_annotated.csv.gz')!);
    for (const c of report.addedColumns) expect(column(out, c)).toEqual(column(ref, c).map((v) => (v === '' ? null : v)));
  });

  it('a well missing from the plate map keeps its profile and is counted; zero padding does not matter', async () => {
    const { profiles } = await aggregateCells([join(fixtures, 'data_b.sqlite')]);
    const pm = join(dir, 'short.txt');
    writeFileSync(pm, 'plate_map_name\twell_position\tbroad_sample\nX\tA1\tBRD-K00000001\n');
    const { profiles: out, report } = await annotatePlatemap(profiles, { platemap: pm });
    expect(out.X.rows).toBe(2);
    expect(report.unmatched).toBe(1);
    expect(report.unmatchedWells).toEqual(['SQ00015116/B01']);
    expect(column(out, 'Metadata_broad_sample')).toEqual(['BRD-K00000001', null]);
    await expect(annotatePlatemap(profiles, {})).rejects.toThrow(/either a barcode_platemap\.csv/);
    const dup = join(dir, 'dup.txt');
    writeFileSync(dup, 'well_position\tx\nA01\t1\nA1\t2\n');
    await expect(annotatePlatemap(profiles, { platemap: dup })).rejects.toThrow(/well A1 appears twice/);
  });
});

describeShared('annotate: NF1 and JUMP against pycytominer', ['data/singlecell/cellprofiler/nf1-schwann/all_cellprofiler.sqlite', 'reference/singlecell/nf1_schwann_median_annotated.csv.gz'], () => {
  it('NF1 genotypes by well', async () => {
    const { profiles } = await aggregateCells([sharedPath('data/singlecell/cellprofiler/nf1-schwann/all_cellprofiler.sqlite')!]);
    const { profiles: out } = await annotatePlatemap(profiles, { platemap: join(fixtures, 'metadata', 'platemap_NF1_CP.csv') });
    const ref = await readReference(sharedPath('reference/singlecell/nf1_schwann_median_annotated.csv.gz')!);
    const byWell = (p: typeof out, c: string) => Object.fromEntries(column(p, 'Metadata_Well').map((w, i) => [w, column(p, c)[i]]));
    for (const c of ['Metadata_genotype', 'Metadata_gene_name', 'Metadata_WellRow']) expect(byWell(out, c)).toEqual(byWell(ref, c));
  });
});

describe('several tables as one', () => {
  it('files, a folder of Hive partitions and a glob give the same stacked table; feature mismatches are named', async () => {
    const { profiles } = await readProfiles(join(repoRoot, 'examples', 'lincs', 'SQ00015054_normalized_feature_select.csv.gz'));
    const half = profiles.X.rows >> 1;
    const rows = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);
    const { subsetRows } = await import('../../src/io/profiles.js');
    const ds = join(dir, 'ds');
    const a = join(ds, 'Metadata_Batch=one', 'a.parquet');
    const b = join(ds, 'Metadata_Batch=two', 'b.csv.gz');
    await writeProfiles(a, subsetRows(profiles, rows(0, half)));
    await writeProfiles(b, subsetRows(profiles, rows(half, profiles.X.rows)));
    const viaFiles = await readProfileTables([a, b]);
    const viaDir = await readProfileTables([ds]);
    const viaGlob = await readProfileTables([join(ds, '*', '*')]);
    for (const r of [viaFiles, viaDir, viaGlob]) {
      expect(r.profiles.X.rows).toBe(profiles.X.rows);
      expect(r.profiles.features).toEqual(profiles.features);
      expect(Array.from(r.profiles.X.data)).toEqual(Array.from(profiles.X.data));
    }
    expect(column(viaDir.profiles, 'Metadata_Batch').filter((v) => v === 'one')).toHaveLength(half);
    // different features: refused by default, intersected or united on request
    const c = join(dir, 'narrow.parquet');
    const p2 = { ...subsetRows(profiles, rows(0, 10)) };
    await writeProfiles(c, { ...p2, features: p2.features.slice(0, 100), X: { rows: 10, cols: 100, data: Float64Array.from({ length: 1000 }, (_, k) => p2.X.data[Math.floor(k / 100) * p2.features.length + (k % 100)]!) } });
    await expect(readProfileTables([a, c])).rejects.toThrow(/different features \(354 of the first missing.*--feature-join/);
    const inter = await readProfileTables([a, c], { featureJoin: 'intersection' });
    expect(inter.profiles.features).toHaveLength(100);
    expect(inter.report.droppedFeatures).toHaveLength(354);
    const uni = await readProfileTables([a, c], { featureJoin: 'union' });
    expect(uni.profiles.features).toHaveLength(454);
    expect(Number.isNaN(uni.profiles.X.data[(half + 1) * 454 + 400]!)).toBe(true);
    await expect(readProfileTables([join(dir, 'nothing-*.csv')])).rejects.toThrow(/no profile table there/);
  });
});

describe('phenomap profile CONFIG', () => {
  it('runs the bundled example: per-plate files, a partitioned dataset, consensus, a report; reruns replace the folder whole', async () => {
    const config = loadProfileConfig(join(fixtures, 'profile.yaml'));
    const out = join(dir, 'run1');
    const r = await runProfile({ ...config, output: out });
    expect(r.plates.map((p) => [p.plate, p.wells, p.cells])).toEqual([['SQ00015116', 2, 40]]);
    expect(r.plates[0]!.annotation).toEqual(expect.objectContaining({ matched: 2, unmatched: 0 }));
    for (const f of Object.values(r.plates[0]!.files)) expect(existsSync(f)).toBe(true);
    // the per-plate normalised table is the library's normalize of the annotated one
    const annotated = (await readProfiles(r.plates[0]!.files.annotated!)).profiles;
    const normalized = (await readProfiles(r.plates[0]!.files.normalized!)).profiles;
    expect(Array.from(normalized.X.data)).toEqual(Array.from(normalize(annotated, { method: 'standardize' }).profiles.X.data));
    const back = await readProfileTables([join(out, 'profiles')]);
    expect(back.profiles.X.rows).toBe(2);
    expect(back.profiles.features).toHaveLength(r.profiles.features);
    expect(existsSync(join(out, 'consensus.parquet'))).toBe(true);
    const saved = JSON.parse(readFileSync(join(out, 'profile_report.json'), 'utf8'));
    expect(saved.plates[0].files.normalized).toBe(r.plates[0]!.files.normalized);
    writeFileSync(join(out, 'stale.txt'), 'from an earlier run');
    await expect(runProfile({ ...config, output: out, consensus: undefined })).rejects.toThrow(/already exists and is not empty.*--overwrite/);
    expect(existsSync(join(out, 'stale.txt'))).toBe(true);
    await runProfile({ ...config, output: out, consensus: undefined }, { overwrite: true });
    expect(existsSync(join(out, 'stale.txt'))).toBe(false);
    expect(existsSync(join(out, 'consensus.parquet'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('several generated plates: normalised per plate against their own controls, selected across plates, one partition each', async () => {
    const plates = join(dir, 'plates');
    mkdirSync(plates);
    for (const [k, name] of ['P1', 'P2', 'P3'].entries()) {
      await writeSingleCellPlate(join(plates, `${name}.sqlite`), { layout: k === 2 ? 'cellprofiler-sqlite' : 'cytominer-sqlite', cells: 600, features: 8, wells: 6, sites: 2, plate: name, seed: k });
    }
    const meta = join(dir, 'meta');
    mkdirSync(join(meta, 'platemap'), { recursive: true });
    writeFileSync(join(meta, 'barcode_platemap.csv'), 'Assay_Plate_Barcode,Plate_Map_Name\nP1,M\nP2,M\nP3,M\n');
    writeFileSync(join(meta, 'platemap', 'M.txt'), 'well_position\tcompound\nA01\tDMSO\nA02\tDMSO\nA03\tdrug1\nA04\tdrug1\nA05\tdrug2\nA06\tdrug2\n');
    const cfgPath = join(dir, 'p.yaml');
    writeFileSync(cfgPath, stringify({
      output: 'out', sources: ['plates'],
      annotate: { barcodePlatemap: 'meta/barcode_platemap.csv' },
      normalize: { method: 'mad_robustize', samples: "Metadata_compound == 'DMSO'" },
      featureSelect: { operations: ['frequency_threshold', 'drop_na_columns'] },
      consensus: { strata: ['Metadata_compound'] },
    }));
    const cli = await runCli(['profile', cfgPath, '--json', '-q']);
    expect(cli.code).toBe(0);
    const r = JSON.parse(cli.stdout);
    expect(r.plates.map((p: { plate: string; normalization: { referenceRows: number } }) => [p.plate, p.normalization.referenceRows])).toEqual([['P1', 2], ['P2', 2], ['P3', 2]]);
    expect(r.profiles.files.map((f: string) => f.replace(/.*profiles\//, ''))).toEqual(['Metadata_Plate=P1/profiles.parquet', 'Metadata_Plate=P2/profiles.parquet', 'Metadata_Plate=P3/profiles.parquet']);
    expect(r.consensus.nGroups).toBe(3);
    expect(Object.keys(r.plates[0].cellsPerWell)).toEqual(['A01', 'A02', 'A03', 'A04', 'A05', 'A06']);
    const page = readFileSync(join(dir, 'out', 'profile_report.html'), 'utf8');
    expect(page).toContain('<svg');
    expect(page).toMatch(/<td>P3<\/td><td>[^<]*P3\.sqlite<\/td><td>6<\/td><td>600<\/td><td>6 of 6<\/td><td>2<\/td>/);
    // DMSO wells sit at the centre of their own plate after per-plate robust normalisation
    const p1 = (await readProfiles(r.plates[0].files.normalized)).profiles;
    const j = 0;
    const dmso = column(p1, 'Metadata_compound').map((c, i) => (c === 'DMSO' ? p1.X.data[i * p1.features.length + j]! : NaN)).filter((v) => !Number.isNaN(v));
    expect(Math.abs(dmso[0]! + dmso[1]!)).toBeLessThan(1e-9);
  });

  it('config errors name the key path; the JSON schema is generated from the same definition', () => {
    const base = { output: 'o', sources: ['s'] };
    expect(() => checkProfileConfig({ ...base, normalize: { method: 'bogus' } }, 'c.yaml', dir)).toThrow(/c\.yaml: normalize\.method: Invalid option/);
    expect(() => checkProfileConfig({ ...base, aggregate: { operation: 'median', extra: 1 } }, 'c.yaml', dir)).toThrow(/aggregate: Unrecognized key.*extra/);
    expect(() => checkProfileConfig({ output: 'o' }, 'c.yaml', dir)).toThrow(/sources: /);
    expect(() => checkProfileConfig({ ...base, cells: { plateColumn: 'Metadata_Batch' } }, 'c.yaml', dir)).toThrow(/plateColumn Metadata_Batch must be one of cells\.strata/);
    expect(() => checkProfileConfig({ ...base, featureSelect: { operations: ['blocklist'] } }, 'c.yaml', dir)).toThrow(/blocklist names no file/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'output: [unclosed');
    expect(() => loadProfileConfig(bad)).toThrow(/bad\.yaml: not valid YAML/);
    const schema = profileConfigJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(schema.required).toEqual(['output', 'sources']);
    expect(Object.keys(schema.properties)).toEqual(['output', 'sources', 'plates', 'featureJoin', 'cells', 'aggregate', 'annotate', 'normalize', 'featureSelect', 'correct', 'consensus', 'cluster', 'workflow']);
    const docs = JSON.parse(readFileSync(join(repoRoot, 'docs', 'profile-config.schema.json'), 'utf8'));
    expect(docs).toEqual(JSON.parse(JSON.stringify(schema)));
    void copyFileSync;
  });
});

describe('downstream commands take several tables', () => {
  it('run, normalize and inspect on two halves (a glob, a folder) equal the whole', async () => {
    const whole = join(repoRoot, 'examples', 'lincs', 'SQ00015054_normalized_feature_select.csv.gz');
    const { profiles } = await readProfiles(whole);
    const { subsetRows } = await import('../../src/io/profiles.js');
    const half = 200;
    const parts = join(dir, 'halves');
    await writeProfiles(join(parts, 'part1.parquet'), subsetRows(profiles, Int32Array.from({ length: half }, (_, i) => i)));
    await writeProfiles(join(parts, 'part2.parquet'), subsetRows(profiles, Int32Array.from({ length: profiles.X.rows - half }, (_, i) => half + i)));
    const a = await runCli(['run', whole, '--label-col', 'Metadata_moa', '--representations', 'raw', '-o', join(dir, 'runA'), '-q']);
    const b = await runCli(['run', join(parts, 'part*.parquet'), '--label-col', 'Metadata_moa', '--representations', 'raw', '-o', join(dir, 'runB'), '-q']);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const sa = JSON.parse(readFileSync(join(dir, 'runA', 'summary.json'), 'utf8'));
    const sb = JSON.parse(readFileSync(join(dir, 'runB', 'summary.json'), 'utf8'));
    expect(sb.representations.raw.clusters).toBe(sa.representations.raw.clusters);
    expect(sb.representations.raw.enrichedClusters).toBe(sa.representations.raw.enrichedClusters);
    expect(sb.inputs.files).toHaveLength(2);
    const n = await runCli(['normalize', parts, '-o', join(dir, 'norm.parquet'), '-q']);
    expect(n.code).toBe(0);
    const normed = (await readProfiles(join(dir, 'norm.parquet'))).profiles;
    expect(Array.from(normed.X.data)).toEqual(Array.from(normalize(profiles, { method: 'standardize' }).profiles.X.data));
    const i = await runCli(['inspect', join(parts, 'part1.parquet'), join(parts, 'part2.parquet'), '--json', '-q']);
    expect(JSON.parse(i.stdout).rows).toBe(profiles.X.rows);
  });
});
