/**
 * Small helpers around DuckDB's Node API (@duckdb/node-api): one short-lived in-memory
 * instance per read or write, its memory limit and spill folder, SQL quoting, typed column access
 * without one JS value per cell where it matters, and DuckDB's out-of-memory failure in the
 * user's words.
 *
 * Memory. DuckDB's buffers sit beside the profile matrix in the same process, and their need
 * grows with the table's width (a scan holds a vector of 2,048 values per column and thread). The
 * limit therefore follows the machine — 60 % of the memory available when the session opens, at
 * least 256 MiB — unless `--memory` (setMemoryLimit), PHENOMAP_DUCKDB_MEMORY or a per-call option
 * names one. The same budget bounds the matrix phenomap's own text reader allocates. What DuckDB
 * cannot hold it may spill to a private temporary folder, removed when the session closes (and at
 * process exit if a session was never closed).
 */
import { cpus, freemem } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { scratchDir } from '../util/outputDir.js';
import { join } from 'node:path';
import type { DuckDBInstance, DuckDBConnection, DuckDBDataChunk } from '@duckdb/node-api';
import { InputError, UsageError } from '../util/errors.js';

export interface DuckSession {
  readonly con: DuckDBConnection;
  /** The memory limit the session runs under. */
  readonly memory: MemoryLimit;
  close(): void;
}

export interface DuckOptions {
  /** Memory limit for this session (a size such as "2GB" or bytes); default: memoryLimit(). */
  memoryLimit?: string | number;
  threads?: number;
  /** Keep the file's row order in results (default true); off when rows carry their own index. */
  preserveOrder?: boolean;
}

/** Where a memory limit came from, for messages that tell the user what to change. */
export type MemorySource = 'option' | 'flag' | 'env' | 'machine';

export interface MemoryLimit {
  readonly bytes: number;
  readonly source: MemorySource;
}

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** Smallest limit accepted: below it DuckDB cannot even open a Parquet footer of a wide file. */
export const MIN_MEMORY = 64e6;
/** Floor of the machine-derived default. */
const MIN_DEFAULT = 256 * 2 ** 20;
/** Share of the available memory the default takes. */
const DEFAULT_SHARE = 0.6;

/**
 * A size as written by a user: "2GB", "1.5 GiB", "512MB", "800m" (k/m/g/t alone are binary units,
 * as in `java -Xmx`), or a number of bytes. `what` names the flag or variable in the error.
 */
export function parseMemorySize(text: string | number, what: string): number {
  if (typeof text === 'number') {
    if (!(Number.isFinite(text) && text > 0)) throw new UsageError(`${what} must be a positive size, got ${text}`);
    return Math.floor(text);
  }
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${what} must be a size such as 2GB, 512MB or 1.5GiB, got "${text}"`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < MIN_MEMORY) throw new UsageError(`${what} must be at least ${formatBytes(MIN_MEMORY)}, got "${text}"`);
  return bytes;
}

/** "1.24 GB"-style text (decimal units, as `ls -h --si` and DuckDB's messages). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(bytes >= 1e10 ? 1 : 2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(bytes >= 1e8 ? 0 : 1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(0)} kB`;
  return `${bytes} B`;
}

/** A size to suggest in a message: the need rounded up to a whole GB (or 256 MB below 1 GB). */
export function suggestSize(bytes: number): string {
  if (bytes < 1e9) return `${Math.max(256, Math.ceil(bytes / 256e6) * 256)}MB`;
  return `${Math.ceil(bytes / 1e9)}GB`;
}

let flagLimit: number | undefined;

/**
 * The process-wide limit named by the command line (`--memory`); undefined clears it. Every
 * DuckDB session and table read of this process then uses it unless a call names its own.
 */
export function setMemoryLimit(size: string | number | undefined): void {
  flagLimit = size === undefined ? undefined : parseMemorySize(size, '--memory');
}

/** The memory limit in force: per-call option, then --memory, then PHENOMAP_DUCKDB_MEMORY, then the machine's share. */
export function memoryLimit(override?: string | number): MemoryLimit {
  if (override !== undefined) return { bytes: parseMemorySize(override, 'the memory limit'), source: 'option' };
  if (flagLimit !== undefined) return { bytes: flagLimit, source: 'flag' };
  const env = process.env.PHENOMAP_DUCKDB_MEMORY;
  if (env !== undefined && env.trim() !== '') return { bytes: parseMemorySize(env, 'PHENOMAP_DUCKDB_MEMORY'), source: 'env' };
  return { bytes: Math.max(MIN_DEFAULT, Math.floor(DEFAULT_SHARE * freemem())), source: 'machine' };
}

/** How to change the limit, in the words that fit where it came from. */
export function memoryAdvice(limit: MemoryLimit, needBytes: number): string {
  const s = suggestSize(needBytes);
  const how = limit.source === 'env' ? `PHENOMAP_DUCKDB_MEMORY=${s} (or --memory ${s})` : `--memory ${s} (or PHENOMAP_DUCKDB_MEMORY=${s})`;
  const whence = limit.source === 'machine' ? ' (60 % of the memory now available)' : limit.source === 'option' ? ' (memoryLimit option)' : '';
  return `the memory limit is ${formatBytes(limit.bytes)}${whence}; raise it with ${how}`;
}

const liveTempDirs = new Set<string>();
let exitHook = false;

function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveTempDirs.delete(dir);
}

