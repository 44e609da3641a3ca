import { describe, it, expect } from 'vitest';
import { conjugateGradient, zeros, gemm, crossprod, cholesky, choleskySolveMatrix } from '../../src/linalg/index.js';
import { Rng } from '../../src/linalg/rng.js';

describe('conjugateGradient', () => {
  it('solves (FᵀF + λI) X = B for several right-hand sides like Cholesky does', () => {
    const rng = new Rng(1);
    const F = zeros(80, 30), B = zeros(30, 4);
    rng.fillNormal(F.data); rng.fillNormal(B.data);
    const lambda = 0.5;
    const A = crossprod(F);
    for (let i = 0; i < 30; i++) A.data[i * 30 + i] += lambda;
    const exact = choleskySolveMatrix(cholesky(A), B);
    const res = conjugateGradient((P, out) => {
      const AP = gemm(A, P);
      out.data.set(AP.data);
    }, B, { tol: 1e-12 });
    for (let t = 0; t < exact.data.length; t++) expect(res.X.data[t]).toBeCloseTo(exact.data[t]!, 9);
    expect(res.iterations).toBeLessThanOrEqual(60);
    for (const r of res.relResidual) expect(r).toBeLessThan(1e-11);
    // A warm start at the solution converges immediately.
    const warm = conjugateGradient((P, out) => out.data.set(gemm(A, P).data), B, { tol: 1e-8, x0: exact });
    expect(warm.iterations).toBe(0);
  });
});
