/**
 * Dense affinity propagation (Frey & Dueck 2007), bit-compatible with scikit-learn 1.2
 * `sklearn.cluster._affinity_propagation._affinity_propagation`.
 *
 * Compatibility points (each reproduces sklearn's floating-point operation order, so labels and
 * iteration counts are identical given the same S and noise matrix):
 * - S[k,k] = preference (default: numpy median of all n² entries of S, zero diagonal included);
 *   then S += (eps·S + 100·tiny)·N, N standard normal (only breaks exact ties).
 * - Responsibilities: tmp = A + S, first argmax I and value Y per row, second max Y2 (the max with
 *   tmp[I] = −inf); Rnew = S − Y except Rnew[i,I] = S[i,I] − Y2; R = R·d + Rnew·(1−d).
 * - Availabilities: Rp = max(R, 0) with diag(Rp) = diag(R); colsum accumulated row by row (numpy's
 *   axis-0 reduction order); t = Rp − colsum, clipped at 0 off the diagonal; A = A·d − t·(1−d).
 * - Convergence: E = diag(A) + diag(R) > 0; from iteration index convergence_iter on, stop when
 *   every point's E was constant over the last convergence_iter iterations and some E is true.
 *   `nIter` equals sklearn's `n_iter_` (it + 1 at the break, max_iter otherwise).
 * - Labels: argmax over exemplar columns of S (first on ties), exemplars pinned to themselves,
 *   each exemplar refined to the member with the largest within-cluster column sum of S, then
 *   reassigned; clusters numbered by ascending exemplar row index.
 *
 * Engines: the message passing runs on the native addon's sweep when it is built, else on the
 * wasm SIMD kernel (src/linalg/apKernel.ts; both entry-for-entry twins of `fusedPass` below); the
 * JS code below is the last fallback (no addon, PHENOMAP_NO_WASM=1 or no SIMD) and the reference
 * the kernels are tested against.
 *
 * Speed/memory (why it is written this way): AP is memory-bound. One fused streaming pass per
 * iteration updates the availabilities of iteration t and the responsibilities of iteration t+1
 * row by row (a row of R, A and S stays in cache between the sub-loops), so each iteration reads
 * S, R, A once and writes R, A once; the only n² arrays are S (working copy), R and A. Column sums
 * are accumulated into a length-n vector while streaming rows, and the convergence history is a
 * per-point run-length counter, which reproduces sklearn's n × convergence_iter e-matrix test.
 */
import type { Matrix } from '../linalg/matrix.js';
import { medianNoCopy } from '../linalg/select.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../linalg/rng.js';
import { apWorkspace, linalgBackend, prestartApHelper, type ApWorkspace } from '../linalg/index.js';
import { silentReporter, type Reporter } from '../util/log.js';
import {
  degenerateRun, DampingController, finishRun, prepareAndAdapt, runOnce, validateApParams, type AdaptiveDampingOptions, type DampingAttempt,
} from './apShared.js';

export interface AffinityPropagationOptions {
  /** Scalar or per-point preference (diagonal of S). Default: median of all n² entries of S. */
  preference?: number | Float64Array;
  /** In [0.5, 1). Default 0.5. */
  damping?: number;
  /** Default 200. */
  maxIter?: number;
  /** Default 15. */
  convergenceIter?: number;
  /**
   * Tie-breaking noise: a given n×n standard-normal matrix (e.g. sklearn's draw), a seed for
   * phenomap's own generator (default { seed: 0 }), or 'none'.
   */
  noise?: Matrix | { seed: number } | 'none';
  /** Work on a copy of S (default true). With false, S.data is overwritten (diagonal + noise). */
  copy?: boolean;
  /**
   * Threads for the message passing (results are bit-identical for any count). Default: up to 2
   * (the cores available, or PHENOMAP_THREADS) when n ≥ 1,000, else 1. The native sweep uses at
   * most 2 at any n; the wasm kernel at most 2, and only up to n ≈ 3,300 (its resident
   * workspace); above, it runs on 1. The JS fallback is single-threaded.
   */
  threads?: number;
  reporter?: Reporter;
}

