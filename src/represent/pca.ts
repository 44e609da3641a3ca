/**
 * Principal component analysis, scikit-learn semantics (PCA with svd_solver='full'):
 * centre by the column means, thin SVD, signs fixed by svd_flip's U-based rule (the entry of
 * largest |U| in each component is positive), coordinates = U·S, explained variance S²/(n−1).
 * `nComponents` may be an integer or a variance fraction in (0, 1): the smallest k whose
 * cumulative explained-variance ratio exceeds the fraction (sklearn's searchsorted 'right' + 1).
 */
import {
  type Matrix, type StoredMatrix, zeros, columnMeans, thinSvdCentered, gemmNT, centeredProduct, transpose,
} from '../linalg/index.js';
import { InputError } from '../util/errors.js';

export interface PcaOptions {
  /** Integer number of components, or a fraction of variance in (0, 1). Default: min(n, d). */
  nComponents?: number;
}

export class PCA {
  readonly nComponentsRequested: number | undefined;
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
  }

  fit(X: StoredMatrix): this {
    this.fitInternal(X);
    return this;
  }

  /** Fit and return the training coordinates U·S (no second product with the data). */
  fitTransform(X: StoredMatrix): Matrix {
    this.fitInternal(X);
    const U = this.lastU!;
    const k = this.nComponents, r = U.cols;
    const out = zeros(X.rows, k);
    const s = this.singularValues!;
    for (let i = 0; i < X.rows; i++) {
      for (let c = 0; c < k; c++) out.data[i * k + c] = U.data[i * r + c]! * s[c]!;
    }
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
    const mean = columnMeans(X);
    // All singular values are needed for the variance ratio; vectors only for the kept ones.
    const fraction = req !== undefined && req < 1;
    const kWanted = req === undefined ? maxK : fraction ? maxK : req;
    // Centred SVD: a tall X is centred block by block, never copied whole.
    const { U, s, Vt, sumSquares } = thinSvdCentered(X, mean, kWanted);
    const total = sumSquares / (n - 1);
    const ev = new Float64Array(s.length);
    for (let c = 0; c < s.length; c++) ev[c] = (s[c]! * s[c]!) / (n - 1);
    let k = kWanted;
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
    // svd_flip, U-based: the largest-|U| entry of each component becomes positive.
    const r = U.cols;
    for (let c = 0; c < r; c++) {
      let best = -1, bi = 0;
      for (let i = 0; i < n; i++) {
        const a = Math.abs(U.data[i * r + c]!);
        if (a > best) {
          best = a;
          bi = i;
        }
      }
      if (U.data[bi * r + c]! < 0) {
        for (let i = 0; i < n; i++) U.data[i * r + c] = -U.data[i * r + c]!;
        for (let j = 0; j < d; j++) Vt.data[c * d + j] = -Vt.data[c * d + j]!;
      }
    }
    const comps = zeros(k, d);
    comps.data.set(Vt.data.subarray(0, k * d));
    this.mean = mean;
    this.components = comps;
    this.nComponents = k;
    this.singularValues = s.slice(0, k);
    this.explainedVariance = ev.slice(0, k);
    this.explainedVarianceRatio = ev.slice(0, k).map((v) => v / total);
    this.lastU = U;
  }
}
