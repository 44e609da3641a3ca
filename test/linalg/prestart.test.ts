/**
 * Workers started ahead of use (prestartThreads, prestartAffinityPropagation) are the ones the
 * first parallel product and the first two-thread AP adopt, and results do not depend on it.
 * Own file: the worker pools are per-process singletons, and these calls must come first.
 */
import { describe, it, expect } from 'vitest';
import { availableParallelism } from 'node:os';
import { prestartThreads, tcrossprod, zeros, apWorkspace, squaredDistances, useNative } from '../../src/linalg/index.js';
import { WorkerSlot, parallelThreads, threadCount } from '../../src/linalg/wasm/threads.js';
import { wasm } from '../../src/linalg/wasm/runtime.js';
import { affinityPropagation, prestartAffinityPropagation } from '../../src/cluster/affinityPropagation.js';
import { Rng } from '../../src/linalg/rng.js';

// The wasm worker pool is what is under test; native products (their own POSIX threads) would
// bypass it. backends.test.ts covers the native threads.
useNative(false);

describe('prestarted worker threads', () => {
  it('the first large product adopts them and matches the sequential sums exactly', () => {
    prestartThreads();
    prestartThreads(); // idempotent: still one pool
    const X = zeros(300, 200);
    new Rng(5).fillNormal(X.data);
    const G = tcrossprod(X); // 300² × 200 = 1.8·10⁷ multiply-adds: above the parallel threshold
    expect(parallelThreads()).toBe(wasm && threadCount() > 1 ? threadCount() : 1);
    const n = X.rows, k = X.cols;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += X.data[i * k + p]! * X.data[j * k + p]!;
        if (G.data[i * n + j] !== s) expect.fail(`G[${i}][${j}] = ${G.data[i * n + j]}, sequential sum ${s}`);
      }
    }
  });

  it('a prestarted AP helper runs the two-thread passes with the one-thread results', () => {
    const n = 1100;
    prestartAffinityPropagation(n);
    const X = zeros(n, 6);
    const rng = new Rng(9);
    for (let i = 0; i < n; i++) for (let j = 0; j < 6; j++) X.data[i * 6 + j] = (i % 12) + 0.3 * rng.normal();
    const S = squaredDistances(X);
    for (let t = 0; t < S.data.length; t++) S.data[t] = -S.data[t]!;
    const two = affinityPropagation(S, { threads: 2, noise: { seed: 1 } });
    const one = affinityPropagation(S, { threads: 1, noise: { seed: 1 } });
    expect(Array.from(two.labels)).toEqual(Array.from(one.labels));
    expect(two.nIter).toBe(one.nIter);
    if (wasm && availableParallelism() > 1) expect(apWorkspace(n, { threads: 2 })!.threads).toBe(2);
  });
});

describe('WorkerSlot', () => {
  it('spawns at most once, adopts a prestarted spawn, and stays off once disabled or failed', () => {
    const log: string[] = [];
    let n = 0;
    const slot = new WorkerSlot(() => (log.push('spawn'), ++n), (s: number) => (log.push(`ready ${s}`), s * 10));
    slot.prestart();
    slot.prestart();
    expect(log).toEqual(['spawn']); // prestarting twice spawns once and does not wait
    expect(slot.get()).toBe(10);
    expect(slot.get()).toBe(10);
    expect(log).toEqual(['spawn', 'ready 1']); // the prestarted spawn was adopted
    slot.disable();
    slot.prestart();
    expect(slot.get()).toBeNull();
    expect(log).toEqual(['spawn', 'ready 1']);

    const lazy = new WorkerSlot(() => 7, (s: number) => s + 1);
    expect(lazy.get()).toBe(8); // no prestart: get spawns and waits
    const failing = new WorkerSlot(() => null, (s: number) => s);
    expect(failing.get()).toBeNull();
    const notReady = new WorkerSlot(() => 1, () => null);
    expect(notReady.get()).toBeNull();
    expect(notReady.get()).toBeNull();
  });
});
