/** Whole profiling runs from one config file: single cells → annotated, normalised, selected profiles, on one machine or as a Snakemake / Slurm workflow. */
export { ProfileConfigSchema, checkProfileConfig, loadProfileConfig, profileConfigJsonSchema, type ProfileConfig } from './config.js';
export { runProfile, planProfile, runJob } from './profile.js';
export {
  buildPlan, discoverPlates, planJobs, mergeTree, plateFolderName, plateFiles, correctedFile, wellTables, CORRECTION_FILES, RULES,
  type WorkflowPlan, type PlatePlan, type Job, type RuleName, type MergeNode,
} from './plan.js';
export {
  plateStep, mergeStatsStep, selectStep, applyStep, correctStep, consensusStep, knnShardStep, knnMergeStep, clusterStep, reportStep, loadPlan,
  type PlateStep, type PlateRecord, type Selection, type ConsensusRecord, type CorrectionRecord, type ClusterRecord, type ProfileRunReport,
} from './steps.js';
export { knnShard, shardRange, mergeKnnShardFiles, readKnnGraph, writeKnnShard, writeKnnBlock, type KnnShardResult, type KnnShardOptions } from './knnShards.js';
