/**
 * A worker thread's share of one evaluation's outer folds (foldThreads.ts): the evaluation's
 * set-up on the same input and options, then the folds it claims, each posted as it is done.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import type { Profiles } from '../io/profiles.js';
import type { StoredMatrix } from '../linalg/index.js';
import { runFoldTask, type EvaluateOptions } from './protocol.js';

const job = workerData as { input: Profiles<StoredMatrix>; opts: EvaluateOptions; rep: number; seed: number; ctrl: SharedArrayBuffer; port: MessagePort; pairs?: SharedArrayBuffer };
const c = new Int32Array(job.ctrl);
const posted = () => {
  Atomics.add(c, 1, 1);
  Atomics.notify(c, 1);
};
let current = -1;
let claimedAt = 0;
try {
  runFoldTask(job.input, job.opts, {
    rep: job.rep, seed: job.seed, pairs: job.pairs,
    claim: () => {
      claimedAt = performance.now();
      return (current = Atomics.add(c, 0, 1));
    },
    emit: (fi, out) => {
      job.port.postMessage({ fi, out, ms: performance.now() - claimedAt });
      posted();
    },
  });
} catch (e) {
  const err = e as Error;
  job.port.postMessage({ fi: current, error: { name: err.name, message: err.message } });
  posted();
}
job.port.close();
