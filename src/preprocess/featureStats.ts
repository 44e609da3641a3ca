/**
 * Feature statistics that merge exactly: what feature selection needs, computed per part of the
 * rows (one plate's job) and combined later without the rows. A partial holds, over the
 * selection's sample rows of its part:
 *
 * - per feature: rows n, non-missing count, mean and centred sum of squares M2 (two-pass, the
 *   mean corrected by its residual sum), min and max — drop_na_columns, min_variance,
 *   drop_outliers, and which features are constant;
 * - frequency_threshold: every distinct value with its count, per feature (sorted; −0 counted as
 *   0, as the in-memory run's === comparison does). Exact distinct counts and top-two frequencies
 *   need the values themselves: this part is as large as the distinct values of the part (at most
 *   its rows × features), the one partial that is not O(features²). It is therefore NOT merged up
 *   the tree (a merged histogram of continuous features grows like the table): the plates' value
 *   counts are reduced feature by feature at the end (`frequencyCountsFromFiles`: one feature
 *   block's values of every plate in memory at a time, then sorted — exact, bounded memory);
 * - correlation_threshold (Pearson): the centred cross-products of the columns complete in the
 *   part (packed lower triangle, d(d+1)/2 numbers), plus, for every pair involving a column with
 *   missing values, the pairwise-complete (n, means, M2s, cross-product, min/max) — pandas'
 *   pairwise deletion;
 * - noise_removal: count, mean and M2 per (perturbation group, feature).
 *
 * Merging two partials is Chan, Golub & LeVeque's pairwise update (1979): with δ = μ_B − μ_A,
 * M2 = M2_A + M2_B + δ² n_A n_B / n and C_jk = C_A + C_B + δ_j δ_k n_A n_B / n; min/max combine
 * (value counts are reduced separately, above). The merge is exact in real arithmetic and associative; in floating point the
 * result depends (at the 1e-16 level) on the merge order, so the workflow fixes it (plates in plan
 * order, the same tree on one machine and on a cluster).
 *
 * What cannot be merged from such partials: Spearman correlation needs every feature's global
 * ranks (featureStatsSpec says so, and the workflow then reads the per-plate tables).
 *
 * `selectFromFeatureStats` runs feature selection from merged statistics with the decision rules
 * and the operation loop of featureSelect.ts, so it keeps the features the in-memory
 * `featureSelect` keeps on the stacked rows (up to ties at the 1e-16 level between a statistic
 * and its threshold).
 */
import type { Profiles } from '../io/profiles.js';
import { cellString, getMeta } from '../io/profiles.js';
import { crossprod } from '../linalg/blas.js';
import { InputError } from '../util/errors.js';
import { packArrays, packedLayout, readPackedSlice, unpackArrays, type PackedArray } from '../util/packed.js';
import {
  correlationDecisions, frequencyDecision, naDecision, noiseDecision, outlierDecision, resolveFeatureSelectOptions, runOperations, valueCounts, varianceDecision,
  type FeatureSelectOptions, type FeatureSelectReport, type ResolvedFeatureSelectOptions,
} from './featureSelect.js';
import { sampleRows, type Query } from './query.js';

/** Which optional parts a partial carries (decided by the feature-selection operations). */
export interface FeatureStatsSpec {
  /** Distinct values with counts (frequency_threshold). */
  readonly frequency: boolean;
  /** Pearson cross-products (correlation_threshold). */
  readonly correlation: boolean;
  /** Metadata column of the perturbation groups (noise_removal), or null. */
  readonly groups: string | null;
}

export type FeatureStatsPlan = { readonly exact: true; readonly spec: FeatureStatsSpec } | { readonly exact: false; readonly reason: string };

/** The partial a feature selection needs, or why it cannot be computed from partials. */
export function featureStatsSpec(o: ResolvedFeatureSelectOptions): FeatureStatsPlan {
  const ops = o.operations;
  if (ops.includes('correlation_threshold') && o.corrMethod === 'spearman') {
    return { exact: false, reason: 'Spearman correlation ranks every feature over all rows at once; ranks do not merge' };
  }
  return {
    exact: true,
    spec: { frequency: ops.includes('frequency_threshold'), correlation: ops.includes('correlation_threshold'), groups: ops.includes('noise_removal') ? o.noiseRemovalPerturbGroups! : null },
  };
}

/** Pairwise-complete statistics of one pair of columns: 10 numbers per pair. */
const PAIR = 10; // n, mean_a, mean_b, M2_a, M2_b, C_ab, min_a, max_a, min_b, max_b

