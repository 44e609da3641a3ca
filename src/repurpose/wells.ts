/**
 * The well-level profiles behind a compound answer: every replicate well of every compound and
 * the negative-control wells, in the run's raw (z-scored) feature space.
 *
 * `phenomap run` keeps only labelled rows, so a run made with `--label-col Metadata_moa` holds no
 * DMSO wells (they have no MoA), while a run labelled by injury type keeps them (label
 * "Control"). The wells therefore come from the run directory itself when it holds negative
 * controls, and otherwise from the table the run was made from (`summary.inputs.file`, or the
 * `profiles` option), z-scored exactly as `run` did it (statistics over all rows, or over the
 * labelled rows for `--preset paper`) on the run's features. That recomputation is checked
 * against the run's own repr_raw.npy row by row, so a table that is not the run's input is
 * refused rather than silently mixed in.
 *
 * Negative controls are found by, in order: the `controls` metadata query; a control-type column
 * saying negative (`Control Type == Negative`, cell-injury); a perturbation-type column saying
 * control (`Metadata_pert_type == control`, LINCS); a compound name such as DMSO (BBBC021).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { type Matrix, zeros } from '../linalg/index.js';
import { readProfileTables } from '../io/readMany.js';
import { type MetaColumn, type Profiles, cellString, findMeta } from '../io/profiles.js';
import type { RunData } from '../io/runDir.js';
import { queryRows } from '../preprocess/query.js';
import { InputError } from '../util/errors.js';
import { type Reporter, silentReporter } from '../util/log.js';

export interface ControlSelection {
  /** How the controls were chosen, in words ("Control Type == Negative"). */
  rule: string;
  /** 0/1 per well. */
  mask: Uint8Array;
  count: number;
}

export interface WellProfiles {
  /** Where the wells were read: 'run directory' or the table's path. */
  origin: string;
  /** Wells × the run's features, z-scored as the run's raw representation. */
  X: Matrix;
  /** Compound of each well (the run's drug column); null when the well names none. */
  compound: (string | null)[];
  dose: (string | null)[];
  /** Negative controls, or null when the table has none (then no activity call is possible). */
  controls: ControlSelection | null;
  /** Why no controls were found, when `controls` is null. */
  noControlsReason?: string;
  /** Row of clusters.csv of each well, −1 when the run left the well out. */
  runRow: Int32Array;
}

const CONTROL_TYPE_COLUMN = /^(metadata_)?control[ _]?type$/i;
const NEGATIVE_VALUE = /^(neg|negative|negcon|negative[ _]control)$/i;
const PERT_TYPE_COLUMN = /^(metadata_)?(pert_type|broad_sample_type|perturbation_type)$/i;
const CONTROL_VALUE = /^(control|ctl_vehicle|ctrl|negcon|vehicle)$/i;
const CONTROL_NAME = /^(dmso|vehicle|untreated|mock|negcon)$/i;

type ColumnLookup = (name: string) => (string | null)[] | undefined;

function maskOf(values: (string | null)[], test: (v: string) => boolean): Uint8Array {
  const m = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined && test(v.trim())) m[i] = 1;
  }
  return m;
}

function count(m: Uint8Array): number {
  let c = 0;
  for (let i = 0; i < m.length; i++) c += m[i]!;
  return c;
}

/**
 * Negative-control wells of a table, by the explicit query or by the automatic rules (see the
 * file header). Null when nothing matches; an explicit query that matches nothing is an error
 * (from queryRows, naming the values the column holds).
 */
export function findControls(profiles: Profiles, compoundCol: string, query?: string): ControlSelection | null {
  const n = profiles.X.rows;
  if (query) {
    const rows = queryRows(profiles, query);
    const mask = new Uint8Array(n);
    for (const r of rows) mask[r] = 1;
    return { rule: query, mask, count: rows.length };
  }
  const col: ColumnLookup = (name) => {
    const c = findMeta(profiles, name);
    return c ? Array.from({ length: n }, (_, i) => cellString(c, i)) : undefined;
  };
  const names = profiles.meta.map((m) => m.name);
  const tries: { column: string | undefined; test: RegExp; label: (c: string) => string }[] = [
    { column: names.find((c) => CONTROL_TYPE_COLUMN.test(c)), test: NEGATIVE_VALUE, label: (c) => `${c} says negative` },
    { column: names.find((c) => PERT_TYPE_COLUMN.test(c)), test: CONTROL_VALUE, label: (c) => `${c} says control` },
    { column: compoundCol, test: CONTROL_NAME, label: (c) => `${c} is DMSO / vehicle` },
  ];
  for (const t of tries) {
    if (!t.column) continue;
    const values = col(t.column);
    if (!values) continue;
    const mask = maskOf(values, (v) => t.test.test(v));
    const c = count(mask);
    if (c > 0) return { rule: t.label(t.column), mask, count: c };
  }
  return null;
}

