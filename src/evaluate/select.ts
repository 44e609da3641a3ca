/**
 * Honest model choice: pick one of several representations by nested, compound-grouped
 * cross-validation *inside* an outer fold's training rows. The outer held-out compounds never
 * reach this function, so the choice (reported per outer fold) cannot lean on them.
 *
 * Inner folds: k-fold over the training compounds stratified by label (splits.ts), seeded, and
 * optionally repeated with further seeds (`innerRepeats`, scores pooled over every repeat), or
 * leave-one-compound-out (`innerSplit: 'loco'`, no seed). Each candidate is fitted on the inner
 * training rows and scored by inner NSC (cosine 1-NN of the inner held-out treatments among the
 * inner training treatments, nsc.ts) and inner NSCB, pooled over the inner folds. Criterion 'nsc'
 * (default): highest inner NSC wins, then the higher inner NSCB; 'nsc+map': inner NSC + inner MoA
 * mAP, then NSCB; 'nscb': inner NSCB (not same compound or batch: the transfer the outer figure
 * asks for), then NSC; 'mrr-b': the mean reciprocal rank of the first right neighbour among the
 * NSCB candidates (nsc.ts `firstHitReciprocalRanks`: 1 where NSCB hits, graded where it misses, so
 * fewer ties and less split-to-split noise than the 0/1 hit on a few dozen compounds), then NSCB,
 * then NSC. Remaining ties go to the earlier candidate (the list is the pre-declared order of
 * preference, simplest first). The runner-up is reported too (`second`), for a soft choice.
 *
 * With `corrections`, every candidate is a (batch correction, learner) pair: in every inner fold
 * each correction is refitted on that inner training side (its compounds plus the outer training
 * side's controls and unlabelled rows, `contextRows`) and the inner held-out rows are placed with
 * that fit — exactly as the outer fold fits the correction on its training side — so no inner
 * held-out compound moves the batch estimates it is scored with.
 *
 * With `combine`, the two best candidates' ensemble (e.g. their concatenation) is scored by the same
 * inner folds afterwards and competes with them; it wins only by a strictly higher inner score.
 *
 * Speed without changing a score: the candidates of one inner fold (under one correction) are fitted
 * on the same matrix and the same rows array and get one `memo` in which the fit callback may keep
 * what they share; each is scored by transforming only the outer fit rows (the first m subset rows,
 * where every inner query and candidate is), not the context rows.
 *
 * Inner leave-one-compound-out inside an outer leave-one-compound-out split (`pairShare`): the inner
 * fold that holds out compound b in the outer fold that holds out a is fitted on exactly the rows of
 * the inner fold that holds out a in the outer fold that holds out b (every compound but a and b,
 * plus the same context rows, in the same order). So the fold that meets the pair first also places
 * a's rows (its own outer held-out rows) with each of that inner fold's corrections and learners and
 * scores them against the same inner candidates: that is the other fold's inner score for the pair,
 * handed over (`give`) and taken (`take`) instead of refitting — half the inner fits. It is the same
 * computation on the same numbers (every correction and learner maps a row on its own, products sum
 * in a fixed order whatever the row count), so the choice is unchanged; the caller offers it only
 * when each correction's fit depends on its fit rows alone (not on the outer fold), and it is used
 * only when every batch has context rows (no inner fit meets an unseen batch, whose rows would be
 * placed jointly). Each inner fold's tallies are then summed from zero and added to the total, the
 * same way on both paths.
 */
import type { Matrix, StoredMatrix } from '../linalg/index.js';
import { asFloat64, takeRows } from '../linalg/index.js';
import { UsageError } from '../util/errors.js';
import { makeSplits, type Fold } from './splits.js';
import { buildTreatments, firstHitReciprocalRanks, nearestNeighbourMoa, type TreatmentKeys } from './nsc.js';
import { consistencyQueries } from './map.js';

