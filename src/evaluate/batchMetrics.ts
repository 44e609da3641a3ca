/**
 * The metrics of the batch-correction benchmark (Arevalo, Su, Ewald et al., "Evaluating batch
 * correction methods for image-based cell profiling", Nat Commun 15:6516, 2024; definitions from
 * scib, Luecken et al., Nat Methods 2022), computed from a matrix and labels — never from a run
 * folder. Rows are wells; distances are cosine, as in Arevalo et al.
 *
 * Batch mixing (higher = better mixed):
 * - graph connectivity (scib `graph_connectivity`): on the k-nearest-neighbour graph (union of both
 *   directions; k = 25 counting the row itself, scanpy's n_neighbors as Arevalo et al. set it), for
 *   every biological label the largest connected component of its rows' subgraph as a share of its
 *   rows; mean over labels;
 * - iLISI (Korsunsky et al. 2019, LISI; scib `ilisi_graph` with scale=True): per row the inverse
 *   Simpson index of batches among its 3·perplexity nearest neighbours, weighted by a Gaussian
 *   kernel on the distances calibrated to the perplexity (30) as the lisi R package's
 *   `compute_simpson_index`; the median over rows, scaled to [0, 1] by (median − 1)/(B − 1);
 * - silhouette of batch (scib `silhouette_batch`): within each label with ≥ 2 batches (and fewer
 *   batches than rows), 1 − |silhouette of the batch labels| per row (cosine); mean per label, then
 *   over labels;
 * - share of the k neighbours from another batch, beside the share perfect mixing would give.
 *
 * Biology kept: cluster agreement with the labels — affinity propagation on cosine similarity
 * (Leiden in Arevalo et al.; phenomap's AP up to 5,000 rows, Louvain on the k-NN graph above) —
 * as adjusted Rand index and normalised mutual information; replicate and MoA mAP, NSC and NSCB
 * come from map.ts and nsc.ts (see `batchBiology`).
 */
import { type Matrix, normalizeRows, squaredDistances, takeRows } from '../linalg/index.js';
import { exactKnn, hnswKnn, type KnnGraph } from '../cluster/knnGraph.js';
import { affinityPropagationWithRetry } from '../cluster/affinityPropagation.js';
import { knnAffinityGraph, louvain } from '../cluster/louvain.js';
import { InputError } from '../util/errors.js';
import { adjustedRandIndex, normalizedMutualInfo } from './ari.js';
import { silhouetteSamples } from './silhouette.js';
import { activityQueries, consistencyQueries, meanAveragePrecision } from './map.js';
import { buildTreatments, nearestNeighbourMoa, type TreatmentKeys } from './nsc.js';

export interface MixingOptions {
  /** Neighbours per row for graph connectivity and the other-batch share, counting the row itself. Default 25. */
  nNeighbors?: number;
  /** LISI perplexity; 3·perplexity neighbours. Default 30. */
  perplexity?: number;
  /** Exact k-NN up to this many rows, HNSW above. Default 20,000. */
  exactMaxRows?: number;
}

/** Cosine k-NN graph: Euclidean neighbours of the unit-normalised rows (same order as cosine). */
export function cosineKnn(X: Matrix, k: number, exactMaxRows = 20_000): KnnGraph {
  const U = normalizeRows(X);
  return X.rows <= exactMaxRows ? exactKnn(U, k) : hnswKnn(U, k, { hnsw: { seed: 0 } });
}

function codesOf(labels: readonly (string | null)[]): { codes: Int32Array; levels: string[] } {
  const m = new Map<string, number>();
  const codes = new Int32Array(labels.length);
  labels.forEach((l, i) => {
    if (l === null) throw new InputError(`batch metrics: row ${i + 1} has no label`);
    let c = m.get(l);
    if (c === undefined) m.set(l, (c = m.size));
    codes[i] = c;
  });
  return { codes, levels: [...m.keys()] };
}

