/**
 * The corrections by name (style.md: "names are data"): the CLI's choices, the dispatch and the
 * shared contract test all come from this one object.
 *
 * Every entry fits on rows with a batch value per row and returns a readonly model plus the
 * corrected rows (`fitTransform`), and places further rows with `apply`: rows of fitted batches
 * with the fitted parameters; rows of unseen batches only with `unseen: 'estimate'` (each method's
 * documented way: ComBat estimates the new batch from its own rows, sphering centres it on its own
 * controls, Harmony maps it as Symphony does). For sphering and ComBat `apply` on the fitted rows
 * reproduces `fitTransform`; for Harmony it does not (Harmony corrects the rows it clustered;
 * `apply` is a mapping onto its reference) and the entry says so.
 */
import type { Matrix, StoredMatrix } from '../linalg/matrix.js';
import { type CombatModel, type CombatOptions, COMBAT_CONSTRAINTS, applyCombat, combatStatistics, fitCombat, fitCombatFromStatistics } from './combat.js';
import type { BatchContext } from './design.js';
import { type HarmonyModel, type HarmonyOptions, HARMONY_CONSTRAINTS, fitTransformHarmony, mapHarmony } from './harmony.js';
import { type BatchMoments, type Moments } from './moments.js';
import { type Constraints, checkOptions, parseOptionPairs } from './options.js';
import { UsageError } from '../util/errors.js';
import { type SphereModel, type SphereOptions, SPHERE_CONSTRAINTS, applySphere, fitSphere, fitSphereFromStatistics, sphereStatistics } from './sphere.js';

export type CorrectionName = 'sphere' | 'combat' | 'harmony';

export interface CorrectionInput {
  readonly X: StoredMatrix;
  readonly batch: readonly (string | null)[];
  /** Control (negative reference) flag per row; required by corrections with `needsControls`. */
  readonly isControl?: ArrayLike<boolean | number>;
  readonly ctx?: BatchContext;
}

export interface ApplyControl {
  unseen?: 'error' | 'estimate';
}

export interface Correction<O extends object, M, N extends CorrectionName = CorrectionName> {
  readonly name: N;
  /** One line for --help and reports. */
  readonly description: string;
  readonly constraints: Constraints<O>;
  readonly needsControls: boolean;
  /** apply(fit(X), X) equals fitTransform(X). */
  readonly applyReproducesFit: boolean;
  /** Random steps exist (the seed option matters). */
  readonly seeded: boolean;
  fitTransform(input: CorrectionInput, opts?: O): { model: M; corrected: Matrix };
  apply(model: M, input: CorrectionInput, ctl?: ApplyControl): Matrix;
  /** Column names of the corrected matrix. */
  outputFeatures(model: M): readonly string[];
  /** Per-batch statistics that merge exactly, and the fit from them (absent: the fit is not a sum). */
  readonly partial?: {
    statistics(input: CorrectionInput): Map<string, Moments>;
    fit(stats: BatchMoments, opts?: O, ctx?: BatchContext): M;
  };
}

function controlsOf(input: CorrectionInput, method: string): ArrayLike<boolean | number> {
  if (!input.isControl) throw new TypeError(`${method}: control flags are required`);
  return input.isControl;
}

export const sphereCorrection: Correction<SphereOptions, SphereModel, 'sphere'> = {
  name: 'sphere',
  description: 'per-batch centring on negative controls + whitening learned from the controls (pooled, Ledoit–Wolf shrinkage)',
  constraints: SPHERE_CONSTRAINTS,
  needsControls: true,
  applyReproducesFit: true,
  seeded: false,
  fitTransform(input, opts = {}) {
    const model = fitSphere(input.X, input.batch, controlsOf(input, 'sphering'), opts, input.ctx);
    return { model, corrected: applySphere(model, input.X, input.batch, { ctx: input.ctx }) };
  },
  apply: (model, input, ctl = {}) => applySphere(model, input.X, input.batch, { unseen: ctl.unseen, isControl: input.isControl, ctx: input.ctx }),
  outputFeatures: (m) => m.outputFeatures,
  partial: {
    statistics: (input) => sphereStatistics(input.X, input.batch, controlsOf(input, 'sphering'), input.ctx),
    fit: (stats, opts, ctx) => fitSphereFromStatistics(stats, opts, ctx),
  },
};

