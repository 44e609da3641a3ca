/**
 * Partial feature statistics: merging parts equals computing on the whole (any order, 1e-12),
 * the bytes round-trip bit for bit, and feature selection from merged partials keeps exactly the
 * features the in-memory featureSelect keeps on the stacked rows — on the bundled LINCS plate
 * split into four "plates", with missing values, discrete features and groups added.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readProfiles } from '../../src/io/read.js';
import type { Profiles } from '../../src/io/profiles.js';
import { subsetRows } from '../../src/io/profiles.js';
import { featureSelect, type FeatureSelectOptions } from '../../src/preprocess/featureSelect.js';
import {
  decodeFeatureStats, encodeFeatureStats, featureStats, featureStatsSpec, frequencyCounts, frequencyCountsFromFiles, mergeFeatureStats, selectFromFeatureStats,
  type FeatureStats, type FeatureStatsSpec,
} from '../../src/preprocess/featureStats.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFeatureSelectOptions } from '../../src/preprocess/featureSelect.js';
import { Rng } from '../../src/linalg/rng.js';
import { examplePath } from '../helpers/shared.js';

let whole: Profiles;
const tmp = mkdtempSync(join(tmpdir(), 'phenomap-stats-'));
let parts: Profiles[];
const spec: FeatureStatsSpec = { frequency: true, correlation: true, groups: 'Metadata_group' };

beforeAll(async () => {
  const { profiles } = await readProfiles(examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz'));
  const p = profiles as Profiles;
  const d = p.features.length, n = p.X.rows;
  const rng = new Rng(7);
  const X = p.X.data;
  // Discrete features (frequency_threshold has something to find), missing values (pairwise
  // correlation, drop_na_columns), a near-duplicate (correlation_threshold), one outlier.
  for (let i = 0; i < n; i++) {
    X[i * d + 0] = Math.round(X[i * d + 0]! * 0.2);
    X[i * d + 1] = i % 50 === 0 ? 1 : 0;
    X[i * d + 2] = X[i * d + 3]! + 0.01 * rng.normal();
    if (rng.uniform() < 0.03) X[i * d + 4] = NaN;
    if (rng.uniform() < 0.2) X[i * d + 5] = NaN;
    if (i % 3 === 0) X[i * d + 6] = NaN;
  }
  X[17 * d + 7] = 900;
  const group = Array.from({ length: n }, (_, i) => (i % 11 === 0 ? null : `g${i % 23}`));
  whole = { ...p, meta: [...p.meta, { name: 'Metadata_group', kind: 'string', values: group }] };
  const cuts = [0, 70, 150, 151, n];
  parts = cuts.slice(1).map((c, k) => subsetRows(whole, Int32Array.from({ length: c - cuts[k]! }, (_, i) => cuts[k]! + i)));
});

function close(a: number, b: number, tol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

/** The first index where a and b differ beyond tol (relative to `scale` when given), or null. */
function firstOff(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, scale?: number): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const ok = scale === undefined ? close(a[i]!, b[i]!, tol) : Math.abs(a[i]! - b[i]!) <= tol * scale;
    if (!ok) return `[${i}] ${a[i]} vs ${b[i]}`;
  }
  return null;
}

function expectClose(a: FeatureStats, b: FeatureStats, tol = 1e-12): void {
  expect(a.n).toBe(b.n);
  expect(Array.from(a.count)).toEqual(Array.from(b.count));
  for (const k of ['mean', 'm2', 'min', 'max'] as const) expect(firstOff(a[k], b[k], tol), k).toBeNull();
  // Cross-products are sums of squares: compare relative to the diagonal's scale.
  expect(firstOff(a.corr!.C, b.corr!.C, tol, Math.max(...Array.from(b.m2))), 'cross-products').toBeNull();
  expect(Array.from(a.corr!.pairKeys)).toEqual(Array.from(b.corr!.pairKeys));
  expect(firstOff(a.corr!.pairStats, b.corr!.pairStats, tol), 'pairwise statistics').toBeNull();
  const d = a.features.length;
  const order = a.groups!.names.map((g) => b.groups!.names.indexOf(g));
  expect([...order].sort((x, y) => x - y)).toEqual(b.groups!.names.map((_, i) => i));
  const reorder = (v: Float64Array) => Float64Array.from({ length: v.length }, (_, i) => v[order.indexOf(Math.floor(i / d)) * d + (i % d)]!);
  expect(firstOff(reorder(a.groups!.count), b.groups!.count, 0), 'group counts').toBeNull();
  expect(firstOff(reorder(a.groups!.mean), b.groups!.mean, tol), 'group means').toBeNull();
  expect(firstOff(reorder(a.groups!.m2), b.groups!.m2, tol), 'group M2').toBeNull();
}

