/**
 * NSC / NSCB 1-nearest-neighbour MoA accuracy (Ljosa, Caie, ter Horst et al., "Comparison of
 * methods for image-based profiling of cellular morphological responses to small-molecule
 * treatment", J Biomol Screen 2013).
 *
 * A treatment is a (compound, concentration) pair; its profile is the per-feature median of its
 * wells (NaN skipped). A query treatment is assigned the MoA of its most cosine-similar candidate
 * treatment, where candidates of the query's own compound are never eligible ("not same
 * compound", NSC) and, for NSCB, neither are candidates sharing a batch with the query ("not
 * same compound or batch"). A treatment's batches are the set of batches of its wells, so a
 * treatment spread over two batches excludes candidates from either.
 *
 * Choices, stated:
 * - Treatments without a label or whose label is a control label (default "DMSO") are excluded
 *   both as queries and as candidates: they have no mechanism to predict.
 * - A query none of whose eligible candidates carries its label can never be right; it is not
 *   scored and is listed in `unanswerable`. On BBBC021 this removes, for NSCB, the MoAs whose
 *   compounds all sit in one batch (Kinase inhibitors, Cholesterol-lowering) — as Ljosa et al.
 *   and later papers do (92 of 103 treatments are scored for NSCB).
 * - Ties in similarity go to the candidate that comes first (deterministic).
 */
import { type Matrix, zeros, cosineSimilarityBetween } from '../linalg/index.js';
import { type Profiles, metaStrings } from '../io/profiles.js';
import { InputError } from '../util/errors.js';

export interface TreatmentKeys {
  compound: readonly (string | null)[];
  /** Concentration (as text); absent → one treatment per compound. */
  dose?: readonly (string | null)[];
  label: readonly (string | null)[];
  batch?: readonly (string | null)[];
}

export interface Treatments {
  /** One median profile per treatment (rows). */
  X: Matrix;
  compound: string[];
  dose: string[];
  label: string[];
  batches: string[][];
  /** Well rows (indices into the input) of each treatment. */
  rows: Int32Array[];
}

export interface TreatmentOptions {
  /** Only these rows (e.g. one side of a split); default all. */
  rows?: ArrayLike<number>;
  /** Labels that mean "no mechanism" (compared case-insensitively); default ['DMSO']. */
  controlLabels?: readonly string[];
}

function isControl(label: string, controls: readonly string[]): boolean {
  const u = label.toUpperCase();
  return controls.some((c) => c.toUpperCase() === u);
}

/** Median profiles of labelled, non-control treatments. */
export function buildTreatments(X: Matrix, keys: TreatmentKeys, opts: TreatmentOptions = {}): Treatments {
  const n = X.rows, d = X.cols;
  for (const [name, col] of Object.entries(keys)) {
    if (col && (col as unknown[]).length !== n) throw new InputError(`treatments: column ${name} has ${(col as unknown[]).length} values for ${n} rows`);
  }
  const controls = opts.controlLabels ?? ['DMSO'];
  const rows = opts.rows ?? Int32Array.from({ length: n }, (_, i) => i);
  const index = new Map<string, number>();
  const members: number[][] = [];
  const compound: string[] = [], dose: string[] = [], label: string[] = [];
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r]!;
    const c = keys.compound[i], l = keys.label[i];
    if (c === null || c === undefined || l === null || l === undefined || l === '' || isControl(l, controls)) continue;
    const dz = keys.dose ? (keys.dose[i] ?? '') : '';
    const id = `${c}\u0000${dz}`;
    let t = index.get(id);
    if (t === undefined) {
      index.set(id, (t = members.length));
      members.push([]);
      compound.push(c);
      dose.push(dz);
      label.push(l);
    } else if (label[t] !== l) {
      throw new InputError(`treatment ${c} @ ${dz} has two labels: "${label[t]}" and "${l}" (row ${i + 1})`);
    }
    members[t]!.push(i);
  }
  const T = zeros(members.length, d);
  const buf = new Float64Array(rows.length || 1);
  const x = X.data, out = T.data;
  for (let t = 0; t < members.length; t++) {
    const m = members[t]!;
    for (let j = 0; j < d; j++) {
      let k = 0;
      for (const i of m) {
        const v = x[i * d + j]!;
        if (!Number.isNaN(v)) buf[k++] = v;
      }
      out[t * d + j] = medianOf(buf, k);
    }
  }
  const batches = members.map((m) => {
    if (!keys.batch) return [];
    const s = new Set<string>();
    for (const i of m) {
      const b = keys.batch[i];
      if (b !== null && b !== undefined) s.add(b);
    }
    return [...s].sort();
  });
  return { X: T, compound, dose, label, batches, rows: members.map((m) => Int32Array.from(m)) };
}

