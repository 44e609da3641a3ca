import { Option, type Command } from 'commander';
import { aggregate, type AggregateOperation } from '../../preprocess/aggregate.js';
import { terminalReporter } from '../terminal.js';
import { listOption } from '../options.js';
import { addIoOptions, printLines, readInput, writeOutput, type ReadFlags } from './preprocessShared.js';

interface AggregateFlags extends ReadFlags {
  strata: string[];
  operation: AggregateOperation;
}

export function register(program: Command): void {
  const cmd = program
    .command('aggregate')
    .description('one profile per stratum (e.g. plate + well, or compound + dose): mean or median of its rows')
    .argument('<profiles...>', 'profile tables (CSV, CSV.gz, TSV, Parquet); several files, a glob or a folder are stacked')
    .requiredOption('--strata <columns...>', 'metadata columns defining the groups (comma-separated allowed)', listOption)
    .addOption(new Option('--operation <op>', 'how rows are combined').choices(['mean', 'median']).default('mean'));
  addIoOptions(cmd).action(async (file: string[], flags: AggregateFlags) => {
    const reporter = terminalReporter({ quiet: flags.quiet || flags.json });
    const profiles = await readInput(file, flags, reporter);
    const { profiles: out, report } = aggregate(profiles, { strata: flags.strata, operation: flags.operation, reporter });
    await writeOutput(flags.out, out, flags.format);
    if (flags.json) {
      printLines([JSON.stringify({ ...report, out: flags.out }, null, 2)]);
      return;
    }
    printLines([
      `aggregate: ${report.operation} of ${report.nRowsIn} rows by ${report.strata.join(' + ')} → ${report.nGroups} profiles × ${out.features.length} features`,
      `metadata kept: ${report.metadataKept.join(', ')} (+ Metadata_Object_Count)`,
      ...(report.metadataDropped.length ? [`metadata dropped (varies within a group): ${report.metadataDropped.join(', ')}`] : []),
      ...(report.missingCells ? [`missing: ${report.missingCells} value(s) where a group had no value (${report.featuresWithMissing.length} feature(s))`] : []),
      `wrote ${flags.out}`,
    ]);
  });
}
