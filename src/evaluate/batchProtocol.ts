/**
 * Judging batch corrections (Arevalo et al. 2024's question, on phenomap's held-out protocol):
 * for "none" and each correction, the batch-mixing metrics and the label-free biology metrics of
 * the corrected wells (batchMetrics.ts), and the held-out-by-compound NSC / NSCB / MoA mAP of
 * every representation (protocol.ts `evaluate`, which refits learned steps — and, unless
 * `correctionFit: 'all'`, the correction — on the training side only).
 *
 * Also the `run --correct` composition: the workflow on the corrected table, plus the same
 * metrics before and after on the whole table, written beside the run for the report.
 */
import { join } from 'node:path';
import { type Matrix, type StoredMatrix, asFloat64, takeRows } from '../linalg/index.js';
import { type Profiles, metaStrings } from '../io/profiles.js';
import { writeNpy } from '../io/npy.js';
import { zscore } from '../preprocess/zscore.js';
import { queryRows } from '../preprocess/query.js';
import { correctProfiles } from '../batch/profiles.js';
import type { CorrectionName } from '../batch/registry.js';
import { runWorkflow, type RunWorkflowOptions, type RunWorkflowResult } from '../pipeline/run.js';
import type { RunParameters } from '../pipeline/params.js';
import { DOSE_COLS } from '../pipeline/outputs.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError, UsageError } from '../util/errors.js';
import { Rng } from '../linalg/rng.js';
import { type Reporter, silentReporter } from '../util/log.js';
import { batchBiology, batchMixing, type Biology, type Mixing, type MixingOptions } from './batchMetrics.js';
import { evaluate, normaliseForEvaluation, type EvaluateOptions, type EvaluationResult } from './protocol.js';

export type CorrectionChoice = 'none' | CorrectionName;

/** One correction's figures: data level (label-free, all rows corrected once) and held out. */
export interface CorrectionRow {
  correction: CorrectionChoice;
  /** Seconds the correction took on the whole table. */
  seconds: number;
  mixing: Mixing;
  biology: Biology;
  /** Held-out (by compound, or by batch) figures per representation. */
  heldOut: Record<string, { nsc?: number; nscb?: number; mapConsistency?: number; nscSd?: number; nscbSd?: number }>;
  notes: string[];
  /** The normalised, corrected table (with `keepCorrected`). */
  profiles?: Profiles;
}

export interface CorrectionComparison {
  batchCol: string;
  correctionBatchCol: string;
  rows: CorrectionRow[];
  evaluations: Record<string, EvaluationResult>;
}

export interface CompareOptions extends Omit<EvaluateOptions, 'correction'> {
  /** Corrections to compare; 'none' is always included first. */
  corrections: readonly CorrectionChoice[];
  correctionOptions?: Partial<Record<CorrectionName, Record<string, unknown>>>;
  /** The column the corrections treat as batches (default batchCol: correct per plate, judge per week). */
  correctionBatchCol?: string;
  /** Rows each correction is fitted on for the held-out figures (EvaluationCorrection.fit; default 'training'). */
  correctionFit?: 'training' | 'all';
  mixing?: MixingOptions;
  /** Return each correction's corrected table (to write it out). */
  keepCorrected?: boolean;
}

function controlFlags(p: Profiles, labelCol: string, groupCol: string, controls: readonly string[]): Uint8Array {
  const up = new Set(controls.map((c) => c.toUpperCase()));
  const lab = metaStrings(p, labelCol), grp = metaStrings(p, groupCol);
  return Uint8Array.from({ length: p.X.rows }, (_, i) => (up.has((lab[i] ?? '').toUpperCase()) || up.has((grp[i] ?? '').toUpperCase()) ? 1 : 0));
}

/** Data-level metrics of one matrix (rows = the table's wells). */
export function judgeMatrix(
  X: Matrix, keys: { batch: (string | null)[]; label: (string | null)[]; compound: (string | null)[]; dose?: (string | null)[]; isControl: Uint8Array; controlLabels?: readonly string[] },
  opts: { mixing?: MixingOptions; nullSize?: number; seed?: number } = {},
): { mixing: Mixing; biology: Biology } {
  // Mixing on labelled non-control wells, as Arevalo et al. leave out the negative controls.
  const rows: number[] = [];
  for (let i = 0; i < X.rows; i++) if (!keys.isControl[i] && keys.label[i] !== null && keys.batch[i] !== null) rows.push(i);
  if (rows.length < 3) throw new InputError(`batch metrics: only ${rows.length} labelled non-control rows`);
  const mixing = batchMixing(takeRows(X, rows), rows.map((i) => keys.batch[i]!), rows.map((i) => keys.label[i]!), opts.mixing);
  const biology = batchBiology(X, {
    compound: keys.compound, dose: keys.dose, label: keys.label, batch: keys.batch, isControl: keys.isControl, controlLabels: keys.controlLabels,
  }, { nullSize: opts.nullSize, seed: opts.seed });
  return { mixing, biology };
}

