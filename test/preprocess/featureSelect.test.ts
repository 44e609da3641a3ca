import { describe, it, expect } from 'vitest';
import { featureSelect } from '../../src/preprocess/featureSelect.js';
import { columnCorrelation } from '../../src/preprocess/correlation.js';
import { Rng } from '../../src/linalg/rng.js';
import { fromRows } from '../../src/linalg/matrix.js';
import { UsageError } from '../../src/util/errors.js';
import { makeProfiles } from './make.js';

/** Build profiles from named columns. */
function fromColumns(cols: Record<string, number[]>, meta: Record<string, string[]> = {}) {
  const names = Object.keys(cols);
  const n = cols[names[0]!]!.length;
  const rows = Array.from({ length: n }, (_, i) => names.map((f) => cols[f]![i]!));
  return makeProfiles(rows, names, meta);
}

const rep = (v: number, k: number) => new Array(k).fill(v) as number[];
const seq = <T,>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

describe('featureSelect: single operations', () => {
  it('drop_na_columns: fraction missing > cutoff', () => {
    const p = fromColumns({
      Cells_ok: seq(20, (i) => i),
      Cells_one: [NaN, ...seq(19, (i) => i)], // 5% — not > 5%
      Cells_two: [NaN, NaN, ...seq(18, (i) => i)], // 10%
    });
    const r = featureSelect(p, { operations: ['drop_na_columns'] });
    expect(r.profiles.features).toEqual(['Cells_ok', 'Cells_one']);
    expect(r.report.removed).toEqual([{ kind: 'feature', name: 'Cells_two', reason: 'drop_na_columns: missing in 2 of 20 rows (10% > 5%)' }]);
  });

  it('frequency_threshold: freq_cut and unique_cut (pycytominer semantics, union of both tests)', () => {
    const p = fromColumns({
      Cells_ok: seq(40, (i) => i % 7),
      Cells_freq_ok: [...rep(1, 38), 0, 0], // 2/38 = 0.0526 ≥ 0.05, 2/40 distinct ≥ 0.01
      Cells_freq_low: [...rep(1, 39), 2], // 1/39 = 0.0256 < 0.05
      Cells_const: rep(3, 40),
    });
    const r = featureSelect(p, { operations: ['frequency_threshold'] });
    expect(r.profiles.features).toEqual(['Cells_ok', 'Cells_freq_ok']);
    const why = Object.fromEntries(r.report.removed.map((d) => [d.name, d.reason]));
    expect(why.Cells_freq_low).toMatch(/frequency ratio 0\.02564 < 0\.05 \(second most common value 1×, most common 39×\)/);
    expect(why.Cells_const).toMatch(/a single distinct value/);
    // unique_cut: 2 balanced values in 300 rows → ratio 0.0067 < 0.01 even though the frequency ratio is 1
    const q = fromColumns({ Cells_bin: seq(300, (i) => i % 2), Cells_cont: seq(300, (i) => Math.sin(i)) });
    const rq = featureSelect(q, { operations: ['frequency_threshold'] });
    expect(rq.profiles.features).toEqual(['Cells_cont']);
    expect(rq.report.removed[0]!.reason).toMatch(/2 distinct value\(s\) in 300 rows \(ratio 0\.006667 < 0\.01\)/);
  });

  it('min_variance: population variance below the threshold; runs first when only the option is given', () => {
    const p = fromColumns({ Cells_tiny: [1, 1.0001, 1, 1.0001, 1], Cells_big: [1, 2, 3, 4, 5] });
    const r = featureSelect(p, { operations: ['drop_outliers'], minVariance: 1e-6 });
    expect(r.profiles.features).toEqual(['Cells_big']);
    expect(r.report.operations.map((o) => o.operation)).toEqual(['min_variance', 'drop_outliers']);
    expect(r.report.removed[0]!.reason).toMatch(/^min_variance: variance 2\.400e-9 < 1\.000e-6$/);
  });

  it('drop_outliers: |max| or |min| above the cutoff', () => {
    const p = fromColumns({ Cells_hi: [1, 600, 2], Cells_lo: [-501, 0, 1], Cells_ok: [-499, 499, NaN] });
    const r = featureSelect(p, { operations: ['drop_outliers'] });
    expect(r.profiles.features).toEqual(['Cells_ok']);
    expect(r.report.removed.map((d) => d.reason)).toEqual(['drop_outliers: max |value| 600 > 500', 'drop_outliers: max |value| 501 > 500']);
  });

  it('blocklist: listed features present are removed; absent entries are noted', () => {
    const p = fromColumns({ Cells_a: [1, 2], Cells_b: [2, 1] });
    const r = featureSelect(p, { operations: ['blocklist'], blocklist: ['Cells_b', 'Nuclei_gone'] });
    expect(r.profiles.features).toEqual(['Cells_a']);
    expect(r.report.removed[0]!.reason).toBe('blocklist: in the blocklist');
    expect(r.report.warnings[0]).toMatch(/1 blocklist entry is not a feature/);
    expect(() => featureSelect(p, { operations: ['blocklist'] })).toThrow(UsageError);
  });
});

