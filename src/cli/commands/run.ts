import type { Command } from 'commander';
import { join } from 'node:path';
import { Option } from 'commander';
import { runWorkflow, formatComparisonTable } from '../../pipeline/run.js';
import { presetParameters, parseRepresentations, CLUSTERING_METHODS, DENSE_MAX_ROWS, type ClusteringMethod, type RunParameters } from '../../pipeline/params.js';
import { terminalReporter } from '../terminal.js';
import { addMemoryOption, addTextOptions, intOption, numberOption, listOption } from '../options.js';
import { PCA_SOLVERS, type PcaSolver } from '../../represent/pca.js';
import { UsageError } from '../../util/errors.js';
import type { FeatureJoin } from '../../io/readMany.js';
import { featureJoinOption } from './preprocessShared.js';
import { CORRECTION_NAMES, parseCorrectionOptions, type CorrectionName } from '../../batch/registry.js';
import { outputFolder } from '../outputs.js';

export interface RunFlags {
  labelCol: string;
  out: string;
  preset: 'paper' | 'default';
  seed?: number;
  pca?: number;
  constraints?: number;
  itmlBounds?: 'squared' | 'metric-learn';
  itmlMaxIter?: number;
  itmlTol?: number;
  representations?: string;
  normalizeOn?: 'labelled' | 'all';
  minMoa?: number;
  alpha?: number;
  csifThreshold?: number;
  csifMinSize?: number;
  apRetry: boolean;
  clustering?: ClusteringMethod;
  knn?: number;
  knnMethod?: 'auto' | 'exact' | 'projected' | 'hnsw';
  knnProjection?: number;
  knnMinRecall?: number;
  resolution?: number;
  sparseApTolerance?: number;
  saveDistances?: boolean;
  idCol?: string[];
  features?: string[];
  metadata?: string[];
  featurePrefix?: string[];
  float32?: boolean;
  pcaSolver?: PcaSolver;
  memory?: string;
  batchCol?: string;
  correct?: CorrectionName;
  controls?: string;
  correctOpt?: string[];
  quiet?: boolean;
}

export function addRunOptions(cmd: Command): Command {
  return addTextOptions(addMemoryOption(cmd))
    .option('--label-col <column>', 'metadata column with the MoA label', 'Metadata_moa')
    .addOption(new Option('--preset <name>', 'parameter preset: paper = the source study').choices(['paper', 'default']).default('default'))
    .option('--seed <n>', 'seed for ITML constraints and AP tie-breaking noise', intOption('--seed'))
    .option('--pca <k>', 'PCA components (integer) or variance fraction in (0, 1)', numberOption('--pca', 0))
    .addOption(new Option('--pca-solver <solver>', 'PCA solver: exact (full), randomized block Krylov, float32 Gram (gram, rows ≤ features), or auto (randomized for k < 0.8·min(n, d) when min(n, d) > 1,000; gram when rows ≤ features, features > 500)').choices([...PCA_SOLVERS]))
    .option('--constraints <n>', 'ITML similar (and dissimilar) pairs to sample', intOption('--constraints', 1))
    .addOption(new Option('--itml-bounds <mode>', 'ITML bounds: squared distances, or metric-learn (unsquared, compat)').choices(['squared', 'metric-learn']))
    .option('--itml-max-iter <n>', 'ITML maximum sweeps', intOption('--itml-max-iter', 1))
    .option('--itml-tol <x>', 'ITML convergence threshold', numberOption('--itml-tol', 0))
    .option('--representations <list>', 'comma-separated subset of raw,pca,itml')
    .addOption(new Option('--normalize-on <rows>', 'rows whose mean/std the z-score uses').choices(['labelled', 'all']))
    .option('--min-moa <n>', 'test only MoAs carried by at least n rows', intOption('--min-moa', 1))
    .option('--alpha <p>', 'significance level of the enrichment test', numberOption('--alpha', 0, 1))
    .option('--csif-threshold <x>', 'within/overall variance ratio below which a feature is a CSIF', numberOption('--csif-threshold', 0))
    .option('--csif-min-size <n>', 'smallest community evaluated for CSIFs', intOption('--csif-min-size', 2))
    .option('--no-ap-retry', 'keep the AP damping fixed (by default an oscillating AP continues from its messages with damping 0.7, then 0.9)')
    .addOption(new Option('--clustering <method>', `dense AP, sparse AP or Louvain on the k-NN graph; auto = dense up to ${DENSE_MAX_ROWS} rows`).choices([...CLUSTERING_METHODS]))
    .option('--knn <k>', 'neighbours per row of the k-NN graph (sparse-ap, louvain)', intOption('--knn', 1))
    .option('--knn-projection <dims>', 'find candidates on this many principal components (for coordinates with at least twice as many columns), re-ranked by their exact distance; 0 = auto (projected: 256, hnsw: all dimensions)', intOption('--knn-projection', 0))
    .option('--knn-min-recall <r>', 'projected or hnsw on components: search again on twice the components while the measured recall@k is below r (default 0.95; 0 = never)', numberOption('--knn-min-recall', 0, 1))
    .addOption(new Option('--knn-method <m>', 'k-NN search: exact (brute force), projected (exact candidates on principal components) or hnsw (approximate index); auto = exact up to 20,000 rows, else the least estimated cost').choices(['auto', 'exact', 'projected', 'hnsw']))
    .option('--resolution <g>', 'Louvain resolution (larger: more communities)', numberOption('--resolution', 0))
    .option('--sparse-ap-tolerance <f>', 'sparse AP: fraction of points still changing allowed at convergence (0 = sklearn rule; default 0.001)', numberOption('--sparse-ap-tolerance', 0, 0.5))
    .option('--id-col <column>', 'column naming the drugs (repeatable)', listOption)
    .option('--features <list>', 'feature columns (names or globs), overriding detection', listOption)
    .option('--metadata <list>', 'columns forced to metadata (names or globs)', listOption)
    .option('--feature-prefix <list>', 'extra feature-name prefixes besides Cells_, Cytoplasm_, Nuclei_', listOption)
    .option('--float32', 'hold the feature table as float32 (half the memory; every sum still float64)')
    .option('-q, --quiet', 'nothing on stderr but errors');
}

