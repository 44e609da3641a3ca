/**
 * `phenomap predict evaluate|complete|train|rank`: activity prediction from image profiles
 * (issue 6; spec ../shared/spec/activity.md). Parsing and printing only; the work is in
 * src/predict (prepare, crossValidateActivity, report, saved-model) and src/io/activity.
 */
import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readActivityRecords, readMatrixMarketActivity } from '../../io/activity.js';
import { readProfileTables } from '../../io/readMany.js';
import { bbbc021Recipe, cellInjuryRecipe, lincsRecipe, CELL_INJURY_FILES, LINCS_FILES } from '../../io/recipes.js';
import { metaStrings, type Profiles } from '../../io/profiles.js';
import { aggregate } from '../../preprocess/aggregate.js';
import {
  ActivityMatrix, CellCountModel, KnnActivity, Macau, MultitaskNet, PerAssayLogistic, crossValidateActivity,
  heldOutCellMetrics, splitCells, type ModelSpec, type ModelEvaluation,
} from '../../predict/index.js';
import { prepareActivityData, type ActivitySource, type PreparedActivity } from '../../predict/prepare.js';
import { MacauWithStd, assembleOutOfFold, formatModelTable, modelReport, perAssayCsv, rateBaselines } from '../../predict/report.js';
import { parseSavedModel, trainActivityModel } from '../../predict/saved-model.js';
import {
  crossValidatedExpectation, fitCellCountBaseline, formatRanking, libraryCellCount, rankLibrary, rankingCsv, testedCompounds,
} from '../../predict/rank.js';
import type { Matrix } from '../../linalg/index.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { InputError, UsageError } from '../../util/errors.js';
import type { Reporter } from '../../util/log.js';
import { terminalReporter } from '../terminal.js';
import { intOption, listOption, numberOption, addMemoryOption, addTextOptions } from '../options.js';
import { outputFolder } from '../outputs.js';

const MODEL_NAMES = ['macau', 'mlp', 'logistic', 'knn', 'cellcount'] as const;
type ModelName = (typeof MODEL_NAMES)[number];

interface DataFlags {
  recipe?: 'bbbc021' | 'lincs' | 'cell-injury';
  data?: string;
  features?: string[];
  metadata?: string[];
  featurePrefix?: string[];
  activity?: string;
  compoundCol?: string;
  assayCol?: string;
  valueCol?: string;
  rows?: string;
  cols?: string;
  labelAssays?: string;
  labelSep: string;
  excludeLabels?: string[];
  duplicates: 'mean' | 'max' | 'last' | 'error';
  threshold: number;
  groupCol?: string;
  idCol?: string;
  aggregate?: string[];
  minPositiveCompounds: number;
  minNegativeCompounds: number;
  cellCountCol?: string;
  quiet?: boolean;
}

interface MacauFlags {
  latent: number;
  burnin: number;
  samples: number;
  seed: number;
}

interface EvaluateFlags extends DataFlags, MacauFlags {
  models: string[];
  folds: number;
  minPos: number;
  minNeg: number;
  topK: number;
  hidden: string[];
  epochs: number;
  knnK: number;
  out: string;
}

function json(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x instanceof Float64Array || x instanceof Int32Array ? Array.from(x) : x), 2) + '\n';
}

function addProfileOptions(cmd: Command): Command {
  return addTextOptions(addMemoryOption(cmd))
    .addOption(new Option('--recipe <name>', 'build the profiles from the public data sets instead of PROFILES').choices(['bbbc021', 'lincs', 'cell-injury']))
    .option('--data <dir>', 'data folder for --recipe (../shared/data layout)')
    .option('--features <list>', 'feature columns (names or globs), overriding detection', listOption)
    .option('--metadata <list>', 'columns forced to metadata (names or globs)', listOption)
    .option('--feature-prefix <list>', 'extra feature-name prefixes besides Cells_, Cytoplasm_, Nuclei_', listOption);
}

