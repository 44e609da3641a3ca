/**
 * Percent replicating, in its two published forms, named apart because they give different numbers
 * on the same profiles (test/evaluate/replicating-parity.test.ts shows it on the LINCS plate):
 *
 * - `percentReplicating`, the JUMP form (Way et al., "Morphology and gene expression profiling
 *   provide complementary information for mapping cell state", Cell Systems 2022; JUMP's
 *   percent replicating): a group (compound or treatment) replicates when the median
 * Pearson correlation among its replicate profiles exceeds the 95th percentile of a null of median
 * correlations among same-size sets of non-replicate profiles (one profile from each of k
 * distinct other groups, drawn with a seeded Rng). Groups with fewer than 2 replicates are not
 * scored. Control rows can be excluded by passing null as their group.
 * - `replicateReproducibility`, cytominer-eval's `replicate_reproducibility`: every pair of
 *   profiles is scored by its Pearson correlation; the share of replicate pairs (same group)
 *   whose correlation exceeds the 95th percentile (pandas' linear quantile) of all non-replicate
 *   pairs. Pairs, not groups; no random null. Rows with a null group are left out (the caller's
 *   row selection). A pair whose correlation is undefined (a constant profile) is in neither set,
 *   as pandas drops NaN similarities; a missing feature value is skipped pairwise, as pandas'
 *   `corr` does. cytominer-eval casts the metadata to text before comparing, so every row whose
 *   replicate-group value is missing becomes the group "nan": `cytominerEvalGroups` builds groups
 *   that way (docs/parity.md).
 */
import { type Matrix, zeros, percentile } from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../linalg/rng.js';

export interface ReplicatingOptions {
  /** Null samples per replicate-set size (default 1000). */
  nullSize?: number;
  /** Percentile of the null the median must exceed (default 95). */
  percentile?: number;
  seed?: number;
}

export interface ReplicatingResult {
  /** Share of scored groups above the threshold (0..1). */
  percentReplicating: number;
  nGroups: number;
  nReplicating: number;
  groups: { group: string; nReplicates: number; medianCorrelation: number; threshold: number; replicating: boolean }[];
}

/** Row-centred, unit-length copies: Pearson correlation becomes a dot product. */
function standardiseRows(X: Matrix): Matrix {
  const n = X.rows, d = X.cols;
  const out = zeros(n, d);
  const x = X.data, o = out.data;
  for (let i = 0; i < n; i++) {
    const r = i * d;
    let m = 0;
    for (let j = 0; j < d; j++) m += x[r + j]!;
    m /= d;
    let ss = 0;
    for (let j = 0; j < d; j++) {
      const v = x[r + j]! - m;
      o[r + j] = v;
      ss += v * v;
    }
    const s = ss > 0 ? 1 / Math.sqrt(ss) : NaN;
    for (let j = 0; j < d; j++) o[r + j] *= s;
  }
  return out;
}

function medianPairCorrelation(Z: Matrix, idx: ArrayLike<number>, buf: Float64Array): number {
  const d = Z.cols, z = Z.data;
  let k = 0;
  for (let a = 0; a < idx.length; a++) {
    const ao = idx[a]! * d;
    for (let b = a + 1; b < idx.length; b++) {
      const bo = idx[b]! * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += z[ao + j]! * z[bo + j]!;
      buf[k++] = s;
    }
  }
  const v = buf.subarray(0, k).sort();
  return k % 2 ? v[(k - 1) >> 1]! : 0.5 * (v[k / 2 - 1]! + v[k / 2]!);
}

