/**
 * What the four preprocessing commands (normalize, feature-select, aggregate, consensus) share:
 * the input-reading flags, number parsing, and the printed "dropped with reason" lists.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { Dropped, Profiles } from '../../io/profiles.js';
import { readProfiles, writeProfiles } from '../../io/read.js';
import { InputError, UsageError } from '../../util/errors.js';
import type { Reporter } from '../../util/log.js';
import { addMemoryOption, listOption } from '../options.js';

export interface ReadFlags {
  out: string;
  features?: string[];
  metadata?: string[];
  featurePrefix?: string[];
  json?: boolean;
  quiet?: boolean;
}

/** The flags every preprocessing command has: --out, input column overrides, --json, --quiet. */
export function addIoOptions(cmd: Command): Command {
  return addMemoryOption(cmd)
    .requiredOption('-o, --out <file>', 'output profile table (.csv, .csv.gz, .tsv, .parquet by extension)')
    .option('--features <patterns...>', 'feature columns of the input (names or globs, comma-separated allowed); overrides detection', listOption)
    .option('--metadata <patterns...>', 'input columns forced to metadata (names or globs)', listOption)
    .option('--feature-prefix <prefixes...>', 'extra feature name prefixes besides Cells_, Cytoplasm_, Nuclei_', listOption)
    .option('--json', 'print the report as one JSON object instead of text')
    .option('-q, --quiet', 'no progress or messages on stderr');
}

export async function readInput(file: string, flags: ReadFlags, reporter: Reporter): Promise<Profiles> {
  const { profiles } = await readProfiles(file, {
    features: flags.features,
    metadata: flags.metadata,
    featurePrefixes: flags.featurePrefix,
    reporter,
  });
  return profiles;
}

export async function writeOutput(file: string, profiles: Profiles): Promise<void> {
  await writeProfiles(file, profiles);
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

/**
 * A blocklist file: one feature name per line (blank lines and `#` comments skipped); a first
 * line "blocklist" (pycytominer's CSV header) is skipped too.
 */
export function readBlocklist(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${path}: cannot read the blocklist (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const names = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (names[0]?.toLowerCase() === 'blocklist') names.shift();
  if (names.length === 0) throw new InputError(`${path}: the blocklist is empty`);
  return names;
}

export function printLines(lines: string[]): void {
  process.stdout.write(lines.join('\n') + '\n');
}
