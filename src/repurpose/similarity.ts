/**
 * Compound-to-compound similarity in one representation of a run, and its null.
 *
 * Treatments: the run's wells of each compound at each dose (dose column present) are combined
 * into one consensus profile (src/preprocess/consensus.ts: median, or MODZ), then, where the
 * negative-control wells are in the same space, the control centroid is subtracted so that a
 * profile is the treatment's change from control (a weak compound then points nowhere in
 * particular instead of sharing the controls' offset with every other weak compound). Cosine
 * similarity between treatments; the similarity of two compounds is the largest over their
 * treatment pairs (the best-matching doses, which are reported).
 *
 * Null: the same statistic over all pairs of distinct compounds not involving the query
 * (controls excluded), so a neighbour's rank percentile and empirical p-value,
 * p = (#{null ≥ s} + 1) / (#null + 1), already account for taking a maximum over doses. All pairs
 * are used up to `maxNullPairs`; above, that many pairs are drawn with a seeded generator.
 */
import { type Matrix, gemmNT, takeRows, zeros } from '../linalg/index.js';
import type { Profiles } from '../io/profiles.js';
import { consensus, type ConsensusMethod } from '../preprocess/consensus.js';
import { Rng } from '../linalg/rng.js';

export interface TreatmentSpace {
  /** Compound names (controls excluded), in order of first appearance in the run. */
  compounds: string[];
  /** Treatments: compound index, dose, wells. */
  treatmentCompound: Int32Array;
  treatmentDose: (string | null)[];
  treatmentWells: Int32Array;
  /** Treatment indices of each compound. */
  treatmentsOf: number[][];
  /** Unit-length treatment profiles (rows), centred on the controls when `centred`. */
  U: Matrix;
  centred: boolean;
  controlWells: number;
}

export interface CompoundPair {
  similarity: number;
  /** Treatment of each side that gave the maximum. */
  ta: number;
  tb: number;
}

/**
 * Treatment consensus profiles of a representation. `coords` rows = run rows; `compound[r]`
 * null for rows that are not a compound; `isControl[r]` marks control rows in the run.
 */
export function treatmentSpace(
  coords: Matrix, compound: readonly (string | null)[], dose: readonly (string | null)[], isControl: ArrayLike<number>,
  opts: { method?: ConsensusMethod; controlCentroid?: Float64Array | null } = {},
): TreatmentSpace {
  const rows: number[] = [];
  for (let r = 0; r < coords.rows; r++) if (!isControl[r] && compound[r] !== null && compound[r] !== undefined) rows.push(r);
  const X = takeRows(coords, rows);
  const p: Profiles = {
    features: Array.from({ length: coords.cols }, (_, j) => `c${j}`),
    X,
    meta: [
      { name: 'compound', kind: 'string', values: rows.map((r) => compound[r]!) },
      { name: 'dose', kind: 'string', values: rows.map((r) => dose[r] ?? null) },
    ],
  };
  const cons = consensus(p, { strata: ['compound', 'dose'], method: opts.method ?? 'median', countColumn: 'wells' });
  const meta = (name: string) => cons.profiles.meta.find((m) => m.name === name)!;
  const tComp = meta('compound').values as (string | null)[];
  const tDose = meta('dose').values as (string | null)[];
  const tWells = meta('wells').values as Float64Array;
  const T = cons.profiles.X.rows, d = coords.cols;
  const compounds: string[] = [];
  const index = new Map<string, number>();
  const treatmentCompound = new Int32Array(T);
  const treatmentsOf: number[][] = [];
  for (let t = 0; t < T; t++) {
    const c = tComp[t]!;
    let k = index.get(c);
    if (k === undefined) {
      k = compounds.length;
      index.set(c, k);
      compounds.push(c);
      treatmentsOf.push([]);
    }
    treatmentCompound[t] = k;
    treatmentsOf[k]!.push(t);
  }
  const U = zeros(T, d);
  const centroid = opts.controlCentroid ?? null;
  for (let t = 0; t < T; t++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = cons.profiles.X.data[t * d + j]! - (centroid ? centroid[j]! : 0);
      U.data[t * d + j] = v;
      s += v * v;
    }
    // A consensus exactly at the control centroid has no direction: it stays zero (similarity 0).
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) U.data[t * d + j] *= inv;
  }
  let controlWells = 0;
  for (let r = 0; r < coords.rows; r++) if (isControl[r]) controlWells++;
  return {
    compounds, treatmentCompound, treatmentDose: tDose, treatmentWells: Int32Array.from(tWells), treatmentsOf, U,
    centred: centroid !== null, controlWells,
  };
}

