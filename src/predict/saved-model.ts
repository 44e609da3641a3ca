/**
 * A trained activity model as one JSON file (`phenomap predict train` → `rank`): the model's own
 * serialisation (Macau samples or the net's weights) plus what is needed to apply it to profiles
 * from another table — the feature NAMES in training order and the column standardisation learned
 * on the training profiles. New profiles are aligned by name (any order, extra columns ignored);
 * a missing feature is an error that names it.
 */
import { type Matrix, zeros } from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import { Standardizer } from './baselines.js';
import { Macau, type MacauJSON, type MacauOptions } from './macau.js';
import { MultitaskNet, type MultitaskNetJSON, type MultitaskNetOptions } from './mlp.js';
import type { ActivityMatrix } from './sparse.js';

export const SAVED_MODEL_FORMAT = 'phenomap-activity-model';

export type SavedModelKind = 'macau' | 'mlp';

/** The cell-count-only baseline stored with a model (predict/rank.ts fits it). */
export interface SavedCellCountBaseline {
  /** Column of the cell count (a feature or numeric metadata column). */
  column: string;
  mean: number;
  scale: number;
  /** Per assay (model order): [weight on the standardised count, intercept]. */
  weights: [number, number][];
}

export interface AssayExpectation {
  /** Compounds' rows with a label in the assay, active among them. */
  labelled: number;
  active: number;
  baseRate: number;
  /** Out-of-fold AUC and enrichment factors (at EXPECTATION_FRACTIONS); null when not scorable. */
  model: { auc: number | null; enrichment: (number | null)[] };
  cellCount: { auc: number | null; enrichment: (number | null)[] } | null;
}

export interface SavedExpectation {
  folds: number;
  seed: number;
  groupedBy: string;
  fractions: number[];
  /** Keyed by assay name. */
  assays: Record<string, AssayExpectation>;
}

export interface SavedActivityModel {
  format: typeof SAVED_MODEL_FORMAT;
  version: 1;
  model: SavedModelKind;
  features: string[];
  standardization: { means: number[]; scales: number[] };
  assays: string[];
  /** Value ≥ threshold counted as active at training time. */
  threshold: number;
  /** Free-form provenance (profile file, id column, counts). */
  trainedOn: Record<string, string | number>;
  body: MacauJSON | MultitaskNetJSON;
  /** Per assay, the training compounds with a label (so `rank` lists the untested ones); see rank.ts. */
  tested?: Record<string, { active: string[]; inactive: string[] }>;
  /** The cell-count-only baseline, when the training profiles had a cell-count column. */
  cellCount?: SavedCellCountBaseline | null;
  /** Cross-validated AUC and enrichment of the model and the baseline, per assay. */
  expected?: SavedExpectation | null;
}

export function trainActivityModel(
  kind: SavedModelKind, X: Matrix, features: readonly string[], Y: ActivityMatrix, assays: readonly string[],
  opts: { macau?: MacauOptions; mlp?: MultitaskNetOptions; groups?: readonly string[]; threshold?: number; trainedOn?: Record<string, string | number>; reporter?: Reporter },
): SavedActivityModel {
  if (features.length !== X.cols) throw new RangeError(`trainActivityModel: ${features.length} feature names for ${X.cols} columns`);
  if (assays.length !== Y.cols) throw new RangeError(`trainActivityModel: ${assays.length} assay names for ${Y.cols} columns`);
  const std = new Standardizer().fit(X);
  const Z = std.transform(X);
  let body: MacauJSON | MultitaskNetJSON;
  if (kind === 'macau') {
    body = new Macau({ noise: { kind: 'probit' }, keepLatent: false, reporter: opts.reporter, ...opts.macau }).fit(Y, Z).toJSON();
  } else {
    body = new MultitaskNet({ reporter: opts.reporter, ...opts.mlp }).fit(Z, Y, { groups: opts.groups }).toJSON();
  }
  return {
    format: SAVED_MODEL_FORMAT, version: 1, model: kind,
    features: [...features],
    standardization: { means: Array.from(std.means), scales: Array.from(std.scales) },
    assays: [...assays],
    threshold: opts.threshold ?? 0.5,
    trainedOn: opts.trainedOn ?? {},
    body,
  };
}

