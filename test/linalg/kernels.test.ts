import { describe, it, expect } from 'vitest';
import {
  fromRows, zeros, gemm, gemmNT, gemmTN, crossprod, tcrossprod, matvec, matvecT, cholesky, choleskySolve,
  choleskySolveMatrix, choleskyInverse, NotPositiveDefiniteError, symmetricEigen, symmetricEigenRows, thinSvd, squaredDistances,
  squaredDistancesBetween, rowSquaredNorms, cosineSimilarity, columnMeans, columnStd, percentile, median, transpose, type Matrix,
} from '../../src/linalg/index.js';
import { Rng } from '../../src/linalg/rng.js';

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const m = zeros(rows, cols);
  new Rng(seed).fillNormal(m.data);
  return m;
}

function naiveProduct(A: Matrix, B: Matrix): Matrix {
  const C = zeros(A.rows, B.cols);
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < B.cols; j++) {
    let s = 0;
    for (let k = 0; k < A.cols; k++) s += A.data[i * A.cols + k]! * B.data[k * B.cols + j]!;
    C.data[i * B.cols + j] = s;
  }
  return C;
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst).toBeLessThan(tol);
}

describe('matrix products', () => {
  it('gemm equals the textbook triple loop on a hand case', () => {
    const A = fromRows([[1, 2], [3, 4], [5, 6]]);
    const B = fromRows([[7, 8, 9], [10, 11, 12]]);
    expect(Array.from(gemm(A, B).data)).toEqual([27, 30, 33, 61, 68, 75, 95, 106, 117]);
  });

  it.each([[1, 1, 1], [3, 5, 2], [7, 9, 13], [66, 130, 67], [129, 3, 70]])('all shapes agree with the naive product (%i×%i·%i)', (m, k, n) => {
    const A = randomMatrix(m, k, m * 7 + k);
    const B = randomMatrix(k, n, n * 11 + k);
    const ref = naiveProduct(A, B);
    expectClose(gemm(A, B).data, ref.data, 1e-10);
    expectClose(gemmNT(A, transpose(B)).data, ref.data, 1e-10);
    expectClose(gemmTN(transpose(A), B).data, ref.data, 1e-10);
    expectClose(tcrossprod(A).data, naiveProduct(A, transpose(A)).data, 1e-10);
    expectClose(crossprod(A).data, naiveProduct(transpose(A), A).data, 1e-10);
    const x = new Float64Array(k).map((_, i) => i - 1.5);
    expectClose(matvec(A, x), naiveProduct(A, { rows: k, cols: 1, data: x }).data, 1e-10);
    const y = new Float64Array(m).map((_, i) => 0.5 * i);
    expectClose(matvecT(A, y), naiveProduct(transpose(A), { rows: m, cols: 1, data: y }).data, 1e-10);
  });

  it('rejects mismatched inner dimensions', () => {
    expect(() => gemm(zeros(2, 3), zeros(2, 3))).toThrow(/inner dimensions/);
  });
});

describe('Cholesky', () => {
  it('factors a hand-checked SPD matrix', () => {
    const A = fromRows([[4, 12, -16], [12, 37, -43], [-16, -43, 98]]);
    expect(Array.from(cholesky(A).data)).toEqual([2, 0, 0, 6, 1, 0, -8, 5, 3]);
  });

  it('solves systems and inverts (random SPD, n = 57)', () => {
    const X = randomMatrix(80, 57, 3);
    const A = crossprod(X);
    const L = cholesky(A);
    const b = new Float64Array(57).map((_, i) => Math.sin(i));
    const x = choleskySolve(L, b);
    expectClose(matvec(A, x), b, 1e-9);
    const B = randomMatrix(57, 4, 9);
    const Xs = choleskySolveMatrix(L, B);
    expectClose(gemm(A, Xs).data, B.data, 1e-9);
    const inv = choleskyInverse(L);
    const I = gemm(A, inv);
    for (let i = 0; i < 57; i++) for (let j = 0; j < 57; j++) expect(I.data[i * 57 + j]).toBeCloseTo(i === j ? 1 : 0, 9);
  });

  it('reports a non-positive-definite matrix', () => {
    expect(() => cholesky(fromRows([[1, 2], [2, 1]]))).toThrow(NotPositiveDefiniteError);
  });
});