/** clusters.csv as Profiles with string metadata (for findControls and the query language). */
function runTableProfiles(run: RunData): Profiles {
  const meta: MetaColumn[] = run.table.columns.map((name) => ({ name, kind: 'string', values: run.table.values.get(name)! }));
  return { features: [], X: zeros(run.n, 0), meta, source: `${run.dir}/clusters.csv` };
}

export interface WellOptions {
  /** Metadata query selecting the negative controls (default: detected). */
  controls?: string;
  /**
   * The run's input table (default summary.inputs.file) when the run directory holds no controls:
   * a path, or the Profiles the run was made from (library use, e.g. a recipe's table).
   */
  profiles?: string | readonly string[] | Profiles;
  reporter?: Reporter;
}

/** Largest |a − b| / (1 + |b|) between the recomputed raw rows and the run's repr_raw. */
function worstMismatch(Z: Matrix, rows: Int32Array, runRaw: Matrix): { err: number; row: number } {
  const d = runRaw.cols;
  let err = 0, row = -1;
  for (let r = 0; r < runRaw.rows; r++) {
    const o = rows[r]! * d, p = r * d;
    for (let j = 0; j < d; j++) {
      const b = runRaw.data[p + j]!;
      const e = Math.abs(Z.data[o + j]! - b) / (1 + Math.abs(b));
      if (e > err) {
        err = e;
        row = r;
      }
    }
  }
  return { err, row };
}

/** The run's input table: keep the run's features and z-score them as `run` did. */
function wellsFromTable(run: RunData, profiles: Profiles, file: string, opts: WellOptions): WellProfiles {
  const expectRows = run.summary.inputs?.rowsInFile;
  if (typeof expectRows === 'number' && expectRows !== profiles.X.rows) {
    throw new InputError(`${file}: ${profiles.X.rows} rows, but the run was made from a table of ${expectRows} rows; pass the run's input table`);
  }
  const index = new Map(profiles.features.map((f, j) => [f, j]));
  const missing = run.features.filter((f) => !index.has(f));
  if (missing.length) throw new InputError(`${file}: ${missing.length} of the run's features are missing (e.g. ${missing.slice(0, 3).join(', ')})`);
  if (!findMeta(profiles, run.drugCol)) throw new InputError(`${file}: no column "${run.drugCol}" (the run's compound column)`);
  const n = profiles.X.rows, d = run.features.length, src = profiles.X;
  const cols = run.features.map((f) => index.get(f)!);
  const runRows = Int32Array.from(run.table.values.get('row') ?? [], (v) => Number(v));
  if (runRows.length !== run.n || runRows.some((r) => !(r >= 0 && r < n))) {
    throw new InputError(`${run.dir}/clusters.csv: its "row" column does not index ${file} (${n} rows)`);
  }
  // Statistics over the rows `run` used: all of them, or the labelled ones (--preset paper).
  const params = run.summary.parameters;
  const onLabelled = params?.normalizeOn === 'labelled' || (params?.normalizeOn === undefined && params?.preset === 'paper');
  const basis = onLabelled ? runRows : Int32Array.from({ length: n }, (_, i) => i);
  const mean = new Float64Array(d), m2 = new Float64Array(d);
  for (const i of basis) {
    for (let j = 0; j < d; j++) mean[j] += src.data[i * src.cols + cols[j]!]!;
  }
  for (let j = 0; j < d; j++) mean[j] /= basis.length;
  for (const i of basis) {
    for (let j = 0; j < d; j++) {
      const t = src.data[i * src.cols + cols[j]!]! - mean[j]!;
      m2[j] += t * t;
    }
  }
  const X = zeros(n, d);
  for (let j = 0; j < d; j++) m2[j] = Math.sqrt(m2[j]! / basis.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) X.data[i * d + j] = (src.data[i * src.cols + cols[j]!]! - mean[j]!) / m2[j]!;
  }
  const runRaw = run.repr('raw');
  if (runRaw) {
    const { err, row } = worstMismatch(X, runRows, runRaw);
    if (!(err <= 1e-4)) {
      throw new InputError(`${file}: its row ${runRows[row]! + 1} does not reproduce the run's z-scored profile (relative difference ${err.toExponential(1)}); pass the table the run was made from`);
    }
  }
  const runRow = new Int32Array(n).fill(-1);
  runRows.forEach((r, t) => (runRow[r] = t));
  const drug = findMeta(profiles, run.drugCol)!;
  const doseCol = run.doseCol ? findMeta(profiles, run.doseCol) : undefined;
  const controls = findControls(profiles, run.drugCol, opts.controls);
  return {
    origin: file,
    X,
    compound: Array.from({ length: n }, (_, i) => cellString(drug, i)),
    dose: Array.from({ length: n }, (_, i) => (doseCol ? cellString(doseCol, i) : null)),
    controls,
    noControlsReason: controls ? undefined : `no negative-control wells in ${file} (no control-type column saying negative or control, no DMSO / vehicle in ${run.drugCol}; name them with --controls)`,
    runRow,
  };
}

