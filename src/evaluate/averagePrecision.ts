/**
 * Average precision of each profile's rank list under any pairing rule, with copairs' semantics
 * (Kalinin et al., Nat Commun 2025; cytomining/copairs `map/average_precision.py`,
 * `map/multilabel.py`, `compute.py`, matched against v0.4.4 and checked unchanged at 2025-10 HEAD):
 *
 * - a profile's rank list holds every pair it belongs to: its positive pairs (pos rule) and its
 *   negative pairs (neg rule); a pair that satisfies both rules appears once in each list;
 * - candidates are ranked by similarity, descending: cosine, abs-cosine, correlation, or
 *   euclidean as 1 / (1 + distance);
 * - ranks are decided as copairs decides them: similarities are stored as float32, sorted on the
 *   float32 value 1 − s, and a positive precedes a negative of equal key (copairs' stable
 *   lexsort over positives-then-negatives) — so exactly tied (and float32-tied) similarities
 *   rank as in copairs. `similarityPrecision: 'float64'` ranks on the float64 similarity instead;
 * - AP = mean over positives of the precision at that positive's rank; n_pos, n_total = list sizes;
 * - multilabel: one AP per (profile, shared label) with that label's positives against all the
 *   profile's negatives (copairs' multilabel AP).
 *
 * Differences, on purpose: a profile that has no positive pair gets no AP (copairs writes NaN);
 * its row is listed in `noPositive` instead. A rule column that does not exist, or holds a
 * missing value, and a feature that is missing or infinite are errors naming the column and row.
 *
 * Pairs are never materialised. Each query profile's candidates come from integer-coded group
 * indices; similarities come from blocked matrix products (linalg's gemm) against the rows that
 * can be a negative for some query, and each rank list is reduced on the fly to AP: positives
 * sorted, each negative counted against them through a bucket table (apFromKeys). Memory is the
 * feature table plus O(n) per column and one block of similarities (at most 256 queries × n).
 */
import type { MetaColumn } from '../io/profiles.js';
import { type Matrix, type StoredMatrix, takeRows } from '../linalg/matrix.js';
import { gemmNT } from '../linalg/blas.js';
import { InputError, UsageError } from '../util/errors.js';
import { type Reporter, silentReporter } from '../util/log.js';
import {
  type CodedColumn, type CompiledRule, type GroupIndex, type LabelSets, type PairRule,
  codeColumn, compileRule, groupIndex, hasLabel, isPair, labelIndex, labelSets, ruleColumns,
} from './pairs.js';

export type SimilarityName = 'cosine' | 'abs-cosine' | 'correlation' | 'euclidean';
export const SIMILARITIES: readonly SimilarityName[] = ['cosine', 'abs-cosine', 'correlation', 'euclidean'];

export interface AveragePrecisionOptions {
  /** Positive pairs: copairs' pos_sameby / pos_diffby. */
  pos: PairRule;
  /** Negative pairs: copairs' neg_sameby / neg_diffby. */
  neg: PairRule;
  /** Similarity ranked on (default cosine). */
  distance?: SimilarityName;
  /** One multilabel column and its separator (default "|"). */
  multilabel?: { column: string; sep?: string };
  /** Profiles that get an AP (default all); others still serve as candidates. */
  queries?: ArrayLike<boolean | number>;
  /** 'float32' (default): rank as copairs, on float32 similarities; 'float64': on full precision. */
  similarityPrecision?: 'float32' | 'float64';
  /** Name used in messages (file name). */
  source?: string;
  /** Feature names, for messages. */
  features?: readonly string[];
  reporter?: Reporter;
}

export interface AveragePrecisionResult {
  /** Row (profile index) of each AP. */
  readonly row: Int32Array;
  /** Label id of each AP in `labels` (multilabel), else −1. */
  readonly label: Int32Array;
  readonly labels: readonly string[] | null;
  readonly ap: Float64Array;
  readonly nPos: Int32Array;
  /** Positives + negatives in the rank list. */
  readonly nTotal: Int32Array;
  /** Query rows without any positive pair (no AP; copairs writes NaN for them). */
  readonly noPositive: Int32Array;
  /** APs whose list has no negative (AP = 1 by construction). */
  readonly noNegative: number;
  /** Positive and negative entries over all rank lists. */
  readonly entries: { readonly positive: number; readonly negative: number };
  readonly distance: SimilarityName;
  readonly warnings: string[];
}

