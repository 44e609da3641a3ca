/**
 * Held-out evaluation of profile representations (spec evaluation.md): split by compound, fit
 * every learned step on the training side only, transform the held-out side, and ask whether the
 * held-out compounds' treatments find their mechanism among the training compounds' treatments.
 *
 * Per fold and representation:
 * 1. fit rows = training-side rows with a non-control label; PCA / ITML / LDA are fitted on them
 *    (on wells, or on training treatment medians with `fitOn: 'treatments'`);
 * 2. every row is transformed (transforming a held-out row uses only the fitted model);
 * 3. queries = held-out treatments (median of their wells in the learned space), candidates =
 *    training treatments: NSC, NSCB (1-NN, cosine; nsc.ts) and MoA-consistency AP (map.ts);
 *    phenotypic activity AP of the held-out wells (replicates vs control wells).
 * Predictions and APs are pooled over the folds of one seed; the reported spread is over seeds
 * (and, for k-fold, also per fold in the fold table).
 *
 * Normalisation choice (documented, label-free): the z-score (or a control-based normalisation
 * such as per-plate standardisation against DMSO wells) is computed ONCE on all rows before
 * splitting. It uses no MoA label, and control-based statistics use only control wells, which
 * are never held out — so no held-out label or held-out compound influences it except, for the
 * global z-score, through label-free feature means/variances (as in Ljosa et al. 2013's setup).
 *
 * Batch correction (`correction`, src/batch) comes after the normalisation. Although label-free,
 * it is refitted in every fold on the training side (training compounds and controls) and the
 * held-out rows are placed with that fit (`fit: 'training'`, default): ComBat's and Harmony's batch
 * terms are estimated from every row of a batch, so a fit on all rows lets a held-out compound
 * move its own batch's estimate — in a batch of few compounds, part of its own profile is then
 * subtracted as "batch". `fit: 'all'` fits it once on all rows, like the normalisation. Under
 * `leave-batch-out` (splits.ts) it is always refitted on the training batches only and the
 * held-out batch is placed on that fit as a new batch, so that no learned step (correction, PCA,
 * ITML, LDA) has seen it.
 *
 * The study's in-sample enrichment ratio (ITML trained on the same labels it is scored on) is
 * reported separately and labelled as in-sample (on the uncorrected profiles).
 */
import { type Matrix, type StoredMatrix, allocLike, asFloat64, normalizeRows, takeRows, zeros } from '../linalg/index.js';
import { type Profiles, metaStrings, withFeatures, subsetRows } from '../io/profiles.js';
import { zscore } from '../preprocess/zscore.js';
import { normalize, type NormalizeMethod } from '../preprocess/normalize.js';
import { PCA, type PcaSolver } from '../represent/pca.js';
import { Itml, type ItmlOptions } from '../represent/itml.js';
import { Lda, type LdaOptions } from '../represent/lda.js';
import { FitWorkspace } from '../represent/workspace.js';
import { RobustClipper, type ClipOptions } from '../represent/clip.js';
import { BatchAwareLda, type BatchLdaOptions } from '../represent/batchLda.js';
import { Nca, type NcaOptions } from '../represent/nca.js';
import { Lmnn, lmnnMaxK, type LmnnOptions } from '../represent/lmnn.js';
import { ContrastiveEmbedding, type ContrastiveOptions } from '../represent/contrastive.js';
import { correctProfiles } from '../batch/profiles.js';
import type { CorrectionName } from '../batch/registry.js';
import { analyse } from '../pipeline/analyse.js';
import { presetParameters } from '../pipeline/params.js';
import { InputError, UsageError } from '../util/errors.js';
import { type Reporter, silentReporter } from '../util/log.js';
import { batchesWithoutQueries, candidateRows, CANDIDATE_BATCH_RULES, kfoldNotes, makeSplits, type CandidateBatchRule, type Fold, type SplitKind } from './splits.js';
export type { CandidateBatchRule } from './splits.js';
import { buildTreatments, nearestNeighbourMoa, summariseNn, type NnPrediction, type TreatmentKeys, type Treatments, type NnResult } from './nsc.js';
import { InnerPairTable, selectByInnerCv, TALLY_FIELDS, type InnerPairShare, type SelectionCriterion } from './select.js';
import { runFoldsOnThreads } from './foldThreads.js';
import { threadCount } from '../linalg/wasm/threads.js';
import { activityQueries, consistencyQueries, meanAveragePrecision, type ApQuery, type MapResult } from './map.js';
import { MAX_REPLICATE_PAIRS, PERCENT_REPLICATING_FORMS, percentReplicating, replicateReproducibility, type ReplicateReproducibilityResult, type ReplicatingResult } from './replicating.js';

export type LearnerKind = 'raw' | 'pca' | 'itml' | 'lda' | 'batch-lda' | 'nca' | 'lmnn' | 'contrastive' | 'select' | 'ensemble';

export interface RepresentationSpec {
  name: string;
  kind: LearnerKind;
  /** PCA components: the representation itself (kind 'pca') or a step before ITML/LDA. */
  pca?: number;
  itml?: Omit<ItmlOptions, 'seed' | 'reporter' | 'prior'>;
  lda?: Omit<LdaOptions, 'seed'>;
  batchLda?: Omit<BatchLdaOptions, 'seed'>;
  /** `groups: false` = plain NCA (neighbours may be the row's own compound). */
  nca?: Omit<NcaOptions, 'seed'> & { groups?: boolean };
  /** `nComponents` −1 = classes − 1; `groups: false` = target neighbours may be the row's own compound. */
  lmnn?: Omit<LmnnOptions, 'seed'> & { groups?: boolean };
  contrastive?: Omit<ContrastiveOptions, 'seed'>;
  /**
   * kind 'select': candidates (registry names, fitted on wells) chosen per fold by inner
   * compound-grouped CV (select.ts). With `corrections`, the candidates are (correction, learner)
   * pairs: each correction is refitted on every inner training side and, once chosen, on the
   * outer training side (this representation then ignores `EvaluateOptions.correction`).
   * `fuseTopTwo` (with corrections): a soft choice — the two best pairs by the inner criterion are
   * both fitted on the outer training side, each on its own correction, and a row's representation
   * is the concatenation of their unit-length outputs (cosine = the mean of the two cosines).
   */
  select?: {
    candidates: string[]; innerFolds?: number; ensembleTopTwo?: boolean; criterion?: SelectionCriterion;
    innerSplit?: 'kfold' | 'loco'; innerRepeats?: number; corrections?: SelectCorrection[]; fuseTopTwo?: boolean;
  };
  /**
   * kind 'ensemble': members fitted on the same rows; a row's representation is the concatenation
   * of its unit-length member representations, so cosine similarity is the mean of the members'.
   */
  ensemble?: RepresentationSpec[];
  /** Robust clipping of the features before everything else, fitted on the training rows. */
  clip?: ClipOptions;
  /** Fit the learner on wells (default) or on training treatment medians. */
  fitOn?: 'wells' | 'treatments';
  /**
   * The class of each fit row: its label (default) or its compound ('compound': weak supervision by
   * treatment identity — directions that separate compounds against their replicate scatter).
   */
  classes?: 'label' | 'compound';
  /**
   * Ensemble members that differ only in their random start: member k ≥ 1 is fitted with a seed
   * derived from the fold's (`memberSeed`); 0 or absent keeps the fold's seed.
   */
  seedOffset?: number;
}

/** Seed of an ensemble member with `seedOffset` k (k = 0: the fold's own seed). */
export function memberSeed(seed: number, k: number): number {
  return k ? seed * 7919 + 104729 * k : seed;
}

/** A batch correction a nested choice may pick (no `method`: uncorrected), applied per `batchCol`. */
export interface SelectCorrection {
  name: string;
  method?: CorrectionName;
  options?: Record<string, unknown>;
}

/** What some learners use beside the labels (per fit row; controls as extra rows). */
export interface FitContext {
  /** Compound of each fit row. */
  groups?: readonly (string | null)[];
  /** Batch of each fit row. */
  batches?: readonly (string | null)[];
  /** Training-side control rows (indices into X): the batch-aware LDA uses their batch differences. */
  controlRows?: readonly number[];
  controlBatches?: readonly (string | null)[];
  /**
   * Work several fits on the same rows of the same matrix share (a nested choice's candidates in
   * one inner fold): used only when `X` and `rows` are the very objects the fit is given.
   */
  shared?: SharedFits;
  /** Work arrays the fits reuse from one fit to the next (a nested choice's many inner fits). */
  workspace?: FitWorkspace;
}

/**
 * Fitted pieces that several candidates fitted on the same rows of the same matrix reuse: a clipper
 * (and the whole matrix clipped by it) per clipping rule, an LDA fit per configuration that
 * differs only in centring (centring is applied in transform, after the fit), and the LMNN
 * variants' PCA fit per component count (with the projections of the matrices they transform).
 * Every reused piece is what a separate fit would compute, value for value.
 */
export interface SharedFits {
  X: StoredMatrix;
  rows: ArrayLike<number>;
  memo: Map<string, unknown>;
}

const clip5 = { method: 'mad', threshold: 5 } as const;
const BUILTIN_LDA_PROJ: RepresentationSpec = { name: 'lda-proj', kind: 'lda', lda: { shrinkage: 'auto', nComponents: -1 } };
/** The contrastive MLP (clipped inputs) with some of its options changed. */
function contrastiveVariant(name: string, contrastive: NonNullable<RepresentationSpec['contrastive']>): Record<string, RepresentationSpec> {
  return { [name]: { name, kind: 'contrastive', clip: clip5, contrastive } };
}
/** The linear learners the nested choices choose among, simplest first. */
const LINEAR_LEARNERS = ['lda-proj', 'lda-proj-clip', 'lda-proj-clip-uncentred', 'batch-lda', 'batch-lda-clip'];