describe('featureSelect: correlation_threshold keep rule', () => {
  it('drops the pair member with the larger total |correlation| (planted)', () => {
    const rng = new Rng(7);
    const n = 200;
    const z1 = seq(n, () => rng.normal()), z2 = seq(n, () => rng.normal()), z3 = seq(n, () => rng.normal());
    // A ≈ B (r ≈ 0.98); B also leans on C, so B has the larger Σ|r| and goes.
    const p = fromColumns({
      Cells_A: z1,
      Cells_B: seq(n, (i) => z1[i]! + 0.2 * z2[i]!),
      Cells_C: z2,
      Cells_D: z3,
      Cells_negA: seq(n, (i) => -z1[i]! + 0.01 * z3[i]!), // r ≈ −1 with A: signed threshold keeps it
    });
    const r = featureSelect(p, { operations: ['correlation_threshold'] });
    expect(r.report.removed.map((d) => d.name)).toEqual(['Cells_B']);
    expect(r.report.removed[0]!.reason).toMatch(/^correlation_threshold: pearson correlation 0\.9\d+ > 0\.9 with Cells_A/);
    expect(r.profiles.features).toEqual(['Cells_A', 'Cells_C', 'Cells_D', 'Cells_negA']);
  });

  it('matches a direct transcription of pycytominer on random planted data (property, 10 seeds)', () => {
    let planted = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const rng = new Rng(seed);
      const n = 60, d = 14;
      const base = seq(4, () => seq(n, () => rng.normal()));
      const cols: Record<string, number[]> = {};
      for (let j = 0; j < d; j++) {
        const w = seq(4, () => (rng.uniform() < 0.4 ? rng.normal() * 3 : 0));
        cols[`Cells_f${j}`] = seq(n, (i) => base.reduce((s, b, k) => s + w[k]! * b[i]!, 0) + 0.3 * rng.normal());
      }
      const p = fromColumns(cols);
      const names = Object.keys(cols);
      // Reference: naive Pearson, Σ|r| ranking, every lower-triangle pair with r > 0.9 drops its later-ranked member.
      const r = (a: number[], b: number[]) => {
        const ma = a.reduce((s, v) => s + v, 0) / n, mb = b.reduce((s, v) => s + v, 0) / n;
        let ab = 0, aa = 0, bb = 0;
        for (let i = 0; i < n; i++) {
          ab += (a[i]! - ma) * (b[i]! - mb);
          aa += (a[i]! - ma) ** 2;
          bb += (b[i]! - mb) ** 2;
        }
        return ab / Math.sqrt(aa * bb);
      };
      const C = names.map((a) => names.map((b) => r(cols[a]!, cols[b]!)));
      const sums = C.map((row) => row.reduce((s, v) => s + Math.abs(v), 0));
      const order = names.map((_, j) => j).sort((a, b) => sums[a]! - sums[b]! || a - b);
      const pos = new Map(order.map((j, k) => [j, k]));
      const want = new Set<string>();
      for (let a = 1; a < d; a++) for (let b = 0; b < a; b++) if (C[a]![b]! > 0.9) want.add(names[pos.get(a)! > pos.get(b)! ? a : b]!);
      planted += want.size;
      const got = featureSelect(p, { operations: ['correlation_threshold'] });
      expect(new Set(got.report.removed.map((x) => x.name)), `seed ${seed}`).toEqual(want);
      // no kept pair above the threshold
      const K = columnCorrelation(got.profiles.X).data, k = got.profiles.features.length;
      for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) expect(K[a * k + b]!).toBeLessThanOrEqual(0.9);
    }
    expect(planted).toBeGreaterThan(20); // the property was exercised
  });

  it('columnCorrelation: pairwise-complete with missing values, Spearman on average ranks', () => {
    const X = fromRows([
      [1, 2, 1],
      [2, 4, 1],
      [3, 5, NaN],
      [4, 9, 2],
    ]);
    const C = columnCorrelation(X, 'spearman').data;
    expect(C[1]).toBeCloseTo(1, 14); // monotone
    // col 2 vs col 0 on rows {0,1,3}: ranks [1.5,1.5,3] vs [1,2,3] → r = √3/2
    expect(C[2]).toBeCloseTo(Math.sqrt(3) / 2, 14);
    expect(C[8]).toBe(1);
    const P = columnCorrelation(fromRows([[1, 5], [2, 5], [3, 5]])).data;
    expect(Number.isNaN(P[1]!)).toBe(true); // constant column
  });
});

