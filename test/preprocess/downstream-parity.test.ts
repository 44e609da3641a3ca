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
import { featureSelect, type FeatureSelectOperation } from '../../src/preprocess/featureSelect.js';
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
  // pycytominer's names → phenomap's: pycytominer ≥ 1.x calls sklearn's VarianceThreshold(1e-6)
  // "variance_threshold" (phenomap: min_variance) and the freq_cut/unique_cut rule
  // "frequency_threshold" (phenomap: frequency_threshold, also still accepted as variance_threshold).
  const blocklist = () => readFileSync(`${sharedPath('bench/pycytominer')}/pycytominer/data/blocklist_features.txt`, 'utf8').split(/\r?\n/).slice(1).map((s) => s.trim()).filter(Boolean);
  const cases: [string, string, FeatureSelectOperation[]][] = [
    ['nf1_schwann_median_norm_mad_robustize_ctrlWT', 'nf1_schwann_median_fs_variance_threshold', ['min_variance']],
    ['nf1_schwann_median_norm_mad_robustize_ctrlWT', 'nf1_schwann_median_fs_frequency_threshold', ['frequency_threshold']],
    ['nf1_schwann_median_norm_mad_robustize_ctrlWT', 'nf1_schwann_median_fs_drop_na_columns', ['drop_na_columns']],
    ['nf1_schwann_median_norm_mad_robustize_ctrlWT', 'nf1_schwann_median_fs_correlation_threshold', ['correlation_threshold']],
    ['nf1_schwann_median_norm_mad_robustize_ctrlWT', 'nf1_schwann_median_fs_blocklist', ['blocklist']],
    ['nf1_schwann_median_norm_mad_robustize_ctrlWT', 'nf1_schwann_median_fs_chain', ['min_variance', 'correlation_threshold', 'drop_na_columns', 'blocklist']],
  ];
  it.each(cases)('%s → %s', async (input, output, operations) => {
    const before = await readReference(ref(input));
    const { profiles } = featureSelect(before, { operations, blocklist: blocklist() });
    const theirs = await readReference(ref(output));
    if (operations.includes('correlation_threshold')) {
      // Not matched: features whose Σ|r| is exactly tied (identical columns such as Cells_… and
      // Cytoplasm_…_BoundingBox…) are ordered by numpy's unstable quicksort in pycytominer; phenomap
      // keeps the earlier column. Same number kept; each difference is such an identical pair.
      expect(profiles.features.length).toBe(theirs.features.length);
      const ours = new Set(profiles.features), ref_ = new Set(theirs.features);
      const onlyOurs = profiles.features.filter((f) => !ref_.has(f)), onlyTheirs = theirs.features.filter((f) => !ours.has(f));
      expect(onlyOurs.length).toBe(onlyTheirs.length);
      expect(onlyOurs.length).toBeLessThanOrEqual(5);
      const col = (f: string) => Array.from({ length: before.X.rows }, (_, i) => before.X.data[i * before.features.length + before.features.indexOf(f)]);
      // Alone, every difference is an identical pair (an exact tie). In the chain (after min_variance)
      // two more features differ whose Σ|r| are near-ties: not matched yet (docs/parity.md).
      if (operations.length === 1) for (const f of onlyOurs) expect(onlyTheirs.some((g) => JSON.stringify(col(g)) === JSON.stringify(col(f))), `${f} has an identical partner`).toBe(true);
      recordParity({ what: `feature_select → ${output}`, kind: 'count', max: onlyOurs.length, n: theirs.features.length });
      return;
    }
    const worst = compare(profiles, theirs);
    recordParity({ what: `feature_select → ${output}`, kind: 'scaled', max: worst, n: profiles.X.data.length });
    expect(worst).toBe(0);
  });
});

describe('feature-select operation names', () => {
  it('frequency_threshold is the freq_cut/unique_cut rule (phenomap\'s variance_threshold)', () => {
    const X = { rows: 6, cols: 2, data: Float64Array.from([1, 1, 1, 2, 1, 3, 1, 4, 1, 5, 2, 6]) };
    const p: Profiles = { features: ['Cells_rare', 'Cells_ok'], X, meta: [] };
    const a = featureSelect(p, { operations: ['frequency_threshold'], freqCut: 0.5 });
    const b = featureSelect(p, { operations: ['variance_threshold'], freqCut: 0.5 });
    expect(a.profiles.features).toEqual(['Cells_ok']);
    expect(b.profiles.features).toEqual(a.profiles.features);
  });
});
