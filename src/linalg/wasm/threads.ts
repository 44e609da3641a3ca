/**
 * Worker threads for the big wasm products, behind a synchronous API.
 *
 * Workers instantiate the same wasm module on the same shared memory. A job is one `nt_tile`
 * call cut into row-block chunks: the main thread writes the parameters into a small
 * SharedArrayBuffer, bumps a sequence number and notifies; every participant (workers parked in
 * Atomics.wait, and the main thread) claims chunks with Atomics.add until none are left; the main
 * thread then blocks in Atomics.wait (allowed on Node's main thread) until every worker reports
 * done. Workers are unref'd: they never keep a process alive, and exit terminates them even
 * while parked.
 *
 * The row split does not change any floating-point operation (each C entry is still computed by
 * one micro-kernel call sequence over p), so threaded results are bit-identical to one thread.
 * `PHENOMAP_THREADS=n` sets the thread count (1 disables the workers; see threadCount).
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { wasm, wasmModule, wasmMemory } from './runtime.js';
import { native } from '../native.js';

// Control words (Int32): [0] job sequence, [1 + w] last sequence finished by worker w,
// [8 + w] worker w failed, [16] next chunk to claim, [17] chunk count, [20…31] tile parameters,
// [32 …] chunk boundaries in row blocks (nChunks + 1 values).
const SEQ = 0;
const FAILED = 8;
const NEXT = 16;
const NCHUNK = 17;
const PARAMS = 20;
const NPARAM = 10;
const BOUNDS = 32;
/** Chunks per thread: small enough that a descheduled thread delays the others by little. */
const CHUNKS_PER_THREAD = 8;
const MAX_CHUNKS = 128;

// Each participant (workers and the main thread) claims chunks with Atomics.add until none are
// left, so a thread that the OS does not schedule (busy machine) simply does fewer chunks.
const workerSource = `
const { parentPort } = require('node:worker_threads');
parentPort.once('message', ({ module, memory, ctrl, index }) => {
  const c = new Int32Array(ctrl);
  let seen = Atomics.load(c, ${SEQ});
  let ntTile = null;
  try {
    ntTile = new WebAssembly.Instance(module, { env: { memory } }).exports.nt_tile;
  } catch {
    Atomics.store(c, ${FAILED} + index, 1);
  }
  Atomics.store(c, 1 + index, seen);
  Atomics.notify(c, 1 + index);
  if (!ntTile) return;
  // Parked in a blocking Atomics.wait: Node's Atomics.waitAsync is not woken by a notify from a
  // main thread that is itself blocked, and termination at process exit interrupts the wait.
  for (;;) {
    const seq = Atomics.load(c, ${SEQ});
    if (seq === seen) {
      Atomics.wait(c, ${SEQ}, seen);
      continue;
    }
    seen = seq;
    try {
      const p = c.subarray(${PARAMS}, ${PARAMS + NPARAM});
      const n = Atomics.load(c, ${NCHUNK});
      for (let i = Atomics.add(c, ${NEXT}, 1); i < n; i = Atomics.add(c, ${NEXT}, 1)) {
        ntTile(p[0], p[1], p[2], c[${BOUNDS} + i], c[${BOUNDS} + i + 1], p[3], p[4], p[5], p[6], p[7], p[8], p[9]);
      }
    } catch {
      Atomics.store(c, ${FAILED} + index, 1);
    }
    Atomics.store(c, 1 + index, seq);
    Atomics.notify(c, 1 + index);
  }
});
`;

interface Pool {
  workers: Worker[];
  ctrl: Int32Array;
}

/**
 * Threads to use: the core count (at most 8), or PHENOMAP_THREADS=n (1 = no workers). Measured on
 * the 2-vCPU development machine at n = 2,736 (bench/kernels.ts): 1.5–1.85× faster when the
 * second core is free; when other processes saturate both cores the dynamic chunking keeps the
 * loss small (the main thread takes the chunks an unscheduled worker does not).
 */
