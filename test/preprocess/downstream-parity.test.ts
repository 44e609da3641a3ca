/**
 * normalize and feature-select against pycytominer's downstream references (issue 21, part 9):
 * the NF1 Schwann, JUMP target2 and data_b well profiles of ../shared/reference/singlecell/
 * (gen_reference_downstream.py, pycytominer db0c469c): same rows in the same order, same
 * columns, values within 1e-9 relative.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Profiles } from '../../src/io/profiles.js';
import { normalize } from '../../src/preprocess/normalize.js';
import { featureSelect, VARIANCE_THRESHOLD_NOTICE, type FeatureSelectOperation } from '../../src/preprocess/featureSelect.js';
import { describeShared, sharedPath } from '../helpers/shared.js';
import { readReference } from '../cells/helpers.js';
import { recordParity } from '../helpers/parity.js';

const ref = (name: string) => sharedPath(`reference/singlecell/${name}.csv.gz`)!;

/** Largest scaled difference |a − b| / max(1, |b|) (NaN must meet NaN), after checking rows and columns are the same. */
function compare(mine: Profiles, theirs: Profiles): number {
  expect(mine.features).toEqual(theirs.features);
  expect(mine.X.rows).toBe(theirs.X.rows);
  expect(mine.meta.map((m) => m.name)).toEqual(theirs.meta.map((m) => m.name));
  let worst = 0;
  for (let i = 0; i < theirs.X.data.length; i++) {
    const a = mine.X.data[i]!, b = theirs.X.data[i]!;
    if (Number.isNaN(a) || Number.isNaN(b)) {
      expect(Number.isNaN(a) && Number.isNaN(b), `value ${i}: ${a} vs ${b}`).toBe(true);
      continue;
    }
    worst = Math.max(worst, Math.abs(a - b) / Math.max(1, Math.abs(b)));
  }
  return worst;
}

const NF1 = ['nf1_schwann_median_annotated', 'nf1_schwann_median_norm_mad_robustize_ctrlWT'].map((n) => `reference/singlecell/${n}.csv.gz`);

describeShared('pycytominer parity: normalize (standardize, mad_robustize; all rows or a samples query)', NF1, () => {
  const cases: [string, string, 'standardize' | 'mad_robustize', string][] = [
    ['nf1_schwann_median_annotated', 'nf1_schwann_median_norm_standardize_all', 'standardize', 'all'],
    ['nf1_schwann_median_annotated', 'nf1_schwann_median_norm_standardize_ctrlWT', 'standardize', "Metadata_genotype == 'WT'"],
    ['nf1_schwann_median_annotated', 'nf1_schwann_median_norm_mad_robustize_all', 'mad_robustize', 'all'],
    ['nf1_schwann_median_annotated', 'nf1_schwann_median_norm_mad_robustize_ctrlWT', 'mad_robustize', "Metadata_genotype == 'WT'"],
    ['jump_target2_BR00121431_median_annotated', 'jump_target2_BR00121431_median_norm_standardize_all', 'standardize', 'all'],
    ['jump_target2_BR00121431_median_annotated', 'jump_target2_BR00121431_median_norm_mad_robustize_all', 'mad_robustize', 'all'],
    ['cytominer_database_data_b_median_annotated', 'cytominer_database_data_b_median_norm_standardize_all', 'standardize', 'all'],
    ['cytominer_database_data_b_median_annotated', 'cytominer_database_data_b_median_norm_mad_robustize_all', 'mad_robustize', 'all'],
  ];
  it.each(cases)('%s → %s', async (input, output, method, samples) => {
    const { profiles } = normalize(await readReference(ref(input)), { method, samples });
    const worst = compare(profiles, await readReference(ref(output)));
    recordParity({ what: `normalize → ${output}`, kind: 'scaled', max: worst, n: profiles.X.data.length });
    // mad_robustize with MAD 0 gives values of order 1e18 in both; scaled differences stay tiny.
    expect(worst).toBeLessThan(1e-9);
  });
});