export interface FeatureStats {
  readonly spec: FeatureStatsSpec;
  readonly features: string[];
  /** What the statistics came from (plate names, files), for messages. */
  readonly source: string;
  /** Rows (sample rows of the part). */
  readonly n: number;
  readonly count: Float64Array;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  /** NaN where the feature has no value. */
  readonly min: Float64Array;
  readonly max: Float64Array;
  /**
   * frequency_threshold, in one plate's partial only (merges drop it): feature j's distinct values
   * are values[offsets[j] .. offsets[j+1]), ascending, with their counts.
   */
  readonly values?: { readonly offsets: Float64Array; readonly values: Float64Array; readonly counts: Float64Array };
  /**
   * correlation_threshold: C[j(j+1)/2 + k] (j ≥ k) is the centred cross-product of two columns
   * complete in this part (count = n); pairs with an incomplete column are listed in pairKeys
   * (a·d + b, a > b, ascending) with PAIR numbers each in pairStats.
   */
  readonly corr?: { readonly C: Float64Array; readonly pairKeys: Float64Array; readonly pairStats: Float64Array };
  /** noise_removal: per group g and feature j at g·d + j. */
  readonly groups?: { readonly names: string[]; readonly count: Float64Array; readonly mean: Float64Array; readonly m2: Float64Array };
  /** Features left out when parts with different features were joined on their intersection. */
  readonly joinDropped?: { readonly name: string; readonly missingFrom: string }[];
}

const tri = (j: number, k: number) => (j >= k ? (j * (j + 1)) / 2 + k : (k * (k + 1)) / 2 + j);

/** The partial statistics of one table (its sample rows). A part with no sample row is allowed. */
export function featureStats(profiles: Profiles, opts: { spec: FeatureStatsSpec; samples?: 'all' | Query | string; source?: string }): FeatureStats {
  const { spec } = opts;
  const src = opts.source ?? profiles.source ?? 'profiles';
  const rows = sampleRows(profiles, opts.samples, { allowEmpty: true });
  const n = rows.length, d = profiles.features.length, X = profiles.X.data, D = profiles.X.cols;
  const at = (i: number, j: number) => X[rows[i]! * D + j]!;
  const count = new Float64Array(d), mean = new Float64Array(d), m2 = new Float64Array(d);
  const min = new Float64Array(d).fill(NaN), max = new Float64Array(d).fill(NaN);
  const sum = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = at(i, j);
      if (v !== v) continue;
      count[j]++;
      sum[j] += v;
      if (!(v <= max[j]!)) max[j] = v;
      if (!(v >= min[j]!)) min[j] = v;
    }
  }
  for (let j = 0; j < d; j++) mean[j] = count[j]! ? sum[j]! / count[j]! : 0;
  // Second pass: the residual sum corrects the mean, then M2 about the corrected mean.
  const res = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = at(i, j);
      if (v === v) res[j] += v - mean[j]!;
    }
  }
  for (let j = 0; j < d; j++) if (count[j]!) mean[j] += res[j]! / count[j]!;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = at(i, j);
      if (v === v) m2[j] += (v - mean[j]!) ** 2;
    }
  }
  const out: { -readonly [K in keyof FeatureStats]: FeatureStats[K] } = { spec, features: [...profiles.features], source: src, n, count, mean, m2, min, max };

  if (spec.frequency) {
    const offsets = new Float64Array(d + 1);
    const vals: number[] = [], cnts: number[] = [];
    const buf = new Float64Array(n);
    for (let j = 0; j < d; j++) {
      let k = 0;
      for (let i = 0; i < n; i++) {
        const v = at(i, j);
        if (v === v) buf[k++] = v + 0; // −0 → 0
      }
      const s = buf.subarray(0, k).sort();
      let i = 0;
      while (i < k) {
        let e = i + 1;
        while (e < k && s[e] === s[i]) e++;
        vals.push(s[i]!);
        cnts.push(e - i);
        i = e;
      }
      offsets[j + 1] = vals.length;
    }
    out.values = { offsets, values: Float64Array.from(vals), counts: Float64Array.from(cnts) };
  }

  if (spec.correlation) {
    const complete: number[] = [];
    for (let j = 0; j < d; j++) if (count[j] === n) complete.push(j);
    const dc = complete.length;
    const C = new Float64Array((d * (d + 1)) / 2);
    if (dc && n) {
      const Z = new Float64Array(n * dc);
      for (let i = 0; i < n; i++) for (let c = 0; c < dc; c++) Z[i * dc + c] = at(i, complete[c]!) - mean[complete[c]!]!;
      const G = crossprod({ rows: n, cols: dc, data: Z }).data;
      for (let a = 0; a < dc; a++) for (let b = 0; b <= a; b++) C[tri(complete[a]!, complete[b]!)] = G[a * dc + b]!;
    }
    const keys: number[] = [], stats: number[] = [];
    const isComplete = new Uint8Array(d);
    for (const j of complete) isComplete[j] = 1;
    const xa = new Float64Array(n), xb = new Float64Array(n);
    for (let a = 1; a < d; a++) {
      for (let b = 0; b < a; b++) {
        if (isComplete[a] && isComplete[b]) continue;
        let m = 0;
        for (let i = 0; i < n; i++) {
          const u = at(i, a), v = at(i, b);
          if (u === u && v === v) {
            xa[m] = u;
            xb[m++] = v;
          }
        }
        keys.push(a * d + b);
        stats.push(...pairStatsOf(xa, xb, m));
      }
    }
    out.corr = { C, pairKeys: Float64Array.from(keys), pairStats: Float64Array.from(stats) };
  }

  if (spec.groups) {
    const col = getMeta(profiles, spec.groups);
    const index = new Map<string, number>();
    const code = Int32Array.from(rows, (r) => {
      const v = cellString(col, r);
      if (v === null) return -1;
      let c = index.get(v);
      if (c === undefined) index.set(v, (c = index.size));
      return c;
    });
    const g = index.size;
    const gc = new Float64Array(g * d), gm = new Float64Array(g * d), gq = new Float64Array(g * d);
    // Welford per group, in row order (as the in-memory noise_removal).
    for (let i = 0; i < n; i++) {
      const c = code[i]!;
      if (c < 0) continue;
      for (let j = 0; j < d; j++) {
        const v = at(i, j);
        if (v !== v) continue;
        const o = c * d + j;
        const k = ++gc[o]!;
        const delta = v - gm[o]!;
        gm[o] += delta / k;
        gq[o] += delta * (v - gm[o]!);
      }
    }
    out.groups = { names: [...index.keys()], count: gc, mean: gm, m2: gq };
  }
  return out;
}

