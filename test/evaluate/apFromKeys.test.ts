import { describe, expect, it } from 'vitest';
import { apFromKeys } from '../../src/evaluate/averagePrecision.js';
import { averagePrecisionOfRanking } from '../../src/evaluate/map.js';
import { Rng } from '../../src/linalg/rng.js';

/** AP by sorting the whole list: ascending key, a positive before a negative of equal key. */
function bruteForce(pos: number[], neg: number[]): number {
  const all = [...pos.map((k) => ({ k, r: 1 })), ...neg.map((k) => ({ k, r: 0 }))];
  all.sort((a, b) => a.k - b.k || b.r - a.r);
  return averagePrecisionOfRanking(all.map((e) => e.r));
}

describe('apFromKeys (bucketed count of positives above each negative)', () => {
  it('equals the full sort on random lists with exact and near ties (property, 400 cases)', () => {
    const rng = new Rng(7);
    const cnt = new Int32Array(5000);
    for (let c = 0; c < 400; c++) {
      const P = 1 + rng.int(c % 4 === 0 ? 6 : 300), N = rng.int(2000);
      // Keys on a coarse float32 grid (many exact ties), clustered (long buckets) or spread.
      const grid = [1e-3, 2 ** -20, 0][c % 3]!;
      const cluster = c % 5 === 0;
      const draw = () => {
        let v = cluster && rng.uniform() < 0.7 ? 0.5 + 1e-9 * rng.int(4) : 2 * rng.uniform();
        if (grid) v = Math.round(v / grid) * grid;
        return Math.fround(v);
      };
      const pos = Array.from({ length: P }, draw), neg = Array.from({ length: N }, draw);
      // Negatives exactly at the positives' extremes and outside their range.
      if (N > 4) {
        neg[0] = Math.min(...pos);
        neg[1] = Math.max(...pos);
        neg[2] = Math.min(...pos) - 1;
        neg[3] = Math.max(...pos) + 1;
      }
      const got = apFromKeys(Float64Array.from(pos), P, Float64Array.from(neg), N, cnt);
      expect(Math.abs(got - bruteForce(pos, neg)), `case ${c}: P ${P}, N ${N}`).toBeLessThanOrEqual(1e-12);
    }
  });

  it('all positives tied, and a key range too narrow to scale, fall back exactly', () => {
    const cnt = new Int32Array(64);
    const pos = new Array(20).fill(0.25), neg = [0.25, 0.2, 0.3, 0.25];
    expect(apFromKeys(Float64Array.from(pos), 20, Float64Array.from(neg), 4, cnt)).toBe(bruteForce(pos, neg));
    const tiny = Array.from({ length: 20 }, (_, k) => k * 5e-324), negT = [0, 5e-324, 1e-322, 1];
    expect(apFromKeys(Float64Array.from(tiny), 20, Float64Array.from(negT), 4, cnt)).toBeCloseTo(bruteForce(tiny, negT), 14);
  });
});
