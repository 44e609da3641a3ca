/**
 * Sparse affinity propagation: messages only on the edges of a similarity graph (plus the
 * diagonal). Reference: Frey & Dueck, Science 315 (2007) and its supplement — a missing
 * similarity is −∞, so a pair that is not an edge never carries a responsibility or availability
 * worth storing. Memory is O(nnz): S, R and A are one Float64Array each over the stored entries.
 *
 * The update rules, floating-point operation order, convergence test and label rules are those of
 * the dense `affinityPropagation` (sklearn 1.2 semantics, see affinityPropagation.ts), applied to
 * the stored entries of each row in ascending column order. On a COMPLETE graph (every row holds
 * all n − 1 other columns) the stored entries are all n² entries in row-major order, so the
 * preference, the noise draw and every message are bit-identical to the dense function: labels,
 * exemplars, iteration count and convergence are the same.
 *
 * Definitions where the graph is not complete (documented choices):
 * - Preference default: the median of the stored off-diagonal similarities. Only for a complete
 *   graph is the zero diagonal included (n extra zeros), which is the dense rule; for a k-NN graph
 *   those zeros are not "similarities" of any pair and would pull the median towards 0. A caller
 *   who wants the dense scale on a sparse graph passes `preference` (e.g. the median of −d² over
 *   sampled random pairs, see `sampledSimilarityMedian`).
 * - Noise: one standard normal per stored entry (diagonal included), drawn in row-major order of
 *   the stored entries — the dense draw restricted to the graph's entries only when complete.
 *   A given n × n noise matrix is read at the stored positions.
 * - Label assignment: each row picks the exemplar with the largest stored similarity (first on
 *   ties). A row with no exemplar among its neighbours takes the cluster of its most similar
 *   labelled neighbour (repeated until nothing changes); rows whose connected component has no
 *   exemplar get −1 and a warning.
 * - Exemplar refinement: the member with the largest within-cluster column sum of S, where a
 *   missing pair (p, q) is imputed as the smallest stored similarity of row p (the k-th
 *   neighbour's: an upper bound of the true value, which a missing pair cannot exceed). Nothing is
 *   imputed on a complete graph.
 */
import type { Matrix, StoredMatrix } from '../linalg/matrix.js';
import { medianNoCopy } from '../linalg/select.js';
import { native } from '../linalg/native.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../linalg/rng.js';
import { silentReporter, type Reporter } from '../util/log.js';
import {
  degenerateRun, DampingController, finishRun, prepareAndAdapt, runOnce, validateApParams, type AdaptiveDampingOptions, type DampingAttempt,
} from './apShared.js';

/** A similarity graph in CSR form (larger = more similar). The diagonal, if stored, is ignored. */
export interface SparseSimilarity {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

export interface SparseAffinityPropagationOptions {
  /** Scalar preference. Default: median of the stored off-diagonal similarities (+ zero diagonal when complete). */
  preference?: number;
  damping?: number;
  maxIter?: number;
  convergenceIter?: number;
  /**
   * Fraction of points allowed to be still changing exemplar status when convergence is declared
   * (default 0: sklearn's rule, every point unchanged for convergenceIter iterations). At 10⁵
   * points a handful of oscillating ties can keep the exact rule from ever firing; e.g. 1e-3
   * stops once all but 0.1 % of the points are stable. Reported in the result.
   */
  convergenceTolerance?: number;
  /** A dense n × n standard-normal matrix read at the stored positions, a seed (default { seed: 0 }), or 'none'. */
  noise?: Matrix | { seed: number } | 'none';
  reporter?: Reporter;
}

export interface SparseAffinityPropagationResult {
  /** Cluster per row (0..K−1); −1 for rows that could not reach any exemplar. */
  labels: Int32Array;
  exemplars: Int32Array;
  nIter: number;
  converged: boolean;
  preference: number;
  damping: number;
  warnings: string[];
  exemplarTrace: Int32Array;
  /** Stored entries including the diagonal. */
  nnz: number;
  /** Whether the graph was complete (dense-equivalent). */
  complete: boolean;
  /** Points still changing exemplar status at the end (0 when converged under the exact rule). */
  unstable: number;
  timings: { prepareMs: number; iterateMs: number; labelsMs: number };
}

export interface SparseAffinityPropagationRetryResult extends SparseAffinityPropagationResult {
  attempts: DampingAttempt[];
}

const EPS = 2.220446049250313e-16;
/** Clusters above this size refine their exemplar in O(stored entries) instead of O(m²) (see assignLabels). */
const LARGE_CLUSTER = 4096;
const TINY100 = 2.2250738585072014e-308 * 100;

/** The AP working structure: CSR with the diagonal inserted at its sorted column position. */
interface Prepared {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  S: Float64Array;
  diag: Int32Array;
  preference: number;
  complete: boolean;
  warnings: string[];
  degenerate?: { labels: Int32Array; exemplars: Int32Array };
}

function validateParams(opts: SparseAffinityPropagationOptions): void {
  validateApParams('sparse affinity propagation', opts);
}

/** Build a SparseSimilarity from a dense matrix (every off-diagonal entry an edge): the complete graph. */
export function completeGraphFromDense(S: Matrix): SparseSimilarity {
  if (S.rows !== S.cols) throw new InputError(`sparse affinity propagation: similarity matrix must be square, got ${S.rows}×${S.cols}`);
  const n = S.rows;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(n * (n - 1));
  const values = new Float64Array(n * (n - 1));
  let p = 0;
  for (let i = 0; i < n; i++) {
    const o = i * n;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      indices[p] = j;
      values[p++] = S.data[o + j]!;
    }
    indptr[i + 1] = p;
  }
  return { n, indptr, indices, values };
}

