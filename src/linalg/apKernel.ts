/**
 * Affinity-propagation message passing on the native addon's sweep (native/kernels.c `ap_rows` /
 * `ap_colsum`, when built: S, R, A are plain Float64Arrays swept in place, two threads at any n)
 * or on the wasm SIMD kernel (`ap_rows` / `ap_colsum` in wasm/kernels.wat), both bit-identical
 * to the pure-JS fused pass in src/cluster/affinityPropagation.ts (and so to scikit-learn 1.2):
 * every matrix entry gets the same floating-point operations in the same order, column sums are
 * accumulated in row order (numpy's axis-0 order), and the row max / second max / FIRST argmax
 * are merged from the SIMD lanes with the smallest index winning ties.
 *
 * Resident mode (n ≲ 3,300): the n×n matrices S, R, A, the two column-sum vectors and the E /
 * run-length vectors live in the shared wasm memory; `apWorkspace` hands out Float64Array views of
 * them so the caller prepares S (preference + noise) in place, with no extra n² copy. That memory
 * is the scratch the other wasm kernels use, so a resident workspace is valid only until the next
 * linalg call (affinity propagation uses it within one synchronous call). Larger n (see
 * RESIDENT_MAX_BYTES): private mode — R and A in a wasm memory of their own that is freed after
 * the call, S a JS array streamed through a cache-sized block (n ≲ 11,500); streamed mode (beyond,
 * or when that memory cannot be had): S, R, A all on the JS heap, copied through blocks.
 *
 * Threads: with 2 threads the rows are split where the two threads meet (dynamic chunks: the
 * calling thread from the top, the worker from the bottom). The first share [0, m) accumulates its
 * column sums in the sweep, the second [m, n) does not; its column sums are then added in row
 * order by a column-chunked `ap_colsum` pass over R[m..n) on both threads. Each column sum is
 * therefore the same sequence of additions as the single-threaded sweep (bit-identical), at the
 * price of re-reading (n − m)/n of R once per iteration. Whether a pass runs on one or two threads
 * is decided from measured pass times (the machine is shared: with the second core busy, the
 * caller ends up waiting for a preempted worker). The wasm worker is started once per process and
 * parked in Atomics.wait between passes (unref'd: never keeps the process alive); the native
 * sweep splits the same way on the addon's parked POSIX thread.
 */
import type { Worker } from 'node:worker_threads';
import { wasm, wasmF64, wasmMemory, wasmModule, wasmPrivateInstance, wasmReserve } from './wasm/runtime.js';
import { WorkerSlot, awaitReady, spawnKernelWorker } from './wasm/threads.js';
import { hugeFloat64, native, type NativeKernels } from './native.js';

export interface ApWorkspace {
  readonly n: number;
  /** Working similarities (prepare preference + noise in place before the first pass). */
  readonly S: Float64Array;
  readonly R: Float64Array;
  readonly A: Float64Array;
  /** Exemplar indicator diag(A) + diag(R) > 0 after the last availability pass. */
  readonly E: Uint8Array;
  /** Consecutive availability passes for which E[i] has been unchanged. */
  readonly run: Int32Array;
  /** Threads the passes run on (1 or 2). */
  readonly threads: number;
  /** Zero R, A, E, run and the column sums (S is kept): the state before the first pass. */
  reset(): void;
  /**
   * One fused sweep: with doAvail the availabilities of iteration t (from the column sums of the
   * previous responsibilities), E and run; with doResp the responsibilities of t+1 and their
   * column sums. Returns the number of exemplar candidates (0 without doAvail).
   */
  pass(doAvail: boolean, doResp: boolean, damping: number): number;
}

const ALIGN = 16;
const up = (b: number) => Math.ceil(b / ALIGN) * ALIGN;

interface Layout {
  S: number;
  R: number;
  A: number;
  cs: [number, number];
  run: number;
  E: number;
  end: number;
}

