/**
 * Average-precision retrieval with copairs semantics (Kalinin et al., "A versatile information
 * retrieval framework for evaluating profile strength and similarity", Nat Commun 2025;
 * cytomining/copairs `map/average_precision.py`, `map/map.py`, `compute.py`).
 *
 * For a query profile, its positive and negative candidates are ranked by similarity (cosine by
 * default, descending; ties keep the candidates' order). AP = mean over positives of the
 * precision at that positive's rank. mAP of a group = mean AP of the group's queries.
 *
 * Significance, as copairs: for every (#positives, #candidates) shape a null of `nullSize` APs of
 * random rankings is drawn and sorted; a group's null mAP sample s is the mean over its queries
 * of their shape's s-th sorted null AP (copairs' index-wise average of sorted nulls, which is
 * conservative for positively dependent queries such as replicates of one compound).
 * p = (#{null ≥ observed} + 1) / (nullSize + 1) — the spec's ≥ (copairs counts null > observed for
 * mAP; the two differ only on exact ties). q = Benjamini–Hochberg over groups; "retrieved" = q <
 * threshold (0.05). The random baseline beside every mAP is the mean over the group's queries of
 * #positives / #candidates (the expected AP of a random ranking tends to it), and `nullMean` is
 * the mean of the drawn null mAP.
 *
 * Two uses (spec evaluation.md):
 * - phenotypic activity: queries = replicate wells of a treatment; positives = its other
 *   replicates; negatives = control wells; group = treatment.
 * - phenotypic consistency: queries = treatment (or compound) profiles; positives = profiles of
 *   OTHER compounds with the same label; negatives = profiles of other labels; group = label.
 *   Other doses of the query's own compound are neither positive nor negative. A label is one
 *   string (a multi-MoA "A|B" is its own class, as in the study).
 */
import { type Matrix, cosineSimilarityBetween, takeRows } from '../linalg/index.js';
import { benjaminiHochberg } from '../enrich/bh.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

export interface ApQuery {
  /** Group whose mAP this query contributes to (treatment for activity, label for consistency). */
  group: string;
  /** Identifier of the query (row index or treatment name). */
  query: string;
  ap: number;
  nPos: number;
  /** Positives + negatives ranked. */
  nTotal: number;
}

/** AP of a ranking given as relevance flags in rank order (1 = positive). NaN without positives. */
export function averagePrecisionOfRanking(relevant: ArrayLike<number | boolean>): number {
  let tp = 0, sum = 0;
  for (let k = 0; k < relevant.length; k++) {
    if (relevant[k]) {
      tp++;
      sum += tp / (k + 1);
    }
  }
  return tp ? sum / tp : NaN;
}

/**
 * AP of one query: `sims[c]` similarity to candidate c, `rel[c]` 1 positive / 0 negative / −1
 * not a candidate. Sorted by similarity descending, ties by candidate index.
 */
export function queryAveragePrecision(sims: ArrayLike<number>, rel: ArrayLike<number>): { ap: number; nPos: number; nTotal: number } {
  const idx: number[] = [];
  let nPos = 0;
  for (let c = 0; c < rel.length; c++) {
    if (rel[c]! < 0) continue;
    if (Number.isNaN(sims[c]!)) throw new InputError(`average precision: similarity to candidate ${c} is NaN (an all-zero or non-finite profile?)`);
    idx.push(c);
    if (rel[c] === 1) nPos++;
  }
  idx.sort((a, b) => sims[b]! - sims[a]! || a - b);
  let tp = 0, sum = 0;
  for (let k = 0; k < idx.length; k++) {
    if (rel[idx[k]!] === 1) {
      tp++;
      sum += tp / (k + 1);
    }
  }
  return { ap: nPos ? sum / nPos : NaN, nPos, nTotal: idx.length };
}

