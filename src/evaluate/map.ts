/**
 * Mean average precision with copairs semantics (Kalinin et al., "A versatile information
 * retrieval framework for evaluating profile strength and similarity", Nat Commun 2025;
 * cytomining/copairs `map/map.py`, `compute.py`). Per-profile APs come from averagePrecision.ts
 * (any pairing rule); this file groups them, draws the nulls and computes significance, and
 * holds the two fixed recipes `evaluate` uses (activity, consistency) as presets of that engine.
 *
 * Significance: for every (#positives, #candidates) shape a null of `nullSize` APs of uniformly
 * random rankings is drawn (one seed per shape, derived from the run's seed). A profile's
 * p = (#{null ≥ AP} + 1) / (nullSize + 1). A group's null mAP is formed by the MapNullRule
 * ('unsorted', copairs today: index-wise mean of the queries' draws, p counts null > mAP;
 * 'sorted', phenomap's earlier rule: mean of sorted draws, p counts ≥). q = Benjamini–Hochberg
 * over groups; `below_p` = p < threshold, `retrieved` (copairs' below_corrected_p) = q <
 * threshold (0.05). The random baseline beside every mAP is the mean over the group's queries of
 * #positives / #candidates, and `nullMean` the mean of the group's null mAP.
 *
 * The two presets (spec evaluation.md):
 * - phenotypic activity: queries = replicate wells of a treatment; positives = its other
 *   replicates; negatives = control wells; group = treatment.
 * - phenotypic consistency: queries = treatment (or compound) profiles; positives = profiles of
 *   OTHER compounds with the same label; negatives = profiles of other labels; group = label.
 *   Other doses of the query's own compound are neither positive nor negative. A label is one
 *   string here (a multi-MoA "A|B" is its own class, as in the study); `phenomap map
 *   --multilabel` splits it.
 */
import type { MetaColumn } from '../io/profiles.js';
import { type Matrix, takeRows } from '../linalg/matrix.js';
import { benjaminiHochberg } from '../enrich/bh.js';
import { InputError, UsageError } from '../util/errors.js';
import { Rng } from '../linalg/rng.js';
import { averagePrecision, referenceIndexColumn, type AveragePrecisionOptions, type AveragePrecisionResult } from './averagePrecision.js';

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
 * APs of `nullSize` uniformly random rankings with nPos positives among total candidates, in draw
 * order (copairs' `random_ap`: a uniformly random subset of ranks for the positives).
 */
export function nullApDistribution(nPos: number, total: number, nullSize: number, rng: Rng): Float64Array {
  if (!(nPos >= 1 && nPos <= total)) throw new RangeError(`null AP: need 1 ≤ positives (${nPos}) ≤ candidates (${total})`);
  const out = new Float64Array(nullSize);
  const pool = new Int32Array(total);
  for (let i = 0; i < total; i++) pool[i] = i;
  const pos = new Int32Array(nPos);
  const swapped = new Int32Array(nPos);
  for (let s = 0; s < nullSize; s++) {
    // Partial Fisher–Yates: the first nPos slots become a uniform random subset of ranks; the
    // swaps are undone afterwards so each draw costs O(nPos), not O(total).
    for (let i = 0; i < nPos; i++) {
      const j = i + rng.int(total - i);
      swapped[i] = j;
      const t = pool[i]!;
      pool[i] = pool[j]!;
      pool[j] = t;
      pos[i] = pool[i]!;
    }
    for (let i = nPos - 1; i >= 0; i--) {
      const j = swapped[i]!;
      const t = pool[i]!;
      pool[i] = pool[j]!;
      pool[j] = t;
    }
    pos.sort();
    let sum = 0;
    for (let k = 0; k < nPos; k++) sum += (k + 1) / (pos[k]! + 1);
    out[s] = sum / nPos;
  }
  return out;
}

/**
 * p = (#{null ≥ observed} + 1) / (nullSize + 1), or with `strict` (#{null > observed} + 1) /
 * (nullSize + 1) — copairs counts ≥ for a profile's AP and > for a group's mAP.
 */
export function permutationPValue(observed: number, nullSamples: ArrayLike<number>, strict = false): number {
  let c = 0;
  if (strict) for (let s = 0; s < nullSamples.length; s++) c += nullSamples[s]! > observed ? 1 : 0;
  else for (let s = 0; s < nullSamples.length; s++) c += nullSamples[s]! >= observed ? 1 : 0;
  return (c + 1) / (nullSamples.length + 1);
}

/**
 * How a group's null mAP is formed from its queries' null APs:
 * - 'unsorted' (default; copairs `map/map.py` since 2023-12): one null per (positives,
 *   candidates) shape, all from one seed; the group's null sample s is the mean of its queries'
 *   s-th draws (queries of one shape share that shape's draws); p counts null mAP > observed.
 * - 'sorted' (phenomap before issue 23, copairs before 2023-12): each shape's draws sorted first,
 *   so sample s averages the s-th smallest AP of every query's shape — comonotone, a wider null,
 *   conservative when a group mixes shapes; p counts null mAP ≥ observed.
 * The two agree when all of a group's queries share one shape.
 */
export type MapNullRule = 'unsorted' | 'sorted';
export const MAP_NULL_RULES: readonly MapNullRule[] = ['unsorted', 'sorted'];

/** One seed per (seed, shape), so a shape's null does not depend on which other shapes exist. */
function shapeSeed(seed: number, nPos: number, total: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ Math.floor(seed / 4294967296) ^ (nPos * 0x27d4eb2f), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ (h >>> 15) ^ total, 0x165667b1) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  return h * 2048 + ((nPos + 31 * total) & 2047);
}

