/**
 * Feature normalisation relative to reference rows, with pycytominer's `normalize` semantics
 * (pycytominer/normalize.py): statistics are fitted on the reference rows (all rows, or the
 * rows matching a metadata query such as `Metadata_pert_type == control`) and applied to every
 * row; with `strata` (e.g. ['Metadata_Plate']) each stratum is fitted and transformed on its own.
 *
 * - standardize: (x − mean) / std, population std — sklearn StandardScaler. A (near-)constant
 *   reference feature gets scale 1 as sklearn does (its `_is_constant_feature` bound); such
 *   features are listed in the report's `zeroScale`.
 * - robustize: (x − median) / (q75 − q25), numpy linear quantiles — sklearn RobustScaler
 *   (scale < 10·ε → 1, listed in `zeroScale`).
 * - mad_robustize: (x − median) / (1.4826·MAD + ε), ε = 1e-18 — pycytominer's RobustMAD. A zero
 *   MAD divides by ε exactly as pycytominer does (huge values that `drop_outliers` removes
 *   later); the feature is listed in `zeroScale` and a warning is added.
 * - spherize: see spherize.ts (ZCA on the reference rows, ε = 1e-6).
 * - inverse_normal: rank-based inverse normal transform — pycytominer's InverseNormalTransform,
 *   i.e. sklearn QuantileTransformer(output_distribution='normal', n_quantiles = min(1000,
 *   reference rows)): per feature the reference quantiles at linspace(0, 1, n_quantiles) (numpy
 *   linear percentiles, made non-decreasing), each value mapped to its quantile rank (the mean of
 *   the upward and downward interpolations, so tied values get the middle rank), values within
 *   1e-7 of the extremes to 0 / 1, then Φ⁻¹, clipped to Φ⁻¹(1e-7 − 2⁻⁵²) and its mirror.
 *   Deterministic: sklearn draws a random subsample of 10,000 reference rows when there are
 *   more (random_state None in pycytominer), phenomap uses them all.
 *
 * Missing values (NaN) are skipped when fitting (pandas/sklearn) and stay missing in the output;
 * their count is reported. A feature whose statistics are undefined in some stratum (no value
 * among its reference rows) or that holds an infinite value is dropped and reported.
 */
