import type { Command } from 'commander';
import { join, resolve, dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { writeProfiles } from '../../io/write.js';
import { fileURLToPath } from 'node:url';
import { lincsRecipe } from '../../io/recipes.js';
import { runWorkflow, formatComparisonTable } from '../../pipeline/run.js';
import { presetParameters } from '../../pipeline/params.js';
import { queryCompounds } from '../../repurpose/answer.js';
import { formatAnswer } from '../../repurpose/format.js';
import { terminalReporter } from '../terminal.js';
import { InputError } from '../../util/errors.js';
import { outputFolder } from '../outputs.js';

/** The bundled example data ships with the package (examples/ beside dist/ and src/). */
export function examplesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../..', '../../../..']) {
    const p = resolve(here, up, 'examples');
    if (existsSync(join(p, 'lincs'))) return p;
  }
  throw new InputError('the bundled examples/ folder was not found next to the phenomap installation');
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the DIP-community pipeline (study preset) on the bundled LINCS Cell Painting plate and query a drug')
    .option('-o, --out <dir>', 'output directory', 'phenomap-out')
    .option('--drug <name>', 'drug to query after the run', 'bifonazole')
    .option('--no-report', 'skip the HTML report and figures')
    .option('-q, --quiet', 'nothing on stderr but errors')
    .action(async (flags: { out: string; drug: string; report: boolean; quiet?: boolean }) => {
      const reporter = terminalReporter({ quiet: flags.quiet });
      const ex = examplesDir();
      const plate = join(ex, 'lincs', 'SQ00015054_normalized_feature_select.csv.gz');
      const annotations = join(ex, 'lincs', 'lincs_repurposing_moa.tsv');
      process.stdout.write(`phenomap demo: LINCS Cell Painting plate SQ00015054 (A549, 48 h; BSD-3, see examples/README.md)\n`);
      const recipe = await lincsRecipe(plate, annotations, reporter);
      for (const n of recipe.notes) process.stdout.write(`  ${n}\n`);
      const params = presetParameters('paper');
      process.stdout.write(`running the study's workflow (--preset paper): z-score → raw / PCA 50 / ITML (20+20 constraints, seed ${params.seed}) → AP → MoA enrichment → CSIF\n`);
      // The joined table is kept beside the outputs and the run made from it, so that later
      // `phenomap query … --run DIR` calls find the plate's DMSO wells (which the run leaves out).
      const dir = outputFolder(flags.out);
      const joined = join(dir, 'profiles.parquet');
      await writeProfiles(joined, recipe.profiles);
      const { summary } = await runWorkflow(joined, dir, params, { reporter });
      process.stdout.write(`\n${formatComparisonTable(summary)}\n`);
      process.stdout.write(`reference (scikit-learn 1.2.1 / metric-learn 0.7.0 on the same plate): raw 69 clusters / 18 enriched, PCA 68 / 19; ITML ratio 0.327 ± 0.029 over constraint seeds\n`);
      process.stdout.write(`\nwhat acts like ${flags.drug}? (activity against the plate's DMSO wells, then the nearest compounds and the community)\n`);
      const q = await queryCompounds(dir, [flags.drug], { k: 5, reporter: terminalReporter({ quiet: true }) });
      process.stdout.write(`${formatAnswer(q.answers[0]!)}\n`);
      process.stdout.write(`\nwrote ${resolve(flags.out)}/ (profiles.parquet, summary.json, clusters.csv, enrichment.csv, csif.csv, itml_metric.npy)\n`);
      if (flags.report) {
        process.stdout.write('drawing figures and the report (t-SNE before/after ITML)…\n');
        const { writeReportWithAnswers } = await import('../../repurpose/report.js');
        await writeReportWithAnswers(dir, { seed: params.seed, reporter, rawProfiles: plate });
        process.stdout.write(`open ${resolve(flags.out, 'report.html')} in a browser (works offline)\n`);
      }
      process.stdout.write(`next: phenomap query <drug> --run ${flags.out}\n`);
    });
}
