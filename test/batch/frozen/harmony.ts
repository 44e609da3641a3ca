// Frozen copy of src/batch/harmony.ts as of 20fe7ae (before issue-24-s8c kept its work buffers):
// the plain form the restructured fit must match bit for bit (test/batch/harmony-identity.test.ts).
/**
 * Harmony (Korsunsky, Millard, Fan et al., "Fast, sensitive and accurate integration of single-cell
 * data with Harmony", Nat Methods 16:1289, 2019): in a PCA embedding, alternate
 * (1) soft k-means with an entropy term σ and a diversity penalty θ that pushes every cluster
 *     towards the overall batch proportions (responsibilities R updated in random blocks), and
 * (2) a mixture-of-experts linear correction: per cluster k a ridge regression (λ on the batch
 *     terms, none on the intercept) of the embedding on the batch indicators weighted by R_k·, whose
 *     batch terms are subtracted, weighted by R_ik, from each row.
 *
 * Implementation matched: harmonypy (slowkow/harmonypy, `harmony.py`: `Harmony.harmonize`,
 * `cluster`, `update_R`, `compute_objective`, `moe_correct_ridge`) through the numpy peer
 * ../shared/bench/batch/harmony.py: cosine-normalised rows, σ = 0.1 per cluster, θ = 2 per batch,
 * λ = 1, blocks of 5 % of the rows (numpy's `array_split` of a shuffled order), at most 20 k-means
 * rounds with convergence over a window of 3 objectives (ε 1e-5), at most 10 Harmony rounds
 * (ε 1e-4), K = min(round(N / 30), 100). Given the same starting centroids and block orders the
 * corrected embedding equals the peer's within 1e-6 (test/batch/harmony.test.ts; in practice ~1e-12).
 *
 * Speed (100,000 rows: 10 Harmony rounds of up to 20 soft k-means rounds each): every round's
 * two products (centroids Rᵀ·Z, distances Z·Yᵀ) are single native multithreaded products; the
 * responsibility update's row softmax — N × K exponentials per round — runs in a native threaded
 * kernel with a port of V8's exp (linalg/softAssign.ts, bit-identical to its JavaScript twin), as
 * do the block mass updates (columns over threads, every sum in row order); the objective is kept
 * per row as R changes (no N × K logarithms); the ridge step is one product per batch. None of
 * this changes a value: the parity test holds at ~1e-12.
 *
 * Deliberate differences:
 * - The starting centroids come from phenomap's own seeded k-means++ (kmeans.ts; scikit-learn's
 *   KMeans in harmonypy) and the block orders from phenomap's seeded generator (numpy's global
 *   generator in harmonypy): same seed, same output; `initialCentroids` is stored in the model.
 *   Above 20,000 rows (`kmeansSample`) that k-means runs on a seeded sample of 20,000 rows
 *   (harmonypy: all rows); it only seeds the soft k-means, which then uses every row.
 * - harmonypy divides each row by its largest coordinate before the cosine normalisation; a
 *   positive rescale of a row changes nothing after it, so phenomap normalises directly (this
 *   differs only for a row whose coordinates are all negative, where harmonypy flips its sign).
 * - The ridge system of each cluster is an arrowhead matrix and is solved in closed form rather
 *   than by inverting it; λ must therefore be > 0 (harmonypy's inverse fails at λ = 0 too).
 * - `fitTransformHarmony` works on profiles: features are standardised (optional) and projected on
 *   their first `nComponents` principal axes (the randomized solver from 10 million entries, see
 *   `pcaSolver`), Harmony runs on those coordinates, and by default the
 *   correction is mapped back to the features, x* = x + ((z* − z)·V)·scale — the part of each
 *   profile outside the principal subspace is kept as it was (`output: 'embedding'` returns the
 *   corrected coordinates instead, as harmonypy's Z_corr).
 * - Harmony corrects the rows it was fitted on; `fitTransformHarmony` is its one true output.
 *   `mapHarmony` places NEW rows on a fitted reference and is a different, documented operation:
 *   rows of batches seen in the fit get soft assignments to the final centroids (σ, no diversity
 *   penalty) and that batch's fitted ridge terms Σ_k R_ik·W_k[batch] subtracted; rows of unseen
 *   batches (`unseen: 'estimate'`) are mapped as Symphony does (Kang et al., Nat Commun 12:5890,
 *   2021, `mapQuery`): the reference is compressed to N_k = Σ_i R_ik and C_k = Σ_i R_ik·z*_i, and
 *   each cluster's ridge system for the query batches carries N_k and C_k on its intercept, so a
 *   new batch's terms are estimated against the reference's corrected positions.
 */