function addActivityOptions(cmd: Command): Command {
  return cmd
    .option('--activity <file>', 'activity table: long CSV/TSV/Parquet (compound, assay, value) or MatrixMarket .mtx')
    .option('--compound-col <name>', 'compound column of a long activity table', 'compound')
    .option('--assay-col <name>', 'assay column of a long activity table', 'assay')
    .option('--value-col <name>', 'value column of a long activity table (numbers or active/inactive)', 'value')
    .option('--rows <csv>', 'MatrixMarket row index CSV (compound names)')
    .option('--cols <csv>', 'MatrixMarket column index CSV (assay names)')
    .option('--label-assays <column>', 'instead of --activity: a metadata label column as one-vs-rest assays (e.g. Metadata_target)')
    .option('--label-sep <s>', 'separator of several labels in one cell', '|')
    .option('--exclude-labels <list>', 'labels that are not assays (e.g. DMSO); their compounds are unlabelled unless they carry others', listOption)
    .addOption(new Option('--duplicates <policy>', 'combining duplicate (compound, assay) cells').choices(['mean', 'max', 'last', 'error']).default('mean'))
    .option('--threshold <x>', 'value ≥ threshold is active (±1 labels and 0/1 both work with 0.5)', numberOption('--threshold'), 0.5)
    .option('--group-col <column>', 'compound column: CV folds keep its rows together; positives are counted per compound')
    .option('--id-col <column>', 'profile column matched to the activity table\'s compounds (default --group-col)')
    .option('--aggregate <list>', 'average rows per combination of these columns first (e.g. Metadata_compound,Metadata_concentration)', listOption)
    .option('--min-positive-compounds <n>', 'assays need this many active compounds (≥ 2: a held-out positive keeps one in training)', intOption('--min-positive-compounds', 1), 2)
    .option('--min-negative-compounds <n>', 'assays need this many inactive compounds', intOption('--min-negative-compounds', 1), 2)
    .option('--cell-count-col <column>', 'cell-count column for the cell-count-only baseline (default: detected; "" for none)')
    .option('-q, --quiet', 'nothing on stderr but errors');
}

function addMacauOptions(cmd: Command): Command {
  return cmd
    .option('--latent <k>', 'Macau latent dimensions', intOption('--latent', 1), 32)
    .option('--burnin <n>', 'Macau burn-in sweeps', intOption('--burnin', 0), 100)
    .option('--samples <n>', 'Macau kept samples', intOption('--samples', 1), 200)
    .option('--seed <n>', 'seed (folds, samplers, net initialisation)', intOption('--seed', 0), 0);
}

async function loadProfiles(file: string[], flags: DataFlags, reporter: Reporter): Promise<Profiles> {
  if ((file.length > 0) === !!flags.recipe) throw new UsageError('give either a PROFILES table or --recipe (not both)');
  if (flags.recipe) {
    if (!flags.data) throw new UsageError('--recipe needs --data <dir>');
    if (flags.recipe === 'bbbc021') return (await bbbc021Recipe(flags.data, reporter)).profiles;
    if (flags.recipe === 'lincs') return (await lincsRecipe(join(flags.data, LINCS_FILES.plate), join(flags.data, LINCS_FILES.annotations), reporter)).profiles;
    return (await cellInjuryRecipe(join(flags.data, CELL_INJURY_FILES.well), reporter)).profiles;
  }
  return (await readProfileTables(file, { reporter, features: flags.features, metadata: flags.metadata, featurePrefixes: flags.featurePrefix })).profiles;
}

