/**
 * Output folders and files: fresh, whole, or untouched.
 *
 * A command that writes a folder (run, evaluate, map, predict, profile, …) works in a staging folder
 * next to `--out` (`.NAME.staging-PID`), writes a completion record (complete.json) last, and
 * renames the staging folder into place. An existing non-empty `--out` is refused unless the user
 * asked for `--overwrite`, and is then replaced whole, so files of an earlier run never sit beside
 * a new summary. A lock file next to `--out` (`.NAME.lock`, the owner's pid) makes a second run into
 * the same place fail at once; a lock left by a dead process is taken over.
 *
 * `--out` is checked before any work, walking up to the nearest existing folder: a virtual file
 * system (/proc: Node's recursive mkdir loops there), an existing file where a folder is wanted (or
 * the reverse), a file in the middle of the path and a folder we cannot write to each give one line.
 *
 * Temporary files of the run go into the staging folder (`scratchDir()`), so whatever stops the
 * process — an error, SIGINT, SIGTERM, even SIGKILL — they go with it: a small guard process, started
 * for CLI runs, holds a pipe from this one; when the pipe closes with the staging folder still there,
 * the process died before finishing, and the guard removes the staging folder and the lock (and puts
 * the previous output back if the process died between the two renames of the swap). Signals keep
 * their default action (a JS handler would only run once a long synchronous stage returns), so an
 * interrupted command stops at once with status 128 + signal (130 for Ctrl-C) and the guard prints
 * one line. Stale staging folders of dead processes are removed by the next run into the same place.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync, closeSync, constants, existsSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync,
  statfsSync, statSync, writeFileSync, writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { InputError, UsageError } from './errors.js';

/** Written last into every finished output folder; readers refuse a folder without it. */
export const COMPLETION_RECORD = 'complete.json';
const SCRATCH = '.tmp';

/** statfs magic numbers of kernel file systems that are no place for output. */
const VIRTUAL_FS: Record<number, string> = {
  0x9fa0: 'proc', 0x62656572: 'sysfs', 0x27e0eb: 'cgroup', 0x63677270: 'cgroup2', 0x64626720: 'debugfs', 0x74726163: 'tracefs',
  0x73636673: 'securityfs', 0x1cd1: 'devpts', 0xcafe4a11: 'bpf', 0x62656570: 'configfs', 0x6165676c: 'pstore', 0x42494e4d: 'binfmt_misc',
};

export interface OutputCheckOptions {
  /** The flag named in messages (default --out). */
  flag?: string;
  /** Whether the output is a folder or a single file. */
  kind?: 'dir' | 'file';
}

function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? '';
}

function fsReason(e: unknown): string {
  switch (codeOf(e)) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    default:
      return (e as Error)?.message ?? String(e);
  }
}

/** Does `p` exist as a directory entry (a dangling symlink counts)? */
function entryExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch (e) {
    if (codeOf(e) === 'ENOENT') return false;
    if (codeOf(e) === 'ENOTDIR') return false;
    throw e;
  }
}

/**
 * Check an output path before any work; returns it absolute. Throws a UsageError with one line
 * in the user's words for every path that cannot be written.
 */
export function checkOutputPath(path: string, opts: OutputCheckOptions = {}): string {
  const flag = opts.flag ?? '--out';
  const kind = opts.kind ?? 'dir';
  if (!path) throw new UsageError(`${flag} is empty`);
  const target = resolve(path);
  if (target === dirname(target)) throw new UsageError(`${flag} ${path}: the file system root cannot be an output ${kind === 'dir' ? 'folder' : 'file'}`);
  // The nearest existing ancestor: it must be a folder we can write in, on a real file system.
  let anc = target;
  const missing: string[] = [];
  while (!entryExists(anc)) {
    missing.push(anc);
    const up = dirname(anc);
    if (up === anc) break;
    anc = up;
  }
  let st;
  try {
    st = statSync(anc);
  } catch (e) {
    throw new UsageError(`${flag} ${path}: ${anc} cannot be used (${codeOf(e) === 'ENOENT' ? 'a symbolic link to nothing' : fsReason(e)})`);
  }
  try {
    const fs = VIRTUAL_FS[statfsSync(anc).type];
    if (fs) throw new UsageError(`${flag} ${path}: ${anc} is on the kernel's ${fs} file system, where files cannot be written; choose a folder on a disk`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  if (anc === target) {
    if (kind === 'dir' && !st.isDirectory()) throw new UsageError(`${flag} ${path} is an existing file; ${flag} takes a folder (choose another name, or remove the file)`);
    if (kind === 'file' && st.isDirectory()) throw new UsageError(`${flag} ${path} is an existing folder; ${flag} takes a file name (e.g. ${join(path, 'profiles.parquet')})`);
  } else if (!st.isDirectory()) {
    throw new UsageError(`${flag} ${path}: ${anc} is a file, so no folder can be made under it`);
  }
  const parent = anc === target ? dirname(target) : anc;
  try {
    accessSync(parent, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new UsageError(`${flag} ${path}: cannot write in ${parent} (${fsReason(e)})`);
  }
  return target;
}

/** Make the folders from the nearest existing one down to `dir`, one level at a time (no recursive mkdir). */
function makeFolders(dir: string, flag: string, shown: string): void {
  const todo: string[] = [];
  for (let d = dir; !entryExists(d); d = dirname(d)) {
    todo.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of todo.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if (codeOf(e) !== 'EEXIST') throw new UsageError(`${flag} ${shown}: cannot create ${d} (${fsReason(e)})`);
    }
  }
}

/** Is the process `pid` alive (on this machine)? */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return codeOf(e) === 'EPERM';
  }
}

