/**
 * Feature selection with pycytominer's `feature_select` semantics (pycytominer/feature_select.py
 * and pycytominer/operations/*). Operations run in the order given; each sees only the features
 * the previous ones kept (as pycytominer does), and statistics use the `samples` rows.
 *
 * - drop_na_columns: drop a feature whose fraction of missing values exceeds `naCutoff` (0.05).
 * - frequency_threshold: drop a feature when
 *   (second most common value count / most common value count) < `freqCut` (0.05), when it has
 *   fewer than two distinct values, or when (distinct values / rows) < `uniqueCut` (0.01).
 *   Either test suffices (pycytominer takes the union, unlike caret's nearZeroVar).
 * - variance_threshold, also named min_variance: scikit-learn's VarianceThreshold, as
 *   pycytominer names it today: drop when the population variance (NaN skipped) < `minVariance`
 *   (default 1e-6). Passing `minVariance` without listing either name runs it first.
 *   phenomap ≤ 0.1 (and pycytominer before 2024) meant the freq_cut rule by variance_threshold;
 *   configs carry no version that would tell which meaning their author had, so the name takes
 *   today's meaning and every use of it is answered by a warning naming both (see
 *   VARIANCE_THRESHOLD_NOTICE); min_variance and frequency_threshold are unambiguous.
 * - correlation_threshold: correlation matrix C (Pearson or Spearman, pandas semantics); every
 *   pair in the lower triangle with C > `corrThreshold` (signed, as pycytominer — strongly
 *   negative pairs are kept) loses the member with the larger Σ|C| over all features (the
 *   "determine_high_cor_pair" rule). Pairs are judged independently, so both members of a pair
 *   can go because of other pairs. Features are ranked by Σ|C| as pandas' sort_values ranks
 *   them (numpy's introsort, util/argsort.ts), so exact ties are broken as in pycytominer.
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
import { argsortQuick } from '../util/argsort.js';
import { columnCorrelation, type CorrelationMethod } from './correlation.js';
import type { Query } from './query.js';
import { sampleRows } from './query.js';

export type FeatureSelectOperation =
  | 'drop_na_columns'
  | 'variance_threshold'
  | 'frequency_threshold'
  | 'min_variance'
  | 'correlation_threshold'
  | 'blocklist'
  | 'drop_outliers'
  | 'noise_removal';

export const FEATURE_SELECT_OPERATIONS: readonly FeatureSelectOperation[] = [
  'drop_na_columns',
  'variance_threshold',
  'frequency_threshold',
  'min_variance',
  'correlation_threshold',
  'blocklist',
  'drop_outliers',
  'noise_removal',
];

/** What runs when no operations are given. */
export const DEFAULT_FEATURE_SELECT_OPERATIONS: readonly FeatureSelectOperation[] = [
  'drop_na_columns',
  'frequency_threshold',
  'correlation_threshold',
  'drop_outliers',
];

/** The warning every use of the name variance_threshold gets (its meaning changed; see the file header). */
export const VARIANCE_THRESHOLD_NOTICE =
  "variance_threshold now means scikit-learn's VarianceThreshold, as in pycytominer: drop a feature whose variance is below min_variance (1e-6 unless set). " +
  'Before, phenomap meant the freq_cut/unique_cut rule by it: that rule is now frequency_threshold. Write min_variance or frequency_threshold to say which (and silence this)';

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

/** drop_na_columns' rule for one feature: `missing` of `n` rows are missing. */
export function naDecision(missing: number, n: number, cutoff: number): string | null {
  const p = missing / n;
  return p > cutoff ? `missing in ${missing} of ${n} rows (${fmt(100 * p)}% > ${fmt(100 * cutoff)}%)` : null;
}

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
      const r = naDecision(cnt[j]!, n, cutoff);
      if (r) out.set(j, r);
    }
    return out;
  };
}

