/**
 * Parity with copairs (v0.4.4, commit b65bf1d; fixtures written by
 * test/fixtures/copairs/make_fixtures.py): AP, n_pos and n_total on the same pairs to 1e-12,
 * exact and float32 ties included; mAP p-values within Monte-Carlo error and the same
 * significant set.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MetaColumn } from '../../src/io/profiles.js';
import { fromRows } from '../../src/linalg/matrix.js';
import { averagePrecision, referenceIndexColumn, type SimilarityName } from '../../src/evaluate/averagePrecision.js';
import { apQueries, ApNulls, meanAveragePrecision } from '../../src/evaluate/map.js';
import type { ColumnSpec } from '../../src/evaluate/pairs.js';
import { readProfiles } from '../../src/io/read.js';
import { metaStrings } from '../../src/io/profiles.js';
import { zscoreProfiles } from '../../src/preprocess/zscore.js';
import { takeRows } from '../../src/linalg/matrix.js';
import { repoRoot, describeShared, sharedPath } from '../helpers/shared.js';
import { MaxDiff, recordParity } from '../helpers/parity.js';

const fixture = (name: string) => JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/copairs', name), 'utf8'));

function stringColumns(rec: Record<string, unknown[]>, names: string[]): MetaColumn[] {
  return names.map((name) => ({ name, kind: 'string' as const, values: rec[name]!.map(String) }));
}

/** Monte-Carlo tolerance for two independent p-value estimates with null sizes n1, n2. */
function mcTolerance(p: number, n1: number, n2: number): number {
  return 5 * Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2)) + 2 / Math.min(n1, n2);
}

interface ApFixture { average_precision: (number | null)[]; n_pos_pairs: number[]; n_total_pairs: number[] }

function expectSameAps(r: ReturnType<typeof averagePrecision>, f: ApFixture, what: string, rows: number[] = f.n_pos_pairs.map((_, i) => i)): void {
  const diff = new MaxDiff();
  const at = new Map<number, number>();
  r.row.forEach((i, t) => at.set(i, t));
  let compared = 0;
  rows.forEach((row, k) => {
    const ap = f.average_precision[k];
    const t = at.get(row);
    if (f.n_pos_pairs[k] === 0) {
      expect(t, `row ${row} has no positive in copairs`).toBeUndefined();
      return;
    }
    expect(t, `row ${row}`).toBeDefined();
    expect(r.nPos[t!]).toBe(f.n_pos_pairs[k]);
    expect(r.nTotal[t!]).toBe(f.n_total_pairs[k]);
    expect(diff.add(r.ap[t!]!, ap!)).toBeLessThanOrEqual(1e-12);
    compared++;
  });
  expect(compared).toBeGreaterThan(0);
  recordParity({ what: `AP: ${what}`, kind: 'abs', max: diff.max, n: diff.n });
}

