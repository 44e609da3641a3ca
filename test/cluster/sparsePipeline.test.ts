import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/pipeline/analyse.js';
import { presetParameters } from '../../src/pipeline/params.js';
import { chooseClustering } from '../../src/pipeline/clustering.js';
import { generateSynthetic } from '../../src/io/synthetic.js';
import type { Profiles } from '../../src/io/profiles.js';
import { adjustedRandIndex } from '../../src/evaluate/ari.js';
import { CollectingReporter } from '../../src/util/log.js';

function synthProfiles(): Profiles {
  const s = generateSynthetic({ rows: 800, features: 60, moas: 8, plates: 4, seed: 1, activeFraction: 1 });
  return {
    features: s.features,
    X: { rows: 800, cols: 60, data: s.X },
    meta: Object.entries(s.meta).map(([name, values]) => ({ name, kind: 'string' as const, values })),
  };
}

describe('run: clustering chosen by size or flag', () => {
  const p = synthProfiles();
  it('auto = dense below 5,000 rows, sparse AP above', () => {
    const params = presetParameters('default');
    expect(chooseClustering(params, 5000).method).toBe('dense');
    expect(chooseClustering(params, 5001).method).toBe('sparse-ap');
    expect(chooseClustering({ ...params, clustering: 'louvain' }, 10).method).toBe('louvain');
  });
  it('sparse AP and Louvain on the k-NN graph feed enrichment and CSIF unchanged; they agree with dense AP', () => {
    const base = { ...presetParameters('default'), representations: ['raw', 'pca'] as ('raw' | 'pca')[], knn: 40 };
    const reporter = new CollectingReporter();
    const dense = analyse(p, base, { reporter });
    expect(dense.representations.raw!.clustering!.method).toBe('dense');
    expect(reporter.messages.some((m) => /dense affinity propagation \(auto: n = \d+ ≤ 5000\)/.test(m))).toBe(true);
    const sparse = analyse(p, { ...base, clustering: 'sparse-ap' });
    const louv = analyse(p, { ...base, clustering: 'louvain' });
    for (const rep of ['raw', 'pca'] as const) {
      const s = sparse.representations[rep]!;
      expect(s.clustering!.method).toBe('sparse-ap');
      expect(s.clustering!.knn!.k).toBe(40);
      expect(s.ap.labels.every((l) => l >= 0 && l < s.ap.exemplars.length)).toBe(true);
      expect(s.enrichment.nClusters).toBe(s.ap.exemplars.length);
      expect(adjustedRandIndex(s.ap.labels, dense.representations[rep]!.ap.labels)).toBeGreaterThan(0.5);
      const l = louv.representations[rep]!;
      expect(l.clustering!.louvain!.communities).toBe(l.ap.exemplars.length);
      expect(l.enrichment.enrichedClusters.length).toBeGreaterThan(0);
      expect(l.csif.perCluster.length).toBeGreaterThan(0);
    }
  });
});