/**
 * variance_threshold's rule for one feature from its value counts: the two largest counts of one
 * value, the number of distinct values (NaN not counted) and the number of rows.
 */
export function frequencyDecision(first: number, second: number, distinct: number, n: number, freqCut: number, uniqueCut: number): string | null {
  const reasons: string[] = [];
  if (distinct < 2) reasons.push(distinct === 0 ? 'no values' : 'a single distinct value');
  else if (second / first < freqCut) {
    reasons.push(`frequency ratio ${fmt(second / first)} < ${fmt(freqCut)} (second most common value ${second}×, most common ${first}×)`);
  }
  if (distinct / n < uniqueCut) reasons.push(`${distinct} distinct value(s) in ${n} rows (ratio ${fmt(distinct / n)} < ${fmt(uniqueCut)})`);
  return reasons.length ? `near-zero variance: ${reasons.join('; ')}` : null;
}

/** pandas' value_counts on sorted values: the two largest run lengths and the number of distinct values. */
export function valueCounts(sorted: Float64Array): [first: number, second: number, distinct: number] {
  const k = sorted.length;
  let first = 0, second = 0, distinct = 0, i = 0;
  while (i < k) {
    let e = i + 1;
    while (e < k && sorted[e] === sorted[i]) e++;
    const c = e - i;
    distinct++;
    if (c > first) {
      second = first;
      first = c;
    } else if (c > second) second = c;
    i = e;
  }
  return [first, second, distinct];
}

function frequencyThreshold(freqCut: number, uniqueCut: number): Decide {
  return (S) => {
    const { rows: n, cols: d } = S;
    const buf = new Float64Array(n);
    const out = new Map<number, string>();
    for (let j = 0; j < d; j++) {
      const k = columnValues(S, j, buf);
      const [first, second, distinct] = valueCounts(buf.subarray(0, k).sort());
      const r = frequencyDecision(first, second, distinct, n, freqCut, uniqueCut);
      if (r) out.set(j, r);
    }
    return out;
  };
}

/** min_variance's rule for one feature: `count` values with population variance `variance`. */
export function varianceDecision(count: number, variance: number, minVar: number): string | null {
  if (count === 0) return 'variance undefined (no values)';
  return variance < minVar ? `variance ${fmt(variance)} < ${fmt(minVar)}` : null;
}

function minVarianceOp(minVar: number): Decide {
  return (S) => {
    const { rows: n, cols: d } = S;
    const buf = new Float64Array(n);
    const out = new Map<number, string>();
    for (let j = 0; j < d; j++) {
      const k = columnValues(S, j, buf);
      if (k === 0) {
        out.set(j, varianceDecision(0, NaN, minVar)!);
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
      const r = varianceDecision(k, ss / k, minVar);
      if (r) out.set(j, r);
    }
    return out;
  };
}

/**
 * correlation_threshold's rule on a d × d correlation matrix C (row-major; NaN where undefined):
 * the features to drop, each with its reason.
 */
export function correlationDecisions(C: Float64Array, d: number, names: readonly string[], threshold: number, method: CorrelationMethod): Map<number, string> {
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
  // pandas' sort_values (numpy's quicksort): exact ties ranked as pycytominer ranks them.
  const order = argsortQuick(sum);
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
}

function correlationThreshold(threshold: number, method: CorrelationMethod): Decide {
  return (S, names) => correlationDecisions(columnCorrelation(S, method).data, S.cols, names, threshold, method);
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

/** drop_outliers' rule for one feature from its largest and smallest value (NaN: no values). */
export function outlierDecision(max: number, min: number, cutoff: number): string | null {
  const big = Math.max(Math.abs(max), Math.abs(min));
  return big > cutoff ? `max |value| ${fmt(big)} > ${fmt(cutoff)}` : null;
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
      const r = outlierDecision(mx[j]!, mn[j]!, cutoff);
      if (r) out.set(j, r);
    }
    return out;
  };
}

