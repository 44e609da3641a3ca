/**
 * Percent replicating in cytominer-eval's form (replicate_reproducibility) against cytominer-eval
 * itself on the bundled LINCS plate (fixture: test/fixtures/cytominer-eval/), and the two forms
 * named apart in the evaluation output.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { readProfiles } from '../../src/io/read.js';
import { metaStrings, subsetRows } from '../../src/io/profiles.js';
import { PERCENT_REPLICATING_FORMS, cytominerEvalGroups, percentReplicating, replicateReproducibility } from '../../src/evaluate/replicating.js';
import { recordParity } from '../helpers/parity.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/cytominer-eval/replicate_reproducibility.json', import.meta.url), 'utf8')) as {
  cases: { rows: 'all' | 'treated'; replicate_groups: string[]; n: number; fraction: number }[];
  small: { groups: (string | null)[]; X: (number | null)[][]; quantile: number; fraction: number };
};
const PLATE = new URL('../../examples/lincs/SQ00015054_normalized_feature_select.csv.gz', import.meta.url).pathname;

describe('replicate reproducibility (cytominer-eval form)', () => {
  it.each(fixture.cases.map((c) => [`${c.rows} rows, groups ${c.replicate_groups.join(' + ')}`, c] as const))('%s: the fraction cytominer-eval finds', async (_n, c) => {
    let { profiles } = await readProfiles(PLATE, { metadata: ['Metadata_*'] });
    if (c.rows === 'treated') {
      const bs = metaStrings(profiles, 'Metadata_broad_sample');
      profiles = subsetRows(profiles, bs.map((b, i) => (b !== 'DMSO' ? i : -1)).filter((i) => i >= 0));
    }
    expect(profiles.X.rows).toBe(c.n);
    // Metadata_moa and Metadata_target are missing on some wells: cytominer-eval makes those one group.
    const groups = cytominerEvalGroups(c.replicate_groups.map((g) => metaStrings(profiles, g)));
    const r = replicateReproducibility(profiles.X, groups);
    recordParity({ what: `replicate_reproducibility ${_n}`, kind: 'abs', max: Math.abs(r.fraction - c.fraction), n: r.nReplicatePairs });
    expect(r.fraction).toBeCloseTo(c.fraction, 12);
    expect(r.nAbove).toBe(Math.round(c.fraction * r.nReplicatePairs));
  });

  it('missing group values, a literal "nan" label, a constant profile and a missing feature value as cytominer-eval treats them', () => {
    const { groups, X: rowsX, quantile, fraction } = fixture.small;
    const X = { rows: rowsX.length, cols: rowsX[0]!.length, data: Float64Array.from(rowsX.flat(), (v) => v ?? NaN) };
    const r = replicateReproducibility(X, cytominerEvalGroups([groups]), { quantile });
    // Replicate pairs: a (3), b (1, over the 3 features both have), the missing label with "nan" (1), d (1);
    // the constant row 7 has no defined correlation, so its 9 pairs are in neither set.
    expect(r.nReplicatePairs).toBe(6);
    expect(r.nUndefinedPairs).toBe(9);
    expect(r.nNonReplicatePairs).toBe(45 - 6 - 9);
    recordParity({ what: 'replicate_reproducibility small table (NaN group, constant profile, missing value)', kind: 'abs', max: Math.abs(r.fraction - fraction), n: r.nReplicatePairs });
    expect(r.fraction).toBeCloseTo(fraction, 12);
    // Left as missing instead, the two rows would replicate nothing: a different fraction.
    const apart = replicateReproducibility(X, groups.map((g, i) => g ?? `row ${i}`), { quantile });
    expect(apart.nReplicatePairs).toBe(5);
    expect(() => cytominerEvalGroups([groups, groups.slice(1)])).toThrow(/10 and 9 rows/);
  });

  it('hand-checked: 2 groups of 3 and a singleton; the threshold is pandas\' linear quantile of the non-replicate pairs', () => {
    const X = { rows: 4, cols: 3, data: Float64Array.from([1, 2, 3, 1, 2, 3.5, 3, 2, 1, 2, 1, 3]) };
    const r = replicateReproducibility(X, ['a', 'a', 'b', 'c']);
    // Pairs: (0,1) replicate, r = 2.5/√(19/3) = 0.9934; the other five: −1, −0.9934, −0.5, 0.5 and
    // 1.5/√(19/3) = 0.5960; the 95th percentile sits 0.8 of the way from the 4th to the 5th.
    expect(r.nReplicatePairs).toBe(1);
    expect(r.nNonReplicatePairs).toBe(5);
    expect(r.fraction).toBe(1);
    expect(r.threshold).toBeCloseTo(0.5 + 0.8 * (1.5 / Math.sqrt(19 / 3) - 0.5), 12);
    expect(() => replicateReproducibility(X, ['a', 'b', 'c', 'd'])).toThrow(/no two profiles share a group/);
    // cytominer-eval would return 0 against a NaN quantile here; phenomap says why instead.
    expect(() => replicateReproducibility(X, ['a', 'a', 'a', 'a'])).toThrow(/no non-replicate pair/);
  });

  it('the two forms differ on the same profiles and are named apart', async () => {
    const { profiles } = await readProfiles(PLATE, { metadata: ['Metadata_*'] });
    const bs = metaStrings(profiles, 'Metadata_broad_sample');
    const groups = bs.map((b) => (b === 'DMSO' ? null : b));
    const jump = percentReplicating(profiles.X, groups, { seed: 0, nullSize: 1000 });
    const ce = replicateReproducibility(profiles.X, groups);
    expect(jump.nGroups).toBeGreaterThan(50);
    expect(Math.abs(jump.percentReplicating - ce.fraction)).toBeGreaterThan(0.1);
    expect(PERCENT_REPLICATING_FORMS.jump).toMatch(/^JUMP percent replicating/);
    expect(PERCENT_REPLICATING_FORMS.cytominerEval).toMatch(/^cytominer-eval replicate_reproducibility/);
  });
});
