/**
 * The clustering stage of `run`, chosen by size: dense affinity propagation on the n × n
 * similarity matrix (the study, exact sklearn semantics) up to DENSE_MAX_ROWS rows, else sparse
 * affinity propagation on the k-NN graph (O(n·k) memory), or Louvain communities on the same
 * graph. All three return the AP result shape (labels, exemplars, …) so enrichment, CSIF and the
 * outputs are unchanged.
 *
 * Sparse AP's preference: the median of −d² over 200,000 seeded random pairs — the dense rule's
 * scale (median over all pairs) at O(pairs · d) cost. The median over k-NN edges alone would be
 * far less negative and fragment the data into many small clusters.
 */
import { InputError } from '../util/errors.js';
import { formatBytes, memoryAdvice, memoryLimit } from '../io/duck.js';
import { type Matrix, type StoredMatrix, squaredDistances } from '../linalg/index.js';
import { affinityPropagationWithRetry, prestartAffinityPropagation, type AffinityPropagationRetryResult } from '../cluster/affinityPropagation.js';
import { sparseAffinityPropagationWithRetry, sampledSimilarityMedian } from '../cluster/sparseAffinityPropagation.js';
import { knnGraph, knnToSimilarity, rerankCandidates, sampledRecall, type KnnCandidates, type KnnGraph } from '../cluster/knnGraph.js';
import { cheapestKnnMethod } from '../cluster/knnCost.js';
import { louvain, knnAffinityGraph, withRepresentatives } from '../cluster/louvain.js';
import type { Reporter } from '../util/log.js';
import { DENSE_MAX_ROWS, type RunParameters } from './params.js';

import type { StageClock } from './stageClock.js';

export interface ClusteringInfo {
  method: 'dense' | 'sparse-ap' | 'louvain';
  /** Why: 'requested' or the auto rule. */
  reason: string;
  knn?: {
    k: number; method: 'exact' | 'projected' | 'hnsw'; edges: number; recall?: number; seconds: number;
    /** Why this method: 'requested' or the auto rule (with the cost model's estimates). */
    methodReason?: string;
    /** Candidates found on this many principal components (HNSW or exact search), re-ranked in all dimensions. */
    projectedDims?: number;
    /** Every build when the first one's recall was below 0.95: dimensions used and recall. */
    attempts?: { dims: number; recall: number }[];
    /**
     * The candidates came from this earlier representation's HNSW search, re-ranked by exact
     * distance here (no index built); its measured recall is `recall`.
     */
    candidatesFrom?: string;
    /** Recall of another representation's candidates that fell below the minimum (then an index was built). */
    sharedRecall?: { from: string; recall: number };
  };
  louvain?: { resolution: number; communities: number; modularity: number; levels: number };
  /** Sparse AP: sampled-median preference, convergence tolerance, points still changing, stored entries. */
  sparseAp?: { preference: number; convergenceTolerance: number; unstable: number; nnz: number };
}

export interface ClusteringOutcome {
  ap: AffinityPropagationRetryResult;
  similarity?: Matrix;
  clustering: ClusteringInfo;
}

/**
 * Bytes dense affinity propagation holds for n rows: similarity, responsibility and availability,
 * three n × n float64 matrices (plus the kept similarity of each representation with --save-distances).
 */
export function denseApBytes(n: number, keptSimilarities = 0): number {
  return (3 + keptSimilarities) * 8 * n * n;
}

/**
 * Dense or sparse, decided before the work: `auto` is dense up to DENSE_MAX_ROWS rows when its
 * matrices fit the memory limit (--memory, else 60 % of the memory available), else sparse AP on
 * the k-NN graph; an explicit `dense` that does not fit stops at once with the estimate and the
 * alternative, instead of allocating gigabytes and failing (or swapping) late.
 */
export function chooseClustering(params: RunParameters, n: number, keptSimilarities = 0): { method: ClusteringInfo['method']; reason: string } {
  const need = denseApBytes(n, keptSimilarities);
  const limit = memoryLimit();
  if (params.clustering === 'dense' && need > limit.bytes) {
    throw new InputError(
      `--clustering dense on ${n} rows needs about ${formatBytes(need)} (affinity propagation's ${3 + keptSimilarities} n × n matrices), more than ${memoryAdvice(limit, need)}; ` +
        `or use --clustering sparse-ap (or louvain) on the ${params.knn}-NN graph, which needs about ${formatBytes(n * params.knn * 8 * 4)}`,
    );
  }
  if (params.clustering !== 'auto') return { method: params.clustering, reason: 'requested' };
  if (n > DENSE_MAX_ROWS) return { method: 'sparse-ap', reason: `auto: n = ${n} > ${DENSE_MAX_ROWS}` };
  if (need > limit.bytes) return { method: 'sparse-ap', reason: `auto: dense would need about ${formatBytes(need)}, more than the memory limit ${formatBytes(limit.bytes)}` };
  return { method: 'dense', reason: `auto: n = ${n} ≤ ${DENSE_MAX_ROWS}` };
}