async function prepare(file: string[], flags: DataFlags, reporter: Reporter): Promise<PreparedActivity> {
  if (!!flags.activity === !!flags.labelAssays) throw new UsageError('give either --activity FILE or --label-assays COLUMN');
  if (!flags.groupCol) throw new UsageError('--group-col <compound column> is required (folds and positives are per compound)');
  if ((flags.rows || flags.cols) && !flags.activity) throw new UsageError('--rows/--cols index a MatrixMarket --activity file');
  const profiles = await loadProfiles(file, flags, reporter);
  let activity: ActivitySource;
  let duplicateEntries: number | undefined;
  if (flags.activity) {
    const recs = await readActivityRecords(flags.activity, {
      compoundCol: flags.compoundCol, assayCol: flags.assayCol, valueCol: flags.valueCol, rowIndex: flags.rows, colIndex: flags.cols,
    });
    duplicateEntries = recs.duplicateEntries;
    activity = { kind: 'table', records: recs.records, duplicates: flags.duplicates };
  } else {
    activity = { kind: 'labels', column: flags.labelAssays!, separator: flags.labelSep, exclude: flags.excludeLabels };
  }
  const d = prepareActivityData(profiles, {
    groupCol: flags.groupCol, idCol: flags.idCol, aggregate: flags.aggregate, activity, threshold: flags.threshold,
    minPositiveCompounds: flags.minPositiveCompounds, minNegativeCompounds: flags.minNegativeCompounds,
    cellCountCol: flags.cellCountCol,
  });
  const r = d.report, t = r.table;
  const compounds = new Set(d.groups).size;
  reporter.info(`profiles: ${r.rowsIn} rows${flags.aggregate?.length ? ` → ${r.rowsAfterAggregate} after averaging per ${flags.aggregate.join(' + ')}` : ''}; ${d.X.rows} rows (${compounds} compounds) with activity, ${d.features.length} features`);
  if (r.droppedFeatures.length) reporter.warn(`${r.droppedFeatures.length} features with missing values dropped (e.g. ${r.droppedFeatures.slice(0, 3).join(', ')})`);
  if (r.labels) reporter.info(`label assays from ${flags.labelAssays}: ${r.labels.labelledCompounds} of ${r.labels.compounds} compounds labelled, ${r.labels.assays} labels`);
  if (r.labels?.inconsistentCompounds) reporter.warn(`${r.labels.inconsistentCompounds} compounds carry different labels on different rows (union used)`);
  if (flags.activity) reporter.info(`activity: ${t.records} records, ${t.used} matched to profile rows, ${t.assays} assays`);
  if (t.missingCompounds) reporter.warn(`${t.missingCompounds} compounds of the activity table (${t.recordsWithoutProfile} records) have no profile row (e.g. ${t.missingCompoundExamples.slice(0, 3).join(', ')})`);
  if (t.nonNumeric) reporter.warn(`${t.nonNumeric} non-numeric values skipped (e.g. data row ${t.nonNumericExamples[0]!.record + 1}: "${t.nonNumericExamples[0]!.value}")`);
  if (t.missingValues) reporter.warn(`${t.missingValues} empty/NA values skipped`);
  if (duplicateEntries) reporter.warn(`${duplicateEntries} duplicate (compound, assay) entries in ${flags.activity}`);
  if (t.duplicatesMerged) reporter.warn(`${t.duplicatesMerged} duplicate (compound, assay) cells merged by ${flags.duplicates}`);
  if (t.singleClassAssays.length) reporter.warn(`${t.singleClassAssays.length} assays with one class only (not scored): ${t.singleClassAssays.slice(0, 5).join(', ')}${t.singleClassAssays.length > 5 ? ', …' : ''}`);
  if (r.droppedAssays.length) reporter.info(`${r.droppedAssays.length} assays dropped (< ${flags.minPositiveCompounds} active or < ${flags.minNegativeCompounds} inactive compounds); ${d.assays.length} kept`);
  return d;
}

function dataSummary(d: PreparedActivity, flags: DataFlags, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { pos } = d.Y.classCounts(0.5);
  let p = 0;
  for (const x of pos) p += x;
  return {
    rows: d.X.rows, compounds: new Set(d.groups).size, features: d.features.length, assays: d.assays.length, cells: d.Y.nnz,
    activeShare: d.Y.nnz ? p / d.Y.nnz : null, cellCountColumn: d.cellCount?.name ?? null,
    source: flags.activity ? { activity: flags.activity } : { labelAssays: flags.labelAssays, excluded: flags.excludeLabels ?? [] },
    ...extra,
    report: { ...d.report, droppedAssays: d.report.droppedAssays },
  };
}

