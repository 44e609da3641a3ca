/**
 * The batch factor of a table and the data-dependent checks every correction makes before any work
 * (style.md "checks at the door"): every row has a batch, there are at least two batches, every
 * batch has at least two reference rows (controls for sphering, all rows otherwise), and the
 * features are finite. Each failure is an InputError that names the column, batch or row and says
 * what to do next; nothing is skipped silently.
 */
import type { StoredMatrix } from '../linalg/matrix.js';
import { InputError } from '../util/errors.js';

/** Where the data came from, for messages. */
export interface BatchContext {
  /** Batch column name (as the user gave it). Default "batch". */
  column?: string;
  /** File or table name. Default "profiles". */
  source?: string;
  /** Feature names, for messages about non-finite values. */
  features?: readonly string[];
}

export interface BatchDesign {
  /** Distinct batch values, sorted (code-unit order, as numpy's `unique` and R's factor levels for ASCII names). */
  readonly levels: readonly string[];
  /** Batch index (into levels) of each row. */
  readonly codes: Int32Array;
  /** Rows per level. */
  readonly counts: Int32Array;
}

const preview = (xs: readonly (string | number)[], k = 5) => xs.slice(0, k).join(', ') + (xs.length > k ? `, … (${xs.length} in all)` : '');

/** Codes the batch column. Every row must have a batch value. */
export function batchDesign(batch: readonly (string | null | undefined)[], ctx: BatchContext = {}): BatchDesign {
  const col = ctx.column ?? 'batch', src = ctx.source ?? 'profiles';
  const missing: number[] = [];
  for (let i = 0; i < batch.length; i++) {
    const b = batch[i];
    if (b === null || b === undefined || b.trim() === '') missing.push(i + 1);
  }
  if (missing.length) {
    throw new InputError(
      `${src}: batch column "${col}" is empty in ${missing.length} row(s) (row ${preview(missing)}); every row needs a batch — fill it in, or remove those rows first`,
    );
  }
  const levels = [...new Set(batch as string[])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(levels.map((l, k) => [l, k]));
  const codes = new Int32Array(batch.length);
  const counts = new Int32Array(levels.length);
  for (let i = 0; i < batch.length; i++) {
    const k = index.get(batch[i]!)!;
    codes[i] = k;
    counts[k]!++;
  }
  return { levels, codes, counts };
}

/** At least two batches: otherwise there is nothing to correct across. */
export function requireSeveralBatches(design: BatchDesign, ctx: BatchContext = {}): void {
  if (design.levels.length < 2) {
    const col = ctx.column ?? 'batch';
    throw new InputError(
      `${ctx.source ?? 'profiles'}: batch column "${col}" has a single value ("${design.levels[0] ?? ''}") in all ${design.codes.length} rows, so there is nothing to correct across; ` +
        'choose a column that varies (plate, batch, source, microscope) or leave the correction out',
    );
  }
}

/**
 * Every batch has at least `min` reference rows. `reference` flags the reference rows (controls);
 * without it every row counts. `method` and `why` make the message specific.
 */
export function requireReferenceRows(
  design: BatchDesign, method: string, why: string, ctx: BatchContext = {}, reference?: ArrayLike<number | boolean>, referenceName = 'control rows', min = 2,
): Int32Array {
  const counts = new Int32Array(design.levels.length);
  for (let i = 0; i < design.codes.length; i++) if (!reference || reference[i]) counts[design.codes[i]!]!++;
  const col = ctx.column ?? 'batch';
  const none = design.levels.filter((_, k) => counts[k] === 0);
  if (reference && none.length) {
    throw new InputError(
      `${method}: batch ${preview(none.map((b) => `"${b}"`))} of column "${col}" has no ${referenceName}; ${why}. ` +
        'Add controls to that batch, or choose a correction that needs none (combat, harmony)',
    );
  }
  const few = design.levels.flatMap((b, k) => (counts[k]! < min ? [`"${b}" (${counts[k]})`] : []));
  if (few.length) {
    throw new InputError(
      `${method}: batch ${preview(few)} of column "${col}" has fewer than ${min} ${reference ? referenceName : 'rows'}; ${why}. ` +
        'Merge such a batch with a neighbouring one, or remove its rows first',
    );
  }
  return counts;
}

/** Features must be finite: a NaN would spread through every batch statistic. */
export function requireFinite(X: StoredMatrix, method: string, ctx: BatchContext = {}, rows?: ArrayLike<number>): void {
  const d = X.cols, x = X.data;
  const n = rows ? rows.length : X.rows;
  for (let r = 0; r < n; r++) {
    const i = rows ? rows[r]! : r;
    const o = i * d;
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(x[o + j]!)) {
        throw new InputError(
          `${method}: ${ctx.source ?? 'profiles'} has a missing or infinite value in feature ${ctx.features?.[j] ?? `#${j + 1}`} (row ${i + 1}); ` +
            'remove such features first (feature-select drop_na_columns) or impute them',
        );
      }
    }
  }
}

/** Same number of batch values as rows. */
export function requireBatchLength(rows: number, batch: readonly unknown[], method: string): void {
  if (batch.length !== rows) throw new InputError(`${method}: ${batch.length} batch values for ${rows} rows`);
}

/** The design of batch counts alone (for fits that start from merged per-batch statistics). */
export function designFromCounts(levels: readonly string[], counts: ArrayLike<number>): BatchDesign {
  let n = 0;
  for (let k = 0; k < levels.length; k++) n += counts[k]!;
  const codes = new Int32Array(n);
  let i = 0;
  for (let k = 0; k < levels.length; k++) for (let t = 0; t < counts[k]!; t++) codes[i++] = k;
  return { levels: [...levels], codes, counts: Int32Array.from(counts) };
}
