/**
 * ComBat: location/scale batch adjustment with empirical-Bayes shrinkage (Johnson, Li & Rabinovic,
 * "Adjusting batch effects in microarray expression data using empirical Bayes methods",
 * Biostatistics 8:118, 2007), parametric priors.
 *
 * Implementation matched: R `sva::ComBat(dat, batch, mod = NULL, par.prior = TRUE,
 * mean.only = FALSE, ref.batch = NULL)` (sva 3.46), through the numpy peer
 * ../shared/bench/batch/combat.py (equal to sva to 5e-13); phenomap equals the peer to ~1e-12
 * (test/batch/combat.test.ts). With X row = well, column = feature:
 *
 *   grand mean α_j = Σ_b n_b·x̄_bj / N, pooled variance σ²_j = Σ_b Σ_{i∈b} (x_ij − x̄_bj)² / N,
 *   s_ij = (x_ij − α_j)/σ_j; γ̂_bj = mean of s over batch b, δ̂²_bj = its variance (n_b − 1);
 *   priors per batch over features: γ̄_b, τ²_b (mean, variance of γ̂_b·), inverse-gamma a_b, b_b by
 *   the method of moments on δ̂²_b·; then sva's `it.sol` fixed point for γ*_bj, δ*²_bj (stopping
 *   when max(|Δγ|/γ_old, |Δδ²|/δ²_old) < conv — sva's test, without abs() on the denominators);
 *   adjusted x*_ij = σ_j·(s_ij − γ*_bj)/δ*_bj + α_j.
 *
 * The fit keeps only per-batch counts, means and per-feature sums of squares (moments.ts), so
 * statistics computed plate by plate merge exactly (`combatStatistics` + `mergeBatchMoments` +
 * `fitCombatFromStatistics`). Every quantity above is a function of them: Σ_i (s_ij − g)² =
 * M2_bj/σ²_j + n_b(γ̂_bj − g)².
 *
 * Deliberate differences and limits:
 * - No biological covariates (sva's `mod = NULL`, as Arevalo et al. 2024 run it). ComBat removes
 *   each batch's mean and scale per feature; when batches differ in which treatments they hold (an
 *   unbalanced design, such as BBBC021's weeks), part of what it removes is biology. Judge it with
 *   the biology metrics (`phenomap evaluate --correct`), not only with batch mixing.
 * - A batch with one row is refused (sva silently switches every batch to mean-only adjustment).
 * - Features with zero variance within some batch are left unadjusted, as sva ≥ 3.36 does; they
 *   are listed in the model (`unadjusted`), never dropped.
 * - `maxIter` bounds the fixed point (sva has no bound); `converged` says whether it was reached.
 * - Rows of a batch not seen in the fit are refused by `applyCombat` unless `unseen: 'estimate'`:
 *   then that batch's γ*, δ* are estimated from its own rows exactly as the fit does for every
 *   batch (its own priors), with the fitted α and σ — label-free, used by leave-batch-out.
 */
import type { Matrix, StoredMatrix } from '../linalg/matrix.js';
import { zeros } from '../linalg/matrix.js';
import { InputError } from '../util/errors.js';
import { type BatchContext, batchDesign, designFromCounts, requireBatchLength, requireFinite, requireReferenceRows, requireSeveralBatches } from './design.js';
import { type BatchMoments, type Moments, batchMomentsOf, momentsOf } from './moments.js';
import { checkOptions, type Constraints } from './options.js';

export interface CombatOptions {
  /** Relative change at which the empirical-Bayes fixed point stops (sva's `conv`). Default 1e-4. */
  conv?: number;
  /** Largest number of fixed-point iterations per batch (sva: unbounded). Default 10,000. */
  maxIter?: number;
}

export const COMBAT_CONSTRAINTS: Constraints<CombatOptions> = {
  conv: { kind: 'number', min: 0, minExclusive: true },
  maxIter: { kind: 'number', min: 1, integer: true },
};

export interface CombatBatch {
  readonly level: string;
  readonly n: number;
  readonly gammaHat: Float64Array;
  readonly deltaHat: Float64Array;
  readonly gammaBar: number;
  readonly t2: number;
  readonly aPrior: number;
  readonly bPrior: number;
  readonly gammaStar: Float64Array;
  readonly deltaStar: Float64Array;
  readonly iterations: number;
  readonly converged: boolean;
}

export interface CombatModel {
  readonly kind: 'combat';
  readonly options: Readonly<Required<CombatOptions>>;
  readonly features: readonly string[];
  readonly levels: readonly string[];
  readonly grandMean: Float64Array;
  readonly varPooled: Float64Array;
  /** 1 where the feature is adjusted; 0 = zero variance within some batch, passed through. */
  readonly adjusted: Uint8Array;
  /** Names (or #indices) of the features passed through unadjusted. */
  readonly unadjusted: readonly string[];
  readonly batches: readonly CombatBatch[];
}

const METHOD = 'ComBat';

