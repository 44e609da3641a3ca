import { Option, type Command } from 'commander';
import { join } from 'node:path';
import { writeProfiles } from '../../io/write.js';
import { mapProfiles } from '../../evaluate/retrieval.js';
import { SIMILARITIES, type SimilarityName } from '../../evaluate/averagePrecision.js';
import { MAP_NULL_RULES, type MapNullRule } from '../../evaluate/map.js';
import type { ColumnSpec } from '../../evaluate/pairs.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { UsageError } from '../../util/errors.js';
import { terminalReporter } from '../terminal.js';
import { addTextOptions, intOption, listOption, numberOption } from '../options.js';
import { outputFolder } from '../outputs.js';
import { printLines, readInput, type ReadFlags } from './preprocessShared.js';

interface MapFlags extends ReadFlags {
  posSameby?: string[];
  posSamebyAny?: string[];
  posDiffby?: string[];
  posDiffbyAny?: string[];
  negSameby?: string[];
  negSamebyAny?: string[];
  negDiffby?: string[];
  negDiffbyAny?: string[];
  groupBy?: string[];
  distance: SimilarityName;
  multilabel?: string;
  sep: string;
  nullSize: number;
  seed: number;
  threshold: number;
  mapNull: MapNullRule;
  similarityPrecision: 'float32' | 'float64';
  filter?: string;
  reference?: string;
  referenceCol: string;
  queries?: string;
  format: 'csv' | 'tsv' | 'parquet';
}

function spec(all: string[] | undefined, any: string[] | undefined): ColumnSpec {
  return any?.length ? { all: all ?? [], any } : (all ?? []);
}

