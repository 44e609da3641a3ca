/**
 * Does `predict rank`'s expected hit rate hold on compounds the model never saw? Cell injury
 * (Dahlin et al. 2023): train on the well-holdout split (injury types as one-vs-rest assays,
 * Control excluded, one profile per compound + concentration), rank the plate-holdout split's
 * compounds for every injury type, and compare, at the top k untested compounds, the hit rate the
 * cross-validation expected with the one observed from the plate-holdout labels — for the model
 * and for the cell-count baseline beside it.
 *
 *   npx tsx bench/predict-rank.ts [--data ../shared/data] [--model macau|mlp] [--top 10]
 */
import { join } from 'node:path';
import { cellInjuryRecipe, CELL_INJURY_FILES } from '../src/io/recipes.js';
import { metaStrings } from '../src/io/profiles.js';
import { prepareActivityData } from '../src/predict/prepare.js';
import { trainActivityModel } from '../src/predict/saved-model.js';
import { crossValidatedExpectation, fitCellCountBaseline, libraryCellCount, rankLibrary, testedCompounds } from '../src/predict/rank.js';
import { arg, root } from './common.js';

const data = arg('--data', join(root, '..', 'shared', 'data'));
const kind = arg('--model', 'macau') as 'macau' | 'mlp';
const top = Number(arg('--top', '10'));
const macau = { numLatent: 32, burnin: 100, nsamples: 200, seed: 0 };
const mlp = { hidden: [512, 512], maxEpochs: 200, seed: 0 };

const train = (await cellInjuryRecipe(join(data, CELL_INJURY_FILES.well))).profiles;
const d = prepareActivityData(train, {
  groupCol: 'Compound Name', aggregate: ['Compound Name', 'Compound Concentration (microMolar)'],
  activity: { kind: 'labels', column: 'injury_type', exclude: ['Control'] }, cellCountCol: 'Relative well cellcount',
});
const t0 = performance.now();
const model = trainActivityModel(kind, d.X, d.features, d.Y, d.assays, { macau, mlp, groups: d.groups, trainedOn: { idCol: 'Compound Name' } });
model.tested = testedCompounds(d.ids, d.Y, d.assays);
model.cellCount = fitCellCountBaseline(d.cellCount!.X, d.cellCount!.name, d.Y);
model.expected = crossValidatedExpectation(kind, d.X, d.Y, d.assays, { folds: 5, seed: 0, groups: d.groups, groupedBy: 'Compound Name', macau, mlp }, d.cellCount!.X);
console.log(`trained ${kind} + 5-fold CV on ${d.X.rows} treatments of ${new Set(d.groups).size} compounds, ${d.assays.length} injury types, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const lib = (await cellInjuryRecipe(join(data, CELL_INJURY_FILES.plate))).profiles;
const ids = metaStrings(lib, 'Compound Name').map((v, i) => v ?? `row ${i + 1}`);
const injury = metaStrings(lib, 'injury_type');
const truth = new Map<string, string>();
ids.forEach((c, i) => truth.set(c, injury[i] ?? ''));
const cellCount = libraryCellCount(lib, 'Relative well cellcount');
const pct = (x: number | null) => (x === null ? '   —' : `${(100 * x).toFixed(0).padStart(3)} %`);
console.log(`\nplate holdout: ${new Set(ids).size} compounds; top ${top} untested compounds per injury type`);
console.log('hit rates in the top ' + top + ' (enrichment = hit rate / the library\'s base rate; "expected" assumes the training base rate)');
console.log('injury type      untested  actives  base   CV AUC  expected  observed  exp. enr  obs. enr | cell count: exp. enr  obs. enr');
let sumExp = 0, sumObs = 0, sumCcExp = 0, sumCcObs = 0, n = 0;
let sumEe = 0, sumOe = 0, sumCe = 0, sumCo = 0, ne = 0;
const f1 = (x: number | null) => (x === null || !Number.isFinite(x) ? '    —' : `${x.toFixed(1).padStart(4)}×`);
for (const assay of d.assays) {
  const r = rankLibrary(model, lib.X, lib.features, { assay, ids, cellCount, top });
  const untested = r.ranked;
  const actives = untested.filter((c) => truth.get(c.compound) === assay).length;
  const hit = (list: string[]) => list.slice(0, top).filter((c) => truth.get(c) === assay).length / Math.min(top, list.length);
  const obs = hit(untested.map((c) => c.compound));
  const byCc = [...untested].sort((a, b) => a.cellCountRank! - b.cellCountRank!).map((c) => c.compound);
  const ccObs = hit(byCc);
  const e = r.expected!;
  const base = actives / untested.length;
  const oe = base > 0 ? obs / base : null, co = base > 0 ? ccObs / base : null;
  console.log(`${assay.padEnd(16)} ${String(untested.length).padStart(8)} ${String(actives).padStart(8)} ${pct(base)}  ${e.model.auc?.toFixed(2) ?? '—'}    ${pct(e.model.hitRate)}     ${pct(obs)}     ${f1(e.model.enrichment)}     ${f1(oe)} |               ${f1(e.cellCount!.enrichment)}     ${f1(co)}`);
  if (e.model.hitRate !== null) { sumExp += e.model.hitRate; sumObs += obs; sumCcExp += e.cellCount!.hitRate ?? 0; sumCcObs += ccObs; n++; }
  if (oe !== null && e.model.enrichment !== null && e.cellCount!.enrichment !== null) { sumEe += e.model.enrichment; sumOe += oe; sumCe += e.cellCount!.enrichment; sumCo += co!; ne++; }
}
console.log(`mean over ${n} injury types: hit rate, model expected ${pct(sumExp / n)}, observed ${pct(sumObs / n)}; cell count expected ${pct(sumCcExp / n)}, observed ${pct(sumCcObs / n)}`);
console.log(`mean over the ${ne} injury types with actives in the library: enrichment, model expected ${f1(sumEe / ne)}, observed ${f1(sumOe / ne)}; cell count expected ${f1(sumCe / ne)}, observed ${f1(sumCo / ne)}`);