/**
 * Query rows per block of similarities. The product packs every candidate row once per block, so
 * fewer than ~256 queries per block leave it bound by that packing (at 100,000 candidates a block
 * capped at 32 MB held 44 queries and ran at half the multiply-add rate of 256). The block is
 * 256 × candidates doubles (2 KB per candidate), down to 64 queries past BLOCK_DOUBLES.
 */
const BLOCK_QUERIES = 256, MIN_BLOCK_QUERIES = 64;
const BLOCK_DOUBLES = 1 << 25;

function checkFinite(X: StoredMatrix, features: readonly string[] | undefined, source: string): void {
  const { rows, cols, data } = X;
  for (let t = 0; t < data.length; t++) {
    const v = data[t]!;
    if (v - v !== 0) {
      const i = Math.floor(t / cols), j = t % cols;
      const what = v !== v ? 'missing' : 'infinite';
      throw new InputError(`${source}: feature ${features?.[j] ?? `column ${j}`} is ${what} in row ${i} (of ${rows}); AP needs complete profiles — drop or impute it first`);
    }
  }
}

/** Rows centred on their own mean (Pearson correlation = cosine of centred rows). */
function centreRows(X: StoredMatrix): Matrix {
  const { rows, cols, data } = X;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let m = 0;
    for (let j = 0; j < cols; j++) m += data[o + j]!;
    m /= cols;
    for (let j = 0; j < cols; j++) out[o + j] = data[o + j]! - m;
  }
  return { rows, cols, data: out };
}

/** Bucket table of apFromKeys, grown as needed (one per process: the call is synchronous). */
let bucketStart = new Int32Array(0);

/**
 * AP of one rank list from its keys (ascending key = descending similarity; a positive precedes
 * a negative of equal key). `pos` is sorted in place; `cnt` has room for P + 1 counts.
 *
 * Each negative needs the number of positives with key ≤ its own. Rather than a binary search
 * (≈ log₂ P unpredictable branches per negative, most of a large run's time), the positives'
 * key range is cut into ~8P equal buckets: a negative's bucket gives the positives below that
 * bucket at once, and only the few positives sharing its bucket are compared. The bucket of a
 * key, ⌊(key − min) · scale⌋, is monotone in the key, so the count is exact, ties included.
 */
export function apFromKeys(pos: Float64Array, P: number, neg: Float64Array, N: number, cnt: Int32Array): number {
  const pk = pos.subarray(0, P).sort();
  cnt.fill(0, 0, P + 1);
  const lo0 = pk[0]!, hi0 = pk[P - 1]!;
  // ~8 buckets per positive: measured 2× faster than 2 per positive on bell-shaped keys, where
  // the dense middle buckets otherwise hold several positives to compare.
  let M = 16;
  while (M < 8 * P && M < 1 << 17) M <<= 1;
  const scale = M / (hi0 - lo0);
  // Few positives, all tied, or a range so narrow that the scale overflows: plain binary search.
  if (P < 8 || !(hi0 > lo0) || !(scale < Infinity)) {
    for (let t = 0; t < N; t++) cnt[countAtMost(pk, 0, P, neg[t]!)]++;
  } else {
    if (bucketStart.length < M + 1) bucketStart = new Int32Array(Math.max(M + 1, 2 * bucketStart.length));
    const start = bucketStart;
    const last = M - 1;
    // start[b] = first positive whose bucket is ≥ b.
    let b = 0;
    for (let k = 0; k < P; k++) {
      const kb = Math.min(last, ((pk[k]! - lo0) * scale) | 0);
      while (b <= kb) start[b++] = k;
    }
    while (b <= M) start[b++] = P;
    for (let t = 0; t < N; t++) {
      const v = neg[t]!;
      if (v < lo0) cnt[0]++;
      else if (v >= hi0) cnt[P]++;
      else {
        const vb = Math.min(last, ((v - lo0) * scale) | 0);
        let k = start[vb]!;
        const e = start[vb + 1]!;
        if (e - k > 8) k = countAtMost(pk, k, e, v);
        else while (k < e && pk[k]! <= v) k++;
        cnt[k]++;
      }
    }
  }
  let above = 0, sum = 0;
  for (let k = 0; k < P; k++) {
    above += cnt[k]!;
    sum += (k + 1) / (k + 1 + above);
  }
  return sum / P;
}

