import { describe, expect, it } from 'vitest';
import { hypergeomLogSf, hypergeomSf, lnFactorial, lnGamma, hypergeomLogPmf } from '../../src/enrich/hypergeom.js';

function choose(a: number, b: number): bigint {
  if (b < 0 || b > a) return 0n;
  let r = 1n;
  for (let i = 0; i < b; i++) r = (r * BigInt(a - i)) / BigInt(i + 1);
  return r;
}

/** Exact P(X ≥ k) as a double, by enumerating the support with big integers. */
function exactSf(k: number, N: number, K: number, n: number): number {
  let num = 0n;
  for (let x = Math.max(k, 0); x <= Math.min(n, K); x++) num += choose(K, x) * choose(N - K, n - x);
  const den = choose(N, n);
  // scale to keep ~30 significant digits before converting
  const scaled = (num * 10n ** 30n) / den;
  return Number(scaled) / 1e30;
}

describe('hypergeometric upper tail', () => {
  it('equals exact enumeration on small and medium cases (1e-12 relative)', () => {
    const cases: [number, number, number, number][] = [
      [1, 10, 3, 4], [2, 10, 3, 4], [3, 10, 3, 4], [4, 20, 6, 5], [5, 342, 6, 28], [6, 342, 6, 28],
      [3, 342, 12, 28], [1, 342, 6, 1], [10, 200, 40, 30], [25, 300, 60, 40], [2, 60, 30, 30],
    ];
    for (const [k, N, K, n] of cases) {
      const e = exactSf(k, N, K, n);
      expect(Math.abs(hypergeomSf(k, N, K, n) - e) / e).toBeLessThan(1e-12);
    }
  });

  it('is 1 at k = 0 and at the lower support bound, 0 beyond the upper bound', () => {
    expect(hypergeomSf(0, 342, 6, 28)).toBe(1);
    expect(hypergeomSf(3, 10, 8, 5)).toBe(1); // support starts at n + K − N = 3
    expect(hypergeomSf(7, 342, 6, 28)).toBe(0);
    expect(hypergeomLogSf(7, 342, 6, 28)).toBe(-Infinity);
  });

  it('keeps relative accuracy deep in the tail (log space, no underflow)', () => {
    // P(X ≥ 500) with N = 2000, K = 500, n = 500 is exactly 1 / C(2000, 500)
    const l = hypergeomLogSf(500, 2000, 500, 500);
    const lnC = lnFactorial(2000) - 2 * lnFactorial(500) - lnFactorial(1500) + lnFactorial(500); // ln C(2000,500)
    expect(l).toBeCloseTo(-lnC, 9);
    expect(l).toBeLessThan(-745); // would underflow as a plain double
    // pmf sums to 1
    let s = 0;
    for (let x = 0; x <= 30; x++) s += Math.exp(hypergeomLogPmf(x, 100, 30, 40));
    expect(s).toBeCloseTo(1, 13);
  });

  it('lnGamma / lnFactorial agree with exact values', () => {
    expect(lnFactorial(0)).toBe(0);
    expect(lnFactorial(10)).toBeCloseTo(Math.log(3628800), 14);
    // ln 200! via big-integer factorial (digits) compared at 1e-13 relative
    let f = 1n;
    for (let i = 2n; i <= 200n; i++) f *= i;
    const s = f.toString();
    const ln200 = Math.log(Number('0.' + s.slice(0, 17))) + s.length * Math.LN10;
    expect(Math.abs(lnFactorial(200) - ln200) / ln200).toBeLessThan(1e-13);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(lnGamma(3.5)).toBeCloseTo(Math.log(3.323350970447843), 13);
  });

  it('rejects invalid arguments', () => {
    expect(() => hypergeomSf(1, 10, 11, 3)).toThrow(RangeError);
    expect(() => hypergeomSf(1.5, 10, 3, 3)).toThrow(RangeError);
  });
});
