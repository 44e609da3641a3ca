/** Shared option parsers for commands. */

/** Variadic list option that also accepts comma-separated values: `--features a,b c`. */
export function listOption(value: string, previous: string[] | undefined): string[] {
  const parts = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return [...(previous ?? []), ...parts];
}
