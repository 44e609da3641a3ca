import { describe, it, expect } from 'vitest';
import {
  aucRoc, enrichmentFactor, enrichmentAtCount, intervalCoverage, calibrationTable,
  expectedCalibrationError, scoreAssay, summarizeAssayScores, groupKFold,
} from '../../src/predict/metrics.js';
import { Rng } from '../../src/linalg/rng.js';

/** Brute-force Mann–Whitney: a positive above a negative counts 1, a tie ½. */
function pairAuc(s: number[], y: number[]): number {
  let num = 0, den = 0;
  for (let i = 0; i < s.length; i++) for (let j = 0; j < s.length; j++) {
    if (y[i] === 1 && y[j] === 0) { den++; num += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0; }
  }
  return num / den;
}

describe('aucRoc', () => {
  it('matches hand-computed values', () => {
    expect(aucRoc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(aucRoc([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
    expect(aucRoc([4, 3, 2, 1], [0, 0, 1, 1])).toBe(0);
  });
  it('gives tied pairs one half (average ranks)', () => {
    expect(aucRoc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBeCloseTo(0.5, 12);
    expect(aucRoc([1, 1, 2], [0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(aucRoc([2, 1, 1, 1, 0], [1, 1, 0, 0, 0])).toBeCloseTo((3 + 2) / 6, 12);
  });
  it('is NaN with one class only', () => {
    expect(aucRoc([1, 2, 3], [1, 1, 1])).toBeNaN();
    expect(aucRoc([1, 2, 3], [0, 0, 0])).toBeNaN();
  });
  it('equals the pair count on random tied data', () => {
    const rng = new Rng(5);
    for (let rep = 0; rep < 20; rep++) {
      const n = 5 + rng.int(60);
      const s = Array.from({ length: n }, () => rng.int(6));
      const y = Array.from({ length: n }, () => rng.int(2));
      if (!y.includes(0) || !y.includes(1)) continue;
      expect(aucRoc(s, y)).toBeCloseTo(pairAuc(s, y), 12);
    }
  });
});

describe('enrichment', () => {
  it('EF on a hand ranking', () => {
    // 100 compounds, 10 hits; ranked top: hit, miss, hit, miss, miss, ... remaining 8 hits at the bottom.
    const n = 100;
    const scores = Array.from({ length: n }, (_, i) => n - i);
    const labels = new Array(n).fill(0);
    labels[0] = 1; labels[2] = 1;
    for (let i = 92; i < 100; i++) labels[i] = 1;
    expect(enrichmentFactor(scores, labels, 0.01)).toBeCloseTo(10, 12); // top 1: 1 hit / base 0.1
    expect(enrichmentFactor(scores, labels, 0.05)).toBeCloseTo(4, 12); // top 5: 2 hits
    expect(enrichmentAtCount(scores, labels, 3)).toBeCloseTo((2 / 3) / 0.1, 12);
  });
  it('keeps at least one compound in the top and shares ties at the cut', () => {
    expect(enrichmentFactor([3, 2, 1], [1, 0, 0], 0.01)).toBeCloseTo(3, 12);
    // tie group {2, 2} straddles a top-2 cut: expected 0.5 hit
    expect(enrichmentAtCount([3, 2, 2, 1], [0, 1, 0, 0], 2)).toBeCloseTo((0.5 / 2) / 0.25, 12);
    expect(enrichmentAtCount([3, 2, 2, 1], [0, 0, 1, 0], 2)).toBeCloseTo((0.5 / 2) / 0.25, 12);
  });
  it('is NaN without hits', () => {
    expect(enrichmentFactor([1, 2], [0, 0], 0.5)).toBeNaN();
  });
});

describe('coverage and calibration', () => {
  it('counts observations inside mean ± 1.96 sd', () => {
    expect(intervalCoverage([0, 0, 0, 0], [1, 1, 1, 1], [0.5, -1.9, 2.5, -3])).toBe(0.5);
  });
  it('bins probabilities', () => {
    const t = calibrationTable([0.05, 0.15, 0.12, 0.95], [0, 0, 1, 1], 10);
    expect(t.map((b) => b.n)).toEqual([1, 2, 1]);
    expect(t[1]!.observedRate).toBe(0.5);
    expect(t[1]!.meanPredicted).toBeCloseTo(0.135, 12);
    expect(expectedCalibrationError(t)).toBeCloseTo((0.05 + 2 * Math.abs(0.5 - 0.135) + 0.05) / 4, 12);
  });
});

describe('assay scores', () => {
  it('skips assays below minPos/minNeg and summarises shares', () => {
    const few = scoreAssay(0, [1, 2, 3], [0, 1, 1]);
    expect(few.auc).toBeNaN();
    expect(scoreAssay(0, [1, 2, 3], [0, 1, 1], { minPos: 1, minNeg: 1 }).auc).toBe(1);
    const s = [
      { assay: 0, nPos: 5, nNeg: 5, auc: 0.95, ef1: 2, ef5: 2, topKEnrichment: 2 },
      { assay: 1, nPos: 5, nNeg: 5, auc: 0.8, ef1: 1, ef5: 1, topKEnrichment: 1 },
      { assay: 2, nPos: 5, nNeg: 5, auc: 0.6, ef1: 0, ef5: 0, topKEnrichment: 0 },
      { assay: 3, nPos: 1, nNeg: 5, auc: NaN, ef1: NaN, ef5: NaN, topKEnrichment: NaN },
    ];
    const sum = summarizeAssayScores(s);
    expect(sum.scored).toBe(3);
    expect(sum.above09).toBe(1);
    expect(sum.above07).toBe(2);
    expect(sum.shareAbove07).toBeCloseTo(2 / 3, 12);
    expect(sum.medianAuc).toBe(0.8);
    expect(sum.meanEf1).toBe(1);
  });
});

describe('groupKFold', () => {
  it('keeps every row of a compound on one side, partitions rows, is seeded', () => {
    const rng = new Rng(3);
    const groups = Array.from({ length: 200 }, () => `c${rng.int(37)}`);
    const { foldOf, folds } = groupKFold(groups, 5, 11);
    const seen = new Map<string, number>();
    groups.forEach((g, i) => {
      if (seen.has(g)) expect(foldOf[i]).toBe(seen.get(g));
      else seen.set(g, foldOf[i]!);
    });
    const all = folds.flatMap((f) => Array.from(f.test)).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 200 }, (_, i) => i));
    for (const f of folds) {
      expect(f.train.length + f.test.length).toBe(200);
      expect(f.test.length).toBeGreaterThan(20);
      const testGroups = new Set(Array.from(f.test, (i) => groups[i]));
      for (const i of f.train) expect(testGroups.has(groups[i]!)).toBe(false);
    }
    expect(groupKFold(groups, 5, 11).foldOf).toEqual(foldOf);
    expect(groupKFold(groups, 5, 12).foldOf).not.toEqual(foldOf);
  });
});
