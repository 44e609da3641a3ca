/**
 * What `phenomap predict evaluate` reports per model (issue 6 "Evaluation output"), computed
 * from crossValidateActivity's results: AUC summaries (mean of per-fold AUCs, and AUC of the
 * pooled out-of-fold scores), EF1 %/EF5 %, top-k hit-rate fold enrichment, calibration of the
 * predicted probabilities (reliability table, expected calibration error, Brier score) and, for
 * Macau, how its posterior standard deviation relates to the errors.
 *
 * Macau's labels are binary here, so a nominal 95 % interval cannot be checked against the
 * label itself; instead we report (a) the share of held-out labels inside p ± 1.96·sd (not a
 * nominal coverage: a small sd around a confident wrong p lands outside), and (b) `errorAuc`,
 * the AUC of the sd for telling misclassified cells (|y − p| > ½) from correct ones: 0.5 means
 * the sd carries no information about where the model is wrong.
 */
import { spreadsheetSafe } from '../util/csvSafe.js';
import { type Matrix, zeros } from '../linalg/index.js';
import { MacauActivityModel, type ModelEvaluation } from './evaluate.js';
import type { MacauOptions } from './macau.js';
import {
  type AucSummary, type CalibrationBin, aucRoc, calibrationTable, expectedCalibrationError, intervalCoverage,
  summarizeAssayScores,
} from './metrics.js';
import type { ActivityMatrix } from './sparse.js';

export interface UncertaintyReport {
  meanSd: number;
  /** Share of held-out labels y ∈ {0, 1} inside p ± 1.96·sd. */
  coverage95: number;
  /** AUC of sd for misclassified (|y − p| > ½) vs correctly classified cells. */
  errorAuc: number;
}

export interface ModelReport {
  model: string;
  seconds: number;
  /** Per-assay AUC = mean of the fold AUCs (folds with enough positives and negatives). */
  auc: AucSummary;
  /** Per-assay AUC of the pooled out-of-fold scores. */
  pooledAuc: AucSummary;
  topK: number;
  /** Mean over scored assays of the top-k hit-rate fold enrichment (pooled). */
  meanTopKEnrichment: number;
  calibration: { cells: number; brier: number; ece: number; table: CalibrationBin[] };
  uncertainty: UncertaintyReport | null;
}

function meanFinite(xs: number[]): number {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
}

/** Summary of one model's cross-validation; `std` = out-of-fold posterior sd (Macau) if any. */
export function modelReport(ev: ModelEvaluation, Y: ActivityMatrix, opts: { topK: number; std?: Matrix }): ModelReport {
  const m = Y.cols;
  const p: number[] = [], y: number[] = [], sd: number[] = [];
  for (let i = 0; i < Y.rows; i++) {
    for (let k = Y.rowPtr[i]!; k < Y.rowPtr[i + 1]!; k++) {
      const t = i * m + Y.rowCol[k]!;
      p.push(ev.oof.data[t]!);
      y.push(Y.rowVal[k]! >= 0.5 ? 1 : 0);
      if (opts.std) sd.push(opts.std.data[t]!);
    }
  }
  let brier = 0;
  for (let t = 0; t < p.length; t++) brier += (p[t]! - y[t]!) ** 2;
  const table = calibrationTable(p, y);
  let uncertainty: UncertaintyReport | null = null;
  if (opts.std) {
    const wrong = p.map((v, t) => (Math.abs(y[t]! - v) > 0.5 ? 1 : 0));
    uncertainty = { meanSd: meanFinite(sd), coverage95: intervalCoverage(p, sd, y), errorAuc: aucRoc(sd, wrong) };
  }
  const scored = ev.perAssay.filter((a) => Number.isFinite(a.pooledAuc));
  return {
    model: ev.model,
    seconds: ev.seconds,
    auc: ev.summary,
    pooledAuc: summarizeAssayScores(ev.perAssay.map((a) => ({ ...a, auc: a.pooledAuc }))),
    topK: opts.topK,
    meanTopKEnrichment: meanFinite(scored.map((a) => a.topKEnrichment)),
    calibration: { cells: p.length, brier: p.length ? brier / p.length : NaN, ece: expectedCalibrationError(table), table },
    uncertainty,
  };
}

