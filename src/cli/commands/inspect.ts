import type { Command } from 'commander';
import { readProfileTables } from '../../io/readMany.js';
import { cellString, getMeta } from '../../io/profiles.js';
import { terminalReporter } from '../terminal.js';
import { addMemoryOption, addTextOptions, listOption } from '../options.js';

interface InspectFlags {
  labelCol?: string;
  top: string;
  features?: string[];
  metadata?: string[];
  featurePrefix?: string[];
  json?: boolean;
  quiet?: boolean;
}

/** Value counts of a metadata column, most frequent first (ties by value). */
export function labelCounts(values: (string | null)[]): [string, number][] {
  const m = new Map<string, number>();
  for (const v of values) {
    const k = v ?? '(missing)';
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function register(program: Command): void {
  addTextOptions(addMemoryOption(program
    .command('inspect')))
    .description('read a profile table (CSV, CSV.gz, TSV, Parquet) and print rows, features, metadata, label and NaN counts')
    .argument('<files...>', 'profile table (several files, a glob or a folder are stacked)')
    .option('--label-col <column>', 'metadata column whose value counts are shown')
    .option('--top <n>', 'how many labels to show', '15')
    .option('--features <patterns...>', 'feature columns (names or globs, comma-separated allowed); overrides detection', listOption)
    .option('--metadata <patterns...>', 'columns forced to metadata (names or globs)', listOption)
    .option('--feature-prefix <prefixes...>', 'extra feature name prefixes besides Cells_, Cytoplasm_, Nuclei_', listOption)
    .option('--json', 'print one JSON object instead of text')
    .option('-q, --quiet', 'nothing on stderr but errors')
    .action(async (file: string[], flags: InspectFlags) => {
      const reporter = terminalReporter({ quiet: flags.quiet || flags.json });
      const { profiles, report } = await readProfileTables(file, {
        features: flags.features,
        metadata: flags.metadata,
        featurePrefixes: flags.featurePrefix,
        reporter,
      });
      const top = Math.max(1, Number(flags.top) || 15);
      let labels: { column: string; distinct: number; counts: [string, number][] } | undefined;
      if (flags.labelCol) {
        const col = getMeta(profiles, flags.labelCol);
        const values = Array.from({ length: profiles.X.rows }, (_, i) => cellString(col, i));
        const counts = labelCounts(values);
        labels = { column: flags.labelCol, distinct: counts.length, counts: counts.slice(0, top) };
      }
      if (flags.json) {
        process.stdout.write(JSON.stringify({ ...report, labels }, null, 2) + '\n');
        return;
      }
      const lines: string[] = [];
      const kind = report.format + (report.gzip ? '.gz' : '');
      lines.push(`file: ${report.file} (${kind}, ${(report.bytes / 1e6).toFixed(2)} MB, read in ${report.seconds.toFixed(2)} s)`);
      lines.push(`rows: ${report.rows}`);
      lines.push(`features: ${report.features}`);
      lines.push(`metadata columns (${report.metadataColumns.length}): ${report.metadataColumns.join(', ')}`);
      if (labels) {
        lines.push(`label counts (${labels.column}, ${labels.distinct} distinct${labels.distinct > top ? `, top ${top}` : ''}):`);
        const w = Math.max(...labels.counts.map(([, c]) => String(c).length));
        for (const [v, c] of labels.counts) lines.push(`  ${String(c).padStart(w)}  ${v}`);
      }
      const nan = report.nanCounts;
      const nanFeatures = Object.entries(nan.perFeature).sort((a, b) => b[1] - a[1]);
      if (nan.total === 0) lines.push('missing values: none');
      else {
        lines.push(`missing values: ${nan.total} in ${nanFeatures.length} feature(s), ${nan.rowsWithNaN} row(s) affected`);
        for (const [f, c] of nanFeatures.slice(0, top)) lines.push(`  ${c}  ${f}`);
        if (nanFeatures.length > top) lines.push(`  … ${nanFeatures.length - top} more`);
      }
      if (report.droppedFeatures.length) {
        lines.push(`dropped features (${report.droppedFeatures.length}):`);
        for (const d of report.droppedFeatures.slice(0, top)) lines.push(`  ${d.name}: ${d.reason}`);
      }
      if (report.droppedRows.length) lines.push(`dropped rows: ${report.droppedRows.length}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