describeShared('pycytominer parity: feature_select, each operation alone and chained', NF1, () => {
  // The names are pycytominer's: "variance_threshold" is sklearn's VarianceThreshold(1e-6) (also
  // named min_variance), "frequency_threshold" the freq_cut/unique_cut rule.
  const blocklist = () => readFileSync(`${sharedPath('bench/pycytominer')}/pycytominer/data/blocklist_features.txt`, 'utf8').split(/\r?\n/).slice(1).map((s) => s.trim()).filter(Boolean);
  const cases: [string, string, FeatureSelectOperation[]][] = [
    ['nf1_schwann_median_norm_mad_robustize_ctrlWT', 'nf1_schwann_median_fs_variance_threshold', ['variance_threshold']],
    ['nf1_schwann_median_norm_mad_robustize_ctrlWT', 'nf1_schwann_median_fs_frequency_threshold', ['frequency_threshold']],
    ['nf1_schwann_median_norm_mad_robustize_ctrlWT', 'nf1_schwann_median_fs_drop_na_columns', ['drop_na_columns']],
    ['nf1_schwann_median_norm_mad_robustize_ctrlWT', 'nf1_schwann_median_fs_correlation_threshold', ['correlation_threshold']],
    ['nf1_schwann_median_norm_mad_robustize_ctrlWT', 'nf1_schwann_median_fs_blocklist', ['blocklist']],
    ['nf1_schwann_median_norm_mad_robustize_ctrlWT', 'nf1_schwann_median_fs_chain', ['variance_threshold', 'correlation_threshold', 'drop_na_columns', 'blocklist']],
    ['nf1_schwann_sc_norm_standardize_all', 'nf1_schwann_sc_fs_chain', ['variance_threshold', 'correlation_threshold', 'drop_na_columns', 'blocklist']],
    ['jump_target2_BR00121431_median_norm_mad_robustize_all', 'jump_target2_BR00121431_median_fs_blocklist', ['blocklist']],
    ['jump_target2_BR00121431_median_norm_mad_robustize_all', 'jump_target2_BR00121431_median_fs_na_blocklist', ['drop_na_columns', 'blocklist']],
  ];
  it.each(cases)('%s → %s', async (input, output, operations) => {
    const before = await readReference(ref(input));
    const { profiles } = featureSelect(before, { operations, blocklist: blocklist() });
    const theirs = await readReference(ref(output));
    // correlation_threshold included: features are ranked by Σ|r| in numpy's quicksort order, so
    // exact ties (identical Cells_/Cytoplasm_ BoundingBox columns) fall as in pycytominer.
    const worst = compare(profiles, theirs);
    recordParity({ what: `feature_select → ${output}`, kind: 'scaled', max: worst, n: profiles.X.data.length });
    expect(worst).toBe(0);
  });
});

describe('feature-select operation names', () => {
  it('variance_threshold is sklearn\'s VarianceThreshold (= min_variance), with a warning naming both meanings; frequency_threshold the freq_cut rule', () => {
    // Cells_rare: variance 0.139 (kept by VarianceThreshold), frequency ratio 1/5 < 0.5 (dropped by the freq rule);
    // Cells_flat: variance 2.5e-9 < 1e-6 (dropped by VarianceThreshold), two values equally common (kept by the freq rule).
    const X = { rows: 6, cols: 3, data: Float64Array.from([1, 1, 1, 1, 2, 1.0001, 1, 3, 1, 1, 4, 1.0001, 1, 5, 1, 2, 6, 1.0001]) };
    const p: Profiles = { features: ['Cells_rare', 'Cells_ok', 'Cells_flat'], X, meta: [] };
    const warnings: string[] = [];
    const reporter = { info() {}, warn: (m: string) => warnings.push(m), progress: () => ({ tick() {}, done() {} }) };
    const freq = featureSelect(p, { operations: ['frequency_threshold'], freqCut: 0.5, reporter });
    expect(freq.profiles.features).toEqual(['Cells_ok', 'Cells_flat']);
    expect(warnings).toEqual([]);
    const minVar = featureSelect(p, { operations: ['min_variance'], reporter });
    expect(minVar.profiles.features).toEqual(['Cells_rare', 'Cells_ok']);
    expect(warnings).toEqual([]);
    const vt = featureSelect(p, { operations: ['variance_threshold'], reporter });
    expect(vt.profiles.features).toEqual(minVar.profiles.features);
    expect(vt.report.removed[0]!.reason).toMatch(/^variance_threshold: variance/);
    expect(warnings).toEqual([VARIANCE_THRESHOLD_NOTICE]);
    expect(vt.report.warnings).toEqual([VARIANCE_THRESHOLD_NOTICE]);
    expect(VARIANCE_THRESHOLD_NOTICE).toMatch(/scikit-learn's VarianceThreshold.*freq_cut\/unique_cut rule by it: that rule is now frequency_threshold/);
    // A --min-variance with variance_threshold listed does not add a second variance step.
    expect(featureSelect(p, { operations: ['variance_threshold'], minVariance: 0.5 }).report.operations.map((o) => o.operation)).toEqual(['variance_threshold']);
  });
});