function pairStatsOf(a: Float64Array, b: Float64Array, m: number): number[] {
  if (m === 0) return [0, 0, 0, 0, 0, 0, NaN, NaN, NaN, NaN];
  let sa = 0, sb = 0, mina = Infinity, maxa = -Infinity, minb = Infinity, maxb = -Infinity;
  for (let i = 0; i < m; i++) {
    const u = a[i]!, v = b[i]!;
    sa += u;
    sb += v;
    if (u < mina) mina = u;
    if (u > maxa) maxa = u;
    if (v < minb) minb = v;
    if (v > maxb) maxb = v;
  }
  const ma = sa / m, mb = sb / m;
  let qa = 0, qb = 0, cab = 0;
  for (let i = 0; i < m; i++) {
    const x = a[i]! - ma, y = b[i]! - mb;
    qa += x * x;
    qb += y * y;
    cab += x * y;
  }
  return [m, ma, mb, qa, qb, cab, mina, maxa, minb, maxb];
}

/** Chan's update: (n, mean, M2) of A and B → of their union. */
function chan(nA: number, mA: number, qA: number, nB: number, mB: number, qB: number): [number, number, number] {
  if (nB === 0) return [nA, mA, qA];
  if (nA === 0) return [nB, mB, qB];
  const n = nA + nB, delta = mB - mA;
  return [n, mA + (delta * nB) / n, qA + qB + ((delta * delta) * nA * nB) / n];
}

const nanMin = (a: number, b: number) => (a !== a ? b : b !== b ? a : Math.min(a, b));
const nanMax = (a: number, b: number) => (a !== a ? b : b !== b ? a : Math.max(a, b));

function sameSpec(a: FeatureStatsSpec, b: FeatureStatsSpec): boolean {
  return a.frequency === b.frequency && a.correlation === b.correlation && a.groups === b.groups;
}

/** Pairwise-complete statistics of columns a > b of a partial. */
function pairOf(P: FeatureStats, lookup: Map<number, number>, a: number, b: number): Float64Array | number[] {
  const d = P.features.length;
  if (P.count[a] === P.n && P.count[b] === P.n) {
    const C = P.corr!.C;
    return [P.n, P.mean[a]!, P.mean[b]!, C[tri(a, a)]!, C[tri(b, b)]!, C[tri(a, b)]!, P.min[a]!, P.max[a]!, P.min[b]!, P.max[b]!];
  }
  const i = lookup.get(a * d + b);
  if (i === undefined) throw new Error(`feature statistics: pair (${a}, ${b}) missing from ${P.source}`);
  return P.corr!.pairStats.subarray(i * PAIR, (i + 1) * PAIR);
}