function layout(n: number): Layout {
  const nn = n * n * 8;
  const S = 0, R = up(S + nn), A = up(R + nn), cs0 = up(A + nn), cs1 = up(cs0 + n * 8), run = up(cs1 + n * 8), E = up(run + n * 4);
  return { S, R, A, cs: [cs0, cs1], run, E, end: up(E + n) };
}

// ---- the optional second thread ------------------------------------------------------------------

// ctl (Int32): [0] sequence, [1] done sequence, [2] command (1 rows, 2 column sums), [3] failed,
// [4] row-chunk claims (front = main thread in the low 16 bits, back = worker in the high 16),
// [5] row chunks, [6] rows per chunk, [7] column-chunk claims, [8] column chunks, [9] columns per
// chunk, [10] first row of the column-sum phase, [11] worker's K, [12…19] pointers and n, flags.
// par (Float64 view from byte 96): d, omd.
const SEQ = 0, DONE = 1, CMD = 2, FAILED = 3, CLAIM = 4, NCH = 5, CROWS = 6, COLNEXT = 7, NCOLCH = 8, CCOLS = 9, MROW = 10, KW = 11, PTR = 12;
const workerSource = `
const { parentPort } = require('node:worker_threads');
parentPort.once('message', ({ module, memory, ctrl }) => {
  const c = new Int32Array(ctrl);
  const par = new Float64Array(ctrl, 96, 2);
  let k = null;
  try { k = new WebAssembly.Instance(module, { env: { memory } }).exports; } catch { Atomics.store(c, ${FAILED}, 1); }
  let seen = Atomics.load(c, ${SEQ});
  Atomics.store(c, ${DONE}, seen);
  Atomics.notify(c, ${DONE});
  if (!k) return;
  for (;;) {
    const seq = Atomics.load(c, ${SEQ});
    if (seq === seen) { Atomics.wait(c, ${SEQ}, seen); continue; }
    seen = seq;
    try {
      const p = c.subarray(${PTR}, ${PTR} + 8); // S R A cs ncs E run n; flags in [${PTR} + 8]
      const n = p[7];
      if (c[${CMD}] === 1) {
        // row chunks from the back, without column sums (the main thread adds them afterwards)
        const C = c[${NCH}], cr = c[${CROWS}], flags = c[${PTR} + 8] & 3;
        let K = 0;
        for (;;) {
          const old = Atomics.add(c, ${CLAIM}, 65536);
          const f = old & 0xffff, b = (old >>> 16) & 0xffff;
          if (f + b >= C) break;
          const q = C - 1 - b, r1 = Math.min(n, (q + 1) * cr);
          K += k.ap_rows(p[0], p[1], p[2], p[3], p[4], p[5], p[6], n, par[0], par[1], flags, q * cr, r1);
        }
        c[${KW}] = K;
      } else {
        const C = c[${NCOLCH}], cc = c[${CCOLS}], m = c[${MROW}];
        for (let q = Atomics.add(c, ${COLNEXT}, 1); q < C; q = Atomics.add(c, ${COLNEXT}, 1))
          k.ap_colsum(p[1], p[4], n, m, n, q * cc, Math.min(n, (q + 1) * cc));
      }
    } catch { Atomics.store(c, ${FAILED}, 1); }
    Atomics.store(c, ${DONE}, seq);
    Atomics.notify(c, ${DONE});
  }
});
`;

interface Helper {
  ctrl: Int32Array;
  par: Float64Array;
}

interface SpawnedHelper {
  worker: Worker;
  buf: SharedArrayBuffer;
}

function spawnHelper(): SpawnedHelper | null {
  if (!wasmModule || !wasmMemory) return null;
  const buf = new SharedArrayBuffer(112);
  Atomics.store(new Int32Array(buf), DONE, -1);
  try {
    const worker = spawnKernelWorker(workerSource, { module: wasmModule, memory: wasmMemory, ctrl: buf }, () => helper.disable());
    return { worker, buf };
  } catch {
    return null;
  }
}

