/**
 * The CLI: parse flags, call the library, print. No maths here.
 * Exit codes: 0 success, 2 bad usage or bad input, 1 internal failure.
 */
import { Command, CommanderError } from 'commander';
import { isUserError } from '../util/errors.js';
import { registerCommands } from './commands/index.js';
import { setMemoryLimit } from '../io/duck.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('phenomap')
    .description('Drug image phenotype communities, MoA enrichment and activity prediction from morphological profiles')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    // --memory (on the commands that read or write tables) holds for the whole command.
    .hook('preAction', (_program, action) => {
      const memory = action.opts()['memory'] as string | undefined;
      setMemoryLimit(memory);
    });
  registerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version arrive here with exitCode 0; usage mistakes with 1 → we use 2.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isUserError(e)) {
      process.stderr.write(`phenomap: ${oneLine(e.message)}\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(`phenomap: internal error: ${oneLine(err?.message ?? String(e))}\n`);
    if (process.env.PHENOMAP_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    return 1;
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
