/**
 * The common shape of activity models, so that cross-validation and the `predict` CLI treat
 * Macau, the multitask net and the baselines alike: fit on profiles X (compounds × features) and
 * an activity matrix Y (same compounds × assays), then score new compounds for every assay.
 */
import type { Matrix } from '../linalg/index.js';
import type { ActivityMatrix } from './sparse.js';

export interface ActivityModel {
  /** Short name used in tables and summary.json ("macau", "mlp", "logistic", "knn", "cellcount"). */
  readonly name: string;
  fit(X: Matrix, Y: ActivityMatrix): this;
  /** Scores (compounds × assays); higher means more likely active. Probabilities where the model has them. */
  predict(X: Matrix): Matrix;
  /** Optional per-score uncertainty (same shape as predict), e.g. Macau's posterior sd. */
  predictStd?(X: Matrix): Matrix;
  /**
   * Optional strictly order-preserving scores for ranking metrics (e.g. logits). Probabilities of a
   * confident model saturate to exactly 0 or 1 in float64 and would tie every held-out compound.
   */
  rankScores?(X: Matrix): Matrix;
}
