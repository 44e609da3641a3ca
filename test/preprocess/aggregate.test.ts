import { describe, it, expect } from 'vitest';
import { aggregate } from '../../src/preprocess/aggregate.js';
import { consensus, modzWeights } from '../../src/preprocess/consensus.js';
import { fromRows } from '../../src/linalg/matrix.js';
import { UsageError } from '../../src/util/errors.js';
import { averageRanks } from '../../src/preprocess/stats.js';
import { makeProfiles, col } from './make.js';

const p = makeProfiles(
  [
    [1, 10, NaN],
    [3, 20, NaN],
    [5, 30, 1],
    [7, NaN, 2],
    [100, 40, 4],
  ],
  ['Cells_a', 'Cells_b', 'Cells_c'],
  {
    Metadata_Well: ['B02', 'B02', 'A01', 'A01', 'A01'],
    Metadata_Plate: ['P1', 'P1', 'P1', 'P1', 'P1'],
    Metadata_broad_sample: ['X', 'X', 'Y', 'Y', 'Y'],
    Metadata_site: [1, 2, 1, 2, 3],
  },
);

describe('aggregate', () => {
  it('mean per stratum in order of first appearance, NaN skipped, constant metadata kept', () => {
    const r = aggregate(p, { strata: ['Metadata_Well'], operation: 'mean' });
    expect(r.profiles.meta.map((m) => m.name)).toEqual(['Metadata_Well', 'Metadata_Plate', 'Metadata_broad_sample', 'Metadata_Object_Count']);
    expect(r.profiles.meta[0]!.values).toEqual(['B02', 'A01']);
    expect(Array.from(r.profiles.meta[3]!.values as Float64Array)).toEqual([2, 3]);
    expect(col(r.profiles, 'Cells_a')).toEqual([2, 112 / 3]);
    expect(col(r.profiles, 'Cells_b')).toEqual([15, 35]);
    const c = col(r.profiles, 'Cells_c');
    expect(Number.isNaN(c[0]!)).toBe(true);
    expect(c[1]).toBeCloseTo(7 / 3, 15);
    expect(r.report.metadataDropped).toEqual(['Metadata_site']);
    expect(r.report.missingCells).toBe(1);
    expect(r.report.featuresWithMissing).toEqual(['Cells_c']);
    expect(r.report.warnings.join(' ')).toMatch(/1 aggregated value/);
  });
  it('median per stratum (even count → mean of the middle two)', () => {
    const r = aggregate(p, { strata: ['Metadata_Plate', 'Metadata_Well'], operation: 'median' });
    expect(col(r.profiles, 'Cells_a')).toEqual([2, 7]);
    expect(col(r.profiles, 'Cells_b')).toEqual([15, 35]);
    expect(col(r.profiles, 'Cells_c')[1]).toBe(2);
    expect(r.profiles.meta.slice(0, 2).map((m) => m.name)).toEqual(['Metadata_Plate', 'Metadata_Well']);
  });
  it('needs strata', () => {
    expect(() => aggregate(p, { strata: [] })).toThrow(UsageError);
    expect(() => aggregate(p, { strata: ['Metadata_nope'] })).toThrow(/no metadata column "Metadata_nope"/);
  });
});

describe('consensus', () => {
  it('average ranks on ties', () => {
    expect(Array.from(averageRanks([3, 1, 1, 2, NaN], new Float64Array(5)))).toEqual([4, 1.5, 1.5, 3, NaN]);
  });
  it('MODZ weights on a hand example', () => {
    // Spearman: ρ(r1,r2) = 0.8, ρ(r1,r3) = −1, ρ(r2,r3) = −0.8 → clipped at 0 → mean to others
    // [0.4, 0.4, 0] → min weight 0.01 → /0.81 → rounded to 4 decimals.
    const R = fromRows([
      [1, 2, 3, 4],
      [1, 2, 4, 3],
      [4, 3, 2, 1],
    ]);
    expect(Array.from(modzWeights(R).weights)).toEqual([0.4938, 0.4938, 0.0123]);
    const full = modzWeights(R, 0.01, null).weights;
    expect(full[0]).toBeCloseTo(0.4 / 0.81, 15);
    expect(full[2]).toBeCloseTo(0.01 / 0.81, 15);
    const q = makeProfiles([[1, 2, 3, 4], [1, 2, 4, 3], [4, 3, 2, 1], [9, 9, 8, 7]], ['Cells_1', 'Cells_2', 'Cells_3', 'Cells_4'], {
      Metadata_cpd: ['A', 'A', 'A', 'B'],
    });
    const r = consensus(q, { strata: ['Metadata_cpd'], method: 'modz' });
    expect(col(r.profiles, 'Cells_1')[0]).toBeCloseTo(0.4938 + 0.4938 + 0.0123 * 4, 14);
    expect(col(r.profiles, 'Cells_3')[0]).toBeCloseTo(0.4938 * 3 + 0.4938 * 4 + 0.0123 * 2, 14);
    // a single-replicate group returns itself
    expect(Array.from(r.profiles.X.data.subarray(4, 8))).toEqual([9, 9, 8, 7]);
    expect(r.report.groups).toEqual([
      { label: 'Metadata_cpd=A', nReplicates: 3, weights: [0.4938, 0.4938, 0.0123] },
      { label: 'Metadata_cpd=B', nReplicates: 1, weights: [1] },
    ]);
    expect(Array.from(r.profiles.meta.find((m) => m.name === 'Metadata_n_replicates')!.values as Float64Array)).toEqual([3, 1]);
  });
  it('MODZ: two replicates weigh 0.5 each; modzFeatures restricts the correlation features', () => {
    const R = fromRows([
      [1, 2, 3, 10],
      [3, 2, 1, 20],
      [1, 2, 3, 30],
    ]);
    expect(Array.from(modzWeights(fromRows([[1, 2, 3], [3, 1, 2]])).weights)).toEqual([0.5, 0.5]);
    const q = makeProfiles(Array.from({ length: 3 }, (_, i) => Array.from(R.data.subarray(i * 4, i * 4 + 4))), ['Cells_1', 'Cells_2', 'Cells_3', 'Cells_4'], {
      Metadata_cpd: ['A', 'A', 'A'],
    });
    // on features 1..3: r1 = r3 (ρ = 1), r2 opposite (ρ = −1 → 0) → raw [0.5, 0.01, 0.5]
    const r = consensus(q, { strata: ['Metadata_cpd'], method: 'modz', modzFeatures: ['Cells_1', 'Cells_2', 'Cells_3'] });
    expect(r.report.groups[0]!.weights).toEqual([0.4950, 0.0099, 0.4950]);
  });
  it('MODZ skips a missing replicate value by rescaling the remaining weights', () => {
    const q = makeProfiles([[1, 2, 3, 4], [1, 2, 3, NaN]], ['Cells_1', 'Cells_2', 'Cells_3', 'Cells_4'], { Metadata_cpd: ['A', 'A'] });
    const r = consensus(q, { strata: ['Metadata_cpd'], method: 'modz' });
    expect(col(r.profiles, 'Cells_4')).toEqual([4]);
    expect(col(r.profiles, 'Cells_1')).toEqual([1]);
  });
  it('median consensus', () => {
    const r = consensus(p, { strata: ['Metadata_broad_sample'], method: 'median' });
    expect(col(r.profiles, 'Cells_a')).toEqual([2, 7]);
    expect(r.report.groups.map((g) => g.nReplicates)).toEqual([2, 3]);
    expect(r.profiles.meta.map((m) => m.name)).toContain('Metadata_n_replicates');
  });
});