const REPRESENTATIONS_24: Readonly<Record<string, RepresentationSpec>> = {
  // Winsorised at median ± 5 robust s.d. of the training rows.
  'raw-clip': { name: 'raw-clip', kind: 'raw', clip: clip5 },
  'lda-proj-clip': { name: 'lda-proj-clip', kind: 'lda', clip: clip5, lda: { shrinkage: 'auto', nComponents: -1 } },
  // The same projection without subtracting the training mean: cosine geometry then keeps the
  // offset from the training centroid (a profile's distance from the average treatment).
  'lda-proj-clip-uncentred': { name: 'lda-proj-clip-uncentred', kind: 'lda', clip: clip5, lda: { shrinkage: 'auto', nComponents: -1, center: false } },
  // Learned on consensus profiles (training treatment medians) instead of wells.
  'lda-proj-consensus': { name: 'lda-proj-consensus', kind: 'lda', fitOn: 'treatments', lda: { shrinkage: 'auto', nComponents: -1 } },
  'lda-proj-clip-consensus': { name: 'lda-proj-clip-consensus', kind: 'lda', fitOn: 'treatments', clip: clip5, lda: { shrinkage: 'auto', nComponents: -1 } },
  // Within-class scatter + same-compound (and control) differences between batches.
  'batch-lda': { name: 'batch-lda', kind: 'batch-lda', batchLda: { shrinkage: 'auto', batchWeight: 1 } },
  'batch-lda-noshrink': { name: 'batch-lda-noshrink', kind: 'batch-lda', batchLda: { shrinkage: 0, batchWeight: 1 } },
  'batch-lda-clip': { name: 'batch-lda-clip', kind: 'batch-lda', clip: clip5, batchLda: { shrinkage: 'auto', batchWeight: 1 } },
  // NCA (classes − 1 dimensions, neighbours restricted to other compounds) on PCA-50 coordinates,
  // started from the principal axes: started from the LDA projection it has nothing to learn
  // (the training compounds are already separated, Σ p_i ≈ n).
  nca: { name: 'nca', kind: 'nca', pca: 50, nca: { nComponents: -1, init: 'pca', maxIter: 100 } },
  'nca-clip': { name: 'nca-clip', kind: 'nca', pca: 50, clip: clip5, nca: { nComponents: -1, init: 'pca', maxIter: 100 } },
  // LMNN on PCA-50 coordinates, 3 target neighbours from other compounds, started from the
  // Euclidean metric (identity, rescaled to its best multiple), margin 1, push and pull weighted equally.
  lmnn: { name: 'lmnn', kind: 'lmnn', pca: 50, lmnn: { k: 3, maxIter: 100 } },
  // Without rescaling the identity start: L-BFGS stops (100 iterations) at a larger scale.
  'lmnn-noscale': { name: 'lmnn-noscale', kind: 'lmnn', pca: 50, lmnn: { k: 3, maxIter: 100, rescale: false } },
  // The same, classes − 1 dimensions started from the shrinkage-LDA projection.
  'lmnn-lda': { name: 'lmnn-lda', kind: 'lmnn', pca: 50, lmnn: { k: 3, nComponents: -1, init: 'lda', maxIter: 100 } },
  // Variants the nested LMNN choice (select-lmnn) considers: one target neighbour (few compounds
  // per class leave rows with one other-compound class-mate at most), a smaller PCA step.
  'lmnn-k1': { name: 'lmnn-k1', kind: 'lmnn', pca: 50, lmnn: { k: 1, maxIter: 100 } },
  'lmnn-pca20': { name: 'lmnn-pca20', kind: 'lmnn', pca: 20, lmnn: { k: 3, maxIter: 100 } },
  // Supervised-contrastive MLP, positives = other compounds of the same class.
  contrastive: { name: 'contrastive', kind: 'contrastive', clip: clip5, contrastive: {} },
  // Hyperparameter variants of the contrastive MLP that select-contrastive chooses among.
  ...contrastiveVariant('contrastive-h64', { hidden: 64 }),
  ...contrastiveVariant('contrastive-h256', { hidden: 256 }),
  ...contrastiveVariant('contrastive-t01', { temperature: 0.1 }),
  ...contrastiveVariant('contrastive-t05', { temperature: 0.5 }),
  // No early stopping: 40 epochs on every training row.
  ...contrastiveVariant('contrastive-e40', { validationFraction: 0, maxEpochs: 40 }),
  // Weak supervision (as Moshkov et al. 2024 train on treatment identity rather than mechanism): the
  // shrinkage-LDA projection with each training well's compound as its class — compounds − 1
  // directions that separate compounds against their replicate scatter, none tied to the label set.
  'lda-proj-compound': { ...BUILTIN_LDA_PROJ, name: 'lda-proj-compound', classes: 'compound' },
  // Nested model choice among the linear learners (with/without clipping, centring, batch term).
  'select-linear': {
    name: 'select-linear', kind: 'select',
    select: { candidates: LINEAR_LEARNERS, innerFolds: 3 },
  },
};

/** The corrections a nested choice chooses among, simplest first (per `batchCol`; Harmony with its defaults, seed 0). */
const CORRECTION_CHOICES: SelectCorrection[] = [
  { name: 'none' }, { name: 'sphere', method: 'sphere' }, { name: 'combat', method: 'combat' }, { name: 'harmony', method: 'harmony' },
];
/**
 * The same with per-batch centring on the controls as a second choice: sphering with shrinkage 1
 * shrinks the control covariance all the way to (tr Σ / d)·I, so its whitening matrix is a multiple
 * of the identity and only the per-batch control mean is removed (the scale does not change cosines).
 */
const CORRECTION_CHOICES_CENTER: SelectCorrection[] = [
  CORRECTION_CHOICES[0]!, { name: 'center', method: 'sphere', options: { shrinkage: 1 } }, ...CORRECTION_CHOICES.slice(1),
];

/**
 * Issue 24: the batch correction chosen with the learner by nested CV, every correction refitted
 * on each inner training side. Inner criterion: inner NSCB (the transfer across batches the target
 * asks for), then inner NSC, then the simpler candidate (no correction before sphering before
 * ComBat before Harmony; the learners in select-linear's order).
 */
/** A nested correction choice: select-corrected's candidates, corrections and inner 3-fold split, with `select` on top. */
function correctedChoice(name: string, select: Partial<NonNullable<RepresentationSpec['select']>>): Record<string, RepresentationSpec> {
  return { [name]: { name, kind: 'select', select: { candidates: LINEAR_LEARNERS, corrections: CORRECTION_CHOICES, innerFolds: 3, ...select } } };
}

const CORRECTION_SELECTIONS_24: Readonly<Record<string, RepresentationSpec>> = {
  ...correctedChoice('select-corrected', { criterion: 'nscb' }),
  // The same with the inner 3-fold split repeated with three seeds, scores pooled: less inner-split noise, 3× the fits.
  ...correctedChoice('select-corrected-r3', { innerRepeats: 3, criterion: 'nscb' }),
  // Deterministic: inner leave-one-compound-out (no seed, inner training sides one compound smaller
  // than the outer one), the correction chosen for the plain LDA projection (the cheapest learner:
  // about 37 inner fits per outer fold and correction).
  ...correctedChoice('select-corrected-loco', { candidates: ['lda-proj'], innerSplit: 'loco', criterion: 'nscb' }),
  // select-corrected's candidates and inner 3-fold split, chosen by the inner mean reciprocal rank
  // of the first right NSCB neighbour (graded where the 0/1 NSCB hit ties), then NSCB, then NSC.
  ...correctedChoice('select-corrected-mrr', { criterion: 'mrr-b' }),
  // Soft choice: the two best (correction, learner) pairs by the same ranking, cosine-averaged.
  ...correctedChoice('select-corrected-mrr-top2', { criterion: 'mrr-b', fuseTopTwo: true }),
  // select-corrected-mrr with per-week centring on the controls among the corrections (after none).
  ...correctedChoice('select-corrected-center-mrr', { corrections: CORRECTION_CHOICES_CENTER, criterion: 'mrr-b' }),
  // select-corrected-mrr with the inner split repeated with three seeds, scores pooled (3× the fits).
  ...correctedChoice('select-corrected-mrr-r3', { innerRepeats: 3, criterion: 'mrr-b' }),
  // The soft choice (select-corrected-mrr-top2) ranked on scores pooled over three seeded repeats of the inner split.
  ...correctedChoice('select-corrected-mrr-top2-r3', { innerRepeats: 3, criterion: 'mrr-b', fuseTopTwo: true }),
  // select-corrected chosen by inner NSC + inner MoA mAP (the two figures the cell-injury target asks for).
  ...correctedChoice('select-corrected-map', { criterion: 'nsc+map' }),
  // Its soft form: the two best pairs by the same criterion, cosine-averaged.
  ...correctedChoice('select-corrected-map-top2', { criterion: 'nsc+map', fuseTopTwo: true }),
  // The same soft choice ranked on scores pooled over three seeded repeats of the inner split.
  ...correctedChoice('select-corrected-map-top2-r3', { innerRepeats: 3, criterion: 'nsc+map', fuseTopTwo: true }),
};

/** Five contrastive nets that differ only in their seed (member 0 = `contrastive` itself). */
const CONTRASTIVE_ENS5: RepresentationSpec = {
  name: 'contrastive-ens5', kind: 'ensemble',
  ensemble: [0, 1, 2, 3, 4].map((k) => ({ ...REPRESENTATIONS_24.contrastive!, name: `contrastive#${k}`, seedOffset: k })),
};

/** Fixed ensembles of registry learners (see RepresentationSpec.ensemble). */
const ENSEMBLES_24: Readonly<Record<string, RepresentationSpec>> = {
  // The learner's own randomness averaged away: cosine = the mean of five nets' cosines.
  'contrastive-ens5': CONTRASTIVE_ENS5,
  // The discriminant beside the net ensemble: ½ lda-proj's cosine + ½ the nets' mean cosine.
  'ensemble-lda-contrastive5': { name: 'ensemble-lda-contrastive5', kind: 'ensemble', ensemble: [BUILTIN_LDA_PROJ, CONTRASTIVE_ENS5] },
  // lda-proj beside the compound-supervised projection.
  'ensemble-lda-compound': { name: 'ensemble-lda-compound', kind: 'ensemble', ensemble: [BUILTIN_LDA_PROJ, REPRESENTATIONS_24['lda-proj-compound']!] },
  // The contrastive MLP's width, temperature and epochs chosen by inner 3-fold compound CV on inner
  // NSC + inner MoA mAP (the default configuration first: preferred on ties).
  'select-contrastive': {
    name: 'select-contrastive', kind: 'select',
    select: { candidates: ['contrastive', 'contrastive-h64', 'contrastive-h256', 'contrastive-t01', 'contrastive-t05', 'contrastive-e40'], innerFolds: 3, criterion: 'nsc+map' },
  },
  // The centred and the uncentred clipped projections, cosine averaged.
  'ensemble-lda-clip': { name: 'ensemble-lda-clip', kind: 'ensemble', ensemble: [REPRESENTATIONS_24['lda-proj-clip']!, REPRESENTATIONS_24['lda-proj-clip-uncentred']!] },
  // select-linear's candidates plus the ensemble of the two that win the inner CV, chosen the same way.
  'select-ensemble': {
    name: 'select-ensemble', kind: 'select',
    select: { candidates: LINEAR_LEARNERS, innerFolds: 3, ensembleTopTwo: true },
  },
  // Five inner folds: inner training sides closer in size to the outer one (4/5 instead of 2/3).
  'select-ensemble-5': {
    name: 'select-ensemble-5', kind: 'select',
    select: { candidates: LINEAR_LEARNERS, innerFolds: 5, ensembleTopTwo: true },
  },
  // LMNN's k, PCA size and start (and lda-proj, listed first: preferred on ties) chosen by inner
  // 3-fold CV on inner NSC + inner MoA mAP, the two figures the cell-injury target asks for.
  'select-lmnn': {
    name: 'select-lmnn', kind: 'select',
    select: { candidates: ['lda-proj', 'lmnn', 'lmnn-noscale', 'lmnn-lda', 'lmnn-k1', 'lmnn-pca20'], innerFolds: 3, criterion: 'nsc+map' },
  },
  // The same choice scored by inner NSC + inner MoA mAP (graded, fewer ties than NSC alone).
  'select-ensemble-map': {
    name: 'select-ensemble-map', kind: 'select',
    select: { candidates: LINEAR_LEARNERS, innerFolds: 3, ensembleTopTwo: true, criterion: 'nsc+map' },
  },
};

