/**
 * The faster LMNN fit (issue 24): the kept-buffer objective with its sparse Laplacian, the chunked
 * breakpoint search, the fused L-BFGS loops and the PCA shared by the LMNN variants of one training
 * side give what the plain forms give, to the last bit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromRows, zeros, type Matrix } from '../../src/linalg/index.js';
import { Lmnn, LmnnObjective, lmnnBestScale, lmnnLossGrad, lmnnTargets } from '../../src/represent/lmnn.js';
import { lbfgs } from '../../src/represent/lbfgs.js';
import { BUILTIN_REPRESENTATIONS, evaluate, fitRepresentation, type EvaluateOptions, type FoldOutput } from '../../src/evaluate/protocol.js';
import { runFoldsOnThreads } from '../../src/evaluate/foldThreads.js';
import { Rng } from '../../src/linalg/rng.js';
import { repoRoot } from '../helpers/shared.js';
import { plantedProfiles } from '../batch/planted.js';
import { lbfgsPlain, plainBestScale, plainLossGrad } from './plainForms.js';

const ref = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'lmnn', 'metric_learn_lmnn.json'), 'utf8')) as { X: number[][]; y: number[]; L0: number[][]; k: number };

/** n rows of K classes, each class in several groups (compounds), one class in a single group (no targets). */
function planted(n: number, d: number, K: number, seed: number) {
  const rng = new Rng(seed);
  const means = Array.from({ length: K }, () => Array.from({ length: d }, () => 1.5 * rng.normal()));
  const rows: number[][] = [], labels: string[] = [], groups: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % K;
    rows.push(means[c]!.map((m) => m + rng.normal()));
    labels.push(`m${c}`);
    groups.push(c === K - 1 ? 'lonely' : `m${c}g${Math.floor(i / K) % 4}`);
  }
  const X = fromRows(rows);
  const cls = Int32Array.from(labels, (l) => Number(l.slice(1)));
  const grp = Int32Array.from(groups, (g) => [...new Set(groups)].indexOf(g));
  return { X, labels, groups, cls, grp };
}

function randomMap(rows: number, cols: number, scale: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const L = zeros(rows, cols);
  for (let i = 0; i < L.data.length; i++) L.data[i] = scale * rng.normal();
  return L;
}

function scaledIdentity(d: number, s: number): Matrix {
  const L = zeros(d, d);
  for (let i = 0; i < d; i++) L.data[i * d + i] = s;
  return L;
}

const bits = (a: ArrayLike<number>) => Array.from(a, (v) => (Object.is(v, -0) ? '-0' : String(v)));

describe('LmnnObjective', () => {
  it('equals the plain dense form to the last bit (loss, active terms, gradient), evaluation after evaluation on its kept buffers', () => {
    const p = planted(150, 12, 5, 7);
    const k = 3;
    const { targets, without } = lmnnTargets(p.X, p.cls, k, p.grp);
    expect(without).toBe(30);
    for (const [nc, maps] of [
      [12, [scaledIdentity(12, 1), scaledIdentity(12, 0.05), randomMap(12, 12, 0.4, 1), scaledIdentity(12, 1)]],
      [4, [randomMap(4, 12, 0.5, 2), randomMap(4, 12, 0.05, 3), randomMap(4, 12, 0.5, 2)]],
    ] as const) {
      for (const mu of [0.5, 0.3, 1, 0]) {
        const obj = new LmnnObjective(p.X, p.cls, targets, k, nc, mu);
        for (const L of maps) {
          const want = plainLossGrad(p.X, p.cls, targets, k, L, mu);
          const grad = new Float64Array(nc * 12).fill(NaN);
          expect(obj.evaluate(L.data, grad)).toBe(want.loss);
          expect(obj.active).toBe(want.active);
          expect(bits(grad)).toEqual(bits(want.gradient.data));
          // Without a gradient: the same loss and active count.
          expect(obj.evaluate(L.data)).toBe(want.loss);
          expect(obj.active).toBe(want.active);
        }
      }
    }
    // The many-impostor start (scale 0.05: nearly every impostor inside every radius) is in the list above.
    expect(plainLossGrad(p.X, p.cls, targets, k, scaledIdentity(12, 0.05)).active).toBeGreaterThan(0.9 * 120 * 3 * 120);
  });

  it('equals the plain form on metric-learn\'s fixture, and lmnnLossGrad is that form', () => {
    const X = fromRows(ref.X), cls = Int32Array.from(ref.y);
    const { targets } = lmnnTargets(X, cls, ref.k);
    const L = fromRows(ref.L0);
    const want = plainLossGrad(X, cls, targets, ref.k, L, 0.5);
    const got = lmnnLossGrad(X, cls, targets, ref.k, L, 0.5);
    expect(got.loss).toBe(want.loss);
    expect(got.active).toBe(want.active);
    expect(bits(got.gradient.data)).toEqual(bits(want.gradient.data));
  });
});

describe('lmnnBestScale', () => {
  it('equals a full sort of the breakpoints, also where the slope turns deep in the list', () => {
    const p = planted(150, 12, 5, 8);
    const { targets } = lmnnTargets(p.X, p.cls, 3, p.grp);
    let deep = 0;
    for (const mu of [0.3, 0.5, 0.9, 0.99]) {
      for (const L of [scaledIdentity(12, 1), randomMap(4, 12, 0.5, 4)]) {
        const t = lmnnBestScale(p.X, p.cls, targets, 3, L, mu);
        expect(t).toBe(plainBestScale(p.X, p.cls, targets, 3, L, mu));
        // Where the slope turned: the rank of 1/t among the positive δ, largest first.
        if (t > 0) {
          const r = plainBreakpointRank(p.X, p.cls, targets, 3, L, 1 / t);
          if (r >= 512) deep++;
        }
      }
    }
    expect(deep).toBeGreaterThan(0);
  });
});

