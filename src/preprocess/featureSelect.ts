/**
 * Feature selection with pycytominer's `feature_select` semantics (pycytominer/feature_select.py
 * and pycytominer/operations/*). Operations run in the order given; each sees only the features
 * the previous ones kept (as pycytominer does), and statistics use the `samples` rows.
 *
 * - drop_na_columns: drop a feature whose fraction of missing values exceeds `naCutoff` (0.05).
 * - variance_threshold (pycytominer ≤ 1.x; `frequency_threshold` in 2.x): drop a feature when
 *   (second most common value count / most common value count) < `freqCut` (0.05), when it has
 *   fewer than two distinct values, or when (distinct values / rows) < `uniqueCut` (0.01).
 *   Either test suffices (pycytominer takes the union, unlike caret's nearZeroVar).
 * - min_variance (pycytominer 2.x `variance_threshold`): drop when the population variance
 *   (NaN skipped) < `minVariance` (default 1e-6). Passing `minVariance` without listing the
 *   operation runs it first.
 * - correlation_threshold: correlation matrix C (Pearson or Spearman, pandas semantics); every
 *   pair in the lower triangle with C > `corrThreshold` (signed, as pycytominer — strongly
 *   negative pairs are kept) loses the member with the larger Σ|C| over all features (the
 *   "determine_high_cor_pair" rule). Pairs are judged independently, so both members of a pair
 *   can go because of other pairs. Ties in Σ|C| keep the earlier column (pandas' unstable
 *   sort leaves them unspecified).
 * - blocklist: drop the listed features that are present.
 * - drop_outliers: drop a feature whose max or min absolute value exceeds `outlierCutoff` (500).
 * - noise_removal: drop a feature whose mean within-perturbation standard deviation exceeds
 *   `noiseRemovalStdevCutoff` (0.8): population std (ddof 0, NaN skipped) of the feature within
 *   each group of `noiseRemovalPerturbGroups` (a metadata column; rows with a missing group are
 *   left out, as pandas' groupby does), then the mean over groups — pycytominer's noise_removal.
 *
 * Every removed feature is reported with its reason; kept + removed = input.
 */
import type { Dropped, Profiles } from '../io/profiles.js';
import { cellString, getMeta, withFeatures } from '../io/profiles.js';
import { compactColsInPlace, takeCols, takeRows } from '../linalg/matrix.js';
import type { Matrix } from '../linalg/matrix.js';
import { InputError, UsageError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import { silentReporter } from '../util/log.js';
import { columnCorrelation, type CorrelationMethod } from './correlation.js';
import type { Query } from './query.js';
import { sampleRows } from './query.js';

export type FeatureSelectOperation =
  | 'drop_na_columns'
  | 'variance_threshold'
  | 'min_variance'
  | 'correlation_threshold'
  | 'blocklist'
  | 'drop_outliers'
  | 'noise_removal';

export const FEATURE_SELECT_OPERATIONS: readonly FeatureSelectOperation[] = [
  'drop_na_columns',
  'variance_threshold',
  'min_variance',
  'correlation_threshold',
  'blocklist',
  'drop_outliers',
  'noise_removal',
];

/** What runs when no operations are given. */
export const DEFAULT_FEATURE_SELECT_OPERATIONS: readonly FeatureSelectOperation[] = [
  'drop_na_columns',
  'variance_threshold',
  'correlation_threshold',
  'drop_outliers',
];

export interface FeatureSelectOptions {
  operations?: FeatureSelectOperation[];
  naCutoff?: number;
  freqCut?: number;
  uniqueCut?: number;
  minVariance?: number;
  corrThreshold?: number;
  corrMethod?: CorrelationMethod;
  blocklist?: string[];
  outlierCutoff?: number;
  /** noise_removal: metadata column naming each row's perturbation. */
  noiseRemovalPerturbGroups?: string;
  /** noise_removal: largest mean within-group standard deviation kept (default 0.8). */
  noiseRemovalStdevCutoff?: number;
  /** Rows used for the statistics: 'all' (default) or a metadata query. */
  samples?: 'all' | Query | string;
  /**
   * Compact the kept features within profiles.X's own storage instead of copying them (and narrow
   * the statistics table in place when it is the whole table), so a large table is held once;
   * profiles.X must not be used afterwards.
   */
  inPlace?: boolean;
  reporter?: Reporter;
}

export interface OperationReport {
  readonly operation: FeatureSelectOperation;
  readonly featuresIn: number;
  readonly removed: number;
}

export interface FeatureSelectReport {
  readonly featuresIn: number;
  /** Number of features kept. */
  readonly kept: number;
  readonly keptFeatures: string[];
  /** Every removed feature with its reason, in the order removed. */
  readonly removed: Dropped[];
  readonly operations: OperationReport[];
  /** Rows the statistics were computed on. */
  readonly nSamples: number;
  readonly warnings: string[];
}

function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e6 ? String(Number(x.toPrecision(4))) : x.toExponential(3);
}