function helperReady(s: SpawnedHelper): Helper | null {
  const ctrl = new Int32Array(s.buf);
  if (!awaitReady(ctrl, DONE, -1) || Atomics.load(ctrl, FAILED)) {
    void s.worker.terminate();
    return null;
  }
  return { ctrl, par: new Float64Array(s.buf, 96, 2) };
}

const helper = new WorkerSlot(spawnHelper, helperReady);

/**
 * Start the two-thread AP worker now without waiting for it, so its boot overlaps other work
 * (the distance matrix). Optional: the first two-thread workspace starts it anyway.
 */
export function prestartApHelper(): void {
  if (!native()) helper.prestart(); // the native pass runs on the addon's own threads
}

// ---- workspace -----------------------------------------------------------------------------------

/**
 * Largest resident workspace (S, R, A in the shared wasm memory): 256 MiB, n ≲ 3,300. That
 * memory never shrinks, so a resident workspace stays committed for the life of the process;
 * beyond this size the private mode (R, A in a memory of their own, freed after the call, S
 * streamed) is used. Measured at n = 2,736, one thread: private 14.4 ms per pass, resident
 * 14.5 ms (the block copy of S is hidden by the memory-bound pass), streamed 26.9 ms. Only the
 * resident mode runs two threads, hence the resident range covers the --scale 8 size.
 */
const RESIDENT_MAX_BYTES = 256 * 1024 * 1024;
/** Streamed block: about this many bytes per matrix (3 blocks stay in L2 together). */
const BLOCK_BYTES = 256 * 1024;

/**
 * An AP workspace for n points (call reset() before the first pass), or null when wasm is
 * unavailable (PHENOMAP_NO_WASM=1, no SIMD) or cannot grow — the caller then runs the pure-JS
 * path. Up to RESIDENT_MAX_BYTES the matrices live in the wasm memory; beyond, they are plain
 * Float64Arrays and `S` may be the caller's array (`externalS`, e.g. with copy = false: no copy).
 * threads > 1 asks for the two-thread split (resident mode only; falls back to 1 when the worker
 * cannot start). Valid until the next linalg call (the wasm memory is shared scratch).
 */
export function apWorkspace(n: number, opts: ApWorkspaceOptions = {}): ApWorkspace | null {
  if (!Number.isInteger(n) || n < 2) return null;
  const mode = opts.mode ?? 'auto';
  const nat = native();
  if (nat && (mode === 'auto' || mode === 'native')) return nativeWorkspace(nat, n, opts);
  if (!wasm || mode === 'native') return null;
  const L = layout(n);
  if (mode !== 'streamed' && (mode === 'resident' || L.end <= RESIDENT_MAX_BYTES) && wasmReserve(L.end))
    return resident(n, L, opts.threads ?? 1, opts.maxMainChunks ?? Infinity);
  if (mode === 'resident') return null;
  if (mode !== 'streamed') {
    const ws = privateWorkspace(n, opts.externalS, opts.blockRows);
    if (ws || mode === 'private') return ws;
  }
  return streamed(n, opts.externalS, opts.blockRows);
}

/**
 * Private mode: R, A (and the small vectors) resident in a wasm memory of their own, freed by the
 * garbage collector after the call; S stays a JS array (the caller's with copy = false) and is
 * streamed through a block buffer in the same memory. Per pass that is one extra memcpy of S into
 * cache-resident blocks; DRAM still sees S read once and R, A read and written once. At n = 10,000:
 * 1.6 GB of wasm memory next to the caller's 0.8 GB S.
 */
