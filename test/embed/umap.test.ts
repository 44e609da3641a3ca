import { describe, it, expect } from 'vitest';
import { UMAP } from '../../src/embed/umap.js';
import { silhouette, silhouetteSamples } from '../../src/evaluate/silhouette.js';
import { fromRows, type Matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/rng.js';

function blobs(nPer: number, k: number, d: number, sep: number, seed: number): { X: Matrix; y: number[] } {
  const rng = new Rng(seed);
  const rows: number[][] = [];
  const y: number[] = [];
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => sep * rng.normal()));
  for (let c = 0; c < k; c++) for (let i = 0; i < nPer; i++) (rows.push(centres[c]!.map((v) => v + rng.normal())), y.push(c));
  return { X: fromRows(rows), y };
}

describe('UMAP (umap-js, seeded)', () => {
  it('separates blobs and is deterministic for a seed', () => {
    const { X, y } = blobs(40, 3, 10, 4, 3);
    const a = new UMAP({ seed: 5 }).fitTransform(X);
    const b = new UMAP({ seed: 5 }).fitTransform(X);
    const c = new UMAP({ seed: 6 }).fitTransform(X);
    expect(a.rows).toBe(120);
    expect(a.cols).toBe(2);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
    expect(silhouette(a, y)).toBeGreaterThan(0.5);
  });

  it('rejects non-finite input', () => {
    const X = fromRows([[1, 2], [3, NaN], [4, 5], [6, 7]]);
    expect(() => new UMAP().fitTransform(X)).toThrow(/non-finite/);
  });
});

describe('silhouette', () => {
  it('matches a hand computation', () => {
    // Points 0, 1 (label a) at x = 0, 1; point 2 (label b) at x = 4; point 3 (label b) at x = 5.
    const X = fromRows([[0], [1], [4], [5]]);
    const s = silhouetteSamples(X, ['a', 'a', 'b', 'b']);
    // Row 0: a = 1, b = (4 + 5)/2 = 4.5 → 1 − 1/4.5.
    expect(s[0]).toBeCloseTo(1 - 1 / 4.5, 12);
    // Row 1: a = 1, b = (3 + 4)/2 = 3.5.
    expect(s[1]).toBeCloseTo(1 - 1 / 3.5, 12);
    expect(silhouette(X, [0, 0, 1, 1])).toBeCloseTo((2 * (1 - 1 / 4.5) + 2 * (1 - 1 / 3.5)) / 4, 12);
  });

  it('gives 0 for singletons and rejects a single label', () => {
    const X = fromRows([[0], [1], [5]]);
    expect(silhouetteSamples(X, [0, 0, 1])[2]).toBe(0);
    expect(() => silhouette(X, [1, 1, 1])).toThrow(/distinct labels/);
  });
});