function evaluateAction(program: Command): void {
  const cmd = program
    .command('evaluate')
    .description('compound-grouped cross-validation of activity models; writes DIR/summary.json and DIR/per_assay.csv')
    .argument('[profiles...]', 'profile table (CSV, CSV.gz, TSV, Parquet; several are stacked); omit with --recipe');
  addProfileOptions(cmd);
  addActivityOptions(cmd);
  addMacauOptions(cmd);
  cmd
    .option('--models <list>', `comma-separated subset of ${MODEL_NAMES.join(', ')} (cellcount runs when a cell-count column exists)`, listOption)
    .option('--folds <k>', 'cross-validation folds (by compound)', intOption('--folds', 2), 5)
    .option('--min-pos <n>', 'a fold scores an assay only with ≥ n held-out actives', intOption('--min-pos', 1), 1)
    .option('--min-neg <n>', '… and ≥ n held-out inactives', intOption('--min-neg', 1), 1)
    .option('--top-k <k>', 'k of the top-k hit-rate fold enrichment', intOption('--top-k', 1), 10)
    .option('--hidden <list>', 'multitask net hidden layer sizes', listOption)
    .option('--epochs <n>', 'multitask net maximum epochs (early stopping on a validation split)', intOption('--epochs', 1), 200)
    .option('--knn-k <k>', 'neighbours of the kNN baseline', intOption('--knn-k', 1), 5)
    .requiredOption('-o, --out <dir>', 'output directory')
    .action(async (file: string[], flags: EvaluateFlags) => {
      const reporter = terminalReporter({ quiet: flags.quiet });
      const models = (flags.models?.length ? flags.models : [...MODEL_NAMES]).map((m) => {
        if (!MODEL_NAMES.includes(m as ModelName)) throw new UsageError(`unknown model "${m}" (choose from ${MODEL_NAMES.join(', ')})`);
        return m as ModelName;
      });
      const hidden = (flags.hidden ?? ['512', '512']).map((h) => {
        const n = Number(h);
        if (!Number.isInteger(n) || n < 1) throw new UsageError(`--hidden sizes must be positive integers, got "${h}"`);
        return n;
      });
      const d = await prepare(file, flags, reporter);
      const nGroups = new Set(d.groups).size;
      if (nGroups < flags.folds) throw new InputError(`${nGroups} compounds cannot fill ${flags.folds} folds`);
      const macauStd: Matrix[] = [];
      const specs: ModelSpec[] = [];
      const macauOpts = { numLatent: flags.latent, burnin: flags.burnin, nsamples: flags.samples, seed: flags.seed };
      for (const m of models) {
        if (m === 'macau') specs.push({ name: 'macau', create: () => new MacauWithStd(macauOpts, macauStd) });
        else if (m === 'mlp') specs.push({ name: 'mlp', create: () => new MultitaskNet({ hidden, maxEpochs: flags.epochs, seed: flags.seed }) });
        else if (m === 'logistic') specs.push({ name: 'logistic', create: () => new PerAssayLogistic() });
        else if (m === 'knn') specs.push({ name: 'knn', create: () => new KnnActivity({ k: flags.knnK }) });
      }
      const cvOpts = { k: flags.folds, seed: flags.seed, groups: d.groups, minPos: flags.minPos, minNeg: flags.minNeg, topK: flags.topK, reporter };
      const results: ModelEvaluation[] = [];
      let folds: { test: Int32Array }[] = [];
      if (specs.length) {
        const cv = crossValidateActivity(specs, d.X, d.Y, cvOpts);
        results.push(...cv.results);
        folds = cv.folds;
      }
      const notes: string[] = [];
      if (models.includes('cellcount')) {
        if (d.cellCount) {
          const cv = crossValidateActivity([{ name: 'cellcount', create: () => new CellCountModel(0) }], d.cellCount.X, d.Y, cvOpts);
          results.push(...cv.results);
          folds = cv.folds;
          notes.push(`cellcount: logistic regression on "${d.cellCount.name}" alone`);
        } else {
          notes.push('cellcount: skipped, no cell-count column in the profiles');
        }
      }
      if (!results.length) throw new UsageError('no model to evaluate');
      const reports = results.map((r) => modelReport(r, d.Y, {
        topK: flags.topK,
        std: r.model === 'macau' ? assembleOutOfFold(macauStd, folds, d.X.rows, d.Y.cols) : undefined,
      }));
      const summary = {
        command: 'predict evaluate',
        protocol: {
          cv: `${flags.folds}-fold, grouped by ${flags.groupCol}`, folds: flags.folds, seed: flags.seed, groupCol: flags.groupCol, idCol: flags.idCol ?? flags.groupCol,
          aggregate: flags.aggregate ?? [], threshold: flags.threshold,
          minPositiveCompounds: flags.minPositiveCompounds, minNegativeCompounds: flags.minNegativeCompounds,
          foldMinPos: flags.minPos, foldMinNeg: flags.minNeg, topK: flags.topK,
          auc: 'per assay: mean of fold AUCs over folds with ≥ min-pos actives and ≥ min-neg inactives held out; pooledAuc: AUC of all out-of-fold scores',
          macau: { numLatent: flags.latent, burnin: flags.burnin, nsamples: flags.samples, noise: 'probit' },
          mlp: { hidden, maxEpochs: flags.epochs, dropout: 0.3, validationFraction: 0.2 },
          knn: { k: flags.knnK },
        },
        data: dataSummary(d, flags),
        models: reports,
        notes,
      };
      writeFileAtomic(join(outputFolder(flags.out), 'summary.json'), json(summary));
      writeFileAtomic(join(outputFolder(flags.out), 'per_assay.csv'), perAssayCsv(results, d.assays, d.positiveCompounds));
      process.stdout.write(`${formatModelTable(reports)}\n`);
      const mac = reports.find((r) => r.uncertainty);
      if (mac?.uncertainty) {
        process.stdout.write(`macau sd: mean ${mac.uncertainty.meanSd.toFixed(3)}, labels inside p ± 1.96 sd ${(100 * mac.uncertainty.coverage95).toFixed(1)}%, AUC of sd for errors ${mac.uncertainty.errorAuc.toFixed(3)}\n`);
      }
      for (const n of notes) process.stdout.write(`note: ${n}\n`);
      process.stdout.write(`wrote ${flags.out}/summary.json, per_assay.csv\n`);
    });
}

