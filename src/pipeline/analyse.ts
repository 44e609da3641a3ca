/**
 * The study's workflow on in-memory profiles: labelled rows → z-score → raw / PCA / ITML →
 * squared Euclidean distances → affinity propagation → MoA enrichment → CSIF. Pure computation:
 * no files (see outputs.ts), so evaluation and benchmarks reuse it.
 */
import { cleanLabels, describeNearDuplicates } from '../preprocess/labels.js';
import { type Matrix, type Precision, type StoredMatrix, compactRowsInPlace, precisionOf, takeRows } from '../linalg/index.js';
import { type Profiles, type Dropped, metaStrings, subsetRows } from '../io/profiles.js';
import { zscore, ZSCORE_DROP_WORDS } from '../preprocess/zscore.js';
import { PCA } from '../represent/pca.js';
import { Itml } from '../represent/itml.js';
import type { AffinityPropagationRetryResult } from '../cluster/affinityPropagation.js';
import { clusterRepresentation, type ClusteringInfo, chooseClustering, type SharedCandidates } from './clustering.js';
import { moaEnrichment, type EnrichmentResult } from '../enrich/enrichment.js';
import { csif, type CsifResult } from '../enrich/csif.js';
import { InputError } from '../util/errors.js';
import { type Reporter, silentReporter } from '../util/log.js';
import { DENSE_MAX_ROWS, type Representation, type RunParameters } from './params.js';
import { StageClock } from './stageClock.js';

export interface RepresentationResult {
  name: Representation;
  /** Coordinates clustered (n × dim); raw (and low-rank ITML) keep the input's precision. */
  coords: StoredMatrix;
  ap: AffinityPropagationRetryResult;
  enrichment: EnrichmentResult;
  csif: CsifResult;
  /** S = −‖xi − xj‖², kept only when asked for (dense clustering only). */
  similarity?: Matrix;
  /** Which clustering ran and why (dense AP, sparse AP or Louvain on a k-NN graph). */
  clustering?: ClusteringInfo;
}

export interface ItmlSummary {
  sweeps: number;
  converged: boolean;
  bounds: [number, number];
  constraints: number;
  metric: Matrix;
  warnings: string[];
}

export interface AnalysisResult {
  params: RunParameters;
  /** Analysed (labelled) profiles: z-scored kept features, metadata of those rows. */
  profiles: Profiles<StoredMatrix>;
  /** Storage of the feature matrix (float32 when the table was read with precision float32). */
  precision: Precision;
  /** Index of each analysed row in the input table. */
  inputRows: Int32Array;
  labels: string[];
  rowsInInput: number;
  dropped: Dropped[];
  representations: Partial<Record<Representation, RepresentationResult>>;
  pcaExplained?: number;
  itml?: ItmlSummary;
  timings: Record<string, number>;
  /** Process peak RSS (MB) at the end of each stage (see StageClock). */
  peakRssMB: Record<string, number>;
  warnings: string[];
}

export interface AnalyseOptions {
  reporter?: Reporter;
  keepSimilarity?: boolean;
  /**
   * Let analyse reuse input.X's storage: z-scored in place, labelled rows moved to the front, so
   * a large table is held once. input.X must not be used afterwards (runWorkflow sets this for
   * tables it read itself).
   */
  consumeInput?: boolean;
  /** Where stage times and memory go (runWorkflow passes its own, which already holds 'load'). */
  clock?: StageClock;
}

