/**
 * Writing a table block by block, for outputs too large to hold (a plate's merged single cells:
 * 10⁶ rows × 1,500 features is 12 GB): CSV, CSV.gz, TSV(.gz) as text streamed to disk, Parquet
 * row group by row group (io/parquet.ts). Either way the
 * file appears under its name only when complete; an aborted writer leaves nothing behind.
 */
import { createWriteStream, renameSync, rmSync, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { basename, dirname, join } from 'node:path';
import { fileKind } from './text.js';
import { ParquetWriter as PqWriter, rowGroupRows, type WriterColumn } from './parquet.js';
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

/**
 * Parquet written row group by row group with phenomap's own writer (parquet.ts): one group of
 * about 64 MB is buffered column by column, written, and forgotten, so memory stays bounded
 * whatever the table's length. (Through DuckDB — a table on disk, then COPY — its buffer cache
 * grew with the table: 9.5 GB for 200,000 cells × 1,500 features.)
 */
class ParquetTableWriter implements TableWriter {
  private readonly w: PqWriter;
  private readonly groupRows: number;
  private readonly numCols: Float64Array[];
  private readonly textCols: (string | null)[][];
  private filled = 0;

  constructor(
    private readonly path: string,
    private readonly tmp: string,
    private readonly meta: readonly ColumnSpec[],
    private readonly nf: number,
    names: readonly string[],
    groupRows?: number,
  ) {
    const cols: WriterColumn[] = names.map((name, i) => ({ name, kind: i < meta.length && meta[i]!.kind === 'string' ? 'text' : 'double' }));
    this.groupRows = groupRows ?? rowGroupRows(cols.length);
    this.numCols = cols.map((c) => (c.kind === 'double' ? new Float64Array(this.groupRows) : new Float64Array(0)));
    this.textCols = cols.map((c) => (c.kind === 'text' ? new Array<string | null>(this.groupRows).fill(null) : []));
    this.w = new PqWriter(tmp, cols, [[PARQUET_NAMES_KEY, JSON.stringify(names)]]);
  }

  async append(b: RowBlock): Promise<void> {
    const nm = this.meta.length, nf = this.nf, G = this.groupRows;
    for (let r0 = 0; r0 < b.rows;) {
      const take = Math.min(G - this.filled, b.rows - r0);
      const at = this.filled;
      for (let c = 0; c < nm; c++) {
        const src = b.meta[c]!;
        if (this.meta[c]!.kind === 'string') {
          const dst = this.textCols[c]!;
          for (let i = 0; i < take; i++) {
            const v = src[r0 + i];
            dst[at + i] = v === null || v === undefined ? null : typeof v === 'number' ? (Number.isNaN(v) ? null : String(v)) : v;
          }
        } else {
          const dst = this.numCols[c]!;
          for (let i = 0; i < take; i++) {
            const v = src[r0 + i];
            dst[at + i] = v === null || v === undefined ? NaN : typeof v === 'number' ? v : Number(v);
          }
        }
      }
      // Row-major block → column buffers; the rows are read in order, each column written strided.
      const X = b.X;
      for (let i = 0; i < take; i++) {
        const o = (r0 + i) * nf;
        for (let j = 0; j < nf; j++) this.numCols[nm + j]![at + i] = X[o + j]!;
      }
      this.filled += take;
      r0 += take;
      if (this.filled === G) this.flush();
    }
  }

  private flush(): void {
    const n = this.filled;
    if (!n) return;
    this.w.writeRowGroup(n, (c) => (c < this.meta.length && this.meta[c]!.kind === 'string' ? this.textCols[c]!.slice(0, n) : this.numCols[c]!.subarray(0, n)));
    this.filled = 0;
  }

  async close(): Promise<void> {
    try {
      this.flush();
      this.w.close();
      renameSync(this.tmp, this.path);
    } catch (e) {
      rmSync(this.tmp, { force: true });
      throw e;
    }
  }

  async abort(): Promise<void> {
    this.w.abort();
    rmSync(this.tmp, { force: true });
  }
}

export interface TableWriterOptions {
  /** Parquet rows per row group (default: about 64 MB of values). */
  readonly rowGroupRows?: number;
}

/** Open a writer for `path` (format by extension). Column names must be distinct. */
export async function openTableWriter(path: string, meta: readonly ColumnSpec[], features: readonly string[], opts: TableWriterOptions = {}): Promise<TableWriter> {
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
  return new ParquetTableWriter(path, tempName(path, '.tmp.parquet'), meta, features.length, names, opts.rowGroupRows);
}
