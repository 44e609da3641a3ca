/**
 * Sphering (whitening) to negative controls, batch-aware: every batch is centred on the mean of its
 * own control wells, and the whitening matrix W is learned from the control wells' covariance —
 * pooled over batches after each batch's centring (`scope: 'pooled'`, default) or one per batch
 * (`scope: 'batch'`). Transform: x ↦ (x − μ_batch(x))·W. Controls then have zero mean in every
 * batch and (up to shrinkage) identity covariance, so both the location and the correlated
 * nuisance variation that controls share are removed (Kessy, Lewin & Strimmer, "Optimal whitening
 * and decorrelation", Am Stat 2018; used as a batch correction by Arevalo et al. 2024, where
 * sphering to negative controls is a strong cheap baseline).
 *
 * Implementation matched: pycytominer `Spherize` (pycytominer/operations/transform.py), as
 * src/preprocess/spherize.ts: with s the singular values of the centred control rows and V their
 * right singular vectors, W = V·diag(√dof/(s + ε))·Vᵀ (ZCA) or V·diag(√dof/(s + ε)) (PCA), ε added
 * exactly where pycytominer adds it. With one batch, `scope: 'batch'` and `shrinkage: 0` this is
 * pycytominer's spherer fitted on that batch's controls (test/batch/sphere.test.ts checks it
 * against fitSpherize, whose ε placement is pinned to pycytominer).
 *
 * Deliberate differences:
 * - Pooled scope: the scatter is Σ_b Σ_{i∈b} (x_i − μ_b)(x_i − μ_b)ᵀ with dof = n_controls − B
 *   (pycytominer fits one spherer on all controls around one mean; Arevalo et al. normalise each
 *   plate to its controls first, which is what the per-batch centring does in one step).
 * - Shrinkage (default 'auto'): control wells are often fewer than features (BBBC021: 330 DMSO
 *   wells, 516 features), and the unregularised inverse square root then multiplies directions the
 *   controls never vary in by ~1/ε. The covariance is shrunk towards a scaled identity,
 *   Σ_s = (1 − α)·Σ + α·(tr Σ / d)·I, with α chosen by Ledoit & Wolf (2004) on the centred control
 *   rows (scikit-learn's `ledoit_wolf_shrinkage` formula, assume_centered, unscaled). `shrinkage: 0`
 *   with rank-deficient controls is refused for ZCA (PCA pads as pycytominer does).
 *   Arevalo et al. instead search ε over 25 values and keep the best by mAP — a choice made on the
 *   labels being evaluated, which phenomap does not make by default.
 * - Rows of a batch not seen in the fit are refused unless `unseen: 'estimate'` (pooled scope
 *   only): that batch is then centred on its own control rows (≥ 2), with the fitted W.
 *
 * The fit keeps per-batch counts, means, full scatter matrices and the two higher moments the
 * Ledoit–Wolf estimate needs (moments.ts), so per-plate partials merge exactly.
 */
import { type Matrix, type StoredMatrix, gemm, symmetricEigen, transpose, zeros } from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import {
  type BatchContext, batchDesign, designFromCounts, requireBatchLength, requireFinite, requireReferenceRows, requireSeveralBatches,
} from './design.js';
import { type BatchMoments, type Moments, batchMomentsOf, momentsOf } from './moments.js';
import { checkOptions, type Constraints } from './options.js';

export interface SphereOptions {
  /** ZCA keeps the feature axes (default); PCA rotates onto the controls' principal axes. */
  method?: 'ZCA' | 'PCA';
  /** One whitening matrix from all batches' centred controls (default), or one per batch. */
  scope?: 'pooled' | 'batch';
  /** Covariance shrinkage α in [0, 1], or 'auto' (Ledoit–Wolf). Default 'auto'. */
  shrinkage?: number | 'auto';
  /** pycytominer's ε, added to the singular values. Default 1e-6. */
  epsilon?: number;
}