function resolve(opts: CombatOptions): Required<CombatOptions> {
  checkOptions(opts, COMBAT_CONSTRAINTS, 'combat');
  return { conv: opts.conv ?? 1e-4, maxIter: opts.maxIter ?? 10_000 };
}

/** Per-batch moments (counts, means, per-feature M2) of X: the whole state ComBat's fit needs. */
export function combatStatistics(X: StoredMatrix, batch: readonly (string | null)[], ctx: BatchContext = {}): Map<string, Moments> {
  requireBatchLength(X.rows, batch, METHOD);
  requireFinite(X, METHOD, ctx);
  const design = batchDesign(batch, ctx);
  return batchMomentsOf(X, design.codes, design.levels, false);
}

function mean(v: ArrayLike<number>, idx: Int32Array): number {
  let s = 0;
  for (const j of idx) s += v[j]!;
  return s / idx.length;
}

function variance(v: ArrayLike<number>, idx: Int32Array, m: number): number {
  let s = 0;
  for (const j of idx) s += (v[j]! - m) ** 2;
  return s / (idx.length - 1);
}

/** One batch's empirical-Bayes estimates from its moments (sva's priors and `it.sol`). */
function estimateBatch(level: string, mo: Moments, grand: Float64Array, varPooled: Float64Array, kept: Int32Array, o: Required<CombatOptions>): CombatBatch {
  const d = grand.length, n = mo.n;
  const gammaHat = new Float64Array(d), deltaHat = new Float64Array(d).fill(1);
  const m2s = new Float64Array(d);
  for (const j of kept) {
    const sd = Math.sqrt(varPooled[j]!);
    gammaHat[j] = (mo.mean[j]! - grand[j]!) / sd;
    m2s[j] = mo.m2[j]! / varPooled[j]!;
    deltaHat[j] = m2s[j]! / (n - 1);
  }
  const gammaBar = mean(gammaHat, kept);
  const t2 = variance(gammaHat, kept, gammaBar);
  const dm = mean(deltaHat, kept), ds2 = variance(deltaHat, kept, dm);
  const aPrior = (2 * ds2 + dm * dm) / ds2;
  const bPrior = (dm * ds2 + dm * dm * dm) / ds2;
  const gOld = gammaHat.slice(), dOld = deltaHat.slice();
  const gNew = new Float64Array(d), dNew = new Float64Array(d).fill(1);
  let iterations = 0, converged = false;
  while (iterations < o.maxIter) {
    let change = -Infinity;
    for (const j of kept) {
      const g = (t2 * n * gammaHat[j]! + dOld[j]! * gammaBar) / (t2 * n + dOld[j]!);
      const dg = gammaHat[j]! - g;
      const sum2 = m2s[j]! + n * dg * dg;
      const dd = (0.5 * sum2 + bPrior) / (n / 2 + aPrior - 1);
      // sva: max(abs(g.new − g.old)/g.old, abs(d.new − d.old)/d.old), no abs() on the denominators.
      const c1 = Math.abs(g - gOld[j]!) / gOld[j]!, c2 = Math.abs(dd - dOld[j]!) / dOld[j]!;
      if (c1 > change || Number.isNaN(c1)) change = c1;
      if (c2 > change || Number.isNaN(c2)) change = c2;
      gNew[j] = g;
      dNew[j] = dd;
    }
    for (const j of kept) {
      gOld[j] = gNew[j]!;
      dOld[j] = dNew[j]!;
    }
    iterations++;
    if (change < o.conv) {
      converged = true;
      break;
    }
  }
  return { level, n, gammaHat, deltaHat, gammaBar, t2, aPrior, bPrior, gammaStar: gNew, deltaStar: dNew, iterations, converged };
}

