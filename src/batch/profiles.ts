/**
 * Batch correction of a profile table: the library call behind `run --correct`, `evaluate
 * --correct` and (later) the profiling config. It reads the batch column and the control rows,
 * fits the named correction (optionally on some rows only, placing the others as new rows), and
 * returns the corrected table with its metadata, the fitted model and a report of what was done.
 */
import type { StoredMatrix } from '../linalg/matrix.js';
import { takeRows, zeros } from '../linalg/matrix.js';
import { type Profiles, findMeta, metaStrings } from '../io/profiles.js';
import { InputError, UsageError } from '../util/errors.js';
import { type Reporter, silentReporter } from '../util/log.js';
import { type BatchContext, requireFinite } from './design.js';
import { type BatchModel, type CorrectionName, CORRECTION_NAMES, correctionByName } from './registry.js';

export interface CorrectProfilesOptions {
  method: CorrectionName;
  /** Metadata column holding the batch (plate, batch, source, microscope). */
  batchCol: string;
  /**
   * The negative-control rows: flags per row, or a column and the values that mark a control
   * (compared case-insensitively). Required by sphering; ignored by the others.
   */
  controls?: ArrayLike<boolean | number> | { column: string; values: readonly string[] };
  /** The method's options (see its constraints table). */
  options?: Record<string, unknown>;
  /**
   * Fit on these rows only and place every other row with the fitted model (rows of batches not
   * among the fitted rows are placed as new batches: see each method's `apply`). Default: all rows.
   */
  fitRows?: ArrayLike<number>;
  reporter?: Reporter;
}

export interface CorrectionReport {
  method: CorrectionName;
  batchCol: string;
  rows: number;
  featuresIn: number;
  featuresOut: number;
  batches: { batch: string; rows: number; controls?: number }[];
  /** The options the fitted model used (defaults filled in). */
  options: Record<string, unknown>;
  fittedRows: number;
  seconds: number;
  notes: string[];
}

export interface CorrectionResult {
  profiles: Profiles;
  model: BatchModel;
  report: CorrectionReport;
}

/** Control flags from a spec (exported for the CLI and the evaluation). */
export function controlFlags(p: Profiles<StoredMatrix>, spec: CorrectProfilesOptions['controls']): Uint8Array | undefined {
  if (!spec) return undefined;
  const n = p.X.rows;
  if ('column' in spec) {
    if (!findMeta(p, spec.column)) throw new InputError(`${p.source ?? 'profiles'}: no control column "${spec.column}"`);
    const want = new Set(spec.values.map((v) => v.toUpperCase()));
    const col = metaStrings(p, spec.column);
    return Uint8Array.from(col, (v) => (v !== null && want.has(v.toUpperCase()) ? 1 : 0));
  }
  if (spec.length !== n) throw new InputError(`${p.source ?? 'profiles'}: ${spec.length} control flags for ${n} rows`);
  return Uint8Array.from({ length: n }, (_, i) => (spec[i] ? 1 : 0));
}

/** The batch column's values, or an InputError that lists the metadata columns. */
export function batchColumn(p: Profiles<StoredMatrix>, batchCol: string): (string | null)[] {
  if (!findMeta(p, batchCol)) {
    const names = p.meta.map((c) => c.name);
    throw new InputError(
      `${p.source ?? 'profiles'}: batch column "${batchCol}" not found; give --batch-col one of the metadata columns (${names.slice(0, 12).join(', ')}${names.length > 12 ? `, … (${names.length} in all)` : ''})`,
    );
  }
  return metaStrings(p, batchCol);
}

/**
 * Correct the batch effects of a profile table.
 *
 * @example
 * const { profiles } = await readProfiles('plates.parquet');
 * const r = correctProfiles(profiles, {
 *   method: 'sphere', batchCol: 'Metadata_Plate', controls: { column: 'Metadata_pert_type', values: ['control'] },
 * });
 * await writeProfiles('plates_sphered.parquet', r.profiles);   // same metadata, corrected features
 * saveModel('sphere_model.json', r.model);                       // the fitted model is an output too
 */