/** Every correction side by side with none (see the file header). */
export function compareCorrections(stored: Profiles<StoredMatrix>, opts: CompareOptions): CorrectionComparison {
  // The corrections work in float64: a float32 table is widened once here.
  const input: Profiles = stored.X.data instanceof Float64Array ? (stored as Profiles) : { ...stored, X: asFloat64(stored.X) };
  const reporter = opts.reporter ?? silentReporter;
  if (!opts.batchCol) throw new UsageError('comparing batch corrections needs --batch-col');
  const batchCol = opts.batchCol, correctionBatchCol = opts.correctionBatchCol ?? batchCol;
  const controls = opts.controlLabels ?? ['DMSO'];
  const norm = normaliseForEvaluation(input, opts.normalization ?? 'zscore').profiles;
  const flags = controlFlags(norm, opts.labelCol, opts.groupCol, controls);
  const keys = {
    batch: metaStrings(norm, batchCol),
    label: metaStrings(norm, opts.labelCol).map((l) => (l === null || l.trim() === '' ? null : l.trim())),
    compound: metaStrings(norm, opts.groupCol),
    dose: opts.doseCol ? metaStrings(norm, opts.doseCol) : undefined,
    isControl: flags,
    controlLabels: controls,
  };
  const choices: CorrectionChoice[] = ['none', ...opts.corrections.filter((c) => c !== 'none')];
  const rows: CorrectionRow[] = [];
  const evaluations: Record<string, EvaluationResult> = {};
  for (const choice of choices) {
    const notes: string[] = [];
    const t0 = performance.now();
    let corrected = norm;
    if (choice !== 'none') {
      const c = correctProfiles(norm, { method: choice, batchCol: correctionBatchCol, controls: flags, options: opts.correctionOptions?.[choice] });
      corrected = c.profiles;
      notes.push(...c.report.notes);
    }
    const X = corrected.X;
    const seconds = (performance.now() - t0) / 1000;
    reporter.info(`${choice}: correction ${seconds.toFixed(2)} s; scoring`);
    const judged = judgeMatrix(X, keys, { mixing: opts.mixing, nullSize: opts.nullSize, seed: opts.seeds?.[0] ?? 0 });
    const ev = evaluate(input, {
      ...opts, reporter,
      correction: choice === 'none' ? undefined : { method: choice, options: opts.correctionOptions?.[choice], batchCol: correctionBatchCol, fit: opts.correctionFit },
    });
    evaluations[choice] = ev;
    const heldOut: CorrectionRow['heldOut'] = {};
    for (const s of ev.representations) {
      heldOut[s.name] = {
        nsc: s.metrics.nsc?.mean, nscb: s.metrics.nscb?.mean, mapConsistency: s.metrics['map-consistency']?.mean,
        nscSd: s.metrics.nsc?.sd, nscbSd: s.metrics.nscb?.sd,
      };
    }
    rows.push({ correction: choice, seconds, ...judged, heldOut, notes, profiles: opts.keepCorrected ? corrected : undefined });
  }
  return { batchCol, correctionBatchCol, rows, evaluations };
}

const f3 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(3));

