import { describe, it, expect } from 'vitest';
import { fromRows } from '../../src/linalg/index.js';
import {
  averagePrecisionOfRanking, nullApDistribution, permutationPValue, meanAveragePrecision,
  consistencyQueries, activityQueries, type ApQuery,
} from '../../src/evaluate/map.js';
import { buildTreatments, nearestNeighbourMoa } from '../../src/evaluate/nsc.js';
import { percentReplicating } from '../../src/evaluate/replicating.js';
import { benjaminiHochberg } from '../../src/enrich/bh.js';
import { Rng } from '../../src/linalg/rng.js';

describe('average precision', () => {
  it('matches a hand-computed ranking', () => {
    // Ranking: + − + − +  → precisions at positives 1/1, 2/3, 3/5 → AP = (1 + 2/3 + 3/5) / 3
    expect(averagePrecisionOfRanking([1, 0, 1, 0, 1])).toBeCloseTo((1 + 2 / 3 + 3 / 5) / 3, 12);
    expect(averagePrecisionOfRanking([0, 0, 1])).toBeCloseTo(1 / 3, 12);
    expect(averagePrecisionOfRanking([0, 0])).toBeNaN();
  });

  it('null APs of random rankings average near positives/candidates', () => {
    const nd = nullApDistribution(3, 30, 4000, new Rng(1));
    // Exact mean AP of a random ranking with 3 positives among 30 (sum over rank subsets), by enumeration.
    let exact = 0, count = 0;
    for (let a = 0; a < 30; a++) for (let b = a + 1; b < 30; b++) for (let c = b + 1; c < 30; c++) {
      exact += (1 / (a + 1) + 2 / (b + 1) + 3 / (c + 1)) / 3;
      count++;
    }
    exact /= count;
    const m4 = nd.reduce((s, v) => s + v, 0) / nd.length;
    let v4 = 0;
    for (const x of nd) v4 += (x - m4) ** 2;
    expect(Math.abs(m4 - exact)).toBeLessThan(5 * Math.sqrt(v4 / nd.length / nd.length));
    const mean = nd.reduce((a, b) => a + b, 0) / nd.length;
    // E[AP] of a random ranking is a bit above k/n for small k (first positive's precision).
    expect(mean).toBeGreaterThan(0.1);
    expect(mean).toBeLessThan(0.25);
    // A single positive among 1: AP is always 1.
    expect(Array.from(nullApDistribution(1, 1, 5, new Rng(0)))).toEqual([1, 1, 1, 1, 1]);
  });

  it('permutation p-value = (#{null ≥ observed} + 1) / (nullSize + 1)', () => {
    const nul = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    expect(permutationPValue(0.65, nul)).toBeCloseTo((3 + 1) / 10, 12);
    expect(permutationPValue(0.7, nul)).toBeCloseTo((3 + 1) / 10, 12); // ties count (≥)
    expect(permutationPValue(0.7, nul, true)).toBeCloseTo((2 + 1) / 10, 12); // strict: copairs' mAP rule
    expect(permutationPValue(0.95, nul)).toBeCloseTo(1 / 10, 12);
    expect(permutationPValue(0, nul)).toBeCloseTo(1, 12);
  });

  it('mAP groups: perfect retrieval is significant, random-looking is not; BH as statsmodels', () => {
    const qs: ApQuery[] = [];
    for (let k = 0; k < 4; k++) qs.push({ group: 'good', query: `g${k}`, ap: 1, nPos: 3, nTotal: 40 });
    for (let k = 0; k < 4; k++) qs.push({ group: 'bad', query: `b${k}`, ap: 0.08, nPos: 3, nTotal: 40 });
    qs.push({ group: 'none', query: 'x', ap: NaN, nPos: 0, nTotal: 10 });
    const r = meanAveragePrecision(qs, { nullSize: 500, seed: 3 });
    const good = r.groups.find((g) => g.group === 'good')!, bad = r.groups.find((g) => g.group === 'bad')!;
    expect(r.queriesWithoutPositives).toBe(1);
    expect(good.mAP).toBe(1);
    expect(good.pValue).toBeCloseTo(1 / 501, 12);
    expect(good.retrieved).toBe(true);
    expect(bad.pValue).toBeGreaterThan(0.3);
    expect(bad.retrieved).toBe(false);
    expect(good.baseline).toBeCloseTo(3 / 40, 12);
    expect(Array.from(benjaminiHochberg(r.groups.map((g) => g.pValue)))).toEqual(r.groups.map((g) => g.qValue));
    expect(r.fractionRetrieved).toBe(0.5);
    // Deterministic under the seed.
    expect(meanAveragePrecision(qs, { nullSize: 500, seed: 3 }).groups.map((g) => g.pValue)).toEqual(r.groups.map((g) => g.pValue));
  });

  it('BH q-values on a small case (hand-computed)', () => {
    // p sorted 0.01, 0.02, 0.03, 0.5 → raw 0.04, 0.04, 0.04, 0.5
    const q = benjaminiHochberg([0.03, 0.01, 0.5, 0.02]);
    expect(Array.from(q).map((v) => +v.toFixed(12))).toEqual([0.04, 0.04, 0.5, 0.04]);
  });

  it('consistency positives are other compounds with the label; own compound is neither', () => {
    const X = fromRows([[1, 0], [0.9, 0.1], [1, 0.05], [0, 1], [0.1, 1]]);
    const q = consistencyQueries({ X, labels: ['A', 'A', 'A', 'B', 'B'], compounds: ['a1', 'a1', 'a2', 'b1', 'b2'] });
    // Query 0 (a1): candidates a2 (+), b1, b2 (−); a1's other dose excluded.
    expect(q[0]!.nPos).toBe(1);
    expect(q[0]!.nTotal).toBe(3);
    expect(q[0]!.ap).toBe(1);
  });

  it('activity: replicates against controls', () => {
    const X = fromRows([[1, 0], [0.95, 0.05], [0, 1], [0.1, 0.9], [0.7, 0.7]]);
    const q = activityQueries(X, ['t', 't', null, null, 'u'], [0, 0, 1, 1, 0]);
    expect(q.length).toBe(3);
    expect(q[0]!.ap).toBe(1); // its replicate is nearer than both controls
    expect(q[2]!.nPos).toBe(0); // u has no replicate
  });
});

