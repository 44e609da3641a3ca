/**
 * Two-phase, multi-threaded affinity-propagation iteration on SharedArrayBuffers, bit-identical
 * to the single-threaded fused pass (and so to sklearn):
 * - row phase (rows split between threads): availabilities of iteration t, E, the row max of
 *   A + S and the responsibilities of t+1 — all row-local;
 * - column phase (columns split): column sums of Rp over ALL rows in row order, so each sum is
 *   accumulated in exactly numpy's order (a row split would need partial sums, changing the bits).
 * The calling thread takes one share itself and blocks on Atomics.wait for the others, so the API
 * stays synchronous. Worker code is the source text of the kernels below (no imports), evaluated
 * in the worker, so it runs the same under tsx, vitest and the compiled build.
 */
import { Worker } from 'node:worker_threads';

/** Row phase for rows [r0, r1). Returns the number of exemplar candidates among those rows. */
export function rowPhase(
  S: Float64Array,
  R: Float64Array,
  A: Float64Array,
  cs: Float64Array,
  E: Uint8Array,
  run: Int32Array,
  n: number,
  d: number,
  omd: number,
  doAvail: boolean,
  doResp: boolean,
  r0: number,
  r1: number,
): number {
  let K = 0;
  for (let i = r0; i < r1; i++) {
    const o = i * n;
    const rii = R[o + i]!;
    let y1 = -Infinity, y2 = -Infinity, I = 0;
    if (doAvail) {
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
      const vi = aii + S[o + i]!;
      if (vi > y2) {
        if (vi > y1) {
          y2 = y1;
          y1 = vi;
          I = i;
        } else y2 = vi;
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
    const rI = R[o + I]!;
    for (let j = 0; j < n; j++) R[o + j] = R[o + j]! * d + (S[o + j]! - y1) * omd;
    R[o + I] = rI * d + (S[o + I]! - y2) * omd;
  }
  return K;
}

/** Column phase for columns [c0, c1): ncs[j] = Σ_i (i ≠ j ? max(R[i,j], 0) : R[j,j]) in row order. */
export function colPhase(R: Float64Array, ncs: Float64Array, n: number, c0: number, c1: number): void {
  for (let j = c0; j < c1; j++) ncs[j] = 0;
  for (let i = 0; i < n; i++) {
    const o = i * n;
    if (i >= c0 && i < c1) {
      for (let j = c0; j < i; j++) ncs[j] = ncs[j]! + Math.max(R[o + j]!, 0);
      ncs[i] = ncs[i]! + R[o + i]!;
      for (let j = i + 1; j < c1; j++) ncs[j] = ncs[j]! + Math.max(R[o + j]!, 0);
    } else {
      for (let j = c0; j < c1; j++) ncs[j] = ncs[j]! + Math.max(R[o + j]!, 0);
    }
  }
}

// ctl slots
const GEN = 0, CMD = 1, AVAIL = 2, RESP = 3, DONE = 4, CSIDX = 5, READY = 6, FAILED = 7;
const CMD_QUIT = 0, CMD_ROW = 1, CMD_COL = 2;

const WORKER_SOURCE = (): string => `
const { workerData } = require('node:worker_threads');
const rowPhase = ${rowPhase.toString()};
const colPhase = ${colPhase.toString()};
const w = workerData;
const ctl = new Int32Array(w.ctl);
const S = new Float64Array(w.S), R = new Float64Array(w.R), A = new Float64Array(w.A);
const csb = [new Float64Array(w.cs0), new Float64Array(w.cs1)];
const E = new Uint8Array(w.E), run = new Int32Array(w.run), ks = new Int32Array(w.ks);
const par = new Float64Array(w.par);
let seen = 0;
Atomics.add(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
for (;;) {
  Atomics.wait(ctl, ${GEN}, seen);
  seen = Atomics.load(ctl, ${GEN});
  const cmd = ctl[${CMD}];
  if (cmd === ${CMD_QUIT}) break;
  try {
    const n = w.n, T = w.T, t = w.t;
    if (cmd === ${CMD_ROW}) {
      const r0 = Math.floor((n * t) / T), r1 = Math.floor((n * (t + 1)) / T);
      ks[t] = rowPhase(S, R, A, csb[ctl[${CSIDX}]], E, run, n, par[0], par[1], ctl[${AVAIL}] === 1, ctl[${RESP}] === 1, r0, r1);
    } else if (cmd === ${CMD_COL}) {
      const c0 = Math.floor((n * t) / T), c1 = Math.floor((n * (t + 1)) / T);
      colPhase(R, csb[ctl[${CSIDX}]], n, c0, c1);
    }
  } catch (e) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.add(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
`;

export interface ApThreads {
  R: Float64Array;
  A: Float64Array;
  cs: [Float64Array, Float64Array];
  E: Uint8Array;
  run: Int32Array;
  /** Row phase on every thread; returns total K. */
  rows(csIdx: number, doAvail: boolean, doResp: boolean): number;
  /** Column phase on every thread, writing column sums into cs[csIdx]. */
  cols(csIdx: number): void;
  close(): void;
}

/**
 * Start T−1 workers sharing S (which must live in a SharedArrayBuffer). Returns undefined when
 * the workers cannot start within a few seconds (the caller then runs single-threaded).
 */
export function startApThreads(S: Float64Array, n: number, T: number, damping: number): ApThreads | undefined {
  if (!(S.buffer instanceof SharedArrayBuffer) || T < 2) return undefined;
  const sab = (bytes: number) => new SharedArrayBuffer(bytes);
  const Rb = sab(n * n * 8), Ab = sab(n * n * 8), cs0 = sab(n * 8), cs1 = sab(n * 8);
  const Eb = sab(n), runb = sab(n * 4), ksb = sab(T * 4), ctlb = sab(8 * 4), parb = sab(16);
  const ctl = new Int32Array(ctlb);
  const par = new Float64Array(parb);
  par[0] = damping;
  par[1] = 1 - damping;
  const workers: Worker[] = [];
  for (let t = 1; t < T; t++) {
    const wk = new Worker(WORKER_SOURCE(), {
      eval: true,
      workerData: { S: S.buffer, R: Rb, A: Ab, cs0, cs1, E: Eb, run: runb, ks: ksb, ctl: ctlb, par: parb, n, T, t },
    });
    wk.unref();
    workers.push(wk);
  }
  // Handshake: the workers boot on their own threads while this one waits.
  const deadline = Date.now() + 10000;
  let ready: number;
  while ((ready = Atomics.load(ctl, READY)) < T - 1 && Date.now() < deadline) Atomics.wait(ctl, READY, ready, 100);
  if (Atomics.load(ctl, READY) < T - 1) {
    for (const wk of workers) void wk.terminate();
    return undefined;
  }
  const R = new Float64Array(Rb), A = new Float64Array(Ab);
  const cs: [Float64Array, Float64Array] = [new Float64Array(cs0), new Float64Array(cs1)];
  const E = new Uint8Array(Eb), run = new Int32Array(runb), ks = new Int32Array(ksb);
  const d = damping, omd = 1 - damping;
  const dispatch = (cmd: number) => {
    Atomics.store(ctl, DONE, 0);
    ctl[CMD] = cmd;
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
  };
  const join = () => {
    let v: number;
    while ((v = Atomics.load(ctl, DONE)) < T - 1) Atomics.wait(ctl, DONE, v);
    if (Atomics.load(ctl, FAILED)) throw new Error('affinity propagation: a worker thread failed');
  };
  return {
    R,
    A,
    cs,
    E,
    run,
    rows(csIdx, doAvail, doResp) {
      ctl[CSIDX] = csIdx;
      ctl[AVAIL] = doAvail ? 1 : 0;
      ctl[RESP] = doResp ? 1 : 0;
      dispatch(CMD_ROW);
      let K = rowPhase(S, R, A, cs[csIdx], E, run, n, d, omd, doAvail, doResp, 0, Math.floor(n / T));
      join();
      for (let t = 1; t < T; t++) K += ks[t]!;
      return K;
    },
    cols(csIdx) {
      ctl[CSIDX] = csIdx;
      dispatch(CMD_COL);
      colPhase(R, cs[csIdx], n, 0, Math.floor(n / T));
      join();
    },
    close() {
      ctl[CMD] = CMD_QUIT;
      Atomics.add(ctl, GEN, 1);
      Atomics.notify(ctl, GEN);
    },
  };
}