function readPid(path: string): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : 0;
  } catch (e) {
    if (codeOf(e) === 'ENOENT') return null;
    throw e;
  }
}

/** Take the lock `path` for this process, or fail at once naming the owner; a dead owner's lock is taken over. */
function acquireLock(path: string, target: string, flag: string): void {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return;
    } catch (e) {
      if (codeOf(e) !== 'EEXIST') throw new UsageError(`${flag} ${target}: cannot create the lock file ${path} (${fsReason(e)})`);
    }
    const owner = readPid(path);
    if (owner === null) continue; // released meanwhile
    if (owner === process.pid) throw new UsageError(`${flag} ${target} is already being written by this process`);
    if (pidAlive(owner)) {
      throw new UsageError(`${flag} ${target} is being written by another phenomap (pid ${owner}); wait for it to finish (if pid ${owner} is not phenomap, remove ${path})`);
    }
    // Stale: move it aside under a private name, and check we moved the stale one (not a lock a
    // concurrent taker has just created), else put it back.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch (e) {
      if (codeOf(e) === 'ENOENT') continue;
      throw e;
    }
    const moved = readPid(aside);
    if (moved !== owner) {
      try {
        linkSync(aside, path);
      } catch {
        // Someone else holds it now; the next attempt reports them.
      }
    }
    rmSync(aside, { force: true });
  }
  throw new UsageError(`${flag} ${target}: could not take the lock ${path}; another process keeps changing it`);
}

function releaseLock(path: string): void {
  if (readPid(path) === process.pid) rmSync(path, { force: true });
}

/** Check `out` before any work, make its parent folders and take its lock (`.NAME.lock` beside it). */
function claimOutput(out: string, flag: string, kind: 'dir' | 'file'): { target: string; parent: string; base: string; lock: string } {
  const target = checkOutputPath(out, { flag, kind });
  const parent = dirname(target), base = basename(target);
  makeFolders(parent, flag, out);
  const lock = join(parent, `.${base}.lock`);
  acquireLock(lock, out, flag);
  return { target, parent, base, lock };
}

// ---------------------------------------------------------------------------------------------
// Scratch space and the guard process

let scratch: string | null = null;

/**
 * Where temporary files go: inside the staging folder of the output being written (so they vanish
 * with it, whatever ends the process), else the system's temporary folder.
 */
export function scratchDir(): string {
  if (scratch) {
    mkdirSync(scratch, { recursive: true });
    return scratch;
  }
  return tmpdir();
}

let guardEnabled = false;

/** Start a guard process for each output (the CLI turns this on; library callers clean up themselves). */
export function enableExitGuard(on = true): void {
  guardEnabled = on;
}

interface GuardSpec {
  pid: number;
  target: string;
  /** Folders to remove if the process dies (staging). */
  remove: string[];
  /** Files in `dir` whose names start with one of `prefixes` (a file output's temporary files). */
  prefixes: { dir: string; prefix: string }[];
  lock: string;
  /** Put `old` back at `target` when the process died between the renames of the swap. */
  old?: string;
}

