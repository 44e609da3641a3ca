/**
 * Activity-prediction metrics: AUC-ROC, enrichment factors, interval coverage, calibration, and
 * the compound-grouped k-fold split.
 *
 * AUC is the Mann–Whitney statistic with tied scores given their average rank (equivalently, a
 * tied positive/negative pair counts ½), as sklearn's roc_auc_score. Enrichment at the top x %
 * (EF, Simm et al. 2018; Moshkov et al. 2023) is the hit rate among the top-ranked compounds
 * divided by the base hit rate; the top always holds at least one compound, and a tie group
 * straddling the cut contributes its expected number of hits under random tie-breaking, so the
 * value does not depend on input order.
 */
import { Rng } from '../linalg/rng.js';

/** AUC-ROC of scores for binary labels (label ≥ 0.5 is positive). NaN when one class is absent. */
export function aucRoc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`aucRoc: ${n} scores, ${labels.length} labels`);
  const order = sortedOrder(scores, false);
  let nPos = 0, rankSumPos = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    const s = scores[order[i]!]!;
    while (j < n && scores[order[j]!]! === s) j++;
    const avgRank = (i + 1 + j) / 2; // ranks i+1 .. j
    for (let t = i; t < j; t++) {
      if (labels[order[t]!]! >= 0.5) { nPos++; rankSumPos += avgRank; }
    }
    i = j;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Hit-rate fold enrichment of the top `count` compounds: (hits in top / count) / (hits / n).
 * NaN without positives. Ties at the cut are shared in expectation.
 */
export function enrichmentAtCount(scores: ArrayLike<number>, labels: ArrayLike<number>, count: number): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`enrichment: ${n} scores, ${labels.length} labels`);
  if (n === 0) return NaN;
  let hits = 0;
  for (let t = 0; t < n; t++) if (labels[t]! >= 0.5) hits++;
  if (hits === 0) return NaN;
  const top = Math.min(n, Math.max(1, Math.floor(count)));
  const order = sortedOrder(scores, true);
  let taken = 0, topHits = 0, i = 0;
  while (taken < top) {
    let j = i + 1;
    const s = scores[order[i]!]!;
    while (j < n && scores[order[j]!]! === s) j++;
    let groupHits = 0;
    for (let t = i; t < j; t++) if (labels[order[t]!]! >= 0.5) groupHits++;
    const size = j - i;
    const room = top - taken;
    if (size <= room) { topHits += groupHits; taken += size; }
    else { topHits += (groupHits * room) / size; taken = top; }
    i = j;
  }
  return topHits / top / (hits / n);
}

/** EF at the top `fraction` (0.01 = EF1 %) of ranked compounds: at least one compound in the top. */
export function enrichmentFactor(scores: ArrayLike<number>, labels: ArrayLike<number>, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`enrichmentFactor: fraction must be in (0, 1], got ${fraction}`);
  return enrichmentAtCount(scores, labels, Math.max(1, Math.round(fraction * scores.length)));
}

/** Share of observations inside mean ± z·sd (z = 1.96: nominal 95 % interval). */
export function intervalCoverage(mean: ArrayLike<number>, sd: ArrayLike<number>, observed: ArrayLike<number>, z = 1.96): number {
  const n = mean.length;
  if (sd.length !== n || observed.length !== n) throw new RangeError('intervalCoverage: arrays differ in length');
  if (n === 0) return NaN;
  let inside = 0;
  for (let t = 0; t < n; t++) if (Math.abs(observed[t]! - mean[t]!) <= z * sd[t]!) inside++;
  return inside / n;
}

export interface CalibrationBin {
  lo: number;
  hi: number;
  n: number;
  meanPredicted: number;
  observedRate: number;
}

/** Reliability table of predicted probabilities in `bins` equal-width bins (empty bins omitted). */
export function calibrationTable(prob: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const n = prob.length;
  const cnt = new Float64Array(bins), sp = new Float64Array(bins), sy = new Float64Array(bins);
  for (let t = 0; t < n; t++) {
    const p = prob[t]!;
    if (!Number.isFinite(p)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    cnt[b]++; sp[b] += p; sy[b] += labels[t]! >= 0.5 ? 1 : 0;
  }
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    if (!cnt[b]) continue;
    out.push({ lo: b / bins, hi: (b + 1) / bins, n: cnt[b]!, meanPredicted: sp[b]! / cnt[b]!, observedRate: sy[b]! / cnt[b]! });
  }
  return out;
}

/** Expected calibration error: Σ_bins (n_b / n) |observed − predicted|. */
export function expectedCalibrationError(table: readonly CalibrationBin[]): number {
  let n = 0, s = 0;
  for (const b of table) { n += b.n; s += b.n * Math.abs(b.observedRate - b.meanPredicted); }
  return n ? s / n : NaN;
}

export interface AssayScore {
  assay: number;
  nPos: number;
  nNeg: number;
  /** NaN when the assay lacks minPos positives or minNeg negatives. */
  auc: number;
  ef1: number;
  ef5: number;
  /** Fold enrichment of the top-k ranked compounds (k from options). */
  topKEnrichment: number;
}

