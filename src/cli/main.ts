/**
 * The CLI: parse flags, call the library, print. No maths here.
 * Exit codes: 0 success, 1 failure, 2 bad usage or bad input, 130 interrupted (128 + the signal's
 * number: the signal keeps its default action, see src/util/outputDir.ts).
 */
import { Command, CommanderError } from 'commander';
import { isUserError } from '../util/errors.js';
import { registerCommands } from './commands/index.js';
import { setMemoryLimit } from '../io/duck.js';
import { setTextOptions, type TextEncoding } from '../io/text.js';
import { nativeProblem } from '../linalg/native.js';
import { enableExitGuard } from '../util/outputDir.js';
import { addOutputOptions, closeCommandOutput, openCommandOutput } from './outputs.js';

export const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    failure (an internal error; PHENOMAP_DEBUG=1 prints its stack)
  2    bad usage or bad input (one line on stderr says what and where)
  130  interrupted by Ctrl-C (SIGINT); 143 for SIGTERM (128 + signal number)
Outputs: a folder written with -o/--out appears whole (with its complete.json) or not at all;
an existing non-empty folder is replaced only with --overwrite. -q/--quiet: nothing on stderr but errors.`;

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('phenomap')
    .description('Drug image phenotype communities, MoA enrichment and activity prediction from morphological profiles')
    .version('0.1.0')
    // Usage errors on one line, the hint at its end (subcommands inherit this).
    .configureOutput({ outputError: (str, write) => write(`${str.trimEnd()} (run with --help for usage)\n`) })
    .exitOverride()
    // --memory (on the commands that read or write tables) holds for the whole command.
    .hook('preAction', async (_program, action) => {
      const memory = action.opts()['memory'] as string | undefined;
      setMemoryLimit(memory);
      // --delimiter / --encoding (on the commands that read text tables) hold for every table read.
      setTextOptions({ delimiter: action.opts()['delimiter'] as string | undefined, encoding: action.opts()['encoding'] as TextEncoding | undefined });
      // An old native build left in the clone: said once, as a warning (-q hides warnings).
      const stale = nativeProblem();
      if (stale && !action.opts()['quiet']) process.stderr.write(`warning: ${stale}\n`);
      // -o/--out is checked (and claimed) before any work.
      await openCommandOutput(action);
    });
  registerCommands(program);
  addOutputOptions(program);
  const withExitCodes = (cmd: Command) => {
    cmd.addHelpText('after', EXIT_CODES_HELP);
    // -q is accepted everywhere, so scripts can pass it to any command (these print no messages on stderr).
    if (cmd.parent && cmd.commands.length === 0 && !cmd.options.some((o) => o.long === '--quiet')) cmd.option('-q, --quiet', 'nothing on stderr but errors');
    for (const c of cmd.commands) withExitCodes(c);
  };
  withExitCodes(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  enableExitGuard();
  try {
    await program.parseAsync(argv);
    closeCommandOutput(true);
    return 0;
  } catch (e) {
    try {
      closeCommandOutput(false);
    } catch {
      // The output was being discarded anyway; the error that stopped the command is the one to show.
    }
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
