import { describe, expect, it } from 'vitest';
import { kthPairInPlace, sortNonNegativeInPlace } from '../../src/linalg/index.js';
import { RobustClipper, quantileSorted } from '../../src/represent/clip.js';
import { Rng } from '../../src/linalg/rng.js';

describe('kthPairInPlace (quickselect)', () => {
  it('gives the sorted array\'s a[k] and a[k + 1] for every k, with ties and any length', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + (trial % 40);
      // Few distinct values on some trials (many ties), continuous on others.
      const a = Float64Array.from({ length: n }, () => (trial % 3 === 0 ? Math.floor(rng.uniform() * 4) : rng.normal()));
      const sorted = a.slice().sort();
      for (let k = 0; k < n; k++) {
        const [v, w] = kthPairInPlace(a.slice(), k);
        expect(v).toBe(sorted[k]);
        if (k + 1 < n) expect(w).toBe(sorted[k + 1]);
        else expect(w).toBeNaN();
      }
    }
  });

  it('refuses k out of range', () => {
    expect(() => kthPairInPlace(new Float64Array(3), 3)).toThrow(RangeError);
  });
});

describe('RobustClipper (mad) bounds equal the sorted-column medians', () => {
  it('on random columns with ties and zero-MAD columns', () => {
    const rng = new Rng(12);
    const n = 57, d = 9;
    const X = { rows: n, cols: d, data: new Float64Array(n * d) };
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        X.data[i * d + j] = j === 0 ? 1 : j === 1 ? (i < 40 ? 2 : rng.normal()) : j === 2 ? Math.round(rng.normal()) : rng.normal() * (j + 1);
      }
    }
    const c = new RobustClipper({ threshold: 3 }).fit(X);
    for (let j = 0; j < d; j++) {
      const col = Float64Array.from({ length: n }, (_, i) => X.data[i * d + j]!).sort();
      const med = quantileSorted(col, 0.5);
      const dev = col.map((v) => Math.abs(v - med)).sort();
      let s = 1.4826 * quantileSorted(dev, 0.5);
      if (!(s > 0)) {
        const m = col.reduce((a, v) => a + v, 0) / n;
        s = Math.sqrt(col.reduce((a, v) => a + (v - m) ** 2, 0) / (n - 1));
      }
      expect(c.lo![j]).toBe(s > 0 ? med - 3 * s : -Infinity);
      expect(c.hi![j]).toBe(s > 0 ? med + 3 * s : Infinity);
    }
  });
});

describe('sortNonNegativeInPlace', () => {
  it('orders non-negative doubles exactly as a comparison sort (duplicates, +0, subnormals, +∞, one exponent)', () => {
    const rng = new Rng(4);
    for (const n of [0, 5, 63, 64, 1000, 20_000]) {
      const a = Float64Array.from({ length: n }, (_, i) => {
        const r = i % 7;
        if (r === 0) return 0;
        if (r === 1) return 5e-324 * (1 + (i % 3));
        if (r === 2) return Math.floor(10 * rng.uniform()) / 4;
        if (r === 3 && i % 5 === 0) return Infinity;
        if (r === 4) return 1 + rng.uniform() * 2 ** -30;
        return Math.exp(20 * rng.normal());
      });
      const want = Array.from(a).sort((x, y) => x - y);
      expect(Array.from(sortNonNegativeInPlace(a))).toEqual(want);
    }
  });
  it('refuses a negative value, −0 and NaN', () => {
    const base = Array.from({ length: 100 }, (_, i) => i);
    for (const bad of [-1, -0, NaN]) {
      const a = Float64Array.from(base);
      a[50] = bad;
      expect(() => sortNonNegativeInPlace(a)).toThrow(/not ≥ \+0/);
    }
  });
});