import { type Matrix, type StoredMatrix, columnMoments, gemm, gemmNT, gemmTN, addRowMasses, penalisedSoftmaxRows, standardizeColumns, zeros } from '../../../src/linalg/index.js';
import { PCA, type PcaSolver } from '../../../src/represent/pca.js';
import { InputError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/linalg/rng.js';
import { type BatchContext, batchDesign, requireBatchLength, requireFinite, requireReferenceRows, requireSeveralBatches } from '../../../src/batch/design.js';
import { kmeans } from './kmeans.js';
import { checkOptions, type Constraints } from '../../../src/batch/options.js';

export interface HarmonyOptions {
  /** Principal components Harmony runs on (capped at min(rows − 1, features)); 0 = the features themselves. Default 50. */
  nComponents?: number;
  /**
   * Solver of that PCA: 'auto' (default) takes the randomized solver (represent/pca.ts) when the
   * table has at least 10 million entries and nComponents < 0.8·min(rows, features) — there the
   * exact solver's min(rows, features)² Gram matrix costs more than the whole of Harmony — and the
   * exact one otherwise; 'full' or 'randomized' force one.
   */
  pcaSolver?: PcaSolver;
  /** Standardise features (mean 0, sd 1 over the fitted rows) before the PCA. Default true. */
  standardize?: boolean;
  /** Clusters K. Default min(round(rows / 30), 100), at least 2. */
  nClusters?: number;
  /** Diversity penalty θ (the same for every batch). Default 2. */
  theta?: number;
  /**
   * Small-batch discount τ of θ, as harmonypy's `tau`: θ_b = θ·(1 − exp(−(N_b / (K·τ))²)), so a batch
   * of few rows is pushed less to spread over clusters. Default 0 (no discount, harmonypy's default).
   */
  tau?: number;
  /** Ridge penalty λ on the batch terms (> 0). Default 1. */
  lambda?: number;
  /** Soft k-means entropy weight σ. Default 0.1. */
  sigma?: number;
  /** Share of rows per responsibility block, in (0, 1]. Default 0.05. */
  blockSize?: number;
  /** Harmony rounds (clustering + correction). Default 10. */
  maxIter?: number;
  /** Soft k-means rounds per Harmony round. Default 20. */
  maxIterKmeans?: number;
  /** Relative objective change ending the soft k-means (window of 3). Default 1e-5. */
  epsilonCluster?: number;
  /** Relative objective change ending Harmony. Default 1e-4. */
  epsilonHarmony?: number;
  /** k-means restarts for the starting centroids. Default 10. */
  nInit?: number;
  /**
   * Rows the starting k-means runs on: all rows up to this many, a seeded sample of this many
   * above (0 = always all rows). Default 20,000. The start only seeds the soft k-means, which then
   * runs on every row.
   */
  kmeansSample?: number;
  /** Lloyd iterations per restart. Default 25. */
  kmeansMaxIter?: number;
  /** Seed of the k-means start and the block orders. Default 0. */
  seed?: number;
  /** 'features' (default): the correction mapped back to the input features; 'embedding': the corrected coordinates. */
  output?: 'features' | 'embedding';
}

export const HARMONY_CONSTRAINTS: Constraints<HarmonyOptions> = {
  nComponents: { kind: 'number', min: 0, integer: true },
  pcaSolver: { kind: 'enum', values: ['auto', 'full', 'randomized'] },
  standardize: { kind: 'boolean' },
  nClusters: { kind: 'number', min: 2, integer: true },
  theta: { kind: 'number', min: 0 },
  tau: { kind: 'number', min: 0 },
  lambda: { kind: 'number', min: 0, minExclusive: true },
  sigma: { kind: 'number', min: 0, minExclusive: true },
  blockSize: { kind: 'number', min: 0, max: 1, minExclusive: true },
  maxIter: { kind: 'number', min: 1, integer: true },
  maxIterKmeans: { kind: 'number', min: 1, integer: true },
  epsilonCluster: { kind: 'number', min: 0 },
  epsilonHarmony: { kind: 'number', min: 0 },
  nInit: { kind: 'number', min: 1, integer: true },
  kmeansSample: { kind: 'number', min: 0, integer: true },
  kmeansMaxIter: { kind: 'number', min: 1, integer: true },
  seed: { kind: 'number', min: 0, integer: true },
  output: { kind: 'enum', values: ['features', 'embedding'] },
};

type Resolved = Required<Omit<HarmonyOptions, 'nClusters'>> & { nClusters?: number };

function resolve(opts: HarmonyOptions): Resolved {
  checkOptions(opts, HARMONY_CONSTRAINTS, 'harmony');
  return {
    nComponents: opts.nComponents ?? 50, pcaSolver: opts.pcaSolver ?? 'auto', standardize: opts.standardize ?? true, nClusters: opts.nClusters, theta: opts.theta ?? 2, tau: opts.tau ?? 0, lambda: opts.lambda ?? 1,
    sigma: opts.sigma ?? 0.1, blockSize: opts.blockSize ?? 0.05, maxIter: opts.maxIter ?? 10, maxIterKmeans: opts.maxIterKmeans ?? 20,
    epsilonCluster: opts.epsilonCluster ?? 1e-5, epsilonHarmony: opts.epsilonHarmony ?? 1e-4, nInit: opts.nInit ?? 10, kmeansSample: opts.kmeansSample ?? 20_000,
    kmeansMaxIter: opts.kmeansMaxIter ?? 25, seed: opts.seed ?? 0, output: opts.output ?? 'features',
  };
}

/** Tables from this many entries (rows × features) on take the randomized PCA under 'auto'. */
export const HARMONY_RANDOMIZED_PCA_ENTRIES = 10_000_000;

/** The PCA solver a Harmony fit on n × d uses for `dims` components. */
export function harmonyPcaSolver(solver: PcaSolver, n: number, d: number, dims: number): Exclude<PcaSolver, 'auto'> {
  if (solver !== 'auto') return solver;
  return n * d >= HARMONY_RANDOMIZED_PCA_ENTRIES && dims < 0.8 * Math.min(n, d) ? 'randomized' : 'full';
}

/** The two independent generators a fit draws from: k-means start, then block orders. */
export function harmonyGenerators(seed: number): { kmeans: Rng; blocks: Rng } {
  const root = new Rng(seed);
  return { kmeans: root.fork(), blocks: root.fork() };
}

/** What the Harmony iterations produce on an embedding. */
export interface HarmonyState {
  /** Corrected embedding (N × dims). */
  readonly corrected: Matrix;
  /** Final centroids (K × dims, unit rows). */
  readonly centroids: Matrix;
  /** Centroids of the k-means start (K × dims, unit rows). */
  readonly initialCentroids: Matrix;
  /** Final responsibilities (N × K). */
  readonly R: Matrix;
  /** Ridge batch terms of the last correction, K × B × dims (intercept dropped). */
  readonly W: Float64Array;
  /** Objective after the start and after each Harmony round's clustering. */
  readonly objective: number[];
  /** Soft k-means rounds run in each Harmony round. */
  readonly kmeansRounds: number[];
  readonly iterations: number;
  readonly converged: boolean;
  /** Seconds spent in the k-means start, the soft k-means rounds and the corrections. */
  readonly seconds: { kmeans: number; cluster: number; correct: number };
}

function normaliseRowsInto(src: Float64Array, dst: Float64Array, n: number, d: number): void {
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += src[o + j]! * src[o + j]!;
    const f = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) dst[o + j] = src[o + j]! * f;
  }
}