/** scib graph connectivity on the first `k` neighbours of each row (k excludes the row). */
export function graphConnectivity(G: KnnGraph, labels: readonly (string | null)[], k = G.k): { score: number; perLabel: Record<string, number> } {
  const { codes, levels } = codesOf(labels);
  const n = G.n;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  for (let i = 0; i < n; i++) {
    const end = Math.min(G.indptr[i + 1]!, G.indptr[i]! + k);
    for (let p = G.indptr[i]!; p < end; p++) {
      const j = G.indices[p]!;
      if (codes[j] !== codes[i]) continue;
      const a = find(i), b = find(j);
      if (a !== b) parent[a] = b;
    }
  }
  const perLabel: Record<string, number> = {};
  levels.forEach((l, c) => {
    const sizes = new Map<number, number>();
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (codes[i] !== c) continue;
      total++;
      const r = find(i);
      sizes.set(r, (sizes.get(r) ?? 0) + 1);
    }
    perLabel[l] = Math.max(...sizes.values()) / total;
  });
  const vals = Object.values(perLabel);
  return { score: vals.reduce((a, b) => a + b, 0) / vals.length, perLabel };
}

/** LISI of `labels` per row (Korsunsky et al. 2019), from the first 3·perplexity neighbours. */
export function lisi(G: KnnGraph, labels: readonly (string | null)[], perplexity = 30): Float64Array {
  const { codes, levels } = codesOf(labels);
  const n = G.n, B = levels.length;
  const kk = Math.min(G.k, Math.floor(3 * perplexity));
  const logU = Math.log(perplexity);
  const out = new Float64Array(n);
  const D = new Float64Array(kk), P = new Float64Array(kk);
  const pb = new Float64Array(B);
  for (let i = 0; i < n; i++) {
    const o = G.indptr[i]!;
    for (let t = 0; t < kk; t++) D[t] = Math.sqrt(Math.max(G.distances[o + t]!, 0));
    let beta = 1, betaMin = -Infinity, betaMax = Infinity, H = 0;
    const entropyAt = (b: number): number => {
      let sum = 0, dot = 0;
      for (let t = 0; t < kk; t++) {
        P[t] = Math.exp(-D[t]! * b);
        sum += P[t]!;
        dot += D[t]! * P[t]!;
      }
      if (sum === 0) {
        P.fill(0);
        return 0;
      }
      for (let t = 0; t < kk; t++) P[t] /= sum;
      return Math.log(sum) + (b * dot) / sum;
    };
    H = entropyAt(beta);
    for (let tries = 0; Math.abs(H - logU) > 1e-5 && tries < 50; tries++) {
      if (H - logU > 0) {
        betaMin = beta;
        beta = Number.isFinite(betaMax) ? (beta + betaMax) / 2 : beta * 2;
      } else {
        betaMax = beta;
        beta = Number.isFinite(betaMin) ? (beta + betaMin) / 2 : beta / 2;
      }
      H = entropyAt(beta);
    }
    if (H === 0) {
      // lisi's "-1" marker: every neighbour at distance 0 or none; counted as a single batch.
      out[i] = 1;
      continue;
    }
    pb.fill(0);
    for (let t = 0; t < kk; t++) pb[codes[G.indices[o + t]!]!] += P[t]!;
    let simpson = 0;
    for (let b = 0; b < B; b++) simpson += pb[b]! * pb[b]!;
    out[i] = 1 / simpson;
  }
  return out;
}

