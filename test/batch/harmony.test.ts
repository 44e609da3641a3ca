/** Harmony beyond parity: the sampled k-means start, and mapping rows onto a fitted reference. */
import { describe, expect, it } from 'vitest';
import { fitTransformHarmony, harmonyPcaSolver, mapHarmony } from '../../src/batch/harmony.js';
import { takeRows, zeros, type Matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/rng.js';

/** Three well separated groups in 6-D; every batch holds all groups, shifted by its own offset. */
function groups(perGroupBatch: number, batches: string[], shift: number, seed = 4): { X: Matrix; batch: string[]; group: number[] } {
  const rng = new Rng(seed);
  const centres = [[6, 0, 0, 0, 0, 0], [0, 6, 0, 0, 0, 0], [0, 0, 6, 0, 0, 0]];
  const rows: number[][] = [], batch: string[] = [], group: number[] = [];
  batches.forEach((b, bi) => {
    const off = [0, 0, 0, shift * (bi + 1), -shift * bi, shift];
    for (let g = 0; g < 3; g++) {
      for (let t = 0; t < perGroupBatch; t++) {
        rows.push(centres[g]!.map((c, j) => c + off[j]! + 0.5 * rng.normal()));
        batch.push(b);
        group.push(g);
      }
    }
  });
  const X = zeros(rows.length, 6);
  rows.forEach((r, i) => X.data.set(r, i * 6));
  return { X, batch, group };
}

/** Mean distance between a batch's group centroid and the other batches' centroid of that group. */
function batchGap(Y: Matrix, batch: string[], group: number[], b: string): number {
  let gap = 0;
  for (let g = 0; g < 3; g++) {
    const mean = (pred: (i: number) => boolean) => {
      const m = new Float64Array(Y.cols);
      let n = 0;
      for (let i = 0; i < Y.rows; i++) if (group[i] === g && pred(i)) { n++; for (let j = 0; j < Y.cols; j++) m[j] += Y.data[i * Y.cols + j]!; }
      return m.map((v) => v / n);
    };
    const a = mean((i) => batch[i] === b), o = mean((i) => batch[i] !== b);
    gap += Math.hypot(...a.map((v, j) => v - o[j]!));
  }
  return gap / 3;
}

describe('Harmony', () => {
  it('corrects a planted batch offset and maps an unseen batch onto the reference (Symphony)', () => {
    const { X, batch, group } = groups(30, ['b1', 'b2', 'b3', 'b4'], 1.5);
    const ref = batch.flatMap((b, i) => (b !== 'b4' ? [i] : []));
    const opts = { nComponents: 0, standardize: false, nClusters: 6, seed: 0 } as const;
    const { model, corrected } = fitTransformHarmony(takeRows(X, ref), ref.map((i) => batch[i]!), opts);
    const refB = ref.map((i) => batch[i]!), refG = ref.map((i) => group[i]!);
    expect(batchGap(corrected, refB, refG, 'b3')).toBeLessThan(0.5 * batchGap(takeRows(X, ref), refB, refG, 'b3'));
    const mapped = mapHarmony(model, X, batch, { unseen: 'estimate' });
    expect(batchGap(mapped, batch, group, 'b4')).toBeLessThan(0.5 * batchGap(X, batch, group, 'b4'));
    // The groups (the biology) stay apart after the correction.
    const centroid = (g: number) => {
      const m = new Float64Array(6);
      let n = 0;
      for (let i = 0; i < mapped.rows; i++) if (group[i] === g) { n++; for (let j = 0; j < 6; j++) m[j] += mapped.data[i * 6 + j]!; }
      return m.map((v) => v / n);
    };
    const [c0, c1] = [centroid(0), centroid(1)];
    expect(Math.hypot(...c0.map((v, j) => v - c1[j]!))).toBeGreaterThan(6);
  });

  it("PCA solver: 'auto' is exact on small tables and randomized from 10 million entries; the randomized one's correction is the exact one's on a clear spectrum", () => {
    expect(harmonyPcaSolver('auto', 632, 516, 50)).toBe('full');
    expect(harmonyPcaSolver('auto', 100_000, 1000, 50)).toBe('randomized');
    expect(harmonyPcaSolver('auto', 100_000, 60, 50)).toBe('full'); // 50 ≥ 0.8 × 60 components
    expect(harmonyPcaSolver('randomized', 100, 10, 3)).toBe('randomized');
    expect(harmonyPcaSolver('full', 100_000, 1000, 50)).toBe('full');
    // Six features of which three carry the groups: the first three axes are well separated.
    const { X, batch } = groups(30, ['b1', 'b2', 'b3'], 1.5);
    const opts = { nComponents: 3, nClusters: 6, seed: 0 } as const;
    const full = fitTransformHarmony(X, batch, { ...opts, pcaSolver: 'full' });
    const rand = fitTransformHarmony(X, batch, { ...opts, pcaSolver: 'randomized' });
    expect(full.model.options.pcaSolver).toBe('full');
    let worst = 0;
    for (let t = 0; t < X.data.length; t++) worst = Math.max(worst, Math.abs(full.corrected.data[t]! - rand.corrected.data[t]!));
    expect(worst).toBeLessThan(1e-6);
    expect(() => fitTransformHarmony(X, batch, { pcaSolver: 'fast' as never })).toThrow(/pcaSolver/);
  });

  it('a k-means start on a seeded sample of the rows: deterministic, and refused when K exceeds it', () => {
    const { X, batch } = groups(40, ['b1', 'b2'], 1);
    const opts = { nComponents: 0, standardize: false, nClusters: 6, seed: 3, kmeansSample: 100 };
    const a = fitTransformHarmony(X, batch, opts), b = fitTransformHarmony(X, batch, opts);
    expect(Buffer.from(a.corrected.data.buffer).equals(Buffer.from(b.corrected.data.buffer))).toBe(true);
    const full = fitTransformHarmony(X, batch, { ...opts, kmeansSample: 0 });
    expect(full.model.initialCentroids.data).not.toEqual(a.model.initialCentroids.data);
    expect(() => fitTransformHarmony(X, batch, { ...opts, kmeansSample: 5 })).toThrow(/6 clusters for a k-means start on 5 rows/);
  });

  it('τ discounts θ by batch size as harmonypy does: τ → 0 keeps θ, τ → ∞ removes it, between differs from both', () => {
    const { X, batch } = groups(20, ['b1', 'b2', 'b3'], 1.5);
    const base = { nComponents: 0, standardize: false, nClusters: 6, seed: 0, output: 'embedding' } as const;
    const run = (o: { theta?: number; tau?: number }) => Array.from(fitTransformHarmony(X, batch, { ...base, ...o }).corrected.data);
    const plain = run({});
    // θ_b = θ·(1 − exp(−(N_b / (K·τ))²)): exp(−∞) = 0 at a tiny τ, exp(−1e−20) = 1 at a huge one.
    expect(run({ tau: 1e-9 })).toEqual(plain);
    expect(run({ tau: 1e12 })).toEqual(run({ theta: 0 }));
    const mid = run({ tau: 10 }); // N_b = 60, K·τ = 60: θ_b = θ·(1 − e⁻¹)
    expect(mid).not.toEqual(plain);
    expect(mid).not.toEqual(run({ theta: 0 }));
    expect(mid).toEqual(run({ theta: 2 * (1 - Math.exp(-1)) }));
  });
});


describe('Harmony diversity penalty at θ = 2', () => {
  it('squares the ratio: Math.pow(x, 2) is x·x exactly in this engine (what the fast path relies on)', () => {
    const rng = new Rng(11);
    for (let t = 0; t < 100_000; t++) {
      const x = Math.exp(8 * rng.normal());
      expect(Math.pow(x, 2) === x * x).toBe(true);
    }
  });
});
