/**
 * The CLI's side of src/util/outputDir.ts: every command's `-o/--out` is checked before its action
 * runs (one line, exit 2, no work done), folder outputs get a locked staging folder that replaces
 * `--out` whole when the command succeeds, and file outputs are locked and guarded.
 */
import { Option, type Command } from 'commander';
import { dirname, join, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { OutputDir, requireComplete, withOutputFile } from '../util/outputDir.js';
import { setRawText } from '../util/csvSafe.js';

/** Commands (by path) whose --out is a folder. */
export const FOLDER_OUTPUT_COMMANDS = new Set(['run', 'evaluate', 'map', 'predict evaluate', 'predict complete', 'demo']);
/** Commands whose --out is one file. (The workflow's jobs write into their run folder, planned by the workflow; synth's --out is a table or, with --single-cell, a plate file or folder depending on the layout, so its action holds a table through withOutputFile itself.) */
export const FILE_OUTPUT_COMMANDS = new Set([
  'annotate', 'normalize', 'feature-select', 'aggregate', 'consensus', 'join', 'recipe', 'cells aggregate', 'cells merge', 'predict train', 'predict rank',
]);

export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c && c.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Add --overwrite to every folder-output command, --raw-text to every command writing CSV/TSV. */
export function addOutputOptions(program: Command): void {
  const visit = (cmd: Command) => {
    const path = commandPath(cmd);
    if (FOLDER_OUTPUT_COMMANDS.has(path)) {
      cmd.addOption(new Option('--overwrite', 'replace an existing non-empty --out folder (whole: nothing of the earlier output is kept)'));
    }
    if (FOLDER_OUTPUT_COMMANDS.has(path) || FILE_OUTPUT_COMMANDS.has(path) || path === 'query') {
      cmd.addOption(new Option('--raw-text', "write text cells of CSV/TSV outputs exactly as they are (by default a cell starting with = + - @ tab or CR gets a leading ' so spreadsheets do not run it as a formula)"));
    }
    for (const c of cmd.commands) visit(c);
  };
  visit(program);
}

let folder: OutputDir | null = null;
let file: { release: () => void } | null = null;

/** preAction: check and claim the command's --out. */
export async function openCommandOutput(cmd: Command): Promise<void> {
  setRawText(!!cmd.opts()['rawText']);
  const out = cmd.opts()['out'] as unknown;
  if (typeof out !== 'string') return;
  const path = commandPath(cmd);
  if (FOLDER_OUTPUT_COMMANDS.has(path)) {
    folder = OutputDir.open(out, { command: path, overwrite: !!cmd.opts()['overwrite'] });
    return;
  }
  if (!FILE_OUTPUT_COMMANDS.has(path)) return;
  // A file output: hold its lock and guard for the whole action (released by closeCommandOutput).
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let ready!: () => void;
  let failed!: (e: unknown) => void;
  const opened = new Promise<void>((res, rej) => ((ready = res), (failed = rej)));
  void withOutputFile(out, {}, () => {
    ready();
    return held;
  }).catch(failed);
  await opened;
  file = { release };
}

/**
 * Where a folder-output command writes: the staging folder of its --out (the path itself when the
 * action runs outside the CLI's hooks, e.g. in tests calling the action's code directly).
 */
export function outputFolder(out: string): string {
  return folder && folder.target === resolve(out) ? folder.staging : out;
}

/**
 * Inputs that lie in a phenomap output folder (a run's corrected.parquet, a profile run's tables)
 * must come from a finished one: a folder with summary.json but no valid complete.json is refused.
 */
export function requireCompleteInputs(paths: readonly string[]): void {
  for (const p of paths) {
    let dir: string;
    try {
      dir = statSync(p).isDirectory() ? p : dirname(p);
    } catch {
      continue; // the reader names a missing file
    }
    if (existsSync(join(dir, 'summary.json'))) requireComplete(dir, 'phenomap output folder', 'use a finished output, or rerun the command that writes it');
  }
}

/** After the action: commit the folder on success, discard it on failure; release a file's lock. */
export function closeCommandOutput(ok: boolean): void {
  if (folder) {
    const f = folder;
    folder = null;
    if (ok) f.commit();
    else f.discard();
  }
  if (file) {
    file.release();
    file = null;
  }
}