export function threadCount(): number {
  const env = process.env.PHENOMAP_THREADS;
  const want = env !== undefined && env !== '' ? Math.max(1, Math.floor(Number(env)) || 1) : Infinity;
  return Math.min(want, cores(), 8); // FAILED words [8, 16) cover 7 workers
}

/** availableParallelism(), asked once: every native product asks for the thread count (≈ 10 µs a call). */
let coreCount = 0;
function cores(): number {
  if (coreCount === 0) coreCount = availableParallelism();
  return coreCount;
}

/**
 * An unref'd worker running `source` (CommonJS, eval'd), sent `message` as its start message. The
 * kernel workers here and in apKernel.ts start this way; `onError` runs if the worker dies.
 */
export function spawnKernelWorker(source: string, message: unknown, onError: () => void): Worker {
  const worker = new Worker(source, { eval: true, execArgv: [], stdout: false, stderr: false });
  worker.unref();
  worker.on('error', onError);
  worker.postMessage(message);
  return worker;
}

/**
 * Block until ctrl[idx] leaves `pending` (a worker's ready signal), for at most 5 s; false on
 * timeout. Blocking is allowed on Node's main thread and keeps the linalg API synchronous.
 */
export function awaitReady(ctrl: Int32Array, idx: number, pending: number): boolean {
  const deadline = Date.now() + 5000;
  while (Atomics.load(ctrl, idx) === pending) {
    if (Date.now() > deadline) return false;
    Atomics.wait(ctrl, idx, pending, 50);
  }
  return true;
}

/**
 * A worker (or pool) started at most once per process: `prestart()` spawns it without waiting,
 * `get()` returns it ready — adopting a prestarted one, else spawning and waiting — or null when it
 * is unavailable; `disable()` stops its use (a worker died or failed). Spawning never blocks;
 * `ready` may block briefly on the worker's start signal.
 */
export class WorkerSlot<Spawned, Ready> {
  private value: Ready | null | undefined; // undefined: not tried yet; null: unavailable
  private spawned: Spawned | null = null;

  constructor(private readonly spawn: () => Spawned | null, private readonly ready: (s: Spawned) => Ready | null) {}

  prestart(): void {
    if (this.value === undefined && this.spawned === null) this.spawned = this.spawn();
  }

  get(): Ready | null {
    if (this.value !== undefined) return this.value;
    this.value = null;
    const s = this.spawned ?? this.spawn();
    this.spawned = null;
    if (s) this.value = this.ready(s);
    return this.value;
  }

  disable(): void {
    this.value = null;
    this.spawned = null;
  }
}

/** Spawn the workers (they instantiate the module on their own threads); null if none can start. */
function spawnWorkers(): Pool | null {
  const nThreads = threadCount();
  if (nThreads < 2 || !wasm || !wasmModule || !wasmMemory) return null;
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * (BOUNDS + MAX_CHUNKS + 1)));
  const workers: Worker[] = [];
  try {
    for (let w = 0; w < nThreads - 1; w++) {
      Atomics.store(ctrl, 1 + w, -1);
      // An error is only reachable between calls (the event loop is free): stop using threads.
      workers.push(spawnKernelWorker(workerSource, { module: wasmModule, memory: wasmMemory, ctrl: ctrl.buffer, index: w }, () => pool.disable()));
    }
  } catch {
    for (const w of workers) void w.terminate();
    return null;
  }
  return { workers, ctrl };
}

/** Every worker must have instantiated the module; otherwise none is used. */
function poolReady(p: Pool): Pool | null {
  const { workers, ctrl } = p;
  for (let w = 0; w < workers.length; w++) {
    if (!awaitReady(ctrl, 1 + w, -1) || Atomics.load(ctrl, FAILED + w)) {
      for (const x of workers) void x.terminate();
      return null;
    }
  }
  return p;
}

const pool = new WorkerSlot(spawnWorkers, poolReady);

