/**
 * Full-width learners (issue 22): PCA's randomized and float32 Gram solvers against the exact one
 * (principal angles on real tables), LDA's span form against its direct form, ITML's factored metric against
 * the dense one — on the LINCS plate (bundled) and BBBC021 / the JUMP single cells (../shared).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { readProfiles } from '../../src/io/read.js';
import { bbbc021Recipe, BBBC021_FILES } from '../../src/io/recipes.js';
import { metaStrings, type Profiles } from '../../src/io/profiles.js';
import { zscore } from '../../src/preprocess/zscore.js';
import { PCA } from '../../src/represent/pca.js';
import { Lda, type LdaOptions } from '../../src/represent/lda.js';
import { Itml, ITML_DENSE_MAX_FEATURES } from '../../src/represent/itml.js';
import { type Matrix, type StoredMatrix, gemmNT, squaredDistances, symmetricEigen, tcrossprod, zeros } from '../../src/linalg/index.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/linalg/rng.js';
import { describeShared, examplePath, sharedPath } from '../helpers/shared.js';

const LINCS = examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz');
const JUMP = 'reference/singlecell/jump_target2_BR00121431_single_cells.csv.gz';

function maxAngleDeg(A: Matrix, B: Matrix): number {
  const { values } = symmetricEigen(tcrossprod(gemmNT(A, B)));
  return (Math.acos(Math.min(1, Math.sqrt(Math.max(0, values[values.length - 1]!)))) * 180) / Math.PI;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(a[i]!));
  }
  return m / s;
}

function labelled(p: Profiles, col = 'Metadata_moa'): { Z: Matrix; labels: (string | null)[] } {
  const { Z } = zscore(p.X);
  return { Z, labels: metaStrings(p, col).map((l) => (l && l !== 'DMSO' ? l : null)) };
}

describe('PCA solvers', () => {
  it('auto chooses as scikit-learn does, exact below min(n, d) = 1,000', () => {
    const p = new PCA({ nComponents: 50 });
    expect(p.chooseSolver(7360, 5792)).toBe('randomized');
    expect(p.chooseSolver(38400, 5792)).toBe('randomized');
    expect(p.chooseSolver(384, 5792)).toBe('gram'); // wide, max(n, d) > 500: scikit-learn would be randomized
    expect(p.chooseSolver(342, 454)).toBe('full'); // max(n, d) ≤ 500: exact, as scikit-learn
    expect(p.chooseSolver(632, 516)).toBe('full'); // tall
    expect(p.chooseSolver(1100, 60)).toBe('full'); // k ≥ 0.8·min(n, d)
    expect(new PCA({ nComponents: 0.9 }).chooseSolver(7360, 5792)).toBe('full');
    expect(new PCA({ nComponents: 50, solver: 'full' }).chooseSolver(7360, 5792)).toBe('full');
    expect(() => new PCA({ nComponents: 0.9, solver: 'randomized' }).chooseSolver(7360, 5792)).toThrow(InputError);
    expect(() => new PCA({ solver: 'lanczos' as never })).toThrow(/solver must be one of auto, full, randomized, gram/);
    expect(() => new PCA({ nComponents: 0.9, solver: 'gram' }).chooseSolver(384, 5792)).toThrow(/gram solver needs an integer/);
    expect(() => new PCA({ nComponents: 10, solver: 'gram' }).chooseSolver(632, 516)).toThrow(/no more rows than features, got 632 × 516/);
  });

  it('float32 Gram solver on the LINCS plate: within 0.05° of the exact one, variances to 1e-6, orthonormal, deterministic, float32 storage', async () => {
    const { Z } = labelled((await readProfiles(LINCS)).profiles);
    const exact = new PCA({ nComponents: 50, solver: 'full' });
    const Te = exact.fitTransform(Z);
    const g = new PCA({ nComponents: 50, solver: 'gram' });
    const T = g.fitTransform(Z);
    expect(g.solver).toBe('gram');
    expect(maxAngleDeg(exact.components!, g.components!)).toBeLessThan(0.05);
    expect(maxRelDiff(g.explainedVariance!, exact.explainedVariance!)).toBeLessThan(1e-6);
    expect(maxRelDiff(g.explainedVarianceRatio!, exact.explainedVarianceRatio!)).toBeLessThan(1e-6);
    // Same signs as the exact solver (svd_flip), so the coordinates agree entry by entry.
    expect(maxRelDiff(T.data, Te.data)).toBeLessThan(1e-4);
    expect(maxRelDiff(T.data, g.transform(Z).data)).toBeLessThan(1e-4);
    const C = gemmNT(g.components!, g.components!);
    let orth = 0;
    for (let a = 0; a < 50; a++) for (let b = 0; b < 50; b++) orth = Math.max(orth, Math.abs(C.data[a * 50 + b]! - (a === b ? 1 : 0)));
    expect(orth).toBeLessThan(1e-12);
    const again = new PCA({ nComponents: 50, solver: 'gram' });
    expect(Array.from(again.fitTransform(Z).data)).toEqual(Array.from(T.data));
    expect(Array.from(again.components!.data)).toEqual(Array.from(g.components!.data));
    const Z32: StoredMatrix = { rows: Z.rows, cols: Z.cols, data: Float32Array.from(Z.data) };
    const g32 = new PCA({ nComponents: 50, solver: 'gram' }).fit(Z32);
    expect(g32.solver).toBe('gram');
    expect(maxAngleDeg(g.components!, g32.components!)).toBeLessThan(0.05);
  });

  it('float32 Gram solver: ties, rank-deficient input and k ≥ rank (declined to the exact solver)', () => {
    // Rows built from 6 orthogonal directions with singular values 9, 9, 9, 4, 4, 1 (two ties),
    // plus tiny noise; 60 × 800.
    const n = 60, d = 800, rng = new Rng(11);
    const basis = zeros(6, d);
    rng.fillNormal(basis.data);
    const Q = zeros(6, d);
    for (let r = 0; r < 6; r++) {
      const v = basis.data.subarray(r * d, r * d + d);
      for (let q = 0; q < r; q++) {
        let dt = 0;
        for (let j = 0; j < d; j++) dt += v[j]! * Q.data[q * d + j]!;
        for (let j = 0; j < d; j++) v[j] -= dt * Q.data[q * d + j]!;
      }
      let nrm = 0;
      for (let j = 0; j < d; j++) nrm += v[j]! * v[j]!;
      for (let j = 0; j < d; j++) Q.data[r * d + j] = v[j]! / Math.sqrt(nrm);
    }
    const sv = [9, 9, 9, 4, 4, 1];
    const coef = zeros(n, 6);
    rng.fillNormal(coef.data);
    const X = zeros(n, d);
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < 6; r++) for (let j = 0; j < d; j++) X.data[i * d + j] += coef.data[i * 6 + r]! * sv[r]! * Q.data[r * d + j]!;
      for (let j = 0; j < d; j++) X.data[i * d + j] += 5 + 1e-9 * rng.normal();
    }
    // k = 5 closes both ties: the subspace is defined and the Gram solver finds it.
    const exact5 = new PCA({ nComponents: 5, solver: 'full' }).fit(X);
    const g5 = new PCA({ nComponents: 5, solver: 'gram' }).fit(X);
    expect(g5.solver).toBe('gram');
    expect(maxAngleDeg(exact5.components!, g5.components!)).toBeLessThan(1e-3);
    expect(maxRelDiff(g5.explainedVariance!, exact5.explainedVariance!)).toBeLessThan(1e-6);
    // Values whose float32 Gram entries would overflow: declined to the exact solver.
    const big = { ...X, data: X.data.map((v) => v * 1e20) };
    const pb = new PCA({ nComponents: 5, solver: 'gram' }).fit(big);
    expect(pb.solver).toBe('full');
    // k = 8 reaches beyond the rank (6): declined, and the exact solver's result to the bit.
    for (const solver of ['gram', 'auto'] as const) {
      const p = new PCA({ nComponents: 8, solver });
      const T = p.fitTransform(X);
      expect(p.solver).toBe('full');
      const f = new PCA({ nComponents: 8, solver: 'full' });
      expect(Array.from(T.data)).toEqual(Array.from(f.fitTransform(X).data));
      expect(Array.from(p.components!.data)).toEqual(Array.from(f.components!.data));
    }
  });

  it('randomized fitTransform (mean as a rank-one correction) = transform (centred blocks) on uncentred data', () => {
    // Columns with means of 10–1,000 and unit noise: the correction cancels large products.
    const n = 300, d = 120;
    const X = zeros(n, d);
    const rng = new Rng(5);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X.data[i * d + j] = 10 * (1 + (j % 100)) + rng.normal() * (1 + (j % 7));
    const p = new PCA({ nComponents: 10, solver: 'randomized' });
    const T = p.fitTransform(X);
    expect(maxRelDiff(T.data, p.transform(X).data)).toBeLessThan(1e-10);
    const X32: StoredMatrix = { rows: n, cols: d, data: Float32Array.from(X.data) };
    const p32 = new PCA({ nComponents: 10, solver: 'randomized' });
    expect(maxRelDiff(p32.fitTransform(X32).data, p32.transform(X32).data)).toBeLessThan(1e-10);
  });

  it('LINCS plate: the randomized subspace within 0.5° of the exact one, seeded, transform = fitTransform', async () => {
    const { Z } = labelled((await readProfiles(LINCS)).profiles);
    const exact = new PCA({ nComponents: 50, solver: 'full' }).fit(Z);
    const r = new PCA({ nComponents: 50, solver: 'randomized' });
    const T = r.fitTransform(Z);
    expect(r.solver).toBe('randomized');
    expect(maxAngleDeg(exact.components!, r.components!)).toBeLessThan(0.5);
    const ev = (p: PCA) => p.explainedVarianceRatio!.reduce((a, b) => a + b, 0);
    expect(Math.abs(ev(r) - ev(exact)) / ev(exact)).toBeLessThan(1e-5);
    expect(maxRelDiff(T.data, r.transform(Z).data)).toBeLessThan(1e-10);
    const again = new PCA({ nComponents: 50, solver: 'randomized' }).fit(Z);
    expect(Array.from(again.components!.data)).toEqual(Array.from(r.components!.data));
    // float32 storage: the same subspace
    const Z32: StoredMatrix = { rows: Z.rows, cols: Z.cols, data: Float32Array.from(Z.data) };
    expect(maxAngleDeg(r.components!, new PCA({ nComponents: 50, solver: 'randomized' }).fit(Z32).components!)).toBeLessThan(0.5);
    // The range finder in float32 (the default) and in float64: the same subspace to float32
    // rounding, 3 orders of magnitude below the method's own 0.15° here.
    const r64 = new PCA({ nComponents: 50, solver: 'randomized', rangePrecision: 'float64' }).fit(Z);
    expect(r.rangePrecision).toBe('float32');
    expect(maxAngleDeg(r.components!, r64.components!)).toBeLessThan(1e-3);
    expect(maxRelDiff(r.singularValues!, r64.singularValues!)).toBeLessThan(1e-6);
    expect(() => new PCA({ rangePrecision: 'float16' as never })).toThrow(/rangePrecision must be float32 or float64/);
  });
});

describeShared('PCA solvers on BBBC021 and the JUMP single cells', [...Object.values(BBBC021_FILES).map((f) => `data/${f}`), JUMP], () => {
  it('BBBC021 (632 × 516): within 0.5° (scikit-learn’s default randomized PCA: 1.98°)', async () => {
    const { Z } = zscore((await bbbc021Recipe(join(sharedPath('data')!))).profiles.X);
    const exact = new PCA({ nComponents: 50, solver: 'full' }).fit(Z);
    const r = new PCA({ nComponents: 50, solver: 'randomized' }).fit(Z);
    expect(maxAngleDeg(exact.components!, r.components!)).toBeLessThan(0.5);
  });

  it('JUMP single cells (125 × 5,790): the same subspace to 1e-4°; auto (the float32 Gram solver) to 0.05°', async () => {
    const { Z } = zscore((await readProfiles(sharedPath(JUMP)!)).profiles.X);
    const exact = new PCA({ nComponents: 50, solver: 'full' }).fit(Z);
    const r = new PCA({ nComponents: 50, solver: 'randomized' }).fit(Z);
    expect(maxAngleDeg(exact.components!, r.components!)).toBeLessThan(1e-4);
    const g = new PCA({ nComponents: 50 }).fit(Z);
    expect(g.solver).toBe('gram');
    expect(maxAngleDeg(exact.components!, g.components!)).toBeLessThan(0.05);
    expect(maxRelDiff(g.explainedVariance!, exact.explainedVariance!)).toBeLessThan(1e-6);
  });
});

/** Span and direct forms of LDA give the same representation (1e-8 of its largest entry). */
function expectSameLda(Z: Matrix, labels: (string | null)[], opts: LdaOptions): void {
  const direct = new Lda({ ...opts, solver: 'direct' }).fit(Z, labels);
  const span = new Lda({ ...opts, solver: 'span' }).fit(Z, labels);
  expect(direct.solver).toBe('direct');
  expect(span.solver).toBe('span');
  expect(span.shrinkage).toBe(direct.shrinkage);
  expect(maxRelDiff(direct.transform(Z).data, span.transform(Z).data)).toBeLessThan(1e-8);
  if (opts.nComponents !== undefined) {
    expect(maxRelDiff(direct.scalings!.data, span.scalings!.data)).toBeLessThan(1e-8);
    expect(maxRelDiff(direct.explainedVariance!, span.explainedVariance!)).toBeLessThan(1e-8);
  }
}

