import { Option, type Command } from 'commander';
import { readProfiles, readTable } from '../../io/read.js';
import { writeProfiles, type OutputFormat } from '../../io/write.js';
import { formatOption } from './preprocessShared.js';
import { guessKeyKind, joinAnnotations, KEY_KINDS, type KeyKind } from '../../io/join.js';
import { metaStrings } from '../../io/profiles.js';
import { UsageError } from '../../util/errors.js';
import { terminalReporter } from '../terminal.js';
import { addMemoryOption, addTextOptions, listOption } from '../options.js';

interface JoinFlags {
  on?: string;
  profileKey?: string;
  tableKey?: string;
  keyKind?: KeyKind;
  out: string;
  format?: OutputFormat;
  columns?: string[];
  prefix: string;
  features?: string[];
  metadata?: string[];
  quiet?: boolean;
}

export function register(program: Command): void {
  addTextOptions(addMemoryOption(program
    .command('join')))
    .description('add annotation columns to profiles by an explicit key (left join; unmatched rows are kept and counted)')
    .argument('<profiles>', 'profile table (CSV, CSV.gz, TSV, Parquet)')
    .argument('<annotations>', 'annotation table (CSV, TSV, Parquet)')
    .option('--on <column>', 'the key column, when both tables call it the same (short for --profile-key K --table-key K)')
    .option('--profile-key <column>', 'metadata column of the profiles holding the key')
    .option('--table-key <column>', 'column of the annotation table holding the key (default: --profile-key)')
    .addOption(new Option('--key-kind <kind>', 'how keys compare (default: guessed from the profiles\' keys: broad_id, inchikey or well when every key looks like one, else name)').choices([...KEY_KINDS]))
    .requiredOption('-o, --out <file>', 'output profile table (.csv, .csv.gz, .tsv, .parquet)')
    .option('--columns <names...>', 'annotation columns to add (default: all but the key)', listOption)
    .option('--prefix <prefix>', 'prefix of the added column names', 'Metadata_')
    .option('--features <patterns...>', 'feature columns of the profiles (names or globs)', listOption)
    .option('--metadata <patterns...>', 'columns of the profiles forced to metadata', listOption)
    .option('-q, --quiet', 'nothing on stderr but errors')
    .addOption(formatOption())
    .action(async (profilesFile: string, annotationsFile: string, flags: JoinFlags) => {
      const reporter = terminalReporter({ quiet: flags.quiet });
      if (flags.on && (flags.profileKey || flags.tableKey)) throw new UsageError('give --on K, or --profile-key (and --table-key), not both');
      const profileKey = flags.on ?? flags.profileKey;
      if (!profileKey) throw new UsageError('join needs the key column: --on K (both tables), or --profile-key K1 --table-key K2');
      const tableKey = flags.on ?? flags.tableKey ?? profileKey;
      const { profiles } = await readProfiles(profilesFile, { features: flags.features, metadata: flags.metadata, reporter });
      const table = await readTable(annotationsFile);
      const keyKind = flags.keyKind ?? guessKeyKind(metaStrings(profiles, profileKey));
      const j = joinAnnotations(profiles, table, {
        profileKey,
        tableKey,
        keyKind,
        columns: flags.columns,
        prefix: flags.prefix,
      });
      await writeProfiles(flags.out, j.profiles, flags.format);
      const n = profiles.X.rows;
      const lines = [
        `matched: ${j.matched}/${n} rows (${keyKind} key ${profileKey} ↔ ${tableKey}${flags.keyKind ? '' : ', key kind guessed; --key-kind to choose'})`,
        `unmatched: ${j.unmatched} rows kept with empty annotations` + (j.unmatchedKeys.length ? ` (e.g. ${j.unmatchedKeys.slice(0, 5).join(', ')})` : ''),
      ];
      if (j.ambiguous) lines.push(`ambiguous: ${j.ambiguous} rows whose key has disagreeing annotation rows (first used; e.g. ${j.ambiguousKeys.slice(0, 3).join(', ')})`);
      lines.push(`added: ${j.addedColumns.join(', ')}`);
      lines.push(`wrote ${flags.out}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