export function correctProfiles(p: Profiles<StoredMatrix>, opts: CorrectProfilesOptions): CorrectionResult {
  const reporter = opts.reporter ?? silentReporter;
  if (!CORRECTION_NAMES.includes(opts.method)) throw new UsageError(`unknown correction "${opts.method}" (choose from ${CORRECTION_NAMES.join(', ')})`);
  const c = correctionByName(opts.method);
  const t0 = performance.now();
  const batch = batchColumn(p, opts.batchCol);
  const isControl = controlFlags(p, opts.controls);
  if (c.needsControls && !isControl) {
    throw new UsageError(`${opts.method} needs the negative-control rows: give the controls (e.g. --controls "Metadata_compound == DMSO")`);
  }
  const ctx: BatchContext = { column: opts.batchCol, source: p.source, features: p.features };
  const all = { X: p.X, batch, isControl, ctx };
  let model: BatchModel;
  let X;
  if (opts.fitRows && opts.fitRows.length !== p.X.rows) {
    const rows = opts.fitRows;
    // Row numbers in messages about non-finite values are those of the table, not of a subset.
    requireFinite(p.X, opts.method, ctx);
    const subset = (idx: ArrayLike<number>) => ({
      X: takeRows(p.X, idx), batch: Array.from(idx, (i) => batch[i]!), isControl: isControl ? Uint8Array.from(idx, (i) => isControl[i]!) : undefined, ctx,
    });
    const fitted = c.fitTransform(subset(rows), opts.options ?? {});
    model = fitted.model;
    // The fitted rows keep their fitted correction (Harmony's mapping differs from its fit); only
    // the others are placed. Every correction places a row of a fitted batch on its own and the
    // rows of an unfitted batch together — all of which are among the others — so placing them
    // alone gives what placing the whole table gives them.
    const isFitRow = new Uint8Array(p.X.rows);
    for (let r = 0; r < rows.length; r++) isFitRow[rows[r]!] = 1;
    const rest: number[] = [];
    for (let i = 0; i < p.X.rows; i++) if (!isFitRow[i]) rest.push(i);
    const d = fitted.corrected.cols;
    X = zeros(p.X.rows, d);
    for (let r = 0; r < rows.length; r++) X.data.set(fitted.corrected.data.subarray(r * d, (r + 1) * d), rows[r]! * d);
    if (rest.length) {
      const placed = c.apply(model, subset(rest), { unseen: 'estimate' });
      for (let r = 0; r < rest.length; r++) X.data.set(placed.data.subarray(r * d, (r + 1) * d), rest[r]! * d);
    }
  } else {
    const fitted = c.fitTransform(all, opts.options ?? {});
    model = fitted.model;
    X = fitted.corrected;
  }
  const features = [...c.outputFeatures(model)];
  const levels = [...new Set(batch as string[])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const batches = levels.map((b) => {
    let rows = 0, controls = 0;
    for (let i = 0; i < batch.length; i++) {
      if (batch[i] !== b) continue;
      rows++;
      if (isControl?.[i]) controls++;
    }
    return isControl ? { batch: b, rows, controls } : { batch: b, rows };
  });
  const notes: string[] = [];
  if (model.kind === 'combat' && model.unadjusted.length) notes.push(`ComBat left ${model.unadjusted.length} feature(s) unadjusted (zero variance within a batch): ${model.unadjusted.slice(0, 5).join(', ')}${model.unadjusted.length > 5 ? ', …' : ''}`);
  if (model.kind === 'combat') {
    const nc = model.batches.filter((b) => !b.converged).map((b) => b.level);
    if (nc.length) notes.push(`ComBat's empirical-Bayes iteration did not converge within ${model.options.maxIter} rounds for batch ${nc.join(', ')}`);
  }
  if (model.kind === 'sphere') notes.push(`sphering (${model.options.scope}): covariance shrinkage α = ${model.shrinkage.map((a) => a.toFixed(3)).join(', ')}${model.options.shrinkage === 'auto' ? ' (Ledoit–Wolf)' : ''}; control scatter rank ${model.rank.join(', ')} of ${p.features.length}`);
  if (model.kind === 'harmony') {
    notes.push(`Harmony: ${model.options.nClusters} clusters on ${model.components ? `${model.components.rows} principal components` : 'the features'}, ${model.iterations} round(s), ${model.converged ? 'converged' : 'NOT converged (raise maxIter)'}; ` +
      `seconds ${Object.entries(model.seconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    if (model.constantFeatures.length) notes.push(`Harmony: ${model.constantFeatures.length} constant feature(s) not scaled`);
  }
  for (const note of notes) reporter.info(note);
  const report: CorrectionReport = {
    method: opts.method, batchCol: opts.batchCol, rows: p.X.rows, featuresIn: p.features.length, featuresOut: features.length, batches,
    options: { ...(model.options as object) }, fittedRows: opts.fitRows?.length ?? p.X.rows, seconds: (performance.now() - t0) / 1000, notes,
  };
  return { profiles: { features, X, meta: p.meta, source: p.source }, model, report };
}
