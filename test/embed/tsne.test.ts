import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { TSNE, jointProbabilitiesNN, knnSquared } from '../../src/embed/tsne.js';
import { SpTree } from '../../src/embed/sptree.js';
import { silhouette } from '../../src/evaluate/silhouette.js';
import { readNpyMatrix } from '../../src/io/npy.js';
import { takeRows, type Matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/rng.js';
import { repoRoot } from '../helpers/shared.js';
import { fixtureMoaLabels } from '../helpers/fixtures.js';

/** k Gaussian blobs in d dims, centres ±sep apart on random axes. */
function blobs(nPer: number, k: number, d: number, sep: number, seed: number): { X: Matrix; y: number[] } {
  const rng = new Rng(seed);
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => sep * rng.normal()));
  const data = new Float64Array(nPer * k * d);
  const y: number[] = [];
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < nPer; i++) {
      const r = c * nPer + i;
      for (let a = 0; a < d; a++) data[r * d + a] = centres[c]![a]! + rng.normal();
      y.push(c);
    }
  }
  return { X: { rows: nPer * k, cols: d, data }, y };
}

describe('t-SNE building blocks', () => {
  it('kNN matches brute force and excludes self', () => {
    const { X } = blobs(20, 3, 5, 3, 1);
    const k = 7;
    const { indices, dist2 } = knnSquared(X, k);
    for (const i of [0, 13, 59]) {
      const d = [];
      for (let j = 0; j < X.rows; j++) {
        if (j === i) continue;
        let s = 0;
        for (let a = 0; a < X.cols; a++) s += (X.data[i * 5 + a]! - X.data[j * 5 + a]!) ** 2;
        d.push({ j, s });
      }
      d.sort((a, b) => a.s - b.s);
      for (let t = 0; t < k; t++) {
        expect(indices[i * k + t]).toBe(d[t]!.j);
        expect(dist2[i * k + t]).toBeCloseTo(d[t]!.s, 9);
      }
    }
  });

  it('P is symmetric, sums to 1, and each conditional row has the requested perplexity', () => {
    const { X } = blobs(30, 3, 4, 4, 2);
    const P = jointProbabilitiesNN(X, 40, 10);
    let sum = 0;
    const get = (i: number, j: number) => {
      for (let s = P.indptr[i]!; s < P.indptr[i + 1]!; s++) if (P.indices[s] === j) return P.values[s]!;
      return 0;
    };
    for (let i = 0; i < P.n; i++) {
      for (let s = P.indptr[i]!; s < P.indptr[i + 1]!; s++) {
        sum += P.values[s]!;
        expect(P.indices[s]).not.toBe(i);
        expect(get(P.indices[s]!, i)).toBeCloseTo(P.values[s]!, 14);
      }
    }
    expect(sum).toBeCloseTo(1, 12);
  });

  it('the tree reproduces the exact repulsion when θ = 0', () => {
    const rng = new Rng(3);
    const n = 200;
    const Y = new Float64Array(n * 2).map(() => rng.normal());
    Y[2] = Y[0]!; // a duplicate point
    Y[3] = Y[1]!;
    const tree = new SpTree(2);
    tree.build(Y, n);
    expect(tree.count[0]).toBe(n);
    const out = new Float64Array(2);
    for (const i of [0, 5, 77]) {
      const z = tree.negativeForce(Y, i * 2, 0, out, 0, 1);
      let zr = 0, f0 = 0, f1 = 0;
      for (let j = 0; j < n; j++) {
        const dx = Y[i * 2]! - Y[j * 2]!, dy = Y[i * 2 + 1]! - Y[j * 2 + 1]!;
        const d2 = dx * dx + dy * dy;
        if (d2 === 0) continue; // self and exact duplicates are skipped, as in sklearn
        const q = 1 / (1 + d2);
        zr += q;
        f0 += q * q * dx;
        f1 += q * q * dy;
      }
      expect(z).toBeCloseTo(zr, 10);
      expect(out[0]).toBeCloseTo(f0, 10);
      expect(out[1]).toBeCloseTo(f1, 10);
    }
  });

  it('the packed 2-D traversal equals the generic one, and θ = 0.5 approximates the exact sum', () => {
    const rng = new Rng(4);
    const n = 500;
    const Y = new Float64Array(n * 2).map(() => 3 * rng.normal());
    const tree = new SpTree(2);
    tree.build(Y, n);
    const a = new Float64Array(2), b = new Float64Array(2), e = new Float64Array(2);
    for (const i of [1, 250, 499]) {
      const za = tree.negativeForce(Y, 2 * i, 0.25, a, 0, 1);
      const zb = tree.negativeForce2(Y[2 * i]!, Y[2 * i + 1]!, 0.25, b, 0);
      expect(zb).toBeCloseTo(za, 12);
      expect(b[0]).toBeCloseTo(a[0]!, 12);
      expect(b[1]).toBeCloseTo(a[1]!, 12);
      const ze = tree.negativeForce(Y, 2 * i, 0, e, 0, 1);
      expect(Math.abs(za - ze) / ze).toBeLessThan(0.02);
    }
  });
});