import type { Dropped, Profiles } from '../io/profiles.js';
import { withFeatures } from '../io/profiles.js';
import { compactColsInPlace, takeCols, takeRows, zeros } from '../linalg/matrix.js';
import type { Matrix } from '../linalg/matrix.js';
import { InputError, UsageError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import { silentReporter } from '../util/log.js';
import type { Query } from './query.js';
import { parseQuery, queryRows } from './query.js';
import { applySpherize, fitSpherize, type SpherizeMethod } from './spherize.js';
import { gatherSorted, groupLabel, groupRows, madAround, medianSorted, normalQuantile, quantileSorted } from './stats.js';

export type NormalizeMethod = 'standardize' | 'robustize' | 'mad_robustize' | 'spherize' | 'inverse_normal';
export const NORMALIZE_METHODS: readonly NormalizeMethod[] = ['standardize', 'robustize', 'mad_robustize', 'spherize', 'inverse_normal'];

export interface NormalizeOptions {
  method: NormalizeMethod;
  /** Reference rows: 'all' (default) or a metadata query (string or parsed). */
  samples?: 'all' | Query | string;
  /** Metadata columns; each combination of their values is normalised separately. */
  strata?: string[];
  /** Added to 1.4826·MAD (pycytominer's default 1e-18). */
  madEpsilon?: number;
  spherizeEpsilon?: number;
  spherizeMethod?: SpherizeMethod;
  spherizeCenter?: boolean;
  /** inverse_normal: number of quantile landmarks (default 1000, capped at the reference rows). */
  inverseNormalQuantiles?: number;
  /**
   * Write the result over profiles.X (dropped features compacted away) instead of a new matrix,
   * so a large table is held once; profiles.X must not be used afterwards. Ignored by spherize,
   * whose output mixes features.
   */
  inPlace?: boolean;
  reporter?: Reporter;
}

export interface StratumReport {
  /** "Metadata_Plate=SQ00015054" (or "all rows"). */
  readonly label: string;
  readonly nRows: number;
  /** Reference rows used for fitting in this stratum. */
  readonly nReference: number;
}

export interface NormalizeReport {
  readonly method: NormalizeMethod;
  /** 'all' or the query text. */
  readonly samples: string;
  readonly strata: StratumReport[];
  readonly nRows: number;
  readonly featuresIn: number;
  readonly featuresOut: number;
  readonly droppedFeatures: Dropped[];
  /** Features whose reference scale was zero (see the method notes), with their stratum. */
  readonly zeroScale: { feature: string; stratum: string }[];
  /** Missing (NaN) input cells, passed through as missing. */
  readonly missingCells: number;
  readonly warnings: string[];
}

const EPS = 2.220446049250313e-16;

interface Fitted {
  center: Float64Array;
  scale: Float64Array;
  /** 1 when the feature's statistics are undefined in this stratum. */
  undefinedStat: Uint8Array;
  zero: Uint8Array;
}

/** Center/scale statistics of the reference rows for the three element-wise methods. */
function fitCenterScale(X: Matrix, ref: Int32Array, method: Exclude<NormalizeMethod, 'spherize'>, madEps: number): Fitted {
  const { cols: d, data } = X;
  const center = new Float64Array(d);
  const scale = new Float64Array(d);
  const undefinedStat = new Uint8Array(d);
  const zero = new Uint8Array(d);
  if (method === 'standardize') {
    // Two passes with NaN skipped: mean, then residual correction and squared deviations.
    const cnt = new Float64Array(d), sum = new Float64Array(d);
    for (let r = 0; r < ref.length; r++) {
      const o = ref[r]! * d;
      for (let j = 0; j < d; j++) {
        const v = data[o + j]!;
        if (v === v) {
          cnt[j]++;
          sum[j] += v;
        }
      }
    }
    for (let j = 0; j < d; j++) center[j] = cnt[j]! > 0 ? sum[j]! / cnt[j]! : NaN;
    const res = new Float64Array(d), ss = new Float64Array(d);
    for (let r = 0; r < ref.length; r++) {
      const o = ref[r]! * d;
      for (let j = 0; j < d; j++) {
        const v = data[o + j]!;
        if (v === v) res[j] += v - center[j]!;
      }
    }
    for (let j = 0; j < d; j++) if (cnt[j]! > 0) center[j] += res[j]! / cnt[j]!;
    for (let r = 0; r < ref.length; r++) {
      const o = ref[r]! * d;
      for (let j = 0; j < d; j++) {
        const v = data[o + j]!;
        if (v === v) {
          const t = v - center[j]!;
          ss[j] += t * t;
        }
      }
    }
    for (let j = 0; j < d; j++) {
      const n = cnt[j]!;
      if (n === 0) {
        undefinedStat[j] = 1;
        continue;
      }
      if (!Number.isFinite(center[j]!) || !Number.isFinite(ss[j]!) || !Number.isFinite((n * center[j]! * EPS) ** 2)) {
        // Finite values too large for the plain sums (their squares overflow beyond ~1e154): the
        // same statistics on x / max|x|, scaled back (infinite values were dropped before this).
        scaledStandardize(data, d, j, ref, center, scale, zero);
        continue;
      }
      const v = ss[j]! / n;
      const m = center[j]!;
      // sklearn's _is_constant_feature: variance within rounding error of zero.
      const bound = n * EPS * v + (n * m * EPS) ** 2;
      if (v <= bound) {
        zero[j] = 1;
        scale[j] = 1;
      } else scale[j] = Math.sqrt(v);
    }
    return { center, scale, undefinedStat, zero };
  }
  const buf = new Float64Array(ref.length);
  const tmp = new Float64Array(ref.length);
  for (let j = 0; j < d; j++) {
    const k = gatherSorted(data, d, j, ref, buf);
    if (k === 0) {
      undefinedStat[j] = 1;
      continue;
    }
    const med = medianSorted(buf, k);
    center[j] = med;
    if (method === 'robustize') {
      const iqr = quantileSorted(buf, k, 0.75) - quantileSorted(buf, k, 0.25);
      if (iqr < 10 * EPS) {
        zero[j] = 1;
        scale[j] = 1;
      } else scale[j] = iqr;
    } else {
      const mad = madAround(buf, k, med, tmp);
      if (mad === 0) zero[j] = 1;
      scale[j] = 1.4826 * mad + madEps;
    }
  }
  return { center, scale, undefinedStat, zero };
}

/** standardize's mean, std and constancy test for column j computed on x / max|x| (huge finite values). */
function scaledStandardize(data: Float64Array, d: number, j: number, ref: Int32Array, center: Float64Array, scale: Float64Array, zero: Uint8Array): void {
  let s = 0, n = 0, sum = 0;
  for (let r = 0; r < ref.length; r++) {
    const v = data[ref[r]! * d + j]!;
    if (v === v) s = Math.max(s, Math.abs(v));
  }
  for (let r = 0; r < ref.length; r++) {
    const v = data[ref[r]! * d + j]!;
    if (v === v) {
      n++;
      sum += v / s;
    }
  }
  let m = sum / n, res = 0;
  for (let r = 0; r < ref.length; r++) {
    const v = data[ref[r]! * d + j]!;
    if (v === v) res += v / s - m;
  }
  m += res / n;
  let ss = 0;
  for (let r = 0; r < ref.length; r++) {
    const v = data[ref[r]! * d + j]!;
    if (v === v) ss += (v / s - m) ** 2;
  }
  const v = ss / n;
  center[j] = m * s;
  if (v <= n * EPS * v + (n * m * EPS) ** 2) {
    zero[j] = 1;
    scale[j] = 1;
  } else scale[j] = Math.sqrt(v) * s;
}

const BOUNDS_THRESHOLD = 1e-7;
const CLIP = normalQuantile(BOUNDS_THRESHOLD - EPS);

/** numpy.interp(x, xp, fp) for increasing (possibly repeated) xp, as numpy's C loop computes it. */
function interp(x: number, xp: Float64Array, fp: Float64Array, n: number): number {
  if (x < xp[0]!) return fp[0]!;
  if (x > xp[n - 1]!) return fp[n - 1]!;
  if (x === xp[n - 1]) return fp[n - 1]!;
  let lo = 0, hi = n; // first index with xp > x
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xp[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  const j = lo - 1;
  if (xp[j] === x) return fp[j]!;
  const slope = (fp[j + 1]! - fp[j]!) / (xp[j + 1]! - xp[j]!);
  let r = slope * (x - xp[j]!) + fp[j]!;
  if (r !== r) {
    r = slope * (x - xp[j + 1]!) + fp[j + 1]!;
    if (r !== r && fp[j] === fp[j + 1]) r = fp[j]!;
  }
  return r;
}

/**
 * Fit and apply the inverse normal transform of one stratum: quantiles from the reference rows,
 * every row of the stratum transformed. Returns the features with no reference value.
 */
function inverseNormalStratum(X: Matrix, out: Float64Array, ref: Int32Array, rows: ArrayLike<number>, nQuantiles: number): Uint8Array {
  const { cols: d, data } = X;
  const nq = Math.max(1, Math.min(nQuantiles, ref.length));
  const refs = new Float64Array(nq);
  for (let k = 0; k < nq; k++) refs[k] = nq > 1 ? k * (1 / (nq - 1)) : 0;
  if (nq > 1) refs[nq - 1] = 1;
  const negRefsRev = new Float64Array(nq);
  for (let k = 0; k < nq; k++) negRefsRev[k] = -refs[nq - 1 - k]!;
  const buf = new Float64Array(ref.length);
  const qs = new Float64Array(nq), negQsRev = new Float64Array(nq);
  const undefinedStat = new Uint8Array(d);
  for (let j = 0; j < d; j++) {
    const k = gatherSorted(data, d, j, ref, buf);
    if (k === 0) {
      undefinedStat[j] = 1;
      continue;
    }
    // np.nanpercentile(col, refs * 100): the percentile goes through ×100 and ÷100 as numpy does.
    for (let t = 0; t < nq; t++) qs[t] = quantileSorted(buf, k, (refs[t]! * 100) / 100);
    for (let t = 1; t < nq; t++) if (qs[t]! < qs[t - 1]!) qs[t] = qs[t - 1]!;
    for (let t = 0; t < nq; t++) negQsRev[t] = -qs[nq - 1 - t]!;
    const lo = qs[0]!, hi = qs[nq - 1]!;
    for (let r = 0; r < rows.length; r++) {
      const o = rows[r]! * d + j;
      const x = data[o]!;
      if (x !== x) {
        out[o] = NaN;
        continue;
      }
      let u = 0.5 * (interp(x, qs, refs, nq) - interp(-x, negQsRev, negRefsRev, nq));
      if (x + BOUNDS_THRESHOLD > hi) u = 1;
      if (x - BOUNDS_THRESHOLD < lo) u = 0;
      const z = normalQuantile(u);
      out[o] = z < CLIP ? CLIP : z > -CLIP ? -CLIP : z;
    }
  }
  return undefinedStat;
}

function featureHasInfinity(X: Matrix): Uint8Array {
  const { rows: n, cols: d, data } = X;
  const inf = new Uint8Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const v = data[o + j]!;
      if (v === Infinity || v === -Infinity) inf[j] = 1;
    }
  }
  return inf;
}

