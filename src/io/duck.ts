/**
 * Small helpers around DuckDB's Node API (@duckdb/node-api): one short-lived in-memory
 * instance per read or write, SQL quoting, and typed column access without one JS value per
 * cell where it matters.
 */
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBDataChunk } from '@duckdb/node-api';

export interface DuckSession {
  readonly con: DuckDBConnection;
  close(): void;
}

/**
 * An in-memory DuckDB with a bounded footprint: its buffers sit beside the profile matrix in the
 * same process, so a memory limit keeps the peak close to the matrix itself.
 */
export interface DuckOptions {
  memoryLimit?: string;
  threads?: number;
  /** Keep the file's row order in results (default true); off when rows carry their own index. */
  preserveOrder?: boolean;
}

export async function openDuck(opts: DuckOptions = {}): Promise<DuckSession> {
  const envThreads = Number(process.env.PHENOMAP_DUCKDB_THREADS);
  const threads = opts.threads ?? (envThreads >= 1 ? Math.floor(envThreads) : Math.max(1, Math.min(4, cpus().length)));
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(threads),
    memory_limit: opts.memoryLimit ?? process.env.PHENOMAP_DUCKDB_MEMORY ?? '512MB',
    // Row order of the file must survive the scan (row k of X = data row k of the file) unless
    // the caller places rows by their file row number itself.
    preserve_insertion_order: opts.preserveOrder === false ? 'false' : 'true',
    // When DuckDB spills (ordered parallel scans of wide Parquet files can), it must not do so
    // into the user's working directory (its default is ./.tmp).
    temp_directory: join(tmpdir(), `phenomap-duckdb-${process.pid}`),
  });
  const con = await instance.connect();
  return {
    con,
    close() {
      con.closeSync();
      instance.closeSync();
    },
  };
}

export async function withDuck<T>(fn: (con: DuckDBConnection) => Promise<T>, opts?: DuckOptions): Promise<T> {
  const s = await openDuck(opts);
  try {
    return await fn(s.con);
  } finally {
    s.close();
  }
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
