/**
 * numpy's argsort(kind='quicksort') order, ties included (pandas' sort_values, and through it
 * pycytominer's correlation_threshold ranking): checked against numpy 1.24.2's own output on arrays
 * full of exact ties and NaN (test/fixtures/numpy/make_argsort.py).
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { argsortHeap, argsortQuick } from '../../src/util/argsort.js';

interface Case {
  values: (number | null)[];
  quicksort: number[];
  heapsort: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/numpy/argsort.json', import.meta.url), 'utf8')) as { numpy: string; cases: Case[] };

describe('argsortQuick: numpy argsort(kind="quicksort") order', () => {
  const values = (c: Case) => Float64Array.from(c.values, (x) => (x === null ? NaN : x));

  it(`the same permutation as numpy ${fixture.numpy} on ${fixture.cases.length} arrays with ties and NaN (n up to 1,000)`, () => {
    let tied = 0;
    for (const c of fixture.cases) {
      const v = values(c);
      expect(Array.from(argsortQuick(v)), `n = ${v.length}: ${c.values.slice(0, 12).join(',')}…`).toEqual(c.quicksort);
      if (new Set(c.values).size < c.values.length) tied++;
    }
    // The fixture is about ties: most arrays have them, and numpy's order of them is not the stable one.
    expect(tied).toBeGreaterThan(40);
    const unstable = fixture.cases.filter((c) => c.quicksort.some((j, p) => p > 0 && c.values[j] === c.values[c.quicksort[p - 1]!] && j < c.quicksort[p - 1]!));
    expect(unstable.length).toBeGreaterThan(10);
  });

  it('the heapsort fallback gives numpy\'s heapsort order', () => {
    for (const c of fixture.cases) expect(Array.from(argsortHeap(values(c)))).toEqual(c.heapsort);
  });

  it('sorts (property: 200 random arrays, the values come out ascending, NaN last, a permutation)', () => {
    let s = 11;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let k = 0; k < 200; k++) {
      const n = Math.floor(rnd() * 400);
      const v = Float64Array.from({ length: n }, () => (rnd() < 0.05 ? NaN : Math.floor(rnd() * 8)));
      const p = argsortQuick(v);
      expect(new Set(p).size).toBe(n);
      let sorted = true;
      for (let i = 1; i < n; i++) {
        const a = v[p[i - 1]!]!, b = v[p[i]!]!;
        if (!(a <= b || b !== b)) sorted = false;
      }
      expect(sorted).toBe(true);
    }
  });
});