/**
 * Row-wise softmax of −dist/σ (max subtracted first), written into out; `logNorm[i]` receives
 * log(out_ik) + dist_ik/σ, so that log out_ik is known without a logarithm per entry.
 */
function softAssign(dist: Float64Array, out: Float64Array, n: number, K: number, sigma: number, logNorm?: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const o = i * K;
    let mx = -Infinity;
    for (let k = 0; k < K; k++) {
      const v = -dist[o + k]! / sigma;
      out[o + k] = v;
      if (v > mx) mx = v;
    }
    let s = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(out[o + k]! - mx);
      out[o + k] = e;
      s += e;
    }
    for (let k = 0; k < K; k++) out[o + k] /= s;
    if (logNorm) logNorm[i] = -mx - Math.log(s);
  }
}

interface BlockWork {
  Rd: Float64Array; Dd: Float64Array; codes: Int32Array; O: Float64Array; E: Float64Array;
  P: Float64Array; logP: Float64Array; blockSum: Float64Array; Pr: Float64Array; theta: Float64Array;
  rowEnt: Float64Array; rowKm: Float64Array; Ofresh: Float64Array; logits: Float64Array;
  N: number; K: number; B: number; nBlocks: number; sigma: number;
}

/**
 * One soft k-means update of R, as harmonypy's `update_R`: the rows in random blocks, each block
 * taken out of O and E, its responsibilities recomputed as exp(−dist/σ − max)·((E + 1)/(O + 1))^θ
 * normalised per row, and put back. The same pass keeps, per row, Σ R log R (log R is the row's
 * logits plus θ·log((E+1)/(O+1)) minus its log normaliser: no logarithm per entry) and Σ R⊙dist,
 * and the column sums of the new R per batch — everything the objective needs.
 */