interface CompleteFlags extends MacauFlags {
  rows?: string;
  cols?: string;
  holdout: number;
  noise: 'auto' | 'probit' | 'adaptive';
  threshold: number;
  minPos: number;
  minNeg: number;
  out: string;
  quiet?: boolean;
}

function completeAction(program: Command): void {
  const cmd = program
    .command('complete')
    .description('held-out cell completion of an activity matrix without side information (Macau/BPMF); writes DIR/summary.json and DIR/per_assay.csv')
    .argument('<matrix>', 'MatrixMarket coordinate file (.mtx, .mtx.gz)')
    .option('--rows <csv>', 'row index CSV (compound names)')
    .option('--cols <csv>', 'column index CSV (assay names)')
    .option('--holdout <share>', 'share of observed cells held out', numberOption('--holdout', 0.001, 0.9), 0.2)
    .addOption(new Option('--noise <kind>', 'auto: probit when the values are binary (0/1 or ±1), else adaptive Gaussian').choices(['auto', 'probit', 'adaptive']).default('auto'))
    .option('--threshold <x>', 'value ≥ threshold is active', numberOption('--threshold'), 0.5)
    .option('--min-pos <n>', 'per-assay AUC needs ≥ n held-out actives', intOption('--min-pos', 1), 5)
    .option('--min-neg <n>', '… and ≥ n held-out inactives', intOption('--min-neg', 1), 5)
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('-q, --quiet', 'nothing on stderr but errors');
  addMacauOptions(cmd);
  cmd.action(async (file: string, flags: CompleteFlags) => {
    const reporter = terminalReporter({ quiet: flags.quiet });
    const mm = await readMatrixMarketActivity(file, { rows: flags.rows, cols: flags.cols });
    const Y = ActivityMatrix.fromCOO(mm.rows, mm.cols, mm.rowIdx, mm.colIdx, mm.values, { duplicates: 'mean' });
    if (mm.duplicateEntries) reporter.warn(`${mm.duplicateEntries} duplicate entries merged (mean)`);
    const distinct = new Set(Y.rowVal);
    const binary = distinct.size <= 2 && [...distinct].every((v) => v === 0 || v === 1 || v === -1);
    const probit = flags.noise === 'probit' || (flags.noise === 'auto' && binary);
    reporter.info(`${file}: ${mm.rows} × ${mm.cols}, ${Y.nnz} observed cells (${(100 * Y.nnz / (mm.rows * mm.cols)).toFixed(2)}%), ${probit ? 'probit' : 'adaptive Gaussian'} noise`);
    const { train, test } = splitCells(Y, flags.holdout, flags.seed);
    const t0 = performance.now();
    const macau = new Macau({
      numLatent: flags.latent, burnin: flags.burnin, nsamples: flags.samples, seed: flags.seed, keepLatent: false,
      noise: probit ? { kind: 'probit', threshold: flags.threshold } : { kind: 'adaptive' }, reporter,
    }).fit(train, undefined, { track: test });
    const seconds = (performance.now() - t0) / 1000;
    const metricOpts = { probit, threshold: flags.threshold, minPos: flags.minPos, minNeg: flags.minNeg };
    const mac = heldOutCellMetrics(test, macau.tracked!, metricOpts);
    const base = rateBaselines(train, test, flags.threshold);
    const zero = new Float64Array(test.length);
    const asBase = (s: Float64Array) => heldOutCellMetrics(test, { mean: s, std: zero, predictiveStd: zero }, { ...metricOpts, probit: true });
    const assayRate = asBase(base.assayRate), compoundRate = asBase(base.compoundRate);
    const strip = (h: ReturnType<typeof heldOutCellMetrics>) => ({ ...h, perAssay: undefined });
    const summary = {
      command: 'predict complete',
      protocol: {
        holdout: flags.holdout, seed: flags.seed, noise: probit ? 'probit' : 'adaptive', threshold: flags.threshold,
        numLatent: flags.latent, burnin: flags.burnin, nsamples: flags.samples, sideInformation: 'none', minPos: flags.minPos, minNeg: flags.minNeg,
        rmse: probit ? 'root Brier score: RMSE of the predicted probability against the 0/1 label' : 'RMSE of the posterior mean',
        baselineRmse: 'baselines score probabilities: their RMSE is against the 0/1 label (root Brier), whatever the noise model',
      },
      data: { file, rows: mm.rows, cols: mm.cols, entries: mm.values.length, cells: Y.nnz, trainCells: train.nnz, testCells: test.length, duplicateEntries: mm.duplicateEntries, field: mm.field },
      macau: { ...strip(mac), seconds, secondsPerSweep: seconds / (flags.burnin + flags.samples) },
      baselines: { assayRate: strip(assayRate), compoundRate: strip(compoundRate) },
    };
    const lines = ['model,assay,n_pos,n_neg,auc,ef1,ef5,topk_enrichment'];
    for (const [name, h] of [['macau', mac], ['compound_rate', compoundRate]] as const) {
      for (const a of h.perAssay) lines.push([name, mm.colNames[a.assay], a.nPos, a.nNeg, a.auc, a.ef1, a.ef5, a.topKEnrichment].map((v) => (typeof v === 'number' && !Number.isFinite(v) ? '' : String(v))).join(','));
    }
    writeFileAtomic(join(outputFolder(flags.out), 'summary.json'), json(summary));
    writeFileAtomic(join(outputFolder(flags.out), 'per_assay.csv'), lines.join('\n') + '\n');
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');
    const row = (name: string, h: ReturnType<typeof heldOutCellMetrics>) =>
      `${name.padEnd(14)} ${f(h.auc).padStart(10)} ${String(h.summary.scored).padStart(7)} ${f(h.summary.meanAuc).padStart(9)} ${f(h.summary.medianAuc).padStart(9)} ${`${h.summary.above09} (${(100 * h.summary.shareAbove09).toFixed(0)}%)`.padStart(10)} ${f(h.rmse).padStart(8)} ${f(h.coverage95).padStart(9)}`;
    process.stdout.write(`${'model'.padEnd(14)} ${'global AUC'.padStart(10)} ${'assays'.padStart(7)} ${'mean AUC'.padStart(9)} ${'med AUC'.padStart(9)} ${'AUC>0.9'.padStart(10)} ${(probit ? 'RMSE(p)' : 'RMSE').padStart(8)} ${'cover95'.padStart(9)}\n`);
    process.stdout.write(`${row('macau', mac)}\n${row('assay rate', assayRate)}\n${row('compound rate', compoundRate)}\n`);
    if (!probit) process.stdout.write('note: baseline RMSE is of a probability against the 0/1 label; Macau\'s is on the value scale\n');
    process.stdout.write(`${test.length} held-out cells; Macau ${seconds.toFixed(1)} s (${flags.burnin} burn-in + ${flags.samples} samples, K = ${flags.latent})\n`);
    process.stdout.write(`wrote ${flags.out}/summary.json, per_assay.csv\n`);
  });
}