/**
 * Principal components of the projected exact search when --knn-projection is 0 (auto). On the
 * 100,000 × 1,000 synthetic table 128 components (100 candidates per row) found 0.873 of the true
 * 50 nearest, 256 found 0.994 (docs/scaling.md); starting at 128 cost a wasted search per
 * representation there.
 */
export const PROJECTED_DEFAULT_DIMS = 256;

export interface KnnChoice {
  method: 'exact' | 'projected' | 'hnsw';
  /** Principal components the search starts on (0: all columns). */
  dims: number;
  /** Why: 'requested' or the cost model's estimates (CPU seconds). */
  reason: string;
}

/**
 * The k-NN search for coordinates X: as requested, or (auto) exact up to 20,000 rows, else the
 * method of least estimated CPU time (knnCost.ts: brute force n²·p/2 against HNSW's n·p·log n).
 * Projected exact search starts on --knn-projection components (0: PROJECTED_DEFAULT_DIMS);
 * HNSW on --knn-projection components (0: all columns).
 */
export function chooseKnnMethod(params: RunParameters, X: StoredMatrix): KnnChoice {
  const fits = (p: number) => (p > 0 && 2 * p <= X.cols ? p : 0);
  const projDims = fits(params.knnProjection || PROJECTED_DEFAULT_DIMS);
  const hnswDims = fits(params.knnProjection);
  if (params.knnMethod !== 'auto') {
    const m = params.knnMethod;
    return { method: m, dims: m === 'projected' ? projDims : m === 'hnsw' ? hnswDims : 0, reason: 'requested' };
  }
  if (X.rows <= 20000) return { method: 'exact', dims: 0, reason: `auto: n = ${X.rows} ≤ 20000` };
  const { method, seconds } = cheapestKnnMethod({ n: X.rows, d: X.cols, k: params.knn, projectedDims: projDims, hnswDims });
  const est = (m: 'exact' | 'projected' | 'hnsw') => `${m} ${seconds[m] < 10 ? seconds[m].toFixed(1) : Math.round(seconds[m])}`;
  return {
    method, dims: method === 'projected' ? projDims : method === 'hnsw' ? hnswDims : 0,
    reason: `auto: least estimated CPU seconds (${est('exact')}, ${est('projected')}${projDims ? ` on ${projDims} components` : ''}, ${est('hnsw')}${hnswDims ? ` on ${hnswDims} components` : ''})`,
  };
}

/**
 * HNSW candidate lists shared between the representations of one run: the first representation
 * that builds an index leaves its candidates here (when `keep`), and the next ones re-rank them in
 * their own coordinates first, keeping the result when its measured recall@k reaches knnMinRecall
 * (PCA scores are a projection of the raw table, ITML's distances are the raw ones plus a
 * low-rank term: their neighbours are mostly among the raw ones' candidates).
 */
export interface SharedCandidates {
  keep: boolean;
  from?: string;
  candidates?: KnnCandidates;
}