/** Validate a parsed JSON value as a saved model (InputError otherwise). */
export function parseSavedModel(json: unknown, source = 'model'): SavedActivityModel {
  const m = json as Partial<SavedActivityModel> | null;
  if (!m || typeof m !== 'object' || m.format !== SAVED_MODEL_FORMAT) throw new InputError(`${source}: not a phenomap activity model (format ${String(m?.format)})`);
  if (m.version !== 1) throw new InputError(`${source}: model version ${String(m.version)}; this phenomap reads version 1`);
  if (m.model !== 'macau' && m.model !== 'mlp') throw new InputError(`${source}: unknown model kind "${String(m.model)}"`);
  const d = m.features?.length ?? 0;
  if (!d || m.standardization?.means.length !== d || m.standardization.scales.length !== d || !m.assays?.length || !m.body) {
    throw new InputError(`${source}: incomplete model (features, standardization, assays or body missing or of the wrong size)`);
  }
  if (m.cellCount && (!Array.isArray(m.cellCount.weights) || m.cellCount.weights.length !== m.assays.length)) {
    throw new InputError(`${source}: the cell-count baseline has ${String(m.cellCount.weights?.length)} assays, the model ${m.assays.length}`);
  }
  return m as SavedActivityModel;
}

/**
 * Columns of `X` (named `names`) reordered to the model's features. Throws an InputError naming
 * the missing features (the first few and how many), or a non-finite value with its row.
 */
export function alignFeatures(X: Matrix, names: readonly string[], wanted: readonly string[], source = 'profiles'): Matrix {
  const pos = new Map(names.map((n, c) => [n, c]));
  const missing = wanted.filter((w) => !pos.has(w));
  if (missing.length) {
    throw new InputError(`${source}: ${missing.length} of the model's ${wanted.length} features are missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  }
  const idx = wanted.map((w) => pos.get(w)!);
  const out = zeros(X.rows, idx.length);
  const x = X.data, o = out.data, d = X.cols, k = idx.length;
  for (let i = 0; i < X.rows; i++) {
    for (let f = 0; f < k; f++) {
      const v = x[i * d + idx[f]!]!;
      if (!Number.isFinite(v)) throw new InputError(`${source}: row ${i + 1}, feature "${wanted[f]}" is missing or not finite`);
      o[i * k + f] = v;
    }
  }
  return out;
}

/** Scores of aligned profiles (rows × model features) for one assay; sd = Macau posterior sd, null for the net. */
export function scoreAssayWithModel(model: SavedActivityModel, Xaligned: Matrix, assay: string): { score: Float64Array; sd: Float64Array | null } {
  const j = model.assays.indexOf(assay);
  if (j < 0) {
    throw new InputError(`the model has no assay "${assay}" (it has ${model.assays.length}: ${model.assays.slice(0, 8).join(', ')}${model.assays.length > 8 ? ', …' : ''})`);
  }
  const std = new Standardizer();
  std.means = Float64Array.from(model.standardization.means);
  std.scales = Float64Array.from(model.standardization.scales);
  const Z = std.transform(Xaligned);
  if (model.model === 'macau') {
    const p = Macau.fromJSON(model.body as MacauJSON).predictNew(Z, [j]);
    return { score: Float64Array.from(p.mean.data), sd: Float64Array.from(p.std.data) };
  }
  const P = MultitaskNet.fromJSON(model.body as MultitaskNetJSON).predict(Z);
  const score = new Float64Array(Z.rows);
  for (let i = 0; i < Z.rows; i++) score[i] = P.data[i * P.cols + j]!;
  return { score, sd: null };
}

/** Ranks 1..n by descending score (ties: input order). */
export function rankOrder(score: ArrayLike<number>): Int32Array {
  const idx = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b]! - score[a]! || a - b);
  return Int32Array.from(idx);
}