function pairLookup(P: FeatureStats): Map<number, number> {
  const m = new Map<number, number>();
  P.corr!.pairKeys.forEach((k, i) => m.set(k, i));
  return m;
}

/** Merge two partials of the same features and spec (see the module comment). */
export function mergeTwo(A: FeatureStats, B: FeatureStats): FeatureStats {
  if (!sameSpec(A.spec, B.spec)) throw new InputError(`${B.source} and ${A.source}: feature statistics computed for different feature selections; rerun their plate jobs with one config`);
  const d = A.features.length;
  if (B.features.length !== d || B.features.some((f, j) => f !== A.features[j])) {
    const sa = new Set(A.features), sb = new Set(B.features);
    const onlyA = A.features.filter((f) => !sb.has(f)), onlyB = B.features.filter((f) => !sa.has(f));
    throw new InputError(
      `${B.source} and ${A.source} have different features (${onlyB.length} only in the first, e.g. ${onlyB.slice(0, 3).join(', ') || '—'}; ` +
        `${onlyA.length} only in the second, e.g. ${onlyA.slice(0, 3).join(', ') || '—'}${!onlyA.length && !onlyB.length ? '; same names in another order' : ''})`,
    );
  }
  const source = `${A.source}, ${B.source}`;
  const joinDropped = A.joinDropped || B.joinDropped ? [...(A.joinDropped ?? []), ...(B.joinDropped ?? [])] : undefined;
  if (B.n === 0) return { ...A, source, joinDropped, values: undefined };
  if (A.n === 0) return { ...B, source, joinDropped, values: undefined };
  const n = A.n + B.n;
  const count = new Float64Array(d), mean = new Float64Array(d), m2 = new Float64Array(d), min = new Float64Array(d), max = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    [count[j], mean[j], m2[j]] = chan(A.count[j]!, A.mean[j]!, A.m2[j]!, B.count[j]!, B.mean[j]!, B.m2[j]!);
    min[j] = nanMin(A.min[j]!, B.min[j]!);
    max[j] = nanMax(A.max[j]!, B.max[j]!);
  }
  const out: { -readonly [K in keyof FeatureStats]: FeatureStats[K] } = { spec: A.spec, features: A.features, source, n, count, mean, m2, min, max, joinDropped };

  if (A.spec.correlation) {
    const C = new Float64Array((d * (d + 1)) / 2);
    const completeA = (j: number) => A.count[j] === A.n, completeB = (j: number) => B.count[j] === B.n;
    const f = (A.n * B.n) / n;
    const delta = new Float64Array(d);
    for (let j = 0; j < d; j++) delta[j] = B.mean[j]! - A.mean[j]!;
    const both = new Uint8Array(d);
    for (let j = 0; j < d; j++) both[j] = completeA(j) && completeB(j) ? 1 : 0;
    const CA = A.corr!.C, CB = B.corr!.C;
    for (let a = 0; a < d; a++) {
      if (!both[a]) continue;
      const base = (a * (a + 1)) / 2;
      for (let b = 0; b <= a; b++) {
        if (both[b]) C[base + b] = CA[base + b]! + CB[base + b]! + delta[a]! * delta[b]! * f;
      }
    }
    const la = pairLookup(A), lb = pairLookup(B);
    const keys: number[] = [], stats: number[] = [];
    for (let a = 1; a < d; a++) {
      for (let b = 0; b < a; b++) {
        if (both[a] && both[b]) continue;
        const x = pairOf(A, la, a, b), y = pairOf(B, lb, a, b);
        keys.push(a * d + b);
        stats.push(...mergePair(x, y));
      }
    }
    out.corr = { C, pairKeys: Float64Array.from(keys), pairStats: Float64Array.from(stats) };
  }

  if (A.spec.groups) {
    const ga = A.groups!, gb = B.groups!;
    const names = [...ga.names];
    const index = new Map(names.map((g, i) => [g, i]));
    for (const g of gb.names) if (!index.has(g)) index.set(g, names.push(g) - 1);
    const G = names.length;
    const gc = new Float64Array(G * d), gm = new Float64Array(G * d), gq = new Float64Array(G * d);
    gc.set(ga.count);
    gm.set(ga.mean);
    gq.set(ga.m2);
    gb.names.forEach((g, s) => {
      const t = index.get(g)!;
      for (let j = 0; j < d; j++) {
        const o = t * d + j, p = s * d + j;
        [gc[o], gm[o], gq[o]] = chan(gc[o]!, gm[o]!, gq[o]!, gb.count[p]!, gb.mean[p]!, gb.m2[p]!);
      }
    });
    out.groups = { names, count: gc, mean: gm, m2: gq };
  }
  return out;
}

