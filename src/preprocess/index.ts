/** Preprocessing: normalisation, feature selection, aggregation and consensus (pycytominer semantics). */
export * from './query.js';
export * from './zscore.js';
export * from './normalize.js';
export * from './spherize.js';
export * from './correlation.js';
export * from './featureSelect.js';
export * from './aggregate.js';
export * from './consensus.js';
export * from './annotate.js';
export * from './labels.js';
export { averageRanks, groupRows, groupLabel, type RowGroups } from './stats.js';
