/**
 * `phenomap query` on the three real data sets: how many compounds are active, what chloroquine's
 * answer says, how long a query takes, and whether the neighbour ranking finds compounds with the
 * query's label (top-1 share and label mAP over compounds whose label another compound carries),
 * for the two compound profiles (best-matching doses, pooled) and each representation. Labels are
 * the run's own (MoA, injury type), so PCA/raw figures are honest and ITML's are in-sample.
 *
 *   npx tsx bench/query-compounds.ts [--data ../shared/data] [--null-size 10000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bbbc021Recipe, cellInjuryRecipe, CELL_INJURY_FILES } from '../src/io/recipes.js';
import { readProfiles } from '../src/io/read.js';
import { runWorkflow } from '../src/pipeline/run.js';
import { presetParameters } from '../src/pipeline/params.js';
import type { Profiles } from '../src/io/profiles.js';
import { answerCompound, openCompoundIndex, type CompoundProfile } from '../src/repurpose/answer.js';
import { arg, plate, root } from './common.js';

const data = arg('--data', join(root, '..', 'shared', 'data'));
const nullSize = Number(arg('--null-size', '10000'));

async function one(name: string, profiles: Profiles, label: string, id: string, preset: 'paper' | 'default', query: string | null, inputFile?: string): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'phenomap-bench-query-'));
  const p = presetParameters(preset, label);
  p.idCols = [id];
  await runWorkflow(profiles, out, p);
  for (const mode of ['best-dose', 'pooled'] as CompoundProfile[]) {
    const t0 = performance.now();
    const index = await openCompoundIndex(out, { nullSize, compoundProfile: mode, profiles: inputFile ? profiles : undefined });
    const ctx = index.context();
    const tOpen = performance.now() - t0;
    if (mode === 'best-dose') {
      console.log(`\n${name}: ${ctx.compounds} compounds in the run; controls ${ctx.controls ? `${ctx.controls.wells} wells (${ctx.controls.rule})` : 'none'}; ` +
        `${ctx.activeCompounds} of ${ctx.compoundsCalled} called compounds active (q < ${ctx.threshold}); opening the index ${(tOpen / 1000).toFixed(2)} s`);
      if (query) {
        const t1 = performance.now();
        const a = answerCompound(index, query);
        console.log(`  ${a.verdict}`);
        console.log(`  top neighbours: ${a.neighbours.slice(0, 3).map((n) => `${n.compound} (sim ${n.similarity.toFixed(3)}, p ${n.p.toPrecision(2)})`).join(', ')}; ` +
          `community ${a.community?.cluster} with ${a.community?.controlProfiles}/${a.community?.profiles} control wells; answer ${(performance.now() - t1).toFixed(0)} ms`);
      }
    }
    for (const rep of index.run.reps) {
      const s = index.space(rep);
      const lab = s.space.compounds.map((c) => index.run.moa[index.runRowsOf.get(c)![0]!] ?? '');
      let top1 = 0, n = 0, apSum = 0, nap = 0;
      for (const c of s.space.compounds) {
        const a = answerCompound(index, c, { representation: rep, k: s.space.compounds.length });
        const mine = lab[s.space.compounds.indexOf(c)];
        const rel = a.neighbours.map((nb) => (lab[s.space.compounds.indexOf(nb.compound)] === mine ? 1 : 0));
        const pos = rel.reduce((x: number, y) => x + y, 0);
        n++;
        if (rel[0]) top1++;
        if (pos) {
          let tp = 0, sum = 0;
          rel.forEach((v, k) => { if (v) { tp++; sum += tp / (k + 1); } });
          apSum += sum / pos;
          nap++;
        }
      }
      console.log(`  ${mode.padEnd(9)} ${rep.padEnd(4)}: nearest compound shares the label for ${(100 * top1 / n).toFixed(1)} % of ${n}; label mAP ${(apSum / nap).toFixed(3)} over ${nap} compounds`);
    }
  }
  rmSync(out, { recursive: true, force: true });
}

await one('cell injury (fs_well_holdout, label injury_type)', (await cellInjuryRecipe(join(data, CELL_INJURY_FILES.well))).profiles, 'injury_type', 'Compound Name', 'default', 'chloroquine');
await one('LINCS plate SQ00015054 (label Metadata_moa, --preset paper; DMSO from the table)', (await readProfiles(plate)).profiles, 'Metadata_moa', 'Metadata_broad_sample', 'paper', 'BRD-K60230970', plate);
await one('BBBC021 (label Metadata_moa)', (await bbbc021Recipe(data)).profiles, 'Metadata_moa', 'Metadata_compound', 'default', 'taxol');
