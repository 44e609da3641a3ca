/**
 * "Which compounds of our imaged library should we test on assay T?" (Simm et al. 2018): the
 * compound-level answer of `phenomap predict rank`. A saved model (saved-model.ts) carries, beside
 * the model itself, what this answer needs:
 *
 *  - `tested`: the training compounds with an observed cell per assay, so the ranking lists the
 *    untested compounds (tested ones are set apart with their known result);
 *  - `cellCount`: a per-assay logistic regression on the cell count alone (Seal et al.: cell count
 *    alone scores well on many assays), shown beside the model's probability;
 *  - `expected`: the model's and the cell-count baseline's compound-grouped cross-validation on the
 *    training data — AUC and the hit-rate enrichment at the top 1, 2, 5, 10, 20 and 50 % of the
 *    held-out ranking — so a ranking of N library compounds can say what hit rate its top k is
 *    expected to reach (the base hit rate times the enrichment at the fraction k / N).
 */
import { spreadsheetSafe } from '../util/csvSafe.js';
import { type Matrix, takeCols } from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import { type Reporter, silentReporter } from '../util/log.js';
import { CellCountModel, Standardizer, fitLogistic } from './baselines.js';
import { MacauActivityModel, crossValidateActivity, type ModelSpec } from './evaluate.js';
import type { MacauOptions } from './macau.js';
import { aucRoc, enrichmentFactor } from './metrics.js';
import { MultitaskNet, type MultitaskNetOptions } from './mlp.js';
import { alignFeatures, rankOrder, scoreAssayWithModel, type SavedActivityModel, type SavedModelKind } from './saved-model.js';
import type { ActivityMatrix } from './sparse.js';

/** Fractions of a ranking at which the expected enrichment is kept. */
export const EXPECTATION_FRACTIONS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5] as const;

import type { SavedCellCountBaseline, AssayExpectation, SavedExpectation } from './saved-model.js';
export type { SavedCellCountBaseline, AssayExpectation, SavedExpectation };

/** Per assay, the compounds with an observed cell: active and inactive ones. */
export function testedCompounds(ids: readonly string[], Y: ActivityMatrix, assays: readonly string[], threshold = 0.5): Record<string, { active: string[]; inactive: string[] }> {
  const out: Record<string, { active: string[]; inactive: string[] }> = {};
  for (let j = 0; j < Y.cols; j++) {
    const act = new Set<string>(), inact = new Set<string>();
    for (let k = Y.colPtr[j]!; k < Y.colPtr[j + 1]!; k++) (Y.colVal[k]! >= threshold ? act : inact).add(ids[Y.colRow[k]!]!);
    for (const c of act) inact.delete(c);
    out[assays[j]!] = { active: [...act].sort(), inactive: [...inact].sort() };
  }
  return out;
}

/** Per-assay logistic regression on the standardised cell count (L2 λ = 1, as the CV baseline). */
export function fitCellCountBaseline(count: Matrix, column: string, Y: ActivityMatrix, l2 = 1): SavedCellCountBaseline {
  if (count.cols !== 1 || count.rows !== Y.rows) throw new RangeError(`fitCellCountBaseline: need ${Y.rows} × 1 counts, got ${count.rows} × ${count.cols}`);
  const std = new Standardizer().fit(count);
  const Z = std.transform(count);
  const weights: [number, number][] = [];
  for (let j = 0; j < Y.cols; j++) {
    const lo = Y.colPtr[j]!, hi = Y.colPtr[j + 1]!;
    const rows = Y.colRow.subarray(lo, hi), y = Y.colVal.subarray(lo, hi);
    let pos = 0;
    for (let t = 0; t < y.length; t++) pos += y[t]! >= 0.5 ? 1 : 0;
    if (pos === 0 || pos === y.length) {
      const rate = y.length ? Math.min(Math.max(pos / y.length, 1e-6), 1 - 1e-6) : 0.5;
      weights.push([0, Math.log(rate / (1 - rate))]);
      continue;
    }
    const w = fitLogistic(Z, rows, y, l2);
    weights.push([w[0]!, w[1]!]);
  }
  return { column, mean: std.means[0]!, scale: std.scales[0]!, weights };
}

export interface ExpectationOptions {
  folds?: number;
  seed?: number;
  groups: readonly string[];
  groupedBy: string;
  macau?: MacauOptions;
  mlp?: MultitaskNetOptions;
  reporter?: Reporter;
}

