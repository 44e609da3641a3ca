/** The four preprocessing commands end to end on the bundled LINCS plate. */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readProfiles } from '../../src/io/read.js';
import { normalize } from '../../src/preprocess/normalize.js';
import { examplePath } from '../helpers/shared.js';
import { runCli, tempDir } from '../io/helpers.js';

const plateFile = examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz');
let dir: string;

beforeAll(() => {
  dir = tempDir();
});

describe('preprocessing commands', () => {
  it('normalize writes what the library computes and prints strata and counts', async () => {
    const out = join(dir, 'norm.parquet');
    const r = await runCli(['normalize', plateFile, '-o', out, '--method', 'mad_robustize', '--samples', 'Metadata_broad_sample == DMSO', '--strata', 'Metadata_Plate', '-q']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Metadata_Plate=SQ00015054: 384 rows, 24 reference');
    expect(r.stdout).toContain('features: 454 in, 454 out');
    const back = (await readProfiles(out)).profiles;
    const plate = (await readProfiles(plateFile)).profiles;
    const lib = normalize(plate, { method: 'mad_robustize', samples: 'Metadata_broad_sample == DMSO', strata: ['Metadata_Plate'] }).profiles;
    expect(back.features).toEqual(lib.features);
    let worst = 0;
    for (let t = 0; t < lib.X.data.length; t++) worst = Math.max(worst, Math.abs(back.X.data[t]! - lib.X.data[t]!));
    expect(worst).toBe(0); // Parquet keeps float64 exactly
    // CSV.gz output keeps every metadata column (names and values) beside the features
    const csv = join(dir, 'norm.csv.gz');
    expect((await runCli(['normalize', plateFile, '-o', csv, '-q'])).code).toBe(0);
    const backCsv = (await readProfiles(csv)).profiles;
    expect(backCsv.meta.map((m) => m.name)).toEqual(plate.meta.map((m) => m.name));
    expect(backCsv.meta.find((m) => m.name === 'Metadata_broad_sample')!.values).toEqual(plate.meta.find((m) => m.name === 'Metadata_broad_sample')!.values);
    const std = normalize(plate, { method: 'standardize' }).profiles.X.data;
    let worstCsv = 0;
    for (let t = 0; t < std.length; t++) worstCsv = Math.max(worstCsv, Math.abs(backCsv.X.data[t]! - std[t]!) / Math.max(1, Math.abs(std[t]!)));
    expect(worstCsv).toBeLessThan(1e-15);
  });

  it('feature-select prints each removal with its reason; blocklist file adds the operation', async () => {
    const out = join(dir, 'fs.csv.gz');
    const block = join(dir, 'block.txt');
    writeFileSync(block, 'blocklist\nCells_AreaShape_Compactness\n# comment\nNuclei_not_here\n');
    const r = await runCli(['feature-select', plateFile, '-o', out, '--corr-threshold', '0.8', '--blocklist', block, '--json', '-q']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as { featuresIn: number; kept: number; removed: { name: string; reason: string }[]; operations: { operation: string }[] };
    expect(rep.kept + rep.removed.length).toBe(rep.featuresIn);
    expect(rep.operations.map((o) => o.operation)).toEqual(['drop_na_columns', 'frequency_threshold', 'correlation_threshold', 'drop_outliers', 'blocklist']);
    const back = (await readProfiles(out)).profiles;
    expect(back.features.length).toBe(rep.kept);
    expect(back.features).not.toContain('Cells_AreaShape_Compactness');
    const text = await runCli(['feature-select', plateFile, '-o', join(dir, 'fs2.csv'), '--corr-threshold', '0.8', '-q']);
    expect(text.stdout).toMatch(/correlation_threshold: \d+ of 454 removed/);
    expect(text.stdout).toMatch(/: correlation_threshold: pearson correlation 0\.\d+ > 0\.8 with /);
  });

  it('aggregate and consensus write one row per group', async () => {
    const a = await runCli(['aggregate', plateFile, '-o', join(dir, 'agg.csv'), '--strata', 'Metadata_broad_sample', '--operation', 'median', '-q']);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('→ 59 profiles × 454 features');
    expect((await readProfiles(join(dir, 'agg.csv'))).profiles.X.rows).toBe(59);
    const c = await runCli(['consensus', plateFile, '-o', join(dir, 'cons.parquet'), '--strata', 'Metadata_broad_sample', '--method', 'modz', '-q']);
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('replicates per group: 6–24');
    const back = (await readProfiles(join(dir, 'cons.parquet'))).profiles;
    expect(back.X.rows).toBe(59);
    expect(back.meta.map((m) => m.name)).toContain('Metadata_n_replicates');
  });

  it('bad input: exit 2, one-line message, no output file', async () => {
    const out = join(dir, 'never.csv');
    const r = await runCli(['normalize', plateFile, '-o', out, '--samples', 'Metadata_pert_type == DMSO', '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/query "Metadata_pert_type == DMSO" matches no row of 384 \(Metadata_pert_type has "\w+", "\w+"\)/);
    expect(existsSync(out)).toBe(false);
    const u = await runCli(['feature-select', plateFile, '-o', out, '--corr-threshold', 'lots', '-q']);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('--corr-threshold must be a number');
    const q = await runCli(['normalize', plateFile, '-o', out, '--samples', 'Metadata_pert_type = control', '-q']);
    expect(q.code).toBe(2);
    const s = await runCli(['aggregate', plateFile, '-o', out, '--strata', 'Metadata_nope', '-q']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('no metadata column "Metadata_nope"');
    expect(existsSync(out)).toBe(false);
  });
});