/** How many positive δ are larger than `delta` (the plain search's position when it returns 1/delta). */
function plainBreakpointRank(X: Matrix, cls: Int32Array, targets: Int32Array, k: number, L: Matrix, delta: number): number {
  const n = X.rows;
  const Y = zeros(n, L.rows);
  for (let i = 0; i < n; i++) for (let c = 0; c < L.rows; c++) {
    let s = 0;
    for (let j = 0; j < X.cols; j++) s += X.data[i * X.cols + j]! * L.data[c * X.cols + j]!;
    Y.data[i * L.rows + c] = s;
  }
  const dist = (a: number, b: number) => {
    let s = 0;
    for (let c = 0; c < L.rows; c++) s += (Y.data[a * L.rows + c]! - Y.data[b * L.rows + c]!) ** 2;
    return s;
  };
  let above = 0;
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) {
    const j = targets[i * k + t]!;
    if (j < 0) continue;
    const dij = dist(i, j);
    for (let l = 0; l < n; l++) if (cls[l] !== cls[i] && dist(i, l) - dij > delta * (1 + 1e-9)) above++;
  }
  return above;
}

describe('fused L-BFGS', () => {
  const rosenbrock = (x: Float64Array, g: Float64Array) => {
    let f = 0;
    g.fill(0);
    for (let i = 0; i + 1 < x.length; i++) {
      const a = 1 - x[i]!, b = x[i + 1]! - x[i]! * x[i]!;
      f += a * a + 100 * b * b;
      g[i] += -2 * a - 400 * x[i]! * b;
      g[i + 1] += 200 * b;
    }
    return f;
  };
  it('gives the plain loops\' iterates to the last bit (Rosenbrock, LMNN; memory full and evicting)', () => {
    const x0 = Float64Array.from({ length: 20 }, (_, i) => (i % 2 ? 1 : -1.2));
    for (const o of [{ maxIter: 300, gtol: 1e-10, ftol: 0 }, { maxIter: 80, memory: 3 }, { maxIter: 5 }]) {
      const a = lbfgs(rosenbrock, x0, o), b = lbfgsPlain(rosenbrock, x0, o);
      expect(bits(a.x)).toEqual(bits(b.x));
      expect({ ...a, x: 0 }).toEqual({ ...b, x: 0 });
    }
    const p = planted(120, 10, 4, 9);
    const { targets } = lmnnTargets(p.X, p.cls, 3, p.grp);
    const obj = new LmnnObjective(p.X, p.cls, targets, 3, 10, 0.5);
    const f = (x: Float64Array, g: Float64Array) => obj.evaluate(x, g);
    const a = lbfgs(f, scaledIdentity(10, 1).data, { maxIter: 60 }), b = lbfgsPlain(f, scaledIdentity(10, 1).data, { maxIter: 60 });
    expect(a.evaluations).toBeGreaterThan(40);
    expect(bits(a.x)).toEqual(bits(b.x));
    expect({ ...a, x: 0 }).toEqual({ ...b, x: 0 });
  });
});

describe('LMNN variants sharing one PCA fit', () => {
  it('each variant fitted with the shared memo equals the variant fitted alone (transform and warnings)', () => {
    // 45 training rows: PCA-50 is capped (a warning each variant must still give).
    const p = planted(60, 70, 4, 10);
    const rows = Array.from({ length: 45 }, (_, i) => i);
    const labs = rows.map((i) => p.labels[i]!);
    const ctx = { groups: rows.map((i) => p.groups[i]!) };
    const memo = new Map<string, unknown>();
    const names = ['lmnn', 'lmnn-noscale', 'lmnn-lda', 'lmnn-k1', 'lmnn-pca20', 'lmnn'];
    for (const name of names) {
      const spec = BUILTIN_REPRESENTATIONS[name]!;
      const alone = fitRepresentation(spec, p.X, rows, labs, 3, 'auto', ctx);
      const shared = fitRepresentation(spec, p.X, rows, labs, 3, 'auto', { ...ctx, shared: { X: p.X, rows, memo } });
      expect(shared.warnings).toEqual(alone.warnings);
      expect(bits(shared.transform(p.X).data)).toEqual(bits(alone.transform(p.X).data));
    }
    expect([...memo.keys()].filter((key) => key.startsWith('pca')).length).toBe(2);
    expect(new Lmnn({ k: 2 }).fit(p.X, p.labels, p.groups).iterations).toBeGreaterThan(0);
  });

  it('select-lmnn: an outer fold computed on a worker thread equals the single-thread fold', () => {
    const p = plantedProfiles();
    const opts: EvaluateOptions = {
      labelCol: 'Metadata_moa', groupCol: 'Metadata_compound', batchCol: 'Metadata_batch', inSample: false, dataLevel: false, nullSize: 20,
      metrics: ['nsc', 'nscb', 'map-consistency'], split: 'loco', representations: [BUILTIN_REPRESENTATIONS['select-lmnn']!], threads: 1,
    };
    const single = evaluate(p, opts);
    const n = single.folds.length;
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const outs = runFoldsOnThreads<FoldOutput | null>({
      workerData: { input: p, opts, rep: 0, seed: 0 }, nFolds: n, threads: 2,
      local: () => {
        Atomics.wait(sleeper, 0, 0, 1000);
        return null;
      },
      tick: () => undefined,
    });
    const remote = outs.flatMap((o, fi) => (o ? [fi] : []));
    expect(remote.length).toBeGreaterThan(0);
    for (const fi of remote) {
      const { seconds: _s, ...got } = outs[fi]!.rec;
      const { seconds: _t, ...want } = single.folds[fi]!;
      expect(got).toEqual(want);
    }
  }, 60_000);
});
