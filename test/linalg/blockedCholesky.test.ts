import { describe, expect, it } from 'vitest';
import { lowerInverse, lowerInverseJs } from '../../src/linalg/blockedCholesky.js';
import { cholesky } from '../../src/linalg/cholesky.js';
import { tcrossprod } from '../../src/linalg/blas.js';
import { nativeAvailable } from '../../src/linalg/native.js';
import { Rng } from '../../src/linalg/rng.js';

/** Forward substitution on the identity, column by column, written plainly (the reference). */
function plainLowerInverse(l: Float64Array, t: number): Float64Array {
  const m = new Float64Array(t * t);
  for (let c = 0; c < t; c++) {
    m[c * t + c] = 1 / l[c * t + c]!;
    for (let i = c + 1; i < t; i++) {
      let s = 0;
      for (let k = c; k < i; k++) s += l[i * t + k]! * m[k * t + c]!;
      m[i * t + c] = -s / l[i * t + i]!;
    }
  }
  return m;
}

describe('lowerInverse', () => {
  it.skipIf(!nativeAvailable)('the native kernel equals its JavaScript twin bit for bit (random factors and Cholesky factors of Gram matrices)', () => {
    const rng = new Rng(11);
    for (const t of [16, 17, 23, 24, 25, 31, 40, 63, 190, 257]) {
      const l = new Float64Array(t * t);
      for (let i = 0; i < t; i++) {
        for (let k = 0; k < i; k++) l[i * t + k] = rng.normal() * (k % 3 === 0 ? -1 : 1);
        l[i * t + i] = (1 + Math.abs(rng.normal())) * (i % 2 ? 1 : -1);
      }
      const L = { rows: t, cols: t, data: l };
      expect(Array.from(lowerInverse(L).data), `t = ${t}`).toEqual(Array.from(lowerInverseJs(L).data));
      // A factor as the LDA's span solve meets it: the Cholesky factor of c·I + R·Rᵀ.
      const R = { rows: t, cols: 2 * t, data: Float64Array.from({ length: 2 * t * t }, () => rng.normal()) };
      const G = tcrossprod(R);
      for (let i = 0; i < t; i++) G.data[i * t + i] += 0.5;
      const F = cholesky(G);
      expect(Array.from(lowerInverse(F).data), `Cholesky t = ${t}`).toEqual(Array.from(lowerInverseJs(F).data));
    }
  });

  it('inverts a hand-checked 2 × 2 factor', () => {
    // [[2, 0], [1, 4]]⁻¹ = [[1/2, 0], [−1/8, 1/4]]
    expect(Array.from(lowerInverse({ rows: 2, cols: 2, data: Float64Array.from([2, 0, 1, 4]) }).data)).toEqual([0.5, 0, -0.125, 0.25]);
  });

  it('equals plain forward substitution bit for bit, and L·L⁻¹ = I', () => {
    const rng = new Rng(3);
    for (const t of [1, 2, 3, 7, 8, 9, 15, 16, 17, 64, 131, 256]) {
      const l = new Float64Array(t * t);
      for (let i = 0; i < t; i++) {
        for (let k = 0; k < i; k++) l[i * t + k] = rng.normal() / t; // well conditioned, so the residual check is meaningful
        l[i * t + i] = 1 + Math.abs(rng.normal());
      }
      const m = lowerInverse({ rows: t, cols: t, data: l }).data;
      expect(Array.from(m)).toEqual(Array.from(plainLowerInverse(l, t)));
      let worst = 0;
      for (let i = 0; i < t; i++) {
        for (let j = 0; j < t; j++) {
          let s = 0;
          for (let k = 0; k < t; k++) s += l[i * t + k]! * m[k * t + j]!;
          worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
        }
      }
      expect(worst).toBeLessThan(1e-12);
    }
  });
});