function prepare(G: SparseSimilarity, opts: SparseAffinityPropagationOptions): Prepared {
  validateParams(opts);
  const n = G.n;
  if (!(n >= 1)) throw new InputError('sparse affinity propagation: the graph has no rows');
  if (G.indptr.length !== n + 1) throw new InputError(`sparse affinity propagation: indptr has ${G.indptr.length} entries, expected ${n + 1}`);
  const warnings: string[] = [];
  // Count off-diagonal entries per row, check sortedness, finiteness and range.
  let off = 0;
  let complete = true;
  for (let i = 0; i < n; i++) {
    let prev = -1, cnt = 0;
    for (let p = G.indptr[i]!; p < G.indptr[i + 1]!; p++) {
      const j = G.indices[p]!;
      if (!(j >= 0 && j < n)) throw new InputError(`sparse affinity propagation: row ${i} has column ${j} outside 0..${n - 1}`);
      if (j <= prev) throw new InputError(`sparse affinity propagation: columns of row ${i} are not strictly ascending`);
      prev = j;
      if (j === i) continue;
      if (!Number.isFinite(G.values[p]!)) throw new InputError(`sparse affinity propagation: similarity (${i}, ${j}) is not finite`);
      cnt++;
    }
    if (cnt === 0 && n > 1) throw new InputError(`sparse affinity propagation: row ${i} has no neighbour (every row needs at least one edge)`);
    if (cnt !== n - 1) complete = false;
    off += cnt;
  }
  const nnz = off + n;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(nnz);
  const S = new Float64Array(nnz);
  const diag = new Int32Array(n);
  let q = 0;
  for (let i = 0; i < n; i++) {
    let placed = false;
    for (let p = G.indptr[i]!; p < G.indptr[i + 1]!; p++) {
      const j = G.indices[p]!;
      if (j === i) continue;
      if (!placed && j > i) {
        diag[i] = q;
        indices[q++] = i;
        placed = true;
      }
      indices[q] = j;
      S[q++] = G.values[p]!;
    }
    if (!placed) {
      diag[i] = q;
      indices[q++] = i;
    }
    indptr[i + 1] = q;
  }

  let pref: number;
  if (opts.preference !== undefined) {
    if (!Number.isFinite(opts.preference)) throw new InputError(`sparse affinity propagation: preference must be finite, got ${opts.preference}`);
    pref = opts.preference;
  } else {
    // Complete: the diagonal slots still hold 0 here, so this is the dense median of all n² entries.
    pref = complete ? medianNoCopy(S) : medianNoCopy(offDiagonal(S, diag));
  }

  // sklearn's shortcut (n = 1, or all off-diagonal similarities equal).
  let degenerate = n === 1;
  if (!degenerate) {
    let ref = NaN, same = true;
    for (let i = 0; i < n && same; i++) {
      for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
        if (p === diag[i]) continue;
        if (Number.isNaN(ref)) ref = S[p]!;
        else if (S[p] !== ref) {
          same = false;
          break;
        }
      }
    }
    degenerate = same && complete;
    if (same && !complete) warnings.push('sparse affinity propagation: all edge similarities are equal; the result is arbitrary');
  }
  if (degenerate) {
    // sklearn compares the preference with S[0, n−1], an off-diagonal entry (all are equal here).
    const eachOwn = n === 1 || pref >= S[indptr[1]! - 1]!;
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
    } else exemplars = new Int32Array([0]);
    return { n, indptr, indices, S, diag, preference: pref, complete, warnings, degenerate: { labels, exemplars } };
  }

  for (let i = 0; i < n; i++) S[diag[i]!] = pref;
  const noise = opts.noise ?? { seed: 0 };
  if (noise !== 'none') {
    if ('data' in noise) {
      if (noise.rows !== n || noise.cols !== n) throw new InputError(`sparse affinity propagation: noise matrix is ${noise.rows}×${noise.cols}, expected ${n}×${n}`);
      const N = noise.data;
      for (let i = 0; i < n; i++) {
        const o = i * n;
        for (let p = indptr[i]!; p < indptr[i + 1]!; p++) S[p] = S[p]! + (EPS * S[p]! + TINY100) * N[o + indices[p]!]!;
      }
    } else {
      // Drawn in chunks, in entry order (the same draws as one normal() per entry).
      const rng = new Rng(noise.seed);
      const N = new Float64Array(Math.min(nnz, 65536));
      for (let p0 = 0; p0 < nnz; p0 += N.length) {
        const len = Math.min(N.length, nnz - p0);
        rng.fillNormal(N, 0, len);
        for (let q = 0; q < len; q++) S[p0 + q] = S[p0 + q]! + (EPS * S[p0 + q]! + TINY100) * N[q]!;
      }
    }
  }
  return { n, indptr, indices, S, diag, preference: pref, complete, warnings };
}