// Runs in a separate process; stdin is a pipe from the command, closed by the kernel when it exits.
const GUARD_SOURCE = `
const fs = require('fs'), path = require('path');
const spec = JSON.parse(process.argv[1]);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
let done = false;
const finish = () => {
  if (done) return;
  done = true;
  let removed = false;
  try {
    for (const d of spec.remove) if (fs.existsSync(d)) { fs.rmSync(d, { recursive: true, force: true }); removed = true; }
    for (const { dir, prefix } of spec.prefixes) {
      let names = [];
      try { names = fs.readdirSync(dir); } catch {}
      for (const n of names) if (n.startsWith(prefix)) { fs.rmSync(path.join(dir, n), { recursive: true, force: true }); removed = true; }
    }
    if (spec.old && fs.existsSync(spec.old) && !fs.existsSync(spec.target)) { fs.renameSync(spec.old, spec.target); removed = true; }
    try { if (fs.readFileSync(spec.lock, 'utf8').trim() === String(spec.pid)) { fs.rmSync(spec.lock, { force: true }); removed = true; } } catch {}
  } catch (e) {
    process.stderr.write('phenomap: could not clean up after an interrupted command: ' + (e && e.message) + '\\n');
    process.exit(1);
  }
  if (removed) process.stderr.write('phenomap: stopped before finishing; removed its unfinished output (' + spec.target + (fs.existsSync(spec.target) ? ' is as it was before' : ' was not written') + ')\\n');
  process.exit(0);
};
let said = '';
process.stdin.on('data', (b) => { said += b; if (said.includes('ok')) { done = true; process.exit(0); } });
process.stdin.on('end', finish);
process.stdin.on('error', finish);
process.stdin.on('close', finish);
process.stdin.resume();
`;

function startGuard(spec: GuardSpec): ChildProcess | null {
  if (!guardEnabled) return null;
  try {
    // Its own process group: Ctrl-C in the terminal reaches the command, not the guard.
    const child = spawn(process.execPath, ['-e', GUARD_SOURCE, JSON.stringify(spec)], { stdio: ['pipe', 'ignore', 'inherit'], detached: true });
    child.on('error', () => {});
    child.stdin?.on('error', () => {});
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  } catch {
    return null;
  }
}

function stopGuard(g: ChildProcess | null): void {
  // "ok": the command finished its output (written or discarded); the guard exits without touching anything.
  g?.stdin?.end('ok\n');
}

/** Staging or swap folders of `base` in `parent` left by processes that are gone. */
function removeStale(parent: string, base: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  const re = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(staging|old)-(\\d+)(-\\d+)?$`);
  for (const n of names) {
    const m = re.exec(n);
    if (m && !pidAlive(Number(m[2]))) rmSync(join(parent, n), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Completion record

export interface CompletionRecord {
  phenomap: string;
  command: string;
  /** Every file of the folder (relative path → bytes), the record itself excepted. */
  files: Record<string, number>;
}

function listFiles(dir: string, root = dir, out: Record<string, number> = {}): Record<string, number> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) listFiles(p, root, out);
    else if (st.isFile()) {
      const rel = relative(root, p).split(sep).join('/');
      if (rel !== COMPLETION_RECORD) out[rel] = st.size;
    }
  }
  return out;
}

/** Write `dir`'s completion record (the last file of a finished output). */
export function writeCompletionRecord(dir: string, command: string): CompletionRecord {
  const record: CompletionRecord = { phenomap: '0.1.0', command, files: listFiles(dir) };
  const tmp = join(dir, `.${COMPLETION_RECORD}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(record, null, 1) + '\n');
  renameSync(tmp, join(dir, COMPLETION_RECORD));
  return record;
}

/**
 * Refuse an output folder that is not complete: no completion record (interrupted, still being
 * written, or from an older phenomap), or a listed file missing or of another size.
 */