function updateBlocks(w: BlockWork, order: Int32Array): void {
  const { Rd, Dd, codes, O, E, P, logP, blockSum, Pr, theta, rowEnt, rowKm, Ofresh, logits, N, K, B, nBlocks, sigma } = w;
  // Products with reciprocals instead of a division per entry (within an ulp of harmonypy's).
  const negInvSigma = -1 / sigma;
  const base = Math.floor(N / nBlocks), extra = N % nBlocks;
  Ofresh.fill(0);
  let start = 0;
  for (let bk = 0; bk < nBlocks; bk++) {
    const size = base + (bk < extra ? 1 : 0);
    if (size === 0) continue;
    const end = start + size;
    // Within a block every row is updated from the same E and O: walking its rows in memory
    // order changes only the summation order of the block's totals, and saves cache misses.
    order.subarray(start, end).sort();
    blockSum.fill(0);
    addRowMasses({ R: Rd, codes, rows: order, t0: start, t1: end, K, sum: blockSum, O, subtract: true });
    for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) E[b * K + k] -= blockSum[k]! * Pr[b]!;
    for (let t = 0; t < K * B; t++) {
      const ratio = (E[t]! + 1) / (O[t]! + 1), th = theta[(t / K) | 0]!;
      // θ = 2 (the default): Math.pow(x, 2) is x·x exactly (V8 special-cases it), without the call.
      P[t] = th === 2 ? ratio * ratio : Math.pow(ratio, th);
      logP[t] = th * Math.log(ratio);
    }
    // The rows' new responsibilities (independent given E and O: native, threaded), then their
    // masses added back in row order.
    penalisedSoftmaxRows({ D: Dd, R: Rd, P, logP, codes, rows: order, t0: start, t1: end, K, c: negInvSigma, ent: rowEnt, km: rowKm }, logits);
    blockSum.fill(0);
    addRowMasses({ R: Rd, codes, rows: order, t0: start, t1: end, K, sum: blockSum, O, subtract: false, F: Ofresh });
    for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) E[b * K + k] += blockSum[k]! * Pr[b]!;
    start = end;
  }
}

/** dist = 2·(1 − Zcos·Yᵀ), N × K. */
function cosineDistances(Zcos: Matrix, Y: Matrix, out?: Matrix): Matrix {
  const D = gemmNT(Zcos, Y, out);
  const d = D.data;
  for (let t = 0; t < d.length; t++) d[t] = 2 * (1 - d[t]!);
  return D;
}

interface Blocks {
  /** Row indices per batch (ascending). */
  byBatch: Int32Array[];
}

/**
 * Closed-form solution of one cluster's arrowhead ridge system, as harmonypy's
 * W = (Φ_Rk·Φᵀ + diag(0, λ, …, λ))⁻¹·Φ_Rk·Zᵀ: with o_b = Σ_{i∈b} R_ik and r_b = Σ_{i∈b} R_ik·z_i,
 * the intercept w0 solves (Σ_b o_b·λ/(o_b + λ))·w0 = r_0 − Σ_b o_b·r_b/(o_b + λ) (r_0 = Σ_b r_b plus
 * any reference terms), and w_b = (r_b − o_b·w0)/(o_b + λ). Writes the batch terms into W at
 * offset (k·B)·dims.
 */
function solveArrowhead(
  o: Float64Array, r: Float64Array, r0: Float64Array, n0: number, lambda: number, dims: number, W: Float64Array, off: number,
): void {
  const B = o.length;
  let a = n0;
  for (let b = 0; b < B; b++) a += (o[b]! * lambda) / (o[b]! + lambda);
  const w0 = new Float64Array(dims);
  for (let j = 0; j < dims; j++) {
    let s = r0[j]!;
    for (let b = 0; b < B; b++) s -= (o[b]! * r[b * dims + j]!) / (o[b]! + lambda);
    w0[j] = s / a;
  }
  for (let b = 0; b < B; b++) {
    const f = 1 / (o[b]! + lambda);
    for (let j = 0; j < dims; j++) W[off + b * dims + j] = (r[b * dims + j]! - o[b]! * w0[j]!) * f;
  }
}

/**
 * Harmony on an embedding Z (N × dims) with batch codes 0..B−1. `init` (K × dims) replaces the
 * k-means start (for parity with another implementation); the block orders still come from
 * `seed`. Exposed for tests and for callers that bring their own embedding.
 */