function mergePair(x: ArrayLike<number>, y: ArrayLike<number>): number[] {
  const nA = x[0]!, nB = y[0]!;
  if (nB === 0) return Array.from(x);
  if (nA === 0) return Array.from(y);
  const n = nA + nB, f = (nA * nB) / n;
  const da = y[1]! - x[1]!, db = y[2]! - x[2]!;
  return [
    n, x[1]! + (da * nB) / n, x[2]! + (db * nB) / n,
    x[3]! + y[3]! + da * da * f, x[4]! + y[4]! + db * db * f, x[5]! + y[5]! + da * db * f,
    nanMin(x[6]!, y[6]!), nanMax(x[7]!, y[7]!), nanMin(x[8]!, y[8]!), nanMax(x[9]!, y[9]!),
  ];
}

/**
 * Merge partials left to right (the order is part of the answer at the 1e-16 level). With
 * `featureJoin: 'intersection'` parts measuring different features are first cut down to the
 * features all of them have (in the first part's order), each left-out feature recorded.
 */
export function mergeFeatureStats(parts: readonly FeatureStats[], opts: { featureJoin?: 'same' | 'intersection' } = {}): FeatureStats {
  if (!parts.length) throw new InputError('no feature statistics to merge');
  let ps = parts;
  if (opts.featureJoin === 'intersection') {
    const sets = parts.map((p) => new Set(p.features));
    const keep = parts[0]!.features.filter((f) => sets.every((s) => s.has(f)));
    if (!keep.length) throw new InputError(`${parts.map((p) => p.source).join(', ')}: no feature is measured in every plate`);
    const all: string[] = [];
    const seen = new Set<string>();
    for (const p of parts) for (const f of p.features) if (!seen.has(f)) (seen.add(f), all.push(f));
    const dropped = all.filter((f) => !sets.every((s) => s.has(f))).map((name) => ({ name, missingFrom: parts.filter((_, t) => !sets[t]!.has(name)).map((p) => p.source).join(', ') }));
    ps = parts.map((p) => (p.features.length === keep.length && p.features.every((f, j) => f === keep[j]) ? p : restrictFeatureStats(p, keep)));
    if (dropped.length) ps = [{ ...ps[0]!, joinDropped: [...(ps[0]!.joinDropped ?? []), ...dropped] }, ...ps.slice(1)];
  }
  return ps.slice(1).reduce((acc, p) => mergeTwo(acc, p), ps[0]!);
}

/** The statistics of a subset of the features, in the order given (every one must be present). */
export function restrictFeatureStats(S: FeatureStats, keep: readonly string[]): FeatureStats {
  const pos = new Map(S.features.map((f, j) => [f, j]));
  const idx = keep.map((f) => {
    const j = pos.get(f);
    if (j === undefined) throw new InputError(`${S.source}: has no feature ${f}`);
    return j;
  });
  const d = keep.length, D = S.features.length;
  const pick = (v: Float64Array) => Float64Array.from(idx, (j) => v[j]!);
  const out: { -readonly [K in keyof FeatureStats]: FeatureStats[K] } = {
    spec: S.spec, features: [...keep], source: S.source, n: S.n,
    count: pick(S.count), mean: pick(S.mean), m2: pick(S.m2), min: pick(S.min), max: pick(S.max), joinDropped: S.joinDropped,
  };
  if (S.values) {
    const offsets = new Float64Array(d + 1);
    const vals: number[] = [], cnts: number[] = [];
    idx.forEach((j, a) => {
      for (let p = S.values!.offsets[j]!; p < S.values!.offsets[j + 1]!; p++) {
        vals.push(S.values!.values[p]!);
        cnts.push(S.values!.counts[p]!);
      }
      offsets[a + 1] = vals.length;
    });
    out.values = { offsets, values: Float64Array.from(vals), counts: Float64Array.from(cnts) };
  }
  if (S.corr) {
    const lookup = pairLookup(S);
    const C = new Float64Array((d * (d + 1)) / 2);
    const keys: number[] = [], stats: number[] = [];
    const complete = (j: number) => S.count[j] === S.n;
    for (let a = 0; a < d; a++) {
      for (let b = 0; b <= a; b++) {
        const ja = idx[a]!, jb = idx[b]!;
        if (complete(ja) && complete(jb)) C[tri(a, b)] = S.corr.C[tri(ja, jb)]!;
        else if (a !== b) {
          const t = Array.from(pairOf(S, lookup, Math.max(ja, jb), Math.min(ja, jb)));
          // stored as (larger old index, smaller); the new pair is (a, b) with a > b
          const swap = ja < jb;
          keys.push(a * d + b);
          stats.push(...(swap ? [t[0]!, t[2]!, t[1]!, t[4]!, t[3]!, t[5]!, t[8]!, t[9]!, t[6]!, t[7]!] : t));
        }
      }
    }
    out.corr = { C, pairKeys: Float64Array.from(keys), pairStats: Float64Array.from(stats) };
  }
  if (S.groups) {
    const G = S.groups.names.length;
    const sub = (v: Float64Array) => {
      const o = new Float64Array(G * d);
      for (let g = 0; g < G; g++) idx.forEach((j, a) => (o[g * d + a] = v[g * D + j]!));
      return o;
    };
    out.groups = { names: S.groups.names, count: sub(S.groups.count), mean: sub(S.groups.mean), m2: sub(S.groups.m2) };
  }
  return out;
}