export function analyse(input: Profiles<StoredMatrix>, params: RunParameters, opts: AnalyseOptions = {}): AnalysisResult {
  const reporter = opts.reporter ?? silentReporter;
  const clock = opts.clock ?? new StageClock();
  const { timings, peakRssMB } = clock;
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    reporter.warn(m);
  };
  const src = input.source ?? 'profiles';
  const rawLabels = metaStrings(input, params.labelCol);
  // Trimmed; "NA", "None", "null", "nan", … are missing; near-identical spellings are reported.
  const cleaned = cleanLabels(rawLabels);
  const labelledIdx: number[] = [];
  const dropped: Dropped[] = [];
  cleaned.labels.forEach((l, i) => {
    if (l !== null) labelledIdx.push(i);
    else {
      const token = rawLabels[i]?.trim();
      dropped.push({ kind: 'row', name: String(i), reason: token ? `${params.labelCol} is "${token}", read as missing (kept for normalisation only)` : `no ${params.labelCol} label (kept for normalisation only)` });
    }
  });
  if (labelledIdx.length < 2) {
    throw new InputError(`${src}: only ${labelledIdx.length} row(s) have a ${params.labelCol} label; at least 2 are needed`);
  }
  const tokens = Object.entries(cleaned.missingTokens);
  if (tokens.length) {
    warn(`${tokens.reduce((a, [, c]) => a + c, 0)} row(s) of ${params.labelCol} hold a missing-value token, read as no label: ${tokens.map(([t, c]) => `"${t}" ${c}`).join(', ')}`);
  }
  if (cleaned.nearDuplicates.length) {
    warn(`${params.labelCol}: ${cleaned.nearDuplicates.length} label(s) are spelled in ways that differ only in case, spaces or punctuation, and count as different classes: ${describeNearDuplicates(cleaned.nearDuplicates)}`);
  }
  {
    // A column of identifiers (every row its own class) has no mechanism to find: refuse before the work.
    const distinct = new Set(labelledIdx.map((i) => cleaned.labels[i]!)).size;
    if (labelledIdx.length > 2 && distinct === labelledIdx.length) {
      throw new InputError(`${src}: every labelled row has its own ${params.labelCol} value (${distinct} classes for ${distinct} rows), so no class can be enriched; is ${params.labelCol} an identifier? Choose the mechanism column with --label-col`);
    }
  }
  if (dropped.length) reporter.info(`${dropped.length} of ${rawLabels.length} rows have no ${params.labelCol} label: left out of clustering and enrichment`);
  // Memory before it is spent: an explicit --clustering dense that cannot fit stops here, not after the representations.
  chooseClustering(params, labelledIdx.length, opts.keepSimilarity ? Math.max(0, params.representations.length - 1) : 0);

  // z-score: statistics over labelled rows (the study) or over all rows (controls included).
  // Whatever the rows, at most one copy of the table is made, and none when the input may be
  // consumed: the labelled rows are compacted and z-scored in the same storage.
  const allLabelled = labelledIdx.length === input.X.rows;
  const z = clock.time('zscore', () => {
    let basis = input.X;
    let own = !!opts.consumeInput;
    if (params.normalizeOn === 'labelled' && !allLabelled) {
      basis = own ? compactRowsInPlace(basis, labelledIdx) : takeRows(basis, labelledIdx);
      own = true;
    }
    const r = zscore(basis, { inPlace: own });
    if (!r.kept.length) {
      throw new InputError(`${src}: every feature has a missing value or zero variance (are all rows identical?) — nothing left to cluster`);
    }
    // normalizeOn 'all': statistics used every row; keep the labelled ones (r.Z is ours to reuse).
    const Z = params.normalizeOn === 'labelled' || allLabelled ? r.Z : compactRowsInPlace(r.Z, labelledIdx);
    return { r, Z };
  });
  for (let t = 0; t < z.r.dropped.length; t++) {
    const j = z.r.dropped[t]!;
    dropped.push({
      kind: 'feature',
      name: input.features[j]!,
      reason: ZSCORE_DROP_WORDS[z.r.droppedReason[t]!],
    });
  }
  const nDroppedFeatures = z.r.dropped.length;
  if (nDroppedFeatures) {
    const named = z.r.dropped.slice(0, 5).map((j, t) => `${input.features[j]} (${ZSCORE_DROP_WORDS[z.r.droppedReason[t]!]})`).join('; ');
    warn(`${nDroppedFeatures} feature(s) dropped before z-scoring: ${named}${nDroppedFeatures > 5 ? `; and ${nDroppedFeatures - 5} more` : ''} (all in summary.json)`);
  }
  const features = z.r.kept.map((j) => input.features[j]!);
  const Z: StoredMatrix = z.Z;
  // Metadata only: a zero-column stand-in keeps subsetRows from copying the feature matrix.
  const analysed = subsetRows({ ...input, X: { rows: input.X.rows, cols: 0, data: new Float64Array(0) } }, labelledIdx);
  const profiles: Profiles<StoredMatrix> = { features, X: Z, meta: analysed.meta, source: input.source };
  for (let i = 0; i < Z.data.length; i++) {
    if (!Number.isFinite(Z.data[i]!)) {
      const row = Math.floor(i / Z.cols);
      throw new InputError(`${src}: non-finite value after normalisation at input row ${labelledIdx[row]! + 1}, feature ${features[i % Z.cols]}`);
    }
  }
  const labels = labelledIdx.map((i) => cleaned.labels[i]!);
  const classes = new Set(labels);
  if (classes.size < 2) warn(`only one ${params.labelCol} class ("${labels[0]}"): enrichment is uninformative and ITML is skipped`);

  const reps: Partial<Record<Representation, RepresentationResult>> = {};
  const result: AnalysisResult = {
    params, profiles, precision: precisionOf(Z), inputRows: Int32Array.from(labelledIdx), labels, rowsInInput: rawLabels.length, dropped,
    representations: reps, timings, peakRssMB, warnings,
  };
  const coordsFor: Partial<Record<Representation, () => StoredMatrix>> = {
    raw: () => Z,
    pca: () =>
      clock.time('pca', () => {
        const maxK = Math.min(Z.rows, Z.cols);
        let k = params.pca;
        if (k >= 1 && k > maxK) {
          warn(`PCA: ${k} components requested but only ${maxK} possible; using ${maxK}`);
          k = maxK;
        }
        const pca = new PCA({ nComponents: k, solver: params.pcaSolver, seed: params.seed });
        const P = pca.fitTransform(Z);
        result.pcaExplained = pca.explainedVarianceRatio!.reduce((a, b) => a + b, 0);
        return P;
      }),
    itml: () =>
      clock.time('itml', () => {
        const itml = new Itml({ ...params.itml, seed: params.seed, reporter });
        itml.fit(Z, labels);
        result.itml = {
          sweeps: itml.nSweeps, converged: itml.converged, bounds: itml.bounds,
          constraints: itml.constraints.length, metric: itml.metric!, warnings: itml.warnings,
        };
        for (const w of itml.warnings) warnings.push(w);
        // Above the dense-AP size the O(n·d·m) low-rank transform (same distances) replaces X·Lᵀ (O(n·d²)).
        return Z.rows > DENSE_MAX_ROWS ? itml.transformLowRank(Z) : itml.transform(Z);
      }),
  };
  const todo = params.representations.filter((r) => r !== 'itml' || classes.size >= 2);
  const shared: SharedCandidates = { keep: false };
  for (const name of params.representations) {
    if (name === 'itml' && classes.size < 2) continue;
    // Candidates are kept for the representations still to come (memory: n × 2k int32 per list).
    shared.keep = todo.indexOf(name) < todo.length - 1;
    clock.scope = undefined;
    const coords = coordsFor[name]!();
    clock.scope = name;
    // Dense AP (the study) or, above DENSE_MAX_ROWS rows, sparse AP / Louvain on a k-NN graph.
    const { ap, similarity: S, clustering } = clusterRepresentation(name, coords, params, reporter, clock, !!opts.keepSimilarity, shared);
    if (!shared.keep) shared.candidates = undefined;
    for (const w of ap.warnings) warnings.push(`${name}: ${w}`);
    if (ap.exemplars.length === 0) {
      warn(`${name}: affinity propagation found no exemplar; every row is unassigned`);
    }
    const enrichment = clock.time('enrichment', () =>
      moaEnrichment(ap.labels, labels, { minMoa: params.minMoa, alpha: params.alpha, sep: params.sep }),
    );
    const cs = clock.time('csif', () => csif(Z, ap.labels, features, { threshold: params.csifThreshold, minSize: params.csifMinSize }));
    for (const w of [...enrichment.warnings, ...cs.warnings]) warnings.push(`${name}: ${w}`);
    reps[name] = { name, coords, ap, enrichment, csif: cs, similarity: S, clustering };
  }
  clock.scope = undefined;
  return result;
}
