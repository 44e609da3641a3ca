/**
 * Repurposing answers at compound level (`phenomap query`): is the compound active at all, which
 * compounds act like it and how sure that is, and its community. Composes io, preprocess
 * (consensus), evaluate (mAP) and the run directory; only cli/ and src/index.ts import it.
 */
export {
  openCompoundIndex, answerCompound, queryCompounds, activityVerdict, parseQueryList, COMPOUND_PROFILES,
  type CompoundQueryOptions, type CompoundIndex, type CompoundAnswer, type NeighbourAnswer, type CommunityAnswer,
  type CommunityEnrichment, type QueryContext, type AnswerStatus, type ActivitySummary, type Annotations, type CompoundProfile,
} from './answer.js';
export { compoundActivity, type ActivityCall, type ActivityStatus, type DoseActivity, type ActivityOptions, type ActivityTable } from './activity.js';
export { loadWellProfiles, findControls, type WellProfiles, type WellOptions, type ControlSelection } from './wells.js';
export { CompoundNames, type NameMatch } from './names.js';
export { treatmentSpace, pairNull, nullPosition, compoundRow, type TreatmentSpace, type PairNull, type CompoundPair } from './similarity.js';
export { formatAnswer, formatAnswers, formatContext, answersToCsv, answersToJson, ANSWER_CSV_COLUMNS } from './format.js';
export { compoundSearchData, writeReportWithAnswers } from './report.js';