describe('TSNE', () => {
  it('separates well-separated blobs (silhouette > 0.5) and is deterministic for a seed', () => {
    const { X, y } = blobs(60, 4, 20, 4, 7);
    const a = new TSNE({ seed: 1, nIter: 500 }).fitTransform(X);
    const b = new TSNE({ seed: 1, nIter: 500 }).fitTransform(X);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(a.data.every(Number.isFinite)).toBe(true);
    expect(silhouette(a, y)).toBeGreaterThan(0.5);
  });

  it('a precomputed kNN (with more neighbours than needed) gives the identical embedding', () => {
    const { X } = blobs(25, 3, 6, 4, 9);
    const a = new TSNE({ perplexity: 5, nIter: 300 }).fitTransform(X);
    const b = new TSNE({ perplexity: 5, nIter: 300, knn: knnSquared(X, 40) }).fitTransform(X);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });

  it('exact and Barnes–Hut agree qualitatively', () => {
    const { X, y } = blobs(30, 3, 10, 4, 11);
    const bh = new TSNE({ method: 'barnes_hut', perplexity: 10, nIter: 500 });
    const ex = new TSNE({ method: 'exact', perplexity: 10, nIter: 500 });
    const yb = bh.fitTransform(X), ye = ex.fitTransform(X);
    expect(silhouette(yb, y)).toBeGreaterThan(0.5);
    expect(silhouette(ye, y)).toBeGreaterThan(0.5);
    expect(Math.abs(bh.klDivergence - ex.klDivergence)).toBeLessThan(0.25);
    expect(bh.klDivergence).toBeGreaterThan(0);
  });

  it('random init with a different seed gives a different layout', () => {
    const { X } = blobs(20, 2, 5, 4, 5);
    const a = new TSNE({ init: 'random', seed: 1, nIter: 300, perplexity: 5 }).fitTransform(X);
    const b = new TSNE({ init: 'random', seed: 2, nIter: 300, perplexity: 5 }).fitTransform(X);
    expect(Array.from(a.data)).not.toEqual(Array.from(b.data));
  });

  it('on the LINCS top-10-MoA rows, 2-D silhouette by MoA is comparable to sklearn (0.108)', () => {
    const fx = join(repoRoot, 'test/fixtures/lincs_SQ00015054');
    const X = readNpyMatrix(join(fx, 'X_zscored.npy'));
    const moa = fixtureMoaLabels();
    const counts = new Map<string, number>();
    for (const m of moa) counts.set(m, (counts.get(m) ?? 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10).map((e) => e[0]);
    const idx = moa.map((m, i) => (top.includes(m) ? i : -1)).filter((i) => i >= 0);
    expect(idx.length).toBe(102); // as the reference run
    const Xs = takeRows(X, idx);
    const labels = idx.map((i) => moa[i]!);
    const t = new TSNE({ seed: 0 });
    const Y = t.fitTransform(Xs);
    const s = silhouette(Y, labels);
    expect(s).toBeGreaterThan(0.108 - 0.05); // phenomap gives ≈ 0.095–0.098 across seeds
    expect(t.learningRateUsed).toBe(50);
  });
});