/** Named configurations the CLI accepts in --representations. */
export const BUILTIN_REPRESENTATIONS: Readonly<Record<string, RepresentationSpec>> = {
  raw: { name: 'raw', kind: 'raw' },
  pca: { name: 'pca', kind: 'pca', pca: 50 },
  // The study's configuration: 20 + 20 constraints, metric-learn bounds, on the raw features.
  itml: { name: 'itml', kind: 'itml', itml: { numConstraints: 20, maxIter: 1000, tol: 1e-3, gamma: 1, bounds: 'metric-learn' } },
  // Ten times the study's constraints and squared bounds, on PCA-50 coordinates of the training
  // side (ITML on all 516 BBBC021 features with 200 + 200 pairs takes ~70 s per fit; on PCA-50, ~1 s).
  'itml-squared': { name: 'itml-squared', kind: 'itml', pca: 50, itml: { numConstraints: 200, maxIter: 1000, tol: 1e-3, gamma: 1, bounds: 'squared' } },
  // LDA-whitening with Ledoit–Wolf shrinkage (full whitening, no projection).
  lda: { name: 'lda', kind: 'lda', lda: { shrinkage: 'auto' } },
  // Whitening then projection on the classes − 1 discriminant directions.
  'lda-proj': BUILTIN_LDA_PROJ,
  // Issue 24: inputs that learn well, a batch-aware discriminant, NCA and a contrastive embedding.
  ...REPRESENTATIONS_24,
  ...ENSEMBLES_24,
  ...CORRECTION_SELECTIONS_24,
};

export function parseRepresentationList(text: string): RepresentationSpec[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new UsageError('no representation given');
  return names.map((n) => {
    const r = BUILTIN_REPRESENTATIONS[n];
    if (!r) throw new UsageError(`unknown representation "${n}" (choose from ${Object.keys(BUILTIN_REPRESENTATIONS).join(', ')})`);
    return r;
  });
}

export type NormalizationChoice =
  | 'zscore'
  | 'none'
  | { method: NormalizeMethod; samples?: string; strata?: string[] };

export type MetricName = 'nsc' | 'nscb' | 'map-consistency' | 'map-activity';
export const METRICS: readonly MetricName[] = ['nsc', 'nscb', 'map-consistency', 'map-activity'];

export interface EvaluateOptions {
  labelCol: string;
  /** Compound column: splits never separate its rows. */
  groupCol: string;
  doseCol?: string;
  batchCol?: string;
  /** Labels meaning "control / no mechanism" (default ['DMSO']); never queries or candidates. */
  controlLabels?: readonly string[];
  split?: SplitKind;
  folds?: number;
  /** Seeds to run (default [0]). */
  seeds?: readonly number[];
  representations?: readonly RepresentationSpec[];
  metrics?: readonly MetricName[];
  normalization?: NormalizationChoice;
  /** Null size of the mAP permutation tests (default 1000). */
  nullSize?: number;
  /** Also run the study's in-sample workflow (paper preset) for its enrichment ratios. Default true. */
  inSample?: boolean;
  /** Data-level retrieval on the normalised profiles (no learning): activity and consistency mAP, percent replicating. Default true. */
  dataLevel?: boolean;
  /** PCA solver of every PCA step (see represent/pca.ts). Default 'auto'. */
  pcaSolver?: PcaSolver;
  /**
   * A batch correction (needs `batchCol`; sphering uses the control rows) applied after the
   * normalisation, fitted per fold on the training rows (default; `fit: 'all'` fits it once on
   * every row); with `leave-batch-out` the held-out batch is placed as a new batch (see src/batch).
   */
  correction?: EvaluationCorrection;
  /**
   * Run only the outer folds with these names (e.g. "loco:taxol"): a quick look at a few folds;
   * the pooled figures then cover only their queries. Unknown names are a UsageError.
   */
  onlyFolds?: readonly string[];
  /**
   * Candidates of a query relative to its batch (`batchCol`): 'same' = treatments on the query's
   * batch only, 'others' = on the other batches only (compounds of the query's batch left out
   * there), 'all' = both (splits.ts `candidateRows`). Queries are then the held-out treatments per
   * batch (compound + dose + batch) and candidates come from both sides of the fold (training rows
   * and the other held-out compounds' rows), so a compound split and leave-batch-out compare under
   * one rule: with nothing learned (raw) they give the same figures. Unset (default): queries
   * are the held-out treatments, candidates the training treatments, whatever their batch (under
   * leave-batch-out that is the same as 'others').
   */
  candidateBatch?: CandidateBatchRule;
  /**
   * Threads the outer folds of a learner are shared over once its folds take seconds (nested
   * choices, the five-net ensembles): this thread and worker threads claim folds one at a time. Default: PHENOMAP_THREADS or the cores (at most 8).
   * The results do not depend on it.
   */
  threads?: number;
  reporter?: Reporter;
}

export interface EvaluationCorrection {
  method: CorrectionName;
  options?: Record<string, unknown>;
  /** Column whose values the correction treats as batches (default: `batchCol`, e.g. correct per plate, judge NSCB per week). */
  batchCol?: string;
  /**
   * Rows the correction is fitted on under compound splits: 'training' (default) refits it in every
   * fold on the training side (training compounds and controls) and places the held-out compounds'
   * rows with that fit, so no held-out row moves its own batch's estimate; 'all' fits it once on
   * every row. Sphering learns from control rows only (never held out), so both give the same
   * matrix; ComBat and Harmony estimate their batch terms from every row, and a batch holding few
   * compounds otherwise subtracts part of the held-out compound's own profile (BBBC021: ComBat per
   * week + LDA projection, held-out NSCB 0.891 fitted on all rows, 0.967 on the training side).
   * `leave-batch-out` always refits on the training batches.
   */
  fit?: 'training' | 'all';
}

export interface MetricSummary {
  mean: number;
  /** Sample standard deviation over seeds (0 with one value). */
  sd: number;
  min: number;
  max: number;
  values: number[];
}

export interface FoldRecord {
  representation: string;
  seed: number;
  fold: string;
  heldOut: string;
  queries: number;
  nsc: number;
  nscb: number;
  mapConsistency: number;
  seconds: number;
  /** kind 'select': the representation chosen in this fold and its inner NSC / NSCB (and mean reciprocal rank, criterion 'mrr-b'). */
  chosen?: string;
  innerNsc?: number;
  innerNscb?: number;
  innerMrr?: number;
  /** kind 'select' with corrections: the correction chosen with it. */
  chosenCorrection?: string;
}

export interface RepresentationSummary {
  name: string;
  spec: RepresentationSpec;
  metrics: Partial<Record<MetricName | 'map-consistency-baseline' | 'map-activity-baseline' | 'consistency-fraction-retrieved' | 'activity-fraction-retrieved', MetricSummary>>;
  /** First seed's pooled results (per-MoA accuracies, AP groups). */
  nsc?: NnResult;
  nscb?: NnResult;
  consistency?: MapResult;
  activity?: MapResult;
  seconds: number;
  warnings: string[];
}

export interface EvaluationResult {
  options: {
    labelCol: string; groupCol: string; doseCol?: string; batchCol?: string; controlLabels: string[];
    split: SplitKind; folds: number; seeds: number[]; normalization: NormalizationChoice; nullSize: number;
    correction?: EvaluationCorrection;
    candidateBatch?: CandidateBatchRule;
  };
  rows: number;
  features: number;
  treatments: number;
  compounds: number;
  representations: RepresentationSummary[];
  folds: FoldRecord[];
  inSample?: { note: string; enrichmentRatio: Record<string, number>; error?: string };
  dataLevel?: DataLevelRetrieval;
  notes: string[];
}

/** Retrieval on the normalised profiles themselves: nothing is learned, so nothing is held out. */
export interface DataLevelRetrieval {
  /** Replicate wells of each treatment vs control wells. */
  activity?: MapResult;
  /** Treatment medians vs other compounds' treatments, same label = positive. */
  consistency: MapResult;
  /** Treatments (compound + dose) with ≥ 2 non-control wells: the JUMP form (groups against a null of medians). */
  percentReplicating: ReplicatingResult & { form: string };
  /**
   * The same treatments in cytominer-eval's form (replicate pairs against the non-replicate
   * pairs' 95th percentile); null with the reason when there are too many pairs.
   */
  replicateReproducibility: (ReplicateReproducibilityResult & { form: string }) | { form: string; skipped: string };
}

function summarise(values: number[]): MetricSummary {
  const v = values.filter((x) => !Number.isNaN(x));
  const n = v.length;
  const mean = n ? v.reduce((a, b) => a + b, 0) / n : NaN;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : n ? 0 : NaN;
  return { mean, sd, min: n ? Math.min(...v) : NaN, max: n ? Math.max(...v) : NaN, values };
}

/**
 * Apply the chosen label-free normalisation to all rows; drops features left non-finite. The
 * z-score keeps the table's storage precision (a float32 table stays float32); the pycytominer
 * methods work in float64.
 */