describe('LDA: the span form equals the direct form (LINCS plate, n = 342 < d = 454)', () => {
  let Z: Matrix, labels: (string | null)[], K: number;
  beforeAll(async () => {
    ({ Z, labels } = labelled((await readProfiles(LINCS)).profiles));
    K = new Set(labels.filter((l) => l !== null)).size;
  });
  it('lda-proj (Ledoit–Wolf), whitening, fixed and zero shrinkage', () => {
    expectSameLda(Z, labels, { nComponents: K - 1 });
    expectSameLda(Z, labels, {});
    expectSameLda(Z, labels, { nComponents: K - 1, shrinkage: 0.3 });
    expectSameLda(Z, labels, { nComponents: 5, shrinkage: 0 });
    expect(new Lda().fit(Z, labels).solver).toBe('span'); // auto: n < d
  });
  it('the whitening is symmetric: within-class covariance becomes the shrunk identity’s image, basis-free', () => {
    const a = new Lda({ solver: 'span' }).fit(Z, labels).transform(Z);
    // a second fit on the same rows in another column order gives the same coordinates permuted
    const d = Z.cols;
    const perm = Array.from({ length: d }, (_, j) => d - 1 - j);
    const Zp = zeros(Z.rows, d);
    for (let i = 0; i < Z.rows; i++) for (let j = 0; j < d; j++) Zp.data[i * d + j] = Z.data[i * d + perm[j]!]!;
    const b = new Lda({ solver: 'span' }).fit(Zp, labels).transform(Zp);
    let m = 0, s = 0;
    for (let i = 0; i < Z.rows; i++) for (let j = 0; j < d; j++) {
      m = Math.max(m, Math.abs(a.data[i * d + perm[j]!]! - b.data[i * d + j]!));
      s = Math.max(s, Math.abs(a.data[i * d + j]!));
    }
    expect(m / s).toBeLessThan(1e-8);
  });
});

