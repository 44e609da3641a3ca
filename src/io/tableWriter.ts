/**
 * Writing a table block by block, for outputs too large to hold (a plate's merged single cells:
 * 10⁶ rows × 1,500 features is 12 GB): CSV, CSV.gz, TSV(.gz) as text streamed to disk, Parquet
 * through a DuckDB table on disk (rows appended a vector at a time, then one COPY). Either way the
 * file appears under its name only when complete; an aborted writer leaves nothing behind.
 */
import { createWriteStream, renameSync, rmSync, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { basename, dirname, join } from 'node:path';
import { DuckDBDataChunk, DOUBLE, VARCHAR, DuckDBInstance, type DuckDBAppender, type DuckDBConnection, type DuckDBDoubleVector } from '@duckdb/node-api';
import { fileKind } from './text.js';
import { ident, lit } from './duck.js';
import { formatNumber, PARQUET_NAMES_KEY, quoteField } from './write.js';
import { InputError } from '../util/errors.js';

export interface ColumnSpec {
  readonly name: string;
  readonly kind: 'string' | 'number';
}

/** A block of rows: metadata values per column, features row-major. */
export interface RowBlock {
  readonly rows: number;
  readonly meta: readonly (readonly (string | number | null)[] | Float64Array)[];
  /** rows × features. */
  readonly X: Float64Array;
}

export interface TableWriter {
  append(block: RowBlock): Promise<void>;
  /** Finish and move the file into place. */
  close(): Promise<void>;
  /** Stop and remove everything written so far. */
  abort(): Promise<void>;
}

function tempName(path: string, suffix: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${suffix}`);
}

class TextWriter implements TableWriter {
  private out: Writable;
  private readonly file: Writable;
  constructor(
    private readonly path: string,
    private readonly tmp: string,
    private readonly meta: readonly ColumnSpec[],
    private readonly nf: number,
    private readonly delim: string,
    gzip: boolean,
    header: readonly string[],
  ) {
    this.file = createWriteStream(tmp);
    this.out = this.file;
    if (gzip) {
      const gz = createGzip({ level: 6 });
      gz.pipe(this.file);
      this.out = gz;
    }
    this.out.write(header.map((h) => quoteField(h, delim)).join(delim) + '\n');
  }

  async append(b: RowBlock): Promise<void> {
    let chunk = '';
    const d = this.delim;
    for (let i = 0; i < b.rows; i++) {
      let line = '';
      for (let c = 0; c < this.meta.length; c++) {
        const v = b.meta[c]![i];
        const s = v === null || v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : quoteField(v, d);
        line += (c > 0 ? d : '') + s;
      }
      const o = i * this.nf;
      for (let j = 0; j < this.nf; j++) line += (this.meta.length + j > 0 ? d : '') + formatNumber(b.X[o + j]!);
      chunk += line + '\n';
      if (chunk.length > 1 << 20) {
        if (!this.out.write(chunk)) await once(this.out, 'drain');
        chunk = '';
      }
    }
    if (chunk && !this.out.write(chunk)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    this.out.end();
    await finished(this.file);
    renameSync(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    this.out.destroy();
    this.file.destroy();
    rmSync(this.tmp, { force: true });
  }
}

const CHUNK_ROWS = 2048;

function concatBlocks(blocks: readonly RowBlock[], nm: number, nf: number): RowBlock {
  const rows = blocks.reduce((a, b) => a + b.rows, 0);
  const X = new Float64Array(rows * nf);
  let o = 0;
  for (const b of blocks) {
    X.set(b.X.subarray(0, b.rows * nf), o * nf);
    o += b.rows;
  }
  const meta = Array.from({ length: nm }, (_, c) => blocks.flatMap((b) => Array.from(b.meta[c]!).slice(0, b.rows)));
  return { rows, meta, X };
}

class ParquetWriter implements TableWriter {
  /** Rows wait here until a full DuckDB chunk can be appended (per-chunk costs dominate small blocks). */
  private pending: RowBlock[] = [];
  private pendingRows = 0;

  constructor(
    private readonly path: string,
    private readonly dbPath: string,
    private readonly instance: DuckDBInstance,
    private readonly con: DuckDBConnection,
    private readonly appender: DuckDBAppender,
    private readonly meta: readonly ColumnSpec[],
    private readonly nf: number,
    private readonly names: readonly string[],
  ) {}

  async append(b: RowBlock): Promise<void> {
    this.pending.push(b);
    this.pendingRows += b.rows;
    if (this.pendingRows >= CHUNK_ROWS) this.flushPending();
  }

  private flushPending(): void {
    if (!this.pendingRows) return;
    const blocks = this.pending;
    const b = blocks.length === 1 ? blocks[0]! : concatBlocks(blocks, this.meta.length, this.nf);
    this.pending = [];
    this.pendingRows = 0;
    this.appendBlock(b);
  }

  private appendBlock(b: RowBlock): void {
    const types = [...this.meta.map((m) => (m.kind === 'number' ? DOUBLE : VARCHAR)), ...Array.from({ length: this.nf }, () => DOUBLE)];
    for (let r0 = 0; r0 < b.rows; r0 += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, b.rows - r0);
      const chunk = DuckDBDataChunk.create(types, n);
      for (let c = 0; c < this.meta.length; c++) {
        const src = b.meta[c]!;
        const vals: (string | number | null)[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const v = src[r0 + i];
          vals[i] = v === undefined || (typeof v === 'number' && Number.isNaN(v)) ? null : v;
        }
        chunk.setColumnValues(c, vals);
      }
      for (let j = 0; j < this.nf; j++) {
        const vec = chunk.getColumnVector(this.meta.length + j) as DuckDBDoubleVector;
        // As doubleColumn (duck.ts) reads it: the vector's own Float64Array, private in the
        // typings, written whole and flushed once instead of one setItem call per cell.
        const items = (vec as unknown as { items?: unknown }).items;
        if (items instanceof Float64Array && items.length >= n) {
          for (let i = 0; i < n; i++) items[i] = b.X[(r0 + i) * this.nf + j]!;
        } else {
          for (let i = 0; i < n; i++) vec.setItem(i, b.X[(r0 + i) * this.nf + j]!);
        }
        vec.flush();
      }
      this.appender.appendDataChunk(chunk);
    }
  }

  async close(): Promise<void> {
    this.flushPending();
    this.appender.closeSync();
    const tmp = tempName(this.path, '.tmp.parquet');
    try {
      const select = this.names.map((n, i) => `c${i} AS ${ident(n)}`).join(', ');
      await this.con.run(
        // Feature values rarely repeat: trying a dictionary per column chunk only costs (≈ 2× the write).
        `COPY (SELECT ${select} FROM t) TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 16384, DICTIONARY_SIZE_LIMIT 0, ` +
          `KV_METADATA {${lit(PARQUET_NAMES_KEY)}: ${lit(JSON.stringify(this.names))}})`,
      );
      renameSync(tmp, this.path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    } finally {
      this.con.closeSync();
      this.instance.closeSync();
      rmSync(this.dbPath, { force: true });
      rmSync(`${this.dbPath}.wal`, { force: true });
    }
  }

  async abort(): Promise<void> {
    try {
      this.appender.closeSync();
    } catch {
      // already failed; removing the files is what matters
    }
    this.con.closeSync();
    this.instance.closeSync();
    rmSync(this.dbPath, { force: true });
    rmSync(`${this.dbPath}.wal`, { force: true });
  }
}

/** Open a writer for `path` (format by extension). Column names must be distinct. */
export async function openTableWriter(path: string, meta: readonly ColumnSpec[], features: readonly string[]): Promise<TableWriter> {
  const kind = fileKind(path);
  const names = [...meta.map((m) => m.name), ...features];
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new InputError(`${path}: cannot write two columns named "${n}"`);
    seen.add(n);
  }
  mkdirSync(dirname(path), { recursive: true });
  if (kind.format !== 'parquet') {
    return new TextWriter(path, tempName(path, '.tmp'), meta, features.length, kind.format === 'tsv' ? '\t' : ',', kind.gzip, names);
  }
  // Positional names inside DuckDB (its identifiers ignore case); the real names return in COPY.
  const dbPath = tempName(path, '.tmp.duckdb');
  const instance = await DuckDBInstance.create(dbPath, { threads: '2', preserve_insertion_order: 'true' });
  const con = await instance.connect();
  try {
    const cols = names.map((_, i) => `c${i} ${i < meta.length && meta[i]!.kind === 'string' ? 'VARCHAR' : 'DOUBLE'}`);
    await con.run(`CREATE TABLE t (${cols.join(', ')})`);
    const appender = await con.createAppender('t');
    return new ParquetWriter(path, dbPath, instance, con, appender, meta, features.length, names);
  } catch (e) {
    con.closeSync();
    instance.closeSync();
    rmSync(dbPath, { force: true });
    throw e;
  }
}
