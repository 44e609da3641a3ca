/**
 * Honest model choice: pick one of several representations by nested, compound-grouped
 * cross-validation *inside* an outer fold's training rows. The outer held-out compounds never
 * reach this function, so the choice (reported per outer fold) cannot lean on them.
 *
 * Inner folds: k-fold over the training compounds stratified by label (splits.ts), seeded; each
 * candidate is fitted on the inner training rows and scored by inner NSC (cosine 1-NN of the
 * inner held-out treatments among the inner training treatments, nsc.ts), pooled over the inner
 * folds (criterion 'nsc+map': inner NSC + inner MoA mAP). Highest inner NSC wins, then the higher inner NSCB when a batch is known, then the
 * earlier candidate in the list (the list is the pre-declared order of preference).
 *
 * With `combine`, the two best candidates' ensemble (e.g. their concatenation) is scored by the same
 * inner folds afterwards and competes with them; it wins only by a strictly higher inner score.
 */
import type { StoredMatrix } from '../linalg/index.js';
import { asFloat64, takeRows } from '../linalg/index.js';
import { makeSplits } from './splits.js';
import { buildTreatments, nearestNeighbourMoa, type TreatmentKeys } from './nsc.js';
import { consistencyQueries } from './map.js';

export interface InnerScore {
  name: string;
  nsc: number;
  nscb: number;
  /** Inner MoA-consistency mAP (mean AP of the inner held-out treatments; NaN unless the criterion uses it). */
  map: number;
}

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
  seed: number;
  /**
   * 'nsc' (default): inner NSC, then inner NSCB. 'nsc+map': inner NSC plus inner MoA mAP (a graded
   * score that separates candidates NSC counts as ties), then inner NSCB.
   */
  criterion?: 'nsc' | 'nsc+map';
  /** Fit a candidate on rows `rows` (indices into the subset matrix) and return its transform. */
  /** Build the ensemble of two candidates (scored as one more candidate after the others). */
  combine?: (a: S, b: S) => S;
  fit: (spec: S, Xsub: StoredMatrix, rows: number[], labels: string[], ctx: { groups: (string | null)[]; batches?: (string | null)[] }) => (Y: StoredMatrix) => StoredMatrix;
}

export function selectByInnerCv<S extends { name: string }>(inp: SelectionInput<S>): { chosen: S; scores: InnerScore[] } {
  const Xs = takeRows(inp.X, inp.fitRows);
  const groups = inp.fitRows.map((i) => inp.compounds[i] ?? null);
  const batches = inp.batches ? inp.fitRows.map((i) => inp.batches![i] ?? null) : undefined;
  const keys: TreatmentKeys = {
    compound: groups, label: [...inp.labels], dose: inp.doses ? inp.fitRows.map((i) => inp.doses![i] ?? null) : undefined, batch: batches,
  };
  const nGroups = new Set(groups.filter((g) => g !== null)).size;
  const folds = makeSplits({ kind: 'kfold', groups, labels: inp.labels, folds: Math.min(inp.innerFolds, nGroups), seed: inp.seed });
  const useMap = inp.criterion === 'nsc+map';
  const score = (spec: S): InnerScore => {
    let hit = 0, total = 0, hitB = 0, totalB = 0, apSum = 0, apN = 0;
    for (const f of folds) {
      const tr = Array.from(f.train);
      const trLabels = tr.map((r) => inp.labels[r]!);
      if (new Set(trLabels).size < 2) continue;
      let transform: (Y: StoredMatrix) => StoredMatrix;
      try {
        transform = inp.fit(spec, Xs, tr, trLabels, { groups: tr.map((r) => groups[r]!), batches: batches ? tr.map((r) => batches[r]!) : undefined });
      } catch {
        // A candidate that cannot be fitted on an inner fold (e.g. too few rows) scores nothing there.
        continue;
      }
      const Y = asFloat64(transform(Xs));
      const cand = buildTreatments(Y, keys, { rows: f.train, controlLabels: inp.controlLabels });
      const qry = buildTreatments(Y, keys, { rows: f.test, controlLabels: inp.controlLabels });
      const r = nearestNeighbourMoa(qry, cand);
      hit += r.predictions.filter((p) => p.correct).length;
      total += r.predictions.length;
      if (useMap) {
        const names = qry.compound.map((c, t) => `${c}@${qry.dose[t]}`);
        for (const a of consistencyQueries({ X: qry.X, labels: qry.label, compounds: qry.compound, names }, { X: cand.X, labels: cand.label, compounds: cand.compound })) {
          if (a.nPos > 0) {
            apSum += a.ap;
            apN++;
          }
        }
      }
      if (batches) {
        const rb = nearestNeighbourMoa(qry, cand, { excludeSameBatch: true });
        hitB += rb.predictions.filter((p) => p.correct).length;
        totalB += rb.predictions.length;
      }
    }
    return { name: spec.name, nsc: total ? hit / total : NaN, nscb: totalB ? hitB / totalB : NaN, map: apN ? apSum / apN : NaN };
  };
  const candidates = [...inp.candidates];
  const scores = candidates.map(score);
  const nz = (v: number) => (Number.isNaN(v) ? -1 : v);
  const key = (s: InnerScore) => [useMap ? nz(s.nsc) + nz(s.map) : nz(s.nsc), nz(s.nscb)];
  const better = (a: InnerScore, b: InnerScore) => {
    const [a1, a2] = key(a), [b1, b2] = key(b);
    return a1! > b1! || (a1 === b1 && a2! > b2!);
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
    scores.push(score(ens));
  }
  const best = ranked()[0]!;
  return { chosen: candidates[best]!, scores };
}