function offDiagonal(S: Float64Array, diag: Int32Array): Float64Array {
  const out = new Float64Array(S.length - diag.length);
  let q = 0, d = 0;
  for (let p = 0; p < S.length; p++) {
    if (d < diag.length && p === diag[d]) {
      d++;
      continue;
    }
    out[q++] = S[p]!;
  }
  return out;
}

interface IterationOutcome {
  unstable: number;
  E: Uint8Array;
  nIter: number;
  converged: boolean;
  trace: Int32Array;
}

/** The dense fused pass (affinityPropagation.ts) over the stored entries of each row. */
function iterate(P: Prepared, ctl: DampingController, maxIter: number, convIter: number, reporter: Reporter, tolerance: number): IterationOutcome {
  const { n, indptr, indices, S, diag } = P;
  const nnz = S.length;
  let d = ctl.damping, omd = 1 - d;
  const R = new Float64Array(nnz);
  const A = new Float64Array(nnz);
  let cs = new Float64Array(n);
  let ncs = new Float64Array(n);
  const E = new Uint8Array(n);
  const run = new Int32Array(n);
  const trace: number[] = [];
  const progress = reporter.progress('sparse affinity propagation', maxIter);
  const adaptive = ctl.adaptive;

  const nat = native();
  const pass = (doAvail: boolean, doResp: boolean): number => {
    if (nat) {
      const K = nat.sparseApPass(indptr, indices, diag, S, R, A, cs, ncs, E, run, n, d, omd, doAvail ? 1 : 0, doResp ? 1 : 0);
      if (doResp) {
        const t = cs;
        cs = ncs;
        ncs = t;
      }
      return K;
    }
    if (doResp) ncs.fill(0);
    let K = 0;
    for (let i = 0; i < n; i++) {
      const p0 = indptr[i]!, p1 = indptr[i + 1]!, pd = diag[i]!;
      const rii = R[pd]!;
      let y1 = -Infinity, y2 = -Infinity, I = pd;
      if (doAvail) {
        // Off-diagonal entries before and after the diagonal, branch-free; then the diagonal.
        for (let seg = 0; seg < 2; seg++) {
          const a0 = seg === 0 ? p0 : pd + 1, a1 = seg === 0 ? pd : p1;
          for (let p = a0; p < a1; p++) {
            const a = A[p]! * d - Math.max(Math.max(R[p]!, 0) - cs[indices[p]!]!, 0) * omd;
            A[p] = a;
            const v = a + S[p]!;
            if (v > y2) {
              if (v > y1) {
                y2 = y1;
                y1 = v;
                I = p;
              } else y2 = v;
            }
          }
          if (seg === 0) {
            // The diagonal in its column position, so first-index tie-breaking matches dense AP.
            const a = A[pd]! * d - (rii - cs[i]!) * omd;
            A[pd] = a;
            const v = a + S[pd]!;
            if (v > y2) {
              if (v > y1) {
                y2 = y1;
                y1 = v;
                I = pd;
              } else y2 = v;
            }
          }
        }
        const e = A[pd]! + rii > 0 ? 1 : 0;
        if (e === E[i]) run[i]!++;
        else {
          E[i] = e;
          run[i] = 1;
        }
        K += e;
      } else if (doResp) {
        for (let p = p0; p < p1; p++) {
          const v = A[p]! + S[p]!;
          if (v > y2) {
            if (v > y1) {
              y2 = y1;
              y1 = v;
              I = p;
            } else y2 = v;
          }
        }
      }
      if (!doResp) continue;
      // R = R·d + (S − y1)·(1−d) except at the argmax (second max) and the diagonal (its
      // column-sum contribution is R itself); segments around both keep the loops branch-free.
      const lo = I < pd ? I : pd, hi = I < pd ? pd : I;
      for (let seg = 0; seg < 3; seg++) {
        const a0 = seg === 0 ? p0 : seg === 1 ? lo + 1 : hi + 1;
        const a1 = seg === 0 ? lo : seg === 1 ? hi : p1;
        for (let p = a0; p < a1; p++) {
          const r = R[p]! * d + (S[p]! - y1) * omd;
          R[p] = r;
          const j = indices[p]!;
          ncs[j] = ncs[j]! + Math.max(r, 0);
        }
      }
      if (I !== pd) {
        const rI = R[I]! * d + (S[I]! - y2) * omd;
        R[I] = rI;
        const j = indices[I]!;
        ncs[j] = ncs[j]! + Math.max(rI, 0);
        const rd = rii * d + (S[pd]! - y1) * omd;
        R[pd] = rd;
        ncs[i] = ncs[i]! + rd;
      } else {
        const rd = rii * d + (S[pd]! - y2) * omd;
        R[pd] = rd;
        ncs[i] = ncs[i]! + rd;
      }
    }
    if (doResp) {
      const t = cs;
      cs = ncs;
      ncs = t;
    }
    return K;
  };

  let it = 0;
  let converged = false;
  const allowed = Math.floor(tolerance * n);
  let unstable = n;
  let K = 0;
  pass(false, true);
  for (; ; it++) {
    K = pass(true, !ctl.lastIteration(it));
    trace.push(K);
    progress.tick(it + 1);
    if (it >= convIter && K > 0) {
      unstable = 0;
      for (let i = 0; i < n; i++) {
        if (run[i]! < convIter && ++unstable > allowed) break;
      }
      if (unstable <= allowed) {
        converged = true;
        break;
      }
    }
    let changed = 0;
    if (adaptive) for (let i = 0; i < n; i++) changed += run[i] === 1 ? 1 : 0;
    if (ctl.after(it, K, changed) === 'stop') break;
    d = ctl.damping;
    omd = 1 - d;
  }
  if (!converged) {
    unstable = 0;
    for (let i = 0; i < n; i++) if (run[i]! < convIter) unstable++;
  }
  const nIter = it + 1;
  ctl.finish(nIter, K, converged);
  progress.done(converged ? `converged after ${nIter} iterations` : `did not converge in ${nIter} iterations`);
  return { E, nIter, converged, trace: Int32Array.from(trace), unstable };
}