describe('featureSelect: pipeline of operations', () => {
  it('reports every removal with its reason; kept + removed = input; operations see survivors only', () => {
    const rng = new Rng(11);
    const n = 50;
    const a = seq(n, () => rng.normal());
    const p = fromColumns(
      {
        Cells_a: a,
        Cells_a2: seq(n, (i) => a[i]! * 2 + 0.01 * rng.normal()),
        Cells_na: seq(n, (i) => (i < 10 ? NaN : rng.normal())),
        Cells_const: rep(0, n),
        Cells_out: seq(n, (i) => (i === 3 ? 1e4 : rng.normal())),
        Nuclei_x: seq(n, () => rng.normal()),
      },
      { Metadata_pert_type: seq(n, (i) => (i < 25 ? 'control' : 'trt')) },
    );
    const r = featureSelect(p);
    expect(r.report.operations.map((o) => o.operation)).toEqual(['drop_na_columns', 'frequency_threshold', 'correlation_threshold', 'drop_outliers']);
    expect(r.report.kept + r.report.removed.length).toBe(6);
    const gone = r.report.removed.map((d) => d.name);
    expect(gone.filter((f) => f !== 'Cells_a' && f !== 'Cells_a2')).toEqual(['Cells_na', 'Cells_const', 'Cells_out']);
    expect(gone.filter((f) => f === 'Cells_a' || f === 'Cells_a2')).toHaveLength(1);
    expect(r.report.operations.map((o) => o.featuresIn)).toEqual([6, 5, 4, 3]);
    expect(r.profiles.meta).toBe(p.meta);
    expect(r.profiles.X.rows).toBe(n);
    // samples: statistics on the control rows only (Cells_na is missing only among them → 40%)
    const s = featureSelect(p, { operations: ['drop_na_columns'], samples: 'Metadata_pert_type == control' });
    expect(s.report.removed[0]!.reason).toMatch(/10 of 25 rows/);
    expect(s.report.nSamples).toBe(25);
  });
  it('bad options are UsageErrors', () => {
    const p = fromColumns({ Cells_a: [1, 2] });
    expect(() => featureSelect(p, { operations: ['nope' as never] })).toThrow(UsageError);
    expect(() => featureSelect(p, { corrThreshold: 2 })).toThrow(UsageError);
  });
});
