import { Option, type Command } from 'commander';
import { aggregateCells, mergeCells, describeCells, LAYOUT_NAMES, DEFAULT_COMPARTMENTS, type CellsAggregateReport, type CellsMergeReport, type LayoutName } from '../../cells/index.js';
import { writeProfiles } from '../../io/read.js';
import type { GroupOperation } from '../../linalg/groupStats.js';
import { terminalReporter } from '../terminal.js';
import { listOption } from '../options.js';
import { formatOption, printLines } from './preprocessShared.js';
import type { OutputFormat } from '../../io/write.js';

interface SourceFlags {
  layout?: LayoutName;
  compartments?: string[];
  strata?: string[];
  json?: boolean;
  quiet?: boolean;
}

function addSourceOptions(cmd: Command): Command {
  return cmd
    .argument('<sources...>', 'SQLite files, single-cell Parquet files, CellProfiler CSV folders (Image.csv + one CSV per object), folders holding them, or glob patterns')
    .addOption(new Option('--layout <name>', 'source layout (default: detected from the files)').choices(LAYOUT_NAMES))
    .option('--compartments <names...>', `object tables to read, in output order (default ${DEFAULT_COMPARTMENTS.join(',')})`, listOption)
    .option('--strata <columns...>', 'image metadata columns that identify a well (default Metadata_Plate,Metadata_Well)', listOption)
    .option('--json', 'print the report as one JSON object')
    .option('-q, --quiet', 'nothing on stderr but errors');
}

function sourceLines(r: CellsAggregateReport | CellsMergeReport): string[] {
  return r.sources.map((s) => {
    const objects = Object.entries(s.objects).map(([c, n]) => `${n} ${c}`).join(', ');
    const readers = [...new Set(Object.values(s.rowReaders))];
    const how = readers.length ? `, rows read by ${readers.join(' / ')}` : '';
    return `  ${s.source} [${s.layout}]: ${s.images} images, ${s.wells} wells, ${objects}${s.cells ? ` → ${s.cells} cells` : ''} (${s.seconds.toFixed(1)} s${how})`;
  });
}

export function register(program: Command): void {
  const cells = program.command('cells').description('single-cell CellProfiler output (SQLite, CSV folders, Parquet) → merged cells or well profiles');

  addSourceOptions(
    cells
      .command('aggregate')
      .description('one profile per well: the median (or mean) of its cells, streamed well by well')
      .requiredOption('-o, --out <file>', 'output profile table (.csv, .csv.gz, .tsv, .parquet, .gct, .h5ad by extension, or --format)')
      .addOption(formatOption())
      .addOption(new Option('--operation <op>', 'how cells are combined').choices(['median', 'mean']).default('median'))
      .option('--per-compartment', 'aggregate each compartment over all its own objects (pycytominer SingleCells.aggregate_profiles) instead of over linked cells'),
  ).action(async (sources: string[], flags: SourceFlags & { out: string; format?: OutputFormat; operation: GroupOperation; perCompartment?: boolean }) => {
    const reporter = terminalReporter({ quiet: flags.quiet || flags.json });
    const { profiles, report } = await aggregateCells(sources, {
      layout: flags.layout, compartments: flags.compartments, strata: flags.strata,
      operation: flags.operation, perCompartment: flags.perCompartment, reporter,
    });
    await writeProfiles(flags.out, profiles, flags.format);
    if (flags.json) return printLines([JSON.stringify({ ...report, out: flags.out }, null, 2)]);
    const rate = report.objectsRead / Math.max(report.seconds, 1e-9);
    printLines([
      `cells aggregate: ${report.operation} over ${report.mode === 'cells' ? 'linked cells' : 'each compartment\'s objects'} by ${report.strata.join(' + ')}`,
      ...sourceLines(report),
      `→ ${report.profiles} well profiles × ${report.features} features (+ Metadata_Object_Count, Metadata_Site_Count) in ${report.seconds.toFixed(1)} s (${Math.round(rate)} objects/s)`,
      `wrote ${flags.out}`,
    ]);
  });

  addSourceOptions(
    cells
      .command('merge')
      .description('one row per linked cell (compartments joined by their parent links, image key and strata attached)')
      .requiredOption('-o, --out <file>', 'output table (.parquet, .csv, .csv.gz, .tsv)'),
  ).action(async (sources: string[], flags: SourceFlags & { out: string }) => {
    const reporter = terminalReporter({ quiet: flags.quiet || flags.json });
    const report = await mergeCells(sources, flags.out, { layout: flags.layout, compartments: flags.compartments, strata: flags.strata, reporter });
    if (flags.json) return printLines([JSON.stringify(report, null, 2)]);
    printLines([
      'cells merge:',
      ...sourceLines(report),
      `→ ${report.cells} cells × ${report.features} features in ${report.seconds.toFixed(1)} s (${Math.round(report.cells / Math.max(report.seconds, 1e-9))} cells/s)`,
      `wrote ${report.out}`,
    ]);
  });

  addSourceOptions(
    cells.command('inspect').description('what each source holds: layout, images, wells, compartments, features, how compartments link'),
  ).action(async (sources: string[], flags: SourceFlags) => {
    const info = await describeCells(sources, { layout: flags.layout, compartments: flags.compartments, strata: flags.strata });
    if (flags.json) return printLines([JSON.stringify(info, null, 2)]);
    const lines: string[] = [];
    for (const s of info) {
      lines.push(`${s.source}`, `  layout ${s.layout}: ${s.images} images in ${s.wells} wells (strata ${s.strata.join(' + ')})`);
      for (const c of s.compartments) lines.push(`  ${c.name} (${c.table}): ${c.features} features${c.objects !== undefined ? `, ${c.objects} objects` : ''}`);
      lines.push(`  ${s.linking}`);
    }
    printLines(lines);
  });
}