function curve(scores: number[], labels: number[]): { auc: number | null; enrichment: (number | null)[] } {
  let pos = 0;
  for (const y of labels) pos += y >= 0.5 ? 1 : 0;
  if (pos === 0 || pos === labels.length) return { auc: null, enrichment: EXPECTATION_FRACTIONS.map(() => null) };
  return { auc: aucRoc(scores, labels), enrichment: EXPECTATION_FRACTIONS.map((f) => enrichmentFactor(scores, labels, f)) };
}

/**
 * Compound-grouped cross-validation of the model kind (and of the cell-count baseline when a
 * count is given) on the training data: per assay, the held-out AUC and enrichment curve.
 */
export function crossValidatedExpectation(
  kind: SavedModelKind, X: Matrix, Y: ActivityMatrix, assays: readonly string[], opts: ExpectationOptions, cellCount?: Matrix | null,
): SavedExpectation {
  const folds = opts.folds ?? 5, seed = opts.seed ?? 0;
  const spec: ModelSpec = kind === 'macau'
    ? { name: 'macau', create: () => new MacauActivityModel({ ...opts.macau }) }
    : { name: 'mlp', create: () => new MultitaskNet({ ...opts.mlp }) };
  const cvOpts = { k: folds, seed, groups: opts.groups, minPos: 1, minNeg: 1, reporter: opts.reporter ?? silentReporter };
  const oof = crossValidateActivity([spec], X, Y, cvOpts).results[0]!.oof;
  const cc = cellCount ? crossValidateActivity([{ name: 'cellcount', create: () => new CellCountModel(0) }], cellCount, Y, cvOpts).results[0]!.oof : null;
  const out: Record<string, AssayExpectation> = {};
  for (let j = 0; j < Y.cols; j++) {
    const s: number[] = [], c: number[] = [], y: number[] = [];
    for (let k = Y.colPtr[j]!; k < Y.colPtr[j + 1]!; k++) {
      const r = Y.colRow[k]!;
      s.push(oof.data[r * Y.cols + j]!);
      if (cc) c.push(cc.data[r * Y.cols + j]!);
      y.push(Y.colVal[k]! >= 0.5 ? 1 : 0);
    }
    const active = y.reduce((a, b) => a + b, 0);
    out[assays[j]!] = { labelled: y.length, active, baseRate: y.length ? active / y.length : NaN, model: curve(s, y), cellCount: cc ? curve(c, y) : null };
  }
  return { folds, seed, groupedBy: opts.groupedBy, fractions: [...EXPECTATION_FRACTIONS], assays: out };
}

export interface RankedCompound {
  rank: number;
  compound: string;
  probability: number;
  /** Macau posterior sd (null for the net). */
  sd: number | null;
  cellCountProbability: number | null;
  cellCountRank: number | null;
  /** 'untested', or the training result in this assay. */
  tested: 'untested' | 'active' | 'inactive';
}

export interface ExpectedAtTop {
  top: number;
  /** Share of the ranked compounds in the top, and the stored fraction whose enrichment is used. */
  fraction: number;
  atFraction: number;
  baseRate: number;
  model: { auc: number | null; enrichment: number | null; hitRate: number | null };
  cellCount: { auc: number | null; enrichment: number | null; hitRate: number | null } | null;
}

export interface RankResult {
  assay: string;
  model: SavedModelKind;
  ranked: RankedCompound[];
  /** Tested compounds set apart (listed only with includeTested). */
  testedCount: number;
  rowsIn: number;
  cellCountColumn: string | null;
  expected: ExpectedAtTop | null;
  notes: string[];
}

export interface RankOptions {
  assay: string;
  /** Compound id per library row (e.g. from the id column); rows of one id are averaged first. */
  ids: readonly string[];
  /** The library's cell count per row (when the model has a cell-count baseline and the library the column). */
  cellCount?: Float64Array | null;
  /** List tested compounds too (ranked among the others, marked). */
  includeTested?: boolean;
  /** Compounds the summary's expectation is for (default 50). */
  top?: number;
}