function checkFraction(name: string, v: number): void {
  if (!(v >= 0 && v <= 1)) throw new UsageError(`feature-select: ${name} must be between 0 and 1, got ${v}`);
}

/** Column j of S (n × d) into buf, NaN dropped; returns the count. */
function columnValues(S: Matrix, j: number, buf: Float64Array): number {
  const { rows: n, cols: d, data } = S;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i * d + j]!;
    if (v === v) buf[k++] = v;
  }
  return k;
}

type Decide = (S: Matrix, names: string[]) => Map<number, string>;

function dropNa(cutoff: number): Decide {
  return (S) => {
    const { rows: n, cols: d, data } = S;
    const cnt = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) if (data[o + j] !== data[o + j]) cnt[j]++;
    }
    const out = new Map<number, string>();
    for (let j = 0; j < d; j++) {
      const p = cnt[j]! / n;
      if (p > cutoff) out.set(j, `missing in ${cnt[j]} of ${n} rows (${fmt(100 * p)}% > ${fmt(100 * cutoff)}%)`);
    }
    return out;
  };
}

function frequencyThreshold(freqCut: number, uniqueCut: number): Decide {
  return (S) => {
    const { rows: n, cols: d } = S;
    const buf = new Float64Array(n);
    const out = new Map<number, string>();
    for (let j = 0; j < d; j++) {
      const k = columnValues(S, j, buf);
      const s = buf.subarray(0, k).sort();
      // value_counts: the two largest run lengths and the number of distinct values.
      let first = 0, second = 0, distinct = 0;
      let i = 0;
      while (i < k) {
        let e = i + 1;
        while (e < k && s[e] === s[i]) e++;
        const c = e - i;
        distinct++;
        if (c > first) {
          second = first;
          first = c;
        } else if (c > second) second = c;
        i = e;
      }
      const reasons: string[] = [];
      if (distinct < 2) reasons.push(distinct === 0 ? 'no values' : 'a single distinct value');
      else if (second / first < freqCut) {
        reasons.push(`frequency ratio ${fmt(second / first)} < ${fmt(freqCut)} (second most common value ${second}×, most common ${first}×)`);
      }
      if (distinct / n < uniqueCut) reasons.push(`${distinct} distinct value(s) in ${n} rows (ratio ${fmt(distinct / n)} < ${fmt(uniqueCut)})`);
      if (reasons.length) out.set(j, `near-zero variance: ${reasons.join('; ')}`);
    }
    return out;
  };
}

function minVarianceOp(minVar: number): Decide {
  return (S) => {
    const { rows: n, cols: d } = S;
    const buf = new Float64Array(n);
    const out = new Map<number, string>();
    for (let j = 0; j < d; j++) {
      const k = columnValues(S, j, buf);
      if (k === 0) {
        out.set(j, 'variance undefined (no values)');
        continue;
      }
      let m = 0;
      for (let i = 0; i < k; i++) m += buf[i]!;
      m /= k;
      let c = 0;
      for (let i = 0; i < k; i++) c += buf[i]! - m;
      m += c / k;
      let ss = 0;
      for (let i = 0; i < k; i++) ss += (buf[i]! - m) ** 2;
      const v = ss / k;
      if (v < minVar) out.set(j, `variance ${fmt(v)} < ${fmt(minVar)}`);
    }
    return out;
  };
}

function correlationThreshold(threshold: number, method: CorrelationMethod): Decide {
  return (S, names) => {
    const d = S.cols;
    const C = columnCorrelation(S, method).data;
    // Σ|C| per feature (NaN skipped, diagonal included), then each feature's rank in ascending order.
    const sum = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      let t = 0;
      const o = j * d;
      for (let k = 0; k < d; k++) {
        const v = C[o + k]!;
        if (v === v) t += Math.abs(v);
      }
      sum[j] = t;
    }
    const order = Array.from({ length: d }, (_, j) => j).sort((a, b) => sum[a]! - sum[b]! || a - b);
    const pos = new Int32Array(d);
    order.forEach((j, p) => (pos[j] = p));
    const best = new Map<number, { r: number; partner: number }>();
    for (let a = 1; a < d; a++) {
      const o = a * d;
      for (let b = 0; b < a; b++) {
        const r = C[o + b]!;
        if (!(r > threshold)) continue;
        const drop = pos[a]! > pos[b]! ? a : b;
        const partner = drop === a ? b : a;
        const prev = best.get(drop);
        if (!prev || r > prev.r) best.set(drop, { r, partner });
      }
    }
    const out = new Map<number, string>();
    for (const [j, { r, partner }] of best) {
      out.set(j, `${method} correlation ${fmt(r)} > ${fmt(threshold)} with ${names[partner]} (the pair member with the larger total |correlation|)`);
    }
    return out;
  };
}