export const SPHERE_CONSTRAINTS: Constraints<SphereOptions> = {
  method: { kind: 'enum', values: ['ZCA', 'PCA'] },
  scope: { kind: 'enum', values: ['pooled', 'batch'] },
  shrinkage: { kind: 'number', min: 0, max: 1, also: ['auto'] },
  epsilon: { kind: 'number', min: 0 },
};

export interface SphereModel {
  readonly kind: 'sphere';
  readonly options: Readonly<Required<SphereOptions>>;
  /** Input feature names. */
  readonly features: readonly string[];
  /** Output feature names (the input names for ZCA; sphere_PC1… for PCA). */
  readonly outputFeatures: readonly string[];
  readonly levels: readonly string[];
  /** Control rows per batch. */
  readonly controls: readonly number[];
  /** Mean of each batch's control rows. */
  readonly means: readonly Float64Array[];
  /** One d × d weight matrix (pooled) or one per batch, in `levels` order. */
  readonly W: readonly Matrix[];
  /** Shrinkage used for each W. */
  readonly shrinkage: readonly number[];
  /** Numerical rank of each control scatter before shrinkage. */
  readonly rank: readonly number[];
}

const METHOD = 'sphering';
const WHY = 'sphering centres each batch on its own control wells';

function resolve(opts: SphereOptions): Required<SphereOptions> {
  checkOptions(opts, SPHERE_CONSTRAINTS, 'sphere');
  return { method: opts.method ?? 'ZCA', scope: opts.scope ?? 'pooled', shrinkage: opts.shrinkage ?? 'auto', epsilon: opts.epsilon ?? 1e-6 };
}

/** Per-batch moments of the control rows (`isControl[i]` true): the whole state the fit needs. */
export function sphereStatistics(
  X: StoredMatrix, batch: readonly (string | null)[], isControl: ArrayLike<boolean | number>, ctx: BatchContext = {},
): Map<string, Moments> {
  requireBatchLength(X.rows, batch, METHOD);
  if (isControl.length !== X.rows) throw new InputError(`${METHOD}: ${isControl.length} control flags for ${X.rows} rows`);
  const design = batchDesign(batch, ctx);
  const rows: number[] = [];
  for (let i = 0; i < X.rows; i++) if (isControl[i]) rows.push(i);
  requireFinite(X, METHOD, ctx, rows);
  return batchMomentsOf(X, design.codes, design.levels, true, isControl);
}

/** Ledoit–Wolf α from the scatter M2 of n centred rows and q4 = Σ‖r‖⁴ (sklearn's formula, assume_centered). */
export function ledoitWolfFromMoments(m2: Float64Array, d: number, n: number, q4: number): number {
  let tr = 0, fro = 0;
  for (let j = 0; j < d; j++) tr += m2[j * d + j]!;
  for (let t = 0; t < d * d; t++) fro += m2[t]! * m2[t]!;
  const empTrace = tr / n;
  const mu = empTrace / d;
  const delta_ = fro / (n * n);
  let beta = (q4 / n - delta_) / (d * n);
  const delta = (delta_ - 2 * mu * empTrace + d * mu * mu) / d;
  beta = Math.min(beta, delta);
  if (!(beta > 0) || !(delta > 0)) return 0;
  return Math.min(1, beta / delta);
}

