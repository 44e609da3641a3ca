/**
 * The Harmony fit and its k-means start keep their work arrays across rounds and restarts
 * (issue 24): they must give bit for bit what the plain form frozen in ./frozen/ (the code before
 * that change) gives — corrected embedding, centroids, starting centroids, responsibilities, ridge
 * terms, objectives, round counts; k-means centres, labels, inertia and iterations.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { harmonyIterate, type HarmonyOptions } from '../../src/batch/harmony.js';
import { kmeans } from '../../src/batch/kmeans.js';
import { bbbc021Recipe, BBBC021_FILES } from '../../src/io/recipes.js';
import { zeros, type Matrix } from '../../src/linalg/matrix.js';
import { PCA } from '../../src/represent/pca.js';
import { Rng } from '../../src/linalg/rng.js';
import { describeShared, sharedRoot } from '../helpers/shared.js';
import { harmonyIterate as frozenIterate } from './frozen/harmony.js';
import { kmeans as frozenKmeans } from './frozen/kmeans.js';
import { planted } from './planted.js';

/** Same bits (NaN-safe, −0 ≠ 0). */
function sameBits(a: Float64Array | Int32Array, b: Float64Array | Int32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let t = 0; t < x.length; t++) if (x[t] !== y[t]) return false;
  return true;
}

/**
 * The embedding a fit iterates on, as fitTransformHarmony makes it: columns standardised, then the
 * first `nComponents` principal axes (none for 0). Only the loop changed, so both forms share it.
 */
function embedding(X: Matrix, nComponents: number): Matrix {
  const n = X.rows, d = X.cols;
  const Xs = zeros(n, d);
  for (let j = 0; j < d; j++) {
    let m = 0, v = 0;
    for (let i = 0; i < n; i++) m += X.data[i * d + j]!;
    m /= n;
    for (let i = 0; i < n; i++) v += (X.data[i * d + j]! - m) ** 2;
    const sd = Math.sqrt(v / n) || 1;
    for (let i = 0; i < n; i++) Xs.data[i * d + j] = (X.data[i * d + j]! - m) / sd;
  }
  return nComponents === 0 ? Xs : new PCA({ nComponents: Math.min(nComponents, n - 1, d), solver: 'full', seed: 0 }).fitTransform(Xs);
}

function expectSameFit(X: Matrix, batch: string[], opts: HarmonyOptions): void {
  const levels = [...new Set(batch)];
  const codes = Int32Array.from(batch, (b) => levels.indexOf(b));
  const Z = embedding(X, opts.nComponents ?? 50);
  const a = harmonyIterate(Z, codes, levels.length, opts), b = frozenIterate(Z, codes, levels.length, opts);
  expect(sameBits(a.corrected.data, b.corrected.data)).toBe(true);
  expect(sameBits(a.centroids.data, b.centroids.data)).toBe(true);
  expect(sameBits(a.initialCentroids.data, b.initialCentroids.data)).toBe(true);
  expect(sameBits(a.R.data, b.R.data)).toBe(true);
  expect(sameBits(a.W, b.W)).toBe(true);
  expect(sameBits(Float64Array.from(a.objective), Float64Array.from(b.objective))).toBe(true);
  expect(a.kmeansRounds).toEqual(b.kmeansRounds);
  expect(a.iterations).toBe(b.iterations);
}

describe('Harmony with kept work arrays = the frozen plain form, to the bit', () => {
  it('planted batches: defaults, and θ ≠ 2 with τ > 0 (the Math.pow path), fewer restarts, other seeds', () => {
    const p = planted({ batches: 4, perBatch: 45, features: 12, seed: 7 });
    expectSameFit(p.X, p.batch, {});
    expectSameFit(p.X, p.batch, { theta: 1.5, tau: 3, nInit: 3, seed: 5, nComponents: 6, nClusters: 7 });
    expectSameFit(p.X, p.batch, { nComponents: 0, seed: 2, blockSize: 0.2 });
  });

  it('k-means alone: centres, labels, inertia, iterations — including emptied clusters (duplicated rows)', () => {
    const rng = new Rng(3);
    for (const [n, d, k, few] of [[200, 5, 6, 0], [90, 3, 12, 0], [2500, 4, 9, 0], [120, 3, 10, 6], [300, 4, 7, 5]] as const) {
      const X = zeros(n, d);
      // Few distinct rows: k-means++ and Lloyd meet ties; with fewer distinct rows than clusters
      // (`few`, no noise) seeds repeat and clusters are left empty and restarted.
      const distinct = few || Math.max(k + 2, Math.floor(n / 15));
      const base = Float64Array.from({ length: distinct * d }, () => rng.normal());
      for (let i = 0; i < n; i++) {
        const s = rng.int(distinct);
        for (let j = 0; j < d; j++) X.data[i * d + j] = base[s * d + j]! + (few || i % 3 === 0 ? 0 : 0.3 * rng.normal());
      }
      const a = kmeans(X, k, new Rng(11), { nInit: 4 }), b = frozenKmeans(X, k, new Rng(11), { nInit: 4 });
      expect(sameBits(a.centers.data, b.centers.data)).toBe(true);
      expect(sameBits(a.labels, b.labels)).toBe(true);
      expect(Object.is(a.inertia, b.inertia)).toBe(true);
      expect(a.iterations).toBe(b.iterations);
    }
  });
});

describeShared('Harmony on BBBC021 = the frozen plain form, to the bit', Object.values(BBBC021_FILES).map((f) => `data/${f}`), () => {
  it('an inner training side: two thirds of the compounds plus the DMSO wells, batch = week', async () => {
    const p = (await bbbc021Recipe(join(sharedRoot, 'data'))).profiles;
    const col = (n: string) => p.meta.find((m) => m.name === n)!.values as (string | null)[];
    const comp = col('Metadata_compound'), week = col('Metadata_batch');
    const comps = [...new Set(comp)].filter((c) => c !== 'DMSO').sort();
    const keep = new Set(comps.filter((_, j) => j % 3 !== 0));
    const rows: number[] = [];
    for (let i = 0; i < p.X.rows; i++) if (comp[i] === 'DMSO' || keep.has(comp[i]!)) rows.push(i);
    const d = p.X.cols;
    const X = zeros(rows.length, d);
    rows.forEach((i, t) => X.data.set(p.X.data.subarray(i * d, (i + 1) * d), t * d));
    expectSameFit(X, rows.map((i) => String(week[i])), {});
  });
});