export function normalize(profiles: Profiles, opts: NormalizeOptions): { profiles: Profiles; report: NormalizeReport } {
  const method = opts.method;
  if (!NORMALIZE_METHODS.includes(method)) {
    throw new UsageError(`normalize: unknown method "${String(method)}" (choose ${NORMALIZE_METHODS.join(', ')})`);
  }
  const reporter = opts.reporter ?? silentReporter;
  const src = profiles.source ?? 'profiles';
  const X = profiles.X;
  const { rows: n, cols: d, data } = X;
  if (n === 0) throw new InputError(`${src}: no rows to normalise`);
  if (d === 0) throw new InputError(`${src}: no feature columns to normalise`);
  const query: Query | undefined =
    opts.samples === undefined || opts.samples === 'all' ? undefined : typeof opts.samples === 'string' ? parseQuery(opts.samples) : opts.samples;
  const refMask = new Uint8Array(n);
  if (query) for (const i of queryRows(profiles, query)) refMask[i] = 1;
  else refMask.fill(1);

  const groups = groupRows(profiles, opts.strata ?? []);
  const warnings: string[] = [];
  if (groups.missingKeyGroups > 0) {
    warnings.push(`${groups.missingKeyGroups} stratum/strata have a missing ${groups.columns.join('/')} value; they are normalised as their own group`);
  }
  let missingCells = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== data[i]) missingCells++;

  const dropReason = new Map<number, string>();
  const inf = featureHasInfinity(X);
  for (let j = 0; j < d; j++) if (inf[j]) dropReason.set(j, 'has an infinite value');

  let subsampleNote = false;
  const strata: StratumReport[] = [];
  const zeroScale: { feature: string; stratum: string }[] = [];
  // Strata are disjoint and each one's statistics come from its own rows, read before its rows
  // are rewritten: in-place output is safe.
  const inPlace = !!opts.inPlace && method !== 'spherize';
  const out = inPlace ? X : zeros(n, d);
  const od = out.data;
  let outFeatures = profiles.features;

  for (let g = 0; g < groups.rows.length; g++) {
    const rows = groups.rows[g]!;
    const label = groupLabel(groups, g);
    const refList: number[] = [];
    for (const i of rows) if (refMask[i]) refList.push(i);
    const ref = Int32Array.from(refList);
    strata.push({ label, nRows: rows.length, nReference: ref.length });
    if (ref.length === 0) {
      throw new InputError(
        `${src}: stratum ${label} (${rows.length} rows) has no reference row matching "${query?.text ?? 'all'}"; ` +
          'normalise without strata or pick a query that every stratum satisfies',
      );
    }
    if (method === 'spherize') continue; // handled below, after feature drops are known
    if (method === 'inverse_normal') {
      const nq = opts.inverseNormalQuantiles ?? 1000;
      if (!(Number.isInteger(nq) && nq >= 1)) throw new UsageError(`normalize: inverseNormalQuantiles must be a positive integer, got ${nq}`);
      const undef = inverseNormalStratum(X, od, ref, rows, nq);
      for (let j = 0; j < d; j++) {
        if (undef[j] && !dropReason.has(j)) dropReason.set(j, `no value among the ${ref.length} reference row(s) of ${label}`);
      }
      if (ref.length > 10000) subsampleNote = true;
      continue;
    }
    const fit = fitCenterScale(X, ref, method, opts.madEpsilon ?? 1e-18);
    const { center, scale } = fit;
    for (let j = 0; j < d; j++) {
      if (fit.undefinedStat[j] && !dropReason.has(j)) {
        dropReason.set(j, `no value among the ${ref.length} reference row(s) of ${label}`);
      }
      if (fit.zero[j] && !fit.undefinedStat[j]) zeroScale.push({ feature: profiles.features[j]!, stratum: label });
    }
    for (const i of rows) {
      const o = i * d;
      for (let j = 0; j < d; j++) {
        const x = data[o + j]!;
        const z = (x - center[j]!) / scale[j]!;
        // x − center can overflow for values near ±1.8e308 where the z-score itself is small.
        od[o + j] = z - z === 0 || x - x !== 0 ? z : x / scale[j]! - center[j]! / scale[j]!;
      }
    }
  }

  const keep: number[] = [];
  for (let j = 0; j < d; j++) if (!dropReason.has(j)) keep.push(j);

  let result: Matrix;
  if (method === 'spherize') {
    // Sphering mixes features, so it runs on the kept columns only, and needs complete data.
    const Xk = keep.length === d ? X : takeCols(X, keep);
    const names = keep.map((j) => profiles.features[j]!);
    const xk = Xk.data;
    for (let t = 0; t < xk.length; t++) {
      if (xk[t] !== xk[t]) {
        const j = t % keep.length;
        throw new InputError(
          `${src}: spherize needs complete data, but feature ${names[j]} is missing in row ${Math.floor(t / keep.length)} ` +
            '(a missing value would spread to every output feature); drop such features or rows first',
        );
      }
    }
    const sm = opts.spherizeMethod ?? 'ZCA';
    const dk = keep.length;
    result = zeros(n, dk);
    for (let g = 0; g < groups.rows.length; g++) {
      const rows = groups.rows[g]!;
      const label = groupLabel(groups, g);
      const ref = rows.filter((i) => refMask[i] === 1);
      const what = `the ${ref.length} reference row(s)${query ? ` matching "${query.text}"` : ''} of ${label}`;
      const model = fitSpherize(takeRows(Xk, ref), { method: sm, epsilon: opts.spherizeEpsilon, center: opts.spherizeCenter }, what, names);
      if (model.rank < dk) warnings.push(`spherize ${sm}: ${what} have rank ${model.rank} < ${dk}; the directions they do not span are weighted as pycytominer weights them`);
      const T = applySpherize(model, takeRows(Xk, rows));
      for (let r = 0; r < rows.length; r++) result.data.set(T.data.subarray(r * dk, (r + 1) * dk), rows[r]! * dk);
    }
    outFeatures = sm === 'PCA' || sm === 'PCA-cor' ? names.map((_, k) => `PC${k + 1}`) : names;
  } else {
    result = keep.length === d ? out : inPlace ? compactColsInPlace(out, keep) : takeCols(out, keep);
    outFeatures = keep.map((j) => profiles.features[j]!);
  }
  if (outFeatures.length === 0) throw new InputError(`${src}: normalisation left no feature (every feature was dropped)`);

  const droppedFeatures: Dropped[] = [...dropReason.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([j, reason]) => ({ kind: 'feature', name: profiles.features[j]!, reason }));
  if (zeroScale.length) {
    const what = method === 'mad_robustize' ? `MAD 0: divided by ε = ${opts.madEpsilon ?? 1e-18} as pycytominer` : 'scale 0: left unscaled (scale 1) as sklearn';
    const feats = new Set(zeroScale.map((z) => z.feature));
    warnings.push(`${feats.size} feature(s) had ${what} in at least one stratum (e.g. ${[...feats].slice(0, 3).join(', ')})`);
  }
  if (subsampleNote) warnings.push('inverse_normal: a stratum has more than 10,000 reference rows; phenomap uses them all where sklearn would draw a random subsample of 10,000');
  if (missingCells) warnings.push(`${missingCells} missing input value(s) were skipped when fitting and stay missing`);
  for (const w of warnings) reporter.warn(w);
  return {
    profiles: withFeatures(profiles, result, outFeatures),
    report: {
      method,
      samples: query ? query.text : 'all',
      strata,
      nRows: n,
      featuresIn: d,
      featuresOut: outFeatures.length,
      droppedFeatures,
      zeroScale,
      missingCells,
      warnings,
    },
  };
}