export function normaliseForEvaluation(p: Profiles, choice: NormalizationChoice): { profiles: Profiles; notes: string[] };
export function normaliseForEvaluation(p: Profiles<StoredMatrix>, choice: NormalizationChoice): { profiles: Profiles<StoredMatrix>; notes: string[] };
export function normaliseForEvaluation(p: Profiles<StoredMatrix>, choice: NormalizationChoice): { profiles: Profiles<StoredMatrix>; notes: string[] } {
  const notes: string[] = [];
  let out: Profiles<StoredMatrix>;
  if (choice === 'none') out = p;
  else if (choice === 'zscore') {
    if (p.X.rows < 2) throw new InputError(`${p.source ?? 'profiles'}: z-scoring needs at least 2 rows, have ${p.X.rows}`);
    const z = zscore(p.X);
    if (!z.kept.length) throw new InputError(`${p.source ?? 'profiles'}: every feature has a non-finite value or zero variance; nothing left to z-score`);
    if (z.dropped.length) notes.push(`z-score dropped ${z.dropped.length} feature(s) (missing values or zero variance)`);
    out = { features: z.kept.map((j) => p.features[j]!), X: z.Z, meta: p.meta, source: p.source };
  } else {
    const wide: Profiles = { ...p, X: asFloat64(p.X) };
    const r = normalize(wide, { method: choice.method, samples: choice.samples ?? 'all', strata: choice.strata });
    notes.push(`normalised (${choice.method}, reference ${choice.samples ?? 'all rows'}${choice.strata?.length ? `, per ${choice.strata.join('+')}` : ''})`);
    out = r.profiles;
  }
  // Features with any non-finite value cannot be used by the learners: dropped and reported.
  const { rows: n, cols: d, data } = out.X;
  const bad = new Uint8Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) if (!Number.isFinite(data[i * d + j]!)) bad[j] = 1;
  // A (near-)zero-scale reference turns into huge values; such features are dropped too.
  for (let j = 0; j < d; j++) for (let i = 0; i < n && !bad[j]; i++) if (Math.abs(data[i * d + j]!) > 1e6) bad[j] = 1;
  const keep: number[] = [];
  for (let j = 0; j < d; j++) if (!bad[j]) keep.push(j);
  if (keep.length < d) {
    notes.push(`${d - keep.length} feature(s) dropped after normalisation (non-finite or |value| > 1e6)`);
    const k = keep.length;
    const X = allocLike(data, n * k);
    for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) X[i * k + t] = data[i * d + keep[t]!]!;
    out = { features: keep.map((j) => out.features[j]!), X: { rows: n, cols: k, data: X }, meta: out.meta, source: out.source };
  }
  if (!keep.length) throw new InputError(`${p.source ?? 'profiles'}: no feature left after normalisation`);
  return { profiles: out, notes };
}

interface FittedTransform {
  /** The representation of X's rows (raw: X itself, in its storage precision). */
  transform(X: StoredMatrix): StoredMatrix;
  warnings: string[];
}

/** Whether Y views the first rows of X's storage (same buffer, same start, same width). */
function prefixOf(Y: StoredMatrix, X: StoredMatrix): boolean {
  return Y.cols === X.cols && Y.rows <= X.rows && Y.data.buffer === X.data.buffer && Y.data.byteOffset === X.data.byteOffset && Y.data.BYTES_PER_ELEMENT === X.data.BYTES_PER_ELEMENT;
}

function strictlyAscending(idx: ArrayLike<number>): boolean {
  for (let i = 1; i < idx.length; i++) if (!(idx[i]! > idx[i - 1]!)) return false;
  return true;
}

/**
 * Fit one representation on the given training rows (indices into X) with their labels.
 * Exported so tests can check that held-out rows never influence a fit.
 */
/** Rows of each part scaled to unit length, side by side: cosine on the result = the mean of the parts' cosines. */
function concatUnitRows(partsIn: readonly StoredMatrix[]): Matrix {
  const parts = partsIn.map((q) => normalizeRows(asFloat64(q)));
  const rows = parts[0]!.rows;
  const cols = parts.reduce((a, q) => a + q.cols, 0);
  const out = zeros(rows, cols);
  for (let i = 0, c0 = 0; c0 < cols; c0 += parts[i]!.cols, i++) {
    const q = parts[i]!;
    for (let r = 0; r < rows; r++) out.data.set(q.data.subarray(r * q.cols, (r + 1) * q.cols), r * cols + c0);
  }
  return out;
}

export function fitRepresentation(
  spec: RepresentationSpec, X: StoredMatrix, fitRows: ArrayLike<number>, labels: readonly string[], seed: number, pcaSolver: PcaSolver = 'auto',
  ctx: FitContext = {},
): FittedTransform {
  const warnings: string[] = [];
  if (spec.seedOffset) seed = memberSeed(seed, spec.seedOffset);
  if (spec.classes === 'compound') {
    const g = ctx.groups;
    if (!g || g.length !== labels.length) throw new UsageError(`${spec.name}: classes by compound need the compound of every training row`);
    const missing = g.findIndex((c) => c === null || c === undefined);
    if (missing >= 0) throw new InputError(`${spec.name}: training row ${missing + 1} has no compound, so it has no class`);
    labels = g as readonly string[];
  }
  const memo = ctx.shared && ctx.shared.X === X && ctx.shared.rows === fitRows ? ctx.shared.memo : undefined;
  let clipper: RobustClipper | undefined;
  // With a shared memo the clipper's bounds and X clipped by them are computed once per rule.
  // (and each matrix the candidates transform, e.g. X itself or a view of some of its rows).
  let clipped: { clipper: RobustClipper; of: Map<StoredMatrix, Matrix> } | undefined;
  if (spec.clip) {
    const key = `clip ${JSON.stringify(spec.clip)}`;
    clipped = memo?.get(key) as typeof clipped;
    if (!clipped) {
      clipped = { clipper: new RobustClipper(spec.clip).fit(takeRows(X, fitRows)), of: new Map() };
      memo?.set(key, clipped);
    }
    clipper = clipped.clipper;
  }
  const clip = (Y: StoredMatrix): StoredMatrix => {
    if (!clipper) return Y;
    if (!memo) return clipper.transform(Y);
    let c = clipped!.of.get(Y);
    if (!c) {
      // Clipping is per entry: a view of X's first rows (the scored rows) clips to those rows of clipped X.
      if (Y !== X && prefixOf(Y, X)) {
        const whole = clip(X);
        c = { rows: Y.rows, cols: Y.cols, data: whole.data.subarray(0, Y.rows * Y.cols) as Float64Array };
      } else {
        // Clipped X lives as long as this memo (one inner fold's candidates): a workspace array.
        c = clipper.transform(Y, Y === X && ctx.workspace ? ctx.workspace.matrix('clipped', X.rows, X.cols) : undefined);
      }
      clipped!.of.set(Y, c);
    }
    return c;
  };
  // Clipping is per entry, so the clipped rows of X are the rows of clipped X.
  const clipRows = (rows: ArrayLike<number>): StoredMatrix => (memo && clipper ? takeRows(clip(X), rows) : clip(takeRows(X, rows)));
  // With a shared memo the fits below take the rows where they are in (clipped) X, the other rows
  // unlabelled, when the rows are ascending: the same sums in the same order as on a copy of them.
  const inPlace = (rows: ArrayLike<number>) => !!memo && spec.pca === undefined && strictlyAscending(rows);
  const sparse = <T>(rows: ArrayLike<number>, values: readonly T[]): (T | null)[] => {
    const out = new Array<T | null>(X.rows).fill(null);
    for (let r = 0; r < rows.length; r++) out[rows[r]!] = values[r]!;
    return out;
  };
  if (spec.kind === 'raw') return { transform: clip, warnings };
  if (spec.kind === 'ensemble') {
    const members = (spec.ensemble ?? []).map((m) => fitRepresentation(m, X, fitRows, labels, seed, pcaSolver, ctx));
    if (members.length < 2) throw new UsageError(`${spec.name}: an ensemble needs at least 2 members`);
    for (const m of members) warnings.push(...m.warnings);
    return { transform: (Y) => concatUnitRows(members.map((m) => m.transform(Y))), warnings };
  }
  const nClasses = new Set(labels).size;
  const fitLda = (rows: StoredMatrix, rowLabels: readonly (string | null)[]): Lda => {
    const o = { ...spec.lda };
    if (o.nComponents !== undefined && o.nComponents < 0) o.nComponents = nClasses - 1;
    return new Lda({ ...o, seed }).fit(rows, rowLabels, ctx.workspace);
  };
  // LDA configurations that differ only in centring share one fit (on the same rows).
  const sharedLda = (fit: () => Lda): Lda => {
    const center = spec.lda?.center ?? true;
    if (!memo || spec.pca !== undefined) return fit();
    const key = `lda ${spec.classes ?? 'label'} ${JSON.stringify(spec.clip ?? null)} ${JSON.stringify({ ...spec.lda, center: undefined })}`;
    let lda = memo.get(key) as Lda | undefined;
    if (!lda) memo.set(key, (lda = fit()));
    return lda.center === center ? lda : lda.withCenter(center);
  };
  if (spec.kind === 'lda' && !spec.clip && spec.pca === undefined && strictlyAscending(fitRows)) {
    // Lda.fit takes the training rows where they are (the others unlabelled): no copy of them,
    // which at full width is 170 MB per fold and, on a loaded machine, seconds of page faults.
    // The rows keep their order, so the fit is the same as on the copy.
    const lda = sharedLda(() => {
      const sparse: (string | null)[] = new Array<string | null>(X.rows).fill(null);
      for (let r = 0; r < fitRows.length; r++) sparse[fitRows[r]!] = labels[r]!;
      return fitLda(X, sparse);
    });
    return { transform: (Y) => lda.transform(Y), warnings };
  }
  // The batch-aware LDA also looks at the training-side control rows (batch differences only).
  const ctlRows = spec.kind === 'batch-lda' && ctx.controlRows ? ctx.controlRows : [];
  const allRows = ctlRows.length ? [...Array.from(fitRows), ...ctlRows] : fitRows;
  if (spec.kind === 'lda' && inPlace(fitRows)) {
    const lda = sharedLda(() => fitLda(clip(X), sparse(fitRows, labels)));
    return { transform: (Y) => lda.transform(clip(Y)), warnings };
  }
  if (spec.kind === 'batch-lda' && ctx.groups && inPlace(allRows)) {
    const groups = [...ctx.groups, ...ctlRows.map(() => '\u0000control')];
    const batches = ctx.batches ? [...ctx.batches, ...(ctx.controlBatches ?? ctlRows.map(() => null))] : undefined;
    if (!batches) warnings.push(`${spec.name}: no batch column, so the batch-aware LDA is plain pooled LDA`);
    const o = { ...spec.batchLda };
    if (o.nComponents !== undefined && o.nComponents < 0) o.nComponents = undefined;
    const m = new BatchAwareLda({ ...o, seed }).fit(clip(X), {
      labels: sparse(fitRows, labels), groups: sparse(allRows, groups), batches: batches ? sparse(allRows, batches) : undefined, workspace: ctx.workspace,
    });
    return { transform: (Y) => m.transform(clip(Y)), warnings };
  }
  // The LMNN variants on one training side share one PCA fit of it and the projection of each
  // matrix they transform (a shared memo; the fit is deterministic, so the same values).
  const pcaKey = memo && spec.kind === 'lmnn' && spec.pca !== undefined ? `pca ${JSON.stringify(spec.clip ?? null)} ${spec.pca} ${pcaSolver} ${seed}` : undefined;
  let shared = pcaKey ? memo!.get(pcaKey) as { pre: PCA; Xf: StoredMatrix; of: Map<StoredMatrix, StoredMatrix> } | undefined : undefined;
  let Xf: StoredMatrix = shared ? shared.Xf : clipRows(allRows);
  let pre: PCA | undefined = shared?.pre;
  if (spec.pca !== undefined) {
    const k = spec.pca >= 1 ? Math.min(spec.pca, fitRows.length, X.cols) : spec.pca;
    if (k !== spec.pca) warnings.push(`${spec.name}: PCA capped at ${k} components`);
    if (!pre) {
      pre = new PCA({ nComponents: k, solver: pcaSolver, seed });
      // PCA sees the labelled rows only (as without controls); the control rows are then projected.
      if (ctlRows.length) {
        pre.fit(takeRows(Xf, Int32Array.from({ length: fitRows.length }, (_, i) => i)));
        Xf = pre.transform(Xf);
      } else Xf = pre.fitTransform(Xf);
      if (pcaKey) memo!.set(pcaKey, (shared = { pre, Xf, of: new Map() }));
    }
  }
  const prep = (Y: StoredMatrix): StoredMatrix => {
    if (!pre) return clip(Y);
    if (!shared) return pre.transform(clip(Y));
    let p = shared.of.get(Y);
    if (!p) shared.of.set(Y, (p = pre.transform(clip(Y))));
    return p;
  };
  if (spec.kind === 'pca') {
    if (!pre) throw new UsageError(`${spec.name}: a PCA representation needs a component count`);
    return { transform: prep, warnings };
  }
  if (spec.kind === 'itml') {
    const itml = new Itml({ ...spec.itml, seed });
    itml.fit(Xf, labels);
    warnings.push(...itml.warnings);
    return { transform: (Y) => itml.transform(prep(Y)), warnings };
  }
  if (spec.kind === 'batch-lda') {
    if (!ctx.groups) throw new UsageError(`${spec.name}: the batch-aware LDA needs the compound of every training row`);
    const allLabels: (string | null)[] = [...labels, ...ctlRows.map(() => null)];
    const groups: (string | null)[] = [...ctx.groups, ...ctlRows.map(() => '\u0000control')];
    const batches = ctx.batches ? [...ctx.batches, ...(ctx.controlBatches ?? ctlRows.map(() => null))] : undefined;
    if (!batches) warnings.push(`${spec.name}: no batch column, so the batch-aware LDA is plain pooled LDA`);
    const o = { ...spec.batchLda };
    if (o.nComponents !== undefined && o.nComponents < 0) o.nComponents = undefined;
    const m = new BatchAwareLda({ ...o, seed }).fit(Xf, { labels: allLabels, groups, batches, workspace: ctx.workspace });
    return { transform: (Y) => m.transform(prep(Y)), warnings };
  }
  if (spec.kind === 'nca') {
    const o = { ...spec.nca };
    if (o.nComponents !== undefined && o.nComponents < 0) o.nComponents = Math.min(nClasses - 1, Xf.cols);
    const { groups: byGroup, ...ncaOpts } = o;
    const m = new Nca({ ...ncaOpts, seed }).fit(Xf, labels, byGroup === false ? undefined : ctx.groups);
    warnings.push(...m.warnings.map((w) => `${spec.name}: ${w}`));
    return { transform: (Y) => m.transform(prep(Y)), warnings };
  }
  if (spec.kind === 'lmnn') {
    const { groups: byGroup, ...o } = { ...spec.lmnn };
    if (o.nComponents !== undefined && o.nComponents < 0) o.nComponents = Math.min(nClasses - 1, Xf.cols);
    const groups = byGroup === false ? undefined : ctx.groups;
    // A training side with few compounds per class cannot give every row k targets: k is lowered and said so.
    const maxK = lmnnMaxK(labels, groups);
    const k = o.k ?? 3;
    if (maxK >= 1 && k > maxK) {
      warnings.push(`${spec.name}: k lowered from ${k} to ${maxK} (some row has only ${maxK} row(s) of its class in other compounds)`);
      o.k = maxK;
    }
    const m = new Lmnn({ ...o, seed }).fit(Xf, labels, groups);
    warnings.push(...m.warnings.map((w) => `${spec.name}: ${w}`));
    return { transform: (Y) => m.transform(prep(Y)), warnings };
  }
  if (spec.kind === 'contrastive') {
    const m = new ContrastiveEmbedding({ ...spec.contrastive, seed }).fit(Xf, labels, { groups: ctx.groups, batches: ctx.batches });
    return { transform: (Y) => m.transform(prep(Y)), warnings };
  }
  const lda = sharedLda(() => fitLda(Xf, labels));
  return { transform: (Y) => lda.transform(prep(Y)), warnings };
}