function privateWorkspace(n: number, externalS?: Float64Array, blockRows?: number): ApWorkspace | null {
  const nn = n * n;
  const B = Math.max(1, Math.min(n, blockRows ?? Math.floor(BLOCK_BYTES / (8 * n))));
  const pR = 0, pA = up(nn * 8), pS = up(pA + nn * 8), cs0a = up(pS + B * n * 8), cs1a = up(cs0a + n * 8);
  const runa = up(cs1a + n * 8), Ea = up(runa + n * 4), end = up(Ea + n);
  // Addresses stay below 2³¹ (n ≲ 11,500), so no pointer argument ever needs its sign bit.
  if (end > 2 ** 31 - 65536) return null;
  const inst = wasmPrivateInstance(end);
  if (!inst) return null;
  const W = inst.exports, buf = inst.buffer;
  const R = new Float64Array(buf, pR, nn), A = new Float64Array(buf, pA, nn), bS = new Float64Array(buf, pS, B * n);
  const cs0 = new Float64Array(buf, cs0a, n), cs1 = new Float64Array(buf, cs1a, n);
  const run = new Int32Array(buf, runa, n);
  const E = new Uint8Array(buf, Ea, n);
  const S = externalS && externalS.length === nn ? externalS : new Float64Array(nn);
  return blockedWorkspace({ n, B, S, R, A, E, run, cs0, cs1, cs0a, cs1a }, (r0, r1, cs, ncs, d, omd, flags) => {
    bS.set(S.subarray(r0 * n, r1 * n));
    // Row i of S sits at pS + (i − r0)·n·8: the base is shifted back by r0 rows (i32 arithmetic
    // wraps, so the kernel's base + i·n·8 lands in the block).
    return W.ap_rows((pS - r0 * n * 8) | 0, pR, pA, cs, ncs, Ea, runa, n, d, omd, flags, r0, r1);
  });
}

interface BlockedParts {
  n: number;
  /** Rows per block. */
  B: number;
  S: Float64Array;
  R: Float64Array;
  A: Float64Array;
  E: Uint8Array;
  run: Int32Array;
  cs0: Float64Array;
  cs1: Float64Array;
  /** WASM addresses of the two column-sum vectors. */
  cs0a: number;
  cs1a: number;
}

/** The state before the first pass, whatever the mode: messages, column sums and counters zeroed. */
function zeroMessages(R: Float64Array, A: Float64Array, cs0: Float64Array, cs1: Float64Array, run: Int32Array, E: Uint8Array): void {
  R.fill(0);
  A.fill(0);
  cs0.fill(0);
  cs1.fill(0);
  run.fill(0);
  E.fill(0);
}

/**
 * A single-threaded workspace that runs each pass block of rows by block of rows; `block` moves
 * what its mode keeps outside wasm memory in and out and calls the kernel on rows [r0, r1).
 */
function blockedWorkspace(
  p: BlockedParts,
  block: (r0: number, r1: number, cs: number, ncs: number, d: number, omd: number, flags: number) => number,
): ApWorkspace {
  const { n, B, S, R, A, E, run, cs0, cs1, cs0a, cs1a } = p;
  let cur = 0; // which column-sum vector holds the current responsibilities' sums
  return {
    n,
    S,
    R,
    A,
    E,
    run,
    threads: 1,
    reset() {
      zeroMessages(R, A, cs0, cs1, run, E);
      cur = 0;
    },
    pass(doAvail, doResp, damping) {
      const cs = cur === 0 ? cs0a : cs1a, ncs = cur === 0 ? cs1a : cs0a;
      if (doResp) (cur === 0 ? cs1 : cs0).fill(0);
      const flags = (doAvail ? 1 : 0) | (doResp ? 6 : 0);
      let K = 0;
      for (let r0 = 0; r0 < n; r0 += B) K += block(r0, Math.min(n, r0 + B), cs, ncs, damping, 1 - damping, flags);
      if (doResp) cur = 1 - cur;
      return K;
    },
  };
}

