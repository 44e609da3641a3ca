import type { Command } from 'commander';
import { writeSynthetic } from '../../io/synthetic.js';
import { terminalReporter } from '../terminal.js';
import { addMemoryOption, intOption, numberOption } from '../options.js';
import { Option } from 'commander';
import { writeSingleCellPlate, LAYOUT_NAMES, type LayoutName } from '../../cells/index.js';
import { UsageError } from '../../util/errors.js';
import { withOutputFile } from '../../util/outputDir.js';

interface SynthFlags {
  rows?: number;
  features: number;
  singleCell?: boolean;
  layout: LayoutName;
  cells?: number;
  wells: number;
  sites: number;
  extraNuclei: number;
  index: boolean;
  plate: string;
  moas: number;
  plates: number;
  out: string;
  seed: number;
  replicates: number;
  controls: number;
  multiMoa: number;
  quiet?: boolean;
}

export function register(program: Command): void {
  addMemoryOption(program
    .command('synth'))
    .description('write a synthetic Cell Painting profile table (MoA clusters, replicate noise, plate effects, DMSO controls), or with --single-cell a CellProfiler-shaped single-cell plate, for benchmarks and tests')
    .option('--rows <n>', 'rows (wells) of the profile table', intOption('--rows', 1))
    .requiredOption('--features <d>', 'feature columns (with --single-cell: per compartment)', intOption('--features', 1))
    .option('--single-cell', 'write single cells of one plate in a CellProfiler layout instead of a profile table')
    .addOption(new Option('--layout <name>', 'single-cell layout').choices(LAYOUT_NAMES).default('cytominer-sqlite'))
    .option('--cells <n>', 'single-cell: cells on the plate', intOption('--cells', 1))
    .option('--wells <n>', 'single-cell: wells (A01…, at most 384)', intOption('--wells', 1), 384)
    .option('--sites <n>', 'single-cell: images per well', intOption('--sites', 1), 9)
    .option('--extra-nuclei <f>', 'single-cell: unlinked nuclei as a fraction of cells', numberOption('--extra-nuclei', 0, 1), 0.02)
    .option('--no-index', 'single-cell SQLite: skip the profiling recipe\'s indexes')
    .option('--plate <name>', 'single-cell: the plate\'s name (Metadata_Plate)', 'SYNTH0001')
    .option('--moas <k>', 'mechanisms of action', intOption('--moas', 1), 50)
    .option('--plates <p>', 'plates (each gets DMSO controls and its own additive effect)', intOption('--plates', 1), 10)
    .requiredOption('-o, --out <file>', 'output table: .csv, .csv.gz, .tsv(.gz) or .parquet')
    .option('--seed <n>', 'random seed', intOption('--seed'), 0)
    .option('--replicates <n>', 'wells per compound', intOption('--replicates', 1), 4)
    .option('--controls <n>', 'DMSO wells per plate', intOption('--controls', 0), 16)
    .option('--multi-moa <f>', 'fraction of compounds with two MoAs (A|B)', numberOption('--multi-moa', 0, 1), 0.05)
    .option('-q, --quiet', 'nothing on stderr but errors')
    .action(async (f: SynthFlags) => {
      const reporter = terminalReporter({ quiet: f.quiet });
      const t0 = performance.now();
      if (f.singleCell) {
        if (f.cells === undefined) throw new UsageError('--single-cell needs --cells');
        const r = await writeSingleCellPlate(f.out, {
          layout: f.layout, cells: f.cells, features: f.features, wells: f.wells, sites: f.sites, seed: f.seed, extraNuclei: f.extraNuclei, index: f.index, plate: f.plate,
        }, reporter);
        process.stdout.write(`wrote ${f.out} [${r.layout}]: ${r.cells} cells (+ ${r.nuclei - r.cells} unlinked nuclei) in ${r.images} images of ${r.wells} wells × ${r.features} features per compartment, ${(r.bytes / 2 ** 20).toFixed(1)} MiB in ${r.seconds.toFixed(1)} s\n`);
        return;
      }
      if (f.rows === undefined) throw new UsageError('synth needs --rows (or --single-cell with --cells)');
      if (f.features < 2) throw new UsageError('--features must be at least 2 for a profile table');
      // Held as a file output: a signal mid-write leaves no temporary table beside --out.
      const rows = f.rows;
      const r = await withOutputFile(f.out, {}, () => writeSynthetic(f.out, {
        rows, features: f.features, moas: f.moas, plates: f.plates, seed: f.seed,
        replicates: f.replicates, controlsPerPlate: f.controls, multiMoaFraction: f.multiMoa,
      }, reporter));
      process.stdout.write(`wrote ${f.out}: ${r.rows} rows (${r.controls} DMSO controls, ${r.compounds} compounds) × ${r.features} features in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    });
}
