import { Option, type Command } from 'commander';
import { consensus, MODZ_MISSING, type ConsensusMethod, type ModzMissing } from '../../preprocess/consensus.js';
import { terminalReporter } from '../terminal.js';
import { listOption } from '../options.js';
import { addIoOptions, numberFlag, printLines, readInput, writeOutput, type ReadFlags } from './preprocessShared.js';

interface ConsensusFlags extends ReadFlags {
  strata: string[];
  method: ConsensusMethod;
  minWeight: string;
  precision: string;
  modzFeatures?: string[];
  modzMissing: ModzMissing;
}

export function register(program: Command): void {
  const cmd = program
    .command('consensus')
    .description('one consensus profile per group of replicates: median, or MODZ (Spearman-weighted, as pycytominer)')
    .argument('<profiles...>', 'profile tables (CSV, CSV.gz, TSV, Parquet); several files, a glob or a folder are stacked')
    .requiredOption('--strata <columns...>', 'metadata columns identifying replicates (e.g. Metadata_broad_sample,Metadata_mmoles_per_liter)', listOption)
    .addOption(new Option('--method <method>', 'consensus method').choices(['median', 'modz']).default('median'))
    .option('--min-weight <w>', 'MODZ: smallest replicate weight before normalising', '0.01')
    .option('--precision <decimals>', 'MODZ: decimals the weights are rounded to (pycytominer: 4; "none" to keep all)', '4')
    .option('--modz-features <names...>', 'MODZ: features the replicate correlations use (default all)', listOption)
    .addOption(new Option('--modz-missing <how>', 'MODZ with missing values: rescale the present replicates\' weights, or exactly as pycytominer (a missing value adds 0; a replicate with no defined correlation gets no weight)').choices([...MODZ_MISSING]).default('rescale'));
  addIoOptions(cmd).action(async (file: string[], flags: ConsensusFlags) => {
    const reporter = terminalReporter({ quiet: flags.quiet || flags.json });
    const precision = flags.precision === 'none' ? null : numberFlag('--precision', flags.precision);
    const minWeight = numberFlag('--min-weight', flags.minWeight);
    const profiles = await readInput(file, flags, reporter);
    const { profiles: out, report } = consensus(profiles, {
      strata: flags.strata,
      method: flags.method,
      minWeight,
      precision,
      modzFeatures: flags.modzFeatures,
      modzMissing: flags.modzMissing,
      reporter,
    });
    await writeOutput(flags.out, out, flags.format);
    if (flags.json) {
      printLines([JSON.stringify({ ...report, out: flags.out }, null, 2)]);
      return;
    }
    const sizes = report.groups.map((g) => g.nReplicates);
    const singles = sizes.filter((s) => s === 1).length;
    printLines([
      `consensus: ${report.method} of ${report.nRowsIn} rows by ${report.strata.join(' + ')} → ${report.nGroups} profiles × ${out.features.length} features`,
      `replicates per group: ${Math.min(...sizes)}–${Math.max(...sizes)}${singles ? ` (${singles} single-replicate group(s) passed through)` : ''}`,
      `metadata kept: ${report.metadataKept.join(', ')} (+ Metadata_n_replicates)`,
      ...(report.metadataDropped.length ? [`metadata dropped (varies within a group): ${report.metadataDropped.join(', ')}`] : []),
      ...(report.missingCells ? [`missing: ${report.missingCells} value(s) where no replicate had the feature`] : []),
      `wrote ${flags.out}`,
    ]);
  });
}