export interface InnerScore {
  /** The candidate: the learner's name, or "correction/learner" with corrections. */
  name: string;
  /** With corrections: the correction's name and the learner's. */
  correction?: string;
  learner?: string;
  nsc: number;
  nscb: number;
  /** Inner MoA-consistency mAP (mean AP of the inner held-out treatments; NaN unless the criterion uses it). */
  map: number;
  /** Inner mean reciprocal rank of the first right NSCB neighbour (NaN unless the criterion is 'mrr-b'). */
  mrr: number;
}

export type SelectionCriterion = 'nsc' | 'nsc+map' | 'nscb' | 'mrr-b';

/** The batch corrections a nested choice chooses among (see the module comment). */
export interface SelectionCorrections {
  /** Names in the order of preference (ties go to the earlier one; put "none" first). */
  names: readonly string[];
  /**
   * The subset matrix corrected by correction `index` fitted on `fitRows` (indices into the subset:
   * the outer fit rows first, then `contextRows`), every other subset row placed with that fit.
   * `subsetRows` maps subset rows to rows of X. The candidates only read the matrix, so a
   * correction that does not depend on `fitRows` may return the same one for every inner fold.
   */
  correct: (index: number, subsetRows: readonly number[], fitRows: Int32Array) => StoredMatrix;
}

export interface FitCallbackContext {
  /**
   * One store per inner fold and correction, the same for every candidate fitted there (on the same
   * matrix and the same `rows` array): the fit may keep work the candidates share in it.
   */
  memo: Map<string, unknown>;
  groups: (string | null)[];
  batches?: (string | null)[];
  /** Control rows of the inner training side (indices into the subset matrix), with their batches. */
  controlRows?: number[];
  controlBatches?: (string | null)[];
}

/** Inner-fold scores shared between the outer folds of a leave-one-compound-out split (see the module comment). */
export interface InnerPairShare {
  /** The outer fold's held-out rows (indices into X, ascending; all labelled, one compound) and their labels. */
  heldOutRows: readonly number[];
  heldOutLabels: readonly string[];
  /** The tallies of this outer fold's inner fold holding out `group`, if the outer fold holding out `group` gave them. */
  take(group: string): Float64Array | undefined;
  /** The tallies of the outer fold holding out `group`, at its inner fold holding out this fold's compound. */
  give(group: string, tallies: Float64Array): void;
}

/** Numbers per candidate in a shared tally (hit, total, hitB, totalB, apSum, apN, rrSum, rrN). */
export const TALLY_FIELDS = 8;

export interface SelectionInput<S extends { name: string }> {
  candidates: readonly S[];
  /** The outer fold's training rows with labels (indices into X). */
  X: StoredMatrix;
  fitRows: readonly number[];
  labels: readonly string[];
  compounds: readonly (string | null)[];
  doses?: readonly (string | null)[];
  batches?: readonly (string | null)[];
  controlLabels: readonly string[];
  innerFolds: number;
  /** 'kfold' (default; `innerFolds` folds, seeded) or 'loco' (one inner fold per training compound). */
  innerSplit?: 'kfold' | 'loco';
  /** k-fold only: repeat the inner split with this many seeds and pool the scores (default 1). */
  innerRepeats?: number;
  seed: number;
  criterion?: SelectionCriterion;
  /**
   * Other rows of the outer training side (indices into X: controls, unlabelled rows): on every
   * inner training side, never scored. Used by the correction fits and, if controls, by learners
   * that use control rows (`contextIsControl`).
   */
  contextRows?: readonly number[];
  contextIsControl?: readonly boolean[];
  corrections?: SelectionCorrections;
  /** Build the ensemble of two candidates (scored as one more candidate after the others). */
  combine?: (a: S, b: S) => S;
  /** Inner LOCO under an outer LOCO split: share each pair's inner scores with the partner fold (ignored otherwise). */
  pairShare?: InnerPairShare;
  /** Fit a candidate on rows `rows` (indices into the subset matrix) and return its transform. */
  fit: (spec: S, Xsub: StoredMatrix, rows: number[], labels: string[], ctx: FitCallbackContext) => (Y: StoredMatrix) => StoredMatrix;
}

