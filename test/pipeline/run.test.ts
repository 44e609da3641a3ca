import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readProfiles } from '../../src/io/read.js';
import type { Profiles } from '../../src/io/profiles.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { runWorkflow } from '../../src/pipeline/run.js';
import { presetParameters } from '../../src/pipeline/params.js';
import { queryDrug } from '../../src/pipeline/query.js';
import { lincsRecipe } from '../../src/io/recipes.js';
import { adjustedRandIndex } from '../../src/evaluate/ari.js';
import { Itml } from '../../src/represent/itml.js';
import { squaredDistances, fromRows, zeros } from '../../src/linalg/index.js';
import { affinityPropagation } from '../../src/cluster/affinityPropagation.js';
import { fixtureArray, fixtureMatrix, fixtureConstraints } from '../helpers/fixtures.js';
import { examplePath } from '../helpers/shared.js';
import { main } from '../../src/cli/main.js';

const plate = examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz');
const annotations = examplePath('lincs/lincs_repurposing_moa.tsv');

describe('DIP-community pipeline on the bundled LINCS plate (--preset paper)', () => {
  let profiles: Profiles;
  let out: string;
  let summary: any;
  let analysis: Awaited<ReturnType<typeof runWorkflow>>['analysis'];

  beforeAll(async () => {
    profiles = (await lincsRecipe(plate, annotations)).profiles;
    out = mkdtempSync(join(tmpdir(), 'phenomap-run-'));
    const r = await runWorkflow(profiles, out, presetParameters('paper'));
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    analysis = r.analysis;
  });

  it('reproduces the reference cluster and enrichment counts for raw and PCA', () => {
    expect(summary.n).toBe(342);
    expect(summary.d).toBe(454);
    expect(summary.dropped.rows).toBe(42);
    const { raw, pca, itml } = summary.representations;
    expect([raw.clusters, raw.enrichedClusters, raw.apIterations, raw.apConverged]).toEqual([69, 18, 33, true]);
    expect([pca.clusters, pca.enrichedClusters, pca.apIterations, pca.apConverged]).toEqual([68, 19, 29, true]);
    expect(pca.dim).toBe(50);
    expect(itml.dim).toBe(454);
    expect(itml.apConverged).toBe(true);
    expect(summary.itml.converged).toBe(true);
  });

  it('partitions from phenomap’s own distances equal sklearn’s (ARI = 1 for raw and PCA)', () => {
    expect(adjustedRandIndex(analysis.representations.raw!.ap.labels, fixtureArray('labels_raw.npy'))).toBe(1);
    expect(adjustedRandIndex(analysis.representations.pca!.ap.labels, fixtureArray('labels_pca.npy'))).toBe(1);
  });

  it('writes every output the contract names, with consistent contents', async () => {
    for (const f of ['summary.json', 'clusters.csv', 'enrichment.csv', 'csif.csv', 'itml_metric.npy', 'repr_raw.npy', 'repr_pca.npy', 'repr_itml.npy', 'features.txt']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const clusters = readFileSync(join(out, 'clusters.csv'), 'utf8').trim().split('\n');
    expect(clusters.length).toBe(343);
    expect(clusters[0]).toMatch(/^row,.*cluster_raw,cluster_pca,cluster_itml,exemplar_raw/);
    const enr = readFileSync(join(out, 'enrichment.csv'), 'utf8').trim().split('\n');
    expect(enr[0]).toBe('representation,cluster,moa,k,n,K,N,p,q,significant');
    const sigRaw = enr.slice(1).filter((l) => l.startsWith('raw,') && l.endsWith(',true'));
    expect(sigRaw.length).toBe(32); // reference: 32 significant (cluster, MoA) pairs
    expect(summary.representations.raw.csifTotal).toBe(846); // reference CSIF count (raw)
    // Times live in timings.json, so summary.json is the same for the same input and seed.
    expect(summary.timings).toBeUndefined();
    expect(JSON.parse(readFileSync(join(out, 'timings.json'), 'utf8')).seconds.ap).toBeGreaterThan(0);
    expect(['native', 'wasm-simd', 'js']).toContain(summary.engine.engine);
  });

  it('ITML on the fixture constraints clusters like metric-learn + sklearn (ARI ≥ 0.99)', () => {
    const Z = fixtureMatrix('X_zscored.npy');
    const itml = new Itml({ bounds: 'metric-learn' }).fitPairs(Z, fixtureConstraints());
    const D = squaredDistances(itml.transform(Z));
    for (let i = 0; i < D.data.length; i++) D.data[i] = -D.data[i]!;
    const ap = affinityPropagation(D, { noise: { seed: 0 } });
    expect(adjustedRandIndex(ap.labels, fixtureArray('labels_itml.npy'))).toBeGreaterThanOrEqual(0.99);
  });

  it('query finds a drug’s community, neighbours and closeness p-values; suggests names when unknown', async () => {
    const q = await queryDrug(out, 'Bifonazole', { k: 5 });
    expect(q.hits.length).toBe(6); // six doses
    for (const hit of q.hits) {
      const raw = hit.byRepresentation.raw!;
      expect(raw.neighbours.length).toBe(5);
      for (let t = 1; t < raw.neighbours.length; t++) expect(raw.neighbours[t]!.distance).toBeGreaterThanOrEqual(raw.neighbours[t - 1]!.distance);
      for (const nb of raw.neighbours) {
        expect(nb.p).toBeGreaterThan(0);
        expect(nb.p).toBeLessThanOrEqual(1);
      }
      for (const m of raw.members) expect(m.row).not.toBe(hit.runRow);
    }
    await expect(queryDrug(out, 'bifonazol')).rejects.toThrow(/did you mean: bifonazole/);
  });
});

describe('ITML enrichment ratio over constraint seeds (reference 0.327 ± 0.029)', () => {
  it('the mean over 40 seeds lies in the reference band and most seeds land inside it', async () => {
    const { profiles } = await readProfiles(plate);
    const ratios: number[] = [];
    for (let seed = 0; seed < 40; seed++) {
      const p = presetParameters('paper');
      p.seed = seed;
      p.representations = ['itml'];
      ratios.push(analyse(profiles, p).representations.itml!.enrichment.enrichmentRatio);
    }
    const [lo, hi] = [0.327 - 0.029, 0.327 + 0.029];
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    expect(mean).toBeGreaterThan(lo);
    expect(mean).toBeLessThan(hi);
    // ±1 sd holds ~68 % of a matching distribution; bench/itml-seeds.ts prints each seed.
    expect(ratios.filter((r) => r >= lo && r <= hi).length).toBeGreaterThan(ratios.length / 2);
  }, 60_000);
});

describe('pipeline bad input', () => {
  const base = (X: number[][], labels: (string | null)[]): Profiles => ({
    features: X[0]!.map((_, j) => `Cells_f${j}`),
    X: fromRows(X),
    meta: [{ name: 'Metadata_moa', kind: 'string', values: labels }],
    source: 'test.csv',
  });

  it('fewer than 2 labelled rows', () => {
    expect(() => analyse(base([[1, 2], [3, 4], [5, 7]], ['a', null, null]), presetParameters('default'))).toThrow(/only 1 row\(s\) have a Metadata_moa label/);
  });

  it('all-identical rows', () => {
    expect(() => analyse(base([[1, 2], [1, 2], [1, 2]], ['a', 'b', 'a']), presetParameters('default'))).toThrow(/zero variance/);
  });

  it('a single label class: warns and skips ITML, still clusters raw and PCA', () => {
    const X = zeros(12, 3);
    for (let i = 0; i < 36; i++) X.data[i] = Math.sin(i * 1.3) + (i % 3);
    const p: Profiles = { features: ['Cells_a', 'Cells_b', 'Cells_c'], X, meta: [{ name: 'Metadata_moa', kind: 'string', values: new Array(12).fill('x') }] };
    const params = presetParameters('default');
    params.pca = 2;
    const r = analyse(p, params);
    expect(r.representations.itml).toBeUndefined();
    expect(r.representations.raw).toBeDefined();
    expect(r.warnings.some((w) => /only one Metadata_moa class/.test(w))).toBe(true);
  });

  it('missing label column via the CLI: exit 2, one line, no output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-bad-'));
    const errs: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    (process.stderr as any).write = (s: string) => (errs.push(String(s)), true);
    let code: number;
    try {
      code = await main(['node', 'phenomap', 'run', plate, '--label-col', 'Metadata_nope', '--out', join(dir, 'o'), '--quiet']);
    } finally {
      (process.stderr as any).write = orig;
    }
    expect(code).toBe(2);
    const msg = errs.join('');
    expect(msg).toMatch(/no metadata column "Metadata_nope"/);
    expect(msg.trim().split('\n').filter((l) => l.startsWith('phenomap:')).length).toBe(1);
    expect(existsSync(join(dir, 'o', 'summary.json'))).toBe(false);
  });

  it('a feature with NaN is dropped, counted and reported, not silently lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-nan-'));
    const rows = ['Metadata_moa,Cells_a,Cells_b,Cells_c'];
    for (let i = 0; i < 10; i++) rows.push(`${i % 2 ? 'x' : 'y'},${Math.sin(i)},${i === 3 ? 'NaN' : Math.cos(i)},${i * i}`);
    const f = join(dir, 'p.csv');
    writeFileSync(f, rows.join('\n') + '\n');
    const params = presetParameters('default');
    params.pca = 2;
    const { summary } = await runWorkflow(f, join(dir, 'out'), params);
    expect(summary.dropped.features).toBe(1);
    expect(summary.dropped.details.find((d) => d.kind === 'feature')!.name).toBe('Cells_b');
    expect(summary.d).toBe(2);
  });
});