describe('copairs parity: synthetic rules with exact ties', () => {
  const f = fixture('synthetic.json');
  const meta = stringColumns(f.meta, ['plate', 'well', 'label', 'batch']);
  const X = fromRows(f.features);
  for (const c of f.cases as { name: string; pos_sameby: ColumnSpec; pos_diffby: string[]; neg_sameby: string[]; neg_diffby: string[]; distance: string }[]) {
    it(c.name, () => {
      const r = averagePrecision(meta, X, {
        pos: { sameby: c.pos_sameby, diffby: c.pos_diffby },
        neg: { sameby: c.neg_sameby, diffby: c.neg_diffby },
        distance: c.distance.replace('_', '-') as SimilarityName,
      });
      expectSameAps(r, c as unknown as ApFixture, `synthetic ${c.name}`);
    });
  }

  it('ties break as copairs does (a positive precedes a negative of equal similarity)', () => {
    // Row 0 queries; rows 1 (positive) and 2, 3 (negatives) are identical: all tied.
    const X2 = fromRows([[1, 0], [1, 1], [1, 1], [1, 1], [0, 1]]);
    const m2: MetaColumn[] = [{ name: 'g', kind: 'string', values: ['a', 'a', 'b', 'c', 'a'] }];
    const r = averagePrecision(m2, X2, { pos: { sameby: ['g'] }, neg: { diffby: ['g'] }, queries: [1, 0, 0, 0, 0] });
    // Ranked: row 1 (+, tied with 2 and 3 but first), 2 (−), 3 (−), 4 (+) → (1/1 + 2/4) / 2.
    expect(r.ap[0]).toBe(0.75);
    // Put the negatives first in the table: same answer.
    const r2 = averagePrecision([{ name: 'g', kind: 'string', values: ['a', 'b', 'c', 'a', 'a'] }], fromRows([[1, 0], [1, 1], [1, 1], [1, 1], [0, 1]]), { pos: { sameby: ['g'] }, neg: { diffby: ['g'] }, queries: [1, 0, 0, 0, 0] });
    expect(r2.ap[0]).toBe(0.75);
  });

  it('multilabel AP per (profile, shared label)', () => {
    const m = f.multilabel;
    const meta2 = stringColumns(m.meta, ['plate', 'well', 'label']);
    const r = averagePrecision(meta2, fromRows(m.features), {
      pos: { sameby: ['label'] }, neg: { diffby: ['label'] }, multilabel: { column: 'label', sep: '|' },
    });
    // copairs' rows are (profile, label) in label order; match by plate + well + label.
    const key = (plate: string, well: string, label: string) => `${plate}/${well}/${label}`;
    const ours = new Map<string, number>();
    r.row.forEach((i, t) => ours.set(key(m.meta.plate[i], m.meta.well[i], r.labels![r.label[t]!]!), t));
    expect(ours.size).toBe(m.average_precision.length);
    const diff = new MaxDiff();
    m.average_precision.forEach((ap: number, k: number) => {
      const t = ours.get(key(m.plate[k], m.well[k], m.label[k]))!;
      expect(t).toBeDefined();
      expect(r.nPos[t]).toBe(m.n_pos_pairs[k]);
      expect(r.nTotal[t]).toBe(m.n_total_pairs[k]);
      expect(diff.add(r.ap[t]!, ap)).toBeLessThanOrEqual(1e-12);
    });
    recordParity({ what: 'AP: synthetic multilabel', kind: 'abs', max: diff.max, n: diff.n });
  });
});