/** Fit from per-batch moments (e.g. merged from several plates' partials). */
export function fitCombatFromStatistics(stats: BatchMoments, opts: CombatOptions = {}, ctx: BatchContext = {}): CombatModel {
  const o = resolve(opts);
  const levels = [...stats.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // The door checks speak in the same words whether the fit starts from rows or from partials.
  const design = designFromCounts(levels, levels.map((l) => stats.get(l)!.n));
  requireSeveralBatches(design, ctx);
  requireReferenceRows(design, METHOD, 'ComBat estimates each batch\'s scale from its own rows', ctx);
  const first = stats.get(levels[0]!)!;
  if (first.full) throw new RangeError('fitCombatFromStatistics: expects per-feature (diagonal) moments');
  const d = first.mean.length;
  let N = 0;
  const grand = new Float64Array(d), varPooled = new Float64Array(d);
  for (const l of levels) {
    const m = stats.get(l)!;
    N += m.n;
    for (let j = 0; j < d; j++) {
      grand[j] += m.n * m.mean[j]!;
      varPooled[j] += m.m2[j]!;
    }
  }
  for (let j = 0; j < d; j++) {
    grand[j] /= N;
    varPooled[j] /= N;
  }
  const adjusted = new Uint8Array(d).fill(1);
  for (const l of levels) {
    const m = stats.get(l)!;
    for (let j = 0; j < d; j++) if (!(m.m2[j]! > 0)) adjusted[j] = 0;
  }
  const kept = Int32Array.from({ length: d }, (_, j) => j).filter((j) => adjusted[j]);
  const unadjusted = Array.from({ length: d }, (_, j) => j).filter((j) => !adjusted[j]).map((j) => ctx.features?.[j] ?? `#${j + 1}`);
  if (kept.length < 2) {
    throw new InputError(`${METHOD}: only ${kept.length} feature(s) vary within every batch; the empirical-Bayes priors need at least 2 (features constant within a batch are left unadjusted)`);
  }
  const batches = levels.map((l) => estimateBatch(l, stats.get(l)!, grand, varPooled, kept, o));
  return {
    kind: 'combat', options: o, features: ctx.features ? [...ctx.features] : [], levels, grandMean: grand, varPooled, adjusted, unadjusted, batches,
  };
}

/**
 * Fit ComBat on X (rows) with a batch value per row.
 *
 * @example
 * const model = fitCombat(X, plateOfRow);              // per-batch location/scale, EB-shrunk
 * const corrected = applyCombat(model, X, plateOfRow);  // = sva::ComBat(t(X), plateOfRow)
 */
export function fitCombat(X: StoredMatrix, batch: readonly (string | null)[], opts: CombatOptions = {}, ctx: BatchContext = {}): CombatModel {
  resolve(opts);
  requireBatchLength(X.rows, batch, METHOD);
  const design = batchDesign(batch, ctx);
  requireSeveralBatches(design, ctx);
  requireReferenceRows(design, METHOD, 'ComBat estimates each batch\'s scale from its own rows', ctx);
  requireFinite(X, METHOD, ctx);
  return fitCombatFromStatistics(batchMomentsOf(X, design.codes, design.levels, false), opts, ctx);
}

export interface ApplyOptions {
  /** Rows of a batch the model has not seen: refuse (default) or estimate that batch from its own rows. */
  unseen?: 'error' | 'estimate';
  ctx?: BatchContext;
}

/** Adjust rows X (any batches seen in the fit; others per `unseen`). Returns a new matrix. */
export function applyCombat(model: CombatModel, X: StoredMatrix, batch: readonly (string | null)[], opts: ApplyOptions = {}): Matrix {
  const ctx = opts.ctx ?? {};
  const d = model.grandMean.length;
  if (X.cols !== d) throw new InputError(`${METHOD}: the data have ${X.cols} features, the model was fitted on ${d}`);
  requireBatchLength(X.rows, batch, METHOD);
  requireFinite(X, METHOD, ctx);
  const design = batchDesign(batch, ctx);
  const byLevel = new Map(model.batches.map((b) => [b.level, b]));
  const unseen = design.levels.filter((l) => !byLevel.has(l));
  if (unseen.length) {
    if ((opts.unseen ?? 'error') === 'error') {
      throw new InputError(
        `${METHOD}: batch ${unseen.map((u) => `"${u}"`).join(', ')} of column "${ctx.column ?? 'batch'}" was not in the fit (fitted batches: ${model.levels.join(', ')}); ` +
          'ComBat\'s location and scale exist only for fitted batches — refit with these rows, or map new batches explicitly (unseen: estimate)',
      );
    }
    const kept = Int32Array.from({ length: d }, (_, j) => j).filter((j) => model.adjusted[j]);
    for (const u of unseen) {
      const k = design.levels.indexOf(u);
      const rows: number[] = [];
      for (let i = 0; i < design.codes.length; i++) if (design.codes[i] === k) rows.push(i);
      if (rows.length < 2) {
        throw new InputError(`${METHOD}: unseen batch "${u}" has ${rows.length} row; estimating its location and scale needs at least 2 rows`);
      }
      byLevel.set(u, estimateBatch(u, momentsOf(X, rows, false), model.grandMean, model.varPooled, kept, model.options));
    }
  }
  // x* = σ(s − γ*)/δ* + α with s = (x − α)/σ, folded into x* = a·x + c per batch and feature.
  const out = zeros(X.rows, d);
  const x = X.data, y = out.data;
  const L = design.levels.length;
  const a = new Float64Array(L * d).fill(1), c = new Float64Array(L * d);
  design.levels.forEach((l, k) => {
    const b = byLevel.get(l)!;
    for (let j = 0; j < d; j++) {
      if (!model.adjusted[j]) continue;
      const sd = Math.sqrt(model.varPooled[j]!), dl = Math.sqrt(b.deltaStar[j]!), g = model.grandMean[j]!;
      a[k * d + j] = 1 / dl;
      c[k * d + j] = g - (g + b.gammaStar[j]! * sd) / dl;
    }
  });
  for (let i = 0; i < X.rows; i++) {
    const o = i * d, ko = design.codes[i]! * d;
    for (let j = 0; j < d; j++) y[o + j] = x[o + j]! * a[ko + j]! + c[ko + j]!;
  }
  return out;
}
