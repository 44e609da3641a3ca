/**
 * The study's "mean variance normalisation" (spec pipeline.md §2): z-score every feature over
 * all rows with the population standard deviation (ddof 0, as numpy's `X.std(0)` and sklearn's
 * StandardScaler), after dropping features that have any non-finite value or zero variance
 * (max == min). Dropped features are returned, never silently lost.
 *
 * Means use the two-pass correction (correct to the last bits even when |mean| ≫ std); the
 * variance is the mean of squared deviations (numpy's formula) by the corrected two-pass sum.
 * All passes run row-major over every column at once. Float32 storage is read and written as
 * float32 but every sum is float64; `inPlace` reuses X's storage for Z.
 */
import type { Matrix, StoredMatrix } from '../linalg/matrix.js';
import { allocLike } from '../linalg/matrix.js';
import { columnMoments, standardizeColumns } from '../linalg/columnStats.js';
import type { Dropped, Profiles } from '../io/profiles.js';
import { withFeatures } from '../io/profiles.js';
import { InputError } from '../util/errors.js';

export interface ZScoreResult<M extends StoredMatrix = Matrix> {
  /** n × kept.length, the z-scored kept columns in their original order (X's precision). */
  readonly Z: M;
  /** Mean of each kept column. */
  readonly mean: Float64Array;
  /** Population standard deviation of each kept column. */
  readonly std: Float64Array;
  /** Indices (into X's columns) of the kept columns, ascending. */
  readonly kept: number[];
  /** Indices of dropped columns, ascending. */
  readonly dropped: number[];
  /** Why each dropped column went, parallel to `dropped`. */
  readonly droppedReason: ('non-finite' | 'zero-variance')[];
}

export interface ZScoreOptions {
  /**
   * Write Z over X's own storage (kept columns compacted to the front of each row) instead of a
   * new matrix, so a large table is never held twice. X must not be used afterwards.
   */
  inPlace?: boolean;
}

export function zscore(X: Matrix, opts?: ZScoreOptions): ZScoreResult<Matrix>;
export function zscore(X: StoredMatrix, opts?: ZScoreOptions): ZScoreResult<StoredMatrix>;
export function zscore(X: StoredMatrix, opts: ZScoreOptions = {}): ZScoreResult<StoredMatrix> {
  const { rows: n, cols: d, data } = X;
  // Passes 1 and 2 (linalg/columnStats.ts, row-major over all columns at once, float64 whatever
  // the storage): each column's plain sum and whether it ever differs from its first value (zero
  // variance ⇔ max == min ⇔ never), then residuals r = Σ(x − m0) and squares Σ(x − m0)² about the
  // first-pass mean m0. Non-finite values need no test of their own: any NaN or ±Infinity makes
  // the column's sum non-finite, so only those columns are scanned again (an overflowing sum of
  // finite values is rescanned too and kept).
  const { sum, varies, mean0, res, ss } = columnMoments(X);
  const finite = new Uint8Array(d).fill(1);
  for (let j = 0; j < d; j++) {
    if (Number.isFinite(sum[j]!)) continue;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(data[i * d + j]!)) {
        finite[j] = 0;
        break;
      }
    }
  }
  const kept: number[] = [];
  const dropped: number[] = [];
  const droppedReason: ('non-finite' | 'zero-variance')[] = [];
  for (let j = 0; j < d; j++) {
    if (!finite[j]) {
      dropped.push(j);
      droppedReason.push('non-finite');
    } else if (n === 0 || !varies[j]) {
      dropped.push(j);
      droppedReason.push('zero-variance');
    } else kept.push(j);
  }
  // The corrected mean is m0 + r/n (the two-pass correction, as linalg's columnMeans) and the
  // centred sum of squares about it is Σ(x − m0)² − r²/n exactly (Chan, Golub & LeVeque's
  // corrected two-pass formula): numpy's mean and population variance to the last bits.
  const k = kept.length;
  const keptIdx = Int32Array.from(kept);
  const mean = new Float64Array(k);
  const std = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const j = keptIdx[c]!;
    const r = res[j]!;
    mean[c] = mean0[j]! + r / n;
    std[c] = Math.sqrt(Math.max(ss[j]! - (r * r) / n, 0) / n);
  }
  // Pass 3: write Z, in place (row i's kept values move to [i·k, (i+1)·k)) or into a new array.
  const z = opts.inPlace ? data : allocLike(data, n * k);
  standardizeColumns(X, keptIdx, mean, std, z);
  const Z = { rows: n, cols: k, data: z.length === n * k ? z : z.subarray(0, n * k) };
  return { Z, mean, std, kept, dropped, droppedReason };
}

export interface ZScoreReport {
  readonly nRows: number;
  readonly kept: number;
  readonly dropped: Dropped[];
}

/** z-score the features of a profile table; metadata is kept beside them untouched. */
export function zscoreProfiles(p: Profiles): { profiles: Profiles; report: ZScoreReport; mean: Float64Array; std: Float64Array } {
  if (p.X.rows < 2) throw new InputError(`${p.source ?? 'profiles'}: z-scoring needs at least 2 rows, have ${p.X.rows}`);
  const r = zscore(p.X);
  if (r.kept.length === 0) {
    throw new InputError(`${p.source ?? 'profiles'}: every feature has a non-finite value or zero variance; nothing left to z-score`);
  }
  const dropped: Dropped[] = r.dropped.map((j, t) => ({
    kind: 'feature',
    name: p.features[j]!,
    reason: r.droppedReason[t] === 'non-finite' ? 'has a missing or infinite value' : 'zero variance (all values equal)',
  }));
  return {
    profiles: withFeatures(p, r.Z, r.kept.map((j) => p.features[j]!)),
    report: { nRows: p.X.rows, kept: r.kept.length, dropped },
    mean: r.mean,
    std: r.std,
  };
}