describeShared('LDA: span equals direct on BBBC021 (n = 302 < d = 516)', Object.values(BBBC021_FILES).map((f) => `data/${f}`), () => {
  it('lda-proj, whitening, zero shrinkage', async () => {
    const { Z, labels } = labelled((await bbbc021Recipe(sharedPath('data')!)).profiles);
    const K = new Set(labels.filter((l) => l !== null)).size;
    expectSameLda(Z, labels, { nComponents: K - 1 });
    expectSameLda(Z, labels, {});
    expectSameLda(Z, labels, { nComponents: K - 1, shrinkage: 0 });
  });
});

describe('ITML at full width: the factored metric', () => {
  it('equals the dense metric, gives the same distances, and stays unformed until read', async () => {
    const { Z, labels } = labelled((await readProfiles(LINCS)).profiles);
    const opts = { numConstraints: 20, bounds: 'metric-learn' as const, seed: 0 };
    const dense = new Itml({ ...opts, metricForm: 'dense' }).fit(Z, labels);
    const fact = new Itml({ ...opts, metricForm: 'factored' }).fit(Z, labels);
    expect(dense.factored).toBe(false);
    expect(fact.factored).toBe(true);
    expect(fact.nSweeps).toBe(dense.nSweeps);
    expect(maxRelDiff(dense.metric!.data, fact.metric!.data)).toBeLessThan(1e-12);
    const a = squaredDistances(dense.transform(Z)), b = squaredDistances(fact.transform(Z));
    expect(maxRelDiff(a.data, b.data)).toBeLessThan(1e-8);
    // Cholesky components, when asked for, are metric-learn's
    expect(maxRelDiff(dense.components!.data, fact.components!.data)).toBeLessThan(1e-8);
  });

  it(`auto factors M above ${ITML_DENSE_MAX_FEATURES} features, and transform keeps float32 storage in transformLowRank`, () => {
    const rng = new Rng(3);
    const n = 40, d = ITML_DENSE_MAX_FEATURES + 1;
    const X = zeros(n, d);
    rng.fillNormal(X.data);
    const labels = Array.from({ length: n }, (_, i) => `c${i % 4}`);
    const itml = new Itml({ numConstraints: 10, seed: 1 }).fit(X, labels);
    expect(itml.factored).toBe(true);
    const X32 = { rows: n, cols: d, data: Float32Array.from(X.data) };
    expect(itml.transformLowRank(X32).data).toBeInstanceOf(Float32Array);
    const narrow = new Itml({ numConstraints: 10, seed: 1 }).fit({ rows: n, cols: 50, data: X.data.slice(0, n * 50) }, labels);
    expect(narrow.factored).toBe(false);
  });
});