export function harmonyIterate(Z: Matrix, codes: Int32Array, B: number, opts: HarmonyOptions = {}, init?: Matrix): HarmonyState {
  const o = resolve(opts);
  const N = Z.rows, dims = Z.cols;
  const K = o.nClusters ?? Math.max(2, Math.min(Math.round(N / 30), 100));
  if (K > N) throw new InputError(`harmony: ${K} clusters for ${N} rows; set nClusters ≤ ${N}`);
  const gens = harmonyGenerators(o.seed);
  const seconds = { kmeans: 0, cluster: 0, correct: 0 };
  const Zcos = zeros(N, dims);
  normaliseRowsInto(Z.data, Zcos.data, N, dims);
  for (let t = 0; t < Zcos.data.length; t++) {
    if (!Number.isFinite(Zcos.data[t]!)) throw new InputError(`harmony: row ${Math.floor(t / dims) + 1} of the embedding is all zeros (it has no direction to normalise)`);
  }
  let Y: Matrix;
  if (init) {
    if (init.rows !== K || init.cols !== dims) throw new InputError(`harmony: initial centroids are ${init.rows} × ${init.cols}, expected ${K} × ${dims}`);
    Y = zeros(K, dims);
    normaliseRowsInto(init.data, Y.data, K, dims);
  } else {
    const t0 = performance.now();
    let start = Zcos;
    if (o.kmeansSample > 0 && N > o.kmeansSample) {
      const pick = gens.kmeans.permutation(N).subarray(0, o.kmeansSample).sort();
      start = zeros(pick.length, dims);
      pick.forEach((i, r) => start.data.set(Zcos.data.subarray(i * dims, (i + 1) * dims), r * dims));
    }
    if (K > start.rows) throw new InputError(`harmony: ${K} clusters for a k-means start on ${start.rows} rows; raise kmeansSample or lower nClusters`);
    const km = kmeans(start, K, gens.kmeans, { nInit: o.nInit, maxIter: o.kmeansMaxIter });
    seconds.kmeans = (performance.now() - t0) / 1000;
    Y = zeros(K, dims);
    normaliseRowsInto(km.centers.data, Y.data, K, dims);
  }
  const initialCentroids: Matrix = { rows: K, cols: dims, data: Y.data.slice() };
  const counts = new Float64Array(B);
  for (let i = 0; i < N; i++) counts[codes[i]!]!++;
  const Pr = counts.map((c) => c / N);
  const theta = new Float64Array(B).fill(o.theta);
  if (o.tau > 0) for (let b = 0; b < B; b++) theta[b] = o.theta * (1 - Math.exp(-((counts[b]! / (K * o.tau)) ** 2)));
  const byBatch: Int32Array[] = Array.from({ length: B }, () => new Int32Array(0));
  {
    const lists: number[][] = Array.from({ length: B }, () => []);
    for (let i = 0; i < N; i++) lists[codes[i]!]!.push(i);
    lists.forEach((l, b) => (byBatch[b] = Int32Array.from(l)));
  }
  const blocks: Blocks = { byBatch };

  const dist = cosineDistances(Zcos, Y);
  const R = zeros(N, K);
  // Σ_k R_ik·log R_ik per row, kept up to date as R changes: log R_ik is −dist_ik/σ plus a row
  // constant (and θ·log((E+1)/(O+1)) after an update), so the entropy needs no N × K logarithms.
  const rowEnt = new Float64Array(N);
  const logNorm = new Float64Array(N);
  softAssign(dist.data, R.data, N, K, o.sigma, logNorm);
  for (let i = 0; i < N; i++) {
    const ro = i * K;
    let a = 0, t = 0;
    for (let k = 0; k < K; k++) {
      const r = R.data[ro + k]!;
      a -= (r * dist.data[ro + k]!) / o.sigma;
      t += r;
    }
    rowEnt[i] = a + logNorm[i]! * t;
  }
  // E (expected) and O (observed) cluster × batch masses, stored batch-major (b·K + k).
  const E = new Float64Array(K * B), O = new Float64Array(K * B);
  const colSum = new Float64Array(K);
  for (let i = 0; i < N; i++) {
    const ro = i * K, b = codes[i]!;
    for (let k = 0; k < K; k++) {
      colSum[k] += R.data[ro + k]!;
      O[b * K + k] += R.data[ro + k]!;
    }
  }
  for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) E[b * K + k] = colSum[k]! * Pr[b]!;

  // harmonypy's objective: Σ R⊙dist + σ·Σ R log R + σ·Σ_ik R_ik·θ_b(i)·log((O+1)/(E+1))_k,b(i); the
  // first two per row (rowKm, rowEnt), the last per (batch, cluster) through column sums of R.
  const Ofresh = new Float64Array(K * B);
  const rowKm = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const ro = i * K, bo = codes[i]! * K;
    let km = 0;
    for (let k = 0; k < K; k++) {
      const r = R.data[ro + k]!;
      km += r * dist.data[ro + k]!;
      Ofresh[bo + k] += r;
    }
    rowKm[i] = km;
  }
  const objectiveOf = (): number => {
    let km = 0, ent = 0, cross = 0;
    for (let i = 0; i < N; i++) {
      km += rowKm[i]!;
      ent += rowEnt[i]!;
    }
    for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) cross += theta[b]! * Math.log((O[b * K + k]! + 1) / (E[b * K + k]! + 1)) * Ofresh[b * K + k]!;
    return km + o.sigma * ent + o.sigma * cross;
  };

  const objKmeans: number[] = [objectiveOf()];
  const objective: number[] = [objKmeans[0]!];
  const nBlocks = Math.ceil(1 / o.blockSize);
  const ws: BlockWork = {
    Rd: R.data, Dd: dist.data, codes, O, E, P: new Float64Array(K * B), logP: new Float64Array(K * B), blockSum: new Float64Array(K), Pr, theta,
    rowEnt, rowKm, Ofresh, logits: new Float64Array(K), N, K, B, nBlocks, sigma: o.sigma,
  };
  const updateR = (): void => updateBlocks(ws, gens.blocks.permutation(N));

  // Per-batch copies of the uncorrected embedding, for the correction's products.
  const Zb = blocks.byBatch.map((rows) => {
    const M = zeros(rows.length, dims);
    rows.forEach((i, r) => M.data.set(Z.data.subarray(i * dims, (i + 1) * dims), r * dims));
    return M;
  });
  const corrected = zeros(N, dims);
  corrected.data.set(Z.data);
  const W = new Float64Array(K * B * dims);
  // Buffers of the correction step, reused every round (fresh N × K arrays cost page faults).
  const Rb = blocks.byBatch.map((rows) => zeros(rows.length, K));
  const Sbuf = new Float64Array(Math.max(...blocks.byBatch.map((r) => r.length)) * dims);
  const oKB = new Float64Array(K * B);
  const rKB = new Float64Array(K * B * dims);
  const kmeansRounds: number[] = [];
  let iterations = 0, converged = false;
  for (let it = 1; it <= o.maxIter; it++) {
    const tc = performance.now();
    let i = 0;
    for (; i < o.maxIterKmeans; i++) {
      const Yraw = gemmTN(R, Zcos);
      normaliseRowsInto(Yraw.data, Y.data, K, dims);
      cosineDistances(Zcos, Y, dist);
      updateR();
      objKmeans.push(objectiveOf());
      if (i > 3) {
        const L = objKmeans.length;
        let old = 0, now = 0;
        for (let w = 0; w < 3; w++) {
          old += objKmeans[L - 2 - w]!;
          now += objKmeans[L - 1 - w]!;
        }
        if (Math.abs(old - now) / Math.abs(old) < o.epsilonCluster) {
          i++;
          break;
        }
      }
    }
    kmeansRounds.push(i);
    objective.push(objKmeans[objKmeans.length - 1]!);
    const tm = performance.now();
    seconds.cluster += (tm - tc) / 1000;
    // Mixture-of-experts ridge correction, from the uncorrected embedding.
    oKB.fill(0);
    for (let b = 0; b < B; b++) {
      const rows = blocks.byBatch[b]!, Rm = Rb[b]!;
      for (let t = 0; t < rows.length; t++) Rm.data.set(R.data.subarray(rows[t]! * K, (rows[t]! + 1) * K), t * K);
      const T = gemmTN(Rm, Zb[b]!); // K × dims
      for (let t = 0; t < rows.length; t++) for (let k = 0; k < K; k++) oKB[k * B + b] += Rm.data[t * K + k]!;
      for (let k = 0; k < K; k++) rKB.set(T.data.subarray(k * dims, (k + 1) * dims), (k * B + b) * dims);
    }
    const r0 = new Float64Array(dims);
    for (let k = 0; k < K; k++) {
      r0.fill(0);
      for (let b = 0; b < B; b++) for (let j = 0; j < dims; j++) r0[j] += rKB[(k * B + b) * dims + j]!;
      solveArrowhead(oKB.subarray(k * B, (k + 1) * B), rKB.subarray(k * B * dims, (k + 1) * B * dims), r0, 0, o.lambda, dims, W, k * B * dims);
    }
    for (let b = 0; b < B; b++) {
      const Wb = zeros(K, dims);
      for (let k = 0; k < K; k++) Wb.data.set(W.subarray((k * B + b) * dims, (k * B + b + 1) * dims), k * dims);
      const rows = blocks.byBatch[b]!;
      const S = gemm(Rb[b]!, Wb, { rows: rows.length, cols: dims, data: Sbuf.subarray(0, rows.length * dims) });
      for (let t = 0; t < rows.length; t++) {
        const i = rows[t]!;
        for (let j = 0; j < dims; j++) corrected.data[i * dims + j] = Z.data[i * dims + j]! - S.data[t * dims + j]!;
      }
    }
    normaliseRowsInto(corrected.data, Zcos.data, N, dims);
    seconds.correct += (performance.now() - tm) / 1000;
    iterations = it;
    const L = objective.length;
    if ((objective[L - 2]! - objective[L - 1]!) / Math.abs(objective[L - 2]!) < o.epsilonHarmony) {
      converged = true;
      break;
    }
  }
  return { corrected, centroids: Y, initialCentroids, R, W, objective, kmeansRounds, iterations, converged, seconds };
}

