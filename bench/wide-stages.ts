/**
 * phenomap's side of bench/wide.ts: each stage on one wide table, in one process, timed; prints
 * one JSON object. Run through bench/wide.ts (which also runs the peer and prints the table).
 *
 *   npx tsx bench/wide-stages.ts TABLE [--float32] [--repeats 3] [--stages read,zscore,pca,lda,knn,ap,fold]
 *                                      [--to-parquet OUT]   (read, then write OUT with phenomap's writer)
 *
 * Stages (on the labelled rows, as `run` and `evaluate` use them):
 *   read    readProfiles (CSV.gz through phenomap's reader, Parquet through DuckDB)
 *   zscore  z-score into a new matrix (numpy's (X − mean) / std allocates one too)
 *   pca     PCA(50), solver 'auto'
 *   lda     lda-proj (classes − 1 directions, Ledoit–Wolf) fitted on the training compounds
 *           (those whose name's UTF-16 code units sum to an even number — the peer uses the same
 *           rule), then applied to every row
 *   knn     50 nearest neighbours of every row among the PCA-50 coordinates (exact search)
 *   ap      affinity propagation on −‖x − y‖² of the PCA-50 coordinates: dense up to 8,000 rows;
 *           above, as `run` clusters there: sparse AP on the 50-NN graph (k-NN search included)
 * Every stage also reports its process CPU seconds (`cpu`, median), comparable with the peer's
 * one thread when the machine is loaded.
 *   fold    one fold of `evaluate --split kfold --folds 2 --representations raw,pca,lda-proj`
 *           (both folds run; the median fold is reported)
 */
import { readProfiles, writeProfiles } from '../src/io/read.js';
import { metaStrings } from '../src/io/profiles.js';
import { zscore } from '../src/preprocess/zscore.js';
import { PCA } from '../src/represent/pca.js';
import { Itml } from '../src/represent/itml.js';
import { knnGraph, knnToSimilarity } from '../src/cluster/knnGraph.js';
import { sampledSimilarityMedian, sparseAffinityPropagationWithRetry } from '../src/cluster/sparseAffinityPropagation.js';
import { affinityPropagation } from '../src/cluster/affinityPropagation.js';
import { squaredDistances, takeRows, type StoredMatrix } from '../src/linalg/index.js';
import { BUILTIN_REPRESENTATIONS, evaluate, fitRepresentation } from '../src/evaluate/protocol.js';
import { presetParameters } from '../src/pipeline/params.js';
import { arg, hasFlag } from './common.js';

const table = process.argv[2]!;
const precision = hasFlag('--float32') ? 'float32' : 'float64';
const repeats = Number(arg('--repeats', '3'));
const stages = new Set(arg('--stages', 'read,zscore,pca,lda,knn,ap,fold').split(','));
const labelCol = arg('--label-col', 'Metadata_moa');
const groupCol = arg('--group-col', 'Metadata_compound');

/** The training side of the LDA stage (shared with the peer): code units of the name sum to an even number. */
function trainCompound(name: string): boolean {
  let s = 0;
  for (let i = 0; i < name.length; i++) s += name.charCodeAt(i);
  return s % 2 === 0;
}

const out: { n: number; d: number; precision: string; stages: Record<string, { seconds: number; runs: number[]; cpu?: number; note?: string }>; peakRssMB: number } = {
  n: 0, d: 0, precision, stages: {}, peakRssMB: 0,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
/** Process CPU seconds (user + system) since `c0` (process.cpuUsage()). */
const cpuSince = (c0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};

function time<T>(name: string, fn: () => T, times = repeats, note?: string): T {
  const runs: number[] = [], cpu: number[] = [];
  let r: T | undefined;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    r = fn();
    runs.push((performance.now() - t0) / 1000);
    cpu.push(cpuSince(c0));
  }
  out.stages[name] = { seconds: median(runs), runs, cpu: median(cpu), note };
  return r!;
}

const t0 = performance.now(), c0 = process.cpuUsage();
const { profiles } = await readProfiles(table, { precision });
const readRuns = [(performance.now() - t0) / 1000], readCpu = [cpuSince(c0)];
if (stages.has('read')) {
  // Reading is repeated only for the small tables (the large one is read once).
  for (let i = 1; i < repeats && profiles.X.rows * profiles.X.cols < 5e7; i++) {
    const t1 = performance.now(), c1 = process.cpuUsage();
    await readProfiles(table, { precision });
    readRuns.push((performance.now() - t1) / 1000);
    readCpu.push(cpuSince(c1));
  }
  out.stages.read = { seconds: median(readRuns), runs: readRuns, cpu: median(readCpu) };
}
const toParquet = arg('--to-parquet', '');
if (toParquet) {
  const t1 = performance.now();
  await writeProfiles(toParquet, profiles);
  out.stages['write parquet'] = { seconds: (performance.now() - t1) / 1000, runs: [(performance.now() - t1) / 1000] };
}
if ([...stages].every((s) => s === 'read')) {
  out.n = profiles.X.rows;
  out.d = profiles.X.cols;
  out.peakRssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}
const labels = metaStrings(profiles, labelCol);
const labelled = labels.flatMap((l, i) => (l && l.trim() ? [i] : []));
const X = takeRows(profiles.X, labelled);
out.n = X.rows;
out.d = X.cols;
const y = labelled.map((i) => labels[i]!.trim());