/**
 * noise_removal's rule for one feature from its per-group counts and centred sums of squares:
 * the mean over groups with values of the population standard deviation.
 */
export function noiseDecision(cnt: ArrayLike<number>, m2: ArrayLike<number>, nGroups: number, cutoff: number, stride = 1, offset = 0): string | null {
  let sum = 0, k = 0;
  for (let g = 0; g < nGroups; g++) {
    const c = cnt[g * stride + offset]!;
    if (c === 0) continue;
    sum += Math.sqrt(m2[g * stride + offset]! / c);
    k++;
  }
  const m = k ? sum / k : NaN;
  return m > cutoff ? `mean within-perturbation standard deviation ${fmt(m)} > ${fmt(cutoff)} (${k} groups)` : null;
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
      const r = noiseDecision(cnt, m2, nGroups, cutoff);
      if (r) out.set(j, r);
    }
    return out;
  };
}

/** The options with their defaults, checked once (bad values are UsageErrors naming them). */
export interface ResolvedFeatureSelectOptions {
  readonly operations: FeatureSelectOperation[];
  readonly naCutoff: number;
  readonly freqCut: number;
  readonly uniqueCut: number;
  readonly minVariance: number;
  readonly corrThreshold: number;
  readonly corrMethod: CorrelationMethod;
  readonly outlierCutoff: number;
  readonly noiseRemovalPerturbGroups?: string;
  readonly noiseRemovalStdevCutoff: number;
  readonly blocklist: string[];
}

export function resolveFeatureSelectOptions(opts: FeatureSelectOptions = {}): ResolvedFeatureSelectOptions {
  const ops: FeatureSelectOperation[] = [...(opts.operations ?? DEFAULT_FEATURE_SELECT_OPERATIONS)];
  for (const op of ops) {
    if (!FEATURE_SELECT_OPERATIONS.includes(op)) {
      throw new UsageError(`feature-select: unknown operation "${op}" (choose ${FEATURE_SELECT_OPERATIONS.join(', ')})`);
    }
  }
  if (opts.minVariance !== undefined && !ops.includes('min_variance') && !ops.includes('variance_threshold')) ops.unshift('min_variance');
  const r: ResolvedFeatureSelectOptions = {
    operations: ops,
    naCutoff: opts.naCutoff ?? 0.05,
    freqCut: opts.freqCut ?? 0.05,
    uniqueCut: opts.uniqueCut ?? 0.01,
    minVariance: opts.minVariance ?? 1e-6,
    corrThreshold: opts.corrThreshold ?? 0.9,
    corrMethod: opts.corrMethod ?? 'pearson',
    outlierCutoff: opts.outlierCutoff ?? 500,
    noiseRemovalPerturbGroups: opts.noiseRemovalPerturbGroups,
    noiseRemovalStdevCutoff: opts.noiseRemovalStdevCutoff ?? 0.8,
    blocklist: opts.blocklist ?? [],
  };
  checkFraction('naCutoff', r.naCutoff);
  checkFraction('freqCut', r.freqCut);
  checkFraction('uniqueCut', r.uniqueCut);
  checkFraction('corrThreshold', r.corrThreshold);
  if (r.corrMethod !== 'pearson' && r.corrMethod !== 'spearman') {
    throw new UsageError(`feature-select: correlation method must be pearson or spearman, got "${String(r.corrMethod)}"`);
  }
  if (ops.includes('noise_removal') && !opts.noiseRemovalPerturbGroups) {
    throw new UsageError('feature-select: noise_removal needs the perturbation column (--noise-removal-perturb-groups)');
  }
  if (!(r.noiseRemovalStdevCutoff >= 0)) throw new UsageError(`feature-select: the noise_removal cutoff must be ≥ 0, got ${r.noiseRemovalStdevCutoff}`);
  if (ops.includes('blocklist') && !opts.blocklist) {
    throw new UsageError('feature-select: the blocklist operation needs a blocklist (a list of feature names)');
  }
  return r;
}