export interface ApWorkspaceOptions {
  /** 2 = the two-thread split (resident mode). Default 1. */
  threads?: number;
  /** Streamed mode: use this n² array as S (prepared in place by the caller). */
  externalS?: Float64Array;
  /**
   * Default 'auto': native when the addon is built, else resident (shared wasm memory) up to
   * 256 MiB, then private (R, A in a wasm memory of their own, freed after use, S streamed), then
   * streamed (everything on the JS heap). An explicit wasm mode skips the native kernels.
   */
  mode?: 'auto' | 'native' | 'resident' | 'private' | 'streamed';
  /** Streamed mode: rows per block (default: about 256 KiB per matrix). */
  blockRows?: number;
  /**
   * Two threads: the most row chunks (of ⌈n/64⌉ rows) the calling thread takes before leaving the
   * rest to the worker (default: no limit). For tests — makes the split, and with it the column-sum
   * phase, deterministic.
   */
  maxMainChunks?: number;
}

/**
 * Which passes run on two threads. Passes 0–3 alternate one and two threads, then the faster
 * (running estimate) is used, with a probe of the other every 8th pass — the machine is shared,
 * and two threads lose when the second core is busy (the caller then waits for a preempted
 * helper). Only full passes (availabilities and responsibilities) are timed; the others alternate.
 */
function threadChooser() {
  let fullPasses = 0, est1 = Infinity, est2 = Infinity;
  return {
    reset(): void {
      fullPasses = 0;
      est1 = est2 = Infinity;
    },
    twoThreads(full: boolean): boolean {
      return !full || fullPasses < 4 ? (fullPasses & 1) === 0 : (fullPasses % 8 === 7) !== (est2 < est1);
    },
    record(full: boolean, two: boolean, ms: number): void {
      if (!full) return;
      if (two) est2 = est2 === Infinity ? ms : 0.5 * (est2 + ms);
      else est1 = est1 === Infinity ? ms : 0.5 * (est1 + ms);
      fullPasses++;
    },
  };
}

/**
 * Native mode's S, R and A, kept between calls while 3·n² doubles fit in RESIDENT_MAX_BYTES, as
 * the resident wasm memory is: a fresh 180 MB (n = 2,736) costs ~100 ms of first-touch page
 * faults on a VM, once per AP call otherwise. Larger workspaces are allocated per call and
 * left to the garbage collector.
 */
let nativeCache: Float64Array | null = null;

/**
 * Native mode: S, R, A are plain Float64Arrays the addon sweeps in place (S the caller's with
 * externalS), with the same two-ended two-thread split as resident mode on the addon's POSIX
 * threads, at any n.
 */
function nativeWorkspace(nat: NativeKernels, n: number, opts: ApWorkspaceOptions): ApWorkspace {
  const nn = n * n;
  const ownS = !(opts.externalS && opts.externalS.length === nn);
  let R: Float64Array, A: Float64Array, S: Float64Array;
  if (3 * nn * 8 <= RESIDENT_MAX_BYTES) {
    if (!nativeCache || nativeCache.length < 3 * nn) nativeCache = hugeFloat64(3 * nn);
    R = nativeCache.subarray(0, nn);
    A = nativeCache.subarray(nn, 2 * nn);
    S = ownS ? nativeCache.subarray(2 * nn, 3 * nn) : opts.externalS!;
  } else {
    R = hugeFloat64(nn);
    A = hugeFloat64(nn);
    S = ownS ? hugeFloat64(nn) : opts.externalS!;
  }
  const cs0 = new Float64Array(n), cs1 = new Float64Array(n);
  const run = new Int32Array(n);
  const E = new Uint8Array(n);
  const threads = (opts.threads ?? 1) > 1 && n >= 8 ? 2 : 1;
  const frontCap = opts.maxMainChunks ?? -1;
  const chooser = threadChooser();
  let cur = 0; // which column-sum vector holds the current responsibilities' sums
  return {
    n,
    S,
    R,
    A,
    E,
    run,
    threads,
    reset() {
      zeroMessages(R, A, cs0, cs1, run, E);
      cur = 0;
      chooser.reset();
    },
    pass(doAvail, doResp, damping) {
      const cs = cur === 0 ? cs0 : cs1, ncs = cur === 0 ? cs1 : cs0;
      if (doResp) ncs.fill(0);
      const flags = (doAvail ? 1 : 0) | (doResp ? 6 : 0);
      const full = doAvail && doResp;
      const two = threads > 1 && (frontCap >= 0 || chooser.twoThreads(full));
      const t0 = performance.now();
      const K = nat.apPass(S, R, A, cs, ncs, E, run, n, damping, 1 - damping, flags, two ? 2 : 1, frontCap);
      chooser.record(full, two, performance.now() - t0);
      if (doResp) cur = 1 - cur;
      return K;
    },
  };
}

