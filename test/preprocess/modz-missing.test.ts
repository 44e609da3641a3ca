/** MODZ with missing values as pycytominer's consensus(operation="modz") (issue 21, part 9). */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { consensus } from '../../src/preprocess/consensus.js';
import type { Profiles } from '../../src/io/profiles.js';
import { repoRoot } from '../helpers/shared.js';
import { recordParity } from '../helpers/parity.js';

// pycytominer db0c469c, by test/fixtures/pycytominer/make_modz_missing.py
const fx = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/pycytominer/modz_missing.json'), 'utf8'));

function table(): Profiles {
  const rows: (number | null)[][] = fx.input.rows;
  const d = fx.input.features.length;
  return {
    features: fx.input.features,
    X: { rows: rows.length, cols: d, data: Float64Array.from(rows.flat(), (v) => (v === null ? NaN : v)) },
    meta: [{ name: 'Metadata_cpd', kind: 'string', values: fx.input.groups }],
  };
}

describe('MODZ with missing values', () => {
  it("modzMissing 'pycytominer': a missing value adds 0, a feature no replicate has is 0, a constant replicate gets no weight", () => {
    const { profiles, report } = consensus(table(), { strata: ['Metadata_cpd'], method: 'modz', modzMissing: 'pycytominer' });
    const groups = profiles.meta.find((m) => m.name === 'Metadata_cpd')!.values as string[];
    let worst = 0;
    groups.forEach((g, i) => {
      const want: number[] = fx.output[g];
      want.forEach((w, j) => {
        const got = profiles.X.data[i * want.length + j]!;
        worst = Math.max(worst, Math.abs(got - w) / Math.max(1, Math.abs(w)));
      });
    });
    recordParity({ what: 'consensus modz with missing values (3 groups × 5 features)', kind: 'scaled', max: worst, n: groups.length * 5 });
    expect(worst).toBeLessThan(1e-12);
    expect(report.warnings.join('\n')).toMatch(/1 replicate\(s\) had no defined correlation .* got no weight \(as pycytominer\)/);
  });

  it('the default rescales the present weights instead (documented difference)', () => {
    const { profiles } = consensus(table(), { strata: ['Metadata_cpd'], method: 'modz' });
    const c = profiles.X.data.slice(2 * 5, 3 * 5); // group C: one replicate
    expect(Number.isNaN(c[1]!)).toBe(true);
    expect(c[0]).toBe(9);
  });
});
