import { Option, type Command } from 'commander';
import { normalize, NORMALIZE_METHODS, type NormalizeMethod } from '../../preprocess/normalize.js';
import type { SpherizeMethod } from '../../preprocess/spherize.js';
import { terminalReporter } from '../terminal.js';
import { listOption } from '../options.js';
import { addIoOptions, droppedLines, numberFlag, printLines, readInput, writeOutput, type ReadFlags } from './preprocessShared.js';

interface NormalizeFlags extends ReadFlags {
  method: NormalizeMethod;
  samples: string;
  strata?: string[];
  madEpsilon?: string;
  spherizeMethod: SpherizeMethod;
  spherizeEpsilon?: string;
  spherizeCenter: boolean;
  inverseNormalQuantiles: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('normalize')
    .description('normalise features relative to all rows or to control rows (pycytominer semantics), optionally per plate')
    .argument('<profiles...>', 'profile tables (CSV, CSV.gz, TSV, Parquet); several files, a glob or a folder are stacked')
    .addOption(new Option('-m, --method <method>', 'normalisation').choices([...NORMALIZE_METHODS]).default('standardize'))
    .option('--samples <query>', 'reference rows: "all" or a metadata query, e.g. "Metadata_pert_type == control"', 'all')
    .option('--strata <columns...>', 'normalise each combination of these metadata columns separately (e.g. Metadata_Plate)', listOption)
    .option('--mad-epsilon <x>', 'added to 1.4826·MAD (mad_robustize)', '1e-18')
    .addOption(new Option('--spherize-method <method>', 'sphering flavour').choices(['ZCA', 'ZCA-cor', 'PCA', 'PCA-cor']).default('ZCA'))
    .option('--spherize-epsilon <x>', 'added to the singular values (spherize)', '1e-6')
    .option('--no-spherize-center', 'do not centre before sphering (ZCA/PCA only)')
    .option('--inverse-normal-quantiles <n>', 'inverse_normal: quantile landmarks (capped at the reference rows)', '1000');
  addIoOptions(cmd).action(async (file: string[], flags: NormalizeFlags) => {
    const reporter = terminalReporter({ quiet: flags.quiet || flags.json });
    const profiles = await readInput(file, flags, reporter);
    const { profiles: out, report } = normalize(profiles, {
      method: flags.method,
      samples: flags.samples,
      strata: flags.strata,
      madEpsilon: numberFlag('--mad-epsilon', flags.madEpsilon),
      spherizeMethod: flags.spherizeMethod,
      spherizeEpsilon: numberFlag('--spherize-epsilon', flags.spherizeEpsilon),
      spherizeCenter: flags.spherizeCenter,
      inverseNormalQuantiles: numberFlag('--inverse-normal-quantiles', flags.inverseNormalQuantiles),
      inPlace: true, // the table read here is ours: normalise it in its own storage
      reporter,
    });
    await writeOutput(flags.out, out, flags.format);
    if (flags.json) {
      printLines([JSON.stringify({ ...report, out: flags.out }, null, 2)]);
      return;
    }
    const ref = report.samples === 'all' ? 'all rows' : `rows matching "${report.samples}"`;
    const lines = [
      `normalize: ${report.method}${report.method === 'spherize' ? ` (${flags.spherizeMethod})` : ''} relative to ${ref}` +
        (flags.strata?.length ? `, per ${flags.strata.join(' + ')}` : ''),
      `rows: ${report.nRows}; features: ${report.featuresIn} in, ${report.featuresOut} out`,
      `strata (${report.strata.length}):`,
      ...report.strata.slice(0, 20).map((s) => `  ${s.label}: ${s.nRows} rows, ${s.nReference} reference`),
      ...(report.strata.length > 20 ? [`  … ${report.strata.length - 20} more`] : []),
      ...droppedLines('dropped features', report.droppedFeatures),
    ];
    if (report.zeroScale.length) lines.push(`zero scale: ${report.zeroScale.length} feature/stratum pair(s) (see warnings)`);
    if (report.method === 'spherize' && (flags.spherizeMethod === 'PCA' || flags.spherizeMethod === 'PCA-cor')) {
      lines.push('note: PCA sphering names the outputs PC1…; read them back with --features "PC*"');
    }
    lines.push(`wrote ${flags.out}`);
    printLines(lines);
  });
}