/** Whether a seed can change the representation (a nested choice with inner leave-one-compound-out cannot, unless a candidate can). */
function seededSpec(s: RepresentationSpec): boolean {
  if (s.kind === 'select') {
    return s.select?.innerSplit !== 'loco' || (s.select.candidates ?? []).some((c) => !BUILTIN_REPRESENTATIONS[c] || seededSpec(BUILTIN_REPRESENTATIONS[c]!));
  }
  return s.kind === 'itml' || s.kind === 'contrastive' || s.kind === 'ensemble';
}

/**
 * A learner's remaining outer folds go to worker threads when the first fold's time × the folds left
 * reaches this: a worker's start-up (the set-up repeated, ≈ 1–2 s of CPU) is then a small part.
 */
const MIN_REST_MS_FOR_THREADS = 20_000;

/** Folds from which a nested correction choice (≈ 1–3 s of CPU per fold) starts its workers with the first fold. */
const MIN_FOLDS_EARLY_THREADS = 8;

/** Cache key of a correction fitted on every row (not a real fold). */
const WHOLE: Fold = { name: 'all rows', train: new Int32Array(0), test: new Int32Array(0), heldOutGroups: [] };

/** What one outer fold adds to a representation's pooled figures (merged in fold order). */
export interface FoldOutput {
  rec: FoldRecord;
  warnings: string[];
  nsc: NnPrediction[];
  nscb: NnPrediction[];
  nscUn: NnResult['unanswerable'];
  nscbUn: NnResult['unanswerable'];
  cons: ApQuery[];
  act: ApQuery[];
}

/** A worker thread's share of one representation and seed: it claims fold indices until none are left. */
export interface FoldTask {
  rep: number;
  seed: number;
  claim: () => number;
  emit: (fold: number, out: FoldOutput) => void;
  /** The pair-sharing table of this representation and seed (InnerPairTable's buffer), if it has one. */
  pairs?: SharedArrayBuffer;
}

const correctionChoiceOf = (s: RepresentationSpec): readonly SelectCorrection[] | undefined =>
  (s.kind === 'select' && s.select?.corrections?.length ? s.select.corrections : undefined);

export function evaluate(input: Profiles<StoredMatrix>, opts: EvaluateOptions): EvaluationResult {
  return evaluateCore(input, opts)!;
}

/**
 * The fold worker's entry (foldWorker.ts): the same set-up as `evaluate` on the same input and
 * options, then the folds `task` claims, each sent back as it is done. Not part of the public API.
 */
export function runFoldTask(input: Profiles<StoredMatrix>, opts: EvaluateOptions, task: FoldTask): void {
  evaluateCore(input, opts, task);
}