export function parametersFromFlags(f: RunFlags): RunParameters {
  const p = presetParameters(f.preset, f.labelCol);
  if (f.seed !== undefined) p.seed = f.seed;
  if (f.pca !== undefined) {
    if (f.pca === 0) throw new UsageError('--pca must be > 0');
    p.pca = f.pca;
  }
  if (f.pcaSolver) p.pcaSolver = f.pcaSolver;
  if (f.constraints !== undefined) p.itml.numConstraints = f.constraints;
  if (f.itmlBounds) p.itml.bounds = f.itmlBounds;
  if (f.itmlMaxIter !== undefined) p.itml.maxIter = f.itmlMaxIter;
  if (f.itmlTol !== undefined) p.itml.tol = f.itmlTol;
  if (f.representations) p.representations = parseRepresentations(f.representations);
  if (f.normalizeOn) p.normalizeOn = f.normalizeOn;
  if (f.minMoa !== undefined) p.minMoa = f.minMoa;
  if (f.alpha !== undefined) p.alpha = f.alpha;
  if (f.csifThreshold !== undefined) p.csifThreshold = f.csifThreshold;
  if (f.csifMinSize !== undefined) p.csifMinSize = f.csifMinSize;
  p.ap.retry = f.apRetry;
  if (f.clustering) p.clustering = f.clustering;
  if (f.knn !== undefined) p.knn = f.knn;
  if (f.knnMethod) p.knnMethod = f.knnMethod;
  if (f.knnProjection !== undefined) p.knnProjection = f.knnProjection;
  if (f.knnMinRecall !== undefined) p.knnMinRecall = f.knnMinRecall;
  if (f.sparseApTolerance !== undefined) p.sparseApTolerance = f.sparseApTolerance;
  if (f.resolution !== undefined) {
    if (f.resolution === 0) throw new UsageError('--resolution must be > 0');
    p.louvainResolution = f.resolution;
  }
  if (f.idCol?.length) p.idCols = [...f.idCol, ...p.idCols.filter((c) => !f.idCol!.includes(c))];
  return p;
}