function assignLabels(P: Prepared, E: Uint8Array, warnings: string[]): { labels: Int32Array; exemplars: Int32Array } {
  const { n, indptr, indices, S, diag } = P;
  const ex: number[] = [];
  for (let i = 0; i < n; i++) if (E[i]) ex.push(i);
  const K = ex.length;
  const I = Int32Array.from(ex);
  const c = new Int32Array(n);
  // Smallest stored off-diagonal similarity per row: the imputed value of a missing pair.
  const rowMin = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = Infinity;
    for (let p = indptr[i]!; p < indptr[i + 1]!; p++) if (p !== diag[i] && S[p]! < m) m = S[p]!;
    rowMin[i] = m;
  }
  const isEx = new Int32Array(n); // exemplar row → cluster + 1 (0: not an exemplar)

  const assign = () => {
    isEx.fill(0);
    for (let k = 0; k < K; k++) isEx[I[k]!] = k + 1;
    for (let i = 0; i < n; i++) {
      let best = -Infinity, bk = -1;
      for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
        const k1 = isEx[indices[p]!]!;
        if (k1 === 0) continue;
        // Dense ties go to the first k (ascending exemplar order); exemplars ascend by row here
        // only before refinement, so compare k on ties to keep that rule after it as well.
        const v = S[p]!;
        if (v > best || (v === best && k1 - 1 < bk)) {
          best = v;
          bk = k1 - 1;
        }
      }
      c[i] = bk;
    }
    for (let k = 0; k < K; k++) c[I[k]!] = k;
    propagate();
  };
  // Rows without an exemplar neighbour: most similar labelled neighbour's cluster, until stable.
  let unreachable = 0;
  const propagate = () => {
    let changed = true;
    while (changed) {
      changed = false;
      for (let i = 0; i < n; i++) {
        if (c[i]! >= 0) continue;
        let best = -Infinity, bk = -1;
        for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
          if (p === diag[i]) continue;
          const l = c[indices[p]!]!;
          if (l >= 0 && S[p]! > best) {
            best = S[p]!;
            bk = l;
          }
        }
        if (bk >= 0) {
          c[i] = bk;
          changed = true;
        }
      }
    }
    unreachable = 0;
    for (let i = 0; i < n; i++) if (c[i]! < 0) unreachable++;
  };
  assign();

  // Members per cluster in ascending row order (counting sort; −1 rows left out).
  const start = new Int32Array(K + 1);
  for (let i = 0; i < n; i++) if (c[i]! >= 0) start[c[i]! + 1]!++;
  for (let k = 0; k < K; k++) start[k + 1]! += start[k]!;
  const members = new Int32Array(start[K]!);
  const fill = start.slice(0, K);
  for (let i = 0; i < n; i++) if (c[i]! >= 0) members[fill[c[i]!]!++] = i;
  const pos = new Int32Array(n).fill(-1);
  const colsum = new Float64Array(n);
  const storedAt = new Int32Array(n).fill(-1);
  for (let k = 0; k < K; k++) {
    const a = start[k]!, b = start[k + 1]!, m = b - a;
    for (let q = 0; q < m; q++) pos[members[a + q]!] = q;
    colsum.fill(0, 0, m);
    if (P.complete) {
      // Dense order: row p's stored entries ascend by column, members ascend too.
      for (let t = a; t < b; t++) {
        const r = members[t]!;
        for (let q = 0; q < m; q++) {
          const j = members[a + q]!;
          const pe = j === r ? diag[r]! : indptr[r]! + j;
          colsum[q] = colsum[q]! + S[pe]!;
        }
      }
    } else if (m > LARGE_CLUSTER) {
      // Σ_r (stored ? S : rowMin_r) = Σ_r rowMin_r + Σ_stored (S − rowMin_r): O(stored entries)
      // instead of O(m²) (a cluster of 10⁵ members would take 10¹⁰ steps). The same terms summed
      // in another order, so a near-tie between two candidate exemplars may resolve differently.
      let base = 0;
      for (let t = a; t < b; t++) base += rowMin[members[t]!]!;
      colsum.fill(base, 0, m);
      for (let t = a; t < b; t++) {
        const r = members[t]!, rm = rowMin[r]!;
        for (let p = indptr[r]!; p < indptr[r + 1]!; p++) {
          const q = pos[indices[p]!]!;
          if (q >= 0 && c[indices[p]!] === k) colsum[q] = colsum[q]! + (S[p]! - rm);
        }
      }
    } else {
      for (let t = a; t < b; t++) {
        const r = members[t]!;
        // Each member q gets one term from row r: the stored similarity, or row r's imputed value
        // when the pair is missing. Marking the stored members first makes this O(m) per row
        // (a binary search per missing pair was O(m² log k) per cluster: minutes for the large
        // clusters of 10⁶ rows); the terms and their order are the same.
        let stored = 0;
        const p0 = indptr[r]!, p1 = indptr[r + 1]!;
        for (let p = p0; p < p1; p++) {
          const q = pos[indices[p]!]!;
          if (q >= 0 && c[indices[p]!] === k) {
            storedAt[q] = p;
            stored++;
          }
        }
        if (stored === m) {
          for (let q = 0; q < m; q++) {
            colsum[q] = colsum[q]! + S[storedAt[q]!]!;
            storedAt[q] = -1;
          }
        } else {
          const rm = rowMin[r]!;
          for (let q = 0; q < m; q++) {
            const p = storedAt[q]!;
            if (p >= 0) {
              colsum[q] = colsum[q]! + S[p]!;
              storedAt[q] = -1;
            } else colsum[q] = colsum[q]! + rm;
          }
        }
      }
    }
    let best = -Infinity, bq = 0;
    for (let q = 0; q < m; q++) {
      if (colsum[q]! > best) {
        best = colsum[q]!;
        bq = q;
      }
    }
    if (m > 0) I[k] = members[a + bq]!;
    for (let q = 0; q < m; q++) pos[members[a + q]!] = -1;
  }
  c.fill(-1);
  assign();
  if (unreachable) warnings.push(`sparse affinity propagation: ${unreachable} rows are in graph components without an exemplar and are unassigned (label -1)`);
  const used = new Set<number>();
  for (let i = 0; i < n; i++) if (c[i]! >= 0) used.add(I[c[i]!]!);
  const centres = Int32Array.from(used).sort();
  const cpos = new Int32Array(n).fill(-1);
  for (let k = 0; k < centres.length; k++) cpos[centres[k]!] = k;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = c[i]! >= 0 ? cpos[I[c[i]!]!]! : -1;
  return { labels, exemplars: centres };
}