/** Correlation of columns a and b (a ≠ b, or the diagonal) from merged statistics, as columnCorrelation defines it. */
function correlationOf(S: FeatureStats, lookup: Map<number, number>, a: number, b: number): number {
  const completeA = S.count[a] === S.n, completeB = S.count[b] === S.n;
  const constant = (j: number) => !(S.min[j]! < S.max[j]!);
  if (completeA && completeB) {
    if (constant(a) || constant(b)) return NaN;
    if (a === b) return 1;
    const C = S.corr!.C;
    const r = C[tri(a, b)]! / Math.sqrt(C[tri(a, a)]! * C[tri(b, b)]!);
    return r > 1 ? 1 : r < -1 ? -1 : r;
  }
  if (a === b) return S.count[a]! < 2 || constant(a) ? NaN : 1;
  const [hi, lo] = a > b ? [a, b] : [b, a];
  const t = pairOf(S, lookup, hi, lo);
  if (t[0]! < 2 || !(t[6]! < t[7]!) || !(t[8]! < t[9]!)) return NaN;
  const r = t[5]! / Math.sqrt(t[3]! * t[4]!);
  return r > 1 ? 1 : r < -1 ? -1 : r;
}

/** frequency_threshold's statistics per feature: the two largest counts of one value and the number of distinct values. */
export interface FrequencyCounts {
  readonly features: string[];
  readonly first: Float64Array;
  readonly second: Float64Array;
  readonly distinct: Float64Array;
}

/** The counts of one feature from every plate's (value, count) lists: expanded, sorted, counted by runs. */
function countRuns(lists: { values: ArrayLike<number>; counts: ArrayLike<number> }[], buf: Float64Array): [number, number, number] {
  let k = 0;
  for (const l of lists) {
    for (let p = 0; p < l.values.length; p++) {
      const v = l.values[p]!;
      for (let c = l.counts[p]!; c > 0; c--) buf[k++] = v;
    }
  }
  return valueCounts(buf.subarray(0, k).sort());
}

/** Value counts of `features` over the plates' partials in memory (each must carry its values). */
export function frequencyCounts(leaves: readonly FeatureStats[], features: readonly string[]): FrequencyCounts {
  const d = features.length;
  const first = new Float64Array(d), second = new Float64Array(d), distinct = new Float64Array(d);
  const index = leaves.map((L) => {
    if (!L.values) throw new InputError(`${L.source}: its feature statistics carry no value counts (frequency_threshold)`);
    return new Map(L.features.map((f, j) => [f, j]));
  });
  let buf = new Float64Array(0);
  features.forEach((f, t) => {
    const lists = leaves.map((L, li) => {
      const j = index[li]!.get(f);
      if (j === undefined) throw new InputError(`${L.source}: has no feature ${f}`);
      const a = L.values!.offsets[j]!, b = L.values!.offsets[j + 1]!;
      return { values: L.values!.values.subarray(a, b), counts: L.values!.counts.subarray(a, b), n: L.count[j]! };
    });
    const need = lists.reduce((x, l) => x + l.n, 0);
    if (buf.length < need) buf = new Float64Array(need);
    [first[t], second[t], distinct[t]] = countRuns(lists, buf);
  });
  return { features: [...features], first, second, distinct };
}

