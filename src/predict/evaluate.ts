/**
 * Compound-grouped cross-validation of activity models: the protocol behind
 * `phenomap predict evaluate` (spec "Evaluation"). For each fold, every model is fitted on the
 * training compounds and scores the held-out ones; per assay:
 *  - auc: mean over folds of the fold AUC, counting only folds where the assay has ≥ minPos
 *    positives and ≥ minNeg negatives among the held-out compounds (default 5 each);
 *  - pooledAuc, EF1 %, EF5 %, top-k enrichment: on the pooled out-of-fold scores (each labelled
 *    compound scored once, by the model that did not see it), with the same minimum counts.
 * Summary: count and share of assays with AUC > 0.9 and > 0.7 among assays with a defined AUC.
 */
import { type Matrix, zeros, takeRows } from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import { type Reporter, silentReporter } from '../util/log.js';
import { Macau, type MacauOptions, type CellPrediction } from './macau.js';
import { Standardizer } from './baselines.js';
import {
  type AssayScore, type AucSummary, aucRoc, groupKFold, scoreAssay, summarizeAssayScores, type GroupFold,
  calibrationTable, intervalCoverage,
} from './metrics.js';
import type { ActivityModel } from './model.js';
import type { ActivityMatrix, Triplet } from './sparse.js';

/** Macau as an ActivityModel: side information = standardised profiles, new compounds through β. */
export class MacauActivityModel implements ActivityModel {
  readonly name = 'macau';
  readonly macau: Macau;
  protected std = new Standardizer();
  constructor(opts: MacauOptions = {}) {
    this.macau = new Macau({ keepLatent: false, noise: { kind: 'probit' }, ...opts });
  }
  fit(X: Matrix, Y: ActivityMatrix): this {
    if (X.rows !== Y.rows) throw new InputError(`macau: ${X.rows} profile rows, ${Y.rows} activity rows`);
    this.macau.fit(Y, this.std.fit(X).transform(X));
    return this;
  }
  predict(X: Matrix): Matrix {
    return this.macau.predictNew(this.std.transform(X)).mean;
  }
  predictStd(X: Matrix): Matrix {
    return this.macau.predictNew(this.std.transform(X)).std;
  }
}

export interface ModelSpec {
  name: string;
  create: () => ActivityModel;
}

export interface CrossValidationOptions {
  k?: number;
  seed?: number;
  /** Group per row (compound id); default: every row its own compound. */
  groups?: readonly string[];
  minPos?: number;
  minNeg?: number;
  topK?: number;
  reporter?: Reporter;
}

export interface AssayEvaluation extends AssayScore {
  pooledAuc: number;
  /** Per-fold AUC (NaN where the fold lacked positives or negatives). */
  foldAucs: number[];
}

export interface ModelEvaluation {
  model: string;
  perAssay: AssayEvaluation[];
  summary: AucSummary;
  /** Out-of-fold scores (rows × assays) for every compound. */
  oof: Matrix;
  seconds: number;
}