export interface AffinityPropagationResult {
  /** Cluster index per row (0..K−1), or −1 for every row when no exemplar emerged. */
  labels: Int32Array;
  /** Row index of each cluster's exemplar, ascending; label k ↔ exemplars[k]. */
  exemplars: Int32Array;
  /** Iterations run (sklearn's n_iter_); 0 for the degenerate shortcuts. */
  nIter: number;
  converged: boolean;
  /** The preference used (for a per-point preference vector: its median). */
  preference: number;
  damping: number;
  warnings: string[];
  /** Number of exemplar candidates (diag(A)+diag(R) > 0) after each iteration. */
  exemplarTrace: Int32Array;
  /** Wall-clock milliseconds: preference/noise preparation, message passing, label assignment. */
  timings: { prepareMs: number; iterateMs: number; labelsMs: number };
}

export interface AffinityPropagationRetryResult extends AffinityPropagationResult {
  /** Every attempt in order; the last one is the returned result. */
  attempts: DampingAttempt[];
}

const EPS = 2.220446049250313e-16;
const TINY100 = 2.2250738585072014e-308 * 100;

interface Prepared {
  n: number;
  S: Float64Array;
  preference: number;
  warnings: string[];
  /** The native or wasm workspace holding S (and R, A) when a kernel runs the message passing. */
  ws?: ApWorkspace;
  /** Set when sklearn's degenerate shortcut applies. */
  degenerate?: { labels: Int32Array; exemplars: Int32Array };
}

function validateParams(opts: AffinityPropagationOptions): void {
  validateApParams('affinity propagation', opts);
}

/** Shape/parameter checks and one pass over S for finiteness, returning S's value range. */
function validate(S: Matrix, opts: AffinityPropagationOptions): { lo: number; hi: number } {
  if (S.rows !== S.cols) throw new InputError(`affinity propagation: the similarity matrix must be square, got ${S.rows}×${S.cols}`);
  if (S.rows === 0) throw new InputError('affinity propagation: the similarity matrix is empty');
  validateParams(opts);
  const data = S.data;
  // Branch-free scan (3× faster than testing each value): v − v is 0 for finite v and NaN for
  // ±Infinity and NaN, so `bad` stays 0 exactly when every value is finite.
  let lo = Infinity, hi = -Infinity, bad = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    bad += v - v;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (bad !== 0) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) {
        const r = Math.floor(i / S.cols);
        throw new InputError(`affinity propagation: similarity matrix has a non-finite value at row ${r}, column ${i - r * S.cols}`);
      }
    }
  }
  return { lo, hi };
}

const MEDIAN_BUCKETS = 1 << 16;

/**
 * numpy's median of the finite values in `data` (range [lo, hi] known from validation): one
 * histogram pass over 65,536 equal-width buckets (the bucket index is monotone in the value, so
 * the middle order statistics fall in known buckets), then the one or two buckets holding them are
 * collected and sorted. The selection is exact; only the work differs from `medianNoCopy`, which
 * takes over when the values crowd into one bucket.
 */
function medianOfRange(data: Float64Array, lo: number, hi: number): number {
  const len = data.length;
  if (len <= 1 << 12 || !(hi > lo)) return medianNoCopy(data);
  const B = MEDIAN_BUCKETS;
  // (v − lo)·scale ∈ [0, B] (rounding may reach B): truncation is floor here, and bucket B (only
  // values at or rounding up to hi) is a bucket like the others — one more slot, no clamp.
  const scale = B / (hi - lo);
  const counts = new Int32Array(B + 1);
  for (let i = 0; i < len; i++) counts[((data[i]! - lo) * scale) | 0]!++;
  const h = len >> 1;
  const k1 = len % 2 ? h : h - 1; // 0-based ranks of the middle values k1 ≤ k2
  const k2 = h;
  let b1 = -1, b2 = -1, before1 = 0, acc = 0;
  for (let b = 0; b <= B; b++) {
    const c = counts[b]!;
    if (b1 < 0 && acc + c > k1) {
      b1 = b;
      before1 = acc;
    }
    if (acc + c > k2) {
      b2 = b;
      break;
    }
    acc += c;
  }
  // Buckets strictly between b1 and b2 are empty (the two values are adjacent in sorted order).
  const m = counts[b1]! + (b2 !== b1 ? counts[b2]! : 0);
  if (m > 1 << 20) return medianNoCopy(data);
  const vals = new Float64Array(m);
  let q = 0;
  for (let i = 0; i < len; i++) {
    const v = data[i]!;
    const b = ((v - lo) * scale) | 0;
    if (b === b1 || b === b2) vals[q++] = v;
  }
  vals.sort();
  const a = vals[k1 - before1]!, c = vals[k2 - before1]!;
  return len % 2 ? c : (a + c) / 2;
}

/**
 * Start the worker a run on n points will use (if any) without waiting for it, so its boot
 * overlaps the caller's next step (computing S). Optional; results do not depend on it.
 */