/** scib silhouette_batch (cosine, scaled 1 − |s|), and the labels it could not score. */
export function silhouetteBatch(X: Matrix, batch: readonly (string | null)[], labels: readonly (string | null)[]): { score: number; scored: number; skipped: string[] } {
  const byLabel = new Map<string, number[]>();
  labels.forEach((l, i) => {
    if (l === null) return;
    let a = byLabel.get(l);
    if (!a) byLabel.set(l, (a = []));
    a.push(i);
  });
  const means: number[] = [];
  const skipped: string[] = [];
  for (const [l, rows] of byLabel) {
    const bs = rows.map((i) => batch[i]!);
    const nb = new Set(bs).size;
    if (nb === 1 || nb === rows.length) {
      skipped.push(l);
      continue;
    }
    const s = silhouetteSamples(takeRows(X, rows), bs, { metric: 'cosine' });
    let t = 0;
    for (let r = 0; r < s.length; r++) t += 1 - Math.abs(s[r]!);
    means.push(t / s.length);
  }
  return { score: means.length ? means.reduce((a, b) => a + b, 0) / means.length : NaN, scored: means.length, skipped };
}

export interface Mixing {
  rows: number;
  batches: number;
  labels: number;
  graphConnectivity: number;
  /** Median iLISI scaled to [0, 1]: (median − 1)/(B − 1). */
  ilisi: number;
  ilisiMedian: number;
  silhouetteBatch: number;
  /** Labels without ≥ 2 batches (not scored by the batch silhouette). */
  silhouetteSkipped: string[];
  otherBatchShare: number;
  /** The share of neighbours from another batch if batches were perfectly mixed. */
  otherBatchShareExpected: number;
}

/** Batch-mixing metrics of the rows of X (callers leave out control wells, as Arevalo et al.). */
export function batchMixing(X: Matrix, batch: readonly (string | null)[], labels: readonly (string | null)[], opts: MixingOptions = {}): Mixing {
  const n = X.rows;
  if (batch.length !== n || labels.length !== n) throw new InputError(`batch metrics: ${batch.length} batches / ${labels.length} labels for ${n} rows`);
  if (n < 3) throw new InputError(`batch metrics: need at least 3 rows, got ${n}`);
  const kGraph = Math.min((opts.nNeighbors ?? 25) - 1, n - 1);
  const perplexity = Math.min(opts.perplexity ?? 30, (n - 1) / 3);
  const kAll = Math.min(n - 1, Math.max(kGraph, Math.floor(3 * perplexity)));
  const G = cosineKnn(X, kAll, opts.exactMaxRows);
  const { codes, levels } = codesOf(batch);
  const B = levels.length;
  const l = lisi(G, batch, perplexity);
  const sorted = Float64Array.from(l).sort();
  const median = n % 2 ? sorted[(n - 1) / 2]! : 0.5 * (sorted[n / 2 - 1]! + sorted[n / 2]!);
  let other = 0;
  for (let i = 0; i < n; i++) {
    let c = 0;
    for (let p = G.indptr[i]!; p < G.indptr[i]! + kGraph; p++) if (codes[G.indices[p]!] !== codes[i]) c++;
    other += c / kGraph;
  }
  const counts = new Float64Array(B);
  for (let i = 0; i < n; i++) counts[codes[i]!]++;
  let expected = 0;
  for (let b = 0; b < B; b++) expected += (counts[b]! * (n - counts[b]!)) / (n - 1);
  const sil = silhouetteBatch(X, batch, labels);
  return {
    rows: n, batches: B, labels: new Set(labels).size,
    graphConnectivity: graphConnectivity(G, labels, kGraph).score,
    ilisi: B > 1 ? (median - 1) / (B - 1) : NaN, ilisiMedian: median,
    silhouetteBatch: sil.score, silhouetteSkipped: sil.skipped,
    otherBatchShare: other / n, otherBatchShareExpected: expected / n,
  };
}

export interface ClusterAgreement {
  method: 'ap' | 'louvain';
  clusters: number;
  ari: number;
  nmi: number;
}

