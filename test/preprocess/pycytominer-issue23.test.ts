/**
 * pycytominer parity (commit db0c469c; fixtures by test/fixtures/pycytominer/make_issue23.py):
 * normalize(method="inverse_normal") on the bundled LINCS plate (all rows and DMSO reference
 * rows, 1000 and 50 quantiles), feature_select(operation="noise_removal") at two cutoffs, and
 * aggregate(compute_object_count=True)'s Metadata_Object_Count.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProfiles } from '../../src/io/read.js';
import { normalize } from '../../src/preprocess/normalize.js';
import { featureSelect } from '../../src/preprocess/featureSelect.js';
import { aggregate } from '../../src/preprocess/aggregate.js';
import { normalQuantile, normalUpperTail } from '../../src/preprocess/stats.js';
import { metaStrings } from '../../src/io/profiles.js';
import { repoRoot } from '../helpers/shared.js';
import { MaxDiff, recordParity } from '../helpers/parity.js';

const dir = join(repoRoot, 'test/fixtures/pycytominer');
const f = JSON.parse(readFileSync(join(dir, 'issue23.json'), 'utf8'));
const plate = join(repoRoot, 'examples/lincs/SQ00015054_normalized_feature_select.csv.gz');

describe('normal quantile (scipy.stats.norm.ppf)', () => {
  it('inverts the tail to ~1e-15 and matches known values', () => {
    for (const p of [1e-300, 1e-20, 1e-7, 0.001, 0.02425, 0.2, 0.5 - 1e-12, 0.5, 0.7, 0.99, 1 - 1e-9]) {
      const x = normalQuantile(p);
      const back = x < 0 ? normalUpperTail(-x) : 1 - normalUpperTail(x);
      expect(Math.abs(back - p) / Math.min(p, 1 - p)).toBeLessThan(1e-12);
    }
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 14);
    expect(normalQuantile(1e-7 - 2 ** -52)).toBeCloseTo(-5.199337582605575, 13); // scipy.stats.norm.ppf
    expect(normalQuantile(1e-20)).toBeCloseTo(-9.262340089798409, 13);
  });
});

describe('pycytominer parity: inverse_normal, noise_removal, Metadata_Object_Count', () => {
  for (const [key, samples, nq] of [['inverse_normal_all', 'all', 1000], ['inverse_normal_dmso', 'Metadata_broad_sample == DMSO', 1000], ['inverse_normal_q50', 'all', 50]] as const) {
    it(`normalize inverse_normal (${key}) within 1e-9`, async () => {
      const { profiles } = await readProfiles(plate, { features: f[key].features });
      const { profiles: out } = normalize(profiles, { method: 'inverse_normal', samples, inverseNormalQuantiles: nq });
      const want: number[][] = f[key].values;
      expect(out.features).toEqual(f[key].features);
      let worst = 0;
      want.forEach((row, i) => row.forEach((v, j) => {
        worst = Math.max(worst, Math.abs(out.X.data[i * out.X.cols + j]! - v) / Math.max(1, Math.abs(v)));
      }));
      expect(worst).toBeLessThan(1e-9);
      recordParity({ what: `normalize inverse_normal (${key}): LINCS plate, 24 features`, kind: 'scaled', max: worst, n: want.length * want[0]!.length });
    });
  }

  for (const cutoff of [0.8, 1.2]) {
    it(`feature_select noise_removal, cutoff ${cutoff}: the same features removed`, async () => {
      const { profiles } = await readProfiles(plate);
      const { report } = featureSelect(profiles, { operations: ['noise_removal'], noiseRemovalPerturbGroups: 'Metadata_broad_sample', noiseRemovalStdevCutoff: cutoff });
      const ours = new Set(report.removed.map((d) => d.name)), theirs = new Set<string>(f[`noise_removal_${cutoff}`]);
      const differ = [...ours].filter((x) => !theirs.has(x)).length + [...theirs].filter((x) => !ours.has(x)).length;
      recordParity({ what: `feature_select noise_removal (cutoff ${cutoff}): LINCS plate, features removed differently`, kind: 'count', max: differ, n: profiles.features.length });
      expect(report.removed.map((d) => d.name).sort()).toEqual(f[`noise_removal_${cutoff}`]);
    });
  }

  it('noise_removal without a perturbation column is a usage error', async () => {
    const { profiles } = await readProfiles(plate);
    expect(() => featureSelect(profiles, { operations: ['noise_removal'] })).toThrow(/perturbation column/);
    expect(() => featureSelect(profiles, { operations: ['noise_removal'], noiseRemovalPerturbGroups: 'Metadata_nope' })).toThrow(/no metadata column "Metadata_nope"/);
  });

  it('aggregate names its count Metadata_Object_Count, with pycytominer\'s counts', async () => {
    const { profiles } = await readProfiles(join(dir, 'cells_small.csv'), { metadata: ['Metadata_*'] });
    const { profiles: out } = aggregate(profiles, { strata: ['Metadata_Plate', 'Metadata_Well'], operation: 'median' }); // pycytominer's default
    const plateCol = metaStrings(out, 'Metadata_Plate'), well = metaStrings(out, 'Metadata_Well'), count = metaStrings(out, 'Metadata_Object_Count');
    const want: string[][] = f.aggregate_object_count.rows;
    expect(f.aggregate_object_count.columns).toContain('Metadata_Object_Count');
    expect(out.X.rows).toBe(want.length);
    const diff = new MaxDiff();
    for (const [p, w, c, x, y] of want) {
      const i = plateCol.findIndex((v, k) => v === p && well[k] === w);
      expect(count[i]).toBe(String(Number(c)));
      diff.add(out.X.data[i * 2]!, Number(x));
      diff.add(out.X.data[i * 2 + 1]!, Number(y));
      expect(out.X.data[i * 2]!).toBeCloseTo(Number(x), 12);
      expect(out.X.data[i * 2 + 1]!).toBeCloseTo(Number(y), 12);
    }
    // pycytominer's values went through str(): repr of a float64, exact on reading back.
    recordParity({ what: 'aggregate median + Metadata_Object_Count: 60 synthetic cells, 6 wells (counts equal)', kind: 'abs', max: diff.max, n: diff.n });
  });
});