/**
 * Value counts of `features` read from the plates' partial statistics files, a block of features
 * at a time (about `maxBytes` of values in memory, default 256 MB): exact, and bounded in memory
 * however many plates there are. Reads every plate's value counts once.
 */
export function frequencyCountsFromFiles(files: readonly string[], features: readonly string[], opts: { maxBytes?: number } = {}): FrequencyCounts {
  const d = features.length;
  const first = new Float64Array(d), second = new Float64Array(d), distinct = new Float64Array(d);
  const leaves = files.map((path) => {
    const l = packedLayout<StatsHeader>(path, 'feature-stats');
    if (!l.header.spec.frequency || !l.offsets.vOffsets) throw new InputError(`${path}: its feature statistics carry no value counts (frequency_threshold); rerun the plate job`);
    const offsets = readPackedSlice(path, l.offsets.vOffsets, 0, l.offsets.vOffsets.length) as Float64Array;
    const count = readPackedSlice(path, l.offsets.count!, 0, l.offsets.count!.length) as Float64Array;
    return { path, l, offsets, count, index: new Map(l.header.features.map((f, j) => [f, j])) };
  });
  const rows = leaves.reduce((a, L) => a + L.l.header.n, 0);
  const block = Math.max(1, Math.floor((opts.maxBytes ?? 256 * 2 ** 20) / (16 * Math.max(1, rows))));
  let buf = new Float64Array(0);
  for (let t0 = 0; t0 < d; t0 += block) {
    const t1 = Math.min(d, t0 + block);
    // per plate: one read covering the block's features
    const slices = leaves.map((L) => {
      const js = features.slice(t0, t1).map((f) => {
        const j = L.index.get(f);
        if (j === undefined) throw new InputError(`${L.path}: has no feature ${f}`);
        return j;
      });
      const lo = Math.min(...js.map((j) => L.offsets[j]!)), hi = Math.max(...js.map((j) => L.offsets[j + 1]!));
      return {
        js, lo,
        values: readPackedSlice(L.path, L.l.offsets.vValues!, lo, hi) as Float64Array,
        counts: readPackedSlice(L.path, L.l.offsets.vCounts!, lo, hi) as Float64Array,
      };
    });
    for (let t = t0; t < t1; t++) {
      const lists = leaves.map((L, li) => {
        const sl = slices[li]!, j = sl.js[t - t0]!;
        const a = L.offsets[j]! - sl.lo, b = L.offsets[j + 1]! - sl.lo;
        return { values: sl.values.subarray(a, b), counts: sl.counts.subarray(a, b), n: L.count[j]! };
      });
      const need = lists.reduce((x, l) => x + l.n, 0);
      if (buf.length < need) buf = new Float64Array(need);
      [first[t], second[t], distinct[t]] = countRuns(lists, buf);
    }
  }
  return { features: [...features], first, second, distinct };
}

/**
 * Feature selection from (merged) statistics: the same operations, order, rules and report as
 * `featureSelect` (whose `samples` the partials already applied).
 */
