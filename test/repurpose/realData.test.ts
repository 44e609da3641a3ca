/**
 * The compound answer on real data: the cell-injury set (chloroquine), the bundled LINCS plate
 * (controls read back from the run's input table) and BBBC021. Runs use the raw representation
 * only, to stay fast.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bbbc021Recipe, cellInjuryRecipe, BBBC021_FILES, CELL_INJURY_FILES } from '../../src/io/recipes.js';
import { runWorkflow } from '../../src/pipeline/run.js';
import { presetParameters } from '../../src/pipeline/params.js';
import { queryCompounds } from '../../src/repurpose/answer.js';
import { describeShared, examplePath, sharedPath, sharedRoot } from '../helpers/shared.js';

function params(label: string, id: string, preset: 'paper' | 'default' = 'default') {
  const p = presetParameters(preset, label);
  p.representations = ['raw'];
  p.idCols = [id];
  return p;
}

describeShared('compound answers on the cell-injury set', [`data/${CELL_INJURY_FILES.well}`], () => {
  it('chloroquine: active against the DMSO wells, although most of its raw community is DMSO', async () => {
    const { profiles } = await cellInjuryRecipe(sharedPath(`data/${CELL_INJURY_FILES.well}`)!);
    const out = mkdtempSync(join(tmpdir(), 'phenomap-injury-'));
    await runWorkflow(profiles, out, params('injury_type', 'Compound Name'));
    const { context, answers } = await queryCompounds(out, ['chloroquine', 'Streptozotocin', 'chloroqine', 'DMSO'], { k: 5, nullSize: 500 });
    expect(context.controls).toEqual({ rule: 'Control Type says negative', wells: 375, used: 375 });
    expect(context.compoundsCalled).toBe(51); // 54 compounds, 3 with one well
    const [cq, strep, typo, dmso] = answers;
    expect(cq!.compound).toBe('Chloroquine');
    expect(cq!.verdict).toMatch(/^Chloroquine is ACTIVE/);
    expect(cq!.activity!.map).toBeGreaterThan(0.35);
    expect(cq!.activity!.q).toBeLessThan(0.01);
    expect(cq!.activityByDose.map((d) => [d.dose, d.status])).toEqual([['5', 'active'], ['20', 'active']]);
    expect(cq!.wells).toBe(16);
    expect(cq!.neighbours.length).toBe(5);
    expect(cq!.community!.dominatedByControls).toBe(true);
    expect(strep!.activity!.status).toBe('not-called');
    expect(strep!.activity!.reason).toMatch(/one replicate well/);
    expect(typo!.status).toBe('not-found');
    expect(typo!.suggestions![0]).toBe('Chloroquine');
    expect(dmso!.status).toBe('control');
  }, 60_000);
});

describe('compound answers on the bundled LINCS plate (DMSO left out of the run)', () => {
  it('reads the DMSO wells back from the input table; the two proteasome inhibitors find each other', async () => {
    const out = mkdtempSync(join(tmpdir(), 'phenomap-lincs-'));
    const plate = examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz');
    await runWorkflow(plate, out, params('Metadata_moa', 'Metadata_broad_sample', 'paper'));
    const { context, answers } = await queryCompounds(out, ['BRD-K60230970'], { k: 3, nullSize: 500 });
    expect(context.wellsFrom).toBe(plate);
    expect(context.controls!.wells).toBe(24);
    expect(context.centredOnControls).toBe(true);
    const a = answers[0]!;
    expect(a.compound).toBe('BRD-K60230970-001-10-0');
    expect(a.matchedBy).toBe('Metadata_pert_id');
    expect(a.activity!.active).toBe(true);
    expect(a.neighbours[0]!.compound).toBe('BRD-K50691590-001-02-2');
    expect(a.neighbours[0]!.sharedAnnotations.label).toEqual(['proteasome inhibitor']);
    expect(a.neighbours[0]!.sharedAnnotations.target).toEqual(['PSMB1']);
  }, 60_000);
});

describeShared('compound answers on BBBC021', Object.values(BBBC021_FILES).map((f) => `data/${f}`), () => {
  it('taxol: active, its nearest compound a microtubule stabilizer', async () => {
    const { profiles } = await bbbc021Recipe(join(sharedRoot, 'data'));
    const out = mkdtempSync(join(tmpdir(), 'phenomap-bbbc-'));
    await runWorkflow(profiles, out, params('Metadata_moa', 'Metadata_compound'));
    const { context, answers } = await queryCompounds(out, ['taxol'], { k: 3, nullSize: 500 });
    expect(context.controls!.rule).toBe('Metadata_compound is DMSO / vehicle');
    // 38 compounds; with a 500-draw null one sits at the q = 0.05 border (37 with copairs' per-shape nulls).
    expect(context.activeCompounds).toBeGreaterThanOrEqual(37);
    const a = answers[0]!;
    expect(a.verdict).toMatch(/^taxol is ACTIVE/);
    expect(a.neighbours[0]!.sharedAnnotations.label).toEqual(['Microtubule stabilizers']);
    expect(a.neighbours[0]!.p).toBeLessThan(0.01);
  }, 60_000);
});