export const combatCorrection: Correction<CombatOptions, CombatModel, 'combat'> = {
  name: 'combat',
  description: 'ComBat: per-batch location/scale with empirical-Bayes shrinkage (Johnson et al. 2007; sva parametric)',
  constraints: COMBAT_CONSTRAINTS,
  needsControls: false,
  applyReproducesFit: true,
  seeded: false,
  fitTransform(input, opts = {}) {
    const model = fitCombat(input.X, input.batch, opts, input.ctx);
    return { model, corrected: applyCombat(model, input.X, input.batch, { ctx: input.ctx }) };
  },
  apply: (model, input, ctl = {}) => applyCombat(model, input.X, input.batch, { unseen: ctl.unseen, ctx: input.ctx }),
  outputFeatures: (m) => m.features,
  partial: {
    statistics: (input) => combatStatistics(input.X, input.batch, input.ctx),
    fit: (stats, opts, ctx) => fitCombatFromStatistics(stats, opts, ctx),
  },
};

export const harmonyCorrection: Correction<HarmonyOptions, HarmonyModel, 'harmony'> = {
  name: 'harmony',
  description: 'Harmony: soft k-means with a diversity penalty and linear correction in PCA space (Korsunsky et al. 2019)',
  constraints: HARMONY_CONSTRAINTS,
  needsControls: false,
  applyReproducesFit: false,
  seeded: true,
  fitTransform(input, opts = {}) {
    const { model, corrected } = fitTransformHarmony(input.X, input.batch, opts, input.ctx);
    return { model, corrected };
  },
  apply: (model, input, ctl = {}) => mapHarmony(model, input.X, input.batch, { unseen: ctl.unseen, ctx: input.ctx }),
  outputFeatures: (m) => m.outputFeatures,
};

/** The registry. */
export const CORRECTIONS = {
  sphere: sphereCorrection,
  combat: combatCorrection,
  harmony: harmonyCorrection,
} as const satisfies { readonly [K in CorrectionName]: { readonly name: K } };

export const CORRECTION_NAMES = Object.keys(CORRECTIONS) as CorrectionName[];

export type BatchModel = SphereModel | CombatModel | HarmonyModel;

/** The registry entry as one type (the options are checked at the door of each fit). */
export function correctionByName(name: string): Correction<Record<string, unknown>, BatchModel> {
  const c = (CORRECTIONS as Record<string, unknown>)[name];
  if (!c) throw new RangeError(`unknown correction "${name}"`);
  return c as Correction<Record<string, unknown>, BatchModel>;
}

/**
 * Command-line options of the corrections, `method.key=value` (or `key=value` when only one
 * method is named), typed and checked against each method's constraints table.
 */
export function parseCorrectionOptions(pairs: readonly string[], methods: readonly CorrectionName[], flag = '--correct-opt'): Partial<Record<CorrectionName, Record<string, unknown>>> {
  const out: Partial<Record<CorrectionName, Record<string, unknown>>> = {};
  for (const pair of pairs) {
    const dot = pair.indexOf('.'), eq = pair.indexOf('=');
    let method: string, rest: string;
    if (dot > 0 && (eq < 0 || dot < eq)) {
      method = pair.slice(0, dot);
      rest = pair.slice(dot + 1);
    } else if (methods.length === 1) {
      method = methods[0]!;
      rest = pair;
    } else {
      throw new UsageError(`${flag} "${pair}": name the method, e.g. harmony.${pair} (several corrections are compared)`);
    }
    if (!CORRECTION_NAMES.includes(method as CorrectionName)) throw new UsageError(`${flag} "${pair}": unknown correction "${method}" (choose from ${CORRECTION_NAMES.join(', ')})`);
    if (!methods.includes(method as CorrectionName)) throw new UsageError(`${flag} "${pair}": ${method} is not among the corrections asked for (${methods.join(', ') || 'none'})`);
    const c = correctionByName(method);
    const parsed = parseOptionPairs([rest], c.constraints, `${flag} ${method}`);
    const merged = { ...(out[method as CorrectionName] ?? {}), ...parsed };
    checkOptions(merged, c.constraints, `${flag} ${method}`);
    out[method as CorrectionName] = merged;
  }
  return out;
}