export function selectFromFeatureStats(
  S: FeatureStats, opts: Omit<FeatureSelectOptions, 'samples' | 'inPlace' | 'reporter'> = {}, freq?: FrequencyCounts,
): FeatureSelectReport {
  const o = resolveFeatureSelectOptions(opts);
  const plan = featureStatsSpec(o);
  if (!plan.exact) throw new InputError(`${S.source}: feature selection cannot run from partial statistics: ${plan.reason}`);
  const need = plan.spec;
  if (need.frequency && !freq && S.values) freq = frequencyCounts([S], S.features);
  if ((need.frequency && !freq) || (need.correlation && !S.corr) || (need.groups && (!S.groups || S.spec.groups !== need.groups))) {
    throw new InputError(`${S.source}: these feature statistics were computed for other feature-selection operations (${JSON.stringify(S.spec)}); recompute them for ${o.operations.join(', ')}`);
  }
  if (S.n === 0) throw new InputError(`${S.source}: no rows to select features on`);
  const n = S.n, d = S.features.length;
  const lookup = S.corr ? pairLookup(S) : new Map<number, number>();
  const sel = runOperations(S.features, o, S.source, (op, alive) => {
    const out = new Map<number, string>();
    const put = (c: number, r: string | null) => r && out.set(c, r);
    switch (op) {
      case 'drop_na_columns':
        alive.forEach((j, c) => put(c, naDecision(n - S.count[j]!, n, o.naCutoff)));
        break;
      case 'min_variance':
      case 'variance_threshold':
        alive.forEach((j, c) => put(c, varianceDecision(S.count[j]!, S.m2[j]! / S.count[j]!, o.minVariance)));
        break;
      case 'drop_outliers':
        alive.forEach((j, c) => put(c, outlierDecision(S.max[j]!, S.min[j]!, o.outlierCutoff)));
        break;
      case 'frequency_threshold': {
        const at = new Map(freq!.features.map((f, i) => [f, i]));
        alive.forEach((j, c) => {
          const i = at.get(S.features[j]!);
          if (i === undefined) throw new InputError(`${S.source}: no value counts for feature ${S.features[j]}`);
          put(c, frequencyDecision(freq!.first[i]!, freq!.second[i]!, freq!.distinct[i]!, n, o.freqCut, o.uniqueCut));
        });
        break;
      }
      case 'noise_removal': {
        const g = S.groups!;
        alive.forEach((j, c) => put(c, noiseDecision(g.count, g.m2, g.names.length, o.noiseRemovalStdevCutoff, d, j)));
        break;
      }
      case 'correlation_threshold': {
        const da = alive.length;
        const C = new Float64Array(da * da);
        for (let p = 0; p < da; p++) {
          for (let q = 0; q <= p; q++) {
            const r = correlationOf(S, lookup, alive[p]!, alive[q]!);
            C[p * da + q] = r;
            C[q * da + p] = r;
          }
        }
        return correlationDecisions(C, da, alive.map((j) => S.features[j]!), o.corrThreshold, o.corrMethod);
      }
      default:
        throw new Error(`feature statistics: no rule for ${op}`);
    }
    return out;
  });
  return {
    featuresIn: d,
    kept: sel.alive.length,
    keptFeatures: sel.alive.map((j) => S.features[j]!),
    removed: sel.removed,
    operations: sel.operations,
    nSamples: n,
    warnings: sel.warnings,
  };
}

interface StatsHeader {
  spec: FeatureStatsSpec;
  features: string[];
  source: string;
  n: number;
  groupNames?: string[];
  joinDropped?: { name: string; missingFrom: string }[];
}

/** The partial as bytes (util/packed.ts container; numbers bit for bit). */
export function encodeFeatureStats(S: FeatureStats): Buffer {
  const arrays: Record<string, PackedArray> = { count: S.count, mean: S.mean, m2: S.m2, min: S.min, max: S.max };
  if (S.values) Object.assign(arrays, { vOffsets: S.values.offsets, vValues: S.values.values, vCounts: S.values.counts });
  if (S.corr) Object.assign(arrays, { cC: S.corr.C, cKeys: S.corr.pairKeys, cStats: S.corr.pairStats });
  if (S.groups) Object.assign(arrays, { gCount: S.groups.count, gMean: S.groups.mean, gM2: S.groups.m2 });
  const header: StatsHeader = {
    spec: S.spec, features: S.features, source: S.source, n: S.n, ...(S.groups ? { groupNames: S.groups.names } : {}), ...(S.joinDropped ? { joinDropped: S.joinDropped } : {}),
  };
  return packArrays('feature-stats', header, arrays);
}

export function decodeFeatureStats(buf: Uint8Array, where: string): FeatureStats {
  const { header: h, arrays: a } = unpackArrays<StatsHeader>(buf, 'feature-stats', where);
  const f64 = (k: string): Float64Array => {
    const v = a[k];
    if (!(v instanceof Float64Array)) throw new InputError(`${where}: feature statistics lack ${k}`);
    return v;
  };
  return {
    spec: h.spec, features: h.features, source: h.source, n: h.n, ...(h.joinDropped ? { joinDropped: h.joinDropped } : {}),
    count: f64('count'), mean: f64('mean'), m2: f64('m2'), min: f64('min'), max: f64('max'),
    ...(a.vOffsets ? { values: { offsets: f64('vOffsets'), values: f64('vValues'), counts: f64('vCounts') } } : {}),
    ...(h.spec.correlation ? { corr: { C: f64('cC'), pairKeys: f64('cKeys'), pairStats: f64('cStats') } } : {}),
    ...(h.spec.groups ? { groups: { names: h.groupNames ?? [], count: f64('gCount'), mean: f64('gMean'), m2: f64('gM2') } } : {}),
  };
}