/** Mean of the given rows (the control centroid). */
export function rowMean(X: Matrix, rows: ArrayLike<number>): Float64Array {
  const d = X.cols, out = new Float64Array(d);
  for (let t = 0; t < rows.length; t++) {
    const o = rows[t]! * d;
    for (let j = 0; j < d; j++) out[j] += X.data[o + j]!;
  }
  for (let j = 0; j < d; j++) out[j] /= rows.length;
  return out;
}

/** Similarity of compound c to every compound (max over treatment pairs), with the treatments that gave it. */
export function compoundRow(space: TreatmentSpace, c: number): CompoundPair[] {
  const own = space.treatmentsOf[c]!;
  const S = gemmNT(takeRows(space.U, own), space.U);
  const T = space.U.rows;
  const out: CompoundPair[] = space.compounds.map(() => ({ similarity: -Infinity, ta: -1, tb: -1 }));
  for (let a = 0; a < own.length; a++) {
    for (let t = 0; t < T; t++) {
      const s = S.data[a * T + t]!;
      const b = out[space.treatmentCompound[t]!]!;
      if (s > b.similarity) {
        b.similarity = s;
        b.ta = own[a]!;
        b.tb = t;
      }
    }
  }
  return out;
}

export interface PairNull {
  /** Sorted (ascending) similarities of every pair in the null. */
  all: Float64Array;
  /** Per compound: sorted similarities of the null's pairs involving it (removed for its own query). */
  byCompound: Float64Array[];
  exact: boolean;
  /** Pairs in the null of a given query = all.length − byCompound[q].length. */
}

/** Number of values in sorted `a` that are ≥ v, and that are < v. */
function countAtLeast(a: Float64Array, v: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return a.length - lo;
}

/**
 * The null of compound-pair similarities: every pair when there are at most `maxPairs`, else
 * `maxPairs` pairs drawn uniformly (seeded). Blocked over treatments, so memory stays
 * O(block × treatments + compounds²) in the exact case.
 */
export function pairNull(space: TreatmentSpace, opts: { maxPairs?: number; seed?: number } = {}): PairNull {
  const C = space.compounds.length;
  const maxPairs = opts.maxPairs ?? 1_000_000;
  const total = (C * (C - 1)) / 2;
  const lists: number[][] = space.compounds.map(() => []);
  let all: Float64Array;
  if (total <= maxPairs) {
    const M = new Float64Array(C * C).fill(-Infinity);
    const T = space.U.rows, B = 256;
    for (let t0 = 0; t0 < T; t0 += B) {
      const idx = Array.from({ length: Math.min(B, T - t0) }, (_, i) => t0 + i);
      const S = gemmNT(takeRows(space.U, idx), space.U);
      for (let a = 0; a < idx.length; a++) {
        const ca = space.treatmentCompound[idx[a]!]!;
        for (let t = 0; t < T; t++) {
          const cb = space.treatmentCompound[t]!;
          const s = S.data[a * T + t]!;
          if (s > M[ca * C + cb]!) M[ca * C + cb] = s;
        }
      }
    }
    all = new Float64Array(total);
    let k = 0;
    for (let a = 0; a < C; a++) {
      for (let b = a + 1; b < C; b++) {
        const s = Math.max(M[a * C + b]!, M[b * C + a]!);
        all[k++] = s;
        lists[a]!.push(s);
        lists[b]!.push(s);
      }
    }
  } else {
    const rng = new Rng(opts.seed ?? 0);
    all = new Float64Array(maxPairs);
    const d = space.U.cols, u = space.U.data;
    for (let k = 0; k < maxPairs; k++) {
      const a = rng.int(C);
      let b = rng.int(C - 1);
      if (b >= a) b++;
      let best = -Infinity;
      for (const ta of space.treatmentsOf[a]!) {
        for (const tb of space.treatmentsOf[b]!) {
          let s = 0;
          const oa = ta * d, ob = tb * d;
          for (let j = 0; j < d; j++) s += u[oa + j]! * u[ob + j]!;
          if (s > best) best = s;
        }
      }
      all[k] = best;
      lists[a]!.push(best);
      lists[b]!.push(best);
    }
  }
  return { all: all.sort(), byCompound: lists.map((l) => Float64Array.from(l).sort()), exact: total <= maxPairs };
}

/** Rank percentile (share of null pairs less similar, in %) and p-value of similarity s for query q. */
export function nullPosition(nul: PairNull, q: number, s: number): { percentile: number; p: number; pairs: number } {
  const own = nul.byCompound[q]!;
  const pairs = nul.all.length - own.length;
  const ge = countAtLeast(nul.all, s) - countAtLeast(own, s);
  return { percentile: pairs ? (100 * (pairs - ge)) / pairs : NaN, p: (ge + 1) / (pairs + 1), pairs };
}