export function requireComplete(dir: string, what = 'phenomap output folder', rerun = 'run the command again with --overwrite'): CompletionRecord {
  const path = join(dir, COMPLETION_RECORD);
  if (!existsSync(path)) {
    throw new InputError(`${dir}: not a complete ${what}: ${COMPLETION_RECORD} is missing (the command that wrote it was interrupted, is still running, or is from an older phenomap); ${rerun}`);
  }
  let record: CompletionRecord;
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as CompletionRecord;
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${(e as Error).message}); ${rerun}`);
  }
  const files = record?.files && typeof record.files === 'object' ? record.files : {};
  const bad: string[] = [];
  for (const [name, bytes] of Object.entries(files)) {
    let size: number | null = null;
    try {
      size = statSync(join(dir, name)).size;
    } catch {
      size = null;
    }
    if (size === null) bad.push(`${name} is missing`);
    else if (size !== bytes) bad.push(`${name} has ${size} bytes, ${bytes} were written`);
  }
  if (bad.length) throw new InputError(`${dir}: not a complete ${what}: ${bad.slice(0, 3).join('; ')}${bad.length > 3 ? `; and ${bad.length - 3} more` : ''}; ${rerun}`);
  return record;
}

// ---------------------------------------------------------------------------------------------
// Output folders

export interface OutputDirOptions {
  /** Name of the command, kept in the completion record. */
  command: string;
  /** Replace an existing non-empty folder (whole). */
  overwrite?: boolean;
  flag?: string;
}

let opened = 0;

export class OutputDir {
  private done = false;
  private constructor(
    /** Where the output ends up. */
    readonly target: string,
    /** Where it is written meanwhile: pass this to the code that writes. */
    readonly staging: string,
    private readonly lock: string,
    private readonly command: string,
    private readonly guard: ChildProcess | null,
    private readonly stamp: string,
  ) {}

  /** Check `out`, take its lock, and make an empty staging folder. */
  static open(out: string, opts: OutputDirOptions): OutputDir {
    const flag = opts.flag ?? '--out';
    const { target, parent, base, lock } = claimOutput(out, flag, 'dir');
    try {
      if (existsSync(target) && !opts.overwrite) {
        const names = readdirSync(target);
        if (names.length > 0) {
          throw new UsageError(
            `${flag} ${out} already exists and is not empty (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}); add --overwrite to replace it whole, or choose another folder`,
          );
        }
      }
      removeStale(parent, base);
      const stamp = `${process.pid}-${++opened}`;
      const staging = join(parent, `.${base}.staging-${stamp}`);
      rmSync(staging, { recursive: true, force: true });
      try {
        mkdirSync(staging);
      } catch (e) {
        throw new UsageError(`${flag} ${out}: cannot create ${staging} (${fsReason(e)})`);
      }
      const guard = startGuard({ pid: process.pid, target, remove: [staging], prefixes: [], lock, old: join(parent, `.${base}.old-${stamp}`) });
      scratch = join(staging, SCRATCH);
      return new OutputDir(target, staging, lock, opts.command, guard, stamp);
    } catch (e) {
      releaseLock(lock);
      throw e;
    }
  }

  /** Finish: write the completion record and put the staging folder in place of the target. */
  commit(): void {
    if (this.done) return;
    rmSync(join(this.staging, SCRATCH), { recursive: true, force: true });
    writeCompletionRecord(this.staging, this.command);
    const old = join(dirname(this.target), `.${basename(this.target)}.old-${this.stamp}`);
    let moved = false;
    if (existsSync(this.target)) {
      if (readdirSync(this.target).length === 0) rmdirSync(this.target);
      else {
        renameSync(this.target, old);
        moved = true;
      }
    }
    renameSync(this.staging, this.target);
    if (moved) rmSync(old, { recursive: true, force: true });
    this.finish();
  }

  /** Give up: remove the staging folder; the target stays as it was. */
  discard(): void {
    if (this.done) return;
    rmSync(this.staging, { recursive: true, force: true });
    this.finish();
  }

  private finish(): void {
    this.done = true;
    if (scratch === join(this.staging, SCRATCH)) scratch = null;
    releaseLock(this.lock);
    stopGuard(this.guard);
  }
}

/** Run `work` on a staging folder for `out`; on success it replaces `out` whole, on failure it is removed. */
export async function withOutputDir<T>(out: string, opts: OutputDirOptions, work: (dir: string) => Promise<T> | T): Promise<T> {
  const od = OutputDir.open(out, opts);
  try {
    const r = await work(od.staging);
    od.commit();
    return r;
  } catch (e) {
    od.discard();
    throw e;
  }
}

/**
 * A single output file (tables, models): checked before any work, locked, and guarded so that the
 * temporary files of its atomic write (`.NAME.PID.*`, src/util/atomic.ts) are removed if the
 * process dies. The file itself is replaced by rename, so it is whole or untouched.
 */
export async function withOutputFile<T>(out: string, opts: { flag?: string }, work: () => Promise<T> | T): Promise<T> {
  const { target, parent, base, lock } = claimOutput(out, opts.flag ?? '--out', 'file');
  const guard = startGuard({ pid: process.pid, target, remove: [], prefixes: [{ dir: parent, prefix: `.${base}.${process.pid}.` }], lock });
  try {
    return await work();
  } finally {
    releaseLock(lock);
    stopGuard(guard);
  }
}