function streamed(n: number, externalS?: Float64Array, blockRows?: number): ApWorkspace | null {
  const W = wasm!;
  const nn = n * n;
  const B = Math.max(1, Math.min(n, blockRows ?? Math.floor(BLOCK_BYTES / (8 * n))));
  const bn = B * n * 8;
  const pS = 0, pR = up(bn), pA = up(pR + bn), cs0a = up(pA + bn), cs1a = up(cs0a + n * 8), runa = up(cs1a + n * 8), Ea = up(runa + n * 4);
  if (!wasmReserve(up(Ea + n))) return null;
  const buf = wasmF64().buffer;
  const bS = new Float64Array(buf, pS, B * n), bR = new Float64Array(buf, pR, B * n), bA = new Float64Array(buf, pA, B * n);
  const cs0 = new Float64Array(buf, cs0a, n), cs1 = new Float64Array(buf, cs1a, n);
  const run = new Int32Array(buf, runa, n);
  const E = new Uint8Array(buf, Ea, n);
  const S = externalS && externalS.length === nn ? externalS : new Float64Array(nn);
  const R = new Float64Array(nn), A = new Float64Array(nn);
  return blockedWorkspace({ n, B, S, R, A, E, run, cs0, cs1, cs0a, cs1a }, (r0, r1, cs, ncs, d, omd, flags) => {
    const lo = r0 * n, hi = r1 * n;
    bS.set(S.subarray(lo, hi));
    bR.set(R.subarray(lo, hi));
    bA.set(A.subarray(lo, hi));
    // Row i of the block sits at buffer + (i − r0)·n·8: pass base pointers shifted back by
    // r0 rows (i32 arithmetic wraps, so the kernel's base + i·n·8 lands in the buffer).
    const shift = r0 * n * 8;
    const K = W.ap_rows((pS - shift) | 0, (pR - shift) | 0, (pA - shift) | 0, cs, ncs, Ea, runa, n, d, omd, flags, r0, r1);
    if (flags & 6) R.set(bR.subarray(0, hi - lo), lo);
    if (flags & 1) A.set(bA.subarray(0, hi - lo), lo);
    return K;
  });
}