function blocklistOp(list: string[]): Decide {
  const set = new Set(list);
  return (S, names) => {
    const out = new Map<number, string>();
    names.forEach((f, j) => {
      if (set.has(f)) out.set(j, 'in the blocklist');
    });
    return out;
  };
}

function dropOutliers(cutoff: number): Decide {
  return (S) => {
    const { rows: n, cols: d, data } = S;
    const mx = new Float64Array(d).fill(NaN), mn = new Float64Array(d).fill(NaN);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) {
        const v = data[o + j]!;
        if (v !== v) continue;
        if (!(v <= mx[j]!)) mx[j] = v;
        if (!(v >= mn[j]!)) mn[j] = v;
      }
    }
    const out = new Map<number, string>();
    for (let j = 0; j < d; j++) {
      const big = Math.max(Math.abs(mx[j]!), Math.abs(mn[j]!));
      if (big > cutoff) out.set(j, `max |value| ${fmt(big)} > ${fmt(cutoff)}`);
    }
    return out;
  };
}

/** pycytominer's noise_removal on the statistics rows; `group[r]` is row r's group code (−1: none). */
function noiseRemoval(group: Int32Array, nGroups: number, cutoff: number): Decide {
  return (S) => {
    const { rows: n, cols: d, data } = S;
    const out = new Map<number, string>();
    const cnt = new Float64Array(nGroups), mean = new Float64Array(nGroups), m2 = new Float64Array(nGroups);
    for (let j = 0; j < d; j++) {
      cnt.fill(0);
      mean.fill(0);
      m2.fill(0);
      // Welford per group (stable, as pandas' grouped variance).
      for (let i = 0; i < n; i++) {
        const g = group[i]!;
        const v = data[i * d + j]!;
        if (g < 0 || v !== v) continue;
        const c = ++cnt[g]!;
        const delta = v - mean[g]!;
        mean[g] += delta / c;
        m2[g] += delta * (v - mean[g]!);
      }
      let sum = 0, k = 0;
      for (let g = 0; g < nGroups; g++) {
        if (cnt[g]! === 0) continue;
        sum += Math.sqrt(m2[g]! / cnt[g]!);
        k++;
      }
      const m = k ? sum / k : NaN;
      if (m > cutoff) out.set(j, `mean within-perturbation standard deviation ${fmt(m)} > ${fmt(cutoff)} (${k} groups)`);
    }
    return out;
  };
}

