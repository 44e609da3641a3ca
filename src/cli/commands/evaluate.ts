import { Option, type Command } from 'commander';
import { spreadsheetSafe } from '../../util/csvSafe.js';
import { join } from 'node:path';
import { readProfileTables } from '../../io/readMany.js';
import { bbbc021Recipe, cellInjuryRecipe, lincsRecipe, CELL_INJURY_FILES, LINCS_FILES } from '../../io/recipes.js';
import type { Profiles } from '../../io/profiles.js';
import type { StoredMatrix } from '../../linalg/matrix.js';
import {
  evaluate, formatEvaluationTable, parseRepresentationList, BUILTIN_REPRESENTATIONS, METRICS, type MetricName, type NormalizationChoice, type EvaluationResult,
} from '../../evaluate/protocol.js';
import { CANDIDATE_BATCH_RULES, SPLIT_KINDS, type CandidateBatchRule, type SplitKind } from '../../evaluate/splits.js';
import { compareCorrections, correctionRecords, formatCorrectionTable, type CorrectionChoice } from '../../evaluate/batchProtocol.js';
import { CORRECTION_NAMES, parseCorrectionOptions, type CorrectionName } from '../../batch/registry.js';
import { writeProfiles } from '../../io/write.js';
import type { NormalizeMethod } from '../../preprocess/normalize.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { UsageError } from '../../util/errors.js';
import { terminalReporter } from '../terminal.js';
import { addMemoryOption, addTextOptions, intOption, listOption } from '../options.js';
import { outputFolder, requireCompleteInputs } from '../outputs.js';
import { PCA_SOLVERS, type PcaSolver } from '../../represent/pca.js';

interface EvaluateFlags {
  labelCol?: string;
  groupCol?: string;
  doseCol?: string;
  batchCol?: string;
  controlLabel?: string[];
  split: SplitKind;
  candidateBatch?: CandidateBatchRule;
  folds: number;
  seeds: number;
  representations: string;
  metrics?: string[];
  normalize: string;
  normSamples?: string;
  normStrata?: string[];
  nullSize: number;
  inSample: boolean;
  dataLevel: boolean;
  recipe?: 'bbbc021' | 'lincs' | 'cell-injury';
  data?: string;
  out: string;
  features?: string[];
  metadata?: string[];
  featurePrefix?: string[];
  float32?: boolean;
  pcaSolver?: PcaSolver;
  correct?: string[];
  correctOpt?: string[];
  correctBatchCol?: string;
  correctFit?: 'training' | 'all';
  saveCorrected?: boolean;
  quiet?: boolean;
}

/** Column defaults per recipe (flags override). */
const RECIPE_COLUMNS: Record<string, { label: string; group: string; dose?: string; batch?: string; controls?: string[] }> = {
  bbbc021: { label: 'Metadata_moa', group: 'Metadata_compound', dose: 'Metadata_concentration', batch: 'Metadata_batch' },
  // One plate, one well per compound and dose: a compound's doses are its only replicates, and there is no second batch.
  lincs: { label: 'Metadata_moa', group: 'Metadata_pert_iname' },
  'cell-injury': { label: 'Metadata_injury_type', group: 'Metadata_compound', dose: 'Compound Concentration (microMolar)', batch: 'Plate', controls: ['DMSO', 'Control'] },
};