/**
 * The operations in order over the features still alive: `decide(op, alive)` returns, for
 * positions in `alive`, the features the operation removes with their reasons. Shared by the
 * in-memory selection and the selection from merged partial statistics (featureStats.ts).
 */
export function runOperations(
  features: readonly string[], o: ResolvedFeatureSelectOptions, src: string,
  decide: (op: FeatureSelectOperation, alive: readonly number[], names: string[]) => Map<number, string>,
): { alive: number[]; removed: Dropped[]; operations: OperationReport[]; warnings: string[] } {
  let alive: number[] = features.map((_, j) => j);
  const removed: Dropped[] = [];
  const operations: OperationReport[] = [];
  const warnings: string[] = o.operations.includes('variance_threshold') ? [VARIANCE_THRESHOLD_NOTICE] : [];
  for (const op of o.operations) {
    const names = alive.map((j) => features[j]!);
    const out = alive.length === 0 ? new Map<number, string>() : op === 'blocklist' ? blocklistOp(o.blocklist)(EMPTY, names) : decide(op, alive, names);
    const gone = [...out.keys()].sort((a, b) => a - b);
    for (const c of gone) removed.push({ kind: 'feature', name: names[c]!, reason: `${op}: ${out.get(c)}` });
    operations.push({ operation: op, featuresIn: alive.length, removed: gone.length });
    if (op === 'blocklist') {
      const present = new Set(features);
      const absent = o.blocklist.filter((f) => !present.has(f)).length;
      if (absent) warnings.push(`${absent} blocklist entr${absent === 1 ? 'y is' : 'ies are'} not a feature of ${src}`);
    }
    const goneSet = new Set(gone);
    alive = alive.filter((_, c) => !goneSet.has(c));
  }
  if (alive.length === 0) throw new InputError(`${src}: feature selection removed every feature (${removed.length}); loosen the thresholds`);
  return { alive, removed, operations, warnings };
}

const EMPTY: Matrix = { rows: 0, cols: 0, data: new Float64Array(0) };

export function featureSelect(profiles: Profiles, opts: FeatureSelectOptions = {}): { profiles: Profiles; report: FeatureSelectReport } {
  const reporter = opts.reporter ?? silentReporter;
  const src = profiles.source ?? 'profiles';
  const o = resolveFeatureSelectOptions(opts);
  const rows = sampleRows(profiles, opts.samples);
  if (rows.length === 0) throw new InputError(`${src}: no rows to select features on`);
  let groupCodes = new Int32Array(0), nGroups = 0;
  if (o.operations.includes('noise_removal')) {
    const col = getMeta(profiles, o.noiseRemovalPerturbGroups!);
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

  const sel = runOperations(profiles.features, o, src, (op, alive, names) => {
    const decide: Decide =
      op === 'drop_na_columns'
        ? dropNa(o.naCutoff)
        : op === 'frequency_threshold'
          ? frequencyThreshold(o.freqCut, o.uniqueCut)
          : op === 'min_variance' || op === 'variance_threshold'
            ? minVarianceOp(o.minVariance)
            : op === 'correlation_threshold'
              ? correlationThreshold(o.corrThreshold, o.corrMethod)
              : op === 'noise_removal'
                ? noiseRemoval(groupCodes, nGroups, o.noiseRemovalStdevCutoff)
                : dropOutliers(o.outlierCutoff);
    if (alive.length !== sCols.length) {
      const at = new Map(sCols.map((j, c) => [j, c]));
      const pos = alive.map((j) => at.get(j)!);
      S = narrowInPlace ? compactColsInPlace(S, pos) : takeCols(S, pos);
      sCols = [...alive];
    }
    return decide(S, names);
  });
  const alive = sel.alive;
  for (const w of sel.warnings) reporter.warn(w);
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
      removed: sel.removed,
      operations: sel.operations,
      nSamples: rows.length,
      warnings: sel.warnings,
    },
  };
}