describe('partial feature statistics', () => {
  it('merged parts equal the whole in any order (1e-12), and an empty part changes nothing', () => {
    const all = featureStats(whole, { spec });
    const ps = parts.map((p, k) => featureStats(p, { spec, source: `part ${k}` }));
    expectClose(mergeFeatureStats(ps), all);
    expectClose(mergeFeatureStats([ps[2]!, ps[0]!, ps[3]!, ps[1]!]), all);
    // a tree: (0 + 1) + (2 + 3)
    expectClose(mergeFeatureStats([mergeFeatureStats(ps.slice(0, 2)), mergeFeatureStats(ps.slice(2))]), all);
    const none = featureStats(whole, { spec, samples: "Metadata_group == 'nobody'" });
    expect(none.n).toBe(0);
    expectClose(mergeFeatureStats([none, ...ps]), all);
    // value counts are not merged up the tree (they grow like the table); reduced from the plates' partials instead
    expect(mergeFeatureStats(ps).values).toBeUndefined();
    const want = frequencyCounts([all], all.features);
    const got = frequencyCounts([none, ...ps], all.features);
    expect(Array.from(got.first)).toEqual(Array.from(want.first));
    expect(Array.from(got.second)).toEqual(Array.from(want.second));
    expect(Array.from(got.distinct)).toEqual(Array.from(want.distinct));
    expect(Math.min(...Array.from(want.distinct))).toBeLessThan(10); // the discrete features are there
    // from files, a few features at a time (tiny memory budget), in another feature order
    const files = [none, ...ps].map((p, k) => {
      const f = join(tmp, `part${k}.stats`);
      writeFileSync(f, encodeFeatureStats(p));
      return f;
    });
    const order = [...all.features].reverse();
    const fromFiles = frequencyCountsFromFiles(files, order, { maxBytes: 20_000 });
    expect(Array.from(fromFiles.distinct).reverse()).toEqual(Array.from(want.distinct));
    expect(Array.from(fromFiles.first).reverse()).toEqual(Array.from(want.first));
    expect(Array.from(fromFiles.second).reverse()).toEqual(Array.from(want.second));
  });

  it('bytes round-trip bit for bit; a damaged file is named', () => {
    const s = featureStats(parts[0]!, { spec, source: 'P1' });
    const back = decodeFeatureStats(encodeFeatureStats(s), 'P1.stats');
    expect(back.features).toEqual(s.features);
    expect(Buffer.from(back.corr!.C.buffer).equals(Buffer.from(s.corr!.C.buffer))).toBe(true);
    expect(Buffer.from(back.values!.values.buffer).equals(Buffer.from(s.values!.values.buffer))).toBe(true);
    expect(back.groups!.names).toEqual(s.groups!.names);
    const enc = encodeFeatureStats(s);
    expect(() => decodeFeatureStats(enc.subarray(0, enc.length - 100), 'cut.stats')).toThrow(/cut\.stats: the feature-stats file is cut off/);
    expect(() => decodeFeatureStats(Buffer.from('hello world, not stats'), 'x.stats')).toThrow(/x\.stats: not a phenomap feature-stats file/);
  });

  it('features that differ between parts are named', () => {
    const a = featureStats(parts[0]!, { spec, source: 'plate A' });
    const p = parts[1]!;
    const b = featureStats({ ...p, features: p.features.map((f, j) => (j === 3 ? 'Cells_Other' : f)) }, { spec, source: 'plate B' });
    expect(() => mergeFeatureStats([a, b])).toThrow(/plate B and plate A have different features \(1 only in the first, e\.g\. Cells_Other/);
  });

  const configs: [string, FeatureSelectOptions][] = [
    ['the default operations', { operations: ['drop_na_columns', 'frequency_threshold', 'correlation_threshold', 'drop_outliers'] }],
    ['tight thresholds, every operation', {
      operations: ['min_variance', 'drop_na_columns', 'frequency_threshold', 'correlation_threshold', 'blocklist', 'drop_outliers', 'noise_removal'],
      minVariance: 0.05, naCutoff: 0.1, freqCut: 0.1, uniqueCut: 0.2, corrThreshold: 0.6, blocklist: ['BLOCKED', 'Nope'],
      outlierCutoff: 15, noiseRemovalPerturbGroups: 'Metadata_group', noiseRemovalStdevCutoff: 1.2,
    }],
    ['correlation only, low threshold', { operations: ['correlation_threshold'], corrThreshold: 0.3 }],
  ];
  for (const [name, opts] of configs) {
    it(`selection from merged partials = in-memory featureSelect: ${name}`, () => {
      const o = resolveFeatureSelectOptions(opts);
      const plan = featureStatsSpec(o);
      if (!plan.exact) throw new Error('expected an exact plan');
      // block a feature that the operations before the blocklist keep
      const survivor = () => featureSelect(whole, { ...opts, operations: opts.operations!.slice(0, opts.operations!.indexOf('blocklist')), blocklist: undefined }).report.keptFeatures[0]!;
      const o2 = opts.blocklist ? { ...opts, blocklist: opts.blocklist.map((f) => (f === 'BLOCKED' ? survivor() : f)) } : opts;
      const leaves = parts.map((p, k) => featureStats(p, { spec: plan.spec, source: `part ${k}` }));
      const merged = mergeFeatureStats(leaves);
      const fromStats = selectFromFeatureStats(merged, o2, plan.spec.frequency ? frequencyCounts(leaves, merged.features) : undefined);
      const inMemory = featureSelect(whole, o2).report;
      expect(fromStats.keptFeatures).toEqual(inMemory.keptFeatures);
      expect(fromStats.removed.map((r) => r.name)).toEqual(inMemory.removed.map((r) => r.name));
      expect(fromStats.removed.map((r) => r.reason.split(':')[0])).toEqual(inMemory.removed.map((r) => r.reason.split(':')[0]));
      expect(fromStats.operations).toEqual(inMemory.operations);
      expect(fromStats.nSamples).toBe(inMemory.nSamples);
      // every operation removed something in the tight configuration
      if (name.startsWith('tight')) for (const op of fromStats.operations) expect(op.removed, op.operation).toBeGreaterThan(0);
    });
  }

  it('sample rows: partials over each part\'s matching rows select what featureSelect selects with the same query', () => {
    const opts: FeatureSelectOptions = { operations: ['frequency_threshold', 'correlation_threshold'], corrThreshold: 0.5, samples: "Metadata_group != 'g3'" };
    const plan = featureStatsSpec(resolveFeatureSelectOptions(opts));
    if (!plan.exact) throw new Error('expected an exact plan');
    const leaves = parts.map((p) => featureStats(p, { spec: plan.spec, samples: opts.samples }));
    const merged = mergeFeatureStats(leaves);
    expect(selectFromFeatureStats(merged, opts, frequencyCounts(leaves, merged.features)).keptFeatures).toEqual(featureSelect(whole, opts).report.keptFeatures);
    expect(() => selectFromFeatureStats(merged, opts)).toThrow(/computed for other feature-selection operations/);
  });

  it('Spearman correlation is refused as not distributable, with the reason', () => {
    const plan = featureStatsSpec(resolveFeatureSelectOptions({ operations: ['correlation_threshold'], corrMethod: 'spearman' }));
    expect(plan.exact).toBe(false);
    const s = featureStats(parts[0]!, { spec, source: 'P' });
    expect(() => selectFromFeatureStats(s, { operations: ['correlation_threshold'], corrMethod: 'spearman' })).toThrow(/Spearman correlation ranks every feature/);
  });
});