export function prestartAffinityPropagation(n: number, opts: Pick<AffinityPropagationOptions, 'threads'> = {}): void {
  if (resolveThreads(n, opts) > 1) prestartApHelper();
}

function resolveThreads(n: number, opts: Pick<AffinityPropagationOptions, 'threads'>): number {
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new InputError(`affinity propagation: threads must be an integer ≥ 1, got ${opts.threads}`);
    return Math.min(opts.threads, n);
  }
  // PHENOMAP_THREADS=1 (linalgBackend().threads) keeps AP on one thread like the products.
  return n >= 1000 ? Math.min(2, linalgBackend().threads) : 1;
}

/** Preference, degenerate check, diagonal and noise — what sklearn does before iterating. */
function prepare(Sm: Matrix, opts: AffinityPropagationOptions): Prepared {
  const range = validate(Sm, opts);
  const n = Sm.rows;
  const warnings: string[] = [];
  const prefOpt = opts.preference;
  let prefVec: Float64Array | undefined;
  let prefScalar: number;
  if (prefOpt instanceof Float64Array) {
    if (prefOpt.length !== n) throw new InputError(`affinity propagation: preference vector has ${prefOpt.length} values, expected ${n}`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(prefOpt[i]!)) throw new InputError(`affinity propagation: preference[${i}] is not finite`);
    prefVec = prefOpt;
    prefScalar = medianNoCopy(prefOpt);
  } else if (prefOpt !== undefined) {
    if (!Number.isFinite(prefOpt)) throw new InputError(`affinity propagation: preference must be finite, got ${prefOpt}`);
    prefScalar = prefOpt;
  } else {
    prefScalar = medianOfRange(Sm.data, range.lo, range.hi);
  }

  // sklearn's shortcut: n = 1, or all off-diagonal similarities equal and all preferences equal.
  const src = Sm.data;
  let degenerate = n === 1;
  if (!degenerate) {
    let prefsEqual = true;
    if (prefVec) for (let i = 1; i < n && prefsEqual; i++) if (prefVec[i] !== prefVec[0]) prefsEqual = false;
    if (prefsEqual) {
      const ref = src[1]!;
      let same = true;
      for (let i = 0; i < n && same; i++) {
        const o = i * n;
        for (let j = 0; j < n; j++) {
          if (j !== i && src[o + j] !== ref) {
            same = false;
            break;
          }
        }
      }
      degenerate = same;
    }
  }
  if (degenerate) {
    const p0 = prefVec ? prefVec[0]! : prefScalar;
    const eachOwn = p0 >= src[n - 1]!;
    warnings.push(
      n === 1
        ? 'affinity propagation: only one sample; returning it as its own cluster'
        : `affinity propagation: all samples have mutually equal similarities; returning ${eachOwn ? 'every sample as its own cluster (preference ≥ similarity)' : 'a single cluster with sample 0 as centre (preference < similarity)'} (as sklearn)`,
    );
    const labels = new Int32Array(n);
    let exemplars: Int32Array;
    if (eachOwn) {
      exemplars = new Int32Array(n);
      for (let i = 0; i < n; i++) labels[i] = exemplars[i] = i;
    } else {
      exemplars = new Int32Array([0]);
    }
    return { n, S: src, preference: prefScalar, warnings, degenerate: { labels, exemplars } };
  }

  // The kernel gets S prepared directly in its workspace. With copy = false the documented
  // in-place semantics hold (S.data holds the prepared S afterwards): the native workspace sweeps
  // S.data itself; the wasm resident workspace (n ≲ 3,300) costs one copy into wasm memory, and
  // for larger n it streams S.data. Threads (default 2 from n = 1,000) drive the kernel's
  // two-ended row split; the pass is mostly memory-bound, and two threads only win with the
  // second core free (native at n = 2,736: 8–9.5 vs 11 ms; wasm 11–13 vs 14–15 ms), so the
  // workspace measures both and runs the faster (results are identical either way).
  const ws = apWorkspace(n, { threads: resolveThreads(n, opts), externalS: opts.copy === false ? src : undefined }) ?? undefined;
  const noise = opts.noise ?? { seed: 0 };
  let N: Float64Array | undefined;
  let rng: Rng | undefined;
  if (noise !== 'none') {
    if ('data' in noise) {
      if (noise.rows !== n || noise.cols !== n) throw new InputError(`affinity propagation: noise matrix is ${noise.rows}×${noise.cols}, expected ${n}×${n}`);
      N = noise.data;
    } else rng = new Rng(noise.seed); // drawn row by row (one n-vector): no n² noise array is ever held
  }
  const noiseRow = rng ? new Float64Array(n) : undefined;
  let S: Float64Array;
  if (opts.copy === false) S = src;
  else if (ws) S = ws.S;
  else S = new Float64Array(src.length);
  // One pass: S = src with the preference on the diagonal, then S += (eps·S + 100·tiny)·noise,
  // entry by entry in index order (the same values, and the same draws, as sklearn's two steps).
  for (let i = 0; i < n; i++) {
    const o = i * n, dg = o + i, end = o + n;
    const p = prefVec ? prefVec[i]! : prefScalar;
    if (N) {
      for (let j = o; j < dg; j++) {
        const v = src[j]!;
        S[j] = v + (EPS * v + TINY100) * N[j]!;
      }
      S[dg] = p + (EPS * p + TINY100) * N[dg]!;
      for (let j = dg + 1; j < end; j++) {
        const v = src[j]!;
        S[j] = v + (EPS * v + TINY100) * N[j]!;
      }
    } else if (rng) {
      const row = rng.fillNormal(noiseRow!);
      for (let j = o; j < dg; j++) {
        const v = src[j]!;
        S[j] = v + (EPS * v + TINY100) * row[j - o]!;
      }
      S[dg] = p + (EPS * p + TINY100) * row[i]!;
      for (let j = dg + 1; j < end; j++) {
        const v = src[j]!;
        S[j] = v + (EPS * v + TINY100) * row[j - o]!;
      }
    } else {
      if (S !== src) S.set(src.subarray(o, end), o);
      S[dg] = p;
    }
  }
  if (ws && S !== ws.S) ws.S.set(S);
  return { n, S: ws ? ws.S : S, preference: prefScalar, warnings, ws };
}