function resident(n: number, L: Layout, threads: number, maxMainChunks: number): ApWorkspace {
  const W = wasm!;
  const mem = wasmF64();
  const buf = mem.buffer;
  const nn = n * n;
  const S = new Float64Array(buf, L.S, nn);
  const R = new Float64Array(buf, L.R, nn);
  const A = new Float64Array(buf, L.A, nn);
  const cs0 = new Float64Array(buf, L.cs[0], n), cs1 = new Float64Array(buf, L.cs[1], n);
  const run = new Int32Array(buf, L.run, n);
  const E = new Uint8Array(buf, L.E, n);
  const h = threads > 1 ? helper.get() : null;
  let cur = 0; // index of the column sums of the current responsibilities
  // Two threads, dynamic two-ended split: the main thread claims row chunks from the top (rows in
  // order, accumulating the column sums), the worker from the bottom (no column sums); where they
  // meet, m, the column sums of rows [m, n) are added in row order by column chunks claimed by
  // both. A thread the OS does not schedule simply gets fewer chunks (the machine is shared).
  const cr = Math.max(1, Math.ceil(n / 64));
  const nch = Math.ceil(n / cr);
  const cc = Math.max(2, 2 * Math.ceil(n / 32));
  const ncc = Math.ceil(n / cc);

  const chooser = threadChooser();
  const dispatch = (cmd: number) => {
    const c = h!.ctrl;
    c[CMD] = cmd;
    const seq = (Atomics.load(c, SEQ) + 1) | 0;
    Atomics.store(c, SEQ, seq);
    Atomics.notify(c, SEQ);
    return seq;
  };
  const join = (seq: number) => {
    const c = h!.ctrl;
    // A pass takes well under a second at any resident n; a worker silent for a minute is gone.
    const deadline = Date.now() + 60000;
    for (;;) {
      const done = Atomics.load(c, DONE);
      if (done === seq) break;
      if (Date.now() > deadline) {
        helper.disable();
        throw new Error('affinity propagation: the wasm worker thread stopped responding');
      }
      Atomics.wait(c, DONE, done, 1000);
    }
    if (Atomics.load(c, FAILED)) throw new Error('affinity propagation: the wasm worker thread failed');
  };
  const twoThreads = (cs: number, ncs: number, flags: number, d: number, omd: number): number => {
    const c = h!.ctrl;
    c[PTR] = L.S;
    c[PTR + 1] = L.R;
    c[PTR + 2] = L.A;
    c[PTR + 3] = cs;
    c[PTR + 4] = ncs;
    c[PTR + 5] = L.E;
    c[PTR + 6] = L.run;
    c[PTR + 7] = n;
    c[PTR + 8] = flags;
    h!.par[0] = d;
    h!.par[1] = omd;
    c[NCH] = nch;
    c[CROWS] = cr;
    Atomics.store(c, CLAIM, 0);
    const seq = dispatch(1);
    let K = 0, front = 0;
    while (front < maxMainChunks) {
      const old = Atomics.add(c, CLAIM, 1);
      const f = old & 0xffff, b = (old >>> 16) & 0xffff;
      if (f + b >= nch) break;
      K += W.ap_rows(L.S, L.R, L.A, cs, ncs, L.E, L.run, n, d, omd, flags, f * cr, Math.min(n, (f + 1) * cr));
      front = f + 1;
    }
    join(seq);
    K += c[KW]!;
    const m = Math.min(n, front * cr);
    if (flags & 4 && m < n) {
      c[MROW] = m;
      c[NCOLCH] = ncc;
      c[CCOLS] = cc;
      Atomics.store(c, COLNEXT, 0);
      const s2 = dispatch(2);
      for (let q = Atomics.add(c, COLNEXT, 1); q < ncc; q = Atomics.add(c, COLNEXT, 1))
        W.ap_colsum(L.R, ncs, n, m, n, q * cc, Math.min(n, (q + 1) * cc));
      join(s2);
    }
    return K;
  };

  return {
    n,
    S,
    R,
    A,
    E,
    run,
    threads: h ? 2 : 1,
    reset() {
      zeroMessages(R, A, cs0, cs1, run, E);
      cur = 0;
      chooser.reset();
    },
    pass(doAvail, doResp, damping) {
      const d = damping, omd = 1 - damping;
      const cs = L.cs[cur]!, ncs = L.cs[1 - cur]!;
      if (doResp) (cur === 0 ? cs1 : cs0).fill(0);
      const flags = (doAvail ? 1 : 0) | (doResp ? 6 : 0);
      let K: number;
      if (!h) {
        K = W.ap_rows(L.S, L.R, L.A, cs, ncs, L.E, L.run, n, d, omd, flags, 0, n);
      } else {
        const full = doAvail && doResp;
        const use2 = chooser.twoThreads(full);
        const t0 = performance.now();
        K = use2 ? twoThreads(cs, ncs, flags, d, omd) : W.ap_rows(L.S, L.R, L.A, cs, ncs, L.E, L.run, n, d, omd, flags, 0, n);
        chooser.record(full, use2, performance.now() - t0);
      }
      if (doResp) cur = 1 - cur;
      return K;
    },
  };
}