function evaluateCore(input: Profiles<StoredMatrix>, opts: EvaluateOptions, task?: FoldTask): EvaluationResult | undefined {
  const reporter = opts.reporter ?? silentReporter;
  const split = opts.split ?? 'loco';
  const seeds = [...(opts.seeds ?? [0])];
  const reps = [...(opts.representations ?? [BUILTIN_REPRESENTATIONS.raw!, BUILTIN_REPRESENTATIONS.pca!, BUILTIN_REPRESENTATIONS.lda!])];
  const metrics = new Set(opts.metrics ?? METRICS);
  const controls = [...(opts.controlLabels ?? ['DMSO'])];
  const nullSize = opts.nullSize ?? 1000;
  const normalization = opts.normalization ?? 'zscore';
  const isCtl = (l: string | null) => l !== null && controls.some((c) => c.toUpperCase() === l.toUpperCase());

  const norm = normaliseForEvaluation(input, normalization);
  let p = norm.profiles;
  const notes = [...norm.notes];
  if ((opts.correction || split === 'leave-batch-out') && !opts.batchCol) {
    throw new UsageError(opts.correction ? `--correct ${opts.correction.method} needs --batch-col` : 'split leave-batch-out needs --batch-col');
  }
  const rule = opts.candidateBatch;
  if (rule !== undefined) {
    if (!CANDIDATE_BATCH_RULES.includes(rule)) throw new UsageError(`unknown candidate rule "${rule}" (choose ${CANDIDATE_BATCH_RULES.join(', ')})`);
    if (!opts.batchCol) throw new UsageError(`candidates on the ${rule === 'same' ? 'same batch' : rule === 'others' ? 'other batches' : 'any batch'} need --batch-col`);
  }
  const n = p.X.rows;
  const labelsAll = metaStrings(p, opts.labelCol).map((l) => (l === null || l.trim() === '' ? null : l.trim()));
  const compounds = metaStrings(p, opts.groupCol);
  const keys: TreatmentKeys = {
    compound: compounds,
    dose: opts.doseCol ? metaStrings(p, opts.doseCol) : undefined,
    label: labelsAll,
    batch: opts.batchCol ? metaStrings(p, opts.batchCol) : undefined,
  };
  if (rule !== undefined) {
    const levels = [...new Set(keys.batch!.filter((b) => b !== null))].sort();
    if (levels.length < 2) {
      throw new InputError(`candidate rule "${rule}": column ${opts.batchCol} has ${levels.length} batch value(s)${levels.length ? ` ("${levels[0]}")` : ''}; a rule relative to the query's batch needs at least 2`);
    }
    notes.push(`candidates: ${rule === 'same' ? 'treatments on the query\'s own batch' : rule === 'others' ? 'treatments on the other batches' : 'treatments on any batch'} (${opts.batchCol}), from both sides of each fold; queries per held-out treatment and batch`);
  }
  if (metrics.has('nscb') && !opts.batchCol) {
    metrics.delete('nscb');
    notes.push('NSCB skipped: no batch column given');
  }
  const controlRows: number[] = [];
  const controlGroups = new Set<string>();
  // A control row: its label or its compound is a control name (LINCS DMSO wells have no MoA).
  const isCtlRow = (i: number) => isCtl(labelsAll[i]!) || isCtl(compounds[i]!);
  for (let i = 0; i < n; i++) {
    if (isCtlRow(i)) {
      controlRows.push(i);
      if (compounds[i]) controlGroups.add(compounds[i]!);
    }
  }
  const controlFlag = Uint8Array.from({ length: n }, (_, i) => (isCtlRow(i) ? 1 : 0));
  const uncorrected = p;
  const correct = (fitRows?: Int32Array) => correctProfiles(uncorrected, {
    method: opts.correction!.method, batchCol: opts.correction!.batchCol ?? opts.batchCol!, controls: controlFlag, options: opts.correction!.options, fitRows,
  });
  // Per-fold refits: always under leave-batch-out, and under compound splits unless fit: 'all'.
  const refitPerFold = !!opts.correction && (split === 'leave-batch-out' || (opts.correction.fit ?? 'training') === 'training');
  if (opts.correction) {
    // Label-free: fitted on every row once for the data-level figures (and for every fold with fit: 'all').
    const c = correct();
    p = c.profiles;
    const how = split === 'leave-batch-out'
      ? '; refitted per fold on the training batches, the held-out batch placed as new'
      : refitPerFold ? '; refitted per fold on the training rows (training compounds and controls), the held-out compounds placed with that fit' : ', fitted on all rows (label-free)';
    notes.push(`batch correction ${c.report.method} on ${c.report.batchCol} (${c.report.batches.length} batches)${how}`);
    notes.push(...c.report.notes);
  }
  // Per-fold corrections, kept while they fit in 512 MB.
  // Keyed by the fold itself: k-fold folds of different seeds share names, not rows.
  const foldCorrected = new Map<Fold, StoredMatrix>();
  let cachedBytes = 0;
  // Sphering learns from control rows only: a training side holding every control row refits it to the same matrix.
  const learnsFromControlsOnly = opts.correction?.method === 'sphere';
  const holdsEveryControl = (fold: Fold) => {
    let k = 0;
    for (const i of fold.train) if (controlFlag[i]) k++;
    return k === controlRows.length;
  };
  /** A corrected matrix from `cache` or made now, kept while every cache together stays under 512 MB. */
  const cachedFit = (cache: Map<Fold, StoredMatrix>, key: Fold, make: () => StoredMatrix): StoredMatrix => {
    const hit = cache.get(key);
    if (hit) return hit;
    const X = make();
    if (cachedBytes + X.data.byteLength <= 512 << 20) {
      cache.set(key, X);
      cachedBytes += X.data.byteLength;
    }
    return X;
  };
  const foldMatrix = (fold: Fold): StoredMatrix => {
    if (!refitPerFold || (learnsFromControlsOnly && split !== 'leave-batch-out' && holdsEveryControl(fold))) return p.X;
    return cachedFit(foldCorrected, fold, () => correct(fold.train).profiles.X);
  };
  // Nested choice of the correction (select with corrections): each candidate correction fitted
  // on a fold's training side, cached per correction and fold like foldMatrix's.
  const byCorrection = new Map<string, Map<Fold, StoredMatrix>>();
  const fitCorrection = (sc: SelectCorrection, prof: Profiles<StoredMatrix>, ctl: Uint8Array, fitRows?: Int32Array): StoredMatrix =>
    correctProfiles(prof, { method: sc.method!, batchCol: opts.batchCol!, controls: ctl, options: sc.options, fitRows }).profiles.X;
  const foldMatrixWith = (sc: SelectCorrection, fold: Fold): StoredMatrix => {
    if (!sc.method) return uncorrected.X;
    let cache = byCorrection.get(sc.name);
    if (!cache) byCorrection.set(sc.name, (cache = new Map()));
    // Sphering learns from controls only: a training side holding every control gives the fit on all rows.
    const whole = sc.method === 'sphere' && split !== 'leave-batch-out' && holdsEveryControl(fold);
    return cachedFit(cache, whole ? WHOLE : fold, () => fitCorrection(sc, uncorrected, controlFlag, whole ? undefined : fold.train));
  };
  // The metrics work in float64: a float32 table is widened once, on first need (the learners
  // and the z-score keep its storage).
  let wide: Matrix | undefined;
  const X64 = (): Matrix => (wide ??= asFloat64(p.X));
  const allTreatments = buildTreatments(X64(), keys, { controlLabels: controls });
  if (allTreatments.X.rows < 3) throw new InputError(`${p.source ?? 'profiles'}: only ${allTreatments.X.rows} labelled non-control treatments`);
  const nCompounds = new Set(allTreatments.compound).size;
  notes.push(`${allTreatments.X.rows} labelled non-control treatments of ${nCompounds} compounds; labels ${controls.join(', ')} and unlabelled rows are excluded as queries and candidates`);

  // Only compounds with a (non-control) label are held out; unlabelled/control rows stay in training.
  const splitGroups = compounds.map((c, i) => (c !== null && labelsAll[i] !== null && !isCtlRow(i) ? c : null));
  const foldsBySeed = new Map<number, Fold[]>();
  const foldsFor = (seed: number): Fold[] => {
    const key = split === 'kfold' ? seed : 0;
    let f = foldsBySeed.get(key);
    if (!f) {
      const so = { kind: split, groups: splitGroups, labels: labelsAll, folds: opts.folds, seed: key, controlGroups: [...controlGroups], batches: keys.batch };
      f = makeSplits(so);
      if (opts.onlyFolds) {
        const names = new Set(f.map((fo) => fo.name));
        const unknown = opts.onlyFolds.filter((x) => !names.has(x));
        if (unknown.length) throw new UsageError(`no fold named ${unknown.map((x) => `"${x}"`).join(', ')} (folds: ${[...names].slice(0, 5).join(', ')}${names.size > 5 ? ', …' : ''})`);
        const keep = new Set(opts.onlyFolds);
        f = f.filter((fo) => keep.has(fo.name));
        const note = `only ${f.length} of the ${names.size} folds were run (${[...keep].join(', ')})`;
        if (!notes.includes(note)) notes.push(note);
      }
      foldsBySeed.set(key, f);
      if (split === 'kfold' && foldsBySeed.size === 1) notes.push(...kfoldNotes(so));
      if (split === 'leave-batch-out' && foldsBySeed.size === 1) {
        const empty = batchesWithoutQueries(so);
        if (empty.length) notes.push(`leave-batch-out: batch ${empty.join(', ')} has no labelled non-control rows, so it is not held out (no queries)`);
        const excluded = f.reduce((a, fo) => a + (fo.excludedFromTraining ?? 0), 0);
        notes.push(`leave-batch-out: ${f.length} folds; compounds of the held-out batch are left out of training too (${excluded} rows over all folds on neither side)`);
      }
    }
    return f;
  };

  const selectCandidates = (outerSpec: RepresentationSpec): RepresentationSpec[] => {
    const cands = (outerSpec.select?.candidates ?? []).map((c) => {
      const r = BUILTIN_REPRESENTATIONS[c];
      if (!r || r.kind === 'select' || r.fitOn === 'treatments') throw new UsageError(`${outerSpec.name}: candidate "${c}" must be a well-fitted representation name`);
      return r;
    });
    if (!cands.length) throw new UsageError(`${outerSpec.name}: no candidate representations`);
    return cands;
  };
  /**
   * Nested choice of (correction, learner) in one outer fold: the inner folds split the training
   * compounds; every correction is refitted on each inner training side (its compounds plus the
   * fold's training controls and unlabelled rows) with the inner held-out rows placed by that fit.
   */
  const selectWithCorrections = (
    outerSpec: RepresentationSpec, corrections: readonly SelectCorrection[], fold: Fold, fitRows: number[], fitLabels: string[], seed: number, pairs?: InnerPairTable,
  ) => {
    if (!opts.batchCol) throw new UsageError(`${outerSpec.name}: choosing a batch correction needs --batch-col`);
    const fitSet = new Set(fitRows);
    const contextRows = Array.from(fold.train).filter((i) => !fitSet.has(i));
    // Pair sharing (select.ts) needs every correction's inner fit to depend on its fit rows only:
    // ComBat and Harmony are refitted there, sphering takes the outer fold's fit — the same for
    // every fold only when it is the fit on all rows.
    const sphereWhole = split !== 'leave-batch-out' && holdsEveryControl(fold);
    let pairShare: InnerPairShare | undefined;
    if (pairs && fold.heldOutGroups.length === 1 && corrections.every((c) => c.method !== 'sphere' || sphereWhole)) {
      const folds = foldsFor(seed);
      const index = new Map(folds.map((f, k) => [f.heldOutGroups.length === 1 ? f.heldOutGroups[0]! : '', k]));
      const self = index.get(fold.heldOutGroups[0]!);
      const heldOutRows = Array.from(fold.test).filter((i) => labelsAll[i] !== null && labelsAll[i] !== undefined && !isCtlRow(i));
      if (self !== undefined && folds[self] === fold) {
        pairShare = {
          heldOutRows, heldOutLabels: heldOutRows.map((i) => labelsAll[i]!),
          take: (g) => {
            const k = index.get(g);
            return k === undefined ? undefined : pairs.take(self, k);
          },
          give: (g, v) => {
            const k = index.get(g);
            if (k !== undefined) pairs.give(k, self, v);
          },
        };
      }
    }
    let subProfiles: Profiles<StoredMatrix> | undefined, subCtl: Uint8Array | undefined, subKey: readonly number[] | undefined;
    // The inner LDA fits (hundreds per outer fold, of few sizes) take their temporaries from here.
    const workspace = new FitWorkspace();
    const fixed = new Map<number, StoredMatrix>();
    let fixedKey: readonly number[] | undefined;
    return selectByInnerCv({
      candidates: selectCandidates(outerSpec), X: uncorrected.X, fitRows, labels: fitLabels, compounds, doses: keys.dose, batches: keys.batch, controlLabels: controls,
      innerFolds: outerSpec.select?.innerFolds ?? 3, innerSplit: outerSpec.select?.innerSplit, innerRepeats: outerSpec.select?.innerRepeats,
      seed, criterion: outerSpec.select?.criterion, contextRows, contextIsControl: contextRows.map((i) => controlFlag[i] === 1), pairShare,
      corrections: {
        names: corrections.map((c) => c.name),
        correct: (k, rows, innerFit) => {
          const sc = corrections[k]!;
          // The subset holds every control of the outer training side and so does each inner fit:
          // sphering (learnt from controls only) fitted there is the outer fold's own fit.
          if (!sc.method || sc.method === 'sphere') {
            // The same rows of the same matrix in every inner fold: taken once (the fits only read it).
            if (fixedKey !== rows) {
              fixed.clear();
              fixedKey = rows;
            }
            let M = fixed.get(k);
            if (!M) fixed.set(k, (M = takeRows(foldMatrixWith(sc, fold), rows)));
            return M;
          }
          if (subKey !== rows) {
            subProfiles = subsetRows(uncorrected, rows);
            subCtl = Uint8Array.from(rows, (i) => controlFlag[i]!);
            subKey = rows;
          }
          return fitCorrection(sc, subProfiles!, subCtl!, innerFit);
        },
      },
      fit: (c, Xs, rows, labs, ctx) => fitRepresentation(c, Xs, rows, labs, seed, opts.pcaSolver, { ...ctx, shared: { X: Xs, rows, memo: ctx.memo }, workspace }).transform,
    });
  };

  /**
   * The pair-sharing table of a nested correction choice with inner leave-one-compound-out under
   * the outer leave-one-compound-out split (over `buffer` in a worker), else undefined.
   */
  const pairTableFor = (spec: RepresentationSpec, folds: Fold[], buffer?: SharedArrayBuffer): InnerPairTable | undefined => {
    const corrections = correctionChoiceOf(spec);
    if (!corrections || split !== 'loco' || spec.select?.innerSplit !== 'loco' || folds.length < 2) return undefined;
    return new InnerPairTable(folds.length, corrections.length * selectCandidates(spec).length * TALLY_FIELDS, buffer);
  };

  /** One outer fold of one representation and seed: everything it adds to the pooled figures. */
  const runFold = (outerSpec: RepresentationSpec, seed: number, fold: Fold, pairs?: InnerPairTable): FoldOutput => {
    const o: FoldOutput = { rec: undefined as unknown as FoldRecord, warnings: [], nsc: [], nscb: [], nscUn: [], nscbUn: [], cons: [], act: [] };
    const tf = performance.now();
    const correctionChoice = correctionChoiceOf(outerSpec);
    // A nested choice of correction starts from the uncorrected rows and corrects them itself.
    let Xf = correctionChoice ? uncorrected.X : foldMatrix(fold);
    const fitRows: number[] = [];
    const fitLabels: string[] = [];
    for (const i of fold.train) {
      const l = labelsAll[i];
      if (l !== null && l !== undefined && !isCtlRow(i)) {
        fitRows.push(i);
        fitLabels.push(l);
      }
    }
    let model: FittedTransform;
    let spec = outerSpec;
    let chosen: { name: string; innerNsc: number; innerNscb: number; innerMrr?: number; correction?: string } | undefined;
    // Soft choice: the runner-up pair, fitted on its own correction and fused with the winner.
    let fuse: { spec: RepresentationSpec; X: StoredMatrix } | undefined;
    let fused: FittedTransform | undefined;
    if (correctionChoice) {
      const sel = selectWithCorrections(outerSpec, correctionChoice, fold, fitRows, fitLabels, seed, pairs);
      spec = sel.chosen;
      const sc = correctionChoice[sel.correction!]!;
      Xf = foldMatrixWith(sc, fold);
      chosen = { name: sel.chosen.name, innerNsc: sel.best.nsc, innerNscb: sel.best.nscb, innerMrr: sel.best.mrr, correction: sc.name };
      if (outerSpec.select?.fuseTopTwo && sel.second) {
        const sc2 = correctionChoice[sel.second.correction!]!;
        fuse = { spec: sel.second.chosen, X: foldMatrixWith(sc2, fold) };
        chosen = { ...chosen, name: `${chosen.name}+${sel.second.chosen.name}`, correction: `${sc.name}+${sc2.name}` };
      }
    } else if (outerSpec.kind === 'select') {
      const cands = selectCandidates(outerSpec);
      const sel = selectByInnerCv({
        candidates: cands, X: Xf, fitRows, labels: fitLabels, compounds, doses: keys.dose, batches: keys.batch, controlLabels: controls,
        innerFolds: outerSpec.select?.innerFolds ?? 3, seed, criterion: outerSpec.select?.criterion,
        fit: (c, Xs, rows, labs, ctx) => fitRepresentation(c, Xs, rows, labs, seed, opts.pcaSolver, { ...ctx, shared: { X: Xs, rows, memo: ctx.memo } }).transform,
        combine: outerSpec.select?.ensembleTopTwo ? (a, b) => ({ name: `${a.name}+${b.name}`, kind: 'ensemble' as const, ensemble: [a, b] }) : undefined,
      });
      spec = sel.chosen;
      chosen = { name: sel.chosen.name, innerNsc: sel.best.nsc, innerNscb: sel.best.nscb, innerMrr: sel.best.mrr };
    }
    if ((spec.fitOn ?? 'wells') === 'treatments' && spec.kind !== 'raw') {
      const tr = buildTreatments(Xf === p.X ? X64() : asFloat64(Xf), keys, { rows: fitRows, controlLabels: controls });
      model = fitRepresentation(spec, tr.X, Int32Array.from({ length: tr.X.rows }, (_, i) => i), tr.label, seed, opts.pcaSolver, { groups: tr.compound });
    } else {
      const trainControls = Array.from(fold.train).filter((i) => isCtlRow(i));
      const ctx: FitContext = {
        groups: fitRows.map((i) => compounds[i] ?? null),
        batches: keys.batch ? fitRows.map((i) => keys.batch![i] ?? null) : undefined,
        controlRows: trainControls,
        controlBatches: keys.batch ? trainControls.map((i) => keys.batch![i] ?? null) : undefined,
      };
      model = fitRepresentation(spec, Xf, fitRows, fitLabels, seed, opts.pcaSolver, ctx);
      if (fuse) fused = fitRepresentation(fuse.spec, fuse.X, fitRows, fitLabels, seed, opts.pcaSolver, ctx);
    }
    // Fused: each member places the rows of its own correction.
    const out = fused ? concatUnitRows([model.transform(Xf), fused.transform(fuse!.X)]) : model.transform(Xf);
    const Y = out === p.X ? X64() : asFloat64(out);
    // Query / candidate sets: one pair (held-out vs training treatments), or one per batch of the held-out rows under a candidate rule.
    const sets: { qry: Treatments; cand: Treatments; batch?: string }[] = [];
    if (rule === undefined) {
      sets.push({ qry: buildTreatments(Y, keys, { rows: fold.test, controlLabels: controls }), cand: buildTreatments(Y, keys, { rows: fold.train, controlLabels: controls }) });
    } else {
      const byBatch = new Map<string | null, number[]>();
      for (const i of fold.test) {
        const b = keys.batch![i] ?? null;
        let a = byBatch.get(b);
        if (!a) byBatch.set(b, (a = []));
        a.push(i);
      }
      for (const [b, rows] of [...byBatch].sort((x, y) => ((x[0] ?? '') < (y[0] ?? '') ? -1 : 1))) {
        const qry = buildTreatments(Y, keys, { rows: Int32Array.from(rows), controlLabels: controls });
        if (!qry.X.rows) continue;
        sets.push({ qry, cand: buildTreatments(Y, keys, { rows: candidateRows(fold, keys.batch!, splitGroups, b, rule), controlLabels: controls }), batch: b ?? '' });
      }
    }
    o.warnings = [...model.warnings, ...(fused?.warnings ?? [])];
    const rec: FoldRecord = {
      representation: outerSpec.name, seed, fold: fold.name, heldOut: fold.heldOutGroups.join('|'), queries: sets.reduce((a, x) => a + x.qry.X.rows, 0),
      nsc: NaN, nscb: NaN, mapConsistency: NaN, seconds: 0,
      ...(chosen ? { chosen: chosen.name, innerNsc: chosen.innerNsc, innerNscb: chosen.innerNscb } : {}),
      ...(chosen?.innerMrr !== undefined && !Number.isNaN(chosen.innerMrr) ? { innerMrr: chosen.innerMrr } : {}),
      ...(chosen?.correction !== undefined ? { chosenCorrection: chosen.correction } : {}),
    };
    const foldNsc: NnPrediction[] = [], foldNscb: NnPrediction[] = [], foldCons: ApQuery[] = [];
    for (const { qry, cand, batch } of sets) {
      if (metrics.has('nsc')) {
        const r = nearestNeighbourMoa(qry, cand);
        foldNsc.push(...r.predictions);
        o.nscUn.push(...r.unanswerable);
      }
      if (metrics.has('nscb')) {
        const r = nearestNeighbourMoa(qry, cand, { excludeSameBatch: true });
        foldNscb.push(...r.predictions);
        o.nscbUn.push(...r.unanswerable);
      }
      if (metrics.has('map-consistency')) {
        const names = qry.compound.map((c, t) => `${c}@${qry.dose[t]}${batch !== undefined ? `@${batch}` : ''}`);
        foldCons.push(...consistencyQueries({ X: qry.X, labels: qry.label, compounds: qry.compound, names }, { X: cand.X, labels: cand.label, compounds: cand.compound }));
      }
    }
    o.nsc = foldNsc;
    o.nscb = foldNscb;
    o.cons = foldCons;
    if (metrics.has('nsc')) rec.nsc = summariseNn(foldNsc, []).accuracy;
    if (metrics.has('nscb')) rec.nscb = summariseNn(foldNscb, []).accuracy;
    if (metrics.has('map-consistency')) {
      const valid = foldCons.filter((a) => a.nPos > 0);
      rec.mapConsistency = valid.length ? valid.reduce((s, a) => s + a.ap, 0) / valid.length : NaN;
    }
    if (metrics.has('map-activity') && controlRows.length) {
      const testTreated = Array.from(fold.test).filter((i) => labelsAll[i] !== null && !isCtlRow(i));
      const rowsA = [...testTreated, ...controlRows];
      const grp = rowsA.map((i, r) => (r < testTreated.length ? `${compounds[i]}@${keys.dose ? keys.dose[i] : ''}` : null));
      const ctl = rowsA.map((_, r) => r >= testTreated.length);
      o.act.push(...activityQueries(takeRows(Y, rowsA), grp, ctl));
    }
    rec.seconds = (performance.now() - tf) / 1000;
    o.rec = rec;
    return o;
  };
  if (task) {
    // A worker thread's share of one representation and seed (foldThreads.ts): folds claimed one at a time.
    const folds = foldsFor(task.seed);
    const spec = reps[task.rep]!;
    const table = task.pairs ? pairTableFor(spec, folds, task.pairs) : undefined;
    for (let fi = task.claim(); fi < folds.length; fi = task.claim()) task.emit(fi, runFold(spec, task.seed, folds[fi]!, table));
    return undefined;
  }

  // Learners whose folds cost seconds (nested choices, the five-net ensembles) share their outer
  // folds over threads; every fold is the same computation wherever it runs and the outputs are
  // merged in fold order, so the results do not depend on the thread count.
  // Workers are started only when the folds left will take long enough to pay for their start-up.
  const threads = Math.max(1, Math.floor(opts.threads ?? threadCount()));
  const foldOutputs = (outerSpec: RepresentationSpec, seed: number, folds: Fold[], tick: (done: number) => void): FoldOutput[] => {
    // Inner leave-one-compound-out under this split: the folds share each pair's inner scores.
    const pairs = pairTableFor(outerSpec, folds);
    const one = (fold: Fold) => runFold(outerSpec, seed, fold, pairs);
    const outs: FoldOutput[] = [];
    const t = Math.min(threads, folds.length - 1);
    let k = 0;
    const t0 = performance.now();
    const onThreads = (start: number) => {
      const { reporter: _r, ...plain } = opts;
      const rest = runFoldsOnThreads<FoldOutput>({
        workerData: { input, opts: { ...plain, threads: 1 }, rep: reps.indexOf(outerSpec), seed, pairs: pairs?.buffer }, nFolds: folds.length, start, threads: t,
        local: (fi) => one(folds[fi]!), tick,
      });
      for (; k < folds.length; k++) outs[k] = rest[k]!;
      return outs;
    };
    // A nested correction choice costs seconds per fold (dozens of inner corrections and fits):
    // its workers start with the first fold rather than after it.
    if (t >= 2 && folds.length >= MIN_FOLDS_EARLY_THREADS && correctionChoiceOf(outerSpec)) return onThreads(0);
    if (folds.length) {
      outs[k] = one(folds[k]!);
      tick(++k);
    }
    if (t >= 2 && (performance.now() - t0) * (folds.length - 1) >= MIN_REST_MS_FOR_THREADS) return onThreads(1);
    for (; k < folds.length; k++) {
      outs[k] = one(folds[k]!);
      tick(k + 1);
    }
    return outs;
  };

  const foldRecords: FoldRecord[] = [];
  const summaries: RepresentationSummary[] = [];
  for (const outerSpec of reps) {
    const spec = outerSpec;
    const t0 = performance.now();
    const warnings: string[] = [];
    const seeded = seededSpec(spec) || split === 'kfold';
    const perSeed: Record<string, number[]> = {};
    const push = (k: string, v: number) => (perSeed[k] ??= []).push(v);
    let first: Pick<RepresentationSummary, 'nsc' | 'nscb' | 'consistency' | 'activity'> = {};
    let lastSeedResult: Record<string, number> | undefined;
    for (const seed of seeds) {
      if (!seeded && lastSeedResult) {
        // Deterministic learner and split: every seed gives the same numbers.
        for (const [k, v] of Object.entries(lastSeedResult)) push(k, v);
        continue;
      }
      const folds = foldsFor(seed);
      const prog = reporter.progress(`${spec.name} seed ${seed}`, folds.length);
      const nscPred: NnPrediction[] = [], nscbPred: NnPrediction[] = [];
      const nscUn: NnResult['unanswerable'] = [], nscbUn: NnResult['unanswerable'] = [];
      const consQ: ApQuery[] = [], actQ: ApQuery[] = [];
      const correctionChoice = correctionChoiceOf(outerSpec);
      const note = `${outerSpec.name}: chooses its batch correction per fold (${correctionChoice?.map((c) => c.name).join(', ')}), each refitted on every inner and outer training side; the evaluation's own correction does not apply to it`;
      if (correctionChoice && !notes.includes(note)) notes.push(note);
      const outs = foldOutputs(outerSpec, seed, folds, (k) => prog.tick(k));
      for (const o of outs) {
        for (const w of o.warnings) if (!warnings.includes(w)) warnings.push(w);
        nscPred.push(...o.nsc);
        nscbPred.push(...o.nscb);
        nscUn.push(...o.nscUn);
        nscbUn.push(...o.nscbUn);
        consQ.push(...o.cons);
        actQ.push(...o.act);
        foldRecords.push(o.rec);
      }
      prog.done();
      const seedResult: Record<string, number> = {};
      const nscR = summariseNn(nscPred, nscUn), nscbR = summariseNn(nscbPred, nscbUn);
      if (metrics.has('nsc')) seedResult.nsc = nscR.accuracy;
      if (metrics.has('nscb')) seedResult.nscb = nscbR.accuracy;
      let cons: MapResult | undefined, act: MapResult | undefined;
      if (metrics.has('map-consistency')) {
        cons = meanAveragePrecision(consQ, { nullSize, seed });
        seedResult['map-consistency'] = cons.meanMap;
        seedResult['map-consistency-baseline'] = cons.meanBaseline;
        seedResult['consistency-fraction-retrieved'] = cons.fractionRetrieved;
      }
      if (metrics.has('map-activity') && actQ.length) {
        act = meanAveragePrecision(actQ, { nullSize, seed });
        seedResult['map-activity'] = act.meanMap;
        seedResult['map-activity-baseline'] = act.meanBaseline;
        seedResult['activity-fraction-retrieved'] = act.fractionRetrieved;
      }
      if (!first.nsc && !first.consistency && !first.activity) {
        first = {
          nsc: metrics.has('nsc') ? nscR : undefined, nscb: metrics.has('nscb') ? nscbR : undefined,
          consistency: cons, activity: act,
        };
      }
      for (const [k, v] of Object.entries(seedResult)) push(k, v);
      lastSeedResult = seedResult;
    }
    const m: RepresentationSummary['metrics'] = {};
    for (const [k, v] of Object.entries(perSeed)) m[k as keyof RepresentationSummary['metrics']] = summarise(v);
    summaries.push({ name: spec.name, spec, metrics: m, ...first, seconds: (performance.now() - t0) / 1000, warnings });
    reporter.info(`${spec.name}: ${Object.entries(m).map(([k, s]) => `${k} ${s!.mean.toFixed(3)}`).join(', ')}`);
  }

  let dataLevel: DataLevelRetrieval | undefined;
  if (opts.dataLevel ?? true) {
    const seed = seeds[0] ?? 0;
    const tGroup = compounds.map((c, i) => (c !== null && !isCtlRow(i) ? `${c}@${keys.dose ? (keys.dose[i] ?? '') : ''}` : null));
    let activity: MapResult | undefined;
    if (controlRows.length) {
      activity = meanAveragePrecision(activityQueries(X64(), tGroup, Array.from({ length: n }, (_, i) => isCtlRow(i))), { nullSize, seed });
    }
    const names = allTreatments.compound.map((c, t) => `${c}@${allTreatments.dose[t]}`);
    const consistency = meanAveragePrecision(
      consistencyQueries({ X: allTreatments.X, labels: allTreatments.label, compounds: allTreatments.compound, names }), { nullSize, seed },
    );
    const treated = tGroup.filter((g) => g !== null).length;
    const pairs = (treated * (treated - 1)) / 2;
    dataLevel = {
      activity,
      consistency,
      percentReplicating: { form: PERCENT_REPLICATING_FORMS.jump, ...percentReplicating(X64(), tGroup, { seed, nullSize }) },
      replicateReproducibility: pairs <= MAX_REPLICATE_PAIRS
        ? { form: PERCENT_REPLICATING_FORMS.cytominerEval, ...replicateReproducibility(X64(), tGroup) }
        : { form: PERCENT_REPLICATING_FORMS.cytominerEval, skipped: `${treated} treated profiles give ${pairs} pairs (more than ${MAX_REPLICATE_PAIRS})` },
    };
  }

  let inSample: EvaluationResult['inSample'];
  if (opts.inSample ?? true) {
    const note = 'IN-SAMPLE (the study\'s protocol): ITML is trained on the same labels the clusters are scored against; not evidence of generalisation';
    try {
      // Controls are left unlabelled so that they are not a "mechanism" of the enrichment test.
      const lab = labelsAll.map((l, i) => (l !== null && !isCtlRow(i) ? l : null));
      const keepRows = lab.flatMap((l, i) => (l !== null ? [i] : []));
      const sub = subsetRows(input, keepRows);
      const withLab = { ...sub, meta: [...sub.meta.filter((c) => c.name !== opts.labelCol), { name: opts.labelCol, kind: 'string' as const, values: keepRows.map((i) => lab[i]!) }] };
      const params = presetParameters('paper', opts.labelCol);
      const a = analyse(withLab, params);
      const er: Record<string, number> = {};
      for (const [k, r] of Object.entries(a.representations)) if (r) er[k] = r.enrichment.enrichmentRatio;
      inSample = { note, enrichmentRatio: er };
    } catch (e) {
      inSample = { note, enrichmentRatio: {}, error: e instanceof Error ? e.message : String(e) };
    }
  }

  return {
    options: {
      labelCol: opts.labelCol, groupCol: opts.groupCol, doseCol: opts.doseCol, batchCol: opts.batchCol, controlLabels: controls,
      split, folds: foldsFor(seeds[0] ?? 0).length, seeds, normalization, nullSize, correction: opts.correction,
      ...(rule !== undefined ? { candidateBatch: rule } : {}),
    },
    rows: n,
    features: p.features.length,
    treatments: allTreatments.X.rows,
    compounds: nCompounds,
    representations: summaries,
    folds: foldRecords,
    inSample,
    dataLevel,
    notes,
  };
}