interface IterationOutcome {
  E: Uint8Array;
  nIter: number;
  converged: boolean;
  trace: Int32Array;
}

/**
 * The message-passing loop on a prepared S (preference and noise applied). Allocates R and A only.
 * Pass structure: pass 0 computes the responsibilities of iteration 0 (A = 0); pass t+1 computes
 * the availabilities of iteration t and, in the same row sweep, the responsibilities of t+1. The
 * controller sets the damping of each pass (a single damping: sklearn's loop; several: adaptive,
 * continuing from the current messages when the damping changes) and when to stop.
 */
function iterate(
  S: Float64Array,
  n: number,
  ctl: DampingController,
  maxIter: number,
  convIter: number,
  reporter: Reporter,
  ws?: ApWorkspace,
): IterationOutcome {
  if (ws) ws.reset();
  // The native or wasm workspace runs the pass (and its two-thread split); without, one JS thread.
  const R = ws ? ws.R : new Float64Array(n * n);
  const A = ws ? ws.A : new Float64Array(n * n);
  let cs = new Float64Array(n); // column sums of Rp for the availability update
  let ncs = new Float64Array(n); // column sums being accumulated for the next one
  const E = ws ? ws.E : new Uint8Array(n);
  const run = ws ? ws.run : new Int32Array(n);
  const trace: number[] = [];
  const progress = reporter.progress('affinity propagation', maxIter);
  const adaptive = ctl.adaptive;

  // One fused sweep per iteration.
  const pass = (doAvail: boolean, doResp: boolean): number => {
    const d = ctl.damping;
    if (ws) return ws.pass(doAvail, doResp, d);
    if (doResp) ncs.fill(0);
    const K = fusedPass(S, R, A, cs, ncs, E, run, n, d, 1 - d, doAvail, doResp);
    if (doResp) {
      const t = cs;
      cs = ncs;
      ncs = t;
    }
    return K;
  };
  let it = 0;
  let converged = false;
  let K = 0;
  pass(false, true);
  for (; ; it++) {
    // The responsibilities of it+1 are computed in the same sweep; wasted only on the last one.
    K = pass(true, !ctl.lastIteration(it));
    trace.push(K);
    progress.tick(it + 1);
    if (it >= convIter && K > 0) {
      let stable = true;
      for (let i = 0; i < n; i++) {
        if (run[i]! < convIter) {
          stable = false;
          break;
        }
      }
      if (stable) {
        converged = true;
        break;
      }
    }
    let changed = 0;
    if (adaptive) for (let i = 0; i < n; i++) changed += run[i] === 1 ? 1 : 0;
    if (ctl.after(it, K, changed) === 'stop') break;
  }
  const nIter = it + 1;
  ctl.finish(nIter, K, converged);
  progress.done(converged ? `converged after ${nIter} iterations` : `did not converge in ${nIter} iterations`);
  return { E: Uint8Array.from(E), nIter, converged, trace: Int32Array.from(trace) };
}