export function percentReplicating(X: Matrix, groups: readonly (string | null)[], opts: ReplicatingOptions = {}): ReplicatingResult {
  const n = X.rows;
  if (groups.length !== n) throw new InputError(`percent replicating: ${groups.length} groups for ${n} rows`);
  const nullSize = opts.nullSize ?? 1000;
  const pct = opts.percentile ?? 95;
  const rng = new Rng(opts.seed ?? 0);
  const Z = standardiseRows(X);
  const byGroup = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups[i];
    if (g === null || g === undefined) continue;
    let a = byGroup.get(g);
    if (!a) byGroup.set(g, (a = []));
    a.push(i);
  }
  const names = [...byGroup.keys()];
  const gi = new Map(names.map((g, i) => [g, i]));
  const rowsGroup = new Int32Array(n).fill(-1);
  for (const [g, rows] of byGroup) for (const i of rows) rowsGroup[i] = gi.get(g)!;
  const labelledList: number[] = [];
  for (let i = 0; i < n; i++) if (rowsGroup[i]! >= 0) labelledList.push(i);
  const labelled = Int32Array.from(labelledList);
  const maxRep = Math.max(0, ...[...byGroup.values()].map((r) => r.length));
  const buf = new Float64Array((maxRep * (maxRep - 1)) / 2 + 1);
  const thresholds = new Map<number, number>();
  const thresholdFor = (k: number): number => {
    let t = thresholds.get(k);
    if (t !== undefined) return t;
    if (byGroup.size < k) throw new InputError(`percent replicating: ${byGroup.size} groups cannot supply ${k} non-replicate profiles`);
    const nul = new Float64Array(nullSize);
    const pick = new Int32Array(k);
    const used = new Set<number>();
    for (let s = 0; s < nullSize; s++) {
      used.clear();
      // k profiles from k distinct groups: none is a replicate of another.
      for (let a = 0; a < k; ) {
        const i = labelled[rng.int(labelled.length)]!;
        if (used.has(rowsGroup[i]!)) continue;
        used.add(rowsGroup[i]!);
        pick[a++] = i;
      }
      nul[s] = medianPairCorrelation(Z, pick, buf);
    }
    t = percentile(nul, pct);
    thresholds.set(k, t);
    return t;
  };
  const out: ReplicatingResult['groups'] = [];
  for (const g of names.slice().sort()) {
    const rows = byGroup.get(g)!;
    if (rows.length < 2) continue;
    const med = medianPairCorrelation(Z, rows, buf);
    const thr = thresholdFor(rows.length);
    out.push({ group: g, nReplicates: rows.length, medianCorrelation: med, threshold: thr, replicating: med > thr });
  }
  const nRep = out.filter((g) => g.replicating).length;
  return { percentReplicating: out.length ? nRep / out.length : NaN, nGroups: out.length, nReplicating: nRep, groups: out };
}

/** The form names written beside every figure. */
export const PERCENT_REPLICATING_FORMS = {
  jump: 'JUMP percent replicating: groups whose median replicate correlation exceeds the 95th percentile of medians of same-size non-replicate sets',
  cytominerEval: "cytominer-eval replicate_reproducibility: replicate pairs whose correlation exceeds the 95th percentile of all non-replicate pairs",
} as const;

export interface ReplicateReproducibilityResult {
  /** Share of replicate pairs above the threshold (0..1). */
  readonly fraction: number;
  /** The quantile of the non-replicate pair correlations. */
  readonly threshold: number;
  readonly nReplicatePairs: number;
  readonly nNonReplicatePairs: number;
  readonly nAbove: number;
  /** Pairs left out of both sets because their correlation is undefined (constant profile, no common feature). */
  readonly nUndefinedPairs: number;
}

/** Pairs the exact quantile may hold in memory (8 bytes each): 400 MB. */
export const MAX_REPLICATE_PAIRS = 5e7;

/**
 * Replicate groups as cytominer-eval forms them from metadata columns: a pair replicates when it
 * agrees on every column, each value compared as text after pandas' `astype(str)`, so a missing
 * value reads "nan" and all rows missing a value agree with each other (and with a literal
 * "nan"). Numbers must come as their shortest round-trip text (`columnStrings` gives that), which
 * compares equal exactly when pandas' text does.
 */
export function cytominerEvalGroups(columns: readonly (readonly (string | null)[])[]): string[] {
  if (columns.length === 0) throw new InputError('replicate reproducibility: no replicate-group column given');
  const n = columns[0]!.length;
  for (const c of columns) if (c.length !== n) throw new InputError(`replicate reproducibility: replicate-group columns of ${n} and ${c.length} rows`);
  // JSON text of the value list keeps columns apart whatever characters the labels hold.
  return Array.from({ length: n }, (_, i) => JSON.stringify(columns.map((c) => c[i] ?? 'nan')));
}