export interface HarmonyModel {
  readonly kind: 'harmony';
  readonly options: Readonly<Resolved & { nClusters: number }>;
  readonly features: readonly string[];
  /** Input names (output 'features') or harmony_1… (output 'embedding'). */
  readonly outputFeatures: readonly string[];
  readonly levels: readonly string[];
  /** Feature centre and scale applied before the PCA (zeros / ones without standardisation). */
  readonly center: Float64Array;
  readonly scale: Float64Array;
  /** PCA mean (of the standardised features) and axes (dims × d); absent when nComponents = 0. */
  readonly pcaMean?: Float64Array;
  readonly components?: Matrix;
  readonly centroids: Matrix;
  readonly initialCentroids: Matrix;
  /** K × B × dims fitted batch terms. */
  readonly W: Float64Array;
  /** Symphony's reference compression: N_k = Σ_i R_ik and C_k = Σ_i R_ik·z*_i. */
  readonly Nr: Float64Array;
  readonly C: Matrix;
  readonly objective: readonly number[];
  readonly kmeansRounds: readonly number[];
  readonly iterations: number;
  readonly converged: boolean;
  /** Features with zero variance on the fitted rows (kept, not scaled). */
  readonly constantFeatures: readonly string[];
  /** Seconds per step of the fit (standardise, PCA, k-means start, soft k-means, corrections, output). */
  readonly seconds: Readonly<Record<string, number>>;
}

