import { describe, expect, it } from 'vitest';
import { lincsRecipe } from '../../src/io/recipes.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { presetParameters } from '../../src/pipeline/params.js';
import { hnswKnn, rerankCandidates, sampledRecall } from '../../src/cluster/knnGraph.js';
import { examplePath } from '../helpers/shared.js';

const plate = examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz');
const annotations = examplePath('lincs/lincs_repurposing_moa.tsv');

describe('HNSW candidates shared between representations', () => {
  it('re-ranked in another representation equal that representation\'s graph among the same candidates', async () => {
    const { profiles } = await lincsRecipe(plate, annotations);
    const base = { ...presetParameters('paper'), clustering: 'sparse-ap' as const, knnMethod: 'hnsw' as const, knn: 10, representations: ['raw', 'pca'] as ('raw' | 'pca')[] };
    // A low minimum: PCA keeps raw's candidates, re-ranked by its own distances.
    const low = analyse(profiles, { ...base, knnMinRecall: 0.5 });
    const pk = low.representations.pca!.clustering!.knn!;
    expect(pk.candidatesFrom).toBe('raw');
    expect(pk.recall!).toBeGreaterThanOrEqual(0.5);
    const pcaCoords = low.representations.pca!.coords;
    const raw = hnswKnn(low.representations.raw!.coords, 10, { hnsw: { seed: 0, keepCandidates: true } });
    const G = rerankCandidates(pcaCoords, 10, raw.candidates!);
    expect(sampledRecall(pcaCoords, G, 200, 0)).toBe(pk.recall);
    // rows are ranked by exact distance: ascending within every row
    for (let i = 0; i < G.n; i++) for (let p = G.indptr[i]! + 1; p < G.indptr[i + 1]!; p++) expect(G.distances[p]!).toBeGreaterThanOrEqual(G.distances[p - 1]!);
    // A minimum the shared candidates cannot reach: PCA builds its own index and says why.
    const high = analyse(profiles, { ...base, knnMinRecall: 1.01 });
    const hk = high.representations.pca!.clustering!.knn!;
    expect(hk.candidatesFrom).toBeUndefined();
    expect(hk.sharedRecall).toEqual({ from: 'raw', recall: pk.recall });
  });
});