function runPrepared(P: Prepared, ctl: DampingController, opts: SparseAffinityPropagationOptions, prepareMs: number): SparseAffinityPropagationRetryResult {
  const warnings = [...P.warnings];
  const base = { preference: P.preference, nnz: P.S.length, complete: P.complete };
  if (P.degenerate) return { ...degenerateRun(P.degenerate, ctl.damping, warnings, prepareMs), ...base, unstable: 0 };
  const reporter = opts.reporter ?? silentReporter;
  const tol = opts.convergenceTolerance ?? 0;
  if (!(tol >= 0 && tol < 1)) throw new InputError(`sparse affinity propagation: convergenceTolerance must be in [0, 1), got ${tol}`);
  const t0 = performance.now();
  const out = iterate(P, ctl, opts.maxIter ?? 200, opts.convergenceIter ?? 15, reporter, tol);
  const timings = { prepareMs, iterateMs: performance.now() - t0, labelsMs: 0 };
  return { ...finishRun(P.n, out, ctl, reporter, warnings, timings, () => assignLabels(P, out.E, warnings)), ...base, unstable: out.unstable };
}

/** Affinity propagation with messages on the graph's edges only (see the module comment). */
export function sparseAffinityPropagation(G: SparseSimilarity, opts: SparseAffinityPropagationOptions = {}): SparseAffinityPropagationResult {
  return runOnce(opts, () => prepare(G, opts), (P, ctl, ms) => runPrepared(P, ctl, opts, ms));
}

