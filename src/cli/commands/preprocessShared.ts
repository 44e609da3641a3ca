/**
 * What the four preprocessing commands (normalize, feature-select, aggregate, consensus) share:
 * the input-reading flags, number parsing, and the printed "dropped with reason" lists.
 */
import { Option, type Command } from 'commander';
import type { Dropped, Profiles } from '../../io/profiles.js';
import { readProfileTables, type FeatureJoin } from '../../io/readMany.js';
import { readFeatureList } from '../../io/featureList.js';
import { writeProfiles, OUTPUT_FORMATS, type OutputFormat } from '../../io/write.js';
import { UsageError } from '../../util/errors.js';
import type { Reporter } from '../../util/log.js';
import { addMemoryOption, addTextOptions, listOption } from '../options.js';

export interface ReadFlags {
  out: string;
  features?: string[];
  metadata?: string[];
  featurePrefix?: string[];
  featureJoin?: FeatureJoin;
  json?: boolean;
  quiet?: boolean;
  format?: OutputFormat;
}

/** --format: the output's format whatever its name (default: by its extension). */
export function formatOption(): Option {
  return new Option('--format <format>', 'output format (default: by the file extension); gct opens in Morpheus, h5ad in scanpy').choices([...OUTPUT_FORMATS]);
}

/** The flags every preprocessing command has: --out, input column overrides, --json, --quiet. */
export function addIoOptions(cmd: Command): Command {
  return addTextOptions(addMemoryOption(cmd))
    .requiredOption('-o, --out <file>', 'output profile table (.csv, .csv.gz, .tsv, .parquet, .gct, .h5ad by extension, or --format)')
    .addOption(formatOption())
    .option('--features <patterns...>', 'feature columns of the input (names or globs, comma-separated allowed); overrides detection', listOption)
    .option('--metadata <patterns...>', 'input columns forced to metadata (names or globs)', listOption)
    .option('--feature-prefix <prefixes...>', 'extra feature name prefixes besides Cells_, Cytoplasm_, Nuclei_', listOption)
    .addOption(featureJoinOption())
    .option('--json', 'print the report as one JSON object instead of text')
    .option('-q, --quiet', 'nothing on stderr but errors');
}

/** How several input tables with different features combine (default: they must agree). */
export function featureJoinOption(): Option {
  return new Option('--feature-join <how>', 'several input tables with different features: keep the shared ones (intersection) or all (union, missing = NaN)')
    .choices(['same', 'intersection', 'union'])
    .default('same');
}

/** Several tables (files, globs, folders of a partitioned dataset) are read and stacked as one. */
export async function readInput(files: string | readonly string[], flags: ReadFlags, reporter: Reporter): Promise<Profiles> {
  const { profiles } = await readProfileTables(typeof files === 'string' ? [files] : files, {
    features: flags.features,
    metadata: flags.metadata,
    featurePrefixes: flags.featurePrefix,
    featureJoin: flags.featureJoin,
    reporter,
  });
  return profiles;
}

export async function writeOutput(file: string, profiles: Profiles, format?: OutputFormat): Promise<void> {
  await writeProfiles(file, profiles, format);
}

/** A number flag; anything else is a UsageError naming the flag. */
export function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v)) throw new UsageError(`${name} must be a number, got "${value}"`);
  return v;
}

/** Lines listing dropped items with reasons, at most `limit` of them. */
export function droppedLines(title: string, dropped: Dropped[], limit = 25): string[] {
  if (dropped.length === 0) return [];
  const lines = [`${title} (${dropped.length}):`];
  for (const d of dropped.slice(0, limit)) lines.push(`  ${d.name}: ${d.reason}`);
  if (dropped.length > limit) lines.push(`  … ${dropped.length - limit} more (use --json for all)`);
  return lines;
}

/** A blocklist file (see readFeatureList). */
export function readBlocklist(path: string): string[] {
  return readFeatureList(path);
}

export function printLines(lines: string[]): void {
  process.stdout.write(lines.join('\n') + '\n');
}
