// Frozen copy of the fitting loop of src/batch/harmony.ts as of 20fe7ae (before issue-24-s8c kept
// its work buffers): `harmonyIterate` and the private helpers it calls, the plain form the
// restructured loop must match bit for bit (test/batch/harmony-identity.test.ts). What that change
// did not touch (the options, the generators, the PCA and output around the loop) comes from src.
import { type Matrix, gemm, gemmNT, gemmTN, addRowMasses, penalisedSoftmaxRows, zeros } from '../../../src/linalg/index.js';
import { InputError } from '../../../src/util/errors.js';
import { HARMONY_CONSTRAINTS, harmonyGenerators, type HarmonyOptions, type HarmonyState } from '../../../src/batch/harmony.js';
import { kmeans } from './kmeans.js';
import { checkOptions } from '../../../src/batch/options.js';

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