/** The comparison as two aligned tables (data level; held out per representation). */
export function formatCorrectionTable(c: CorrectionComparison): string {
  const line = (cells: string[], widths: number[]) => cells.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
  const table = (head: string[], body: string[][]) => {
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    return [line(head, widths), ...body.map((r) => line(r, widths))].join('\n');
  };
  const h1 = ['correction', 'graph conn.', 'iLISI', 'batch sil.', 'other-batch nbrs', 'repl. mAP', 'MoA mAP', 'NSC', 'NSCB', 'ARI', 'NMI', 'seconds'];
  const b1 = c.rows.map((r) => [
    r.correction, f3(r.mixing.graphConnectivity), f3(r.mixing.ilisi), f3(r.mixing.silhouetteBatch),
    `${f3(r.mixing.otherBatchShare)} (${f3(r.mixing.otherBatchShareExpected)})`, f3(r.biology.replicateMap), f3(r.biology.moaMap),
    f3(r.biology.nsc), f3(r.biology.nscb), f3(r.biology.cluster.ari), f3(r.biology.cluster.nmi), r.seconds.toFixed(2),
  ]);
  const reps = [...new Set(c.rows.flatMap((r) => Object.keys(r.heldOut)))];
  const h2 = ['correction', ...reps.flatMap((n) => [`${n} NSC`, `${n} NSCB`, `${n} mAP`])];
  const b2 = c.rows.map((r) => [r.correction, ...reps.flatMap((n) => [f3(r.heldOut[n]?.nsc), f3(r.heldOut[n]?.nscb), f3(r.heldOut[n]?.mapConsistency)])]);
  const ev = Object.values(c.evaluations)[0];
  return [
    `batch = ${c.batchCol}${c.correctionBatchCol !== c.batchCol ? ` (corrections per ${c.correctionBatchCol})` : ''}; data level (all wells corrected once, nothing learned; mixing on labelled non-control wells, other-batch share beside perfect mixing):`,
    table(h1, b1),
    `held out (${ev?.options.split ?? '?'}, ${ev?.options.folds ?? '?'} folds; learned steps fitted on the training side${ev?.options.split === 'leave-batch-out' ? ', corrections too' : ''}):`,
    table(h2, b2),
  ].join('\n');
}

/** Flat records (one per correction) for summary.json and the report's evaluation table. */
export function correctionRecords(c: CorrectionComparison): Record<string, number | string | null>[] {
  return c.rows.map((r) => {
    const rec: Record<string, number | string | null> = {
      correction: r.correction, graph_connectivity: r.mixing.graphConnectivity, ilisi: r.mixing.ilisi, silhouette_batch: r.mixing.silhouetteBatch,
      other_batch_share: r.mixing.otherBatchShare, other_batch_share_mixed: r.mixing.otherBatchShareExpected,
      replicate_map: r.biology.replicateMap ?? null, moa_map: r.biology.moaMap, nsc: r.biology.nsc, nscb: r.biology.nscb ?? null,
      cluster_ari: r.biology.cluster.ari, cluster_nmi: r.biology.cluster.nmi, seconds: r.seconds,
    };
    for (const [n, h] of Object.entries(r.heldOut)) {
      rec[`${n}_heldout_nsc`] = h.nsc ?? null;
      rec[`${n}_heldout_nscb`] = h.nscb ?? null;
      rec[`${n}_heldout_map`] = h.mapConsistency ?? null;
    }
    for (const [k, v] of Object.entries(rec)) if (typeof v === 'number' && !Number.isFinite(v)) rec[k] = null;
    return rec;
  });
}

// ---------------------------------------------------------------------------------------------
// run --correct

export const BATCH_METRICS = 'batch_metrics.json';
export const UNCORRECTED_REPR = 'repr_uncorrected.npy';

export interface JudgedRunOptions extends RunWorkflowOptions {
  correct: NonNullable<RunWorkflowOptions['correct']>;
  /** Column of compound names (replicates and NSC's "other compound"); default the first id column present. */
  groupCol?: string;
  /** Dose column (treatment = compound + dose); default the first known dose column present. */
  doseCol?: string;
  /** Metrics on at most this many rows (a seeded sample above it). Default 5,000. */
  metricRows?: number;
  nullSize?: number;
}

export interface BatchMetricsFile {
  batchCol: string;
  method: string;
  rows: number;
  sampled: boolean;
  before: { mixing: Mixing; biology: Biology };
  after: { mixing: Mixing; biology: Biology };
}

/**
 * `run --correct`: the workflow on the corrected table; then the batch metrics of the whole table
 * before and after (batch_metrics.json) and the uncorrected analysed rows (repr_uncorrected.npy)
 * for the report's before / after embedding.
 */