function whitening(
  m2: Float64Array, d: number, dof: number, nRows: number, q4: number, o: Required<SphereOptions>, what: string,
): { W: Matrix; alpha: number; rank: number } {
  const S = zeros(d, d);
  for (let t = 0; t < d * d; t++) S.data[t] = m2[t]! / dof;
  // Exact symmetry for the eigensolver (the blocked scatter is symmetric to rounding).
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) S.data[j * d + i] = S.data[i * d + j]!;
  const alpha = o.shrinkage === 'auto' ? ledoitWolfFromMoments(m2, d, nRows, q4) : o.shrinkage;
  let tr = 0;
  for (let j = 0; j < d; j++) tr += S.data[j * d + j]!;
  if (!(tr > 0)) throw new InputError(`${METHOD}: ${what} have no variance at all`);
  const rawEig = symmetricEigen(S, { valuesOnly: true }).values;
  const lmax = Math.max(rawEig[0] ?? 0, 0);
  const tol = lmax * Math.max(nRows, d) * 2.220446049250313e-16;
  let rank = 0;
  for (let k = 0; k < d; k++) if (rawEig[k]! > tol) rank++;
  if (alpha > 0) {
    for (let t = 0; t < d * d; t++) S.data[t] *= 1 - alpha;
    for (let j = 0; j < d; j++) S.data[j * d + j] += (alpha * tr) / d;
  }
  const { values, vectors: V } = symmetricEigen(S);
  const s = new Float64Array(d);
  for (let k = 0; k < d; k++) s[k] = Math.sqrt(dof * Math.max(values[k]!, 0));
  if (alpha === 0 && rank < d) {
    if (o.method === 'ZCA') {
      throw new InputError(
        `${METHOD}: ${what} (${nRows} rows) span only ${rank} of ${d} feature dimensions, so ZCA without shrinkage would blow the other directions up by 1/ε; ` +
          `use shrinkage 'auto' (or a value in (0, 1]), select fewer features, or use method PCA`,
      );
    }
    for (let k = rank; k < d; k++) s[k] = s[rank - 1]!;
  }
  const f = new Float64Array(d);
  const sq = Math.sqrt(dof);
  for (let k = 0; k < d; k++) f[k] = sq / (s[k]! + o.epsilon);
  const VD = zeros(d, d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) VD.data[i * d + k] = V.data[i * d + k]! * f[k]!;
  return { W: o.method === 'ZCA' ? gemm(VD, transpose(V)) : VD, alpha, rank };
}

