/**
 * `predict rank` on real data: a Macau model trained on the cell-injury well-holdout split (injury types
 * as one-vs-rest assays, one profile per compound and dose) ranks the plate-holdout split's compounds it
 * never saw. Small sampler settings keep it to seconds; bench/predict-rank.ts runs the full model.
 */
import { it, expect } from 'vitest';
import { cellInjuryRecipe, CELL_INJURY_FILES } from '../../src/io/recipes.js';
import { metaStrings } from '../../src/io/profiles.js';
import { prepareActivityData } from '../../src/predict/prepare.js';
import { trainActivityModel } from '../../src/predict/saved-model.js';
import { crossValidatedExpectation, fitCellCountBaseline, libraryCellCount, rankLibrary, testedCompounds } from '../../src/predict/rank.js';
import { describeShared, sharedPath } from '../helpers/shared.js';

const files = [`data/${CELL_INJURY_FILES.well}`, `data/${CELL_INJURY_FILES.plate}`];

describeShared('predict rank on the cell-injury splits', files, () => {
  it('untested compounds only, probabilities ranked, cell-count baseline beside, the CV expectation, actives found above chance', async () => {
    const train = (await cellInjuryRecipe(sharedPath(files[0]!)!)).profiles;
    const d = prepareActivityData(train, {
      groupCol: 'Compound Name', aggregate: ['Compound Name', 'Compound Concentration (microMolar)'],
      activity: { kind: 'labels', column: 'injury_type', exclude: ['Control'] }, cellCountCol: 'Relative well cellcount',
    });
    const macau = { numLatent: 8, burnin: 30, nsamples: 60, seed: 0 };
    const model = trainActivityModel('macau', d.X, d.features, d.Y, d.assays, { macau, groups: d.groups, trainedOn: { idCol: 'Compound Name' } });
    model.tested = testedCompounds(d.ids, d.Y, d.assays);
    model.cellCount = fitCellCountBaseline(d.cellCount!.X, d.cellCount!.name, d.Y);
    model.expected = crossValidatedExpectation('macau', d.X, d.Y, d.assays, { folds: 3, seed: 0, groups: d.groups, groupedBy: 'Compound Name', macau }, d.cellCount!.X);

    const lib = (await cellInjuryRecipe(sharedPath(files[1]!)!)).profiles;
    const ids = metaStrings(lib, 'Compound Name').map((v, i) => v ?? `row ${i + 1}`);
    const truth = new Map<string, string>();
    metaStrings(lib, 'injury_type').forEach((t, i) => truth.set(ids[i]!, t ?? ''));
    const cellCount = libraryCellCount(lib, 'Relative well cellcount');
    expect(cellCount).not.toBeNull();

    let hits = 0, expectedHits = 0, ranked = 0;
    for (const assay of d.assays) {
      const r = rankLibrary(model, lib.X, lib.features, { assay, ids, cellCount, top: 10 });
      const tested = new Set([...model.tested[assay]!.active, ...model.tested[assay]!.inactive]);
      expect(r.ranked.length).toBeGreaterThan(10);
      for (const c of r.ranked) expect(tested.has(c.compound)).toBe(false);
      expect(new Set(r.ranked.map((c) => c.compound)).size).toBe(r.ranked.length); // one row per compound
      for (let i = 1; i < r.ranked.length; i++) expect(r.ranked[i]!.probability).toBeLessThanOrEqual(r.ranked[i - 1]!.probability);
      for (const c of r.ranked) {
        expect(c.probability).toBeGreaterThanOrEqual(0);
        expect(c.probability).toBeLessThanOrEqual(1);
        expect(c.cellCountRank).toBeGreaterThanOrEqual(1);
      }
      expect(r.expected!.model.auc).toBeGreaterThanOrEqual(0);
      expect(r.expected!.cellCount).not.toBeNull();
      const actives = r.ranked.filter((c) => truth.get(c.compound) === assay).length;
      hits += r.ranked.slice(0, 10).filter((c) => truth.get(c.compound) === assay).length;
      expectedHits += (10 * actives) / r.ranked.length;
      ranked++;
    }
    expect(ranked).toBe(8);
    // Images carry injury-type signal to unseen compounds: more actives in the top 10s than a random
    // ranking would put there (bench/predict-rank.ts, full Macau: 2.1× on average).
    expect(hits).toBeGreaterThan(1.3 * expectedHits);
  }, 120_000);
});