export function register(program: Command): void {
  addRunOptions(
    program
      .command('run')
      .description('z-score → raw / PCA / ITML → distances → affinity propagation → MoA enrichment → CSIF; writes DIR/summary.json, clusters.csv, enrichment.csv, csif.csv')
      .argument('<profiles...>', 'profile table (CSV, CSV.gz, TSV, Parquet); several files, a glob or a folder are stacked')
      .requiredOption('-o, --out <dir>', 'output directory'),
  )
    .option('--save-distances', 'also write the Euclidean distance matrices (distances_<rep>.npy)')
    .option('--batch-col <column>', 'batch column (plate, batch, source, microscope) for --correct')
    .addOption(new Option('--correct <method>', 'correct batch effects before the workflow; writes corrected.parquet, batch_model.json, batch_metrics.json (before / after)').choices([...CORRECTION_NAMES]))
    .option('--controls <query>', 'negative-control rows for --correct (sphere needs them), e.g. "Metadata_compound == DMSO"')
    .option('--correct-opt <list>', 'options of the correction, key=value (e.g. nClusters=50,theta=1)', listOption)
    .option('--report', 'also write DIR/report.html (figures, tables, interactive embedding)')
    .addOption(featureJoinOption())
    .action(async (file: string[], flags: RunFlags & { report?: boolean; featureJoin?: FeatureJoin }) => {
      const reporter = terminalReporter({ quiet: flags.quiet });
      const params = parametersFromFlags(flags);
      const dir = outputFolder(flags.out);
      const common = {
        reporter, saveDistances: flags.saveDistances,
        read: { features: flags.features, metadata: flags.metadata, featurePrefixes: flags.featurePrefix, precision: flags.float32 ? 'float32' : 'float64', featureJoin: flags.featureJoin } as const,
      };
      if ((flags.batchCol || flags.controls || flags.correctOpt?.length) && !flags.correct) throw new UsageError('--batch-col, --controls and --correct-opt go with --correct <method>');
      let summary;
      if (flags.correct) {
        if (!flags.batchCol) throw new UsageError('--correct needs --batch-col <column>');
        const { runWithCorrection } = await import('../../evaluate/batchProtocol.js');
        const options = parseCorrectionOptions(flags.correctOpt ?? [], [flags.correct])[flags.correct];
        const r = await runWithCorrection(file, dir, params, { ...common, correct: { method: flags.correct, batchCol: flags.batchCol, controls: flags.controls, options } });
        summary = r.summary;
        const rep = r.correction!.result.report;
        process.stdout.write(`batch correction ${rep.method} on ${rep.batchCol}: ${rep.batches.length} batches, ${rep.rows} rows, ${rep.seconds.toFixed(2)} s\n`);
        for (const note of rep.notes) process.stdout.write(`note: ${note}\n`);
        if (r.metrics) {
          const m = r.metrics, f = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(3));
          process.stdout.write(`batch metrics${m.sampled ? ` (seeded sample of ${m.rows} rows)` : ''}: iLISI ${f(m.before.mixing.ilisi)} → ${f(m.after.mixing.ilisi)}, graph connectivity ${f(m.before.mixing.graphConnectivity)} → ${f(m.after.mixing.graphConnectivity)}, ` +
            `batch silhouette ${f(m.before.mixing.silhouetteBatch)} → ${f(m.after.mixing.silhouetteBatch)}, NSC ${f(m.before.biology.nsc)} → ${f(m.after.biology.nsc)}, MoA mAP ${f(m.before.biology.moaMap)} → ${f(m.after.biology.moaMap)}\n`);
        }
      } else {
        summary = (await runWorkflow(file, dir, params, common)).summary;
      }
      process.stdout.write(`${formatComparisonTable(summary)}\n`);
      process.stdout.write(`n = ${summary.n} labelled rows, d = ${summary.d} features; ${summary.dropped.rows} rows and ${summary.dropped.features} features left out (see summary.json)\n`);
      process.stdout.write(`wrote ${flags.out}/summary.json, clusters.csv, enrichment.csv, csif.csv in ${summary.timings.total!.toFixed(2)} s\n`);
      if (flags.report) {
        const { writeReportWithAnswers } = await import('../../repurpose/report.js');
        await writeReportWithAnswers(dir, { seed: summary.parameters.seed, reporter });
        process.stdout.write(`wrote ${join(flags.out, 'report.html')}\n`);
      }
    });
}