/** Clusters of the rows (cosine) against their labels. */
export function clusterAgreement(X: Matrix, labels: readonly (string | null)[], opts: { seed?: number; denseMaxRows?: number } = {}): ClusterAgreement {
  const { codes } = codesOf(labels);
  const n = X.rows;
  let assign: Int32Array;
  let method: ClusterAgreement['method'];
  if (n <= (opts.denseMaxRows ?? 5000)) {
    const S = squaredDistances(normalizeRows(X));
    for (let t = 0; t < S.data.length; t++) S.data[t] = -S.data[t]!;
    assign = affinityPropagationWithRetry(S, { noise: { seed: opts.seed ?? 0 } }).labels;
    method = 'ap';
  } else {
    assign = louvain(knnAffinityGraph(cosineKnn(X, 24)), { seed: opts.seed ?? 0 }).labels;
    method = 'louvain';
  }
  return { method, clusters: new Set(assign).size, ari: adjustedRandIndex(assign, codes), nmi: normalizedMutualInfo(assign, codes) };
}

export interface BiologyKeys extends TreatmentKeys {
  /** Control (negative reference) flag per row. */
  isControl: ArrayLike<boolean | number>;
  controlLabels?: readonly string[];
}

export interface Biology {
  /** Replicate (phenotypic activity) mAP of each treatment's wells against control wells. */
  replicateMap?: number;
  replicateRetrieved?: number;
  /** MoA-consistency mAP of treatment medians (positives: other compounds of the label). */
  moaMap: number;
  moaMapBaseline: number;
  nsc: number;
  nscb?: number;
  cluster: ClusterAgreement;
}

/**
 * Biology kept by a (corrected) matrix, nothing learned: replicate mAP, MoA mAP, NSC / NSCB (a
 * query's own compound is never a candidate, so these are held out by compound) and cluster
 * agreement of the non-control wells with their labels.
 */
export function batchBiology(X: Matrix, keys: BiologyKeys, opts: { nullSize?: number; seed?: number } = {}): Biology {
  const n = X.rows, seed = opts.seed ?? 0, nullSize = opts.nullSize ?? 1000;
  const controls = keys.controlLabels ?? ['DMSO'];
  const tk: TreatmentKeys = { compound: keys.compound, dose: keys.dose, label: keys.label, batch: keys.batch };
  const t = buildTreatments(X, tk, { controlLabels: controls });
  if (t.X.rows < 3) throw new InputError(`batch metrics: only ${t.X.rows} labelled non-control treatments`);
  let replicateMap: number | undefined, replicateRetrieved: number | undefined;
  const ctlRows: number[] = [];
  for (let i = 0; i < n; i++) if (keys.isControl[i]) ctlRows.push(i);
  const treated: number[] = [];
  t.rows.forEach((r) => treated.push(...r));
  if (ctlRows.length) {
    const group = new Array<string | null>(n).fill(null);
    t.rows.forEach((r, k) => r.forEach((i) => (group[i] = `${t.compound[k]}@${t.dose[k]}`)));
    const rows = [...treated, ...ctlRows];
    const grp = rows.map((i, r) => (r < treated.length ? group[i]! : null));
    const ctl = rows.map((_, r) => r >= treated.length);
    const act = meanAveragePrecision(activityQueries(takeRows(X, rows), grp, ctl), { nullSize, seed });
    replicateMap = act.meanMap;
    replicateRetrieved = act.fractionRetrieved;
  }
  const names = t.compound.map((c, k) => `${c}@${t.dose[k]}`);
  const cons = meanAveragePrecision(consistencyQueries({ X: t.X, labels: t.label, compounds: t.compound, names }), { nullSize, seed });
  const nsc = nearestNeighbourMoa(t, t);
  const nscb = keys.batch ? nearestNeighbourMoa(t, t, { excludeSameBatch: true }) : undefined;
  treated.sort((a, b) => a - b);
  const cluster = clusterAgreement(takeRows(X, treated), treated.map((i) => keys.label[i]!), { seed });
  return {
    replicateMap, replicateRetrieved, moaMap: cons.meanMap, moaMapBaseline: cons.meanBaseline,
    nsc: nsc.accuracy, nscb: nscb?.accuracy, cluster,
  };
}
