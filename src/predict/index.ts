/** Activity prediction from image profiles: Macau, the multitask net, baselines, metrics, CV. */
export { ActivityMatrix, splitCells, type Cell, type Triplet, type DuplicatePolicy } from './sparse.js';
export {
  Macau, type MacauOptions, type MacauNoise, type MacauFitOptions, type CellPrediction, type MatrixPrediction,
  type MacauTrace, type MacauJSON,
} from './macau.js';
export { MultitaskNet, type MultitaskNetOptions, type MultitaskFitOptions, type EpochRecord, type MultitaskNetJSON } from './mlp.js';
export {
  PerAssayLogistic, KnnActivity, CellCountModel, findCellCountColumn, fitLogistic, Standardizer,
  type LogisticOptions, type KnnOptions,
} from './baselines.js';
export {
  aucRoc, enrichmentFactor, enrichmentAtCount, intervalCoverage, calibrationTable, expectedCalibrationError,
  scoreAssay, summarizeAssayScores, groupKFold,
  type AssayScore, type AucSummary, type CalibrationBin, type AssayMetricOptions, type GroupFold,
} from './metrics.js';
export {
  crossValidateActivity, heldOutCellMetrics, MacauActivityModel,
  type ModelSpec, type CrossValidationOptions, type AssayEvaluation, type ModelEvaluation, type HeldOutCellMetrics,
} from './evaluate.js';
export { buildActivityMatrix, parseActivityValue, type ActivityRecord, type ActivityTableReport } from './activity-table.js';
export { plantedMacau, type PlantedOptions, type PlantedData } from './synthetic.js';
export { normalCdf, normalQuantile, normalPdf, truncatedNormalPositive } from './normal.js';
export type { ActivityModel } from './model.js';
export {
  rankLibrary, formatRanking, rankingCsv, crossValidatedExpectation, fitCellCountBaseline, testedCompounds, expectedAtTop, libraryCellCount,
  EXPECTATION_FRACTIONS, RANKING_CSV_COLUMNS,
  type RankResult, type RankedCompound, type RankOptions, type ExpectedAtTop, type SavedExpectation, type AssayExpectation,
  type SavedCellCountBaseline, type ExpectationOptions,
} from './rank.js';