/**
 * Start the worker threads now without waiting for them, so that the ~20–40 ms a worker takes to
 * boot overlaps other work (reading the input) instead of delaying the first large product.
 * Optional: the first parallel product starts them anyway. Does nothing when threads are off or
 * the native kernels are in use.
 */
export function prestartThreads(): void {
  if (native()) return; // native products run on their own threads; the wasm pool would idle
  pool.prestart();
}

/** Number of threads a parallel tile would use (1 when workers are unavailable). */
export function parallelThreads(): number {
  const p = pool.get();
  return p ? p.workers.length + 1 : 1;
}

/**
 * Row-block boundaries cutting [0, mb) into about `parts` chunks of equal micro-kernel work:
 * row block ib costs nb − ib calls in a diagonal (sym) tile, nb otherwise.
 */
function chunkBounds(mb: number, nb: number, sym: boolean, parts: number): number[] {
  const cost = (ib: number) => (sym ? Math.max(1, nb - ib) : nb);
  let total = 0;
  for (let ib = 0; ib < mb; ib++) total += cost(ib);
  const bounds = [0];
  let acc = 0, ib = 0;
  for (let t = 1; t < parts; t++) {
    const target = (total * t) / parts;
    while (ib < mb && acc + cost(ib) / 2 < target) acc += cost(ib++);
    if (ib > bounds[bounds.length - 1]! && ib < mb) bounds.push(ib);
  }
  bounds.push(mb);
  return bounds;
}

/**
 * nt_tile over row blocks [0, mb), shared between this thread and the workers (dynamic chunks).
 * Blocks until every chunk is done. Same arguments as the wasm export, minus the row range.
 */
export function ntTileParallel(
  mb: number, ap: number, bp: number, cp: number, nb: number, k: number, ldc: number,
  sym: number, kc: number, pb: number, acc: number,
): void {
  const p = pool.get();
  if (!p) {
    wasm!.nt_tile(ap, bp, cp, 0, mb, nb, k, ldc, sym, kc, pb, acc);
    return;
  }
  const { ctrl, workers } = p;
  const bounds = chunkBounds(mb, nb, sym !== 0, Math.min(MAX_CHUNKS, CHUNKS_PER_THREAD * (workers.length + 1)));
  const nChunks = bounds.length - 1;
  const vals = [ap, bp, cp, nb, k, ldc, sym, kc, pb, acc];
  for (let q = 0; q < NPARAM; q++) ctrl[PARAMS + q] = vals[q]!;
  for (let i = 0; i <= nChunks; i++) ctrl[BOUNDS + i] = bounds[i]!;
  Atomics.store(ctrl, NCHUNK, nChunks);
  Atomics.store(ctrl, NEXT, 0);
  const seq = (Atomics.load(ctrl, SEQ) + 1) | 0;
  Atomics.store(ctrl, SEQ, seq);
  Atomics.notify(ctrl, SEQ);
  for (let i = Atomics.add(ctrl, NEXT, 1); i < nChunks; i = Atomics.add(ctrl, NEXT, 1)) {
    wasm!.nt_tile(ap, bp, cp, bounds[i]!, bounds[i + 1]!, nb, k, ldc, sym, kc, pb, acc);
  }
  let failed = false;
  for (let w = 0; w < workers.length; w++) {
    for (;;) {
      const done = Atomics.load(ctrl, 1 + w);
      if (done === seq) break;
      Atomics.wait(ctrl, 1 + w, done, 1000);
    }
    if (Atomics.load(ctrl, FAILED + w)) failed = true;
  }
  if (failed) {
    // A worker threw mid-chunk (should not happen): recompute the whole tile here, where the
    // result is known to be complete, and stop using the workers. acc = 1 tiles were already
    // accumulated into, so only an overwriting (acc = 0) pass can be safely redone.
    if (acc === 0) wasm!.nt_tile(ap, bp, cp, 0, mb, nb, k, ldc, sym, kc, pb, acc);
    pool.disable();
    if (acc !== 0) throw new Error('linalg worker thread failed during an accumulating product');
  }
}
