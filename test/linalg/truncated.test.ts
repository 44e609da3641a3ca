import { describe, it, expect } from 'vitest';
import {
  type Matrix, zeros, thinSvdCentered, truncatedSvdCentered, columnMeans, orthonormalizeRows, gemmNT, symmetricEigen, tcrossprod,
  cholesky, choleskySolveMatrix, choleskyBlocked, choleskySolveBlocked, NotPositiveDefiniteError,
} from '../../src/linalg/index.js';
import { Rng } from '../../src/linalg/rng.js';

/** A rows × cols matrix with singular values decaying as 0.8^i, plus a column offset. */
function decaying(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const r = Math.min(rows, cols);
  const A = zeros(rows, r), B = zeros(r, cols);
  rng.fillNormal(A.data);
  rng.fillNormal(B.data);
  for (let c = 0; c < r; c++) for (let j = 0; j < cols; j++) B.data[c * cols + j] *= 0.8 ** c;
  const X = zeros(rows, cols);
  for (let i = 0; i < rows; i++) for (let c = 0; c < r; c++) {
    const a = A.data[i * r + c]!;
    for (let j = 0; j < cols; j++) X.data[i * cols + j] += a * B.data[c * cols + j]!;
  }
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) X.data[i * cols + j] += 3 + j / cols;
  return X;
}

function maxAngleDeg(A: Matrix, B: Matrix): number {
  const { values } = symmetricEigen(tcrossprod(gemmNT(A, B)));
  return (Math.acos(Math.min(1, Math.sqrt(Math.max(0, values[values.length - 1]!)))) * 180) / Math.PI;
}

