/** Finite input gives finite, correct output: moments that do not overflow (issue 21, part 3). */
import { describe, it, expect } from 'vitest';
import { zscore, zscoreProfiles } from '../../src/preprocess/zscore.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { presetParameters } from '../../src/pipeline/params.js';
import type { Profiles } from '../../src/io/profiles.js';

describe('z-score of huge finite values', () => {
  it('a value of 1e160 (its square overflows) keeps the feature, with the mean and std of the scaled computation', () => {
    const col = [1e160, 1, 2, 3, 4, 5, 6, 7];
    const X = { rows: 8, cols: 2, data: Float64Array.from(col.flatMap((v, i) => [v, i % 3])) };
    const r = zscore(X);
    expect(r.kept).toEqual([0, 1]);
    // Exact: mean = 1e160/8 (+ 28/8, lost to rounding), std = 1e160·√7/8.
    expect(r.mean[0]).toBeCloseTo(1.25e159, -146);
    expect(r.std[0]! / (1e160 * Math.sqrt(7) / 8)).toBeCloseTo(1, 14);
    const z0 = Array.from({ length: 8 }, (_, i) => r.Z.data[i * 2]!);
    expect(z0.every(Number.isFinite)).toBe(true);
    expect(z0[0]).toBeCloseTo(Math.sqrt(7), 12);
    for (let i = 1; i < 8; i++) expect(z0[i]).toBeCloseTo(-1 / Math.sqrt(7), 12);
  });

  it('values near ±1.8e308, where even x − mean overflows: finite, correct z-scores (in place too)', () => {
    for (const inPlace of [false, true]) {
      const X = { rows: 4, cols: 2, data: Float64Array.from([1.7e308, 1, -1.7e308, 2, -1.7e308, 3, -1.7e308, 5]) };
      const r = zscore(X, { inPlace });
      expect(r.kept).toEqual([0, 1]);
      // Scaled: [1, −1, −1, −1], mean −½, std √¾.
      const z0 = [0, 1, 2, 3].map((i) => r.Z.data[i * 2]!);
      expect(z0[0]).toBeCloseTo(1.5 / Math.sqrt(0.75), 12);
      for (let i = 1; i < 4; i++) expect(z0[i]).toBeCloseTo(-0.5 / Math.sqrt(0.75), 12);
      expect(r.std[0]! / (1.7e308 * Math.sqrt(0.75))).toBeCloseTo(1, 14);
    }
    const p: Profiles = { features: ['Cells_big', 'Cells_ok'], X: { rows: 3, cols: 2, data: Float64Array.from([1e300, 1, 1e300, 2, 1e300, 3]) }, meta: [] };
    expect(zscoreProfiles(p).report.dropped).toEqual([{ kind: 'feature', name: 'Cells_big', reason: 'zero variance (all values equal)' }]);
  });

  it('in a run: the feature stays, and a feature that must go is named with its reason in the warnings', () => {
    const n = 12;
    const data = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      data[i * 3] = i === 5 ? 1e160 : i % 4;
      data[i * 3 + 1] = (i * 7) % 5;
      data[i * 3 + 2] = i === 3 ? Infinity : i % 2;
    }
    const p: Profiles = {
      features: ['Cells_AreaShape_Compactness', 'Cells_b', 'Cells_huge'], X: { rows: n, cols: 3, data },
      meta: [{ name: 'Metadata_moa', kind: 'string', values: Array.from({ length: n }, (_, i) => `m${i % 3}`) }],
    };
    const res = analyse(p, { ...presetParameters('default'), representations: ['raw'] });
    expect(res.profiles.features).toEqual(['Cells_AreaShape_Compactness', 'Cells_b']);
    expect(Array.from(res.profiles.X.data).every(Number.isFinite)).toBe(true);
    expect(res.warnings.join('\n')).toMatch(/1 feature\(s\) dropped before z-scoring: Cells_huge \(has a missing or infinite value\)/);
  });
});

describe('normalize (standardize) of huge finite values', () => {
  it('values up to 1.7e308: finite z-scores equal to the scaled computation, nothing dropped', async () => {
    const { normalize } = await import('../../src/preprocess/normalize.js');
    const col = [1.7e308, -1.7e308, 5e307, 0, 1e160];
    const p: Profiles = { features: ['Cells_x', 'Cells_y'], X: { rows: 5, cols: 2, data: Float64Array.from(col.flatMap((v, i) => [v, i])) }, meta: [] };
    const { profiles, report } = normalize(p, { method: 'standardize' });
    expect(profiles.features).toEqual(['Cells_x', 'Cells_y']);
    expect(report.zeroScale).toEqual([]);
    const s = col.map((v) => v / 1.7e308);
    const m = s.reduce((a, b) => a + b, 0) / 5;
    const sd = Math.sqrt(s.reduce((a, b) => a + (b - m) ** 2, 0) / 5);
    for (let i = 0; i < 5; i++) expect(profiles.X.data[i * 2]! / ((s[i]! - m) / sd)).toBeCloseTo(1, 12);
  });
});