const METHOD = 'Harmony';

/** The embedding of profile rows under a fitted model's standardisation and PCA. */
function embed(model: Pick<HarmonyModel, 'center' | 'scale' | 'pcaMean' | 'components'>, X: StoredMatrix): { Xs: Matrix; Z: Matrix } {
  const n = X.rows, d = X.cols;
  const Xs = zeros(n, d);
  standardizeColumns(X, Int32Array.from({ length: d }, (_, j) => j), model.center, model.scale, Xs.data);
  if (!model.components) return { Xs, Z: Xs };
  const pca = Object.assign(new PCA(), { mean: model.pcaMean!, components: model.components });
  return { Xs, Z: pca.transform(Xs) };
}

/** Output rows from an embedding and its correction (features: x + (z* − z)·V·scale). */
function output(model: Pick<HarmonyModel, 'center' | 'scale' | 'components' | 'options'>, Xs: Matrix, Z: Matrix, Zc: Matrix): Matrix {
  if (model.options.output === 'embedding') return Zc;
  const n = Xs.rows, d = Xs.cols;
  if (model.components) {
    const dims = Z.cols, BLOCK = 1024;
    const diff = new Float64Array(Math.min(BLOCK, Math.max(n, 1)) * dims);
    for (let r0 = 0; r0 < n; r0 += BLOCK) {
      const r1 = Math.min(n, r0 + BLOCK);
      for (let t = 0; t < (r1 - r0) * dims; t++) diff[t] = Zc.data[r0 * dims + t]! - Z.data[r0 * dims + t]!;
      const D = gemm({ rows: r1 - r0, cols: dims, data: diff.subarray(0, (r1 - r0) * dims) }, model.components);
      for (let t = 0; t < (r1 - r0) * d; t++) Xs.data[r0 * d + t] += D.data[t]!;
    }
  } else {
    Xs.data.set(Zc.data);
  }
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) Xs.data[o + j] = Xs.data[o + j]! * model.scale[j]! + model.center[j]!;
  }
  return Xs;
}

/**
 * Standardise → PCA → Harmony on the rows of X, returning the fitted model and the corrected rows
 * (features, or the embedding with `output: 'embedding'`).
 *
 * @example
 * const { model, corrected } = fitTransformHarmony(X, plateOfRow, { seed: 0 });
 * const newPlate = mapHarmony(model, Xnew, plateOfNewRows, { unseen: 'estimate' }); // Symphony-style
 */
export function fitTransformHarmony(
  X: StoredMatrix, batch: readonly (string | null)[], opts: HarmonyOptions = {}, ctx: BatchContext = {},
): { model: HarmonyModel; corrected: Matrix; state: HarmonyState } {
  const o = resolve(opts);
  requireBatchLength(X.rows, batch, METHOD);
  const design = batchDesign(batch, ctx);
  requireSeveralBatches(design, ctx);
  requireReferenceRows(design, METHOD, 'a batch of one row cannot be told apart from its own batch effect', ctx);
  requireFinite(X, METHOD, ctx);
  const n = X.rows, d = X.cols;
  const t0 = performance.now();
  const center = new Float64Array(d), scale = new Float64Array(d).fill(1);
  const constant: string[] = [];
  if (o.standardize) {
    // The z-score kernels' two passes (sum, then residual moments about the first mean).
    const m = columnMoments(X);
    for (let j = 0; j < d; j++) {
      center[j] = m.mean0[j]! + m.res[j]! / n;
      const v = (m.ss[j]! - (m.res[j]! * m.res[j]!) / n) / n;
      if (m.varies[j] && v > 0) scale[j] = Math.sqrt(v);
      else constant.push(ctx.features?.[j] ?? `#${j + 1}`);
    }
  }
  const dims = o.nComponents === 0 ? d : Math.min(o.nComponents, n - 1, d);
  let pcaMean: Float64Array | undefined, components: Matrix | undefined;
  const Xs = zeros(n, d);
  standardizeColumns(X, Int32Array.from({ length: d }, (_, j) => j), center, scale, Xs.data);
  let Z: Matrix = Xs;
  const t1 = performance.now();
  if (o.nComponents !== 0) {
    const pca = new PCA({ nComponents: dims, solver: harmonyPcaSolver(o.pcaSolver, n, d, dims), seed: o.seed });
    Z = pca.fitTransform(Xs);
    pcaMean = pca.mean!;
    components = pca.components!;
  }
  const t2 = performance.now();
  const state = harmonyIterate(Z, design.codes, design.levels.length, o);
  const t3 = performance.now();
  const K = state.centroids.rows;
  const Nr = new Float64Array(K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) Nr[k] += state.R.data[i * K + k]!;
  const C = gemmTN(state.R, state.corrected);
  const model: HarmonyModel = {
    kind: 'harmony', options: { ...o, nClusters: K }, features: ctx.features ? [...ctx.features] : [],
    outputFeatures: o.output === 'features' ? (ctx.features ? [...ctx.features] : []) : Array.from({ length: Z.cols }, (_, k) => `harmony_${k + 1}`),
    levels: design.levels, center, scale, pcaMean, components, centroids: state.centroids, initialCentroids: state.initialCentroids,
    W: state.W, Nr, C, objective: state.objective, kmeansRounds: state.kmeansRounds, iterations: state.iterations, converged: state.converged,
    constantFeatures: constant, seconds: {},
  };
  const corrected = output(model, Xs, Z, state.corrected);
  const sec = (a: number, b: number) => (b - a) / 1000;
  Object.assign(model.seconds, {
    standardize: sec(t0, t1), pca: sec(t1, t2), kmeans: state.seconds.kmeans, cluster: state.seconds.cluster,
    correct: state.seconds.correct, output: sec(t3, performance.now()),
  });
  return { model, corrected, state };
}