/** Average the rows of each id (order of first appearance). */
function perCompound(X: Matrix, ids: readonly string[], extra: Float64Array | null): { X: Matrix; ids: string[]; extra: Float64Array | null } {
  const at = new Map<string, number>();
  const order: string[] = [];
  const groupOf = ids.map((id) => {
    let g = at.get(id);
    if (g === undefined) {
      g = order.length;
      at.set(id, g);
      order.push(id);
    }
    return g;
  });
  if (order.length === ids.length) return { X, ids: order, extra };
  const d = X.cols, G = order.length;
  const out = { rows: G, cols: d, data: new Float64Array(G * d) };
  const cnt = new Float64Array(G), ex = extra ? new Float64Array(G) : null;
  for (let i = 0; i < X.rows; i++) {
    const g = groupOf[i]!;
    cnt[g]++;
    for (let j = 0; j < d; j++) out.data[g * d + j] += X.data[i * d + j]!;
    if (ex) ex[g] += extra![i]!;
  }
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < d; j++) out.data[g * d + j] /= cnt[g]!;
    if (ex) ex[g] /= cnt[g]!;
  }
  return { X: out, ids: order, extra: ex };
}

/** Enrichment at the smallest stored fraction ≥ the top's share of the ranking (the last one beyond it). */
export function expectedAtTop(exp: SavedExpectation, assay: string, top: number, ranked: number): ExpectedAtTop | null {
  const a = exp.assays[assay];
  if (!a || ranked === 0) return null;
  const fraction = Math.min(1, top / ranked);
  let t = exp.fractions.findIndex((f) => f >= fraction - 1e-12);
  if (t < 0) t = exp.fractions.length - 1;
  const at = (c: { auc: number | null; enrichment: (number | null)[] }) => {
    const ef = c.enrichment[t] ?? null;
    return { auc: c.auc, enrichment: ef, hitRate: ef === null ? null : Math.min(1, ef * a.baseRate) };
  };
  return { top, fraction, atFraction: exp.fractions[t]!, baseRate: a.baseRate, model: at(a.model), cellCount: a.cellCount ? at(a.cellCount) : null };
}

/**
 * Rank a library for one assay with a saved model: the model's probability (and Macau sd), the
 * cell-count baseline's probability, tested compounds set apart, and the cross-validated
 * expectation for the top.
 */
export function rankLibrary(model: SavedActivityModel, X: Matrix, featureNames: readonly string[], opts: RankOptions, source = 'library'): RankResult {
  if (opts.ids.length !== X.rows) throw new RangeError(`rankLibrary: ${opts.ids.length} ids for ${X.rows} rows`);
  const notes: string[] = [];
  const j = model.assays.indexOf(opts.assay);
  const Xa = alignFeatures(X, featureNames, model.features, source);
  const cc = model.cellCount && opts.cellCount ? opts.cellCount : null;
  if (model.cellCount && !opts.cellCount) notes.push(`the library has no "${model.cellCount.column}" column: no cell-count baseline`);
  if (!model.cellCount) notes.push('the model was trained without a cell-count column: no cell-count baseline');
  if (cc) for (let i = 0; i < cc.length; i++) if (!Number.isFinite(cc[i]!)) throw new InputError(`${source}: row ${i + 1} has no ${model.cellCount!.column} value`);
  const g = perCompound(Xa, opts.ids, cc);
  if (g.ids.length < opts.ids.length) notes.push(`${opts.ids.length} library rows averaged into ${g.ids.length} compounds`);
  const { score, sd } = scoreAssayWithModel(model, g.X, opts.assay);
  let ccProb: Float64Array | null = null;
  if (g.extra && model.cellCount) {
    const [w, b] = model.cellCount.weights[j]!;
    ccProb = Float64Array.from(g.extra, (v) => 1 / (1 + Math.exp(-(w * ((v - model.cellCount!.mean) / model.cellCount!.scale) + b))));
  }
  const tested = model.tested?.[opts.assay];
  const status = (id: string): RankedCompound['tested'] => (tested?.active.includes(id) ? 'active' : tested?.inactive.includes(id) ? 'inactive' : 'untested');
  const keep: number[] = [];
  let testedCount = 0;
  for (let i = 0; i < g.ids.length; i++) {
    if (status(g.ids[i]!) !== 'untested') {
      testedCount++;
      if (!opts.includeTested) continue;
    }
    keep.push(i);
  }
  if (!tested) notes.push('the model records no tested compounds (trained by an earlier phenomap): every compound is listed');
  const pick = (a: ArrayLike<number>) => Float64Array.from(keep, (i) => a[i]!);
  const order = rankOrder(pick(score));
  const ccOrder = ccProb ? rankOrder(pick(ccProb)) : null;
  const ccRank = new Int32Array(keep.length);
  if (ccOrder) ccOrder.forEach((t, r) => (ccRank[t] = r + 1));
  const ranked: RankedCompound[] = Array.from(order, (t, r) => {
    const i = keep[t]!;
    return {
      rank: r + 1, compound: g.ids[i]!, probability: score[i]!, sd: sd ? sd[i]! : null,
      cellCountProbability: ccProb ? ccProb[i]! : null, cellCountRank: ccOrder ? ccRank[t]! : null, tested: status(g.ids[i]!),
    };
  });
  const top = Math.min(opts.top ?? 50, ranked.length);
  const expected = model.expected ? expectedAtTop(model.expected, opts.assay, top, ranked.length) : null;
  if (!model.expected) notes.push('the model carries no cross-validation (trained with --cv-folds 0 or by an earlier phenomap): no expected enrichment');
  return { assay: opts.assay, model: model.model, ranked, testedCount, rowsIn: X.rows, cellCountColumn: model.cellCount?.column ?? null, expected, notes };
}

