/** Whole profiling runs from one config file: single cells → annotated, normalised, selected profiles. */
export { ProfileConfigSchema, checkProfileConfig, loadProfileConfig, profileConfigJsonSchema, type ProfileConfig } from './config.js';
export { runProfile, plateFolderName, type ProfileRunReport, type PlateStep } from './profile.js';
