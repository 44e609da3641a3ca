/**
 * Outer folds of one evaluation shared between this thread and worker threads, behind the
 * synchronous `evaluate`. Each worker repeats the evaluation's set-up on the same input (the
 * normalisation and splits are deterministic), then every participant claims the next fold index
 * with Atomics.add on a shared word until none are left, so a thread the OS does not schedule
 * simply does fewer folds, and a worker still starting up when the folds run out does none.
 * Workers send each fold's output on their own MessagePort; this thread takes them with
 * receiveMessageOnPort, sleeping in Atomics.wait (allowed on Node's main thread) while it waits
 * for the last ones. A fold is the same computation on whichever thread runs it and the outputs
 * are returned in fold order: the results equal one thread's.
 *
 * A worker can die mid-fold without a word (out of heap, killed): this thread, blocked in a
 * synchronous call, never sees its 'exit' event. So once this thread has no fold left to claim, it
 * waits for the workers' folds only so long — the longer of `patienceMs` and four times the slowest
 * fold seen — and then computes the folds still missing itself, in order, taking whichever copy
 * arrives first (the same numbers either way). A live but descheduled worker costs a redundant fold,
 * never a different result; a dead one costs the wait.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { InputError, UsageError } from '../util/errors.js';

/** Control words: the next fold to claim, and how many outputs the workers have posted. */
const NEXT = 0;
const POSTED = 1;

export interface FoldThreadJob<O> {
  /** What the worker needs to repeat the set-up (structured-cloned): input, options, which representation and seed. */
  workerData: Record<string, unknown>;
  nFolds: number;
  /** Folds before this one are already done (their outputs are left undefined here). Default 0. */
  start?: number;
  /** This thread plus threads − 1 workers. */
  threads: number;
  /** Run fold `fi` on this thread. */
  local: (fi: number) => O;
  /** Called with the number of folds done so far, as each finishes. */
  tick: (done: number) => void;
  /** The least time to wait for a worker's fold before redoing it here (ms). Default 30,000. */
  patienceMs?: number;
  /** The module the workers run (default foldWorker beside this one); a test's stand-in worker. */
  workerUrl?: URL;
}

/** A worker: compiled JavaScript beside this module, or under tsx / vitest a boot script that registers tsx first. */
function spawn(workerData: unknown, port: MessagePort, url?: URL): Worker {
  const opts = { workerData, transferList: [port], stdout: false, stderr: false };
  if (url) return new Worker(url, opts);
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./foldWorker.js', import.meta.url), opts);
  const target = new URL('./foldWorker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(boot, { ...opts, eval: true });
}

function rebuild(e: { name: string; message: string }): Error {
  if (e.name === 'InputError') return new InputError(e.message);
  if (e.name === 'UsageError') return new UsageError(e.message);
  return new Error(`fold worker: ${e.message}`);
}

/** The outputs of folds start … nFolds − 1, at their indices. */
export function runFoldsOnThreads<O>(job: FoldThreadJob<O>): O[] {
  const start = job.start ?? 0;
  const ctrl = new Int32Array(new SharedArrayBuffer(8));
  ctrl[NEXT] = start;
  const ports: MessagePort[] = [];
  const workers: Worker[] = [];
  try {
    for (let w = 1; w < job.threads; w++) {
      const { port1, port2 } = new MessageChannel();
      ports.push(port1);
      const worker = spawn({ ...job.workerData, ctrl: ctrl.buffer, port: port2 }, port2, job.workerUrl);
      // Never keeps the process alive; a worker that fails to start leaves its folds to the others.
      worker.unref();
      worker.on('error', () => undefined);
      workers.push(worker);
    }
    const out = new Array<O>(job.nFolds);
    const have = new Uint8Array(job.nFolds);
    let done = start;
    let slowest = 0;
    const take = (fi: number, o: O) => {
      if (have[fi]) return;
      have[fi] = 1;
      out[fi] = o;
      job.tick(++done);
    };
    const drain = () => {
      for (const p of ports) {
        for (let m = receiveMessageOnPort(p); m; m = receiveMessageOnPort(p)) {
          const msg = m.message as { fi: number; out?: O; ms?: number; error?: { name: string; message: string } };
          if (msg.error) {
            // An error before the worker claimed a fold leaves the folds to the others.
            if (msg.fi >= 0 && msg.fi < job.nFolds) throw rebuild(msg.error);
            continue;
          }
          slowest = Math.max(slowest, msg.ms ?? 0);
          take(msg.fi, msg.out!);
        }
      }
    };
    const runHere = (fi: number) => {
      const t0 = performance.now();
      const o = job.local(fi);
      slowest = Math.max(slowest, performance.now() - t0);
      take(fi, o);
      drain();
    };
    for (let fi = Atomics.add(ctrl, NEXT, 1); fi < job.nFolds; fi = Atomics.add(ctrl, NEXT, 1)) runHere(fi);
    const idleSince = performance.now();
    while (done < job.nFolds) {
      // Read the counter before draining: a message posted after the drain moves it, so the wait returns.
      const seen = Atomics.load(ctrl, POSTED);
      drain();
      if (done >= job.nFolds) break;
      if (performance.now() - idleSince > Math.max(job.patienceMs ?? 30_000, 4 * slowest)) {
        for (let fi = start; fi < job.nFolds; fi++) if (!have[fi]) runHere(fi);
        break;
      }
      Atomics.wait(ctrl, POSTED, seen, 1000);
    }
    return out;
  } finally {
    for (const p of ports) p.close();
    for (const w of workers) void w.terminate();
  }
}
