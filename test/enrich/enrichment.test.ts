import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/io/npy.js';
import { moaEnrichment, splitMoas } from '../../src/enrich/enrichment.js';
import { benjaminiHochberg } from '../../src/enrich/bh.js';
import { repoRoot } from '../helpers/shared.js';
import { readCsvRecords } from './fixtureCsv.js';

const FIX = join(repoRoot, 'test', 'fixtures', 'lincs_SQ00015054');

describe('moaEnrichment — LINCS fixture parity (scipy hypergeom.sf)', () => {
  const meta = readCsvRecords(join(FIX, 'rows_and_clusters.csv'));
  const moa = meta.map((r) => r.Metadata_moa || null);
  const expected: Record<string, { enriched: number; ratio: number; sig: number; clusters: number }> = {
    raw: { enriched: 18, ratio: 0.2609, sig: 32, clusters: 69 },
    pca: { enriched: 19, ratio: 0.2794, sig: 33, clusters: 68 },
    itml: { enriched: 23, ratio: 0.3333, sig: -1, clusters: 69 },
  };
  for (const rep of ['raw', 'pca', 'itml'] as const) {
    it(`${rep}: every row, p within 1e-9 relative, summary counts`, () => {
      const labels = Int32Array.from(readNpy(join(FIX, `labels_${rep}.npy`)).data);
      const res = moaEnrichment(labels, moa);
      const ref = readCsvRecords(join(FIX, `enrichment_${rep}.csv`));
      expect(res.rows.length).toBe(ref.length);
      let worst = 0;
      ref.forEach((r, i) => {
        const g = res.rows[i]!;
        expect([g.cluster, g.moa, g.k, g.n, g.K, g.N, g.significant]).toEqual([
          Number(r.cluster), r.moa, Number(r.k), Number(r.n), Number(r.K), Number(r.N), r.significant === 'True',
        ]);
        const p = Number(r.p);
        worst = Math.max(worst, Math.abs(g.p - p) / p);
      });
      expect(worst).toBeLessThan(1e-9);
      const e = expected[rep]!;
      expect(res.nClusters).toBe(e.clusters);
      expect(res.enrichedClusters.length).toBe(e.enriched);
      expect(res.enrichmentRatio).toBeCloseTo(e.ratio, 4);
      expect(res.nMoasTested).toBe(56);
      expect(res.nLabelled).toBe(342);
      if (e.sig >= 0) expect(res.nSignificantPairs).toBe(e.sig);
      // q-values: family = all clusters × tested MoAs; q ≥ p, monotone in p
      const m = res.nClusters * res.nMoasTested;
      for (const g of res.rows) {
        expect(g.q).toBeGreaterThanOrEqual(g.p);
        expect(g.q).toBeLessThanOrEqual(Math.min(1, (g.p * m) + 1e-12));
      }
    });
  }
});

describe('moaEnrichment — hand cases', () => {
  it('splits multi-MoA labels, trims, ignores empty labels and unclustered rows', () => {
    expect(splitMoas(' A | B|A ')).toEqual(['A', 'B']);
    expect(splitMoas(null)).toEqual([]);
    expect(splitMoas('  ')).toEqual([]);
    // 6 labelled rows: cluster 0 = {A|B, A, A}, cluster 1 = {B, C, C}; one unlabelled row in cluster 0.
    const labels = Int32Array.from([0, 0, 0, 1, 1, 1, 0]);
    const moa = ['A|B', 'A', 'A', 'B', 'C', 'C', null];
    const res = moaEnrichment(labels, moa, { minMoa: 2 });
    expect(res.nLabelled).toBe(6);
    expect(res.nMoasTested).toBe(3);
    const row = res.rows.find((r) => r.cluster === 0 && r.moa === 'A')!;
    // N = 6, K = 3 (A), n = 3, k = 3: p = C(3,3)C(3,0)/C(6,3) = 1/20
    expect(row).toMatchObject({ k: 3, n: 3, K: 3, N: 6 });
    expect(row.p).toBeCloseTo(0.05, 14);
    const rowB = res.rows.find((r) => r.cluster === 0 && r.moa === 'B')!;
    // K(B) = 2, k = 1: P(X ≥ 1) = 1 − C(4,3)/C(6,3) = 1 − 4/20 = 0.8
    expect(rowB.p).toBeCloseTo(0.8, 14);
    expect(res.rows.some((r) => r.k === 0)).toBe(false);
    expect(res.enrichedClusters).toEqual([]);
    const strict = moaEnrichment(labels, moa, { minMoa: 2, alpha: 0.06 });
    // cluster 1, MoA C: K = 2, k = 2, n = 3 → p = C(4,1)/C(6,3) = 0.2, not significant
    expect(strict.rows.find((r) => r.cluster === 1 && r.moa === 'C')!.p).toBeCloseTo(0.2, 14);
    expect(strict.enrichedClusters).toEqual([0]);
    expect(strict.enrichmentRatio).toBe(0.5);
  });

  it('rejects mismatched lengths', () => {
    expect(() => moaEnrichment(Int32Array.from([0, 1]), ['A'])).toThrow(/labels/);
  });
});

describe('benjaminiHochberg', () => {
  it('matches statsmodels fdr_bh on a known vector', () => {
    // statsmodels.stats.multitest.multipletests(p, method='fdr_bh')[1]
    const p = [0.01, 0.04, 0.03, 0.005, 0.5, 0.04];
    const q = benjaminiHochberg(p);
    // sorted: 0.005,0.01,0.03,0.04,0.04,0.5 → raw 0.03,0.03,0.06,0.06,0.048,0.5 → cummin from top: 0.03,0.03,0.048,0.048,0.048,0.5
    const exp = [0.03, 0.048, 0.048, 0.03, 0.5, 0.048];
    q.forEach((v, i) => expect(v).toBeCloseTo(exp[i]!, 15));
  });
  it('is monotone in p, ≥ p and capped at 1', () => {
    const p = [0.9, 0.95, 1, 0.99];
    const q = benjaminiHochberg(p);
    for (const v of q) expect(v).toBeLessThanOrEqual(1);
    expect(Array.from(q)).toEqual([1, 1, 1, 1]);
    const p2 = Array.from({ length: 50 }, (_, i) => ((i * 37) % 50) / 60 + 0.001);
    const q2 = benjaminiHochberg(p2);
    const idx = p2.map((_, i) => i).sort((a, b) => p2[a]! - p2[b]!);
    for (let r = 1; r < idx.length; r++) expect(q2[idx[r]!]!).toBeGreaterThanOrEqual(q2[idx[r - 1]!]!);
    p2.forEach((v, i) => expect(q2[i]!).toBeGreaterThanOrEqual(v));
  });
});
