import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromRows, clone } from '../../src/linalg/index.js';
import { Lmnn, lmnnBestScale, lmnnLossGrad, lmnnMaxK, lmnnTargets } from '../../src/represent/lmnn.js';
import { BUILTIN_REPRESENTATIONS, fitRepresentation } from '../../src/evaluate/protocol.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/linalg/rng.js';
import { repoRoot } from '../helpers/shared.js';

const ref = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'lmnn', 'metric_learn_lmnn.json'), 'utf8')) as {
  X: number[][]; y: number[]; L0: number[][]; k: number; regularization: number; targets: number[][];
  objective: number; gradient: number[][]; active: number; fitted_objective: number; fitted_active: number;
};
const X = fromRows(ref.X);
const cls = Int32Array.from(ref.y);
const mu = 1 - ref.regularization;

describe('LMNN against metric-learn', () => {
  it('picks metric-learn\'s target neighbours', () => {
    const { targets, without } = lmnnTargets(X, cls, ref.k);
    expect(without).toBe(0);
    expect(Array.from(targets)).toEqual(ref.targets.flat());
  });
  it('objective, active hinge terms and gradient equal metric-learn\'s _loss_grad', () => {
    const { targets } = lmnnTargets(X, cls, ref.k);
    const r = lmnnLossGrad(X, cls, targets, ref.k, fromRows(ref.L0), mu);
    expect(r.active).toBe(ref.active);
    expect(Math.abs(r.loss - ref.objective)).toBeLessThan(1e-9 * ref.objective);
    ref.gradient.flat().forEach((g, i) => expect(Math.abs(r.gradient.data[i]! - g)).toBeLessThan(1e-9 * Math.max(1, Math.abs(g))));
  });
  it('from metric-learn\'s start, L-BFGS reaches an objective no worse than metric-learn\'s fit', () => {
    const m = new Lmnn({ k: ref.k, pushWeight: mu, init: fromRows(ref.L0), maxIter: 200 }).fit(X, ref.y.map((c) => `c${c}`));
    expect(m.objective).toBeLessThanOrEqual(ref.fitted_objective);
  });
});