/**
 * The wells of a run (see the file header). With neither controls in the run nor a readable
 * input table, the wells are the run's own rows and `controls` is null with the reason.
 */
export async function loadWellProfiles(run: RunData, opts: WellOptions = {}): Promise<WellProfiles> {
  const reporter = opts.reporter ?? silentReporter;
  const runRaw = run.repr('raw');
  const fromRun = (controls: ControlSelection | null, reason?: string): WellProfiles => ({
    origin: 'run directory',
    X: runRaw!,
    compound: run.table.values.get(run.drugCol)?.slice() ?? new Array<string | null>(run.n).fill(null),
    dose: run.dose.slice(),
    controls,
    noControlsReason: reason,
    runRow: Int32Array.from({ length: run.n }, (_, i) => i),
  });
  if (!opts.profiles && runRaw) {
    let inRun: ControlSelection | null = null;
    try {
      inRun = findControls(runTableProfiles(run), run.drugCol, opts.controls);
    } catch (e) {
      // An explicit query may name rows the run left out (unlabelled DMSO): look in the input table.
      if (!(e instanceof InputError) || !opts.controls) throw e;
    }
    if (inRun) return fromRun(inRun);
  }
  const given = typeof opts.profiles === 'string' ? [opts.profiles] : Array.isArray(opts.profiles) ? (opts.profiles as readonly string[]) : undefined;
  if (opts.profiles && !given) return wellsFromTable(run, opts.profiles as Profiles, (opts.profiles as Profiles).source ?? 'the given profiles', opts);
  // A batch-corrected run z-scored its corrected table (written into the run folder), not the input.
  const correction = run.summary.batchCorrection as { files?: string[] } | undefined;
  const corrected = correction?.files?.find((f) => f.endsWith('.parquet'));
  if (!given?.length && corrected && existsSync(join(run.dir, corrected))) {
    const path = join(run.dir, corrected);
    reporter.info(`reading the wells (with their negative controls) from the run's batch-corrected table ${path}`);
    return wellsFromTable(run, (await readProfileTables([path])).profiles, path, opts);
  }
  const recorded = run.summary.inputs?.files ?? (typeof run.summary.inputs?.file === 'string' ? [run.summary.inputs.file] : undefined);
  const files = given?.length ? given : recorded;
  const file = files?.join(', ');
  if (files?.length) {
    const paths = files.map((f) => (isAbsolute(f) ? f : resolve(f)));
    if (paths.every((p) => existsSync(p))) {
      reporter.info(`reading the wells (with their negative controls) from ${paths.join(', ')}`);
      return wellsFromTable(run, (await readProfileTables(paths)).profiles, paths.join(', '), opts);
    }
    if (given?.length) throw new InputError(`${paths.find((p) => !existsSync(p))}: file not found`);
  }
  if (!runRaw) throw new InputError(`${run.dir}: no repr_raw.npy and no readable input table: the wells cannot be compared`);
  const why = file
    ? `the run holds no negative-control wells and its input table ${file} is not readable here; pass --profiles <the run's input table>`
    : `the run holds no negative-control wells (unlabelled rows such as DMSO are left out of \`run\`) and records no input table; pass --profiles <the run's input table>`;
  return fromRun(null, why);
}
