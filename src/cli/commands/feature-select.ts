import { Option, type Command } from 'commander';
import {
  DEFAULT_FEATURE_SELECT_OPERATIONS,
  FEATURE_SELECT_OPERATIONS,
  featureSelect,
  type FeatureSelectOperation,
} from '../../preprocess/featureSelect.js';
import type { CorrelationMethod } from '../../preprocess/correlation.js';
import { UsageError } from '../../util/errors.js';
import { terminalReporter } from '../terminal.js';
import { listOption } from '../options.js';
import { addIoOptions, droppedLines, numberFlag, printLines, readBlocklist, readInput, writeOutput, type ReadFlags } from './preprocessShared.js';

interface FeatureSelectFlags extends ReadFlags {
  operations?: string[];
  samples: string;
  naCutoff: string;
  freqCut: string;
  uniqueCut: string;
  minVariance?: string;
  corrThreshold: string;
  corrMethod: CorrelationMethod;
  blocklist?: string;
  outlierCutoff: string;
  noiseRemovalPerturbGroups?: string;
  noiseRemovalStdevCutoff: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('feature-select')
    .description('drop uninformative features (pycytominer semantics); every removed feature is reported with its reason')
    .argument('<profiles...>', 'profile tables (CSV, CSV.gz, TSV, Parquet); several files, a glob or a folder are stacked')
    .option(
      '--operations <ops...>',
      `operations in order (${FEATURE_SELECT_OPERATIONS.join(', ')}); default ${DEFAULT_FEATURE_SELECT_OPERATIONS.join(',')}` +
        ' (+ blocklist when --blocklist is given)',
      listOption,
    )
    .option('--samples <query>', 'rows the statistics use: "all" or a metadata query', 'all')
    .option('--na-cutoff <fraction>', 'drop_na_columns: largest tolerated fraction of missing values', '0.05')
    .option('--freq-cut <ratio>', 'frequency_threshold: second-most / most common value count below this → drop', '0.05')
    .option('--unique-cut <ratio>', 'frequency_threshold: distinct values / rows below this → drop', '0.01')
    .option('--min-variance <x>', 'variance_threshold (= min_variance, scikit-learn\'s VarianceThreshold): drop features with population variance below this (default 1e-6; adds the operation)')
    .option('--corr-threshold <r>', 'correlation_threshold: pairs correlated above this lose one member', '0.9')
    .addOption(new Option('--corr-method <method>', 'correlation_threshold: correlation').choices(['pearson', 'spearman']).default('pearson'))
    .option('--blocklist <file>', 'blocklist file, one feature name per line (adds the blocklist operation)')
    .option('--outlier-cutoff <x>', 'drop_outliers: drop features with a value beyond ± this', '500')
    .option('--noise-removal-perturb-groups <column>', 'noise_removal: metadata column naming each perturbation (adds the operation)')
    .option('--noise-removal-stdev-cutoff <x>', 'noise_removal: drop features whose mean within-perturbation std exceeds this', '0.8');
  addIoOptions(cmd).action(async (file: string[], flags: FeatureSelectFlags) => {
    const ops = (flags.operations ?? [...DEFAULT_FEATURE_SELECT_OPERATIONS]) as FeatureSelectOperation[];
    for (const op of ops) {
      if (!FEATURE_SELECT_OPERATIONS.includes(op)) throw new UsageError(`--operations: unknown operation "${op}" (choose ${FEATURE_SELECT_OPERATIONS.join(', ')})`);
    }
    const blocklist = flags.blocklist ? readBlocklist(flags.blocklist) : undefined;
    if (blocklist && !ops.includes('blocklist')) ops.push('blocklist');
    if (flags.noiseRemovalPerturbGroups && !ops.includes('noise_removal')) ops.push('noise_removal');
    const reporter = terminalReporter({ quiet: flags.quiet || flags.json });
    const profiles = await readInput(file, flags, reporter);
    const { profiles: out, report } = featureSelect(profiles, {
      operations: ops,
      samples: flags.samples,
      naCutoff: numberFlag('--na-cutoff', flags.naCutoff),
      freqCut: numberFlag('--freq-cut', flags.freqCut),
      uniqueCut: numberFlag('--unique-cut', flags.uniqueCut),
      minVariance: numberFlag('--min-variance', flags.minVariance),
      corrThreshold: numberFlag('--corr-threshold', flags.corrThreshold),
      corrMethod: flags.corrMethod,
      blocklist,
      outlierCutoff: numberFlag('--outlier-cutoff', flags.outlierCutoff),
      noiseRemovalPerturbGroups: flags.noiseRemovalPerturbGroups,
      noiseRemovalStdevCutoff: numberFlag('--noise-removal-stdev-cutoff', flags.noiseRemovalStdevCutoff),
      inPlace: true, // the table read here is ours: keep the selected features in its own storage
      reporter,
    });
    await writeOutput(flags.out, out, flags.format);
    if (flags.json) {
      printLines([JSON.stringify({ ...report, out: flags.out }, null, 2)]);
      return;
    }
    printLines([
      `feature-select: ${out.X.rows} rows; statistics on ${report.nSamples} row(s)${flags.samples === 'all' ? '' : ` matching "${flags.samples}"`}`,
      `features: ${report.featuresIn} in, ${report.kept} kept, ${report.removed.length} removed`,
      ...report.operations.map((o) => `  ${o.operation}: ${o.removed} of ${o.featuresIn} removed`),
      ...droppedLines('removed features', report.removed),
      `wrote ${flags.out}`,
    ]);
  });
}