export function featureSelect(profiles: Profiles, opts: FeatureSelectOptions = {}): { profiles: Profiles; report: FeatureSelectReport } {
  const reporter = opts.reporter ?? silentReporter;
  const src = profiles.source ?? 'profiles';
  const ops: FeatureSelectOperation[] = [...(opts.operations ?? DEFAULT_FEATURE_SELECT_OPERATIONS)];
  for (const op of ops) {
    if (!FEATURE_SELECT_OPERATIONS.includes(op)) {
      throw new UsageError(`feature-select: unknown operation "${op}" (choose ${FEATURE_SELECT_OPERATIONS.join(', ')})`);
    }
  }
  if (opts.minVariance !== undefined && !ops.includes('min_variance')) ops.unshift('min_variance');
  const naCutoff = opts.naCutoff ?? 0.05;
  const freqCut = opts.freqCut ?? 0.05;
  const uniqueCut = opts.uniqueCut ?? 0.01;
  const corrThreshold = opts.corrThreshold ?? 0.9;
  const corrMethod = opts.corrMethod ?? 'pearson';
  const outlierCutoff = opts.outlierCutoff ?? 500;
  checkFraction('naCutoff', naCutoff);
  checkFraction('freqCut', freqCut);
  checkFraction('uniqueCut', uniqueCut);
  checkFraction('corrThreshold', corrThreshold);
  if (corrMethod !== 'pearson' && corrMethod !== 'spearman') {
    throw new UsageError(`feature-select: correlation method must be pearson or spearman, got "${String(corrMethod)}"`);
  }
  if (ops.includes('noise_removal') && !opts.noiseRemovalPerturbGroups) {
    throw new UsageError('feature-select: noise_removal needs the perturbation column (--noise-removal-perturb-groups)');
  }
  const noiseCutoff = opts.noiseRemovalStdevCutoff ?? 0.8;
  if (!(noiseCutoff >= 0)) throw new UsageError(`feature-select: the noise_removal cutoff must be ≥ 0, got ${noiseCutoff}`);
  if (ops.includes('blocklist') && !opts.blocklist) {
    throw new UsageError('feature-select: the blocklist operation needs a blocklist (a list of feature names)');
  }

  const rows = sampleRows(profiles, opts.samples);
  if (rows.length === 0) throw new InputError(`${src}: no rows to select features on`);
  let groupCodes = new Int32Array(0), nGroups = 0;
  if (ops.includes('noise_removal')) {
    const col = getMeta(profiles, opts.noiseRemovalPerturbGroups!);
    const index = new Map<string, number>();
    groupCodes = Int32Array.from(rows, (i) => {
      const v = cellString(col, i);
      if (v === null) return -1;
      let c = index.get(v);
      if (c === undefined) index.set(v, (c = index.size));
      return c;
    });
    nGroups = index.size;
  }
  // The statistics table: sample rows only; columns narrowed as operations remove features —
  // in place when the table is ours (a sample copy, or the whole table with inPlace), else copied.
  const allRows = rows.length === profiles.X.rows;
  let S = allRows ? profiles.X : takeRows(profiles.X, rows);
  const narrowInPlace = !allRows || !!opts.inPlace;
  let sCols: number[] = profiles.features.map((_, j) => j); // feature index of each column of S
  let alive: number[] = sCols;
  const removed: Dropped[] = [];
  const opReports: OperationReport[] = [];
  const warnings: string[] = [];

  for (const op of ops) {
    const decide: Decide =
      op === 'drop_na_columns'
        ? dropNa(naCutoff)
        : op === 'variance_threshold'
          ? frequencyThreshold(freqCut, uniqueCut)
          : op === 'min_variance'
            ? minVarianceOp(opts.minVariance ?? 1e-6)
            : op === 'correlation_threshold'
              ? correlationThreshold(corrThreshold, corrMethod)
              : op === 'blocklist'
                ? blocklistOp(opts.blocklist ?? [])
                : op === 'noise_removal'
                  ? noiseRemoval(groupCodes, nGroups, noiseCutoff)
                  : dropOutliers(outlierCutoff);
    if (alive.length !== sCols.length) {
      const at = new Map(sCols.map((j, c) => [j, c]));
      const pos = alive.map((j) => at.get(j)!);
      S = narrowInPlace ? compactColsInPlace(S, pos) : takeCols(S, pos);
      sCols = alive;
    }
    const names = alive.map((j) => profiles.features[j]!);
    const out = alive.length === 0 ? new Map<number, string>() : decide(S, names);
    const gone = [...out.keys()].sort((a, b) => a - b);
    for (const c of gone) removed.push({ kind: 'feature', name: names[c]!, reason: `${op}: ${out.get(c)}` });
    opReports.push({ operation: op, featuresIn: alive.length, removed: gone.length });
    if (op === 'blocklist') {
      const present = new Set(profiles.features);
      const absent = (opts.blocklist ?? []).filter((f) => !present.has(f)).length;
      if (absent) warnings.push(`${absent} blocklist entr${absent === 1 ? 'y is' : 'ies are'} not a feature of ${src}`);
    }
    const goneSet = new Set(gone);
    alive = alive.filter((_, c) => !goneSet.has(c));
  }
  if (alive.length === 0) throw new InputError(`${src}: feature selection removed every feature (${removed.length}); loosen the thresholds`);
  for (const w of warnings) reporter.warn(w);
  const keptFeatures = alive.map((j) => profiles.features[j]!);
  let X: Matrix;
  if (alive.length === profiles.features.length) X = profiles.X;
  else if (opts.inPlace && allRows) {
    // S is profiles.X's own storage, already narrowed to sCols ⊇ alive.
    const at = new Map(sCols.map((j, c) => [j, c]));
    X = compactColsInPlace(S, alive.map((j) => at.get(j)!));
  } else X = opts.inPlace ? compactColsInPlace(profiles.X, alive) : takeCols(profiles.X, alive);
  return {
    profiles: withFeatures(profiles, X, keptFeatures),
    report: {
      featuresIn: profiles.features.length,
      kept: alive.length,
      keptFeatures,
      removed,
      operations: opReports,
      nSamples: rows.length,
      warnings,
    },
  };
}
