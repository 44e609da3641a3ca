/**
 * How `run` picks its k-NN search (exact, projected exact, HNSW) by the cost model, and the
 * projected search inside `run` on the bundled LINCS plate: its graph is the library function's,
 * its recall is measured and reported, and a projection too narrow for --knn-min-recall is widened.
 */
import { describe, expect, it } from 'vitest';
import { lincsRecipe } from '../../src/io/recipes.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { presetParameters } from '../../src/pipeline/params.js';
import { chooseKnnMethod, PROJECTED_DEFAULT_DIMS } from '../../src/pipeline/clustering.js';
import { cheapestKnnMethod, knnCostSeconds } from '../../src/cluster/knnCost.js';
import { projectedExactKnn, sampledRecall } from '../../src/cluster/knnGraph.js';
import type { StoredMatrix } from '../../src/linalg/index.js';
import { examplePath } from '../helpers/shared.js';

const shape = (rows: number, cols: number): StoredMatrix => ({ rows, cols, data: new Float64Array(0) });

describe('the k-NN method by cost', () => {
  it('exact up to 20,000 rows; 10⁵ × 1,000: projected exact search; 10⁶ × 1,000 on 64 components: HNSW', () => {
    const p = presetParameters('default');
    expect(chooseKnnMethod(p, shape(20000, 1000))).toMatchObject({ method: 'exact', dims: 0 });
    const c5 = chooseKnnMethod(p, shape(100000, 1000));
    expect(c5).toMatchObject({ method: 'projected', dims: PROJECTED_DEFAULT_DIMS });
    expect(c5.reason).toMatch(/^auto: least estimated CPU seconds \(exact \d+, projected \d+ on 256 components, hnsw \d+\)$/);
    // 50 PCA scores: too few columns to project; exact brute force beats an index at 10⁵ rows
    expect(chooseKnnMethod(p, shape(100000, 50))).toMatchObject({ method: 'exact', dims: 0 });
    // the 10⁶ raw run (--knn-projection 64): HNSW, as before
    expect(chooseKnnMethod({ ...p, knnProjection: 64 }, shape(1_000_000, 1000))).toMatchObject({ method: 'hnsw', dims: 64 });
    // requested methods are kept, with the projection they apply to
    expect(chooseKnnMethod({ ...p, knnMethod: 'hnsw' }, shape(100, 1000))).toEqual({ method: 'hnsw', dims: 0, reason: 'requested' });
    expect(chooseKnnMethod({ ...p, knnMethod: 'projected', knnProjection: 32 }, shape(100, 1000))).toEqual({ method: 'projected', dims: 32, reason: 'requested' });
    expect(chooseKnnMethod({ ...p, knnMethod: 'projected', knnProjection: 32 }, shape(100, 50))).toEqual({ method: 'projected', dims: 0, reason: 'requested' });
  });
  it('brute force grows as n², HNSW as n·log n: the cheaper one changes between 10⁵ and 10⁶ rows', () => {
    const q = (n: number) => knnCostSeconds({ n, d: 1000, k: 50, projectedDims: 64, hnswDims: 64 });
    const a = q(1e5), b = q(1e6);
    expect(a.projected).toBeLessThan(a.hnsw);
    expect(b.hnsw).toBeLessThan(b.projected);
    expect(b.exact / a.exact).toBeGreaterThan(90);
    expect(b.hnsw / a.hnsw).toBeLessThan(15);
    expect(cheapestKnnMethod({ n: 1e6, d: 1000, k: 50, projectedDims: 64, hnswDims: 64 }).method).toBe('hnsw');
  });
});

describe('projected exact search inside run (LINCS plate)', () => {
  it('graph and recall as the library computes them; a too narrow projection is widened', async () => {
    const { profiles } = await lincsRecipe(examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz'), examplePath('lincs/lincs_repurposing_moa.tsv'));
    const base = { ...presetParameters('paper'), clustering: 'sparse-ap' as const, knnMethod: 'projected' as const, knn: 10, representations: ['raw'] as 'raw'[] };
    const r = analyse(profiles, { ...base, knnProjection: 64, knnMinRecall: 0 });
    const info = r.representations.raw!.clustering!.knn!;
    expect(info).toMatchObject({ method: 'projected', methodReason: 'requested', projectedDims: 64 });
    const Z = r.representations.raw!.coords;
    const G = projectedExactKnn(Z, 10, { projected: { dims: 64, seed: 0 } });
    expect(info.recall).toBe(sampledRecall(Z, G, 200, 0));
    expect(info.recall!).toBeGreaterThan(0.9);
    // 2 components fall short of a 0.99 minimum: searched again on 4, 8, … until it is reached (or all columns)
    const w = analyse(profiles, { ...base, knnProjection: 2, knnMinRecall: 0.99 }).representations.raw!.clustering!.knn!;
    expect(w.attempts!.length).toBeGreaterThan(1);
    expect(w.attempts![0]!.dims).toBe(2);
    expect(w.attempts![0]!.recall).toBeLessThan(0.99);
    const last = w.attempts![w.attempts!.length - 1]!;
    expect(last.recall >= 0.99 || last.dims === Z.cols).toBe(true);
  });
});