export function clusterRepresentation(
  name: string, coords: StoredMatrix, params: RunParameters, reporter: Reporter, clock: StageClock, keepSimilarity: boolean,
  shared?: SharedCandidates,
): ClusteringOutcome {
  const { method, reason } = chooseClustering(params, coords.rows);
  reporter.info(`${name}: clustering with ${method === 'dense' ? 'dense affinity propagation' : method === 'sparse-ap' ? `sparse affinity propagation on the ${params.knn}-NN graph` : `Louvain on the ${params.knn}-NN graph`} (${reason})`);
  const apOpts = {
    damping: params.ap.damping, maxIter: params.ap.maxIter, convergenceIter: params.ap.convergenceIter,
    noise: { seed: params.seed }, dampings: params.ap.retry ? undefined : [params.ap.damping], reporter,
  };
  if (method === 'dense') {
    prestartAffinityPropagation(coords.rows); // its worker boots while the distances are computed
    const D = clock.time('distances', () => squaredDistances(coords));
    const S = D;
    for (let i = 0; i < S.data.length; i++) S.data[i] = -S.data[i]!;
    const ap = clock.time('ap', () => affinityPropagationWithRetry(S, { ...apOpts, copy: keepSimilarity }));
    return { ap, similarity: keepSimilarity ? S : undefined, clustering: { method, reason } };
  }
  const choice = chooseKnnMethod(params, coords);
  const knnMethod = choice.method;
  reporter.info(`${name}: ${params.knn}-NN graph by ${knnMethod === 'projected' ? 'exact search on principal components' : knnMethod === 'hnsw' ? 'HNSW' : 'exact search'} (${choice.reason})`);
  const t0 = performance.now();
  // Over 1,000-dimensional rows both searches spend their time in distance evaluations: candidates
  // are found on that many principal components (exactly, or by an HNSW index built there) and
  // re-ranked exactly; while the measured recall@k is below knnMinRecall the projection is widened.
  let projectDims = choice.dims;
  const approximate = knnMethod !== 'exact';
  const keepCandidates = knnMethod === 'hnsw' && !!shared?.keep && !shared.candidates;
  const build = () => clock.time('knn', () => knnGraph(coords, params.knn, {
    method: knnMethod, hnsw: { seed: params.seed, projectDims, keepCandidates }, projected: { dims: projectDims, seed: params.seed }, reporter,
  }));
  let fromShared: KnnGraph | undefined;
  let recall: number | undefined;
  let candidatesFrom: string | undefined;
  let sharedRecall: { from: string; recall: number } | undefined;
  if (knnMethod === 'hnsw' && shared?.candidates && shared.candidates.n === coords.rows && shared.candidates.stride >= params.knn) {
    const from = shared.from ?? 'another representation';
    const Gs = clock.time('knn', () => rerankCandidates(coords, params.knn, shared.candidates!));
    const r = clock.time('knn', () => sampledRecall(coords, Gs, 200, params.seed));
    reporter.info(`${name}: ${from}'s HNSW candidates re-ranked in ${coords.cols} dimensions: recall@${Gs.k} = ${r.toFixed(3)} on 200 sampled rows`);
    if (r >= params.knnMinRecall) {
      fromShared = Gs;
      recall = r;
      candidatesFrom = from;
    } else {
      sharedRecall = { from, recall: r };
      reporter.info(`${name}: recall ${r.toFixed(3)} < ${params.knnMinRecall}: building its own index`);
    }
  }
  const tries: { dims: number; recall: number }[] = [];
  let G: KnnGraph = fromShared ?? build();
  if (approximate && !candidatesFrom) {
    for (;;) {
      // Projected exact search on all columns is the exact graph: nothing to measure.
      if (knnMethod === 'projected' && !G.projectedDims) break;
      recall = clock.time('knn', () => sampledRecall(coords, G, 200, params.seed));
      reporter.info(`${name}: ${knnMethod === 'hnsw' ? 'HNSW' : 'exact search'}${projectDims ? ` on ${projectDims} principal components` : ''}: recall@${G.k} = ${recall.toFixed(3)} on 200 sampled rows`);
      tries.push({ dims: projectDims || coords.cols, recall });
      if (!projectDims || recall >= params.knnMinRecall) break;
      projectDims = 2 * projectDims * 2 <= coords.cols ? 2 * projectDims : 0;
      reporter.warn(`${name}: recall ${recall.toFixed(3)} < ${params.knnMinRecall}: rebuilding the k-NN graph ${projectDims ? `on ${projectDims} principal components` : 'on all dimensions'}`);
      G = build();
    }
    if (keepCandidates && G.candidates) {
      shared!.candidates = G.candidates;
      shared!.from = name;
      delete G.candidates;
    }
  }
  const knnInfo: NonNullable<ClusteringInfo['knn']> = { k: G.k, method: knnMethod, methodReason: choice.reason, edges: G.indices.length, seconds: (performance.now() - t0) / 1000 };
  if (recall !== undefined) knnInfo.recall = recall;
  if (G.projectedDims) knnInfo.projectedDims = G.projectedDims;
  if (tries.length > 1) knnInfo.attempts = tries;
  if (candidatesFrom) knnInfo.candidatesFrom = candidatesFrom;
  if (sharedRecall) knnInfo.sharedRecall = sharedRecall;
  if (method === 'sparse-ap') {
    const ap = clock.time('ap', () => {
      const preference = sampledSimilarityMedian(coords, 200_000, params.seed);
      return sparseAffinityPropagationWithRetry(knnToSimilarity(G), { ...apOpts, preference, convergenceTolerance: params.sparseApTolerance });
    });
    return { ap, clustering: { method, reason, knn: knnInfo, sparseAp: { preference: ap.preference, convergenceTolerance: params.sparseApTolerance, unstable: ap.unstable, nnz: ap.nnz } } };
  }
  const out = clock.time('louvain', () => {
    const g = knnAffinityGraph(G);
    const r = louvain(g, { resolution: params.louvainResolution, seed: params.seed });
    return { r, ...withRepresentatives(g, r.labels) };
  });
  const ap: AffinityPropagationRetryResult = {
    labels: out.labels, exemplars: out.exemplars, nIter: out.r.levels, converged: true, preference: 0, damping: 0.5,
    warnings: [], exemplarTrace: new Int32Array(0), timings: { prepareMs: 0, iterateMs: 0, labelsMs: 0 },
    attempts: [],
  };
  return {
    ap,
    clustering: {
      method, reason, knn: knnInfo,
      louvain: { resolution: params.louvainResolution, communities: out.r.communities, modularity: out.r.modularity, levels: out.r.levels },
    },
  };
}