/** representation × metric table, "mean ± sd" (sd over seeds). */
export function formatEvaluationTable(r: EvaluationResult): string {
  const cols: [string, string][] = [
    ['nsc', 'NSC'], ['nscb', 'NSCB'], ['map-consistency', 'mAP MoA'], ['map-consistency-baseline', '(random)'],
    ['consistency-fraction-retrieved', 'MoA retr.'], ['map-activity', 'mAP activity'], ['map-activity-baseline', '(random)'],
    ['activity-fraction-retrieved', 'act. retr.'],
  ];
  const present = cols.filter(([k]) => r.representations.some((s) => s.metrics[k as keyof RepresentationSummary['metrics']]));
  const fmt = (s: MetricSummary | undefined) => (s ? (s.sd > 1e-9 ? `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}` : s.mean.toFixed(3)) : '–');
  const header = ['representation', ...present.map(([, h]) => h)];
  const rows = r.representations.map((s) => [s.name, ...present.map(([k]) => fmt(s.metrics[k as keyof RepresentationSummary['metrics']]))]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  const out = [
    `held-out ${r.options.split} (${r.options.folds} folds × seeds ${r.options.seeds.join(',')}): ${r.treatments} treatments of ${r.compounds} compounds`,
    line(header),
    ...rows.map(line),
  ];
  if (r.dataLevel) {
    const d = r.dataLevel;
    const a = d.activity;
    out.push(
      'data level (normalised profiles, nothing learned):',
      a ? `  replicate (activity) mAP ${a.meanMap.toFixed(3)} vs random ${a.meanBaseline.toFixed(3)}; ${(100 * a.fractionRetrieved).toFixed(1)} % of ${a.groups.length} treatments retrieved (q < ${a.threshold})` : '  replicate (activity) mAP: no control rows',
      `  MoA-consistency mAP ${d.consistency.meanMap.toFixed(3)} vs random ${d.consistency.meanBaseline.toFixed(3)}; ${(100 * d.consistency.fractionRetrieved).toFixed(1)} % of ${d.consistency.groups.length} labels retrieved`,
      `  percent replicating (JUMP form) ${(100 * d.percentReplicating.percentReplicating).toFixed(1)} % of ${d.percentReplicating.nGroups} treatments`,
      'fraction' in d.replicateReproducibility
        ? `  replicate reproducibility (cytominer-eval form) ${(100 * d.replicateReproducibility.fraction).toFixed(1)} % of ${d.replicateReproducibility.nReplicatePairs} replicate pairs${d.replicateReproducibility.nUndefinedPairs ? ` (${d.replicateReproducibility.nUndefinedPairs} pairs without a defined correlation left out)` : ''}`
        : `  replicate reproducibility (cytominer-eval form): not computed, ${d.replicateReproducibility.skipped}`,
    );
  }
  if (r.inSample) {
    const er = Object.entries(r.inSample.enrichmentRatio).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
    out.push(`in-sample enrichment ratio (study protocol, labels seen in training): ${er || r.inSample.error || '–'}`);
  }
  return out.join('\n');
}
