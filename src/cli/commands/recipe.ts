import { Argument, Option, type Command } from 'commander';
import { join } from 'node:path';
import { writeProfiles, type OutputFormat } from '../../io/write.js';
import { formatOption } from './preprocessShared.js';
import { bbbc021Recipe, cellInjuryRecipe, CELL_INJURY_FILES, lincsRecipe, LINCS_FILES, type RecipeResult } from '../../io/recipes.js';
import { terminalReporter } from '../terminal.js';
import { addMemoryOption } from '../options.js';

interface RecipeFlags {
  data: string;
  out: string;
  format?: OutputFormat;
  subset: 'well' | 'plate';
  quiet?: boolean;
}

export function register(program: Command): void {
  addMemoryOption(program
    .command('recipe'))
    .description('build a labelled profile table from the public data sets (../shared/data layout) and write it')
    .addArgument(new Argument('<name>', 'which data set').choices(['bbbc021', 'lincs', 'cell-injury']))
    .requiredOption('--data <dir>', 'folder holding bbbc021/, lincs/, cell-injury/, annotations/')
    .requiredOption('-o, --out <file>', 'output profile table (.csv, .csv.gz, .tsv, .parquet)')
    .addOption(new Option('--subset <which>', 'cell-injury: well or plate hold-out file').choices(['well', 'plate']).default('well'))
    .option('-q, --quiet', 'nothing on stderr but errors')
    .addOption(formatOption())
    .action(async (name: string, flags: RecipeFlags) => {
      const reporter = terminalReporter({ quiet: flags.quiet });
      let r: RecipeResult;
      if (name === 'bbbc021') r = await bbbc021Recipe(flags.data, reporter);
      else if (name === 'lincs') r = await lincsRecipe(join(flags.data, LINCS_FILES.plate), join(flags.data, LINCS_FILES.annotations), reporter);
      else r = await cellInjuryRecipe(join(flags.data, CELL_INJURY_FILES[flags.subset]), reporter);
      await writeProfiles(flags.out, r.profiles, flags.format);
      const w = Math.max(...Object.keys(r.counts).map((k) => k.length));
      const lines = [...r.notes, ...Object.entries(r.counts).map(([k, v]) => `  ${k.padEnd(w)}  ${v}`), `wrote ${flags.out}`];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