function csvCell(v: unknown): string {
  const s = typeof v === 'number' ? (Number.isNaN(v) ? '' : String(v)) : String(v ?? '');
  const t = typeof v === 'string' ? spreadsheetSafe(s) : s;
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/** One row per representation × seed × outer fold; a nested choice adds what it chose and its inner scores. */
export function foldsCsv(r: EvaluationResult): string {
  const head = ['representation', 'seed', 'fold', 'held_out', 'queries', 'nsc', 'nscb', 'map_consistency', 'seconds', 'chosen', 'inner_nsc', 'chosen_correction', 'inner_nscb', 'inner_mrr'];
  const lines = r.folds.map((f) => [
    f.representation, f.seed, f.fold, f.heldOut, f.queries, f.nsc, f.nscb, f.mapConsistency, f.seconds.toFixed(3), f.chosen ?? '', f.innerNsc ?? '',
    f.chosenCorrection ?? '', f.innerNscb ?? '', f.innerMrr ?? '',
  ].map(csvCell).join(','));
  return [head.join(','), ...lines].join('\n') + '\n';
}

function perLabelCsv(r: EvaluationResult): string {
  const head = ['representation', 'metric', 'label', 'value', 'n', 'random_baseline', 'p_value', 'q_value', 'retrieved'];
  const out: string[] = [head.join(',')];
  for (const s of r.representations) {
    for (const [metric, res] of [['nsc', s.nsc], ['nscb', s.nscb]] as const) {
      if (!res) continue;
      for (const [l, e] of Object.entries(res.perLabel)) out.push([s.name, metric, l, e.accuracy, e.total, '', '', '', ''].map(csvCell).join(','));
    }
    for (const [metric, res] of [['map_consistency', s.consistency], ['map_activity', s.activity]] as const) {
      if (!res) continue;
      for (const g of res.groups) out.push([s.name, metric, g.group, g.mAP, g.nQueries, g.baseline, g.pValue, g.qValue, g.retrieved].map(csvCell).join(','));
    }
  }
  const d = r.dataLevel;
  if (d) {
    for (const [metric, res] of [['map_consistency', d.consistency], ['map_activity', d.activity]] as const) {
      if (!res) continue;
      for (const g of res.groups) out.push(['data-level', metric, g.group, g.mAP, g.nQueries, g.baseline, g.pValue, g.qValue, g.retrieved].map(csvCell).join(','));
    }
  }
  return out.join('\n') + '\n';
}

export function register(program: Command): void {
  addTextOptions(addMemoryOption(program
    .command('evaluate')))
    .description('held-out evaluation by compound: NSC/NSCB 1-NN MoA accuracy, MoA-consistency and activity mAP for raw, PCA, ITML and LDA; writes DIR/summary.json, folds.csv, per_label.csv')
    .argument('[profiles...]', 'profile table (CSV, CSV.gz, TSV, Parquet; several files, a glob or a folder are stacked); omit with --recipe')
    .option('--label-col <column>', 'MoA label column (default Metadata_moa, or the recipe\'s)')
    .option('--group-col <column>', 'compound column: splits never separate its rows (required without --recipe)')
    .option('--dose-col <column>', 'concentration column: treatment = compound + dose')
    .option('--batch-col <column>', 'batch column for NSCB, --correct and --split leave-batch-out (BBBC021: Metadata_batch = WeekN)')
    .option('--control-label <list>', 'labels/compounds that are controls (default DMSO)', listOption)
    .addOption(new Option('--split <kind>', 'compound-grouped split').choices([...SPLIT_KINDS]).default('loco'))
    .addOption(new Option('--candidate-batch <rule>', 'score each query against candidates on its own batch (same), on the other batches (others) or on any (all), from both sides of each fold (needs --batch-col; default: the training treatments, any batch)').choices([...CANDIDATE_BATCH_RULES]))
    .option('--folds <k>', 'folds for --split kfold', intOption('--folds', 2), 5)
    .option('--seeds <n>', 'number of seeds (0..n−1): ITML constraints, k-fold assignment', intOption('--seeds', 1), 1)
    .option('--representations <list>', `comma-separated: ${Object.keys(BUILTIN_REPRESENTATIONS).join(', ')}`, 'raw,pca,itml,lda-proj')
    .option('--metrics <list>', `subset of ${METRICS.join(', ')}`, listOption)
    .addOption(new Option('--normalize <method>', 'label-free normalisation before splitting').choices(['zscore', 'none', 'standardize', 'robustize', 'mad_robustize']).default('zscore'))
    .option('--norm-samples <query>', 'reference rows for --normalize standardize/robustize/mad_robustize, e.g. "Metadata_compound == DMSO"')
    .option('--norm-strata <list>', 'normalise each value of these columns separately (e.g. Metadata_plate)', listOption)
    .option('--null-size <n>', 'permutation null size of the mAP p-values', intOption('--null-size', 1), 1000)
    .option('--no-in-sample', 'skip the study\'s in-sample enrichment ratios')
    .option('--no-data-level', 'skip the data-level retrieval (activity/consistency mAP, percent replicating on the normalised profiles)')
    .addOption(new Option('--recipe <name>', 'build the table from the public data sets').choices(['bbbc021', 'lincs', 'cell-injury']))
    .option('--data <dir>', 'data folder for --recipe (../shared/data layout)')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--features <list>', 'feature columns (names or globs), overriding detection', listOption)
    .option('--metadata <list>', 'columns forced to metadata (names or globs)', listOption)
    .option('--feature-prefix <list>', 'extra feature-name prefixes besides Cells_, Cytoplasm_, Nuclei_', listOption)
    .option('--float32', 'hold the feature table as float32 (half the memory; every sum still float64)')
    .addOption(new Option('--pca-solver <solver>', 'solver of every PCA step: exact (full), randomized, gram (float32 Gram, rows ≤ features), or auto').choices([...PCA_SOLVERS]).default('auto'))
    .option('--correct <list>', `batch corrections to compare with none (needs --batch-col): ${CORRECTION_NAMES.join(', ')}; controls = the --control-label rows`, listOption)
    .option('--correct-opt <list>', 'correction options, method.key=value (e.g. harmony.nClusters=50,sphere.shrinkage=0.1)', listOption)
    .option('--correct-batch-col <column>', 'column the corrections treat as batches (default --batch-col; e.g. correct per plate, judge NSCB per week)')
    .addOption(new Option('--correct-fit <rows>', 'rows each correction is fitted on for the held-out figures: training (refitted per fold on the training side) or all (once on every row)').choices(['training', 'all']).default('training'))
    .option('--save-corrected', 'also write each corrected table (DIR/corrected_<method>.parquet)')
    .option('-q, --quiet', 'nothing on stderr but errors')
    .action(async (file: string[], flags: EvaluateFlags) => {
      const reporter = terminalReporter({ quiet: flags.quiet });
      if ((file.length > 0) === !!flags.recipe) throw new UsageError('give either a PROFILES table or --recipe (not both)');
      requireCompleteInputs(file);
      let profiles: Profiles<StoredMatrix>;
      const defaults = flags.recipe ? RECIPE_COLUMNS[flags.recipe]! : undefined;
      if (flags.recipe) {
        if (!flags.data) throw new UsageError('--recipe needs --data <dir>');
        if (flags.recipe === 'bbbc021') profiles = (await bbbc021Recipe(flags.data, reporter)).profiles;
        else if (flags.recipe === 'lincs') profiles = (await lincsRecipe(join(flags.data, LINCS_FILES.plate), join(flags.data, LINCS_FILES.annotations), reporter)).profiles;
        else profiles = (await cellInjuryRecipe(join(flags.data, CELL_INJURY_FILES.well), reporter)).profiles;
      } else {
        profiles = (await readProfileTables(file, {
          reporter, features: flags.features, metadata: flags.metadata, featurePrefixes: flags.featurePrefix, precision: flags.float32 ? 'float32' : 'float64',
        })).profiles;
      }
      const groupCol = flags.groupCol ?? defaults?.group;
      if (!groupCol) throw new UsageError('--group-col <compound column> is required: splits are by compound');
      let normalization: NormalizationChoice;
      if (flags.normalize === 'zscore' || flags.normalize === 'none') {
        if (flags.normSamples || flags.normStrata) throw new UsageError('--norm-samples/--norm-strata need --normalize standardize, robustize or mad_robustize');
        normalization = flags.normalize;
      } else {
        normalization = { method: flags.normalize as NormalizeMethod, samples: flags.normSamples, strata: flags.normStrata };
      }
      const metrics = flags.metrics?.map((m) => {
        if (!METRICS.includes(m as MetricName)) throw new UsageError(`unknown metric "${m}" (choose from ${METRICS.join(', ')})`);
        return m as MetricName;
      });
      const base = {
        labelCol: flags.labelCol ?? defaults?.label ?? 'Metadata_moa',
        groupCol,
        doseCol: flags.doseCol ?? defaults?.dose,
        batchCol: flags.batchCol ?? defaults?.batch,
        controlLabels: flags.controlLabel?.length ? flags.controlLabel : defaults?.controls,
        split: flags.split,
        candidateBatch: flags.candidateBatch,
        folds: flags.folds,
        seeds: Array.from({ length: flags.seeds }, (_, i) => i),
        representations: parseRepresentationList(flags.representations),
        metrics,
        normalization,
        nullSize: flags.nullSize,
        inSample: flags.inSample,
        dataLevel: flags.dataLevel,
        pcaSolver: flags.pcaSolver,
        reporter,
      };
      const dir = outputFolder(flags.out);
      const corrections = (flags.correct ?? []).filter((c) => c !== 'none');
      if (flags.correctOpt?.length && !corrections.length) throw new UsageError('--correct-opt needs --correct');
      if (corrections.length) {
        for (const c of corrections) {
          if (!CORRECTION_NAMES.includes(c as CorrectionName)) throw new UsageError(`--correct: unknown correction "${c}" (choose from none, ${CORRECTION_NAMES.join(', ')})`);
        }
        if (!base.batchCol) throw new UsageError('--correct needs --batch-col <column>');
        const cmp = compareCorrections(profiles, {
          ...base, corrections: corrections as CorrectionChoice[], correctionBatchCol: flags.correctBatchCol, correctionFit: flags.correctFit,
          correctionOptions: parseCorrectionOptions(flags.correctOpt ?? [], corrections as CorrectionName[]), keepCorrected: flags.saveCorrected,
        });
        const records = correctionRecords(cmp);
        const summary = {
          batchCol: cmp.batchCol, correctionBatchCol: cmp.correctionBatchCol, batchCorrections: records,
          notes: Object.fromEntries(cmp.rows.map((r) => [r.correction, r.notes])),
          mixing: Object.fromEntries(cmp.rows.map((r) => [r.correction, r.mixing])),
          evaluations: Object.fromEntries(Object.entries(cmp.evaluations).map(([k, e]) => [k, { ...e, representations: e.representations.map((s) => ({ name: s.name, metrics: s.metrics, warnings: s.warnings })), folds: undefined }])),
        };
        writeFileAtomic(join(dir, 'summary.json'), JSON.stringify(summary, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
        const head = Object.keys(records[0]!);
        writeFileAtomic(join(dir, 'batch.csv'), [head.join(','), ...records.map((r) => head.map((h) => csvCell(r[h])).join(','))].join('\n') + '\n');
        const written = ['summary.json', 'batch.csv'];
        for (const r of cmp.rows) {
          if (!r.profiles || r.correction === 'none') continue;
          await writeProfiles(join(dir, `corrected_${r.correction}.parquet`), r.profiles);
          written.push(`corrected_${r.correction}.parquet`);
        }
        process.stdout.write(`${formatCorrectionTable(cmp)}\n`);
        for (const r of cmp.rows) for (const note of r.notes) process.stdout.write(`note (${r.correction}): ${note}\n`);
        for (const note of cmp.evaluations.none?.notes ?? []) process.stdout.write(`note: ${note}\n`);
        process.stdout.write(`wrote ${flags.out}/${written.join(', ')}\n`);
        return;
      }
      const result = evaluate(profiles, base);
      const summary = {
        ...result,
        // Per-prediction lists are bulky; per-label tallies and AP groups stay.
        representations: result.representations.map((s) => ({
          ...s,
          nsc: s.nsc && { ...s.nsc, predictions: undefined },
          nscb: s.nscb && { ...s.nscb, predictions: undefined },
        })),
        folds: undefined,
      };
      writeFileAtomic(join(dir, 'summary.json'), JSON.stringify(summary, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
      writeFileAtomic(join(dir, 'folds.csv'), foldsCsv(result));
      writeFileAtomic(join(dir, 'per_label.csv'), perLabelCsv(result));
      for (const s of result.representations) for (const w of s.warnings) reporter.warn(`${s.name}: ${w}`);
      process.stdout.write(`${formatEvaluationTable(result)}\n`);
      for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
      process.stdout.write(`wrote ${flags.out}/summary.json, folds.csv, per_label.csv\n`);
    });
}