describe('NSC / NSCB', () => {
  // Two-feature toy: q1 (compound Q, MoA M1) is nearest to its own other dose, then to c2 (M2)
  // in the same batch, then to c1 (M1) in another batch.
  const X = fromRows([
    [1, 0.0], [1, 0.02], // Q dose 1 (wells), batch W1
    [1, 0.01], // Q dose 2, batch W1
    [1, 0.1], // c2 (MoA M2), batch W1
    [1, 0.3], // c1 (MoA M1), batch W2
    [0, 1], // c3 (MoA M2), batch W2
    [0.5, 0.5], // DMSO
  ]);
  const keys = {
    compound: ['Q', 'Q', 'Q', 'c2', 'c1', 'c3', 'DMSO'],
    dose: ['1', '1', '2', '1', '1', '1', '0'],
    label: ['M1', 'M1', 'M1', 'M2', 'M1', 'M2', 'DMSO'],
    batch: ['W1', 'W1', 'W1', 'W1', 'W2', 'W2', 'W1'],
  };
  const T = buildTreatments(X, keys);

  it('builds median treatments and drops controls', () => {
    expect(T.compound).toEqual(['Q', 'Q', 'c2', 'c1', 'c3']);
    expect(T.X.data[1]).toBeCloseTo(0.01, 12); // median of 0 and 0.02
    expect(T.batches[0]).toEqual(['W1']);
  });

  it('NSC never uses the same compound; the planted neighbour decides', () => {
    const r = nearestNeighbourMoa(T, T);
    const q1 = r.predictions.find((p) => p.compound === 'Q' && p.dose === '1')!;
    expect(q1.neighbourCompound).toBe('c2');
    expect(q1.correct).toBe(false);
  });

  it('NSCB also excludes the same batch', () => {
    const r = nearestNeighbourMoa(T, T, { excludeSameBatch: true });
    const q1 = r.predictions.find((p) => p.compound === 'Q' && p.dose === '1')!;
    expect(q1.neighbourCompound).toBe('c1');
    expect(q1.correct).toBe(true);
    // c1 (M1, W2): the only other M1 compound is Q in W1 → answerable; c2 (M2, W1): c3 in W2.
    expect(r.unanswerable.length).toBe(0);
    expect(r.perLabel.M1!.total).toBe(3);
  });

  it('queries without an eligible same-label candidate are not scored', () => {
    const only = buildTreatments(X, { ...keys, label: ['M1', 'M1', 'M1', 'M2', 'M3', 'M2', 'DMSO'] });
    const r = nearestNeighbourMoa(only, only, { excludeSameBatch: true });
    expect(r.unanswerable.map((u) => u.compound).sort()).toEqual(['Q', 'Q', 'c1']);
    expect(r.total).toBe(2);
  });
});

describe('percent replicating', () => {
  it('tight replicates replicate, noise does not', () => {
    const rng = new Rng(5);
    const rows: number[][] = [];
    const groups: string[] = [];
    for (let g = 0; g < 12; g++) {
      const centre = Array.from({ length: 20 }, () => rng.normal());
      for (let r = 0; r < 3; r++) {
        const tight = g < 6;
        rows.push(centre.map((c) => (tight ? c + 0.1 * rng.normal() : rng.normal())));
        groups.push(`g${g}`);
      }
    }
    const res = percentReplicating(fromRows(rows), groups, { seed: 1, nullSize: 500 });
    expect(res.nGroups).toBe(12);
    for (const g of res.groups) expect(g.replicating).toBe(Number(g.group.slice(1)) < 6);
    expect(res.percentReplicating).toBeCloseTo(0.5, 12);
  });
});
