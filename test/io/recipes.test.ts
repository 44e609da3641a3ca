import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bbbc021Recipe, BBBC021_FILES, cellInjuryRecipe, lincsRecipe } from '../../src/io/recipes.js';
import { getMeta } from '../../src/io/profiles.js';
import { readProfiles } from '../../src/io/read.js';
import { describeShared, examplePath, sharedRoot } from '../helpers/shared.js';
import { runCli, tempDir } from './helpers.js';

const data = join(sharedRoot, 'data');

describeShared('BBBC021 recipe', Object.values(BBBC021_FILES).map((f) => `data/${f}`), () => {
  it('maps all 632 wells to a compound and every well to an MoA', async () => {
    const r = await bbbc021Recipe(data);
    expect(r.counts.rows).toBe(632);
    expect(r.counts.wellsMappedToCompound).toBe(632);
    expect(r.counts.wellsUnmapped).toBe(0);
    expect(r.counts.features).toBe(516);
    expect(r.counts.plates).toBe(55);
    expect(r.counts.batches).toBe(10);
    // 38 compounds + DMSO; 12 MoAs + DMSO.
    expect(r.counts.compounds).toBe(39);
    expect(r.counts.moas).toBe(13);
    expect(r.counts.wellsWithMoa + r.counts.wellsWithoutMoa).toBe(632);
    const names = r.profiles.meta.map((m) => m.name);
    for (const n of ['Metadata_compound', 'Metadata_concentration', 'Metadata_moa', 'Metadata_plate', 'Metadata_well', 'Metadata_batch', 'Metadata_replicate']) {
      expect(names).toContain(n);
    }
    const compound = getMeta(r.profiles, 'Metadata_compound').values as (string | null)[];
    const moa = getMeta(r.profiles, 'Metadata_moa').values as (string | null)[];
    const batch = getMeta(r.profiles, 'Metadata_batch').values as (string | null)[];
    const plate = getMeta(r.profiles, 'Metadata_plate').values as (string | null)[];
    expect(compound.every((c) => c !== null)).toBe(true);
    compound.forEach((c, i) => {
      if (c === 'DMSO') expect(moa[i]).toBe('DMSO');
    });
    plate.forEach((p, i) => expect(p!.startsWith(`${batch[i]}_`)).toBe(true));
    expect(getMeta(r.profiles, 'Metadata_concentration').kind).toBe('number');
  });
});

describeShared('LINCS recipe', ['data/annotations/lincs_repurposing_moa.tsv'], () => {
  it('joins the plate with the Repurposing Hub by broad_id', async () => {
    const r = await lincsRecipe(examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz'), join(data, 'annotations/lincs_repurposing_moa.tsv'));
    expect(r.counts.rows).toBe(384);
    expect(r.counts.matched).toBe(360);
    expect(r.counts.controls).toBe(24);
    expect(r.counts.unmatchedTreated).toBe(0);
    expect(r.counts.broadIds).toBe(58);
    const iname = getMeta(r.profiles, 'Metadata_pert_iname').values as (string | null)[];
    expect(iname.filter((v) => v === 'DMSO')).toHaveLength(24);
    expect(iname).toContain('MG-132');
  });

  it('the bundled copy of the annotations gives the same answer', async () => {
    const bundled = examplePath('lincs/lincs_repurposing_moa.tsv');
    if (!existsSync(bundled)) return;
    const r = await lincsRecipe(examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz'), bundled);
    expect(r.counts.matched).toBe(360);
  });
});

describeShared('cell-injury recipe', ['data/cell-injury/fs_well_holdout.csv.gz'], () => {
  it('exposes injury_type and Compound Name', async () => {
    const r = await cellInjuryRecipe(join(data, 'cell-injury/fs_well_holdout.csv.gz'));
    expect(r.counts.rows).toBe(1125);
    expect(r.counts.features).toBe(352);
    expect(r.counts.injuryTypes).toBeGreaterThan(10);
    const inj = getMeta(r.profiles, 'Metadata_injury_type').values as (string | null)[];
    expect(inj).toContain('Control');
    expect(getMeta(r.profiles, 'Compound Name').kind).toBe('string');
  });
});

describeShared('recipe and inspect commands', ['data/bbbc021/BBBC021_v1_moa.csv'], () => {
  it('phenomap recipe bbbc021 writes a labelled table; inspect counts labels', async () => {
    const dir = tempDir();
    const out = join(dir, 'bbbc021.parquet');
    const r = await runCli(['recipe', 'bbbc021', '--data', data, '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/632\/632 wells mapped to a compound/);
    expect(readdirSync(dir)).toEqual(['bbbc021.parquet']);
    const { profiles } = await readProfiles(out);
    expect(profiles.X.rows).toBe(632);
    const i = await runCli(['inspect', out, '--label-col', 'Metadata_moa', '--top', '20']);
    expect(i.code).toBe(0);
    expect(i.stdout).toMatch(/rows: 632/);
    expect(i.stdout).toMatch(/features: 516/);
    expect(i.stdout).toMatch(/label counts \(Metadata_moa, 13 distinct\)/);
    const j = await runCli(['inspect', out, '--json', '--label-col', 'Metadata_batch']);
    const parsed = JSON.parse(j.stdout) as { rows: number; labels: { distinct: number } };
    expect(parsed.rows).toBe(632);
    expect(parsed.labels.distinct).toBe(10);
  });
});