export function crossValidateActivity(
  models: readonly ModelSpec[], X: Matrix, Y: ActivityMatrix, opts: CrossValidationOptions = {},
): { folds: GroupFold[]; results: ModelEvaluation[] } {
  if (X.rows !== Y.rows) throw new InputError(`evaluate: ${X.rows} profile rows, ${Y.rows} activity rows`);
  const k = opts.k ?? 5, seed = opts.seed ?? 0;
  const minPos = opts.minPos ?? 5, minNeg = opts.minNeg ?? 5, topK = opts.topK ?? 10;
  const reporter = opts.reporter ?? silentReporter;
  const groups = opts.groups ?? Array.from({ length: X.rows }, (_, i) => String(i));
  if (groups.length !== X.rows) throw new InputError(`evaluate: ${groups.length} group labels for ${X.rows} rows`);
  const { folds } = groupKFold(groups, k, seed);
  const m = Y.cols;
  const results: ModelEvaluation[] = [];
  for (const spec of models) {
    const t0 = performance.now();
    const oof = zeros(X.rows, m);
    const foldAucs: number[][] = Array.from({ length: m }, () => []);
    folds.forEach((fold, f) => {
      reporter.info(`${spec.name}: fold ${f + 1}/${k}`);
      const model = spec.create().fit(takeRows(X, fold.train), Y.subsetRows(fold.train));
      const Xte = takeRows(X, fold.test);
      const P = model.predict(Xte);
      // Per-fold AUCs rank by the model's unsaturated scores when it has them (logits tie less).
      const S = model.rankScores ? model.rankScores(Xte) : P;
      const Yte = Y.subsetRows(fold.test);
      fold.test.forEach((i, r) => oof.data.set(P.data.subarray(r * m, (r + 1) * m), i * m));
      for (let j = 0; j < m; j++) {
        const s: number[] = [], y: number[] = [];
        for (let t = Yte.colPtr[j]!; t < Yte.colPtr[j + 1]!; t++) { s.push(S.data[Yte.colRow[t]! * m + j]!); y.push(Yte.colVal[t]!); }
        const pos = y.filter((v) => v >= 0.5).length;
        foldAucs[j]!.push(pos >= minPos && y.length - pos >= minNeg ? aucRoc(s, y) : NaN);
      }
    });
    const perAssay: AssayEvaluation[] = [];
    for (let j = 0; j < m; j++) {
      const s: number[] = [], y: number[] = [];
      for (let t = Y.colPtr[j]!; t < Y.colPtr[j + 1]!; t++) { s.push(oof.data[Y.colRow[t]! * m + j]!); y.push(Y.colVal[t]!); }
      const pooled = scoreAssay(j, s, y, { minPos, minNeg, topK });
      const fa = foldAucs[j]!;
      const ok = fa.filter(Number.isFinite);
      perAssay.push({ ...pooled, auc: ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN, pooledAuc: pooled.auc, foldAucs: fa });
    }
    results.push({ model: spec.name, perAssay, summary: summarizeAssayScores(perAssay), oof, seconds: (performance.now() - t0) / 1000 });
  }
  return { folds, results };
}

export interface HeldOutCellMetrics {
  cells: number;
  /** Gaussian: RMSE of the posterior mean; probit: Brier score of the predicted probability. */
  rmse: number;
  /** Share of held-out values inside mean ± 1.96·predictiveStd (Gaussian noise only, else NaN). */
  coverage95: number;
  /** AUC over all held-out cells (binary labels: value ≥ threshold), NaN for one class. */
  auc: number;
  /** Per-assay AUC summary on held-out cells (≥ minPos / minNeg per assay). */
  perAssay: AssayScore[];
  summary: AucSummary;
  /** Reliability table of predicted probabilities (probit only). */
  calibration: ReturnType<typeof calibrationTable> | null;
}

/**
 * Matrix-completion metrics for held-out cells predicted by Macau (e.g. tracked at fit time):
 * `pred` holds mean and predictiveStd per cell, aligned with `cells`.
 */
export function heldOutCellMetrics(
  cells: readonly Triplet[], pred: CellPrediction, opts: { probit: boolean; threshold?: number; minPos?: number; minNeg?: number },
): HeldOutCellMetrics {
  const thr = opts.threshold ?? 0.5;
  const n = cells.length;
  if (pred.mean.length !== n) throw new RangeError(`heldOutCellMetrics: ${n} cells, ${pred.mean.length} predictions`);
  const labels = cells.map((c) => (c.value >= thr ? 1 : 0));
  let se = 0;
  for (let t = 0; t < n; t++) {
    const target = opts.probit ? labels[t]! : cells[t]!.value;
    se += (pred.mean[t]! - target) ** 2;
  }
  const byAssay = new Map<number, { s: number[]; y: number[] }>();
  cells.forEach((c, t) => {
    let a = byAssay.get(c.col);
    if (!a) { a = { s: [], y: [] }; byAssay.set(c.col, a); }
    a.s.push(pred.mean[t]!); a.y.push(labels[t]!);
  });
  const perAssay = [...byAssay.entries()].sort((a, b) => a[0] - b[0])
    .map(([j, a]) => scoreAssay(j, a.s, a.y, { minPos: opts.minPos, minNeg: opts.minNeg }));
  return {
    cells: n,
    rmse: n ? Math.sqrt(se / n) : NaN,
    coverage95: opts.probit ? NaN : intervalCoverage(pred.mean, pred.predictiveStd, cells.map((c) => c.value)),
    auc: aucRoc(pred.mean, labels),
    perAssay,
    summary: summarizeAssayScores(perAssay),
    calibration: opts.probit ? calibrationTable(pred.mean, labels) : null,
  };
}
