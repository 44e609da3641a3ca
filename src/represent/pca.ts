/**
 * Principal component analysis, scikit-learn semantics (PCA, scikit-learn 1.2): centre by the
 * column means, SVD, signs fixed by svd_flip's U-based rule (the entry of largest |U| in each
 * component is positive), coordinates = U·S, explained variance S²/(n−1). `nComponents` may be an
 * integer or a variance fraction in (0, 1): the smallest k whose cumulative explained-variance
 * ratio exceeds the fraction (sklearn's searchsorted 'right' + 1).
 *
 * Solvers. 'full' is exact (svd_solver='full': the thin SVD through the eigendecomposition of the
 * smaller Gram matrix, linalg/svd.ts). 'randomized' is the seeded randomized block Krylov method
 * of linalg/truncated.ts (Halko et al. 2011; Musco & Musco 2015), whose cost grows as n·d·k
 * instead of min(n, d)²·max(n, d). 'auto' chooses as sklearn's svd_solver='auto' does —
 * randomized for an integer k < 0.8·min(n, d), exact otherwise — except where phenomap's exact
 * solver is cheap: it works on the min(n, d)² Gram matrix, which below min(n, d) = 1,000 costs
 * less than the randomized products, so small or narrow tables (the LINCS plate, BBBC021, a
 * 384 × 5,792 plate) stay exact.
 */
import {
  type Matrix, type StoredMatrix, zeros, columnMeans, columnMeanM2, flipColumnSigns, thinSvdCentered, thinSvdCenteredRounded, centeredProduct, transpose,
  truncatedSvdCentered, gemmNT,
} from '../linalg/index.js';
import { InputError } from '../util/errors.js';

export type PcaSolver = 'auto' | 'full' | 'randomized' | 'gram';
export const PCA_SOLVERS: readonly PcaSolver[] = ['auto', 'full', 'randomized', 'gram'];
/** 'auto' takes the randomized solver only above this min(rows, features) (see the file header). */
export const PCA_RANDOMIZED_MIN_DIM = 1000;
/**
 * 'auto' takes the float32 Gram solver for a wide table only when max(rows, features) exceeds
 * this — where scikit-learn's svd_solver='auto' leaves its exact solver for the randomized one;
 * smaller tables stay exact, as there.
 */
export const PCA_GRAM_MIN_MAX_DIM = 500;

export interface PcaOptions {
  /** Integer number of components, or a fraction of variance in (0, 1). Default: min(n, d). */
  nComponents?: number;
  /**
   * 'auto' (default), 'full' (exact), 'randomized' or 'gram' (the float32 Gram solver for wide
   * tables; both integer nComponents only).
   */
  solver?: PcaSolver;
  /** Randomized solver: power (Krylov) iterations. Default 2. */
  iterations?: number;
  /** Randomized solver: columns beyond k in each block. Default 10. */
  oversamples?: number;
  /** Randomized solver: seed of the start block. Default 0. */
  seed?: number;
  /**
   * Randomized solver: arithmetic of the range finder's products with the table ('float32', the
   * default, or 'float64'; linalg/truncated.ts). The Ritz step and the coordinates are double.
   */
  rangePrecision?: 'float32' | 'float64';
}

export class PCA {
  readonly nComponentsRequested: number | undefined;
  readonly solverRequested: PcaSolver;
  readonly iterations: number;
  readonly oversamples: number;
  readonly seed: number;
  readonly rangePrecision: 'float32' | 'float64';
  /**
   * The solver the last fit used ('full' also when 'gram' was asked for but declined the table:
   * see linalg/svd.ts thinSvdCenteredRounded).
   */
  solver?: 'full' | 'randomized' | 'gram';
  mean?: Float64Array;
  /** k × d, rows are principal axes. */
  components?: Matrix;
  explainedVariance?: Float64Array;
  explainedVarianceRatio?: Float64Array;
  singularValues?: Float64Array;
  nComponents = 0;
  private lastU?: Matrix;

