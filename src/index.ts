/**
 * phenomap's library API — the one public door. Stages in the order data flows through them:
 * io → preprocess → represent → cluster → enrich → embed/evaluate/predict → report; `pipeline`
 * composes them into the study's workflow.
 */
// The numeric core
export * from './linalg/index.js';
// io: profiles, tables, joins, recipes, NPY
export * from './io/profiles.js';
export * from './io/npy.js';
export * from './io/read.js';
export * from './io/readMany.js';
export { openTableWriter, type TableWriter, type RowBlock, type ColumnSpec as TableColumnSpec } from './io/tableWriter.js';
export { setMemoryLimit, memoryLimit, parseMemorySize, type MemoryLimit, type MemorySource } from './io/duck.js';
export { setTextOptions, parseDelimiter, parseEncoding, type TextOptions, type TextEncoding } from './io/text.js';
export * from './io/join.js';
export * from './io/recipes.js';
export * from './io/activity.js';
export * from './io/synthetic.js';
// cells: single-cell CellProfiler output → merged cells and well profiles
export * from './cells/index.js';
// workflow: whole profiling runs from one config file
export * from './workflow/index.js';
// preprocess (pycytominer semantics)
export * from './preprocess/index.js';
// represent
export * from './represent/pca.js';
export * from './represent/itml.js';
export * from './represent/lda.js';
export * from './represent/clip.js';
export * from './represent/batchLda.js';
export * from './represent/workspace.js';
export * from './represent/nca.js';
export * from './represent/lbfgs.js';
export * from './represent/lmnn.js';
export * from './represent/contrastive.js';
// batch-effect correction (sphering to controls, ComBat, Harmony)
export * from './batch/index.js';
// cluster and enrich
export * from './cluster/affinityPropagation.js';
export * from './cluster/sparseAffinityPropagation.js';
export { type AdaptiveDampingOptions, type DampingAttempt } from './cluster/apShared.js';
export {
  knnGraph, exactKnn, projectedExactKnn, hnswKnn, knnRecall, sampledRecall, knnToSimilarity, toUndirected, rerankCandidates,
  type KnnGraph, type KnnCandidates, type HnswOptions, type ProjectedOptions, type SimilarityOptions, type KnnOptions as KnnGraphOptions,
} from './cluster/knnGraph.js';
export { KNN_COST, knnCostSeconds, cheapestKnnMethod, type KnnCostQuery, type KnnMethodName } from './cluster/knnCost.js';
export * from './cluster/louvain.js';
export * from './enrich/hypergeom.js';
export * from './enrich/bh.js';
export * from './enrich/enrichment.js';
export * from './enrich/csif.js';
// embed
export * from './embed/tsne.js';
export * from './embed/umap.js';
// evaluate
export * from './evaluate/ari.js';
export * from './evaluate/silhouette.js';
export * from './evaluate/splits.js';
export * from './evaluate/nsc.js';
export * from './evaluate/map.js';
export * from './evaluate/averagePrecision.js';
export * from './evaluate/pairs.js';
export { mapProfiles, type MapProfilesOptions, type MapProfilesResult, type MapProfilesSummary } from './evaluate/retrieval.js';
export * from './evaluate/replicating.js';
export * from './evaluate/select.js';
export {
  evaluate, formatEvaluationTable, fitRepresentation, memberSeed, normaliseForEvaluation, parseRepresentationList,
  BUILTIN_REPRESENTATIONS, METRICS, type FitContext, type SharedFits,
  type EvaluateOptions, type EvaluationResult, type RepresentationSpec, type MetricName, type MetricSummary, type EvaluationCorrection,
} from './evaluate/protocol.js';
export {
  batchMixing, batchBiology, graphConnectivity, lisi, silhouetteBatch, clusterAgreement, cosineKnn,
  type Mixing, type Biology, type ClusterAgreement, type MixingOptions, type BiologyKeys,
} from './evaluate/batchMetrics.js';
export {
  compareCorrections, formatCorrectionTable, correctionRecords, judgeMatrix, judgeBeforeAfter, runWithCorrection,
  type JudgeBeforeAfterOptions, type CompareOptions, type CorrectionComparison, type CorrectionRow, type CorrectionChoice, type BatchMetricsFile,
} from './evaluate/batchProtocol.js';
// predict (activity prediction)
export * from './predict/index.js';
export * from './predict/label-assays.js';
export * from './predict/prepare.js';
export * from './predict/saved-model.js';
export { modelReport, formatModelTable, perAssayCsv, rateBaselines } from './predict/report.js';
// report
export { writeReport, type ReportOptions, type ReportResult } from './report/html.js';
export type { CompoundSearchData, RepresentationSearch } from './report/compoundSearch.js';
export { readRunDir, type RunData } from './io/runDir.js';
export {
  featureHistogramsFigure, moaFrequencyFigure, embeddingFigure, distanceHeatmapFigure, clusterSizesFigure,
  enrichmentFigure, csifFigure, apConvergenceFigure, varianceRatios,
} from './report/figures.js';
// pipeline (the study's workflow)
export * from './pipeline/params.js';
export { analyse, type AnalysisResult, type AnalyseOptions, type RepresentationResult } from './pipeline/analyse.js';
export { writeRunOutputs, summarise, type RunSummary, type RepresentationSummary } from './pipeline/outputs.js';
export { runWorkflow, formatComparisonTable, type RunWorkflowOptions, type RunCorrection } from './pipeline/run.js';
export { queryDrug, type QueryResult, type QueryHit, type Neighbour } from './pipeline/query.js';
// repurposing answers at compound level (`phenomap query`)
export * from './repurpose/index.js';
export { linalgBackend } from './linalg/backend.js';
// utilities
export { Rng } from './linalg/rng.js';
export { argsortQuick } from './util/argsort.js';
export { InputError, UsageError } from './util/errors.js';
export { CollectingReporter, silentReporter, type Reporter, type Progress } from './util/log.js';