/**
 * One streaming sweep over the rows. With doAvail: availabilities of iteration t from the column
 * sums `cs` of Rp(t), plus E and the run-length counters. With doResp: responsibilities of the
 * next iteration from the just-updated A row, accumulating their Rp column sums into `ncs` in
 * row order. Loops are split around the diagonal (and the argmax column) so the inner loops are
 * branch-free; Math.max(x, 0) differs from numpy's maximum only in the sign of a zero, which
 * never changes a later comparison or non-zero sum. Exported as the reference twin of the native
 * and wasm kernels (src/linalg/apKernel.ts, tested entry for entry against it).
 */
export function fusedPass(
  S: Float64Array,
  R: Float64Array,
  A: Float64Array,
  cs: Float64Array,
  ncs: Float64Array,
  E: Uint8Array,
  run: Int32Array,
  n: number,
  d: number,
  omd: number,
  doAvail: boolean,
  doResp: boolean,
): number {
  let K = 0;
  for (let i = 0; i < n; i++) {
    const o = i * n;
    const rii = R[o + i]!;
    let y1 = -Infinity, y2 = -Infinity, I = 0;
    if (doAvail) {
      // off-diagonal: A = A·d − max(0, max(R,0) − colsum)·(1−d); fused with the row max of A + S
      for (let j = 0; j < i; j++) {
        const a = A[o + j]! * d - Math.max(Math.max(R[o + j]!, 0) - cs[j]!, 0) * omd;
        A[o + j] = a;
        const v = a + S[o + j]!;
        if (v > y2) {
          if (v > y1) {
            y2 = y1;
            y1 = v;
            I = j;
          } else y2 = v;
        }
      }
      const aii = A[o + i]! * d - (rii - cs[i]!) * omd;
      A[o + i] = aii;
      {
        const v = aii + S[o + i]!;
        if (v > y2) {
          if (v > y1) {
            y2 = y1;
            y1 = v;
            I = i;
          } else y2 = v;
        }
      }
      for (let j = i + 1; j < n; j++) {
        const a = A[o + j]! * d - Math.max(Math.max(R[o + j]!, 0) - cs[j]!, 0) * omd;
        A[o + j] = a;
        const v = a + S[o + j]!;
        if (v > y2) {
          if (v > y1) {
            y2 = y1;
            y1 = v;
            I = j;
          } else y2 = v;
        }
      }
      const e = aii + rii > 0 ? 1 : 0;
      if (e === E[i]) run[i]!++;
      else {
        E[i] = e;
        run[i] = 1;
      }
      K += e;
    } else if (doResp) {
      for (let j = 0; j < n; j++) {
        const v = A[o + j]! + S[o + j]!;
        if (v > y2) {
          if (v > y1) {
            y2 = y1;
            y1 = v;
            I = j;
          } else y2 = v;
        }
      }
    }
    if (!doResp) continue;
    // R = R·d + (S − Y)·(1−d), except column I (uses the second max) and the diagonal, whose
    // column-sum contribution is R itself rather than max(R, 0).
    const rI = R[o + I]!;
    const lo = I < i ? I : i, hi = I < i ? i : I;
    for (let j = 0; j < lo; j++) {
      const r = R[o + j]! * d + (S[o + j]! - y1) * omd;
      R[o + j] = r;
      ncs[j] = ncs[j]! + Math.max(r, 0);
    }
    for (let j = lo + 1; j < hi; j++) {
      const r = R[o + j]! * d + (S[o + j]! - y1) * omd;
      R[o + j] = r;
      ncs[j] = ncs[j]! + Math.max(r, 0);
    }
    for (let j = hi + 1; j < n; j++) {
      const r = R[o + j]! * d + (S[o + j]! - y1) * omd;
      R[o + j] = r;
      ncs[j] = ncs[j]! + Math.max(r, 0);
    }
    if (I !== i) {
      const rIn = rI * d + (S[o + I]! - y2) * omd;
      R[o + I] = rIn;
      ncs[I] = ncs[I]! + Math.max(rIn, 0);
      const rin = rii * d + (S[o + i]! - y1) * omd;
      R[o + i] = rin;
      ncs[i] = ncs[i]! + rin;
    } else {
      const rin = rii * d + (S[o + i]! - y2) * omd;
      R[o + i] = rin;
      ncs[i] = ncs[i]! + rin;
    }
  }
  return K;
}