export function register(program: Command): void {
  addTextOptions(program
    .command('map'))
    .description('mean average precision for any pairing rule (copairs semantics): AP per profile, mAP per group with p-values')
    .argument('<profiles...>', 'profile tables (CSV, CSV.gz, TSV, Parquet, GCT, h5ad); several files, a glob or a folder are stacked')
    .requiredOption('-o, --out <dir>', 'output folder: ap.<format>, map.<format>, summary.json')
    .option('--pos-sameby <columns...>', 'positive pairs share the values of all these columns', listOption)
    .option('--pos-sameby-any <columns...>', 'positive pairs share the value of at least one of these (two or more) columns', listOption)
    .option('--pos-diffby <columns...>', 'positive pairs differ in every one of these columns', listOption)
    .option('--pos-diffby-any <columns...>', 'positive pairs differ in at least one of these (two or more) columns', listOption)
    .option('--neg-sameby <columns...>', 'negative pairs share the values of all these columns', listOption)
    .option('--neg-sameby-any <columns...>', 'negative pairs share the value of at least one of these columns', listOption)
    .option('--neg-diffby <columns...>', 'negative pairs differ in every one of these columns', listOption)
    .option('--neg-diffby-any <columns...>', 'negative pairs differ in at least one of these columns', listOption)
    .option('--group-by <columns...>', 'mAP groups (default: the --pos-sameby columns)', listOption)
    .addOption(new Option('--distance <name>', 'similarity the candidates are ranked by').choices([...SIMILARITIES]).default('cosine'))
    .option('--multilabel <column>', 'a column holding several labels per profile ("A|B"): one AP per shared label')
    .option('--sep <text>', 'label separator of --multilabel', '|')
    .option('--null-size <n>', 'null samples per (positives, candidates) shape', intOption('--null-size', 1), 1000)
    .option('--seed <n>', 'seed of the null samples', intOption('--seed', 0), 0)
    .option('--threshold <p>', 'below_p / below_corrected_p threshold', numberOption('--threshold', 0, 1), 0.05)
    .addOption(new Option('--map-null <rule>', 'group null: unsorted (copairs since 2023-12, default) or sorted (phenomap ≤ 0.1, copairs before 2023-12)').choices([...MAP_NULL_RULES]).default('unsorted'))
    .addOption(new Option('--similarity-precision <p>', 'rank on float32 similarities as copairs (default) or on float64').choices(['float32', 'float64']).default('float32'))
    .option('--filter <query>', 'keep only rows matching this metadata query, e.g. "Metadata_pert_type != control"')
    .option('--reference <query>', "copairs' assign_reference_index: matching rows get their row index in --reference-col, others -1")
    .option('--reference-col <name>', 'column added by --reference', 'Metadata_Reference_Index')
    .option('--queries <query>', 'only rows matching this query get an AP (all rows stay candidates)')
    .addOption(new Option('--format <format>', 'format of ap and map tables').choices(['csv', 'tsv', 'parquet']).default('csv'))
    .option('--features <patterns...>', 'feature columns of the input (names or globs); overrides detection', listOption)
    .option('--metadata <patterns...>', 'input columns forced to metadata (names or globs)', listOption)
    .option('--feature-prefix <prefixes...>', 'extra feature name prefixes besides Cells_, Cytoplasm_, Nuclei_', listOption)
    .option('--json', 'print the summary as JSON')
    .option('-q, --quiet', 'nothing on stderr but errors')
    .action(async (file: string[], flags: MapFlags) => {
      const reporter = terminalReporter({ quiet: flags.quiet || flags.json });
      const posSameby = spec(flags.posSameby, flags.posSamebyAny), posDiffby = spec(flags.posDiffby, flags.posDiffbyAny);
      const negSameby = spec(flags.negSameby, flags.negSamebyAny), negDiffby = spec(flags.negDiffby, flags.negDiffbyAny);
      if (!flags.posSameby?.length && !flags.posSamebyAny?.length && !flags.posDiffby?.length && !flags.posDiffbyAny?.length) {
        throw new UsageError('map: give the positive-pair rule (--pos-sameby and/or --pos-diffby)');
      }
      if (!flags.negSameby?.length && !flags.negSamebyAny?.length && !flags.negDiffby?.length && !flags.negDiffbyAny?.length) {
        throw new UsageError('map: give the negative-pair rule (--neg-sameby and/or --neg-diffby)');
      }
      const profiles = await readInput(file, flags, reporter);
      const r = mapProfiles(profiles, {
        posSameby, posDiffby, negSameby, negDiffby, groupBy: flags.groupBy, distance: flags.distance,
        multilabel: flags.multilabel ? { column: flags.multilabel, sep: flags.sep } : undefined,
        nullSize: flags.nullSize, seed: flags.seed, threshold: flags.threshold, nullRule: flags.mapNull,
        similarityPrecision: flags.similarityPrecision, filter: flags.filter,
        reference: flags.reference ? { query: flags.reference, column: flags.referenceCol } : undefined,
        queries: flags.queries, reporter,
      });
      const dir = outputFolder(flags.out);
      const ext = flags.format;
      await writeProfiles(join(dir, `ap.${ext}`), r.ap);
      await writeProfiles(join(dir, `map.${ext}`), r.map);
      writeFileAtomic(join(dir, 'summary.json'), JSON.stringify({ input: file, ...r.summary }, null, 2) + '\n');
      if (flags.json) {
        printLines([JSON.stringify(r.summary, null, 2)]);
        return;
      }
      const s = r.summary;
      printLines([
        `map: ${s.aps} AP(s) of ${s.queries} query profile(s) in ${s.groups} group(s) (${s.options.distance}, null ${s.options.nullSize} per shape, ${s.options.nullRule} rule)`,
        `mean mAP ${s.meanMap.toFixed(4)} vs random baseline ${s.meanBaseline.toFixed(4)}; ${s.significant} of ${s.groups} group(s) below corrected p ${s.options.threshold}`,
        ...(s.noPositive.count ? [`${s.noPositive.count} profile(s) without a positive pair (no AP; rows in summary.json)`] : []),
        `wrote ${join(flags.out, `ap.${ext}`)}, ${join(flags.out, `map.${ext}`)}, ${join(flags.out, 'summary.json')}`,
      ]);
    });
}