describe("copairs parity: the README examples on the bundled LINCS plate", () => {
  const f = fixture('lincs_examples.json');
  const file = join(repoRoot, 'examples/lincs/SQ00015054_normalized_feature_select.csv.gz');

  it('phenotypic activity: AP per well, mAP per compound, p-values within Monte-Carlo error', async () => {
    const { profiles } = await readProfiles(file);
    expect(profiles.features.length).toBe(f.activity.feature_columns);
    const sample = metaStrings(profiles, 'Metadata_broad_sample');
    const ref = referenceIndexColumn('Metadata_reference_index', sample.map((s) => s === 'DMSO'));
    const rule = ['Metadata_broad_sample', 'Metadata_reference_index'];
    const r = averagePrecision([...profiles.meta, ref], profiles.X, { pos: { sameby: rule }, neg: { diffby: rule } });
    const treated = sample.flatMap((s, i) => (s === 'DMSO' ? [] : [i]));
    expectSameAps(r, f.activity.ap, 'LINCS plate, activity (README example)', treated);
    // Per-profile p-values (copairs' map.p_values, null 10,000).
    const nulls = new ApNulls(10000, 0);
    const at = new Map<number, number>();
    r.row.forEach((i, t) => at.set(i, t));
    const pd = new MaxDiff();
    treated.forEach((row, k) => {
      const p = f.activity.ap.p_value_null10000[k];
      if (p === null || Number.isNaN(p)) return;
      const t = at.get(row)!;
      const ours = nulls.pValue(r.ap[t]!, r.nPos[t]!, r.nTotal[t]!);
      expect(pd.add(ours, p)).toBeLessThanOrEqual(mcTolerance(p, 10000, 10000));
    });
    recordParity({ what: 'per-profile p-value (null 10,000 each side): LINCS plate, activity', kind: 'abs', max: pd.max, n: pd.n });
    const m = meanAveragePrecision(apQueries(r, (i) => sample[i]!), { nullSize: 1_000_000, seed: 0 });
    const byGroup = new Map(m.groups.map((g) => [g.group, g]));
    const fm = f.activity.map;
    expect(m.groups.length).toBe(fm.Metadata_broad_sample.length);
    let agree = 0, differ = 0;
    const md = new MaxDiff(), mp = new MaxDiff();
    fm.Metadata_broad_sample.forEach((s: string, k: number) => {
      const g = byGroup.get(s)!;
      expect(md.add(g.mAP, fm.mean_average_precision[k])).toBeLessThanOrEqual(1e-12);
      expect(mp.add(g.pValue, fm.p_value[k])).toBeLessThanOrEqual(mcTolerance(fm.p_value[k], 1e6, 1e6));
      // The significant set agrees, except where q is within Monte-Carlo error of the threshold.
      if (g.retrieved !== fm.below_corrected_p[k]) differ++;
      if (g.retrieved === fm.below_corrected_p[k] || Math.abs(fm.corrected_p_value[k] - 0.05) < mcTolerance(0.05, 1e6, 1e6) * 4) agree++;
      else console.log(s, g.qValue, fm.corrected_p_value[k]);
    });
    expect(agree).toBe(fm.Metadata_broad_sample.length);
    recordParity({ what: 'mAP: LINCS plate, activity per compound', kind: 'abs', max: md.max, n: md.n });
    recordParity({ what: 'mAP p-value (null 10⁶ each side): LINCS plate, activity', kind: 'abs', max: mp.max, n: mp.n });
    recordParity({ what: 'below_corrected_p disagreements: LINCS plate, activity', kind: 'count', max: differ, n: m.groups.length });
  });

  it('phenotypic consistency: multilabel targets of the active compounds (medians per compound)', async () => {
    const { profiles } = await readProfiles(file);
    const sample = metaStrings(profiles, 'Metadata_broad_sample');
    const target = metaStrings(profiles, 'Metadata_target');
    const active = new Set<string>(f.consistency.active_compounds);
    // Median profile per (compound, target) of active compounds with a target, in pandas' sorted group order.
    const keys = [...new Set(sample.flatMap((s, i) => (active.has(s!) && target[i] !== null ? [s!] : [])))].sort();
    const d = profiles.X.cols;
    const rowsOf = (s: string) => sample.flatMap((v, i) => (v === s ? [i] : []));
    const X = { rows: keys.length, cols: d, data: new Float64Array(keys.length * d) };
    keys.forEach((s, g) => {
      const rows = rowsOf(s);
      for (let j = 0; j < d; j++) {
        const v = rows.map((i) => profiles.X.data[i * d + j]!).sort((a, b) => a - b);
        const h = v.length >> 1;
        X.data[g * d + j] = v.length % 2 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
      }
    });
    const meta: MetaColumn[] = [
      { name: 'Metadata_broad_sample', kind: 'string', values: keys },
      { name: 'Metadata_target', kind: 'string', values: keys.map((s) => target[rowsOf(s)[0]!]!) },
    ];
    const r = averagePrecision(meta, X, {
      pos: { sameby: ['Metadata_target'] }, neg: { diffby: ['Metadata_target'] },
      multilabel: { column: 'Metadata_target', sep: '|' },
    });
    const fa = f.consistency.ap;
    const ours = new Map<string, number>();
    r.row.forEach((i, t) => ours.set(`${keys[i]}/${r.labels![r.label[t]!]}`, t));
    expect(ours.size).toBe(fa.average_precision.length);
    const ad = new MaxDiff();
    fa.average_precision.forEach((ap: number, k: number) => {
      const t = ours.get(`${fa.Metadata_broad_sample[k]}/${fa.Metadata_target[k]}`)!;
      expect(r.nPos[t]).toBe(fa.n_pos_pairs[k]);
      expect(r.nTotal[t]).toBe(fa.n_total_pairs[k]);
      expect(ad.add(r.ap[t]!, ap)).toBeLessThanOrEqual(1e-12);
    });
    recordParity({ what: 'AP: LINCS plate, multilabel target consistency (README example)', kind: 'abs', max: ad.max, n: ad.n });
    const m = meanAveragePrecision(apQueries(r, (_, l) => r.labels![l]!), { nullSize: 1_000_000, seed: 0 });
    const fm = f.consistency.map;
    const byGroup = new Map(m.groups.map((g) => [g.group, g]));
    const md = new MaxDiff(), mp = new MaxDiff();
    fm.Metadata_target.forEach((t: string, k: number) => {
      const g = byGroup.get(t)!;
      expect(md.add(g.mAP, fm.mean_average_precision[k])).toBeLessThanOrEqual(1e-12);
      expect(mp.add(g.pValue, fm.p_value[k])).toBeLessThanOrEqual(mcTolerance(fm.p_value[k], 1e6, 1e6));
      expect(g.retrieved).toBe(fm.below_corrected_p[k]);
    });
    recordParity({ what: 'mAP: LINCS plate, multilabel target consistency', kind: 'abs', max: md.max, n: md.n });
    recordParity({ what: 'mAP p-value (null 10⁶ each side): LINCS plate, target consistency', kind: 'abs', max: mp.max, n: mp.n });
  });
});