describe('symmetric eigendecomposition', () => {
  it('hand case: [[2,1],[1,2]] has eigenvalues 3 and 1', () => {
    const { values, vectors } = symmetricEigen(fromRows([[2, 1], [1, 2]]));
    expectClose(values, [3, 1], 1e-14);
    expect(Math.abs(vectors.data[0]!)).toBeCloseTo(Math.SQRT1_2, 14);
  });

  it.each([[40, 40], [120, 8], [200, 200], [200, 30]])('A·v = λ·v and orthonormal vectors (n=%i, k=%i)', (n, k) => {
    const A = tcrossprod(randomMatrix(n, n + 5, n));
    const { values, vectors } = symmetricEigen(A, { k });
    expect(vectors.cols).toBe(k);
    for (let c = 1; c < n; c++) expect(values[c - 1]!).toBeGreaterThanOrEqual(values[c]!);
    const AV = gemm(A, vectors);
    let worst = 0;
    for (let c = 0; c < k; c++) for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(AV.data[i * k + c]! - values[c]! * vectors.data[i * k + c]!));
    expect(worst / values[0]!).toBeLessThan(1e-12);
    const VtV = gemmTN(vectors, vectors);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) expect(Math.abs(VtV.data[a * k + b]! - (a === b ? 1 : 0))).toBeLessThan(1e-10);
  });

  // k ≤ n/4 takes the root-free QL (values only) where the full decomposition rotates vectors:
  // two algorithms, the same spectrum — indefinite, graded over 12 decades, and with a cluster.
  it.each([['indefinite', 0], ['graded', 1], ['clustered', 2]])('the values-only QL gives the full QL’s eigenvalues (%s)', (_name, kind) => {
    const n = 160;
    const Q = symmetricEigen(tcrossprod(randomMatrix(n, n, 91 + (kind as number)))).vectors; // a random orthonormal basis
    const lam = Array.from({ length: n }, (_, i) => (kind === 0 ? (i % 2 ? -1 : 1) * (1 + i) : kind === 1 ? 10 ** (-12 * i / (n - 1)) : i < 20 ? 3 + 1e-9 * i : 1 / (1 + i)));
    const A = zeros(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let v = 0;
      for (let c = 0; c < n; c++) v += Q.data[i * n + c]! * lam[c]! * Q.data[j * n + c]!;
      A.data[i * n + j] = v;
    }
    const full = symmetricEigen(A).values, top = symmetricEigen(A, { k: 20 }).values;
    const scale = Math.max(...lam.map(Math.abs));
    for (let c = 0; c < n; c++) expect(Math.abs(top[c]! - full[c]!)).toBeLessThan(1e-13 * n * scale);
    const sorted = [...lam].sort((a, b) => b - a);
    for (let c = 0; c < n; c++) expect(Math.abs(top[c]! - sorted[c]!)).toBeLessThan(1e-12 * n * scale);
  });

  it('handles repeated eigenvalues (identity block) with orthogonal vectors', () => {
    const n = 30;
    const A = zeros(n, n);
    for (let i = 0; i < n; i++) A.data[i * n + i] = i < 10 ? 5 : 1;
    const { values, vectors } = symmetricEigen(A, { k: 10 });
    expectClose(values.subarray(0, 10), new Float64Array(10).fill(5), 1e-13);
    const VtV = gemmTN(vectors, vectors);
    for (let a = 0; a < 10; a++) for (let b = 0; b < 10; b++) expect(Math.abs(VtV.data[a * 10 + b]! - (a === b ? 1 : 0))).toBeLessThan(1e-10);
  });
});

describe('symmetric eigendecomposition: rows layout, in place, kept workspace', () => {
  it.each([[150, 10], [150, 150], [333, 50], [40, 40]])('symmetricEigenRows and overwrite give symmetricEigen’s bits (n=%i, k=%i)', (n, k) => {
    const A = tcrossprod(randomMatrix(n, n + 3, n + k));
    const ref = symmetricEigen(A, { k });
    const rows = symmetricEigenRows(A, { k });
    expect(Array.from(rows.values)).toEqual(Array.from(ref.values));
    expect(Array.from(transpose(rows.rows).data)).toEqual(Array.from(ref.vectors.data));
    // Into the caller's scratch, whatever it held: the same bits, in its first k·n values.
    const out = new Float64Array(k * n + 5).fill(Number.NaN);
    const into = symmetricEigenRows(A, { k, rowsOut: out });
    expect(into.rows.data.buffer).toBe(out.buffer);
    expect(Array.from(into.rows.data)).toEqual(Array.from(rows.rows.data));
    expect(() => symmetricEigenRows(A, { k, rowsOut: new Float64Array(k * n - 1) })).toThrow(/rowsOut holds/);
    const scratch = { ...A, data: A.data.slice() };
    const inPlace = symmetricEigen(scratch, { k, overwrite: true });
    expect(Array.from(inPlace.values)).toEqual(Array.from(ref.values));
    expect(Array.from(inPlace.vectors.data)).toEqual(Array.from(ref.vectors.data));
    // The kept workspace is zeroed for each call: a second call on another matrix is as a first.
    const B = tcrossprod(randomMatrix(n, n + 1, 7));
    const b1 = symmetricEigen(B, { k });
    symmetricEigen(A, { k });
    expect(Array.from(symmetricEigen(B, { k }).vectors.data)).toEqual(Array.from(b1.vectors.data));
  });
});

