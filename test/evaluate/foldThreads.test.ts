/** Outer folds shared over worker threads (evaluate/foldThreads.ts): the same results as one thread. */
import { describe, expect, it } from 'vitest';
import { evaluate, type EvaluateOptions, type FoldOutput, type RepresentationSpec } from '../../src/evaluate/protocol.js';
import { runFoldsOnThreads } from '../../src/evaluate/foldThreads.js';
import { plantedProfiles } from '../batch/planted.js';

const sel: RepresentationSpec = {
  name: 'sel', kind: 'select',
  select: { candidates: ['raw', 'lda-proj', 'lda-proj-clip'], corrections: [{ name: 'none' }, { name: 'combat', method: 'combat' }], innerFolds: 3, criterion: 'nscb' },
};
const opts: EvaluateOptions = {
  labelCol: 'Metadata_moa', groupCol: 'Metadata_compound', batchCol: 'Metadata_batch', inSample: false, dataLevel: false, nullSize: 20,
  metrics: ['nsc', 'nscb', 'map-consistency'], split: 'loco', representations: [sel], threads: 1,
};

describe('outer folds on worker threads', () => {
  it('a worker computes each fold it claims exactly as one thread does; outputs come back at their fold index', () => {
    const p = plantedProfiles();
    const single = evaluate(p, opts);
    const n = single.folds.length;
    expect(n).toBe(9);
    // This thread sleeps in each fold it claims (and returns no output), so the worker, once
    // started, claims the others.
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const local: number[] = [];
    const ticks: number[] = [];
    const outs = runFoldsOnThreads<FoldOutput | null>({
      workerData: { input: p, opts, rep: 0, seed: 0 }, nFolds: n, threads: 2,
      local: (fi) => {
        local.push(fi);
        Atomics.wait(sleeper, 0, 0, 1000);
        return null;
      },
      tick: (k) => ticks.push(k),
    });
    const remote = outs.flatMap((o, fi) => (o ? [fi] : []));
    expect(remote.length).toBeGreaterThan(0);
    expect([...local, ...remote].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(ticks).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    for (const fi of remote) {
      const { seconds: _s, ...got } = outs[fi]!.rec;
      const { seconds: _t, ...want } = single.folds[fi]!;
      expect(got).toEqual(want);
    }
  }, 60_000);

  it('a seeded ensemble (not a nested choice) computed on a worker equals this thread\'s folds', () => {
    const p = plantedProfiles();
    const ens: RepresentationSpec = {
      name: 'ens', kind: 'ensemble',
      ensemble: [{ name: 'lda-proj', kind: 'lda' }, { name: 'net', kind: 'contrastive', contrastive: { hidden: 16, dim: 4, maxEpochs: 5, patience: 2 }, seedOffset: 1 }],
    };
    const o: EvaluateOptions = { ...opts, representations: [ens], seeds: [3] };
    const single = evaluate(p, o);
    const n = single.folds.length;
    // This thread claims fold 0 only (and sleeps there), so the worker computes every other fold.
    let first = true;
    const outs = runFoldsOnThreads<FoldOutput | null>({
      workerData: { input: p, opts: o, rep: 0, seed: 3 }, nFolds: n, threads: 2,
      local: () => {
        if (first) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
        first = false;
        return null;
      },
      tick: () => {},
    });
    const remote = outs.flatMap((x, fi) => (x ? [fi] : []));
    expect(remote.length).toBeGreaterThan(n / 2);
    for (const fi of remote) {
      const { seconds: _s, ...got } = outs[fi]!.rec;
      const { seconds: _t, ...want } = single.folds.filter((f) => f.representation === 'ens')[fi]!;
      expect(got).toEqual(want);
    }
  }, 60_000);

  it('evaluate with threads: 2 gives the single-thread result (folds, pooled figures, warnings)', () => {
    const p = plantedProfiles();
    const a = evaluate(p, opts), b = evaluate(p, { ...opts, threads: 2 });
    const strip = (r: typeof a) => ({ folds: r.folds.map(({ seconds: _s, ...f }) => f), reps: r.representations.map(({ seconds: _s, ...s }) => s) });
    expect(strip(b)).toEqual(strip(a));
  });

  it('a worker that dies holding a fold: this thread redoes the fold after the wait, each fold counted once', () => {
    const local: number[] = [];
    const ticks: number[] = [];
    // held[0] = the fold the stand-in worker claimed, plus one (0 until it has claimed).
    const held = new Int32Array(new SharedArrayBuffer(4));
    const t0 = performance.now();
    const outs = runFoldsOnThreads<string>({
      workerData: { held: held.buffer }, nFolds: 5, threads: 2, patienceMs: 300,
      workerUrl: new URL('../fixtures/dyingFoldWorker.mjs', import.meta.url),
      local: (fi) => {
        local.push(fi);
        // The first fold here waits for the worker's claim, so it always holds one.
        if (local.length === 1) Atomics.wait(held, 0, 0, 10_000);
        return `fold ${fi}`;
      },
      tick: (k) => ticks.push(k),
    });
    const redone = Atomics.load(held, 0) - 1;
    expect(redone).toBeGreaterThanOrEqual(1);
    expect(outs).toEqual([0, 1, 2, 3, 4].map((fi) => `fold ${fi}`));
    expect(ticks).toEqual([1, 2, 3, 4, 5]);
    // Every fold ran here once: the four this thread claimed, then, after the wait, the dead worker's.
    expect(local).toEqual([...[0, 1, 2, 3, 4].filter((fi) => fi !== redone), redone]);
    expect(performance.now() - t0).toBeGreaterThan(300);
  }, 20_000);
});