/** Sorted (ascending) APs of `nullSize` uniformly random rankings with nPos positives among total. */
export function nullApDistribution(nPos: number, total: number, nullSize: number, rng: Rng): Float64Array {
  if (!(nPos >= 1 && nPos <= total)) throw new RangeError(`null AP: need 1 ≤ positives (${nPos}) ≤ candidates (${total})`);
  const out = new Float64Array(nullSize);
  const pool = new Int32Array(total);
  const pos = new Int32Array(nPos);
  for (let s = 0; s < nullSize; s++) {
    for (let i = 0; i < total; i++) pool[i] = i;
    // Partial Fisher–Yates: the first nPos slots are a uniform random subset of ranks.
    for (let i = 0; i < nPos; i++) {
      const j = i + rng.int(total - i);
      const t = pool[i]!;
      pool[i] = pool[j]!;
      pool[j] = t;
      pos[i] = pool[i]!;
    }
    pos.sort();
    let sum = 0;
    for (let k = 0; k < nPos; k++) sum += (k + 1) / (pos[k]! + 1);
    out[s] = sum / nPos;
  }
  return out.sort();
}

/** p = (#{null ≥ observed} + 1) / (nullSize + 1). */
export function permutationPValue(observed: number, nullSamples: ArrayLike<number>): number {
  let ge = 0;
  for (let s = 0; s < nullSamples.length; s++) if (nullSamples[s]! >= observed) ge++;
  return (ge + 1) / (nullSamples.length + 1);
}

export interface MapGroup {
  group: string;
  mAP: number;
  nQueries: number;
  /** Mean over queries of #positives / #candidates. */
  baseline: number;
  nullMean: number;
  pValue: number;
  qValue: number;
  retrieved: boolean;
}

export interface MapResult {
  groups: MapGroup[];
  /** Mean of the groups' mAP. */
  meanMap: number;
  /** Mean of the groups' random baselines. */
  meanBaseline: number;
  /** Share of groups with q < threshold. */
  fractionRetrieved: number;
  /** Queries without any positive (AP undefined) — left out, as copairs does. */
  queriesWithoutPositives: number;
  nullSize: number;
  threshold: number;
}

export interface MapOptions {
  /** Null samples per shape (default 1000). */
  nullSize?: number;
  seed?: number;
  /** q threshold for "retrieved" (default 0.05). */
  threshold?: number;
}

export function meanAveragePrecision(queries: readonly ApQuery[], opts: MapOptions = {}): MapResult {
  const nullSize = opts.nullSize ?? 1000;
  const threshold = opts.threshold ?? 0.05;
  const seed = opts.seed ?? 0;
  if (!(Number.isInteger(nullSize) && nullSize >= 1)) throw new InputError(`mAP: null size must be a positive integer, got ${nullSize}`);
  const valid = queries.filter((q) => q.nPos > 0 && !Number.isNaN(q.ap));
  const nullCache = new Map<string, Float64Array>();
  // One generator per shape, derived from (seed, shape): the null does not depend on query order.
  const nullFor = (nPos: number, total: number): Float64Array => {
    const key = `${nPos},${total}`;
    let v = nullCache.get(key);
    if (!v) {
      v = nullApDistribution(nPos, total, nullSize, new Rng(seed * 1_000_003 + nPos * 65_537 + total));
      nullCache.set(key, v);
    }
    return v;
  };
  const byGroup = new Map<string, ApQuery[]>();
  for (const q of valid) {
    let a = byGroup.get(q.group);
    if (!a) byGroup.set(q.group, (a = []));
    a.push(q);
  }
  const groups: MapGroup[] = [];
  const nullMap = new Float64Array(nullSize);
  for (const [group, qs] of byGroup) {
    nullMap.fill(0);
    let apSum = 0, base = 0;
    for (const q of qs) {
      apSum += q.ap;
      base += q.nPos / q.nTotal;
      const nd = nullFor(q.nPos, q.nTotal);
      for (let s = 0; s < nullSize; s++) nullMap[s] += nd[s]!;
    }
    let nm = 0;
    for (let s = 0; s < nullSize; s++) {
      nullMap[s] /= qs.length;
      nm += nullMap[s]!;
    }
    const mAP = apSum / qs.length;
    groups.push({
      group, mAP, nQueries: qs.length, baseline: base / qs.length, nullMean: nm / nullSize,
      pValue: permutationPValue(mAP, nullMap), qValue: NaN, retrieved: false,
    });
  }
  const q = benjaminiHochberg(groups.map((g) => g.pValue));
  groups.forEach((g, i) => {
    g.qValue = q[i]!;
    g.retrieved = q[i]! < threshold;
  });
  const mean = (f: (g: MapGroup) => number) => (groups.length ? groups.reduce((s, g) => s + f(g), 0) / groups.length : NaN);
  return {
    groups,
    meanMap: mean((g) => g.mAP),
    meanBaseline: mean((g) => g.baseline),
    fractionRetrieved: mean((g) => (g.retrieved ? 1 : 0)),
    queriesWithoutPositives: queries.length - valid.length,
    nullSize,
    threshold,
  };
}