describe('thin SVD', () => {
  it.each([[30, 50], [50, 30]])('reconstructs X = U·S·Vt (%i×%i)', (m, n) => {
    const X = randomMatrix(m, n, m + n);
    const { U, s, Vt } = thinSvd(X);
    const r = s.length;
    const US = zeros(m, r);
    for (let i = 0; i < m; i++) for (let c = 0; c < r; c++) US.data[i * r + c] = U.data[i * r + c]! * s[c]!;
    expectClose(gemm(US, Vt).data, X.data, 1e-9);
  });
});

describe('distances and statistics', () => {
  it('squared distances: hand case, zero diagonal, symmetry, no negatives', () => {
    const X = fromRows([[0, 0], [3, 4], [1, 1]]);
    const D = squaredDistances(X);
    expect(Array.from(D.data)).toEqual([0, 25, 2, 25, 0, 13, 2, 13, 0]);
    const Y = randomMatrix(50, 9, 1);
    const D2 = squaredDistances(Y);
    for (let i = 0; i < 50; i++) {
      expect(D2.data[i * 50 + i]).toBe(0);
      for (let j = 0; j < 50; j++) {
        expect(D2.data[i * 50 + j]).toBeGreaterThanOrEqual(0);
        expect(D2.data[i * 50 + j]).toBeCloseTo(D2.data[j * 50 + i]!, 12);
      }
    }
    expectClose(squaredDistancesBetween(Y, Y).data, D2.data, 1e-10);
  });

  it('squared distances into a kept buffer: every entry rewritten, the same values; a wrong shape refused', () => {
    const out = zeros(50, 50);
    out.data.fill(NaN);
    for (const seed of [2, 3]) {
      const Y = randomMatrix(50, 9, seed);
      expect(squaredDistances(Y, out)).toBe(out);
      expect(Array.from(out.data)).toEqual(Array.from(squaredDistances(Y).data));
    }
    expect(() => squaredDistances(randomMatrix(4, 3, 1), zeros(4, 5))).toThrow(/4×5, expected 4×4/);
  });

  it('squared distances = sklearn\'s (−2g + ‖xᵢ‖²) + ‖xⱼ‖² entry by entry, across tile edges', () => {
    for (const n of [1, 2, 5, 31, 32, 33, 70, 345]) {
      const X = randomMatrix(n, 13, n);
      X.data[0] = 1e8; // a large value, so rounding differs between the two addition orders
      const G = tcrossprod(X), nrm = rowSquaredNorms(X), D = squaredDistances(X);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const v = -2 * G.data[i * n + j]! + nrm[i]! + nrm[j]!;
          expect(D.data[i * n + j]).toBe(i === j ? 0 : v > 0 ? v : 0);
        }
      }
    }
  });

  it('cosine similarity of parallel and orthogonal rows', () => {
    const C = cosineSimilarity(fromRows([[1, 0], [2, 0], [0, 3]]));
    expectClose(C.data, [1, 1, 0, 1, 1, 0, 0, 0, 1], 1e-15);
  });

  it('column means/std, median and numpy-style percentiles', () => {
    const X = fromRows([[1, 10], [2, 20], [3, 60]]);
    expectClose(columnMeans(X), [2, 30], 1e-15);
    expectClose(columnStd(X), [Math.sqrt(2 / 3), Math.sqrt(((20 * 20) + (10 * 10) + (30 * 30)) / 3)], 1e-12);
    expect(median([5, 1, 3, 2])).toBe(2.5);
    // numpy.percentile([1, 2, 3, 4, 10], [5, 95]) == [1.2, 8.8]
    expect(percentile([1, 2, 3, 4, 10], 5)).toBeCloseTo(1.2, 14);
    expect(percentile([1, 2, 3, 4, 10], 95)).toBeCloseTo(8.8, 14);
  });
});