/** sklearn's label assignment with exemplar refinement, on the prepared (noisy) S. */
function assignLabels(S: Float64Array, n: number, E: Uint8Array): { labels: Int32Array; exemplars: Int32Array } {
  const ex: number[] = [];
  for (let i = 0; i < n; i++) if (E[i]) ex.push(i);
  const K = ex.length;
  const I = Int32Array.from(ex);
  const c = new Int32Array(n);
  const assign = () => {
    for (let i = 0; i < n; i++) {
      const o = i * n;
      let best = -Infinity, bk = 0;
      for (let k = 0; k < K; k++) {
        const v = S[o + I[k]!]!;
        if (v > best) {
          best = v;
          bk = k;
        }
      }
      c[i] = bk;
    }
    for (let k = 0; k < K; k++) c[I[k]!] = k;
  };
  assign();
  // Members of each cluster in ascending row order (counting sort).
  const start = new Int32Array(K + 1);
  for (let i = 0; i < n; i++) start[c[i]! + 1]!++;
  for (let k = 0; k < K; k++) start[k + 1]! += start[k]!;
  const members = new Int32Array(n);
  const fill = start.slice(0, K);
  for (let i = 0; i < n; i++) members[fill[c[i]!]!++] = i;
  const colsum = new Float64Array(n);
  for (let k = 0; k < K; k++) {
    const a = start[k]!, b = start[k + 1]!, m = b - a;
    colsum.fill(0, 0, m);
    for (let p = a; p < b; p++) {
      const o = members[p]! * n;
      for (let q = 0; q < m; q++) colsum[q] = colsum[q]! + S[o + members[a + q]!]!;
    }
    let best = -Infinity, bq = 0;
    for (let q = 0; q < m; q++) {
      if (colsum[q]! > best) {
        best = colsum[q]!;
        bq = q;
      }
    }
    I[k] = members[a + bq]!;
  }
  assign();
  const centres = Int32Array.from(new Set(Array.from(c, (k) => I[k]!))).sort();
  const pos = new Int32Array(n).fill(-1);
  for (let k = 0; k < centres.length; k++) pos[centres[k]!] = k;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = pos[I[c[i]!]!]!;
  return { labels, exemplars: centres };
}

function runPrepared(p: Prepared, ctl: DampingController, opts: AffinityPropagationOptions, prepareMs: number): AffinityPropagationRetryResult {
  const warnings = [...p.warnings];
  if (p.degenerate) return { ...degenerateRun(p.degenerate, ctl.damping, warnings, prepareMs), preference: p.preference };
  const reporter = opts.reporter ?? silentReporter;
  const t0 = performance.now();
  const out = iterate(p.S, p.n, ctl, opts.maxIter ?? 200, opts.convergenceIter ?? 15, reporter, p.ws);
  const timings = { prepareMs, iterateMs: performance.now() - t0, labelsMs: 0 };
  return { ...finishRun(p.n, out, ctl, reporter, warnings, timings, () => assignLabels(p.S, p.n, out.E)), preference: p.preference };
}

/** Affinity propagation on a similarity matrix S (n×n, larger = more similar), sklearn 1.2 semantics. */
export function affinityPropagation(S: Matrix, opts: AffinityPropagationOptions = {}): AffinityPropagationResult {
  return runOnce(opts, () => prepare(S, opts), (p, ctl, ms) => runPrepared(p, ctl, opts, ms));
}

/**
 * Affinity propagation with adaptive damping (default 0.5 → 0.7 → 0.9): a run still oscillating
 * after `oscillationCheck` iterations (default 100), or not converged after maxIter, continues
 * from its current messages with the next damping (see apShared.ts). Where the first damping
 * converges within the check, the result is exactly `affinityPropagation`'s (sklearn's).
 */
export function affinityPropagationWithRetry(
  S: Matrix,
  opts: AffinityPropagationOptions & AdaptiveDampingOptions & { dampings?: number[] } = {},
): AffinityPropagationRetryResult {
  return prepareAndAdapt(
    opts,
    (d) => validateParams({ ...opts, damping: d }),
    (d) => prepare(S, { ...opts, damping: d }),
    (p, ctl, ms) => runPrepared(p, ctl, { ...opts, reporter: silentReporter }, ms),
  );
}