/**
 * Phenotypic activity: each non-control row with a group queries the other rows of its group
 * (positives) against all control rows (negatives). `isControl[i]` marks controls.
 */
export function activityQueries(X: Matrix, groups: readonly (string | null)[], isControl: ArrayLike<boolean | number>): ApQuery[] {
  const n = X.rows;
  if (groups.length !== n || isControl.length !== n) throw new InputError(`activity mAP: ${groups.length} groups / ${isControl.length} control flags for ${n} rows`);
  const qi: number[] = [], ci: number[] = [];
  for (let i = 0; i < n; i++) {
    if (isControl[i]) ci.push(i);
    else if (groups[i] !== null && groups[i] !== undefined) qi.push(i);
  }
  if (!ci.length) throw new InputError('activity mAP: no control rows to rank replicates against');
  // Candidates: all query rows then all controls; similarity of each query to each.
  const cand = [...qi, ...ci];
  const S = cosineSimilarityBetween(takeRows(X, qi), takeRows(X, cand));
  const m = cand.length;
  const rel = new Int8Array(m);
  const out: ApQuery[] = [];
  for (let a = 0; a < qi.length; a++) {
    const g = groups[qi[a]!]!;
    for (let c = 0; c < qi.length; c++) rel[c] = c !== a && groups[qi[c]!] === g ? 1 : -1;
    for (let c = qi.length; c < m; c++) rel[c] = 0;
    const r = queryAveragePrecision(S.data.subarray(a * m, (a + 1) * m), rel);
    out.push({ group: g, query: String(qi[a]), ...r });
  }
  return out;
}

export interface ConsistencySide {
  X: Matrix;
  labels: readonly string[];
  compounds: readonly string[];
  /** Query names (e.g. "compound@dose"); default the row index. */
  names?: readonly string[];
}

/**
 * Phenotypic consistency: each query profile ranks the candidate profiles of OTHER compounds;
 * positives share its label. With `candidates` omitted, the queries rank each other (in-sample);
 * for held-out evaluation pass the held-out treatments as queries and the training ones as
 * candidates.
 */
export function consistencyQueries(queries: ConsistencySide, candidates: ConsistencySide = queries): ApQuery[] {
  if (queries.X.cols !== candidates.X.cols) throw new InputError(`consistency mAP: queries have ${queries.X.cols} features, candidates ${candidates.X.cols}`);
  const nq = queries.X.rows, nc = candidates.X.rows;
  if (!nq || !nc) return [];
  const S = cosineSimilarityBetween(queries.X, candidates.X);
  const rel = new Int8Array(nc);
  const out: ApQuery[] = [];
  for (let q = 0; q < nq; q++) {
    const l = queries.labels[q]!, comp = queries.compounds[q]!;
    for (let c = 0; c < nc; c++) rel[c] = candidates.compounds[c] === comp ? -1 : candidates.labels[c] === l ? 1 : 0;
    const r = queryAveragePrecision(S.data.subarray(q * nc, (q + 1) * nc), rel);
    out.push({ group: l, query: queries.names?.[q] ?? String(q), ...r });
  }
  return out;
}