export interface SelectionResult<S> {
  chosen: S;
  /** Index into `corrections.names` of the chosen correction (with corrections). */
  correction?: number;
  scores: InnerScore[];
  /** The chosen candidate's inner score. */
  best: InnerScore;
  /** Inner folds scored (over every repeat). */
  innerFolds: number;
  /** The runner-up by the same criterion (absent with a single candidate). */
  second?: { chosen: S; correction?: number; score: InnerScore };
}

interface Tally { hit: number; total: number; hitB: number; totalB: number; apSum: number; apN: number; rrSum: number; rrN: number }

const TALLY_KEYS = ['hit', 'total', 'hitB', 'totalB', 'apSum', 'apN', 'rrSum', 'rrN'] as const satisfies readonly (keyof Tally)[];

function addTally(t: Tally, u: Tally): void {
  for (const key of TALLY_KEYS) t[key] += u[key];
}

function toShared(ts: readonly Tally[]): Float64Array {
  const out = new Float64Array(ts.length * TALLY_FIELDS);
  ts.forEach((t, k) => TALLY_KEYS.forEach((key, j) => (out[k * TALLY_FIELDS + j] = t[key])));
  return out;
}

function fromShared(v: Float64Array, k: number): Tally {
  const t = {} as Tally;
  TALLY_KEYS.forEach((key, j) => (t[key] = v[k * TALLY_FIELDS + j]!));
  return t;
}

/**
 * The pair share when it applies: inner leave-one-compound-out, no ensemble, and (with batches)
 * every batch of the fit and held-out rows among the context rows, which every inner fit holds.
 */
function shareFor<S extends { name: string }>(inp: SelectionInput<S>, subsetRows: readonly number[]): InnerPairShare | undefined {
  const share = inp.pairShare;
  if (!share || inp.innerSplit !== 'loco' || inp.combine || !share.heldOutRows.length) return undefined;
  if (share.heldOutLabels.length !== share.heldOutRows.length) throw new UsageError('pairShare: one label per held-out row');
  if (inp.batches) {
    const b = inp.batches;
    const inContext = new Set((inp.contextRows ?? []).map((i) => b[i] ?? null));
    for (const i of [...subsetRows, ...share.heldOutRows]) if (!inContext.has(b[i] ?? null)) return undefined;
  }
  return share;
}