let Z: StoredMatrix = X;
if (['zscore', 'pca', 'lda', 'knn', 'ap', 'itml'].some((s) => stages.has(s))) {
  // In place, as `run` does it, on a fresh copy made (untimed) before each call; the peer does the same.
  const runs: number[] = [], cpu: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const copy = takeRows(X, Int32Array.from({ length: X.rows }, (_, r) => r));
    const t1 = performance.now(), c1 = process.cpuUsage();
    Z = zscore(copy, { inPlace: true }).Z;
    runs.push((performance.now() - t1) / 1000);
    cpu.push(cpuSince(c1));
  }
  out.stages.zscore = { seconds: median(runs), runs, cpu: median(cpu), note: 'in place' };
}
let P: StoredMatrix | undefined;
if (stages.has('pca') || stages.has('knn') || stages.has('ap')) {
  let solver = '';
  P = time('pca', () => {
    const pca = new PCA({ nComponents: 50 });
    const r = pca.fitTransform(Z);
    solver = pca.solver!;
    return r;
  });
  out.stages.pca!.note = solver;
}
if (stages.has('lda')) {
  const names = metaStrings(profiles, groupCol);
  const train = labelled.flatMap((i, r) => (trainCompound(names[i] ?? '') ? [r] : []));
  let rows = 0;
  time('lda', () => {
    const m = fitRepresentation(BUILTIN_REPRESENTATIONS['lda-proj']!, Z, train, train.map((i) => y[i]!), 0);
    rows = train.length;
    return m.transform(Z);
  }, Math.min(repeats, 2));
  out.stages.lda!.note = `fit on ${rows} rows`;
}
if (stages.has('knn') && P) time('knn', () => knnGraph(P!, 50, { method: 'exact' }));
if (stages.has('ap') && P) {
  if (P.rows <= 8000) {
    time('ap', () => {
      const S = squaredDistances(P!);
      for (let i = 0; i < S.data.length; i++) S.data[i] = -S.data[i]!;
      return affinityPropagation(S, { noise: { seed: 0 } });
    }, Math.min(repeats, 2));
  } else {
    // What `run` does above its dense limit: sparse AP on the 50-NN graph, preference the median
    // of sampled similarities (src/pipeline/clustering.ts).
    time('ap', () => {
      const G = knnGraph(P!, 50, { method: 'exact' });
      const preference = sampledSimilarityMedian(P!, 200_000, 0);
      return sparseAffinityPropagationWithRetry(knnToSimilarity(G), { preference, convergenceTolerance: presetParameters('default', labelCol).sparseApTolerance });
    }, 1, 'sparse AP on the 50-NN graph (k-NN search included), as run clusters above 5,000 rows');
  }
}
if (stages.has('itml')) {
  // The study's ITML (20 + 20 pairs, metric-learn bounds, 1,000 sweeps, tol 1e-3) on every
  // labelled row: fit with M factored, transform, then the d × d metric formed (what run writes as
  // itml_metric.npy) and metric-learn's Cholesky components (the dense transform's O(d³) step).
  const opts = { numConstraints: 20, maxIter: 1000, tol: 1e-3, gamma: 1, bounds: 'metric-learn' as const, seed: 0 };
  let itml: Itml | undefined;
  time('itml', () => {
    itml = new Itml(opts).fit(Z, y);
    return itml.transform(Z);
  }, 1);
  out.stages.itml!.note = `${itml!.nSweeps} sweeps, ${itml!.converged ? 'converged' : 'not converged'}, metric ${itml!.factored ? 'factored' : 'dense'}`;
  const rss0 = process.memoryUsage().rss;
  const M = time('itml metric (d × d)', () => itml!.metric!, 1);
  out.stages['itml metric (d × d)']!.note = `${M.rows} × ${M.cols}, ${((M.data.byteLength) / 1e6).toFixed(0)} MB, RSS +${((process.memoryUsage().rss - rss0) / 1e6).toFixed(0)} MB`;
  time('itml Cholesky components', () => itml!.components!, 1);
}
if (stages.has('fold')) {
  const reps = ['raw', 'pca', 'lda-proj'].map((r) => BUILTIN_REPRESENTATIONS[r]!);
  // The whole table: unlabelled (control) rows stay out of the fits and the queries.
  const c1 = process.cpuUsage();
  const r = evaluate(profiles, {
    labelCol, groupCol, split: 'kfold', folds: 2, seeds: [0], representations: reps, inSample: false, dataLevel: false, metrics: ['nsc', 'map-consistency'],
  });
  const perFold = new Map<string, number>();
  const perRep: Record<string, number> = {};
  for (const f of r.folds) {
    perFold.set(f.fold, (perFold.get(f.fold) ?? 0) + f.seconds);
    perRep[f.representation] = (perRep[f.representation] ?? 0) + f.seconds / 2;
  }
  const secs = [...perFold.values()].sort((a, b) => a - b);
  out.stages.fold = {
    seconds: secs[0]! + (secs[1]! - secs[0]!) / 2, runs: secs, cpu: cpuSince(c1) / 2,
    note: Object.entries(perRep).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', '),
  };
}
out.peakRssMB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify(out) + '\n');
