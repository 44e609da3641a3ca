import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy, readNpyMatrix } from '../../src/io/npy.js';
import { csif } from '../../src/enrich/csif.js';
import { fromRows } from '../../src/linalg/matrix.js';
import { repoRoot } from '../helpers/shared.js';

const FIX = join(repoRoot, 'test', 'fixtures', 'lincs_SQ00015054');

describe('csif — LINCS fixture parity (raw representation)', () => {
  it('reproduces csif_features_raw.json and the per-cluster counts of summary.json', () => {
    const Z = readNpyMatrix(join(FIX, 'X_zscored.npy'));
    const labels = Int32Array.from(readNpy(join(FIX, 'labels_raw.npy')).data);
    const names = readFileSync(join(FIX, 'features.txt'), 'utf8').split(/\r?\n/).filter(Boolean);
    const ref = JSON.parse(readFileSync(join(FIX, 'csif_features_raw.json'), 'utf8')) as Record<string, string[]>;
    const summary = JSON.parse(readFileSync(join(FIX, 'summary.json'), 'utf8'));
    const res = csif(Z, labels, names);
    const got: Record<string, string[]> = {};
    for (const c of res.perCluster) if (c.features.length) got[String(c.cluster)] = c.features.map((f) => f.feature);
    expect(got).toEqual(ref);
    const counts: Record<string, number> = {};
    for (const c of res.perCluster) if (c.features.length) counts[String(c.cluster)] = c.features.length;
    expect(counts).toEqual(summary.representations.raw.csif_count_per_cluster);
    const s = summary.representations.raw.csif;
    expect(res.perCluster.length).toBe(s.n_clusters_evaluated);
    expect(res.featureCounts.size).toBe(s.n_distinct_csif_features);
    expect([...res.featureCounts.values()].reduce((a, b) => a + b, 0)).toBe(s.n_csif_total);
    expect(res.warnings.some((w) => /2–3 members/.test(w))).toBe(true);
    for (const c of res.perCluster) for (const f of c.features) expect(f.ratio).toBeLessThan(0.01);
  });
});

describe('csif — hand case', () => {
  it('uses population variances and honours minSize', () => {
    // feature a: cluster 0 rows identical in a (ratio 0); feature b varies inside cluster 0.
    const Z = fromRows([
      [1, 0],
      [1, 4],
      [-1, 2],
      [-1, 2.01],
      [0, -8],
    ]);
    const labels = Int32Array.from([0, 0, 1, 1, 2]);
    const res = csif(Z, labels, ['a', 'b']);
    // overall var(a) = mean(a²) − mean(a)² = 4/5 − 0 = 0.8; cluster 1: var(b) = 0.000025, overall var(b)
    const b = [0, 4, 2, 2.01, -8];
    const mb = b.reduce((x, y) => x + y) / 5;
    const vb = b.reduce((x, y) => x + (y - mb) ** 2, 0) / 5;
    expect(res.perCluster.map((c) => c.cluster)).toEqual([0, 1]); // singleton cluster 2 skipped
    expect(res.perCluster[0]!.features).toEqual([{ feature: 'a', ratio: 0 }]);
    expect(res.perCluster[1]!.features.map((f) => f.feature)).toEqual(['a', 'b']);
    expect(res.perCluster[1]!.features[1]!.ratio).toBeCloseTo(0.000025 / vb, 15);
    expect(res.featureCounts.get('a')).toBe(2);
    const big = csif(Z, labels, ['a', 'b'], { minSize: 3 });
    expect(big.perCluster).toEqual([]);
  });
});