/** First index in the ascending pk[lo, hi) whose key exceeds v (lo + #keys ≤ v there). */
function countAtMost(pk: Float64Array, lo: number, hi: number, v: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pk[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Lists {
  /** Positives per list: one list (single label) or one per shared label. */
  readonly starts: number[];
  readonly labelOf: number[];
  readonly rows: number[];
}

export function averagePrecision(meta: readonly MetaColumn[], X: StoredMatrix, opts: AveragePrecisionOptions): AveragePrecisionResult {
  const source = opts.source ?? 'profiles';
  const reporter = opts.reporter ?? silentReporter;
  const distance = opts.distance ?? 'cosine';
  if (!SIMILARITIES.includes(distance)) throw new UsageError(`--distance: unknown similarity "${String(distance)}" (choose ${SIMILARITIES.join(', ')})`);
  const f32 = (opts.similarityPrecision ?? 'float32') === 'float32';
  const n = X.rows, d = X.cols;
  if (n < 2) throw new InputError(`${source}: average precision needs at least two profiles, got ${n}`);
  const warnings: string[] = [];

  // Columns: every rule column must exist; the multilabel column is split into label sets.
  const ml = opts.multilabel;
  const names = ruleColumns(opts.pos, opts.neg);
  if (ml && !names.includes(ml.column)) {
    throw new UsageError(`--multilabel ${ml.column}: the column must be in a sameby or diffby list (as copairs requires)`);
  }
  const byName = new Map(meta.map((c) => [c.name, c]));
  const missingCols = names.filter((c) => !byName.has(c));
  if (missingCols.length) {
    const have = meta.map((c) => c.name);
    const shown = have.slice(0, 12).join(', ') + (have.length > 12 ? `, … (${have.length} in all)` : '');
    throw new InputError(`${source}: pairing rule column${missingCols.length > 1 ? 's' : ''} ${missingCols.map((c) => `"${c}"`).join(', ')} not found (metadata columns: ${shown || 'none'})`);
  }
  const coded: CodedColumn[] = [];
  const colIndex = new Map<string, number>();
  for (const name of names) {
    if (name === ml?.column) continue;
    const col = byName.get(name)!;
    if (col.values.length !== n) throw new InputError(`${source}: column "${name}" has ${col.values.length} values for ${n} profiles`);
    colIndex.set(name, coded.length);
    coded.push(codeColumn(col, source));
  }
  let labels: LabelSets | undefined;
  if (ml) {
    const r = labelSets(byName.get(ml.column)!, ml.sep ?? '|', source);
    labels = r.sets;
    if (r.duplicates) warnings.push(`${r.duplicates} repeated label(s) within a row of "${ml.column}" counted once`);
  }
  const pos = compileRule(opts.pos, 'positive pairs', colIndex, ml?.column);
  const neg = compileRule(opts.neg, 'negative pairs', colIndex, ml?.column);
  const cols = coded.map((c) => c.codes);

  checkFinite(X, opts.features, source);
  const Xs: StoredMatrix = distance === 'correlation' ? centreRows(X) : X;
  const xs = Xs.data;
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += xs[o + j]! * xs[o + j]!;
    sq[i] = s;
  }
  const inv = new Float64Array(n);
  if (distance !== 'euclidean') {
    for (let i = 0; i < n; i++) {
      if (!(sq[i]! > 0)) {
        throw new InputError(`${source}: profile in row ${i} is ${distance === 'correlation' ? 'constant' : 'all zeros'}, so its ${distance} similarity is undefined; drop it first`);
      }
      inv[i] = 1 / Math.sqrt(sq[i]!);
    }
  }
  const dotRows = (a: number, b: number): number => {
    const ao = a * d, bo = b * d;
    let s = 0;
    for (let t = 0; t < d; t++) s += xs[ao + t]! * xs[bo + t]!;
    return s;
  };
  const directEuclid = (a: number, b: number): number => {
    const ao = a * d, bo = b * d;
    let s = 0;
    for (let t = 0; t < d; t++) {
      const u = xs[ao + t]! - xs[bo + t]!;
      s += u * u;
    }
    return Math.sqrt(s);
  };
  /** Similarity of rows a, b from their dot product. */
  const simOf = (a: number, b: number, dot: number): number => {
    if (distance === 'euclidean') {
      const s2 = sq[a]! + sq[b]!;
      const d2 = s2 - 2 * dot;
      // Cancellation: when the rows are close relative to their length, measure directly.
      const dist = d2 < 1e-6 * s2 ? directEuclid(a, b) : Math.sqrt(d2);
      return 1 / (1 + dist);
    }
    const c = dot * inv[a]! * inv[b]!;
    return distance === 'abs-cosine' ? Math.abs(c) : c;
  };
  const keyOf = f32 ? (s: number) => Math.fround(1 - Math.fround(s)) : (s: number) => -s;

  // Group indices for enumerating candidates.
  const groupCache = new Map<number, GroupIndex>();
  const groupsOf = (c: number): GroupIndex => {
    let g = groupCache.get(c);
    if (!g) groupCache.set(c, (g = groupIndex(coded[c]!.codes, coded[c]!.levels.length)));
    return g;
  };
  const labelGroups = labels ? labelIndex(labels) : undefined;
  /** The sameby column whose groups are smallest (Σ size²): the cheapest to enumerate. */
  const narrowest = (list: Int32Array): number => {
    let best = -1, bestCost = Infinity;
    for (const c of list) {
      const g = groupsOf(c);
      let cost = 0;
      for (let v = 0; v + 1 < g.start.length; v++) cost += (g.start[v + 1]! - g.start[v]!) ** 2;
      if (cost < bestCost) (bestCost = cost), (best = c);
    }
    return best;
  };
  const posNarrow = pos.sameAll.length ? narrowest(pos.sameAll) : -1;
  const negNarrow = neg.sameAll.length ? narrowest(neg.sameAll) : -1;

  const stamp = new Int32Array(n).fill(-1);
  let stampId = 0;
  /** Call fn(j) for each row that may pair with i under a rule's sameby (all rows if it has none). */
  const forCandidates = (r: CompiledRule, narrow: number, i: number, fn: (j: number) => void, label = -1): void => {
    if (label >= 0) {
      for (let t = labelGroups!.start[label]!; t < labelGroups!.start[label + 1]!; t++) fn(labelGroups!.members[t]!);
    } else if (narrow >= 0) {
      const g = groupsOf(narrow), v = cols[narrow]![i]!;
      for (let t = g.start[v]!; t < g.start[v + 1]!; t++) fn(g.members[t]!);
    } else if (r.sameAny.length || r.labelSame) {
      const id = stampId++;
      const visit = (j: number) => {
        if (stamp[j] !== id) {
          stamp[j] = id;
          fn(j);
        }
      };
      for (const c of r.sameAny) {
        const g = groupsOf(c), v = cols[c]![i]!;
        for (let t = g.start[v]!; t < g.start[v + 1]!; t++) visit(g.members[t]!);
      }
      if (r.labelSame) {
        for (let a = labels!.offsets[i]!; a < labels!.offsets[i + 1]!; a++) {
          const l = labels!.ids[a]!;
          for (let t = labelGroups!.start[l]!; t < labelGroups!.start[l + 1]!; t++) visit(labelGroups!.members[t]!);
        }
      }
    } else {
      for (let j = 0; j < n; j++) fn(j);
    }
  };

  /** The positives of query i, one list per shared label (multilabel) or one list. */
  const positivesOf = (i: number, out: Lists): void => {
    out.starts.length = 0;
    out.labelOf.length = 0;
    out.rows.length = 0;
    if (pos.labelSame) {
      for (let a = labels!.offsets[i]!; a < labels!.offsets[i + 1]!; a++) {
        const l = labels!.ids[a]!;
        const start = out.rows.length;
        // The narrowest of the label group and the other sameby columns' group.
        const viaLabel = labelGroups!.start[l + 1]! - labelGroups!.start[l]!;
        let viaCol = Infinity;
        if (posNarrow >= 0) {
          const g = groupsOf(posNarrow), v = cols[posNarrow]![i]!;
          viaCol = g.start[v + 1]! - g.start[v]!;
        }
        const take = (j: number) => {
          if (j !== i && hasLabel(labels!, j, l) && isPair(pos, cols, labels, i, j, false)) out.rows.push(j);
        };
        if (viaCol < viaLabel) forCandidates(pos, posNarrow, i, take);
        else forCandidates(pos, -1, i, take, l);
        if (out.rows.length > start) {
          out.starts.push(start);
          out.labelOf.push(l);
        }
      }
    } else {
      forCandidates(pos, posNarrow, i, (j) => {
        if (j !== i && isPair(pos, cols, labels, i, j)) out.rows.push(j);
      });
      if (out.rows.length) {
        out.starts.push(0);
        out.labelOf.push(-1);
      }
    }
    out.starts.push(out.rows.length);
  };

  // Query profiles: those asked for that have at least one positive pair.
  const asked: number[] = [];
  for (let i = 0; i < n; i++) if (!opts.queries || opts.queries[i]) asked.push(i);
  if (opts.queries && opts.queries.length !== n) throw new InputError(`${source}: ${opts.queries.length} query flags for ${n} profiles`);
  const scratch: Lists = { starts: [], labelOf: [], rows: [] };
  const active: number[] = [];
  const noPositive: number[] = [];
  for (const i of asked) {
    positivesOf(i, scratch);
    if (scratch.rows.length) active.push(i);
    else noPositive.push(i);
  }

  // Negatives: enumerated within sameby groups, or scanned over the rows that can be a negative
  // for some active query. A diffby column on which every active query has the same value rules
  // out the rows with that value (copairs' reference-index trick: treated queries → controls).
  const negEnumerated = neg.sameAll.length > 0 || neg.sameAny.length > 0 || neg.labelSame;
  let U: Int32Array;
  if (negEnumerated || active.length === 0) U = new Int32Array(0);
  else {
    const excluded = new Uint8Array(n);
    for (const c of neg.diffAll) {
      const codes = cols[c]!;
      const v = codes[active[0]!]!;
      if (active.every((i) => codes[i] === v)) for (let j = 0; j < n; j++) if (codes[j] === v) excluded[j] = 1;
    }
    const u: number[] = [];
    for (let j = 0; j < n; j++) if (!excluded[j]) u.push(j);
    U = Int32Array.from(u);
  }
  const uPos = new Int32Array(n).fill(-1);
  U.forEach((j, t) => (uPos[j] = t));
  // Exclusion groups over U for the common negative rule "differ in every diffby column".
  const fastNeg = !negEnumerated && neg.diffAny.length === 0;
  const uGroups = fastNeg ? [...neg.diffAll].map((c) => ({ c, g: groupIndex(cols[c]!, coded[c]!.levels.length, U) })) : [];
  const uLabelGroups = fastNeg && neg.labelDiff ? (() => {
    const levels = labels!.levels.length;
    const start = new Int32Array(levels + 1);
    for (const j of U) for (let t = labels!.offsets[j]!; t < labels!.offsets[j + 1]!; t++) start[labels!.ids[t]! + 1]++;
    for (let v = 0; v < levels; v++) start[v + 1] += start[v]!;
    const fill = start.slice(0, levels);
    const members = new Int32Array(start[levels]!);
    for (const j of U) for (let t = labels!.offsets[j]!; t < labels!.offsets[j + 1]!; t++) members[fill[labels!.ids[t]!]!++] = j;
    return { start, members };
  })() : undefined;

  const XU: StoredMatrix | null = U.length === 0 ? null : U.length === n ? Xs : takeRows(Xs, U);
  const uInv = new Float64Array(U.length);
  U.forEach((j, t) => (uInv[t] = inv[j]!));
  const B = U.length ? Math.max(MIN_BLOCK_QUERIES, Math.min(BLOCK_QUERIES, Math.floor(BLOCK_DOUBLES / U.length))) : BLOCK_QUERIES;

  const outRow: number[] = [], outLabel: number[] = [], outAp: number[] = [], outPos: number[] = [], outTotal: number[] = [];
  let noNegative = 0, posEntries = 0, negEntries = 0;
  const negKeys = new Float64Array(n + 1);
  const posKeys = new Float64Array(n + 1);
  const cnt = new Int32Array(n + 2);
  const excl = new Int32Array(n).fill(-1);
  const lists: Lists = { starts: [], labelOf: [], rows: [] };
  const prog = reporter.progress('average precision', active.length);
  let S: Matrix | null = null;

  for (let b0 = 0; b0 < active.length; b0 += B) {
    const block = active.slice(b0, b0 + B);
    if (XU) {
      const need = block.length * U.length;
      if (!S || S.data.length < need) S = { rows: block.length, cols: U.length, data: new Float64Array(need) };
      const Sb: Matrix = { rows: block.length, cols: U.length, data: S.data.subarray(0, need) };
      gemmNT(takeRows(Xs, block), XU, Sb);
    }
    const sd = S?.data;
    for (let r = 0; r < block.length; r++) {
      const i = block[r]!;
      const so = r * U.length;
      const simTo = (j: number): number => {
        const u = uPos[j]!;
        return simOf(i, j, u >= 0 && sd ? sd[so + u]! : dotRows(i, j));
      };
      // Negative keys.
      let N = 0;
      if (negEnumerated) {
        forCandidates(neg, negNarrow, i, (j) => {
          if (j !== i && isPair(neg, cols, labels, i, j)) negKeys[N++] = keyOf(simTo(j));
        });
      } else if (fastNeg) {
        for (const { c, g } of uGroups) {
          const v = cols[c]![i]!;
          for (let t = g.start[v]!; t < g.start[v + 1]!; t++) excl[g.members[t]!] = i;
        }
        if (uLabelGroups) {
          for (let a = labels!.offsets[i]!; a < labels!.offsets[i + 1]!; a++) {
            const l = labels!.ids[a]!;
            for (let t = uLabelGroups.start[l]!; t < uLabelGroups.start[l + 1]!; t++) excl[uLabelGroups.members[t]!] = i;
          }
        }
        excl[i] = i;
        const ii = inv[i]!;
        const m = U.length;
        if (distance === 'cosine') {
          for (let u = 0; u < m; u++) {
            if (excl[U[u]!] === i) continue;
            const s = sd![so + u]! * ii * uInv[u]!;
            negKeys[N++] = f32 ? Math.fround(1 - Math.fround(s)) : -s;
          }
        } else {
          for (let u = 0; u < m; u++) {
            const j = U[u]!;
            if (excl[j] === i) continue;
            negKeys[N++] = keyOf(simOf(i, j, sd![so + u]!));
          }
        }
      } else {
        const m = U.length;
        for (let u = 0; u < m; u++) {
          const j = U[u]!;
          if (j !== i && isPair(neg, cols, labels, i, j)) negKeys[N++] = keyOf(simOf(i, j, sd![so + u]!));
        }
      }
      positivesOf(i, lists);
      for (let l = 0; l + 1 < lists.starts.length; l++) {
        const a = lists.starts[l]!, e = lists.starts[l + 1]!;
        const P = e - a;
        for (let t = a; t < e; t++) posKeys[t - a] = keyOf(simTo(lists.rows[t]!));
        outRow.push(i);
        outLabel.push(lists.labelOf[l]!);
        outAp.push(apFromKeys(posKeys, P, negKeys, N, cnt));
        outPos.push(P);
        outTotal.push(P + N);
        posEntries += P;
        negEntries += N;
        if (N === 0) noNegative++;
      }
    }
    prog.tick(Math.min(active.length, b0 + B));
  }
  prog.done();

  if (noPositive.length) {
    warnings.push(`${noPositive.length} of ${asked.length} profile(s) have no positive pair under the rule and get no AP (e.g. row ${noPositive.slice(0, 5).join(', ')})`);
  }
  if (noNegative) warnings.push(`${noNegative} rank list(s) have no negative pair (AP = 1 by construction)`);
  if (active.length === 0) {
    throw new InputError(`${source}: the positive-pair rule yields no pair among the ${asked.length} query profile(s); check --pos-sameby / --pos-diffby`);
  }
  if (negEntries === 0) {
    throw new InputError(`${source}: the negative-pair rule yields no pair for any query profile; check --neg-sameby / --neg-diffby`);
  }
  for (const w of warnings) reporter.warn(w);
  return {
    row: Int32Array.from(outRow),
    label: Int32Array.from(outLabel),
    labels: labels ? labels.levels : null,
    ap: Float64Array.from(outAp),
    nPos: Int32Array.from(outPos),
    nTotal: Int32Array.from(outTotal),
    noPositive: Int32Array.from(noPositive),
    noNegative,
    entries: { positive: posEntries, negative: negEntries },
    distance,
    warnings,
  };
}

/** copairs' assign_reference_index: the column is the row index where `isReference`, else −1. */
export function referenceIndexColumn(name: string, isReference: ArrayLike<boolean | number>): MetaColumn {
  const v = new Float64Array(isReference.length);
  for (let i = 0; i < v.length; i++) v[i] = isReference[i] ? i : -1;
  return { name, kind: 'number', values: v };
}