export interface HarmonyMapOptions {
  /** Rows of batches the model has not seen: refuse (default), or map them as Symphony does. */
  unseen?: 'error' | 'estimate';
  ctx?: BatchContext;
}

/** Place new rows on a fitted Harmony reference (see the file header: not the same as fitTransform). */
export function mapHarmony(model: HarmonyModel, X: StoredMatrix, batch: readonly (string | null)[], opts: HarmonyMapOptions = {}): Matrix {
  const ctx = opts.ctx ?? {};
  if (X.cols !== model.center.length) throw new InputError(`${METHOD}: the data have ${X.cols} features, the model was fitted on ${model.center.length}`);
  requireBatchLength(X.rows, batch, METHOD);
  requireFinite(X, METHOD, ctx);
  const design = batchDesign(batch, ctx);
  const seen = new Map(model.levels.map((l, k) => [l, k]));
  const unseen = design.levels.filter((l) => !seen.has(l));
  if (unseen.length && (opts.unseen ?? 'error') === 'error') {
    throw new InputError(
      `${METHOD}: batch ${unseen.map((u) => `"${u}"`).join(', ')} of column "${ctx.column ?? 'batch'}" was not in the fit (fitted: ${model.levels.join(', ')}); ` +
        'map new batches explicitly (unseen: estimate, Symphony\'s query mapping) or refit with them',
    );
  }
  const { Xs, Z } = embed(model, X);
  const n = X.rows, dims = Z.cols, K = model.centroids.rows, B = model.levels.length;
  const Zcos = zeros(n, dims);
  normaliseRowsInto(Z.data, Zcos.data, n, dims);
  const dist = cosineDistances(Zcos, model.centroids);
  const R = zeros(n, K);
  softAssign(dist.data, R.data, n, K, model.options.sigma);
  const Zc = zeros(n, dims);
  Zc.data.set(Z.data);
  // Seen batches: the fitted ridge terms.
  for (let i = 0; i < n; i++) {
    const b = seen.get(design.levels[design.codes[i]!]!);
    if (b === undefined) continue;
    for (let k = 0; k < K; k++) {
      const r = R.data[i * K + k]!, off = (k * B + b) * dims;
      for (let j = 0; j < dims; j++) Zc.data[i * dims + j] -= r * model.W[off + j]!;
    }
  }
  if (unseen.length) {
    // Symphony: one ridge system per cluster over the query batches, the reference on the intercept.
    const U = unseen.length;
    const uIndex = new Map(unseen.map((u, t) => [u, t]));
    const qo = new Float64Array(K * U), qr = new Float64Array(K * U * dims);
    const rowsU: number[][] = unseen.map(() => []);
    for (let i = 0; i < n; i++) {
      const u = uIndex.get(design.levels[design.codes[i]!]!);
      if (u === undefined) continue;
      rowsU[u]!.push(i);
      for (let k = 0; k < K; k++) {
        const r = R.data[i * K + k]!;
        qo[k * U + u] += r;
        const off = (k * U + u) * dims;
        for (let j = 0; j < dims; j++) qr[off + j] += r * Z.data[i * dims + j]!;
      }
    }
    const Wq = new Float64Array(K * U * dims);
    const r0 = new Float64Array(dims);
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < dims; j++) r0[j] = model.C.data[k * dims + j]!;
      for (let u = 0; u < U; u++) for (let j = 0; j < dims; j++) r0[j] += qr[(k * U + u) * dims + j]!;
      solveArrowhead(qo.subarray(k * U, (k + 1) * U), qr.subarray(k * U * dims, (k + 1) * U * dims), r0, model.Nr[k]!, model.options.lambda, dims, Wq, k * U * dims);
    }
    rowsU.forEach((rows, u) => {
      for (const i of rows) {
        for (let k = 0; k < K; k++) {
          const r = R.data[i * K + k]!, off = (k * U + u) * dims;
          for (let j = 0; j < dims; j++) Zc.data[i * dims + j] -= r * Wq[off + j]!;
        }
      }
    });
  }
  return output(model, Xs, Z, Zc);
}