export interface AssayMetricOptions {
  /** Minimum positives and negatives for an assay to be scored (default 5 each, as the summary's default). */
  minPos?: number;
  minNeg?: number;
  /** k for the top-k hit-rate enrichment (default 10). */
  topK?: number;
}

/** Metrics of one assay from its (score, label) pairs. */
export function scoreAssay(assay: number, scores: ArrayLike<number>, labels: ArrayLike<number>, opts: AssayMetricOptions = {}): AssayScore {
  const minPos = opts.minPos ?? 5, minNeg = opts.minNeg ?? 5, topK = opts.topK ?? 10;
  let nPos = 0;
  for (let t = 0; t < labels.length; t++) if (labels[t]! >= 0.5) nPos++;
  const nNeg = labels.length - nPos;
  const ok = nPos >= minPos && nNeg >= minNeg;
  return {
    assay, nPos, nNeg,
    auc: ok ? aucRoc(scores, labels) : NaN,
    ef1: ok ? enrichmentFactor(scores, labels, 0.01) : NaN,
    ef5: ok ? enrichmentFactor(scores, labels, 0.05) : NaN,
    topKEnrichment: ok ? enrichmentAtCount(scores, labels, topK) : NaN,
  };
}

export interface AucSummary {
  /** Assays with a defined AUC. */
  scored: number;
  meanAuc: number;
  medianAuc: number;
  above09: number;
  above07: number;
  shareAbove09: number;
  shareAbove07: number;
  meanEf1: number;
  meanEf5: number;
}

/** Counts and shares of assays with AUC > 0.9 and > 0.7 (over scored assays), mean EFs. */
export function summarizeAssayScores(scores: readonly AssayScore[]): AucSummary {
  const ok = scores.filter((s) => Number.isFinite(s.auc));
  const aucs = ok.map((s) => s.auc).sort((a, b) => a - b);
  const k = aucs.length;
  const mean = (xs: number[]) => {
    const f = xs.filter(Number.isFinite);
    return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
  };
  const above09 = aucs.filter((a) => a > 0.9).length;
  const above07 = aucs.filter((a) => a > 0.7).length;
  return {
    scored: k,
    meanAuc: mean(aucs),
    medianAuc: k ? (k % 2 ? aucs[(k - 1) / 2]! : 0.5 * (aucs[k / 2 - 1]! + aucs[k / 2]!)) : NaN,
    above09, above07,
    shareAbove09: k ? above09 / k : NaN,
    shareAbove07: k ? above07 / k : NaN,
    meanEf1: mean(ok.map((s) => s.ef1)),
    meanEf5: mean(ok.map((s) => s.ef5)),
  };
}

export interface GroupFold {
  train: Int32Array;
  test: Int32Array;
}

/**
 * Compound-grouped k-fold split: every row of a group lands in the same fold. Groups are shuffled
 * (seeded), then placed largest first into the currently smallest fold (sklearn GroupKFold's
 * balancing, with a seeded order among equal sizes). Returns the fold of each row and the folds.
 */
export function groupKFold(groups: readonly string[], k: number, seed: number): { foldOf: Int32Array; folds: GroupFold[] } {
  if (!(Number.isInteger(k) && k >= 2)) throw new RangeError(`groupKFold: k must be an integer ≥ 2, got ${k}`);
  const byGroup = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const a = byGroup.get(g);
    if (a) a.push(i);
    else byGroup.set(g, [i]);
  });
  const names = [...byGroup.keys()];
  if (names.length < k) throw new RangeError(`groupKFold: ${names.length} groups cannot fill ${k} folds`);
  const rng = new Rng(seed);
  rng.shuffle(names);
  // Stable sort keeps the shuffled order among equal sizes.
  const order = names.map((g, t) => ({ g, t, size: byGroup.get(g)!.length }))
    .sort((a, b) => b.size - a.size || a.t - b.t);
  const sizes = new Array<number>(k).fill(0);
  const foldOf = new Int32Array(groups.length);
  for (const { g, size } of order) {
    let best = 0;
    for (let f = 1; f < k; f++) if (sizes[f]! < sizes[best]!) best = f;
    sizes[best] += size;
    for (const i of byGroup.get(g)!) foldOf[i] = best;
  }
  const folds: GroupFold[] = [];
  for (let f = 0; f < k; f++) {
    const test: number[] = [], train: number[] = [];
    for (let i = 0; i < groups.length; i++) (foldOf[i] === f ? test : train).push(i);
    folds.push({ train: Int32Array.from(train), test: Int32Array.from(test) });
  }
  return { foldOf, folds };
}

/** Indices sorted by score (ascending, or descending), NaN last; index order breaks ties. */
function sortedOrder(scores: ArrayLike<number>, descending: boolean): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  for (let t = 0; t < scores.length; t++) {
    if (Number.isNaN(scores[t]!)) throw new RangeError(`metrics: score ${t} is NaN`);
  }
  const sign = descending ? -1 : 1;
  idx.sort((a, b) => sign * (scores[a]! - scores[b]!) || a - b);
  return idx;
}
