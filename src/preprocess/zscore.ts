/**
 * The study's "mean variance normalisation" (spec pipeline.md §2): z-score every feature over
 * all rows with the population standard deviation (ddof 0, as numpy's `X.std(0)` and sklearn's
 * StandardScaler), after dropping features that have any non-finite value or zero variance
 * (max == min). Dropped features are returned, never silently lost.
 *
 * Means use the two-pass correction (correct to the last bits even when |mean| ≫ std); the
 * variance is the plain mean of squared deviations, numpy's formula. All passes run row-major
 * over every column at once.
 */
import type { Matrix } from '../linalg/matrix.js';
import { zeros } from '../linalg/matrix.js';
import type { Dropped, Profiles } from '../io/profiles.js';
import { withFeatures } from '../io/profiles.js';
import { InputError } from '../util/errors.js';

export interface ZScoreResult {
  /** n × kept.length, the z-scored kept columns in their original order. */
  readonly Z: Matrix;
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

export function zscore(X: Matrix): ZScoreResult {
  const { rows: n, cols: d, data } = X;
  // Pass 1 (row-major, all columns at once): finiteness, min/max and the plain sum.
  const min = new Float64Array(d).fill(Infinity);
  const max = new Float64Array(d).fill(-Infinity);
  const sum = new Float64Array(d);
  let nonFinite = 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const v = data[o + j]!;
      sum[j] += v;
      if (v < min[j]!) min[j] = v;
      if (v > max[j]!) max[j] = v;
      if (v - v !== 0) nonFinite++; // NaN and ±Infinity
    }
  }
  const finite = new Uint8Array(d).fill(1);
  if (nonFinite) {
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) if (!Number.isFinite(data[o + j]!)) finite[j] = 0;
    }
  }
  const kept: number[] = [];
  const dropped: number[] = [];
  const droppedReason: ('non-finite' | 'zero-variance')[] = [];
  for (let j = 0; j < d; j++) {
    if (!finite[j]) {
      dropped.push(j);
      droppedReason.push('non-finite');
    } else if (n === 0 || max[j] === min[j]) {
      dropped.push(j);
      droppedReason.push('zero-variance');
    } else kept.push(j);
  }
  // Pass 2: residual sums (the two-pass mean correction, as linalg's columnMeans) and centred
  // sums of squares — numpy's mean and population variance to the last bits.
  const mean0 = new Float64Array(d);
  for (let j = 0; j < d; j++) mean0[j] = sum[j]! / n;
  const res = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) res[j] += data[o + j]! - mean0[j]!;
  }
  const allMean = new Float64Array(d);
  for (let j = 0; j < d; j++) allMean[j] = mean0[j]! + res[j]! / n;
  const ss = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const t = data[o + j]! - allMean[j]!;
      ss[j] += t * t;
    }
  }
  const k = kept.length;
  const keptIdx = Int32Array.from(kept);
  const mean = new Float64Array(k);
  const std = new Float64Array(k);
  const inv = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const j = keptIdx[c]!;
    mean[c] = allMean[j]!;
    std[c] = Math.sqrt(ss[j]! / n);
    inv[c] = std[c]!;
  }
  // Pass 3: write Z (contiguous copy of the kept columns when nothing was dropped).
  const Z = zeros(n, k);
  const z = Z.data;
  if (k === d) {
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let c = 0; c < d; c++) z[o + c] = (data[o + c]! - mean[c]!) / inv[c]!;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = i * d;
      const oz = i * k;
      for (let c = 0; c < k; c++) z[oz + c] = (data[o + keptIdx[c]!]! - mean[c]!) / inv[c]!;
    }
  }
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