/** Threads of a DuckDB session: PHENOMAP_DUCKDB_THREADS, else the cores (at most 4). */
export function duckThreads(opts: DuckOptions = {}): number {
  const envThreads = Number(process.env.PHENOMAP_DUCKDB_THREADS);
  return opts.threads ?? (envThreads >= 1 ? Math.floor(envThreads) : Math.max(1, Math.min(4, cpus().length)));
}

export async function openDuck(opts: DuckOptions = {}): Promise<DuckSession> {
  const threads = duckThreads(opts);
  const memory = memoryLimit(opts.memoryLimit);
  // A private spill folder per session (DuckDB's default is ./.tmp in the user's working
  // directory), removed on close; inside the output's staging folder when there is one, so a
  // killed process leaves nothing behind.
  const temp = mkdtempSync(join(scratchDir(), 'phenomap-duckdb-'));
  liveTempDirs.add(temp);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const d of [...liveTempDirs]) removeTempDir(d);
    });
  }
  let instance: DuckDBInstance;
  try {
    // Loaded on first use: the native library costs ~1 s of CPU to load, which every command paid
    // at start-up before, including those that never open a table through DuckDB.
    const { DuckDBInstance: Duck } = await import('@duckdb/node-api');
    instance = await Duck.create(':memory:', {
      threads: String(threads),
      memory_limit: `${Math.max(1, Math.floor(memory.bytes / 2 ** 20))}MiB`,
      // Row order of the file must survive the scan (row k of X = data row k of the file) unless
      // the caller places rows by their file row number itself.
      preserve_insertion_order: opts.preserveOrder === false ? 'false' : 'true',
      temp_directory: temp,
    });
  } catch (e) {
    removeTempDir(temp);
    throw e;
  }
  const con = await instance.connect();
  return {
    con,
    memory,
    close() {
      try {
        con.closeSync();
        instance.closeSync();
      } finally {
        removeTempDir(temp);
      }
    },
  };
}

export async function withDuck<T>(fn: (con: DuckDBConnection, session: DuckSession) => Promise<T>, opts?: DuckOptions): Promise<T> {
  const s = await openDuck(opts);
  try {
    return await fn(s.con, s);
  } finally {
    s.close();
  }
}

/**
 * withDuck for work on one table file: DuckDB running out of memory becomes the user's message
 * (outOfMemoryError), sized for a scan of `columns` columns.
 */
export async function withDuckOn<T>(path: string, what: string, columns: number, fn: (con: DuckDBConnection, session: DuckSession) => Promise<T>, opts: DuckOptions = {}): Promise<T> {
  let memory: MemoryLimit | undefined;
  try {
    return await withDuck((con, s) => {
      memory = s.memory;
      return fn(con, s);
    }, opts);
  } catch (e) {
    if (memory && isOutOfMemory(e)) throw outOfMemoryError(path, what, memory, duckScanBytes(columns, duckThreads(opts)));
    throw e;
  }
}

/** DuckDB refused an allocation (its buffer manager reached the memory limit). */
export function isOutOfMemory(e: unknown): boolean {
  const m = e instanceof Error ? e.message : String(e);
  return /Out of Memory Error|could not allocate|failed to allocate/i.test(m);
}

/**
 * DuckDB's working memory for scanning `columns` columns at once: per thread, a vector of 2,048
 * values per column for the raw text, the parsed values and the result chunk (measured: 125 ×
 * 5,800 CSV columns fail under 512 MB with 2 threads and read under ~800 MB), plus a fixed base.
 */
export function duckScanBytes(columns: number, threads: number): number {
  return 64 * 2 ** 20 + threads * columns * 2048 * 40;
}

/** The user's message for DuckDB running out of memory while working on `path`. */
export function outOfMemoryError(path: string, what: string, limit: MemoryLimit, needBytes: number): InputError {
  return new InputError(`${path}: not enough memory for DuckDB to ${what}: it needs about ${formatBytes(needBytes)}, and ${memoryAdvice(limit, needBytes)}`);
}

/** A quoted SQL identifier: column names with spaces, brackets or quotes must survive. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A quoted SQL string literal. */
export function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** First line of a DuckDB error message (they run to many lines of hints). */
export function duckMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return (m.split('\n').find((l) => l.trim() !== '') ?? m).trim();
}

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL(\(.*\))?)$/;

export function isNumericType(t: string): boolean {
  return NUMERIC_TYPE.test(t);
}

/**
 * The values of a DOUBLE column of a chunk as a Float64Array view of DuckDB's own buffer.
 * The node-api vector keeps this buffer in a field that its typings mark private; reading it
 * directly avoids a method call and a BigInt validity test per cell (100 M cells in a large
 * table). Callers select `coalesce(x, 'NaN')` so that no validity mask is needed. Falls back to
 * per-item access if the library's internals ever change.
 */
export function doubleColumn(chunk: DuckDBDataChunk, col: number, out?: Float64Array): Float64Array {
  const vec = chunk.getColumnVector(col);
  const items = (vec as unknown as { items?: unknown }).items;
  const n = chunk.rowCount;
  if (items instanceof Float64Array && items.length >= n) return items.length === n ? items : items.subarray(0, n);
  const o = out && out.length >= n ? out.subarray(0, n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = vec.getItem(i);
    o[i] = typeof v === 'number' ? v : NaN;
  }
  return o;
}

/** A VARCHAR column of a chunk as strings (null for SQL NULL). */
export function stringColumn(chunk: DuckDBDataChunk, col: number): (string | null)[] {
  const vec = chunk.getColumnVector(col);
  const n = chunk.rowCount;
  const out: (string | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const v = vec.getItem(i);
    out[i] = v === null || v === undefined ? null : String(v);
  }
  return out;
}