function csvCell(v: unknown): string {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(Number(v.toPrecision(6))) : '') : String(v ?? '');
  const t = typeof v === 'string' ? spreadsheetSafe(s) : s;
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/** One row per (model, assay): counts, AUCs, enrichments, per-fold AUCs (';'-separated). */
export function perAssayCsv(results: readonly ModelEvaluation[], assays: readonly string[], positiveCompounds: ArrayLike<number>): string {
  const head = ['model', 'assay', 'n_pos', 'n_neg', 'positive_compounds', 'auc', 'pooled_auc', 'ef1', 'ef5', 'topk_enrichment', 'fold_aucs'];
  const lines = [head.join(',')];
  for (const r of results) {
    for (const a of r.perAssay) {
      lines.push([
        r.model, assays[a.assay], a.nPos, a.nNeg, positiveCompounds[a.assay], a.auc, a.pooledAuc, a.ef1, a.ef5, a.topKEnrichment,
        a.foldAucs.map((x) => (Number.isFinite(x) ? x.toFixed(4) : 'NA')).join(';'),
      ].map(csvCell).join(','));
    }
  }
  return lines.join('\n') + '\n';
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : '—');

/** Plain-text table, one line per model. */
export function formatModelTable(reports: readonly ModelReport[]): string {
  const head = ['model', 'scored', 'mean AUC', 'median AUC', 'AUC>0.9', 'AUC>0.7', 'pooled AUC', 'EF1%', 'EF5%', 'top-k enr', 'ECE', 'seconds'];
  const rows = reports.map((r) => [
    r.model, String(r.auc.scored), f3(r.auc.meanAuc), f3(r.auc.medianAuc),
    `${r.auc.above09} (${pct(r.auc.shareAbove09)})`, `${r.auc.above07} (${pct(r.auc.shareAbove07)})`,
    f3(r.pooledAuc.meanAuc), f1(r.auc.meanEf1), f1(r.auc.meanEf5), f1(r.meanTopKEnrichment), f3(r.calibration.ece), r.seconds.toFixed(1),
  ]);
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((s, c) => (c === 0 ? s.padEnd(w[c]!) : s.padStart(w[c]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/**
 * Macau as an ActivityModel that also keeps the posterior sd of every prediction it makes, in
 * call order (crossValidateActivity predicts each fold once, in fold order), so the sd can be
 * laid out like the out-of-fold scores. Same model as MacauActivityModel.
 */
export class MacauWithStd extends MacauActivityModel {
  constructor(opts: MacauOptions, private readonly sink: Matrix[]) {
    super(opts);
  }
  override predict(X: Matrix): Matrix {
    const p = this.macau.predictNew(this.std.transform(X));
    this.sink.push(p.std);
    return p.mean;
  }
}

/** Lay out per-fold matrices (rows = that fold's test rows, in order) as one rows × cols matrix. */
export function assembleOutOfFold(parts: readonly Matrix[], folds: readonly { test: ArrayLike<number> }[], rows: number, cols: number): Matrix {
  if (parts.length !== folds.length) throw new RangeError(`assembleOutOfFold: ${parts.length} parts for ${folds.length} folds`);
  const out = zeros(rows, cols);
  folds.forEach((f, t) => {
    const P = parts[t]!;
    for (let r = 0; r < f.test.length; r++) out.data.set(P.data.subarray(r * cols, (r + 1) * cols), f.test[r]! * cols);
  });
  return out;
}

/**
 * Matrix-completion baselines that use no factorisation (for `phenomap predict complete`): each
 * held-out cell scored by its assay's training active rate, or by its compound's training active
 * rate across the other assays (both shrunk towards the global rate by one pseudo-count each
 * way). The assay rate alone sets the global AUC floor a factorisation must beat; within one
 * assay it is constant, so per-assay AUCs compare against the compound rate.
 */
export function rateBaselines(train: ActivityMatrix, test: readonly { row: number; col: number }[], threshold = 0.5): { assayRate: Float64Array; compoundRate: Float64Array } {
  const posR = new Float64Array(train.rows), nR = new Float64Array(train.rows);
  const posC = new Float64Array(train.cols), nC = new Float64Array(train.cols);
  let pos = 0;
  for (let i = 0; i < train.rows; i++) {
    for (let k = train.rowPtr[i]!; k < train.rowPtr[i + 1]!; k++) {
      const a = train.rowVal[k]! >= threshold ? 1 : 0;
      posR[i] += a; nR[i]++; posC[train.rowCol[k]!] += a; nC[train.rowCol[k]!]++; pos += a;
    }
  }
  const g = train.nnz ? pos / train.nnz : 0.5;
  const assayRate = Float64Array.from(test, (c) => (posC[c.col]! + 2 * g) / (nC[c.col]! + 2));
  const compoundRate = Float64Array.from(test, (c) => (posR[c.row]! + 2 * g) / (nR[c.row]! + 2));
  return { assayRate, compoundRate };
}
