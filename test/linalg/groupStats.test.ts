/** Per-column medians and means of row subsets: hand-checked, against sorting, native = JavaScript bit for bit. */
import { describe, expect, it } from 'vitest';
import { medianOfRange, meanOfRange, subsetColumnStats, subsetColumnStatsJs, subsetScratchLength } from '../../src/linalg/groupStats.js';
import { native } from '../../src/linalg/native.js';
import { Rng } from '../../src/linalg/rng.js';

function sortedMedian(v: number[]): number {
  const a = v.filter((x) => !Number.isNaN(x)).sort((x, y) => x - y);
  if (!a.length) return NaN;
  const h = a.length >> 1;
  return a.length % 2 ? a[h]! : (a[h - 1]! + a[h]!) / 2;
}

describe('group statistics', () => {
  it('hand-checked medians and means, NaN skipped, empty columns NaN', () => {
    expect(medianOfRange(Float64Array.from([3, 1, 2]), 0, 3)).toBe(2);
    expect(medianOfRange(Float64Array.from([4, NaN, 1, 3, 2]), 0, 5)).toBe(2.5);
    expect(medianOfRange(Float64Array.from([NaN, NaN]), 0, 2)).toBeNaN();
    expect(medianOfRange(Float64Array.from([-Infinity, 1, Infinity]), 0, 3)).toBe(1);
    expect(meanOfRange(Float64Array.from([1e16, 1, -1e16, NaN]), 0, 4)).toBe(1 / 3); // compensation keeps the 1
    expect(meanOfRange(Float64Array.from([1, Infinity]), 0, 2)).toBe(Infinity);
  });

  it('equal a sort-based median on random subsets with ties and NaN, and the native kernel equals the JavaScript twin bit for bit', () => {
    const rng = new Rng(3);
    for (const [n, d, m] of [[50, 7, 1], [400, 130, 51], [300, 70, 300], [64, 65, 2]] as const) {
      const X = new Float64Array(n * d);
      for (let i = 0; i < X.length; i++) {
        const u = rng.uniform();
        X[i] = u < 0.05 ? NaN : u < 0.3 ? Math.round(rng.normal() * 3) : rng.normal() * 1e3;
      }
      const rows = Int32Array.from({ length: m }, () => rng.int(n));
      const scratch = new Float64Array(subsetScratchLength(m, d));
      for (const op of ['median', 'mean'] as const) {
        const js = new Float64Array(d + 3);
        subsetColumnStatsJs(X, d, rows, op, js, 3, scratch);
        for (let j = 0; j < d; j++) {
          const col = Array.from(rows, (r) => X[r * d + j]!);
          // -0 and +0 tie: either may be selected, as either may come first in a sort.
          if (op === 'median') expect(js[3 + j]! + 0).toBe(sortedMedian(col) + 0);
          else {
            const v = col.filter((x) => !Number.isNaN(x));
            if (v.length) expect(Math.abs(js[3 + j]! - v.reduce((a, b) => a + b, 0) / v.length)).toBeLessThan(1e-9);
          }
        }
        const both = new Float64Array(d + 3);
        subsetColumnStats(X, d, rows, op, both, 3, scratch);
        expect(Array.from(both)).toEqual(Array.from(js));
      }
    }
    if (!native()) console.warn('[skip] native subsetStats: the addon is not built (PHENOMAP_NO_NATIVE=1 or no compiler)');
  });
});