/** Fit from per-batch control moments (e.g. merged from several plates' partials). */
export function fitSphereFromStatistics(stats: BatchMoments, opts: SphereOptions = {}, ctx: BatchContext = {}): SphereModel {
  const o = resolve(opts);
  const levels = [...stats.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const design = designFromCounts(levels, levels.map((l) => stats.get(l)!.n));
  requireSeveralBatches(design, ctx);
  requireReferenceRows(design, METHOD, WHY, ctx);
  const first = stats.get(levels[0]!)!;
  if (!first.full) throw new RangeError('fitSphereFromStatistics: expects full (d × d) moments');
  const d = first.mean.length;
  const W: Matrix[] = [], shrinkage: number[] = [], rank: number[] = [];
  if (o.scope === 'pooled') {
    const m2 = new Float64Array(d * d);
    let n = 0, q4 = 0;
    for (const l of levels) {
      const m = stats.get(l)!;
      for (let t = 0; t < m2.length; t++) m2[t] += m.m2[t]!;
      n += m.n;
      q4 += m.q4;
    }
    const w = whitening(m2, d, n - levels.length, n, q4, o, `the control rows of ${levels.length} batches`);
    W.push(w.W);
    shrinkage.push(w.alpha);
    rank.push(w.rank);
  } else {
    for (const l of levels) {
      const m = stats.get(l)!;
      const w = whitening(m.m2, d, m.n - 1, m.n, m.q4, o, `the control rows of batch "${l}"`);
      W.push(w.W);
      shrinkage.push(w.alpha);
      rank.push(w.rank);
    }
  }
  const features = ctx.features ? [...ctx.features] : [];
  const outputFeatures = o.method === 'ZCA' ? features : Array.from({ length: d }, (_, k) => `sphere_PC${k + 1}`);
  return {
    kind: 'sphere', options: o, features, outputFeatures, levels,
    controls: levels.map((l) => stats.get(l)!.n), means: levels.map((l) => stats.get(l)!.mean), W, shrinkage, rank,
  };
}

/**
 * Fit on rows X with a batch value and a control flag per row.
 *
 * @example
 * const model = fitSphere(X, plateOfRow, isDmso);        // pooled ZCA, Ledoit–Wolf shrinkage
 * const sphered = applySphere(model, X, plateOfRow);     // controls: mean 0 per plate, ≈ identity covariance
 */
export function fitSphere(
  X: StoredMatrix, batch: readonly (string | null)[], isControl: ArrayLike<boolean | number>, opts: SphereOptions = {}, ctx: BatchContext = {},
): SphereModel {
  resolve(opts);
  requireBatchLength(X.rows, batch, METHOD);
  const design = batchDesign(batch, ctx);
  requireSeveralBatches(design, ctx);
  if (isControl.length !== X.rows) throw new InputError(`${METHOD}: ${isControl.length} control flags for ${X.rows} rows`);
  requireReferenceRows(design, METHOD, WHY, ctx, isControl);
  return fitSphereFromStatistics(sphereStatistics(X, batch, isControl, ctx), opts, ctx);
}

export interface SphereApplyOptions {
  /** Rows of a batch the model has not seen: refuse (default), or centre it on its own control rows (pooled scope). */
  unseen?: 'error' | 'estimate';
  /** Control flags of the rows of X (needed for unseen batches). */
  isControl?: ArrayLike<boolean | number>;
  ctx?: BatchContext;
}

/** (x − μ_batch)·W for every row; a new matrix. */
export function applySphere(model: SphereModel, X: StoredMatrix, batch: readonly (string | null)[], opts: SphereApplyOptions = {}): Matrix {
  const ctx = opts.ctx ?? {};
  const d = model.means[0]!.length;
  if (X.cols !== d) throw new InputError(`${METHOD}: the data have ${X.cols} features, the model was fitted on ${d}`);
  requireBatchLength(X.rows, batch, METHOD);
  requireFinite(X, METHOD, ctx);
  const design = batchDesign(batch, ctx);
  const idx = new Map(model.levels.map((l, k) => [l, k]));
  const means = new Map<string, Float64Array>(model.levels.map((l, k) => [l, model.means[k]!]));
  const unseen = design.levels.filter((l) => !idx.has(l));
  if (unseen.length) {
    if ((opts.unseen ?? 'error') === 'error' || model.options.scope === 'batch') {
      throw new InputError(
        `${METHOD}: batch ${unseen.map((u) => `"${u}"`).join(', ')} of column "${ctx.column ?? 'batch'}" was not in the fit (fitted: ${model.levels.join(', ')})` +
          (model.options.scope === 'batch' ? '; a per-batch spherer exists only for fitted batches — refit, or use scope pooled' : '; refit with these rows, or centre new batches on their own controls (unseen: estimate)'),
      );
    }
    if (!opts.isControl || opts.isControl.length !== X.rows) throw new InputError(`${METHOD}: centring an unseen batch on its controls needs a control flag per row`);
    for (const u of unseen) {
      const k = design.levels.indexOf(u);
      const rows: number[] = [];
      for (let i = 0; i < X.rows; i++) if (design.codes[i] === k && opts.isControl[i]) rows.push(i);
      if (rows.length < 2) throw new InputError(`${METHOD}: unseen batch "${u}" has ${rows.length} control row(s); centring it needs at least 2`);
      means.set(u, momentsOf(X, rows, false).mean);
    }
  }
  const out = zeros(X.rows, d);
  const x = X.data;
  const BLOCK = 1024;
  const scratch = new Float64Array(Math.min(BLOCK, Math.max(1, X.rows)) * d);
  design.levels.forEach((l, k) => {
    const rows: number[] = [];
    for (let i = 0; i < X.rows; i++) if (design.codes[i] === k) rows.push(i);
    const mu = means.get(l)!;
    const W = model.W[model.options.scope === 'pooled' ? 0 : idx.get(l)!]!;
    for (let r0 = 0; r0 < rows.length; r0 += BLOCK) {
      const r1 = Math.min(rows.length, r0 + BLOCK);
      for (let r = r0; r < r1; r++) {
        const o = rows[r]! * d, so = (r - r0) * d;
        for (let j = 0; j < d; j++) scratch[so + j] = x[o + j]! - mu[j]!;
      }
      const Y = gemm({ rows: r1 - r0, cols: d, data: scratch.subarray(0, (r1 - r0) * d) }, W);
      for (let r = r0; r < r1; r++) out.data.set(Y.data.subarray((r - r0) * d, (r - r0 + 1) * d), rows[r]! * d);
    }
  });
  return out;
}