function medianOf(buf: Float64Array, k: number): number {
  if (k === 0) return NaN;
  const a = buf.subarray(0, k).sort();
  return k % 2 ? a[(k - 1) >> 1]! : 0.5 * (a[k / 2 - 1]! + a[k / 2]!);
}

export interface NnPrediction {
  compound: string;
  dose: string;
  label: string;
  predicted: string;
  neighbourCompound: string;
  neighbourDose: string;
  similarity: number;
  correct: boolean;
}

export interface LabelAccuracy {
  correct: number;
  total: number;
  accuracy: number;
}

export interface NnResult {
  /** correct / scored queries (NaN when nothing could be scored). */
  accuracy: number;
  correct: number;
  total: number;
  perLabel: Record<string, LabelAccuracy>;
  predictions: NnPrediction[];
  /** Queries with no eligible candidate of their label (not scored). */
  unanswerable: { compound: string; dose: string; label: string }[];
}

export interface NnOptions {
  /** NSCB: also exclude candidates sharing a batch with the query. */
  excludeSameBatch?: boolean;
}

/**
 * 1-NN MoA prediction of each query treatment among candidate treatments (cosine). Pass the
 * same table twice for the classic in-sample protocol; for held-out evaluation the queries are
 * the held-out compounds' treatments and the candidates the training compounds' treatments, both
 * in the space learned on the training side.
 */
export function nearestNeighbourMoa(queries: Treatments, candidates: Treatments, opts: NnOptions = {}): NnResult {
  if (queries.X.cols !== candidates.X.cols) throw new InputError(`NSC: queries have ${queries.X.cols} features, candidates ${candidates.X.cols}`);
  const nq = queries.X.rows, nc = candidates.X.rows;
  const S = nq && nc ? cosineSimilarityBetween(queries.X, candidates.X) : zeros(nq, nc);
  const s = S.data;
  const byBatch = opts.excludeSameBatch ?? false;
  const result: NnResult = { accuracy: NaN, correct: 0, total: 0, perLabel: {}, predictions: [], unanswerable: [] };
  for (let q = 0; q < nq; q++) {
    const qc = queries.compound[q]!, ql = queries.label[q]!;
    const qb = queries.batches[q]!;
    let best = -1, bestS = -Infinity, answerable = false;
    for (let c = 0; c < nc; c++) {
      if (candidates.compound[c] === qc) continue;
      if (byBatch && qb.length && candidates.batches[c]!.some((b) => qb.includes(b))) continue;
      if (candidates.label[c] === ql) answerable = true;
      const v = s[q * nc + c]!;
      // NaN similarity (a zero profile) never wins.
      if (v > bestS) {
        bestS = v;
        best = c;
      }
    }
    if (!answerable || best < 0) {
      result.unanswerable.push({ compound: qc, dose: queries.dose[q]!, label: ql });
      continue;
    }
    const predicted = candidates.label[best]!;
    const correct = predicted === ql;
    result.predictions.push({
      compound: qc, dose: queries.dose[q]!, label: ql, predicted,
      neighbourCompound: candidates.compound[best]!, neighbourDose: candidates.dose[best]!, similarity: bestS, correct,
    });
  }
  return summariseNn(result.predictions, result.unanswerable);
}

/**
 * Reciprocal rank of the first right neighbour, per query: a graded form of the 1-NN hit (issue 24's
 * smoother inner criterion). Candidates are those `nearestNeighbourMoa` would consider (never the
 * query's compound; with `excludeSameBatch`, none sharing a batch). With s* the highest similarity of
 * a candidate of the query's label (the first such candidate on ties), the rank is 1 + the number
 * of candidates of another label above s* or equal to it and listed earlier (the 1-NN's tie rule),
 * so 1/rank is 1 exactly when `nearestNeighbourMoa` is right and shrinks with every wrong
 * candidate ahead of the first right one. NaN similarities rank last. Unanswerable queries (no
 * eligible candidate of their label) get no value: the result lists the answerable ones in query order.
 */