export function selectByInnerCv<S extends { name: string }>(inp: SelectionInput<S>): SelectionResult<S> {
  const m = inp.fitRows.length;
  const context = inp.contextRows ?? [];
  const subsetRows = [...inp.fitRows, ...context];
  const corr = inp.corrections;
  if (corr && inp.combine) throw new UsageError('a nested choice of corrections cannot also build ensembles');
  if (corr && !corr.names.length) throw new UsageError('a nested choice of corrections needs at least one correction');
  // Pair sharing (module comment): with it, every corrected matrix also holds the outer held-out
  // rows after the subset's, placed by each inner fit; they are never fitted or scored here.
  const share = shareFor(inp, subsetRows);
  const fitAndExtra = share ? [...subsetRows, ...share.heldOutRows] : subsetRows;
  // Without corrections the subset is taken once (with corrections each fit returns its own).
  const Xs = corr ? undefined : takeRows(inp.X, fitAndExtra);
  const sub = <T>(col: readonly T[]) => subsetRows.map((i) => col[i]!);
  const groups = sub(inp.compounds).map((g, r) => (r < m ? g ?? null : null));
  const batches = inp.batches ? sub(inp.batches).map((b) => b ?? null) : undefined;
  // Context rows are never queries or candidates: no label.
  const subLabels: (string | null)[] = [...inp.labels, ...context.map(() => null)];
  const keys: TreatmentKeys = {
    compound: groups, label: subLabels, dose: inp.doses ? sub(inp.doses).map((d) => d ?? null) : undefined, batch: batches,
  };
  const fitGroups = groups.slice(0, m);
  // Inner queries and candidates are all among the first m subset rows (the outer fit rows): the
  // candidates are scored on those rows only (a transform maps each row on its own).
  const keysM: TreatmentKeys = {
    compound: fitGroups, label: subLabels.slice(0, m), dose: keys.dose?.slice(0, m), batch: batches?.slice(0, m),
  };
  const nGroups = new Set(fitGroups.filter((g) => g !== null)).size;
  const folds: Fold[] = [];
  if (inp.innerSplit === 'loco') {
    folds.push(...makeSplits({ kind: 'loco', groups: fitGroups, labels: inp.labels }));
  } else {
    const repeats = Math.max(1, inp.innerRepeats ?? 1);
    for (let r = 0; r < repeats; r++) {
      // Repeat 0 keeps the plain seed (the same inner folds as without repeats).
      const seed = r === 0 ? inp.seed : inp.seed * 7919 + 1_000_003 * r;
      folds.push(...makeSplits({ kind: 'kfold', groups: fitGroups, labels: inp.labels, folds: Math.min(inp.innerFolds, nGroups), seed }));
    }
  }
  const ctlSub: number[] = [];
  context.forEach((_, k) => {
    if (inp.contextIsControl?.[k]) ctlSub.push(m + k);
  });
  const criterion = inp.criterion ?? 'nsc';
  const useMap = criterion === 'nsc+map';
  const useRr = criterion === 'mrr-b';
  const nCorr = corr ? corr.names.length : 1;
  const candidates = [...inp.candidates];
  const L = candidates.length;

  /** What every candidate fitted on inner fold f (under one correction) is given. */
  interface FoldFit { f: Fold; tr: number[]; trLabels: string[]; ctx: FitCallbackContext; Xm?: StoredMatrix; Xe?: StoredMatrix }
  const foldFit = (f: Fold): FoldFit => {
    const tr = Array.from(f.train);
    return {
      f, tr, trLabels: tr.map((r) => inp.labels[r]!),
      ctx: {
        memo: new Map(), groups: tr.map((r) => groups[r]!), batches: batches ? tr.map((r) => batches[r]!) : undefined,
        ...(ctlSub.length ? { controlRows: ctlSub, controlBatches: batches ? ctlSub.map((r) => batches[r]!) : undefined } : {}),
      },
    };
  };
  // The partner's inner fold (pair sharing): its candidates are this inner fold's training rows,
  // its queries the outer held-out rows, stacked in that order.
  const pairKeys = (f: Fold): TreatmentKeys => {
    const held = share!.heldOutRows, tr = Array.from(f.train);
    const col = <T>(inner: readonly T[] | undefined, outer: readonly (T | undefined)[] | undefined): (T | null)[] | undefined =>
      (inner && outer ? [...tr.map((r) => inner[r]!), ...held.map((i) => outer[i] ?? null)] : undefined);
    return {
      compound: col(keysM.compound, inp.compounds)!, label: [...tr.map((r) => keysM.label[r]!), ...share!.heldOutLabels],
      dose: col(keysM.dose, inp.doses), batch: col(keysM.batch, inp.batches),
    };
  };
  const scoreInto = (t: Tally, spec: S, Xc: StoredMatrix, ff: FoldFit, partner?: { t: Tally; keys: TreatmentKeys }) => {
    const { f, tr, trLabels, ctx } = ff;
    if (new Set(trLabels).size < 2) return;
    let transform: (Y: StoredMatrix) => StoredMatrix;
    try {
      transform = inp.fit(spec, Xc, tr, trLabels, ctx);
    } catch {
      // A candidate that cannot be fitted on an inner fold (e.g. too few rows) scores nothing there.
      return;
    }
    // The first m rows of Xc, one view shared by the candidates of this fold.
    ff.Xm ??= Xc.rows === m ? Xc : { rows: m, cols: Xc.cols, data: Xc.data.subarray(0, m * Xc.cols) } as StoredMatrix;
    const Y = asFloat64(transform(ff.Xm));
    tallyInto(t, Y, keysM, f.train, f.test);
    if (partner) {
      const e = share!.heldOutRows.length, from = subsetRows.length;
      ff.Xe ??= { rows: e, cols: Xc.cols, data: Xc.data.subarray(from * Xc.cols, (from + e) * Xc.cols) } as StoredMatrix;
      const Ye = asFloat64(transform(ff.Xe));
      const nt = f.train.length, k = Y.cols;
      const Yp = { rows: nt + e, cols: k, data: new Float64Array((nt + e) * k) };
      for (let r = 0; r < nt; r++) Yp.data.set(Y.data.subarray(f.train[r]! * k, (f.train[r]! + 1) * k), r * k);
      Yp.data.set(Ye.data, nt * k);
      tallyInto(partner.t, Yp, partner.keys, Int32Array.from({ length: nt }, (_, r) => r), Int32Array.from({ length: e }, (_, r) => nt + r));
    }
  };
  /** Score the queries `test` against the candidates `train` (rows of Y, described by `keysY`). */
  const tallyInto = (t: Tally, Y: Matrix, keysY: TreatmentKeys, train: Int32Array, test: Int32Array) => {
    const cand = buildTreatments(Y, keysY, { rows: train, controlLabels: inp.controlLabels });
    const qry = buildTreatments(Y, keysY, { rows: test, controlLabels: inp.controlLabels });
    const r = nearestNeighbourMoa(qry, cand);
    t.hit += r.predictions.filter((p) => p.correct).length;
    t.total += r.predictions.length;
    if (useMap) {
      const names = qry.compound.map((c, q) => `${c}@${qry.dose[q]}`);
      for (const a of consistencyQueries({ X: qry.X, labels: qry.label, compounds: qry.compound, names }, { X: cand.X, labels: cand.label, compounds: cand.compound })) {
        if (a.nPos > 0) {
          t.apSum += a.ap;
          t.apN++;
        }
      }
    }
    if (useRr) {
      for (const v of firstHitReciprocalRanks(qry, cand, { excludeSameBatch: batches !== undefined })) {
        t.rrSum += v;
        t.rrN++;
      }
    }
    if (batches) {
      const rb = nearestNeighbourMoa(qry, cand, { excludeSameBatch: true });
      t.hitB += rb.predictions.filter((p) => p.correct).length;
      t.totalB += rb.predictions.length;
    }
  };
  const fresh = (): Tally => ({ hit: 0, total: 0, hitB: 0, totalB: 0, apSum: 0, apN: 0, rrSum: 0, rrN: 0 });
  const tallies = Array.from({ length: nCorr * L }, fresh);
  for (const f of folds) {
    // Pair sharing: this inner fold's tallies as the partner fold scored them, or scored here
    // (from zero, then added) along with the partner's.
    const group = share ? f.heldOutGroups[0]! : '';
    const given = share?.take(group);
    if (given) {
      tallies.forEach((t, k) => addTally(t, fromShared(given, k)));
      continue;
    }
    const local = share ? Array.from({ length: nCorr * L }, fresh) : tallies;
    const partner = share ? { ts: Array.from({ length: nCorr * L }, fresh), keys: pairKeys(f) } : undefined;
    // The correction's fit rows: the inner training compounds and every context row.
    const corrFit = corr ? Int32Array.from([...f.train, ...context.map((_, k) => m + k)]) : undefined;
    for (let c = 0; c < nCorr; c++) {
      const Xc = corr ? corr.correct(c, fitAndExtra, corrFit!) : Xs!;
      const ff = foldFit(f);
      for (let l = 0; l < L; l++) {
        const k = c * L + l;
        scoreInto(local[k]!, candidates[l]!, Xc, ff, partner ? { t: partner.ts[k]!, keys: partner.keys } : undefined);
      }
    }
    if (share) {
      tallies.forEach((t, k) => addTally(t, local[k]!));
      share.give(group, toShared(partner!.ts));
    }
  }
  const toScore = (t: Tally, l: number, c: number): InnerScore => ({
    name: corr ? `${corr.names[c]}/${candidates[l]!.name}` : candidates[l]!.name,
    ...(corr ? { correction: corr.names[c], learner: candidates[l]!.name } : {}),
    nsc: t.total ? t.hit / t.total : NaN, nscb: t.totalB ? t.hitB / t.totalB : NaN, map: t.apN ? t.apSum / t.apN : NaN,
    mrr: t.rrN ? t.rrSum / t.rrN : NaN,
  });
  const scores = tallies.map((t, k) => toScore(t, k % L, Math.floor(k / L)));
  // Candidate k: learner k % L under correction ⌊k / L⌋ (the ensemble, if any, is appended last).
  const learnerOf = scores.map((_, k) => k % L);
  const nz = (v: number) => (Number.isNaN(v) ? -1 : v);
  const key = (s: InnerScore): number[] => (criterion === 'mrr-b' ? [nz(s.mrr), nz(s.nscb), nz(s.nsc)]
    : criterion === 'nscb' ? [nz(s.nscb), nz(s.nsc)] : [useMap ? nz(s.nsc) + nz(s.map) : nz(s.nsc), nz(s.nscb)]);
  // Lexicographic: the first differing key decides.
  const better = (a: InnerScore, b: InnerScore) => {
    const ka = key(a), kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! > kb[i]!;
    return false;
  };
  const ranked = (): number[] => {
    const order = scores.map((_, i) => i);
    // Stable: equal scores keep the list order.
    order.sort((a, b) => (better(scores[a]!, scores[b]!) ? -1 : better(scores[b]!, scores[a]!) ? 1 : a - b));
    return order;
  };
  if (inp.combine && candidates.length >= 2) {
    const [i, j] = ranked();
    const ens = inp.combine(candidates[i!]!, candidates[j!]!);
    candidates.push(ens);
    const t = fresh();
    for (const f of folds) scoreInto(t, ens, Xs!, foldFit(f));
    learnerOf.push(candidates.length - 1);
    scores.push({ ...toScore(t, candidates.length - 1, 0) });
  }
  const [best, next] = ranked() as [number, number | undefined];
  return {
    chosen: candidates[learnerOf[best]!]!,
    ...(corr ? { correction: Math.floor(best / L) } : {}),
    scores, best: scores[best]!, innerFolds: folds.length,
    ...(next !== undefined ? { second: { chosen: candidates[learnerOf[next]!]!, ...(corr ? { correction: Math.floor(next / L) } : {}), score: scores[next]! } } : {}),
  };
}