describe('randomized block Krylov SVD of the centred matrix', () => {
  it('matches the exact centred SVD on a decaying spectrum (values, subspace), tall and wide', () => {
    for (const [n, d] of [[300, 120], [90, 400]] as const) {
      const X = decaying(n, d, 1);
      const mean = columnMeans(X);
      const exact = thinSvdCentered(X, mean, 10);
      const r = truncatedSvdCentered(X, mean, 10, { seed: 3, precision: 'float64' });
      for (let c = 0; c < 10; c++) expect(Math.abs(r.s[c]! - exact.s[c]!) / exact.s[0]!).toBeLessThan(1e-10);
      expect(maxAngleDeg(r.Vt, exact.Vt)).toBeLessThan(1e-4);
      // Float32 products (the default): float32 rounding, far below the method's own error on real data.
      const r32 = truncatedSvdCentered(X, mean, 10, { seed: 3 });
      for (let c = 0; c < 10; c++) expect(Math.abs(r32.s[c]! - exact.s[c]!) / exact.s[0]!).toBeLessThan(2e-6);
      expect(maxAngleDeg(r32.Vt, exact.Vt)).toBeLessThan(2e-3);
      // U·diag(s)·Vt reproduces the centred X's projection: U's columns orthonormal
      const UtU = gemmNT({ rows: 10, cols: n, data: transposeData(r.U) }, { rows: 10, cols: n, data: transposeData(r.U) });
      for (let a = 0; a < 10; a++) for (let b = 0; b < 10; b++) expect(UtU.data[a * 10 + b]!).toBeCloseTo(a === b ? 1 : 0, 10);
    }
  });

  it('is seeded: the same seed gives the same bits, float32 storage gives the same subspace', () => {
    const X = decaying(200, 150, 2);
    const mean = columnMeans(X);
    const a = truncatedSvdCentered(X, mean, 8, { seed: 5 });
    const b = truncatedSvdCentered(X, mean, 8, { seed: 5 });
    expect(Array.from(b.Vt.data)).toEqual(Array.from(a.Vt.data));
    const c = truncatedSvdCentered(X, mean, 8, { seed: 6 });
    expect(Array.from(c.Vt.data)).not.toEqual(Array.from(a.Vt.data));
    expect(maxAngleDeg(a.Vt, c.Vt)).toBeLessThan(1e-3);
    const X32 = { rows: X.rows, cols: X.cols, data: Float32Array.from(X.data) };
    const f = truncatedSvdCentered(X32, columnMeans(X32), 8, { seed: 5 });
    expect(maxAngleDeg(a.Vt, f.Vt)).toBeLessThan(0.01);
  });

  it('a matrix of lower rank than the Krylov space: dependent directions are dropped, not divided by zero', () => {
    const rng = new Rng(4);
    const A = zeros(80, 3), B = zeros(3, 60);
    rng.fillNormal(A.data);
    rng.fillNormal(B.data);
    const X = zeros(80, 60);
    for (let i = 0; i < 80; i++) for (let c = 0; c < 3; c++) for (let j = 0; j < 60; j++) X.data[i * 60 + j] += A.data[i * 3 + c]! * B.data[c * 60 + j]!;
    const exact = thinSvdCentered(X, columnMeans(X), 3);
    for (const precision of ['float64', 'float32'] as const) {
      const r = truncatedSvdCentered(X, columnMeans(X), 3, { seed: 1, precision });
      // In float32 a dependent direction leaves rounding noise, not zero: still recognised and dropped.
      expect(r.krylovDim).toBeLessThanOrEqual(4);
      for (let c = 0; c < 3; c++) expect(Math.abs(r.s[c]! - exact.s[c]!) / exact.s[c]!).toBeLessThan(precision === 'float64' ? 1e-10 : 1e-6);
      for (const v of r.Vt.data) expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('orthonormalizeRows keeps an orthonormal set and drops a dependent row', () => {
    const A = zeros(4, 5);
    A.data.set([1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 3, 1, 0]);
    const k = orthonormalizeRows(A, 0, 4);
    expect(k).toBe(3);
    const G = tcrossprod({ rows: 3, cols: 5, data: A.data.subarray(0, 15) });
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) expect(G.data[a * 3 + b]!).toBeCloseTo(a === b ? 1 : 0, 14);
  });
});

function transposeData(M: Matrix): Float64Array {
  const out = new Float64Array(M.data.length);
  for (let i = 0; i < M.rows; i++) for (let j = 0; j < M.cols; j++) out[j * M.rows + i] = M.data[i * M.cols + j]!;
  return out;
}

describe('blocked Cholesky', () => {
  it('equals the unblocked factor and solve to rounding at n = 700, and names the failing pivot', () => {
    const rng = new Rng(9);
    const n = 700;
    const G = zeros(n, n + 5);
    rng.fillNormal(G.data);
    const A = tcrossprod(G);
    for (let i = 0; i < n; i++) A.data[i * n + i] += 1;
    const B = zeros(n, 7);
    rng.fillNormal(B.data);
    const L1 = cholesky(A), L2 = choleskyBlocked(A, 128);
    let dl = 0, ml = 0;
    for (let t = 0; t < L1.data.length; t++) {
      dl = Math.max(dl, Math.abs(L1.data[t]! - L2.data[t]!));
      ml = Math.max(ml, Math.abs(L1.data[t]!));
    }
    expect(dl / ml).toBeLessThan(1e-12);
    const X1 = choleskySolveMatrix(L1, B), X2 = choleskySolveBlocked(L2, B, 128);
    let dx = 0, mx = 0;
    for (let t = 0; t < X1.data.length; t++) {
      dx = Math.max(dx, Math.abs(X1.data[t]! - X2.data[t]!));
      mx = Math.max(mx, Math.abs(X1.data[t]!));
    }
    expect(dx / mx).toBeLessThan(1e-10);
    A.data[600 * n + 600] = -1;
    try {
      choleskyBlocked(A, 128);
      throw new Error('expected NotPositiveDefiniteError');
    } catch (e) {
      expect(e).toBeInstanceOf(NotPositiveDefiniteError);
      expect((e as NotPositiveDefiniteError).pivot).toBeGreaterThanOrEqual(512);
    }
  });
});