/** As `affinityPropagationWithRetry`: adaptive damping 0.5 → 0.7 → 0.9, continuing from the current messages. */
export function sparseAffinityPropagationWithRetry(
  G: SparseSimilarity,
  opts: SparseAffinityPropagationOptions & AdaptiveDampingOptions & { dampings?: number[] } = {},
): SparseAffinityPropagationRetryResult {
  return prepareAndAdapt(
    opts,
    (d) => validateParams({ ...opts, damping: d }),
    (d) => prepare(G, { ...opts, damping: d }),
    (P, ctl, ms) => runPrepared(P, ctl, { ...opts, reporter: silentReporter }, ms),
  );
}

/**
 * Median of −‖xi − xj‖² over `pairs` seeded random pairs i ≠ j: an estimate of the dense
 * preference (median of all pairwise similarities) that costs O(pairs · d), for k-NN graphs.
 */
export function sampledSimilarityMedian(X: StoredMatrix, pairs = 200_000, seed = 0): number {
  const n = X.rows, d = X.cols, x = X.data;
  if (n < 2) return 0;
  const rng = new Rng(seed);
  const vals = new Float64Array(pairs);
  for (let t = 0; t < pairs; t++) {
    const i = rng.int(n);
    let j = rng.int(n - 1);
    if (j >= i) j++;
    const oi = i * d, oj = j * d;
    let s = 0;
    for (let c = 0; c < d; c++) {
      const z = x[oi + c]! - x[oj + c]!;
      s += z * z;
    }
    vals[t] = -s;
  }
  return medianNoCopy(vals);
}
