import type { Command } from 'commander';

/** Every command registers itself here, one line each, in the order shown by --help. */
export function registerCommands(program: Command): void {
  void program;
}