export function firstHitReciprocalRanks(queries: Treatments, candidates: Treatments, opts: NnOptions = {}): number[] {
  if (queries.X.cols !== candidates.X.cols) throw new InputError(`NSC: queries have ${queries.X.cols} features, candidates ${candidates.X.cols}`);
  const nq = queries.X.rows, nc = candidates.X.rows;
  if (!nq || !nc) return [];
  const s = cosineSimilarityBetween(queries.X, candidates.X).data;
  const byBatch = opts.excludeSameBatch ?? false;
  const out: number[] = [];
  const eligible = new Uint8Array(nc);
  for (let q = 0; q < nq; q++) {
    const qc = queries.compound[q]!, ql = queries.label[q]!, qb = queries.batches[q]!;
    let hit = -1, hitS = -Infinity;
    for (let c = 0; c < nc; c++) {
      eligible[c] = candidates.compound[c] !== qc && !(byBatch && qb.length && candidates.batches[c]!.some((b) => qb.includes(b))) ? 1 : 0;
      if (!eligible[c] || candidates.label[c] !== ql) continue;
      const v = s[q * nc + c]!;
      const w = Number.isNaN(v) ? -Infinity : v;
      if (hit < 0 || w > hitS) {
        hit = c;
        hitS = w;
      }
    }
    if (hit < 0) continue;
    let ahead = 0;
    for (let c = 0; c < nc; c++) {
      if (!eligible[c] || candidates.label[c] === ql) continue;
      const v = s[q * nc + c]!;
      const w = Number.isNaN(v) ? -Infinity : v;
      // A NaN right neighbour (−∞) is behind every wrong one, NaN or not.
      if (w > hitS || (w === hitS && (c < hit || hitS === -Infinity))) ahead++;
    }
    out.push(1 / (1 + ahead));
  }
  return out;
}

/** Accuracy and per-label tallies from predictions (also used to pool folds). */
export function summariseNn(predictions: NnPrediction[], unanswerable: NnResult['unanswerable'] = []): NnResult {
  const perLabel: Record<string, LabelAccuracy> = {};
  let correct = 0;
  for (const p of predictions) {
    const e = (perLabel[p.label] ??= { correct: 0, total: 0, accuracy: NaN });
    e.total++;
    if (p.correct) {
      e.correct++;
      correct++;
    }
  }
  for (const e of Object.values(perLabel)) e.accuracy = e.correct / e.total;
  return {
    accuracy: predictions.length ? correct / predictions.length : NaN,
    correct, total: predictions.length, perLabel, predictions, unanswerable,
  };
}

export interface NscOptions {
  labelCol: string;
  compoundCol: string;
  doseCol?: string;
  /** Batch column for NSCB; without it only NSC is computed. */
  batchCol?: string;
  controlLabels?: readonly string[];
}

/** The classic (unlearned) NSC and NSCB on one profile table. */
export function nscAccuracy(p: Profiles, opts: NscOptions): { nsc: NnResult; nscb?: NnResult; treatments: Treatments } {
  const keys: TreatmentKeys = {
    compound: metaStrings(p, opts.compoundCol),
    dose: opts.doseCol ? metaStrings(p, opts.doseCol) : undefined,
    label: metaStrings(p, opts.labelCol),
    batch: opts.batchCol ? metaStrings(p, opts.batchCol) : undefined,
  };
  const t = buildTreatments(p.X, keys, { controlLabels: opts.controlLabels });
  if (t.X.rows < 2) throw new InputError(`NSC: only ${t.X.rows} labelled non-control treatment(s) in ${p.source ?? 'profiles'}`);
  const nsc = nearestNeighbourMoa(t, t);
  const nscb = opts.batchCol ? nearestNeighbourMoa(t, t, { excludeSameBatch: true }) : undefined;
  return { nsc, nscb, treatments: t };
}
