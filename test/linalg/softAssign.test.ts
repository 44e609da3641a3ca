/**
 * The penalised row softmax of Harmony's responsibility update: the native kernel (threaded, with
 * its port of V8's exp) against the JavaScript twin, bit for bit; and the values against their
 * definition (rows sum to 1, ent = Σ R log R when logP = log P).
 */
import { describe, expect, it } from 'vitest';
import { native, nativeAvailable } from '../../src/linalg/native.js';
import { addRowMasses, addRowMassesJs, penalisedSoftmaxRows, penalisedSoftmaxRowsJs, type PenalisedSoftmaxArgs } from '../../src/linalg/softAssign.js';
import { Rng } from '../../src/linalg/rng.js';

function problem(N: number, K: number, G: number, seed: number): PenalisedSoftmaxArgs {
  const rng = new Rng(seed);
  const D = Float64Array.from({ length: N * K }, () => 4 * rng.uniform());
  const P = Float64Array.from({ length: G * K }, () => 0.2 + 3 * rng.uniform());
  return {
    D, R: new Float64Array(N * K).fill(NaN), P, logP: P.map(Math.log), codes: Int32Array.from({ length: N }, () => rng.int(G)),
    rows: rng.permutation(N), t0: 0, t1: N, K, c: -1 / 0.1, ent: new Float64Array(N).fill(NaN), km: new Float64Array(N).fill(NaN),
  };
}

const fresh = (a: PenalisedSoftmaxArgs): PenalisedSoftmaxArgs => ({ ...a, R: a.R.slice(), ent: a.ent.slice(), km: a.km.slice() });

describe('penalised row softmax (Harmony)', () => {
  it('follows its definition: rows sum to 1, ent = Σ R log R, km = Σ R·D, unlisted rows untouched', () => {
    const a = problem(50, 7, 3, 1);
    a.t0 = 10;
    a.t1 = 40;
    penalisedSoftmaxRowsJs(a);
    for (let t = 0; t < 50; t++) {
      const i = a.rows[t]!, row = a.R.subarray(i * 7, i * 7 + 7);
      if (t < 10 || t >= 40) {
        expect(Number.isNaN(row[0]!)).toBe(true);
        continue;
      }
      const g = a.codes[i]!;
      const w = Array.from({ length: 7 }, (_, k) => Math.exp(-a.D[i * 7 + k]! / 0.1) * a.P[g * 7 + k]!);
      const s = w.reduce((x, y) => x + y, 0);
      let ent = 0, km = 0;
      for (let k = 0; k < 7; k++) {
        expect(row[k]).toBeCloseTo(w[k]! / s, 12);
        ent += row[k]! * Math.log(row[k]!);
        km += row[k]! * a.D[i * 7 + k]!;
      }
      expect(a.ent[i]).toBeCloseTo(ent, 9);
      expect(a.km[i]).toBeCloseTo(km, 12);
    }
  });

  it.skipIf(!nativeAvailable)('native (threaded) = JavaScript, bit for bit', () => {
    // 3,000 × 100 entries: above the threshold where the kernel splits the rows over threads.
    const a = problem(3000, 100, 37, 2);
    const js = fresh(a), nat = fresh(a);
    js.t0 = nat.t0 = 100;
    js.t1 = nat.t1 = 2900;
    penalisedSoftmaxRowsJs(js);
    penalisedSoftmaxRows(nat);
    expect(Buffer.from(nat.R.buffer).equals(Buffer.from(js.R.buffer))).toBe(true);
    expect(Buffer.from(nat.ent.buffer).equals(Buffer.from(js.ent.buffer))).toBe(true);
    expect(Buffer.from(nat.km.buffer).equals(Buffer.from(js.km.buffer))).toBe(true);
  });

  it.skipIf(!nativeAvailable)("the native exp is V8's Math.exp, bit for bit, over the whole range", () => {
    const rng = new Rng(3);
    const x = Float64Array.from({ length: 200_000 }, (_, i) => {
      switch (i % 4) {
        case 0: return (rng.uniform() - 0.5) * 1500; // overflow and underflow thresholds
        case 1: return (rng.uniform() - 0.5) * 2 ** -rng.int(40); // the |x| < 2^-28 and small-k branches
        case 2: return -40 * rng.uniform(); // Harmony's logits (σ = 0.1, cosine distances ≤ 4)
        default: return (rng.uniform() - 0.5) * 4; // around ±ln 2 / 2 and ±1.5 ln 2
      }
    });
    const edge = [0, -0, 1, -1, Math.LN2 / 2, -Math.LN2 / 2, 1.5 * Math.LN2, 709.78, 709.79, -745.13, -745.14, -708.4, -1e-300, Infinity, -Infinity, NaN, 2 ** -28, -(2 ** -29)];
    const y = Float64Array.from([...x, ...edge]);
    const want = y.map(Math.exp);
    native()!.expInPlace(y);
    expect(Buffer.from(y.buffer).equals(Buffer.from(want.buffer))).toBe(true);
  });
});

describe('row masses (Harmony)', () => {
  it.skipIf(!nativeAvailable)('native (columns over threads) = JavaScript, bit for bit, subtracting and adding', () => {
    const a = problem(4000, 100, 29, 5);
    penalisedSoftmaxRowsJs(a);
    for (const subtract of [true, false]) {
      const G = 29 * 100;
      const base = { R: a.R, codes: a.codes, rows: a.rows, t0: 7, t1: 3990, K: 100, subtract };
      const js = { ...base, sum: new Float64Array(100).fill(0.25), O: Float64Array.from({ length: G }, (_, t) => t / 7), F: subtract ? undefined : new Float64Array(G) };
      const nat = { ...base, sum: js.sum.slice(), O: js.O.slice(), F: js.F?.slice() };
      addRowMassesJs(js);
      addRowMasses(nat);
      expect(Buffer.from(nat.sum.buffer).equals(Buffer.from(js.sum.buffer))).toBe(true);
      expect(Buffer.from(nat.O.buffer).equals(Buffer.from(js.O.buffer))).toBe(true);
      if (js.F) expect(Buffer.from(nat.F!.buffer).equals(Buffer.from(js.F.buffer))).toBe(true);
    }
  });

  it('adds each listed row to its group and the column sums', () => {
    const R = Float64Array.from([1, 2, 3, 4, 5, 6]); // 3 rows × K = 2
    const sum = new Float64Array(2), O = new Float64Array(4), F = new Float64Array(4);
    addRowMassesJs({ R, codes: Int32Array.from([1, 0, 1]), rows: Int32Array.from([2, 0, 1]), t0: 0, t1: 2, K: 2, sum, O, F, subtract: false });
    expect([...sum]).toEqual([6, 8]);
    expect([...O]).toEqual([0, 0, 6, 8]);
    expect([...F]).toEqual([0, 0, 6, 8]);
    addRowMassesJs({ R, codes: Int32Array.from([1, 0, 1]), rows: Int32Array.from([1]), t0: 0, t1: 1, K: 2, sum, O, subtract: true });
    expect([...O]).toEqual([-3, -4, 6, 8]);
  });
});