describe('LMNN', () => {
  it('the analytic gradient matches central finite differences', () => {
    const { targets } = lmnnTargets(X, cls, ref.k);
    const L = fromRows(ref.L0);
    const { gradient } = lmnnLossGrad(X, cls, targets, ref.k, L, 0.3);
    for (const t of [0, 4, 9, 17, 26, 35]) {
      const h = 1e-6;
      const Lp = clone(L), Lm = clone(L);
      Lp.data[t] += h;
      Lm.data[t] -= h;
      const fd = (lmnnLossGrad(X, cls, targets, ref.k, Lp, 0.3).loss - lmnnLossGrad(X, cls, targets, ref.k, Lm, 0.3).loss) / (2 * h);
      expect(Math.abs(fd - gradient.data[t]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
    }
  });
  it('hand-checked: two classes on a line, one target each, one active triplet', () => {
    // Rows 0, 1 class a at 0 and 1; row 2 class b at 1.5. L = [1]. Targets: 0→1, 1→0; for b none.
    const Xl = fromRows([[0], [1], [1.5]]);
    const c = Int32Array.from([0, 0, 1]);
    const { targets, without } = lmnnTargets(Xl, c, 1);
    expect(Array.from(targets)).toEqual([1, 0, -1]);
    expect(without).toBe(1);
    const r = lmnnLossGrad(Xl, c, targets, 1, fromRows([[1]]), 0.5);
    // pull: d01 + d10 = 2; push: (0→1, l=2): 1 + 1 − 2.25 < 0 inactive; (1→0, l=2): 1 + 1 − 0.25 = 1.75.
    expect(r.active).toBe(1);
    expect(r.loss).toBeCloseTo(0.5 * 2 + 0.5 * 1.75, 12);
    // d/dL of 0.5·(2L²) + 0.5·(1 + L² − 0.25L²) at L = 1: 2 + 0.75 = 2.75.
    expect(r.gradient.data[0]).toBeCloseTo(2.75, 12);
  });
  it('the start is rescaled to the exact best multiple (f convex piecewise linear in the squared scale)', () => {
    const { targets } = lmnnTargets(X, cls, ref.k);
    const L = fromRows(ref.L0);
    const t = lmnnBestScale(X, cls, targets, ref.k, L, mu);
    expect(t).toBeGreaterThan(0);
    const at = (s: number) => {
      const M = clone(L);
      for (let i = 0; i < M.data.length; i++) M.data[i] *= Math.sqrt(s);
      return lmnnLossGrad(X, cls, targets, ref.k, M, mu).loss;
    };
    const best = at(t);
    for (const r of [0.5, 0.9, 0.99, 1.01, 1.1, 2]) expect(best).toBeLessThanOrEqual(at(t * r) + 1e-9);
    // Hand-checked on the two-class line below: pull sum 2, triplet δ's 2.25 − 1 = 1.25 and
    // 0.25 − 1 = −0.75, so the slope at t = 0 is 0.5·2 − 0.5·(1.25 − 0.75) = 0.75 ≥ 0: no usable scale, 0.
    const Xl = fromRows([[0], [1], [1.5]]);
    const c = Int32Array.from([0, 0, 1]);
    expect(lmnnBestScale(Xl, c, lmnnTargets(Xl, c, 1).targets, 1, fromRows([[1]]), 0.5)).toBe(0);
  });
  it('is deterministic and pulls each class together (1-NN on held-out rows improves on a noise axis)', () => {
    const rng = new Rng(5);
    const rows: number[][] = [], labels: string[] = [];
    for (let i = 0; i < 90; i++) {
      const c = i % 3;
      rows.push([c + 0.3 * rng.normal(), 6 * rng.normal(), 6 * rng.normal()]);
      labels.push(`m${c}`);
    }
    const tr = fromRows(rows.slice(0, 60)), te = fromRows(rows.slice(60));
    const a = new Lmnn({ k: 3 }).fit(tr, labels.slice(0, 60));
    const b = new Lmnn({ k: 3 }).fit(tr, labels.slice(0, 60));
    expect(Array.from(b.components!.data)).toEqual(Array.from(a.components!.data));
    const acc = (Ytr: { data: Float64Array; cols: number }, Yte: { data: Float64Array; cols: number }) => {
      let hit = 0;
      for (let i = 0; i < 30; i++) {
        let best = Infinity, bj = -1;
        for (let j = 0; j < 60; j++) {
          let s = 0;
          for (let t = 0; t < Yte.cols; t++) s += (Yte.data[i * Yte.cols + t]! - Ytr.data[j * Ytr.cols + t]!) ** 2;
          if (s < best) { best = s; bj = j; }
        }
        if (labels[bj] === labels[60 + i]) hit++;
      }
      return hit / 30;
    };
    expect(acc(a.transform(tr), a.transform(te))).toBeGreaterThan(acc(tr, te) + 0.2);
  });
  it('with groups, target neighbours come from other groups only', () => {
    const Xg = fromRows([[0], [0.1], [5], [5.1], [10], [10.1]]);
    const c = Int32Array.from([0, 0, 0, 0, 1, 1]);
    const g = Int32Array.from([0, 0, 1, 1, 2, 3]);
    expect(Array.from(lmnnTargets(Xg, c, 1, g).targets)).toEqual([2, 2, 1, 1, 5, 4]);
    expect(lmnnMaxK(['a', 'a', 'a', 'a', 'b', 'b'], ['x', 'x', 'y', 'y', 'u', 'v'])).toBe(1);
  });
  it('bad input is a clear error', () => {
    const labels = ref.y.map(String);
    expect(() => new Lmnn().fit(X, labels.map(() => 'a'))).toThrow(/at least 2 classes/);
    expect(() => new Lmnn({ k: 15 }).fit(X, labels)).toThrow(/k = 15 .*choose k ≤ 14/);
    expect(() => new Lmnn({ k: 1 }).fit(X, labels, labels)).toThrow(/no class has two groups/);
    expect(() => new Lmnn({ nComponents: 7 }).fit(X, labels)).toThrow(/\[1, 6\]/);
    expect(() => new Lmnn({ k: 0 })).toThrow(InputError);
    expect(() => new Lmnn({ pushWeight: 2 })).toThrow(/pushWeight/);
    const bad = clone(X);
    bad.data[7] = NaN;
    expect(() => new Lmnn().fit(bad, labels)).toThrow(/row 2, column 2/);
  });
});

describe('lmnn in evaluate', () => {
  it('held-out rows cannot change the fit; the same seed gives the same output', () => {
    const rng = new Rng(11);
    const rows: number[][] = [], labels: string[] = [], groups: string[] = [];
    for (let c = 0; c < 3; c++) for (let g = 0; g < 3; g++) for (let r = 0; r < 4; r++) {
      const x = Array.from({ length: 8 }, () => rng.normal());
      x[c] += 3;
      rows.push(x);
      labels.push(`m${c}`);
      groups.push(`m${c}c${g}`);
    }
    const Xe = fromRows(rows);
    const train = rows.map((_, i) => i).filter((i) => !groups[i]!.endsWith('c2'));
    const spec = BUILTIN_REPRESENTATIONS.lmnn!;
    const ctx = { groups: train.map((i) => groups[i]!) };
    const a = fitRepresentation(spec, Xe, train, train.map((i) => labels[i]!), 1, 'auto', ctx).transform(Xe);
    const X2 = clone(Xe);
    for (let i = 0; i < Xe.rows; i++) if (!train.includes(i)) for (let j = 0; j < 8; j++) X2.data[i * 8 + j] = 1e3;
    const b = fitRepresentation(spec, X2, train, train.map((i) => labels[i]!), 1, 'auto', ctx).transform(Xe);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });
});
