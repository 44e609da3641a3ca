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
  /**
   * Why each dropped column went, parallel to `dropped`; 'unrepresentable': finite values whose
   * standard deviation exceeds the largest double (values near ±1.8e308 of both signs).
   */
  readonly droppedReason: ZScoreDropReason[];
}

export type ZScoreDropReason = 'non-finite' | 'zero-variance' | 'unrepresentable';

/** The words for a dropped feature's reason, as summary.json and the warnings give them. */
export const ZSCORE_DROP_WORDS: Record<ZScoreDropReason, string> = {
  'non-finite': 'has a missing or infinite value',
  'zero-variance': 'zero variance (all values equal)',
  unrepresentable: 'its standard deviation is larger than the largest double (1.8e308): z-scores cannot be represented',
};

/**
 * Mean and population standard deviation of column j computed on x / max|x| (so squares of values
 * up to 1.8e308 do not overflow), scaled back. The plain moments overflow at |x| ≳ 1e154.
 */
function scaledMoments(X: StoredMatrix, j: number): { mean: number; std: number; scale: number; meanScaled: number; stdScaled: number } {
  const { rows: n, cols: d, data } = X;
  let s = 0;
  for (let i = 0; i < n; i++) s = Math.max(s, Math.abs(data[i * d + j]!));
  let sum = 0;
  for (let i = 0; i < n; i++) sum += data[i * d + j]! / s;
  const m0 = sum / n;
  let r = 0, q = 0;
  for (let i = 0; i < n; i++) {
    const e = data[i * d + j]! / s - m0;
    r += e;
    q += e * e;
  }
  const meanScaled = m0 + r / n, stdScaled = Math.sqrt(Math.max(q - (r * r) / n, 0) / n);
  return { mean: meanScaled * s, std: stdScaled * s, scale: s, meanScaled, stdScaled };
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
  const droppedReason: ZScoreDropReason[] = [];
  // Finite columns whose plain moments overflowed (a value beyond ~1e154 squares to infinity):
  // computed again on scaled values; dropped by name only if the result itself is not representable.
  const rescued = new Map<number, ReturnType<typeof scaledMoments>>();
  for (let j = 0; j < d; j++) {
    if (!finite[j]) {
      dropped.push(j);
      droppedReason.push('non-finite');
    } else if (n === 0 || !varies[j]) {
      dropped.push(j);
      droppedReason.push('zero-variance');
    } else if (!Number.isFinite(sum[j]!) || !Number.isFinite(ss[j]!)) {
      const m = scaledMoments(X, j);
      if (Number.isFinite(m.mean) && Number.isFinite(m.std) && m.std > 0) {
        rescued.set(j, m);
        kept.push(j);
      } else {
        dropped.push(j);
        droppedReason.push('unrepresentable');
      }
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
    const big = rescued.get(j);
    if (big) {
      mean[c] = big.mean;
      std[c] = big.std;
      continue;
    }
    const r = res[j]!;
    mean[c] = mean0[j]! + r / n;
    std[c] = Math.sqrt(Math.max(ss[j]! - (r * r) / n, 0) / n);
  }
  const bigColumns = new Map<number, Float64Array>();
  for (const j of rescued.keys()) bigColumns.set(j, Float64Array.from({ length: n }, (_, i) => data[i * d + j]!));
  // Pass 3: write Z, in place (row i's kept values move to [i·k, (i+1)·k)) or into a new array.
  const z = opts.inPlace ? data : allocLike(data, n * k);
  standardizeColumns(X, keptIdx, mean, std, z);
  // Columns of huge values: x − mean itself may overflow (1.7e308 − (−0.9e308)), so their z-scores
  // are computed on the scaled values, from a copy taken before pass 3 (which may write over X).
  if (rescued.size) {
    for (let c = 0; c < k; c++) {
      const m = rescued.get(keptIdx[c]!);
      if (!m) continue;
      const x = bigColumns.get(keptIdx[c]!)!;
      for (let i = 0; i < n; i++) z[i * k + c] = (x[i]! / m.scale - m.meanScaled) / m.stdScaled;
    }
  }
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
    reason: ZSCORE_DROP_WORDS[r.droppedReason[t]!],
  }));
  return {
    profiles: withFeatures(p, r.Z, r.kept.map((j) => p.features[j]!)),
    report: { nRows: p.X.rows, kept: r.kept.length, dropped },
    mean: r.mean,
    std: r.std,
  };
}