function csvCell(v: string | number | null): string {
  const s = v === null ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(Number(v.toPrecision(8))) : '') : v;
  const t = typeof v === 'string' ? spreadsheetSafe(s) : s;
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

export const RANKING_CSV_COLUMNS = ['rank', 'compound', 'probability', 'sd', 'cellcount_probability', 'cellcount_rank', 'tested'] as const;

export function rankingCsv(r: RankResult): string {
  const lines = [RANKING_CSV_COLUMNS.join(',')];
  for (const c of r.ranked) lines.push([c.rank, c.compound, c.probability, c.sd, c.cellCountProbability, c.cellCountRank, c.tested].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}

const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)} %`);
const f2 = (x: number | null) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(2));

/** The ranking as text: what was ranked, the expectation for the top, the top rows. */
export function formatRanking(r: RankResult, top: number): string {
  const out: string[] = [];
  const untested = r.ranked.filter((c) => c.tested === 'untested').length;
  out.push(`${r.assay}: ${untested} untested compounds ranked by ${r.model}${r.testedCount ? `; ${r.testedCount} compounds already tested in ${r.assay} ${r.ranked.length > untested ? 'are listed too (marked)' : 'are left out (--include-tested lists them)'}` : ''}`);
  const e = r.expected;
  if (e) {
    out.push(`cross-validated on the training compounds: AUC ${f2(e.model.auc)}${e.cellCount ? ` (cell count alone ${f2(e.cellCount.auc)})` : ''}; base hit rate ${pct(e.baseRate)}`);
    out.push(`expected in the top ${e.top} (${(100 * e.fraction).toFixed(1)} % of the ranking; enrichment measured at the top ${(100 * e.atFraction).toFixed(0)} % of held-out compounds): ${f2(e.model.enrichment)}× the library's hit rate, ≈ ${pct(e.model.hitRate)} if that is the training one${e.cellCount ? `; cell count alone ${f2(e.cellCount.enrichment)}× (≈ ${pct(e.cellCount.hitRate)})` : ''}`);
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  const rows = r.ranked.slice(0, top).map((c) => [
    String(c.rank), c.probability.toFixed(4), c.sd === null ? '—' : c.sd.toFixed(4),
    c.cellCountProbability === null ? '—' : `${c.cellCountProbability.toFixed(4)} (#${c.cellCountRank})`, c.tested === 'untested' ? '' : `tested: ${c.tested}`, c.compound,
  ]);
  const head = ['rank', 'probability', 'sd', 'cell count p', 'tested', 'compound'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  const line = (cells: string[]) => cells.map((s, i) => (i < 4 ? s.padStart(w[i]!) : i === 5 ? s : s.padEnd(w[i]!))).join('  ').trimEnd();
  out.push(line(head), ...rows.map(line));
  return out.join('\n');
}

/** The cell-count column of a library: a feature column or a numeric metadata column. */
export function libraryCellCount(profiles: { features: readonly string[]; X: Matrix; meta: readonly { name: string; kind: string; values: unknown }[] }, column: string): Float64Array | null {
  const f = profiles.features.indexOf(column);
  if (f >= 0) return Float64Array.from(takeCols(profiles.X, [f]).data);
  const m = profiles.meta.find((c) => c.name === column);
  if (m && m.kind === 'number') return Float64Array.from(m.values as Float64Array);
  return null;
}
