import type { Command } from 'commander';
import { writeSynthetic } from '../../io/synthetic.js';
import { terminalReporter } from '../terminal.js';
import { addMemoryOption, intOption, numberOption } from '../options.js';

interface SynthFlags {
  rows: number;
  features: number;
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
    .description('write a synthetic Cell Painting profile table (MoA clusters, replicate noise, plate effects, DMSO controls) for benchmarks and tests')
    .requiredOption('--rows <n>', 'rows (wells)', intOption('--rows', 1))
    .requiredOption('--features <d>', 'feature columns', intOption('--features', 2))
    .option('--moas <k>', 'mechanisms of action', intOption('--moas', 1), 50)
    .option('--plates <p>', 'plates (each gets DMSO controls and its own additive effect)', intOption('--plates', 1), 10)
    .requiredOption('-o, --out <file>', 'output table: .csv, .csv.gz, .tsv(.gz) or .parquet')
    .option('--seed <n>', 'random seed', intOption('--seed'), 0)
    .option('--replicates <n>', 'wells per compound', intOption('--replicates', 1), 4)
    .option('--controls <n>', 'DMSO wells per plate', intOption('--controls', 0), 16)
    .option('--multi-moa <f>', 'fraction of compounds with two MoAs (A|B)', numberOption('--multi-moa', 0, 1), 0.05)
    .option('-q, --quiet', 'no progress output')
    .action(async (f: SynthFlags) => {
      const reporter = terminalReporter({ quiet: f.quiet });
      const t0 = performance.now();
      const r = await writeSynthetic(f.out, {
        rows: f.rows, features: f.features, moas: f.moas, plates: f.plates, seed: f.seed,
        replicates: f.replicates, controlsPerPlate: f.controls, multiMoaFraction: f.multiMoa,
      }, reporter);
      process.stdout.write(`wrote ${f.out}: ${r.rows} rows (${r.controls} DMSO controls, ${r.compounds} compounds) × ${r.features} features in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    });
}