/**
 * Shared inner tallies of the outer folds of one evaluation (pair sharing), in a SharedArrayBuffer
 * so that the worker threads running other outer folds see them: slot (outer, inner) holds the
 * tallies of outer fold `outer` at its inner fold holding out outer fold `inner`'s compound, and a
 * flag set (Atomics.store, after the numbers) once they are there. A slot is written at most with
 * one value (both partners would compute the same numbers), so a race costs only time.
 */
export class InnerPairTable {
  readonly buffer: SharedArrayBuffer;
  private readonly flags: Int32Array;
  private readonly data: Float64Array;

  /** A new table for `nFolds` outer folds of `width` numbers per slot, or one over an existing buffer. */
  constructor(readonly nFolds: number, readonly width: number, buffer?: SharedArrayBuffer) {
    const slots = nFolds * nFolds, flagBytes = Math.ceil((slots * 4) / 8) * 8;
    this.buffer = buffer ?? new SharedArrayBuffer(flagBytes + slots * width * 8);
    if (this.buffer.byteLength !== flagBytes + slots * width * 8) throw new RangeError('InnerPairTable: buffer of another shape');
    this.flags = new Int32Array(this.buffer, 0, slots);
    this.data = new Float64Array(this.buffer, flagBytes, slots * width);
  }

  give(outer: number, inner: number, v: Float64Array): void {
    if (v.length !== this.width) throw new RangeError(`InnerPairTable: ${v.length} numbers for a slot of ${this.width}`);
    const slot = outer * this.nFolds + inner;
    if (Atomics.load(this.flags, slot)) return;
    this.data.set(v, slot * this.width);
    Atomics.store(this.flags, slot, 1);
  }

  take(outer: number, inner: number): Float64Array | undefined {
    const slot = outer * this.nFolds + inner;
    return Atomics.load(this.flags, slot) ? this.data.slice(slot * this.width, (slot + 1) * this.width) : undefined;
  }
}
