/**
 * Scaling benchmark: the whole `phenomap run` (ingest → z-score → PCA → ITML → k-NN graph →
 * clustering → enrichment → CSIF → outputs, no pictures) on synthetic tables of 10,000 / 30,000 /
 * 100,000 profiles × 1,000 features, one child process per size, wall time and peak RSS
 * (/usr/bin/time's maximum resident set size, which includes worker threads and native HNSW
 * memory). Then, side by side with ../shared/bench/peer_sklearn.py (1 BLAS thread, --repeats 1,
 * --no-tsne): on LINCS ×8 (2,736 rows, as the peer's --scale 8 builds it) and on the 10,000-row
 * synthetic table — wall-time and peak-memory ratios, and the ARI between sparse-AP and dense-AP
 * labels from phenomap's own runs.
 *
 * Each size runs once per storage precision (--precision, default float64,float32: `run --float32`
 * holds the table as float32, sums in float64); the ARI between the two runs' labels shows what
 * the rounding changes.
 *
 *   npx tsx bench/scale.ts [--sizes 10000,30000,100000] [--features 1000] [--precision float64,float32]
 *                          [--no-peer] [--no-scale]
 *
 * Synthetic tables are cached in os.tmpdir()/phenomap-scale/ (Parquet; seed 0).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readProfiles, writeProfiles, readTable, tableColumn } from '../src/io/read.js';
import { writeSynthetic } from '../src/io/synthetic.js';
import { adjustedRandIndex } from '../src/evaluate/ari.js';
import { arg, hasFlag, measure, peer, plate, root, scaledProfiles, type Measured } from './common.js';

const sizes = arg('--sizes', '10000,30000,100000').split(',').map(Number);
const D = Number(arg('--features', '1000'));
const precisions = arg('--precision', 'float64,float32').split(',');
const cache = join(tmpdir(), 'phenomap-scale');
mkdirSync(cache, { recursive: true });



function phenomapRun(file: string, out: string, extra: string[]): Measured & { summary: any } {
  rmSync(out, { recursive: true, force: true });
  const m = measure(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'dev.ts'), 'run', file, '--out', out, '--label-col', 'Metadata_moa', '-q', ...extra]);
  if (!m.ok) {
    console.log(`phenomap run failed (${file} ${extra.join(' ')}):\n${m.stderr.split('\n').slice(-15).join('\n')}`);
    return { ...m, summary: null };
  }
  const t = JSON.parse(readFileSync(join(out, 'timings.json'), 'utf8'));
  return { ...m, summary: { ...JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')), timings: t.seconds, peakRssMB: t.peakRssMB } };
}

async function clusterColumn(dir: string, rep: string): Promise<number[]> {
  const t = await readTable(join(dir, 'clusters.csv'));
  return tableColumn(t, `cluster_${rep}`).map(Number);
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

function stageLine(s: any): string {
  const t = s.timings as Record<string, number>;
  const keys = ['load', 'zscore', 'pca', 'itml', 'knn', 'distances', 'ap', 'louvain', 'enrichment', 'csif', 'write'];
  return keys.filter((k) => t[k] !== undefined).map((k) => `${k} ${t[k]!.toFixed(1)}`).join(', ');
}

// ---------------------------------------------------------------- 1. the scaling curve
const curve: any[] = [];
if (!hasFlag('--no-scale')) {
  console.log(`== whole run on synthetic tables × ${D} features (one child process per size; cache ${cache})`);
  for (const n of sizes) {
    const file = join(cache, `synth_${n}x${D}_seed0.parquet`);
    if (!existsSync(file)) {
      const t0 = performance.now();
      await writeSynthetic(file, { rows: n, features: D, moas: Math.max(20, Math.round(n / 250)), plates: Math.ceil(n / 384), seed: 0 });
      console.log(`  generated ${file} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    const outs: Record<string, string> = {};
    for (const prec of precisions) {
      const out = join(cache, `run_${n}_${prec}`);
      const r = phenomapRun(file, out, prec === 'float32' ? ['--float32'] : []);
      if (!r.summary) continue;
      outs[prec] = out;
      const s = r.summary;
      const reps = Object.entries(s.representations as Record<string, any>).map(
        ([k, v]) => `${k}: ${v.clusters} clusters, ${v.enrichedClusters} enriched, ${v.clustering?.method ?? 'dense'}${v.clustering?.knn ? ` ${v.clustering.knn.k}-NN ${v.clustering.knn.method}${v.clustering.knn.recall !== undefined ? ` recall ${v.clustering.knn.recall.toFixed(3)}` : ''}` : ''}, AP ${v.apIterations} it${v.apConverged ? '' : ' NOT converged'}`,
      );
      console.log(`  n = ${n}, ${prec}: wall ${fmt(r.wall)} s, peak RSS ${fmt(r.maxRssMB / 1024, 2)} GB`);
      console.log(`    stages (s): ${stageLine(s)}`);
      if (s.peakRssMB) console.log(`    peak RSS at the end of each stage (GB): ${Object.entries(s.peakRssMB as Record<string, number>).map(([k, v]) => `${k} ${(v / 1024).toFixed(2)}`).join(', ')}`);
      for (const l of reps) console.log(`    ${l}`);
      curve.push({ n, d: D, precision: prec, wall: r.wall, maxRssGB: r.maxRssMB / 1024, timings: s.timings });
    }
    if (outs.float64 && outs.float32) {
      const ari: string[] = [];
      for (const rep of ['raw', 'pca', 'itml']) {
        ari.push(`${rep} ${fmt(adjustedRandIndex(await clusterColumn(outs.float64, rep), await clusterColumn(outs.float32, rep)), 3)}`);
      }
      console.log(`    ARI(float32 run, float64 run): ${ari.join(', ')}`);
    }
  }
}

// ---------------------------------------------------------------- 2. side by side with sklearn
const side: any[] = [];
if (!hasFlag('--no-peer')) {
  const lincs8 = join(cache, 'lincs_x8.csv.gz');
  if (!existsSync(lincs8)) {
    const { profiles } = await readProfiles(plate);
    await writeProfiles(lincs8, scaledProfiles(profiles, 8));
  }
  const synth10k = join(cache, `synth_10000x${D}_seed0.csv.gz`);
  if (!existsSync(synth10k)) await writeSynthetic(synth10k, { rows: 10000, features: D, moas: 40, plates: 27, seed: 0 });
  const cases = [
    { name: 'LINCS ×8', ours: lincs8, peerArgs: [plate, '--scale', '8'] },
    { name: 'synthetic 10,000', ours: synth10k, peerArgs: [synth10k] },
  ];
  console.log('\n== side by side with peer_sklearn.py (raw + PCA: the peer clusters raw only; 1 BLAS thread, --repeats 1, --no-tsne)');
  for (const c of cases) {
    const p = existsSync(peer) ? measure('/usr/bin/python3', [peer, ...c.peerArgs, '--label-col', 'Metadata_moa', '--repeats', '1', '--no-tsne']) : null;
    const pj = p?.ok ? JSON.parse(p.stdout) : null;
    if (p && !p.ok) console.log(`  peer failed: ${p.stderr.split('\n').slice(-5).join('\n')}`);
    const dense = phenomapRun(c.ours, join(cache, `side_dense_${side.length}`), ['--representations', 'raw,pca', '--clustering', 'dense']);
    const sparse = phenomapRun(c.ours, join(cache, `side_sparse_${side.length}`), ['--representations', 'raw,pca', '--clustering', 'sparse-ap']);
    const louv = phenomapRun(c.ours, join(cache, `side_louvain_${side.length}`), ['--representations', 'raw,pca', '--clustering', 'louvain']);
    const ari: Record<string, number> = {}, ariL: Record<string, number> = {};
    for (const rep of ['raw', 'pca']) {
      if (!dense.summary) continue;
      const dl = await clusterColumn(join(cache, `side_dense_${side.length}`), rep);
      if (sparse.summary) ari[rep] = adjustedRandIndex(dl, await clusterColumn(join(cache, `side_sparse_${side.length}`), rep));
      if (louv.summary) ariL[rep] = adjustedRandIndex(dl, await clusterColumn(join(cache, `side_louvain_${side.length}`), rep));
    }
    const n = dense.summary?.n ?? pj?.n;
    console.log(`  ${c.name} (n = ${n}, d = ${dense.summary?.d ?? pj?.d}):`);
    if (p) console.log(`    sklearn peer:        wall ${fmt(p.wall)} s, peak RSS ${fmt(p.maxRssMB)} MB${pj ? `; raw AP ${pj.clusters} clusters / ${pj.ap_iterations} it, ${pj.enriched} enriched` : ''}`);
    for (const [label, r] of [['phenomap dense AP', dense], ['phenomap sparse AP', sparse], ['phenomap Louvain', louv]] as const) {
      if (!r.summary) continue;
      const raw = r.summary.representations.raw;
      const ratio = p ? `  → wall ×${fmt(p.wall / r.wall, 2)} faster, memory ×${fmt(p.maxRssMB / r.maxRssMB, 2)} smaller than sklearn` : '';
      console.log(`    ${label.padEnd(20)} wall ${fmt(r.wall)} s, peak RSS ${fmt(r.maxRssMB)} MB; raw ${raw.clusters} clusters / ${raw.apIterations} it, ${raw.enrichedClusters} enriched${ratio}`);
    }
    console.log(`    ARI(sparse AP, dense AP): raw ${fmt(ari.raw ?? NaN, 3)}, pca ${fmt(ari.pca ?? NaN, 3)}; ARI(Louvain, dense AP): raw ${fmt(ariL.raw ?? NaN, 3)}, pca ${fmt(ariL.pca ?? NaN, 3)}`);
    side.push({ case: c.name, n, peer: p ? { wall: p.wall, maxRssMB: p.maxRssMB, json: pj } : null, dense: { wall: dense.wall, maxRssMB: dense.maxRssMB }, sparse: { wall: sparse.wall, maxRssMB: sparse.maxRssMB }, louvain: { wall: louv.wall, maxRssMB: louv.maxRssMB }, ari, ariLouvain: ariL });
  }
}
console.log('\n' + JSON.stringify({ curve, side }, null, 1));