/**
 * Null APs per (positives, candidates) shape, drawn once and shared by the per-profile p-values
 * and the per-group mAP nulls. Draws are stored as float32 (as copairs stores them).
 */
export class ApNulls {
  private readonly draws = new Map<string, Float32Array>();
  private readonly sortedDraws = new Map<string, Float32Array>();
  constructor(readonly nullSize: number, readonly seed: number) {
    if (!(Number.isInteger(nullSize) && nullSize >= 1)) throw new UsageError(`--null-size must be a positive integer, got ${nullSize}`);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got ${seed}`);
  }
  /** The shape's draws in draw order. */
  of(nPos: number, total: number): Float32Array {
    const key = `${nPos},${total}`;
    let v = this.draws.get(key);
    if (!v) {
      v = Float32Array.from(nullApDistribution(nPos, total, this.nullSize, new Rng(shapeSeed(this.seed, nPos, total))));
      this.draws.set(key, v);
    }
    return v;
  }
  /** The shape's draws, ascending. */
  sorted(nPos: number, total: number): Float32Array {
    const key = `${nPos},${total}`;
    let v = this.sortedDraws.get(key);
    if (!v) this.sortedDraws.set(key, (v = this.of(nPos, total).slice().sort()));
    return v;
  }
  /** copairs' per-profile p-value: (#{null ≥ AP} + 1) / (nullSize + 1). */
  pValue(ap: number, nPos: number, total: number): number {
    const s = this.sorted(nPos, total);
    let lo = 0, hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]! < ap) lo = mid + 1;
      else hi = mid;
    }
    return (s.length - lo + 1) / (s.length + 1);
  }
  get shapes(): number {
    return this.draws.size;
  }
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
  /** p < threshold (copairs' below_p). */
  belowP: boolean;
  /** q < threshold (copairs' below_corrected_p). */
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
  nullRule: MapNullRule;
}

export interface MapOptions {
  /** Null samples per shape (default 1000). */
  nullSize?: number;
  seed?: number;
  /** Threshold for below_p and "retrieved" (q < threshold; default 0.05). */
  threshold?: number;
  /** How a group's null is formed (default 'unsorted', copairs today). */
  nullRule?: MapNullRule;
  /** Reuse nulls already drawn (same nullSize and seed). */
  nulls?: ApNulls;
}

export function meanAveragePrecision(queries: readonly ApQuery[], opts: MapOptions = {}): MapResult {
  const nullSize = opts.nullSize ?? opts.nulls?.nullSize ?? 1000;
  const threshold = opts.threshold ?? 0.05;
  const seed = opts.seed ?? opts.nulls?.seed ?? 0;
  const nullRule = opts.nullRule ?? 'unsorted';
  if (!MAP_NULL_RULES.includes(nullRule)) throw new UsageError(`--map-null: unknown rule "${String(nullRule)}" (choose ${MAP_NULL_RULES.join(', ')})`);
  if (!(threshold > 0 && threshold <= 1)) throw new UsageError(`--threshold must be in (0, 1], got ${threshold}`);
  const nulls = opts.nulls ?? new ApNulls(nullSize, seed);
  if (nulls.nullSize !== nullSize || nulls.seed !== seed) throw new UsageError('mAP: the nulls given were drawn with another null size or seed');
  const valid = queries.filter((q) => q.nPos > 0 && !Number.isNaN(q.ap));
  const byGroup = new Map<string, ApQuery[]>();
  for (const q of valid) {
    let a = byGroup.get(q.group);
    if (!a) byGroup.set(q.group, (a = []));
    a.push(q);
  }
  const groups: MapGroup[] = [];
  const nullMap = new Float64Array(nullSize);
  const strict = nullRule === 'unsorted';
  for (const [group, qs] of byGroup) {
    nullMap.fill(0);
    let apSum = 0, base = 0;
    // Queries of one shape share its draws: add each shape once, weighted by its count.
    const shapes = new Map<string, { nPos: number; nTotal: number; count: number }>();
    for (const q of qs) {
      apSum += q.ap;
      base += q.nPos / q.nTotal;
      const key = `${q.nPos},${q.nTotal}`;
      const s = shapes.get(key);
      if (s) s.count++;
      else shapes.set(key, { nPos: q.nPos, nTotal: q.nTotal, count: 1 });
    }
    for (const { nPos, nTotal, count } of shapes.values()) {
      const nd = strict ? nulls.of(nPos, nTotal) : nulls.sorted(nPos, nTotal);
      for (let s = 0; s < nullSize; s++) nullMap[s] += count * nd[s]!;
    }
    let nm = 0;
    for (let s = 0; s < nullSize; s++) {
      nullMap[s] /= qs.length;
      nm += nullMap[s]!;
    }
    const mAP = apSum / qs.length;
    const pValue = permutationPValue(mAP, nullMap, strict);
    groups.push({
      group, mAP, nQueries: qs.length, baseline: base / qs.length, nullMean: nm / nullSize,
      pValue, qValue: NaN, belowP: pValue < threshold, retrieved: false,
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
    nullRule,
  };
}

/** ApQuery records from an averagePrecision result; `groupOf(row, label)` names each AP's group. */
export function apQueries(r: AveragePrecisionResult, groupOf: (row: number, label: number) => string, queryName: (row: number) => string = String): ApQuery[] {
  const out: ApQuery[] = [];
  for (let t = 0; t < r.ap.length; t++) {
    const i = r.row[t]!;
    out.push({ group: groupOf(i, r.label[t]!), query: queryName(i), ap: r.ap[t]!, nPos: r.nPos[t]!, nTotal: r.nTotal[t]! });
  }
  return out;
}

/**
 * Phenotypic activity, a preset of averagePrecision: each non-control row with a group ranks the
 * other rows of its group (positives) against all control rows (negatives) — copairs' activity
 * recipe (pos_sameby = [group, reference index], neg_diffby = [group, reference index]).
 * `isControl[i]` marks controls; rows with neither a group nor the control flag are left out.
 * A treated row without a replicate is returned with nPos 0 and AP NaN.
 */
export function activityQueries(X: Matrix, groups: readonly (string | null)[], isControl: ArrayLike<boolean | number>, opts: PresetOptions = {}): ApQuery[] {
  const n = X.rows;
  if (groups.length !== n || isControl.length !== n) throw new InputError(`activity mAP: ${groups.length} groups / ${isControl.length} control flags for ${n} rows`);
  const rows: number[] = [];
  let controls = 0;
  for (let i = 0; i < n; i++) {
    if (isControl[i]) {
      rows.push(i);
      controls++;
    } else if (groups[i] !== null && groups[i] !== undefined) rows.push(i);
  }
  if (!controls) throw new InputError('activity mAP: no control rows to rank replicates against');
  const ctl = rows.map((i) => !!isControl[i]);
  const meta: MetaColumn[] = [
    { name: 'group', kind: 'string', values: rows.map((i, r) => (ctl[r] ? '\u0000control' : groups[i]!)) },
    referenceIndexColumn('reference', ctl),
  ];
  const queries = ctl.map((c) => !c);
  const treated = rows.filter((_, r) => !ctl[r]);
  if (treated.length === 0) return [];
  const rule = ['group', 'reference'];
  const r = averagePrecision(meta, takeRows(X, rows), { pos: { sameby: rule }, neg: { diffby: rule }, queries, ...opts, source: 'activity mAP' });
  const out = apQueries(r, (t) => groups[rows[t]!]!, (t) => String(rows[t]!));
  for (const t of r.noPositive) out.push({ group: groups[rows[t]!]!, query: String(rows[t]!), ap: NaN, nPos: 0, nTotal: 0 });
  return out;
}

export interface ConsistencySide {
  X: Matrix;
  labels: readonly string[];
  compounds: readonly string[];
  /** Query names (e.g. "compound@dose"); default the row index. */
  names?: readonly string[];
}

/** Options the presets pass through to averagePrecision. */
export type PresetOptions = Pick<AveragePrecisionOptions, 'distance' | 'similarityPrecision' | 'reporter'>;

/**
 * Phenotypic consistency, a preset of averagePrecision: each query profile ranks the candidate
 * profiles of OTHER compounds; positives share its label, negatives carry another label (copairs'
 * consistency recipe: pos_sameby = [label], pos_diffby = [compound], neg_diffby = [label,
 * compound]). With `candidates` omitted the queries rank each other (in-sample); for held-out
 * evaluation pass the held-out treatments as queries and the training ones as candidates (a
 * side column keeps pairs between the two sides). A query without a positive has nPos 0, AP NaN.
 */
export function consistencyQueries(queries: ConsistencySide, candidates: ConsistencySide = queries, opts: PresetOptions = {}): ApQuery[] {
  if (queries.X.cols !== candidates.X.cols) throw new InputError(`consistency mAP: queries have ${queries.X.cols} features, candidates ${candidates.X.cols}`);
  const nq = queries.X.rows, nc = candidates.X.rows;
  if (!nq || !nc) return [];
  const same = candidates === queries;
  const X = same ? queries.X : { rows: nq + nc, cols: queries.X.cols, data: concat(queries.X.data, candidates.X.data) };
  const labels = same ? [...queries.labels] : [...queries.labels, ...candidates.labels];
  const compounds = same ? [...queries.compounds] : [...queries.compounds, ...candidates.compounds];
  const meta: MetaColumn[] = [
    { name: 'label', kind: 'string', values: labels },
    { name: 'compound', kind: 'string', values: compounds },
  ];
  const side = same ? [] : ['side'];
  if (!same) meta.push({ name: 'side', kind: 'string', values: labels.map((_, i) => (i < nq ? 'query' : 'candidate')) });
  const isQuery = labels.map((_, i) => i < nq);
  const names = (t: number) => queries.names?.[t] ?? String(t);
  const out: ApQuery[] = [];
  let r: AveragePrecisionResult;
  try {
    r = averagePrecision(meta, X, {
      pos: { sameby: ['label'], diffby: ['compound', ...side] },
      neg: { diffby: ['label', 'compound', ...side] },
      queries: isQuery, ...opts, source: 'consistency mAP',
    });
  } catch (e) {
    // No pair at all (e.g. every label held by one compound): every query is without positives.
    if (!(e instanceof InputError) || !/yields no pair/.test(e.message)) throw e;
    return queries.labels.map((l, t) => ({ group: l, query: names(t), ap: NaN, nPos: 0, nTotal: 0 }));
  }
  out.push(...apQueries(r, (t) => labels[t]!, names));
  for (const t of r.noPositive) out.push({ group: labels[t]!, query: names(t), ap: NaN, nPos: 0, nTotal: 0 });
  return out;
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