describeShared('copairs parity: injury-type consistency on cell-injury wells (issue 21)', ['data/cell-injury/fs_well_holdout.csv.gz'], () => {
  it("today's null rule finds copairs' significant set; the sorted rule is more conservative", async () => {
    const f = fixture('injury_consistency.json');
    const { profiles: raw } = await readProfiles(sharedPath('data/cell-injury/fs_well_holdout.csv.gz')!);
    const p = zscoreProfiles(raw).profiles;
    const label = metaStrings(p, 'injury_type'), compound = metaStrings(p, 'Compound Name');
    const wells = label.flatMap((l, i) => (l !== null && l !== 'Control' && compound[i] !== 'DMSO' ? [i] : []));
    const meta: MetaColumn[] = [
      { name: 'Metadata_compound', kind: 'string', values: wells.map((i) => compound[i]!) },
      { name: 'Metadata_injury_type', kind: 'string', values: wells.map((i) => label[i]!) },
    ];
    const r = averagePrecision(meta, takeRows(p.X, wells), {
      pos: { sameby: ['Metadata_injury_type'], diffby: ['Metadata_compound'] },
      neg: { diffby: ['Metadata_injury_type', 'Metadata_compound'] },
    });
    expectSameAps(r, f.ap, 'cell-injury wells, injury-type consistency');
    const qs = apQueries(r, (i) => meta[1]!.values[i] as string);
    const m = meanAveragePrecision(qs, { nullSize: f.null_size, seed: 0 });
    const fm = f.map;
    const byGroup = new Map(m.groups.map((g) => [g.group, g]));
    const md = new MaxDiff(), mp = new MaxDiff();
    fm.Metadata_injury_type.forEach((t: string, k: number) => {
      const g = byGroup.get(t)!;
      expect(md.add(g.mAP, fm.mean_average_precision[k])).toBeLessThanOrEqual(1e-12);
      expect(mp.add(g.pValue, fm.p_value[k])).toBeLessThanOrEqual(mcTolerance(fm.p_value[k], f.null_size, f.null_size));
      expect(g.retrieved, t).toBe(fm.below_corrected_p[k]);
    });
    recordParity({ what: 'mAP: cell-injury wells, injury-type consistency', kind: 'abs', max: md.max, n: md.n });
    recordParity({ what: `mAP p-value (null ${f.null_size} each side): cell-injury injury types`, kind: 'abs', max: mp.max, n: mp.n });
    expect(fm.below_corrected_p.filter(Boolean).length).toBe(6);
    const sorted = meanAveragePrecision(qs, { nullSize: f.null_size, seed: 0, nullRule: 'sorted' });
    expect(sorted.groups.filter((g) => g.retrieved).length).toBeLessThan(6);
  });
});
