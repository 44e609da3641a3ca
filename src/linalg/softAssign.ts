/**
 * Penalised row softmax — the inner step of Harmony's responsibility update (batch/harmony.ts):
 * for each listed row i with group g = codes[i],
 *   logits_k = D_ik·c,   x_k = exp(logits_k − max_k logits)·P[g·K + k],   R_ik = x_k / Σ x,
 * and, for the objective without a logarithm per entry,
 *   ent_i = Σ_k R_ik·(logits_k + logP[g·K + k]) − (max + log Σ x)·Σ_k R_ik   (= Σ_k R_ik·log R_ik
 *           when logP = log P),
 *   km_i  = Σ_k R_ik·D_ik.
 * Rows are independent, so the native kernel (native/kernels.c `soft_rows`) splits them over
 * threads; it performs the operations below in the same order with V8's own exp and log (fdlibm's
 * algorithms, ported), so both give the same bits (test/linalg/softAssign.test.ts).
 */
import { native } from './native.js';
import { threadCount } from './wasm/threads.js';

export interface PenalisedSoftmaxArgs {
  /** N × K distances (row-major). */
  D: Float64Array;
  /** N × K output: only the listed rows are written. */
  R: Float64Array;
  /** Per-group penalties (groups × K) and their logarithms. */
  P: Float64Array;
  logP: Float64Array;
  /** Group of every row (0-based). */
  codes: Int32Array;
  /** Row indices; rows[t0..t1) are updated. */
  rows: Int32Array;
  t0: number;
  t1: number;
  K: number;
  /** Scale of the distances (Harmony: −1/σ). */
  c: number;
  /** Per-row outputs (length N): ent_i and km_i above. */
  ent: Float64Array;
  km: Float64Array;
}

/** Below this many entries (rows × K) a block runs on the calling thread. */
const PARALLEL_MIN_ENTRIES = 1 << 15;

/** The JavaScript kernel (the native one's twin); `logits` is a K-long scratch. */
export function penalisedSoftmaxRowsJs(a: PenalisedSoftmaxArgs, logits: Float64Array = new Float64Array(a.K)): void {
  const { D, R, P, logP, codes, rows, t0, t1, K, c, ent, km } = a;
  for (let t = t0; t < t1; t++) {
    const i = rows[t]!, ro = i * K, bo = codes[i]! * K;
    let mx = -Infinity;
    for (let k = 0; k < K; k++) {
      const v = D[ro + k]! * c;
      logits[k] = v;
      if (v > mx) mx = v;
    }
    let s = 0;
    for (let k = 0; k < K; k++) {
      const x = Math.exp(logits[k]! - mx) * P[bo + k]!;
      R[ro + k] = x;
      s += x;
    }
    let e = 0, m = 0, tot = 0;
    const inv = 1 / s;
    for (let k = 0; k < K; k++) {
      const v = R[ro + k]! * inv;
      R[ro + k] = v;
      e += v * (logits[k]! + logP[bo + k]!);
      m += v * D[ro + k]!;
      tot += v;
    }
    ent[i] = e - (mx + Math.log(s)) * tot;
    km[i] = m;
  }
}

/** The penalised softmax of rows[t0..t1) (native and threaded when the addon is built). */
export function penalisedSoftmaxRows(a: PenalisedSoftmaxArgs, logits?: Float64Array): void {
  const nat = native();
  if (nat) {
    const threads = (a.t1 - a.t0) * a.K >= PARALLEL_MIN_ENTRIES ? threadCount() : 1;
    nat.softAssignRows(a.D, a.R, a.P, a.logP, a.codes, a.rows, a.t0, a.t1, a.K, a.c, a.ent, a.km, threads);
    return;
  }
  penalisedSoftmaxRowsJs(a, logits);
}

export interface RowMassArgs {
  /** N × K responsibilities. */
  R: Float64Array;
  codes: Int32Array;
  rows: Int32Array;
  t0: number;
  t1: number;
  K: number;
  /** K-long column sums of the listed rows (added to). */
  sum: Float64Array;
  /** Groups × K masses: the listed rows subtracted (`subtract`) or added. */
  O: Float64Array;
  subtract: boolean;
  /** Groups × K masses the listed rows are also added to (when adding). */
  F?: Float64Array;
}

/** The JavaScript twin of addRowMasses. */
export function addRowMassesJs(a: RowMassArgs): void {
  const { R, codes, rows, t0, t1, K, sum, O, F } = a;
  for (let t = t0; t < t1; t++) {
    const i = rows[t]!, ro = i * K, bo = codes[i]! * K;
    if (a.subtract) {
      for (let k = 0; k < K; k++) {
        const r = R[ro + k]!;
        sum[k] += r;
        O[bo + k] -= r;
      }
    } else if (F) {
      for (let k = 0; k < K; k++) {
        const r = R[ro + k]!;
        sum[k] += r;
        O[bo + k] += r;
        F[bo + k] += r;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const r = R[ro + k]!;
        sum[k] += r;
        O[bo + k] += r;
      }
    }
  }
}

/**
 * For rows[t0..t1) in order: sum[k] += R_ik and O[g_i·K + k] −= R_ik (subtract) or += R_ik (and
 * F[g_i·K + k] += R_ik). Each accumulator belongs to one column k, so the native kernel splits the
 * columns over threads and every accumulator still receives its terms in row order (same bits).
 */
export function addRowMasses(a: RowMassArgs): void {
  const nat = native();
  if (nat) {
    const threads = (a.t1 - a.t0) * a.K >= PARALLEL_MIN_ENTRIES ? threadCount() : 1;
    nat.addRowMasses(a.R, a.codes, a.rows, a.t0, a.t1, a.K, a.subtract ? 1 : 0, a.sum, a.O, a.F ?? null, threads);
    return;
  }
  addRowMassesJs(a);
}
