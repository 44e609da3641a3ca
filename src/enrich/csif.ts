/**
 * Community-specific image features (CSIF; spec pipeline.md §7): for cluster c with at least
 * `minSize` members and feature j, ratio[c,j] = Var(rows of c, j) / Var(all rows, j), population
 * variances (numpy `var`, two-pass: mean, then mean of squared deviations). Feature j is a CSIF
 * of c when ratio < threshold (the study: 0.01). Rows with label −1 are ignored.
 *
 * Small clusters pass almost trivially (two rows can agree closely on many features by chance),
 * so a warning names how many evaluated clusters have 2–3 members.
 */
import type { FeatureArray, StoredMatrix } from '../linalg/matrix.js';
import { InputError } from '../util/errors.js';

export interface CsifOptions {
  /** Variance-ratio threshold (default 0.01). */
  threshold?: number;
  /** Minimum cluster size evaluated (default 2, the study's). */
  minSize?: number;
}

export interface CsifCluster {
  cluster: number;
  size: number;
  /** CSIFs of the cluster in feature column order. */
  features: { feature: string; ratio: number }[];
}

export interface CsifResult {
  /** Evaluated clusters (size ≥ minSize), ascending cluster label. */
  perCluster: CsifCluster[];
  /** Feature → number of clusters in which it is a CSIF (only features that are a CSIF somewhere), column order. */
  featureCounts: Map<string, number>;
  /** Features with zero overall variance, skipped (their ratio is undefined). */
  skippedFeatures: string[];
  warnings: string[];
}

export function csif(Z: StoredMatrix, labels: Int32Array, featureNames: readonly string[], opts: CsifOptions = {}): CsifResult {
  const threshold = opts.threshold ?? 0.01;
  const minSize = opts.minSize ?? 2;
  const { rows: n, cols: d, data } = Z;
  if (labels.length !== n) throw new InputError(`csif: ${n} rows but ${labels.length} cluster labels`);
  if (featureNames.length !== d) throw new InputError(`csif: ${d} feature columns but ${featureNames.length} feature names`);
  if (!(threshold > 0)) throw new InputError(`csif: threshold must be > 0, got ${threshold}`);
  if (!Number.isInteger(minSize) || minSize < 2) throw new InputError(`csif: minSize must be an integer ≥ 2, got ${minSize}`);
  const warnings: string[] = [];

  const rowsUsed: number[] = [];
  for (let i = 0; i < n; i++) if (labels[i]! >= 0) rowsUsed.push(i);
  const overall = columnVariance(data, d, rowsUsed);
  const skipped: string[] = [];
  for (let j = 0; j < d; j++) {
    if (!Number.isFinite(overall[j]!)) throw new InputError(`csif: feature ${featureNames[j]} has non-finite values`);
    if (overall[j] === 0) skipped.push(featureNames[j]!);
  }
  if (skipped.length) warnings.push(`csif: ${skipped.length} features have zero variance over all rows and were skipped`);

  const members = new Map<number, number[]>();
  for (const i of rowsUsed) {
    const c = labels[i]!;
    let m = members.get(c);
    if (!m) members.set(c, (m = []));
    m.push(i);
  }
  const clusters = [...members.keys()].sort((a, b) => a - b);
  const perCluster: CsifCluster[] = [];
  const counts = new Int32Array(d);
  let small = 0;
  for (const c of clusters) {
    const idx = members.get(c)!;
    if (idx.length < minSize) continue;
    if (idx.length <= 3) small++;
    const v = columnVariance(data, d, idx);
    const features: CsifCluster['features'] = [];
    for (let j = 0; j < d; j++) {
      if (overall[j] === 0) continue;
      const ratio = v[j]! / overall[j]!;
      if (ratio < threshold) {
        features.push({ feature: featureNames[j]!, ratio });
        counts[j]!++;
      }
    }
    perCluster.push({ cluster: c, size: idx.length, features });
  }
  if (small) {
    warnings.push(`csif: ${small} of ${perCluster.length} evaluated clusters have only 2–3 members: CSIF is nearly trivial for them (raise minSize to exclude them)`);
  }
  const featureCounts = new Map<string, number>();
  for (let j = 0; j < d; j++) if (counts[j]) featureCounts.set(featureNames[j]!, counts[j]!);
  return { perCluster, featureCounts, skippedFeatures: skipped, warnings };
}

/** Population variance of every column over the given rows (two-pass, like numpy var). */
function columnVariance(data: FeatureArray, d: number, idx: readonly number[]): Float64Array {
  const m = idx.length;
  const mean = new Float64Array(d);
  const out = new Float64Array(d);
  if (m === 0) return out.fill(NaN);
  for (const i of idx) {
    const o = i * d;
    for (let j = 0; j < d; j++) mean[j] = mean[j]! + data[o + j]!;
  }
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / m;
  for (const i of idx) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const x = data[o + j]! - mean[j]!;
      out[j] = out[j]! + x * x;
    }
  }
  for (let j = 0; j < d; j++) out[j] = out[j]! / m;
  return out;
}