interface TrainFlags extends DataFlags, MacauFlags {
  model: 'macau' | 'mlp';
  hidden?: string[];
  epochs: number;
  cvFolds: number;
  out: string;
}

function trainAction(program: Command): void {
  const cmd = program
    .command('train')
    .description('train Macau or the multitask net on profiles + activity; writes one model JSON (features, standardisation, assays, model)')
    .argument('[profiles...]', 'profile table (several are stacked); omit with --recipe');
  addProfileOptions(cmd);
  addActivityOptions(cmd);
  addMacauOptions(cmd);
  cmd
    .addOption(new Option('--model <kind>', 'model to train').choices(['macau', 'mlp']).default('macau'))
    .option('--hidden <list>', 'multitask net hidden layer sizes (default 512,512)', listOption)
    .option('--epochs <n>', 'multitask net maximum epochs', intOption('--epochs', 1), 200)
    .option('--cv-folds <k>', 'compound-grouped CV folds whose held-out AUC and enrichment `rank` reports as expected (0: none)', intOption('--cv-folds', 0), 5)
    .requiredOption('-o, --out <model.json>', 'output model file')
    .action(async (file: string[], flags: TrainFlags) => {
      const reporter = terminalReporter({ quiet: flags.quiet });
      const hidden = (flags.hidden ?? ['512', '512']).map((h) => {
        const n = Number(h);
        if (!Number.isInteger(n) || n < 1) throw new UsageError(`--hidden sizes must be positive integers, got "${h}"`);
        return n;
      });
      if (flags.cvFolds === 1) throw new UsageError('--cv-folds must be 0 (none) or at least 2');
      const d = await prepare(file, flags, reporter);
      const t0 = performance.now();
      const macauOpts = { numLatent: flags.latent, burnin: flags.burnin, nsamples: flags.samples, seed: flags.seed };
      const mlpOpts = { hidden, maxEpochs: flags.epochs, seed: flags.seed };
      const model = trainActivityModel(flags.model, d.X, d.features, d.Y, d.assays, {
        macau: macauOpts, mlp: mlpOpts, groups: d.groups, threshold: flags.threshold, reporter,
        trainedOn: {
          profiles: file.length ? file.join(', ') : `recipe ${flags.recipe}`, activity: flags.activity ?? `labels ${flags.labelAssays}`, idCol: flags.idCol ?? flags.groupCol!,
          groupCol: flags.groupCol!, aggregate: (flags.aggregate ?? []).join(','), rows: d.X.rows, compounds: new Set(d.groups).size, cells: d.Y.nnz,
        },
      });
      model.tested = testedCompounds(d.ids, d.Y, d.assays);
      model.cellCount = d.cellCount ? fitCellCountBaseline(d.cellCount.X, d.cellCount.name, d.Y) : null;
      if (flags.cvFolds >= 2) {
        const nGroups = new Set(d.groups).size;
        if (nGroups < flags.cvFolds) throw new InputError(`${nGroups} compounds cannot fill ${flags.cvFolds} cross-validation folds (--cv-folds)`);
        reporter.info(`${flags.cvFolds}-fold cross-validation by ${flags.groupCol} for the expected enrichment`);
        model.expected = crossValidatedExpectation(flags.model, d.X, d.Y, d.assays, {
          folds: flags.cvFolds, seed: flags.seed, groups: d.groups, groupedBy: flags.groupCol!, macau: macauOpts, mlp: mlpOpts, reporter,
        }, d.cellCount?.X ?? null);
      } else model.expected = null;
      writeFileAtomic(flags.out, JSON.stringify(model) + '\n');
      process.stdout.write(`trained ${flags.model} on ${d.X.rows} rows × ${d.features.length} features, ${d.assays.length} assays, ${d.Y.nnz} cells in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      process.stdout.write(`wrote ${flags.out}\n`);
    });
}

interface RankFlags {
  model: string;
  assay: string;
  idCol?: string;
  aggregate?: string[];
  top: number;
  out?: string;
  includeTested?: boolean;
  features?: string[];
  metadata?: string[];
  featurePrefix?: string[];
  quiet?: boolean;
}

function rankAction(program: Command): void {
  program
    .command('rank')
    .description('the untested compounds of a profile library most likely active in one assay: model probability, Macau sd, the cell-count baseline beside it, and the hit-rate enrichment cross-validation expects for the top')
    .argument('<library...>', 'profile table of the library (several are stacked)')
    .requiredOption('--model <model.json>', 'model written by `phenomap predict train`')
    .requiredOption('--assay <name>', 'assay to rank for')
    .option('--id-col <column>', 'compound id column of the library (default: the training id column when present); rows of one compound are averaged')
    .option('--aggregate <list>', 'average library rows per combination of these columns first (e.g. compound, dose)', listOption)
    .option('--top <n>', 'rows printed, and the top the expected enrichment is given for', intOption('--top', 1), 50)
    .option('--include-tested', 'also rank the compounds the model was trained on for this assay (marked with their result)')
    .option('--out <ranked.csv>', 'write the whole ranking (rank, compound, probability, sd, cellcount_probability, cellcount_rank, tested)')
    .option('--features <list>', 'feature columns (names or globs), overriding detection', listOption)
    .option('--metadata <list>', 'columns forced to metadata (names or globs)', listOption)
    .option('--feature-prefix <list>', 'extra feature-name prefixes besides Cells_, Cytoplasm_, Nuclei_', listOption)
    .option('-q, --quiet', 'nothing on stderr but errors')
    .action(async (file: string[], flags: RankFlags) => {
      const reporter = terminalReporter({ quiet: flags.quiet });
      let text: string;
      try {
        text = readFileSync(flags.model, 'utf8');
      } catch {
        throw new InputError(`${flags.model}: model file not found or unreadable`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new InputError(`${flags.model}: not valid JSON`);
      }
      const model = parseSavedModel(parsed, flags.model);
      let profiles = (await readProfileTables(file, { reporter, features: flags.features, metadata: flags.metadata, featurePrefixes: flags.featurePrefix })).profiles;
      if (flags.aggregate?.length) profiles = aggregate(profiles, { strata: flags.aggregate, operation: 'mean' }).profiles;
      const trainedId = String(model.trainedOn.idCol ?? '');
      const idCol = flags.idCol ?? (profiles.meta.some((m) => m.name === trainedId) ? trainedId : undefined);
      const ids = idCol ? metaStrings(profiles, idCol).map((v, i) => v ?? `row ${i + 1}`) : Array.from({ length: profiles.X.rows }, (_, i) => `row ${i + 1}`);
      const cellCount = model.cellCount ? libraryCellCount(profiles, model.cellCount.column) : null;
      const r = rankLibrary(model, profiles.X, profiles.features, { assay: flags.assay, ids, cellCount, includeTested: flags.includeTested, top: flags.top }, file.join(', '));
      if (flags.out) writeFileAtomic(flags.out, rankingCsv(r));
      process.stdout.write(`${formatRanking(r, flags.top)}\n`);
      if (flags.out) process.stdout.write(`wrote ${flags.out}\n`);
    });
}

export function register(program: Command): void {
  const predict = program
    .command('predict')
    .description('activity prediction from image profiles: evaluate (grouped CV), complete (matrix completion), train, rank');
  evaluateAction(predict);
  completeAction(predict);
  trainAction(predict);
  rankAction(predict);
}
