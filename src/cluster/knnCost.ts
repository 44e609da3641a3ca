/**
 * Which k-NN search costs least for n rows × d columns: a model of each method's CPU seconds, so
 * `run` can pick exact brute force, exact candidates on a PCA projection, or an HNSW index by
 * what they cost rather than by a fixed row count.
 *
 * - exact: the symmetric Gram product, n²·d/2 multiply-adds, plus the per-row heaps' insertions
 *   (with rows in random order, row i keeps about M·(1 + ln(n/M)) of its n offers; two threads keep
 *   a heap set each, so twice that).
 * - projected: the same on p principal components with M candidates, plus the PCA (a few passes
 *   over n × d) and the exact re-ranking of n·M candidates in d dimensions.
 * - hnsw: the index build and search on p (or d) dimensions, ≈ n·log₂ n·(a + b·dims) (the walk
 *   through the graph costs even at few dimensions), ×1.5 with two shards (each row is searched in
 *   both), plus the projection and the re-ranking of its 2·2k candidates.
 *
 * The constants are CPU seconds per unit on the 2-core development machine, measured side by side
 * by `bench/knn-methods.ts` (which prints them; 20,000 × 1,000 synthetic rows, one thread each);
 * the choice depends on their ratios, not on the machine's absolute speed. Brute force grows as
 * n², HNSW as n·log n: for 1,000-dimensional rows the model picks exact candidates on 256
 * components at 10⁵ rows (~100 CPU seconds against ~260 for HNSW on all dimensions) and HNSW at
 * 10⁶ (with --knn-projection 64: ~630 against ~1,400; by default, on all dimensions: ~3,100 against
 * ~4,400 for exact candidates on 256 components).
 */

export const KNN_COST = {
  /** Multiply-adds per CPU second of the native fused Gram kernel (knnTopM without heap work). */
  gramRate: 3.2e10,
  /** CPU seconds per heap insertion (a sift-down through cache-missing rows). */
  insertSeconds: 2.0e-7,
  /** CPU seconds per candidate × dimension of the exact re-ranking (rows read at random). */
  rerankSeconds: 6.0e-10,
  /** HNSW build and search (M = 16, efConstruction 100): CPU seconds per row × log₂ n … */
  hnswRowSeconds: 9.0e-6,
  /** … plus per row × dimension × log₂ n. */
  hnswDimSeconds: 1.0e-7,
  /** Two shards (from 20,000 rows): every row is searched in both indexes. */
  hnswShardFactor: 1.5,
  /** CPU seconds per row × column × component of the randomized PCA projection. */
  pcaSeconds: 1.2e-9,
};

export type KnnMethodName = 'exact' | 'projected' | 'hnsw';

export interface KnnCostQuery {
  n: number;
  d: number;
  k: number;
  /** Principal components of the projected exact search (0 or ≥ d/2: none, i.e. exact). */
  projectedDims: number;
  /** Candidates per row of the projected search (default 2k). */
  candidates?: number;
  /** Principal components HNSW is built on (0: all d). */
  hnswDims: number;
  /** Threads the exact search runs on (heap sets). Default 2. */
  threads?: number;
  /** HNSW index shards (default 2 from 20,000 rows, as knnGraph.ts builds them). */
  hnswShards?: 1 | 2;
}

function heapInsertions(n: number, M: number, threads: number): number {
  const per = M * (1 + Math.log(Math.max(1, n / (threads * M))));
  return n * threads * Math.min(n - 1, per);
}

/** Estimated CPU seconds of each method (see the file header). */
export function knnCostSeconds(q: KnnCostQuery): Record<KnnMethodName, number> {
  const { n, d, k } = q;
  const T = q.threads ?? 2;
  const c = KNN_COST;
  const exactOn = (dims: number, M: number) => (n * n * dims) / 2 / c.gramRate + heapInsertions(n, M, T) * c.insertSeconds;
  const exact = exactOn(d, k);
  const p = q.projectedDims;
  const M = Math.min(n - 1, Math.max(2 * k, q.candidates ?? 0));
  const projected = p > 0 && 2 * p <= d ? n * d * p * c.pcaSeconds + exactOn(p, M) + n * M * d * c.rerankSeconds : exact;
  const h = q.hnswDims > 0 && 2 * q.hnswDims <= d ? q.hnswDims : d;
  const hnswCand = 2 * Math.min(n - 1, 2 * k);
  const shards = (q.hnswShards ?? (n >= 20000 ? 2 : 1)) === 2 ? c.hnswShardFactor : 1;
  const hnsw = shards * n * Math.log2(Math.max(2, n)) * (c.hnswRowSeconds + c.hnswDimSeconds * h) +
    (h < d ? n * d * h * c.pcaSeconds + n * hnswCand * d * c.rerankSeconds : n * k * d * c.rerankSeconds);
  return { exact, projected, hnsw };
}

/** The method of least estimated cost (ties: exact, then projected), with every estimate. */
export function cheapestKnnMethod(q: KnnCostQuery): { method: KnnMethodName; seconds: Record<KnnMethodName, number> } {
  const seconds = knnCostSeconds(q);
  let method: KnnMethodName = 'exact';
  for (const m of ['projected', 'hnsw'] as const) if (seconds[m] < seconds[method]) method = m;
  return { method, seconds };
}