/** Pearson correlation of rows a and b over the features both have (pandas' pairwise-complete rule). */
function pairwiseCompleteCorrelation(X: Matrix, a: number, b: number): number {
  const d = X.cols, x = X.data, ao = a * d, bo = b * d;
  let nobs = 0, ma = 0, mb = 0;
  for (let j = 0; j < d; j++) {
    const u = x[ao + j]!, v = x[bo + j]!;
    if (Number.isNaN(u) || Number.isNaN(v)) continue;
    nobs++;
    ma += u;
    mb += v;
  }
  if (nobs < 2) return NaN;
  ma /= nobs;
  mb /= nobs;
  let sab = 0, saa = 0, sbb = 0;
  for (let j = 0; j < d; j++) {
    const u = x[ao + j]!, v = x[bo + j]!;
    if (Number.isNaN(u) || Number.isNaN(v)) continue;
    const p = u - ma, q = v - mb;
    sab += p * q;
    saa += p * p;
    sbb += q * q;
  }
  const den = Math.sqrt(saa * sbb);
  return den > 0 ? sab / den : NaN;
}

/** cytominer-eval's replicate_reproducibility (see the file header). */
export function replicateReproducibility(X: Matrix, groups: readonly (string | null)[], opts: { quantile?: number } = {}): ReplicateReproducibilityResult {
  const n = X.rows;
  if (groups.length !== n) throw new InputError(`replicate reproducibility: ${groups.length} groups for ${n} rows`);
  const q = opts.quantile ?? 0.95;
  if (!(q > 0 && q <= 1)) throw new InputError(`replicate reproducibility: the quantile must be in (0, 1], got ${q}`);
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (groups[i] !== null && groups[i] !== undefined) rows.push(i);
  const m = rows.length;
  const pairs = (m * (m - 1)) / 2;
  if (pairs > MAX_REPLICATE_PAIRS) {
    throw new InputError(`replicate reproducibility: ${m.toLocaleString('en-US')} profiles give ${pairs.toLocaleString('en-US')} pairs, more than the ${MAX_REPLICATE_PAIRS.toLocaleString('en-US')} held for an exact quantile`);
  }
  const Z = standardiseRows(X);
  const d = Z.cols, z = Z.data;
  const hasMissing = new Uint8Array(n);
  for (const i of rows) for (let j = 0; j < d; j++) if (Number.isNaN(X.data[i * d + j]!)) { hasMissing[i] = 1; break; }
  const rep: number[] = [];
  const non = new Float64Array(pairs);
  let k = 0, undefinedPairs = 0;
  for (let a = 0; a < m; a++) {
    const ia = rows[a]!, ao = ia * d;
    for (let b = a + 1; b < m; b++) {
      const ib = rows[b]!, bo = ib * d;
      let s = 0;
      if (hasMissing[ia] || hasMissing[ib]) s = pairwiseCompleteCorrelation(X, ia, ib);
      else for (let j = 0; j < d; j++) s += z[ao + j]! * z[bo + j]!;
      if (Number.isNaN(s)) { undefinedPairs++; continue; }
      if (groups[ia] === groups[ib]) rep.push(s);
      else non[k++] = s;
    }
  }
  if (rep.length === 0) throw new InputError(`replicate reproducibility: no two profiles share a group${undefinedPairs ? ` with a defined correlation (${undefinedPairs} pairs have none: a constant profile or no feature in common)` : ''}`);
  if (k === 0) throw new InputError('replicate reproducibility: no non-replicate pair to form the null (every pair with a defined correlation is a replicate pair)');
  const threshold = percentile(non.subarray(0, k), 100 * q);
  const nAbove = rep.filter((s) => s > threshold).length;
  return { fraction: nAbove / rep.length, threshold, nReplicatePairs: rep.length, nNonReplicatePairs: k, nAbove, nUndefinedPairs: undefinedPairs };
}
