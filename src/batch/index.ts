/**
 * Batch-effect correction across plates, batches and microscopes: sphering to negative controls,
 * ComBat and Harmony as fit → transform estimators whose models are plain data, the registry that
 * names them, per-batch statistics that merge exactly, and the profile-level call.
 */
export { batchDesign, requireSeveralBatches, requireReferenceRows, type BatchContext, type BatchDesign } from './design.js';
export { momentsOf, mergeMoments, mergeBatchMoments, batchMomentsOf, type Moments, type BatchMoments } from './moments.js';
export { checkOptions, parseOptionPairs, type Constraint, type Constraints } from './options.js';
export {
  fitSphere, fitSphereFromStatistics, applySphere, sphereStatistics, ledoitWolfFromMoments, SPHERE_CONSTRAINTS,
  type SphereOptions, type SphereModel, type SphereApplyOptions,
} from './sphere.js';
export {
  fitCombat, fitCombatFromStatistics, applyCombat, combatStatistics, COMBAT_CONSTRAINTS,
  type CombatOptions, type CombatModel, type CombatBatch,
} from './combat.js';
export {
  fitTransformHarmony, mapHarmony, harmonyIterate, harmonyGenerators, HARMONY_CONSTRAINTS,
  type HarmonyOptions, type HarmonyModel, type HarmonyState, type HarmonyMapOptions,
} from './harmony.js';
export { kmeans, type KmeansOptions, type KmeansResult } from './kmeans.js';
export {
  CORRECTIONS, CORRECTION_NAMES, correctionByName, parseCorrectionOptions,
  type Correction, type CorrectionName, type CorrectionInput, type BatchModel,
} from './registry.js';
export {
  correctProfiles, controlFlags, batchColumn,
  type CorrectProfilesOptions, type CorrectionReport, type CorrectionResult,
} from './profiles.js';
export { saveModel, loadModel } from './persist.js';