  constructor(opts: PcaOptions = {}) {
    this.nComponentsRequested = opts.nComponents;
    this.solverRequested = opts.solver ?? 'auto';
    this.iterations = opts.iterations ?? 2;
    this.oversamples = opts.oversamples ?? 10;
    this.seed = opts.seed ?? 0;
    this.rangePrecision = opts.rangePrecision ?? 'float32';
    if (!PCA_SOLVERS.includes(this.solverRequested)) throw new InputError(`PCA: solver must be one of ${PCA_SOLVERS.join(', ')}, got "${this.solverRequested}"`);
    if (!(Number.isInteger(this.iterations) && this.iterations >= 0)) throw new InputError(`PCA: iterations must be an integer ≥ 0, got ${this.iterations}`);
    if (!(Number.isInteger(this.oversamples) && this.oversamples >= 0)) throw new InputError(`PCA: oversamples must be an integer ≥ 0, got ${this.oversamples}`);
    if (this.rangePrecision !== 'float32' && this.rangePrecision !== 'float64') throw new InputError(`PCA: rangePrecision must be float32 or float64, got "${this.rangePrecision}"`);
  }

  /** The solver a fit on an n × d table would use. */
  chooseSolver(n: number, d: number): 'full' | 'randomized' | 'gram' {
    const req = this.nComponentsRequested;
    const integer = req !== undefined && req >= 1;
    if (this.solverRequested === 'full') return 'full';
    if (this.solverRequested === 'randomized' || this.solverRequested === 'gram') {
      if (!integer) throw new InputError(`PCA: the ${this.solverRequested} solver needs an integer number of components, got ${req ?? 'none (all)'}`);
      if (this.solverRequested === 'gram' && n > d) throw new InputError(`PCA: the gram solver is for tables with no more rows than features, got ${n} × ${d}`);
      return this.solverRequested;
    }
    const m = Math.min(n, d);
    if (!(integer && req! < 0.8 * m)) return 'full';
    if (m > PCA_RANDOMIZED_MIN_DIM) return 'randomized';
    return n <= d && d > PCA_GRAM_MIN_MAX_DIM ? 'gram' : 'full';
  }

  fit(X: StoredMatrix): this {
    this.fitInternal(X);
    this.lastU = undefined;
    return this;
  }

