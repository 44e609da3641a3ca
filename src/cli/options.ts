/** Shared flag parsing for commands: numbers and lists with errors that name the flag. */
import { InvalidArgumentError, type Command } from 'commander';
import { parseMemorySize } from '../io/duck.js';
import { parseDelimiter, parseEncoding } from '../io/text.js';

export function intOption(name: string, min = 0): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got "${v}"`);
    // Above 2^53 − 1 a double cannot hold every integer: "9007199254740993" would silently become …992.
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be at most 2^53 − 1 = ${Number.MAX_SAFE_INTEGER}, got "${v}" (it cannot be held exactly)`);
    return n;
  };
}

export function numberOption(name: string, lo = -Infinity, hi = Infinity): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi) throw new InvalidArgumentError(`${name} must be a number in [${lo}, ${hi}], got "${v}"`);
    return n;
  };
}

/** Comma-separated list, repeatable flag. */
export function listOption(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

/** `--memory <size>`: validated here, applied process-wide by main.ts before the command runs. */
export function addMemoryOption(cmd: Command): Command {
  return cmd.option(
    '--memory <size>',
    'memory for reading and writing tables (DuckDB and the feature matrix), e.g. 4GB; default 60 % of the memory available, or PHENOMAP_DUCKDB_MEMORY',
    (v: string) => {
      try {
        parseMemorySize(v, '--memory');
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
      return v;
    },
  );
}

/** An option parser from a library parser that throws InputError: the message becomes commander's. */
function parsed<T>(parse: (v: string) => T): (v: string) => T {
  return (v: string) => {
    try {
      return parse(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

/**
 * `--delimiter` and `--encoding` for every command that reads delimited text tables: validated
 * here, applied process-wide by main.ts (io/text.ts, setTextOptions) to every table the command reads.
 */
export function addTextOptions(cmd: Command): Command {
  return cmd
    .option('--delimiter <char>', 'delimiter of the input text tables: one character, or tab, comma, semicolon, pipe, space (default: tab for .tsv, else guessed from the header)', parsed((v) => parseDelimiter(v)))
    .option('--encoding <name>', 'encoding of the input text tables: utf-8 (default; a byte that is not UTF-8 is an error naming its line) or latin-1', parsed((v) => parseEncoding(v)));
}
