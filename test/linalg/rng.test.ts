import { describe, it, expect } from 'vitest';
import { Rng } from '../../src/linalg/rng.js';

describe('Rng.fillNormal', () => {
  it('gives exactly the values and the state of one normal() call per entry', () => {
    for (const seed of [0, 1, 42, 2 ** 40 + 7]) {
      // Ranges of every parity, starting with and without a cached spare variate.
      for (const [lead, len] of [[0, 0], [0, 1], [0, 2], [1, 1], [1, 2], [1, 7], [3, 1000], [0, 1001]] as const) {
        const a = new Rng(seed), b = new Rng(seed);
        for (let t = 0; t < lead; t++) expect(b.normal()).toBe(a.normal());
        const want = Float64Array.from({ length: len }, () => a.normal());
        const got = new Float64Array(len + 4).fill(-7);
        b.fillNormal(got, 2, 2 + len);
        expect(Array.from(got.subarray(2, 2 + len))).toEqual(Array.from(want));
        expect([got[0], got[1], got[len + 2], got[len + 3]]).toEqual([-7, -7, -7, -7]); // outside the range untouched
        // The generators continue in step: spare, uniform stream and integers alike.
        for (let t = 0; t < 5; t++) expect(b.normal()).toBe(a.normal());
        expect(b.nextUint32()).toBe(a.nextUint32());
      }
    }
  });

  it('draws standard normals (moments over 200,000 values)', () => {
    const x = new Rng(3).fillNormal(new Float64Array(200_000));
    let m = 0, v = 0;
    for (const t of x) m += t;
    m /= x.length;
    for (const t of x) v += (t - m) ** 2;
    v /= x.length - 1;
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(v - 1)).toBeLessThan(0.015);
  });
});