export async function runWithCorrection(input: string | readonly string[] | Profiles<StoredMatrix>, outDir: string, params: RunParameters, opts: JudgedRunOptions): Promise<RunWorkflowResult & { metrics?: BatchMetricsFile; metricsError?: string }> {
  const reporter = opts.reporter ?? silentReporter;
  const res = await runWorkflow(input, outDir, params, opts);
  const { uncorrected, result } = res.correction!;
  const rowsUsed = res.analysis.inputRows;
  // The analysed rows before correction, z-scored like the run's raw representation.
  const before = zscore(takeRows(uncorrected.X, rowsUsed)).Z;
  writeNpy(join(outDir, UNCORRECTED_REPR), before);
  let metrics: BatchMetricsFile | undefined;
  let metricsError: string | undefined;
  try {
    metrics = judgeRun(uncorrected, result.profiles, params, opts, reporter);
    writeFileAtomic(join(outDir, BATCH_METRICS), JSON.stringify(metrics, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n');
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    metricsError = e.message;
    reporter.warn(`batch metrics not computed: ${e.message}`);
  }
  return { ...res, metrics, metricsError };
}

function judgeRun(before: Profiles<StoredMatrix>, after: Profiles, params: RunParameters, opts: JudgedRunOptions, reporter: Reporter): BatchMetricsFile {
  const names = new Set(before.meta.map((m) => m.name));
  const groupCol = opts.groupCol ?? params.idCols.find((c) => names.has(c));
  if (!groupCol) throw new InputError(`no compound column for the batch metrics (give --id-col; looked for ${params.idCols.join(', ')})`);
  let isControl: Uint8Array | undefined;
  if (opts.correct.controls) {
    isControl = new Uint8Array(before.X.rows);
    for (const i of queryRows(before as Profiles, opts.correct.controls)) isControl[i] = 1;
  }
  return judgeBeforeAfter(before, after, {
    method: opts.correct.method, batchCol: opts.correct.batchCol, labelCol: params.labelCol, groupCol,
    doseCol: opts.doseCol ?? DOSE_COLS.find((c) => names.has(c)), isControl, metricRows: opts.metricRows, nullSize: opts.nullSize, seed: params.seed, reporter,
  });
}

export interface JudgeBeforeAfterOptions {
  method: string;
  batchCol: string;
  /** Mechanism labels (empty = unlabelled). */
  labelCol: string;
  /** Compound names (replicates, NSC's "other compound"). */
  groupCol: string;
  doseCol?: string;
  /** Negative-control rows (neither query nor candidate; left out of the mixing metrics). */
  isControl?: Uint8Array;
  /** Metrics on at most this many rows (a seeded sample above it). Default 5,000. */
  metricRows?: number;
  nullSize?: number;
  seed?: number;
  reporter?: Reporter;
}

/**
 * The batch-mixing and biology metrics of a table before and after its correction (same rows in
 * the same order), each side z-scored first; what `run --correct` and the profiling config's
 * `correct` section write.
 */
export function judgeBeforeAfter(before: Profiles<StoredMatrix>, after: Profiles<StoredMatrix>, o: JudgeBeforeAfterOptions): BatchMetricsFile {
  const n = before.X.rows;
  if (after.X.rows !== n) throw new InputError(`batch metrics: ${n} rows before the correction but ${after.X.rows} after`);
  const seed = o.seed ?? 0;
  const max = o.metricRows ?? 5000;
  let rows: Int32Array = Int32Array.from({ length: n }, (_, i) => i);
  if (n > max) {
    rows = new Rng(seed).permutation(n).subarray(0, max).sort();
    (o.reporter ?? silentReporter).info(`batch metrics on a seeded sample of ${max} of ${n} rows`);
  }
  const sub = (p: Profiles<StoredMatrix>) => asFloat64(zscore(takeRows(p.X, rows)).Z);
  const col = (name: string) => {
    const all = metaStrings(before, name);
    return Array.from(rows, (i) => all[i] ?? null);
  };
  const label = col(o.labelCol).map((l) => (l === null || l.trim() === '' ? null : l.trim()));
  const isControl = Uint8Array.from(rows, (i) => (o.isControl?.[i] ? 1 : 0));
  // Labels the controls carry (BBBC021's "DMSO") are no mechanism: neither query nor candidate.
  const controlLabels = [...new Set(label.filter((l, r): l is string => l !== null && isControl[r] === 1))];
  const keys = { batch: col(o.batchCol), label, compound: col(o.groupCol), dose: o.doseCol ? col(o.doseCol) : undefined, isControl, controlLabels };
  const j = { nullSize: o.nullSize ?? 200, seed };
  return {
    batchCol: o.batchCol, method: o.method, rows: rows.length, sampled: rows.length < n,
    before: judgeMatrix(sub(before), keys, j), after: judgeMatrix(sub(after), keys, j),
  };
}