  /**
   * Fit and return the training coordinates: U·S for the exact solver (no second product with the
   * data, as sklearn); for the randomized one (X − mean)·Vᵀ, i.e. `transform` up to rounding — its
   * U·S is the projection on the Krylov space and differs from X·Vᵀ by the approximation's
   * residual, which would make training and held-out coordinates disagree. Here the mean enters as
   * a rank-one correction, X·Vᵀ − 1·(μ·Vᵀ), as in every product of the randomized solver itself:
   * no centred copy of the table is streamed through memory (a third of the product's time at
   * 7,360 × 5,792).
   */
  fitTransform(X: StoredMatrix): Matrix {
    this.fitInternal(X);
    if (this.solver === 'randomized') {
      this.lastU = undefined;
      const C = this.components!, mean = this.mean!;
      const k = C.rows, d = C.cols;
      const out = gemmNT(X, C);
      const shift = new Float64Array(k);
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += mean[j]! * C.data[c * d + j]!;
        shift[c] = s;
      }
      for (let i = 0; i < X.rows; i++) for (let c = 0; c < k; c++) out.data[i * k + c] -= shift[c]!;
      return out;
    }
    const out = scaledColumns(this.lastU!, this.singularValues!, this.nComponents);
    this.lastU = undefined;
    return out;
  }

  transform(X: StoredMatrix): Matrix {
    if (!this.components || !this.mean) throw new Error('PCA.transform called before fit');
    if (X.cols !== this.mean.length) {
      throw new InputError(`PCA.transform: data has ${X.cols} features, the model was fitted on ${this.mean.length}`);
    }
    return centeredProduct(X, this.mean, transpose(this.components));
  }

  private fitInternal(X: StoredMatrix): void {
    const n = X.rows, d = X.cols;
    if (n < 2) throw new InputError(`PCA needs at least 2 rows, got ${n}`);
    const req = this.nComponentsRequested;
    const maxK = Math.min(n, d);
    if (req !== undefined) {
      if (!(req > 0)) throw new InputError(`PCA: n_components must be > 0, got ${req}`);
      if (req >= 1 && (!Number.isInteger(req) || req > maxK)) {
        throw new InputError(`PCA: n_components=${req} must be an integer ≤ min(rows, features) = ${maxK}`);
      }
    }
    let solver = this.chooseSolver(n, d);
    // The randomized and Gram paths also need the total variance: with the means, from one pass over X.
    const moments = solver !== 'full' ? columnMeanM2(X) : undefined;
    let mean = moments ? moments.mean : columnMeans(X);
    const ss = moments ? moments.sumSquares : 0;
    // All singular values are needed for the variance ratio; vectors only for the kept ones.
    const fraction = req !== undefined && req < 1;
    const kWanted = req === undefined ? maxK : fraction ? maxK : req;
    let U: Matrix, s: Float64Array, Vt: Matrix, total: number;
    const gram = solver === 'gram' ? thinSvdCenteredRounded(X, mean, kWanted, ss) : null;
    if (gram) {
      ({ U, s, Vt } = gram);
      total = ss / (n - 1);
    } else if (solver === 'randomized') {
      // Centred SVD of X itself (no copy): products with X plus rank-one corrections.
      ({ U, s, Vt } = truncatedSvdCentered(X, mean, kWanted, { iterations: this.iterations, oversamples: this.oversamples, seed: this.seed, precision: this.rangePrecision }));
      total = ss / (n - 1);
    } else {
      // The Gram solver declines components below float32's resolution: then exactly 'full'.
      if (solver === 'gram') {
        solver = 'full';
        mean = columnMeans(X);
      }
      // Centred SVD: a tall X is centred block by block, never copied whole.
      const r = thinSvdCentered(X, mean, kWanted);
      ({ U, s, Vt } = r);
      total = r.sumSquares / (n - 1);
    }
    const ev = new Float64Array(s.length);
    for (let c = 0; c < s.length; c++) ev[c] = (s[c]! * s[c]!) / (n - 1);
    let k = Math.min(kWanted, s.length);
    if (fraction) {
      let cum = 0;
      k = s.length;
      for (let c = 0; c < s.length; c++) {
        cum += ev[c]! / total;
        if (cum > req!) {
          k = c + 1;
          break;
        }
      }
    }
    svdFlip(U, Vt);
    // The solvers return fresh k × d rows: kept as they are when all are wanted (no copy, no new pages).
    let comps = Vt;
    if (Vt.rows !== k) {
      comps = zeros(k, d);
      comps.data.set(Vt.data.subarray(0, k * d));
    }
    this.mean = mean;
    this.components = comps;
    this.nComponents = k;
    this.singularValues = s.slice(0, k);
    this.explainedVariance = ev.slice(0, k);
    this.explainedVarianceRatio = ev.slice(0, k).map((v) => v / total);
    this.solver = solver;
    this.lastU = U;
  }
}

/*
 * The loops below live in small functions of their own rather than in fitInternal / fitTransform:
 * V8 compiles a hot loop's function whole (on-stack replacement), and recompiling the long
 * fitInternal for them cost ≈ 50 ms of CPU over a process's first calls at 384 × 5,792.
 */

/** svd_flip, U-based: the largest-|U| entry of each component becomes positive (U n × r, Vt r × d). */
function svdFlip(U: Matrix, Vt: Matrix): void {
  const d = Vt.cols, v = Vt.data;
  const flipped = flipColumnSigns(U);
  for (let c = 0; c < U.cols; c++) if (flipped[c]) for (let j = 0; j < d; j++) v[c * d + j] = -v[c * d + j]!;
}

/**
 * The first k columns of U (n × r) scaled by s: the exact and Gram solvers' training coordinates
 * U·S. U is the solver's own fresh matrix, dropped afterwards: with every column kept it is scaled
 * in place and returned (no second n × k array, whose fresh pages a process's first calls fault in).
 */
function scaledColumns(U: Matrix, s: Float64Array, k: number): Matrix {
  const n = U.rows, r = U.cols;
  const out = r === k ? U : zeros(n, k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out.data[i * k + c] = U.data[i * r + c]! * s[c]!;
  return out;
}
