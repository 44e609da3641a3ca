/**
 * Reading CellProfiler-style profile tables (CSV, CSV.gz, TSV(.gz), TXT(.gz), Parquet) into
 * Profiles: one contiguous row-major Float64Array of features plus typed metadata columns.
 *
 * Delimited text is parsed by phenomap's own streamed reader (delimited.ts), Parquet by DuckDB
 * (read_parquet, its result chunks streamed in groups of columns); either way the values go
 * straight into a matrix allocated once, so a 100,000 × 1,000 table costs about its raw float64
 * size (800 MB) plus bounded buffers — never one JS value per cell.
 *
 * Features vs metadata (pycytominer's convention): numeric columns whose names start with a
 * CellProfiler compartment prefix (Cells_, Cytoplasm_, Nuclei_, plus user prefixes) are
 * features; Metadata_* and every other column are metadata. `features` / `metadata` (exact
 * names or picomatch globs) override the detection.
 */
import { basename } from 'node:path';
import picomatch from 'picomatch';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Dropped, MetaColumn, Profiles } from './profiles.js';
import type { FeatureArray, Matrix, Precision, StoredMatrix } from '../linalg/matrix.js';
import { allocFeatures } from '../linalg/matrix.js';
import { InputError } from '../util/errors.js';
import { silentReporter, type Reporter } from '../util/log.js';
import {
  type MemoryLimit, formatBytes, memoryAdvice, duckMessage, duckScanBytes, duckThreads, doubleColumn, ident, isNumericType, isOutOfMemory, lit, memoryLimit, outOfMemoryError, stringColumn, withDuck, withDuckOn,
} from './duck.js';
import { readDelimited } from './delimited.js';
import { parseDecimalText } from './decimal.js';
import { type ColumnValues, type ParquetLeaf, type ParquetMeta, ParquetUnsupported, PQ, decodeColumnChunk, parquetUnsupported, readChunk, readParquetMeta } from './parquet.js';
import { ThriftError } from './thrift.js';
import { closeSync, openSync } from 'node:fs';
import { checkDuplicateNames, checkReadable, delimiterFor, textOptions, type TableFormat, type TextOptions, sniffFileKind } from './text.js';

export { writeProfiles } from './write.js';
import { PARQUET_NAMES_KEY } from './write.js';
import { interchangeFormat, readInterchange } from './interchange.js';

export const DEFAULT_FEATURE_PREFIXES: readonly string[] = ['Cells_', 'Cytoplasm_', 'Nuclei_'];

export interface ReadOptions {
  /** Feature columns (exact names or globs); when given, only these are features. */
  features?: string[];
  /** Columns forced to metadata (exact names or globs), even if they look like features. */
  metadata?: string[];
  /** Extra feature name prefixes besides Cells_, Cytoplasm_, Nuclei_. */
  featurePrefixes?: string[];
  /**
   * Feature storage. 'float32' halves the matrix (values rounded to ~7 significant digits;
   * every later sum is still float64); a finite value beyond float32's range is then an error
   * naming its column and row. Default 'float64'.
   */
  precision?: Precision;
  /**
   * Memory the read may use (a size such as "4GB", or bytes): DuckDB's limit for Parquet and the
   * ceiling for the matrix of a text table. Default: `--memory`, PHENOMAP_DUCKDB_MEMORY, else 60 %
   * of the memory available (duck.ts, memoryLimit).
   */
  memoryLimit?: string | number;
  reporter?: Reporter;
  /**
   * Delimited text: the delimiter (instead of the one guessed from the header) and the encoding
   * (default UTF-8; a byte that is not UTF-8 is an error naming its line). Default: the command
   * line's `--delimiter` / `--encoding` (text.ts, setTextOptions).
   */
  text?: TextOptions;
}

export interface NanCounts {
  /** Missing values per feature, only for features with at least one. */
  readonly perFeature: Record<string, number>;
  /** All missing feature values. */
  readonly total: number;
  /** Rows with at least one missing feature value. */
  readonly rowsWithNaN: number;
}

export interface IngestReport {
  readonly file: string;
  readonly format: TableFormat;
  readonly gzip: boolean;
  readonly rows: number;
  /** Number of feature columns kept. */
  readonly features: number;
  readonly metadataColumns: string[];
  readonly nanCounts: NanCounts;
  readonly droppedRows: Dropped[];
  readonly droppedFeatures: Dropped[];
  /** Size of the file on disk. */
  readonly bytes: number;
  /** Size of the uncompressed text (equal to bytes for plain text; undefined for Parquet). */
  readonly textBytes?: number;
  readonly seconds: number;
}

export interface ReadResult<M extends StoredMatrix = Matrix> {
  readonly profiles: Profiles<M>;
  readonly report: IngestReport;
}

/** Largest finite float32. */
const F32_MAX = 3.4028234663852886e38;

type Role = 'feature' | 'meta' | 'auto';

interface Column {
  /** The name as written in the file. */
  readonly name: string;
  /**
   * The name DuckDB knows it by. DuckDB identifiers are case-insensitive, and the LINCS plate
   * has both Metadata_plate_map_name and Metadata_Plate_Map_Name, so text files are read with
   * positional names c0, c1, … and Parquet columns by DuckDB's deduplicated names.
   */
  readonly sql: string;
  readonly type: string;
}

/**
 * Column matcher for --features / --metadata. A pattern equal to an existing column name is that
 * name only (cell-injury names such as `Characteristics [Organism]` would otherwise be read as
 * globs with a character class); any other pattern is a picomatch glob.
 */
export function nameMatcher(patterns: string[], columns: string[] = []): (name: string) => boolean {
  const known = new Set(columns);
  const exact = new Set(patterns);
  const globs = patterns.filter((p) => !known.has(p)).map((p) => picomatch(p, { dot: true }));
  return (name) => exact.has(name) || globs.some((g) => g(name));
}

function assignRoles(path: string, names: string[], opts: ReadOptions): Role[] {
  const prefixes = [...DEFAULT_FEATURE_PREFIXES, ...(opts.featurePrefixes ?? [])];
  const isMeta = opts.metadata?.length ? nameMatcher(opts.metadata, names) : null;
  const isFeat = opts.features?.length ? nameMatcher(opts.features, names) : null;
  for (const [flag, pats] of [['--features', opts.features], ['--metadata', opts.metadata]] as const) {
    for (const p of pats ?? []) {
      const m = nameMatcher([p], names);
      if (!names.some(m)) throw new InputError(`${path}: ${flag} pattern "${p}" matches no column`);
    }
  }
  return names.map((n) => {
    if (isMeta?.(n)) return 'meta';
    if (isFeat) return isFeat(n) ? 'feature' : 'meta';
    if (n.startsWith('Metadata_')) return 'meta';
    if (prefixes.some((p) => n.startsWith(p))) return 'feature';
    return 'auto';
  });
}

const NUMBER_TEXT = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** A text metadata column whose every present value is a decimal number becomes numeric. */
function numericIfAllNumbers(col: MetaColumn): MetaColumn {
  if (col.kind !== 'string') return col;
  let present = 0;
  for (const v of col.values) {
    if (v === null) continue;
    if (!NUMBER_TEXT.test(v)) return col;
    present++;
  }
  if (present === 0) return col;
  return { name: col.name, kind: 'number', values: Float64Array.from(col.values, (v) => (v === null ? NaN : Number(v))) };
}

async function describe(con: DuckDBConnection, source: string): Promise<Column[]> {
  // The names and types of an empty result, in column order. (DESCRIBE returns one row per
  // column, and beyond 2,048 columns a session that does not preserve insertion order may
  // return those rows out of order.)
  const r = await con.runAndReadAll(`SELECT * FROM ${source} LIMIT 0`);
  const types = r.columnTypes();
  return r.columnNames().map((name, i) => ({ name, sql: name, type: types[i]!.toString() }));
}

/**
 * Parquet column names as phenomap wrote them (key-value metadata, see write.ts) or as stored in
 * the schema; DuckDB itself renames names that differ only by case.
 */
async function originalParquetNames(con: DuckDBConnection, path: string, columns: Column[]): Promise<Column[]> {
  const kv = await con.runAndReadAll(`SELECT decode(value) FROM parquet_kv_metadata(${lit(path)}) WHERE decode(key) = ${lit(PARQUET_NAMES_KEY)}`);
  const stored = kv.getRowsJS()[0]?.[0];
  if (typeof stored === 'string') {
    try {
      const names: unknown = JSON.parse(stored);
      if (Array.isArray(names) && names.length === columns.length && names.every((n) => typeof n === 'string')) {
        return columns.map((c, i) => ({ ...c, name: names[i] as string }));
      }
    } catch {
      // fall through to the schema names
    }
  }
  const r = await con.runAndReadAll(`SELECT name, num_children FROM parquet_schema(${lit(path)})`);
  const rows = r.getRowsJS();
  // First entry is the root; a flat file lists one leaf per column after it.
  const leaves = rows.slice(1).filter((x) => !x[1]).map((x) => String(x[0]));
  if (leaves.length !== columns.length || rows.length - 1 !== leaves.length) return columns;
  return columns.map((c, i) => ({ ...c, name: leaves[i]! }));
}

function nonNumeric(path: string, column: string, row: number, value: string): InputError {
  const v = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return new InputError(`${path}: feature column "${column}" has non-numeric value "${v}" in data row ${row}`);
}

/** Parquet: the first data row (1-based) where a text feature column is not a number. */
async function firstNonNumericRow(con: DuckDBConnection, path: string, column: string): Promise<{ row: number; value: string } | null> {
  const c = ident(column);
  const r = await con.runAndReadAll(
    `SELECT CAST(file_row_number AS DOUBLE) + 1, CAST(${c} AS VARCHAR) FROM read_parquet(${lit(path)}, file_row_number = true) ` +
      `WHERE ${c} IS NOT NULL AND TRY_CAST(${c} AS DOUBLE) IS NULL ORDER BY file_row_number LIMIT 1`,
  );
  const row = r.getRowsJS()[0];
  return row ? { row: Number(row[0]), value: String(row[1]) } : null;
}

interface Plan {
  /** Columns in file order with their final role. */
  readonly columns: Column[];
  readonly roles: ('feature' | 'num' | 'str')[];
}

function plan(path: string, columns: Column[], roles: Role[]): Plan {
  const out = columns.map((c, i): 'feature' | 'num' | 'str' => {
    const r = roles[i]!;
    if (r === 'feature') return 'feature';
    return isNumericType(c.type) ? 'num' : 'str';
  });
  if (!out.includes('feature')) {
    throw new InputError(
      `${path}: no feature columns (expected numeric columns starting with ${DEFAULT_FEATURE_PREFIXES.join(', ')}; name them with --features)`,
    );
  }
  return { columns, roles: out };
}

const COPY_BLOCK = 64;
/** Feature columns per Parquet pass (see streamInto). */
const PARQUET_COLUMN_GROUP = 200;

/**
 * Feature columns per Parquet pass. Each pass costs a fixed part that grows with the file's
 * width (DuckDB re-reads the footer and binds the columns: ~2 s per query on a 50,000-column
 * file), and memory in proportion to its columns (a row group of up to 16,384 values per column
 * and thread in flight, plus the vectors): as many columns per pass as a quarter of the memory
 * limit holds, at least PARQUET_COLUMN_GROUP.
 */
function parquetGroup(nf: number, memory: MemoryLimit): number {
  const perColumn = duckThreads() * (16384 * 8 + 2048 * 40);
  return Math.max(1, Math.min(nf, Math.max(PARQUET_COLUMN_GROUP, Math.floor(memory.bytes / 4 / perColumn))));
}

/** phenomap's own consistency failures (exit 1), as opposed to DuckDB refusing the input. */
function isInternal(e: unknown): boolean {
  return e instanceof Error && e.message.startsWith('internal:');
}

interface Loaded {
  rows: number;
  X: FeatureArray;
  nan: Int32Array;
  rowsWithNaN: number;
  meta: MetaColumn[];
}

/**
 * Stream the projection into the preallocated matrix.
 *
 * With `rowNumbers` (Parquet) the source also yields each row's position in the file
 * (file_row_number) and rows are placed by it, so DuckDB may deliver chunks in any order, and
 * the features are read in groups of columns, one pass each: Parquet is columnar, so a pass
 * reads only its columns, and DuckDB's working memory (which on a 1,000-column file otherwise
 * rivals the matrix itself) shrinks with the group.
 */
async function streamInto(
  con: DuckDBConnection,
  source: string,
  p: Plan,
  capacity: number,
  reporter: Reporter,
  label: string,
  rowNumbers = false,
  precision: Precision = 'float64',
  file = '',
  columnGroup = PARQUET_COLUMN_GROUP,
): Promise<Loaded> {
  const feats = p.columns.filter((_, i) => p.roles[i] === 'feature');
  const metas = p.columns.map((c, i) => ({ c, role: p.roles[i]! })).filter((m) => m.role !== 'feature');
  const nf = feats.length;
  const nm = metas.length;
  const group = rowNumbers ? columnGroup : Math.max(1, nf);
  const f32 = precision === 'float32';
  const X = allocFeatures(precision, capacity * nf);
  const nan = new Int32Array(nf);
  const numMeta = metas.map((m) => (m.role === 'num' ? new Float64Array(capacity) : null));
  const strMeta = metas.map((m) => (m.role === 'str' ? new Array<string | null>(capacity).fill(null) : null));
  const rowHasNaN = new Uint8Array(capacity);
  let rowIndex = new Int32Array(0);
  const passes = Math.max(1, Math.ceil(nf / group));
  const progress = reporter.progress(label, capacity * passes);
  const cols: Float64Array[] = new Array(Math.min(group, nf));
  let r0 = 0;
  let done = 0;
  let select = '';
  for (let pass = 0; pass < passes; pass++) {
    const fa = pass * group;
    const fb = Math.min(nf, fa + group);
    const withMeta = pass === 0;
    const ng = fb - fa;
    select = [
      ...feats.slice(fa, fb).map((c) => `coalesce(CAST(${ident(c.sql)} AS DOUBLE), 'NaN'::DOUBLE)`),
      ...(withMeta ? metas.map((m) => (m.role === 'num' ? `coalesce(CAST(${ident(m.c.sql)} AS DOUBLE), 'NaN'::DOUBLE)` : `CAST(${ident(m.c.sql)} AS VARCHAR)`)) : []),
      ...(rowNumbers ? ['CAST(file_row_number AS DOUBLE)'] : []),
    ].join(', ');
    const metaAt = ng;
    const rnAt = ng + (withMeta ? nm : 0);
    const res = await con.stream(`SELECT ${select} FROM ${source}`);
    r0 = 0;
    for (;;) {
      const chunk = await res.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      if (r0 + n > capacity) throw new Error(`internal: more rows than counted (${r0 + n} > ${capacity})`);
      if (rowIndex.length < n) rowIndex = new Int32Array(n);
      if (rowNumbers) {
        const rn = doubleColumn(chunk, rnAt);
        for (let i = 0; i < n; i++) {
          const r = rn[i]!;
          if (!(r >= 0 && r < capacity)) throw new Error(`internal: row number ${r} outside 0..${capacity - 1}`);
          rowIndex[i] = r;
        }
      } else for (let i = 0; i < n; i++) rowIndex[i] = r0 + i;
      for (let q = 0; q < ng; q++) cols[q] = doubleColumn(chunk, q);
      // Column vectors → row-major rows in blocks of columns: writing one column at a time
      // strides by a whole row per value (a TLB miss each on wide tables); blocks keep the
      // writes contiguous while reading a few dozen sequential streams.
      for (let q0 = 0; q0 < ng; q0 += COPY_BLOCK) {
        const q1 = Math.min(ng, q0 + COPY_BLOCK);
        for (let i = 0; i < n; i++) {
          const row = rowIndex[i]!;
          const base = row * nf + fa;
          let bad = 0;
          for (let q = q0; q < q1; q++) {
            const v = cols[q]![i]!;
            X[base + q] = v;
            if (v !== v) {
              nan[fa + q]++;
              bad = 1;
            } else if (f32 && (v > F32_MAX || v < -F32_MAX) && v - v === 0) {
              throw new InputError(`${file}: column ${feats[fa + q]!.name}, data row ${row + 1}: ${v} does not fit float32 storage (largest ±3.4e38); read with float64`);
            }
          }
          if (bad) rowHasNaN[row] = 1;
        }
      }
      if (withMeta) {
        for (let m = 0; m < nm; m++) {
          const num = numMeta[m];
          if (num) {
            const v = doubleColumn(chunk, metaAt + m);
            for (let i = 0; i < n; i++) num[rowIndex[i]!] = v[i]!;
          } else {
            const v = stringColumn(chunk, metaAt + m);
            const dst = strMeta[m]!;
            for (let i = 0; i < n; i++) dst[rowIndex[i]!] = v[i]!;
          }
        }
      }
      r0 += n;
      done += n;
      progress.tick(done);
    }
    if (pass < passes - 1 && r0 !== capacity) break; // short read: checked below
  }
  progress.done();
  cols.length = 0;
  let rowsWithNaN = 0;
  for (let i = 0; i < r0; i++) rowsWithNaN += rowHasNaN[i]!;
  if (r0 < capacity) {
    // A streaming DuckDB result that fails part-way ends exactly like one that is exhausted (the
    // C API's stream fetch returns NULL for both). Fewer rows than lines is therefore checked
    // with a materialised count over the same projection, which does raise the error (the row
    // reference `t` forces every column to be parsed and converted).
    const check = await con.runAndReadAll(`SELECT count(*)::DOUBLE FROM (SELECT ${select} FROM ${source}) AS t WHERE t IS NOT NULL`);
    const c = Number(check.getRows()[0]![0]);
    if (c !== r0) throw new Error(`internal: DuckDB stream ended after ${r0} of ${c} rows`);
  }
  const meta: MetaColumn[] = metas.map((m, i) => {
    const num = numMeta[i];
    if (num) return { name: m.c.name, kind: 'number', values: r0 < capacity ? num.slice(0, r0) : num };
    const str = strMeta[i]!;
    if (r0 < capacity) str.length = r0;
    return { name: m.c.name, kind: 'string', values: str };
  });
  // The line count over-counts only with blank lines or quoted newlines; then keep a view of the
  // rows read (not a copy: the table is never held twice).
  return { rows: r0, X: r0 < capacity ? X.subarray(0, r0 * nf) : X, nan, rowsWithNaN, meta };
}

/** Drop features whose every value is missing, compacting X in place (rows shrink, never grow). */
function dropAllNaN(X: FeatureArray, rows: number, names: string[], nan: Int32Array): { X: FeatureArray; keep: number[]; dropped: Dropped[] } {
  const nf = names.length;
  const keep: number[] = [];
  const dropped: Dropped[] = [];
  for (let j = 0; j < nf; j++) {
    if (rows > 0 && nan[j] === rows) dropped.push({ kind: 'feature', name: names[j]!, reason: 'all values missing (NaN)' });
    else keep.push(j);
  }
  if (!dropped.length) return { X, keep, dropped };
  const nk = keep.length;
  for (let i = 0; i < rows; i++) {
    const src = i * nf;
    const dst = i * nk;
    for (let q = 0; q < nk; q++) X[dst + q] = X[src + keep[q]!]!;
  }
  return { X: X.subarray(0, rows * nk), keep, dropped };
}

/** dst[base + i·ld + q] = block[q·n + i] for i < n, q < w. */
function transposeInto<A extends Float64Array | Float32Array>(block: Float64Array, n: number, w: number, dst: A, base: number, ld: number): void {
  for (let i = 0; i < n; i++) {
    const o = base + i * ld;
    for (let q = 0; q < w; q++) dst[o + q] = block[q * n + i]!;
  }
}

/**
 * Parquet through phenomap's own reader (parquet.ts): every column chunk decoded once, feature
 * columns in batches written row-major into the matrix (a block transpose, not one strided write
 * per value), metadata columns concatenated over the row groups.
 */
function readParquetOwn(path: string, meta: ParquetMeta, opts: ReadOptions, reporter: Reporter, label: string): { loaded: Loaded; plan_: Plan } {
  const leaves = meta.leaves;
  let names = leaves.map((l) => l.name);
  const stored = meta.kv.get(PARQUET_NAMES_KEY);
  if (stored !== undefined) {
    try {
      const parsed: unknown = JSON.parse(stored);
      if (Array.isArray(parsed) && parsed.length === names.length && parsed.every((n) => typeof n === 'string')) names = parsed as string[];
    } catch {
      // the schema's names stand
    }
  }
  const rows = meta.numRows;
  if (rows === 0) throw new InputError(`${path}: no data rows (header only)`);
  checkDuplicateNames(path, names);
  const textual = (l: ParquetLeaf) => l.physical === PQ.BYTE_ARRAY || l.physical === PQ.BOOLEAN;
  const columns: Column[] = leaves.map((l, i) => ({ name: names[i]!, sql: l.name, type: textual(l) ? 'VARCHAR' : 'DOUBLE' }));
  const roles = assignRoles(path, names, opts);
  const pl = plan(path, columns, roles);
  const precision = opts.precision ?? 'float64';
  const f32 = precision === 'float32';
  const featIdx: number[] = [], metaIdx: number[] = [];
  pl.roles.forEach((r, i) => (r === 'feature' ? featIdx : metaIdx).push(i));
  const nf = featIdx.length;
  const memory = memoryLimit(opts.memoryLimit);
  const need = rows * nf * (f32 ? 4 : 8);
  if (need > memory.bytes) {
    throw new InputError(
      `${path}: the table (${rows.toLocaleString('en-US')} rows × ${nf.toLocaleString('en-US')} features, ${precision}) needs about ${formatBytes(need)}` +
        `${f32 ? '' : ' (half with --float32)'}, and ${memoryAdvice(memory, need + 256e6)}`,
    );
  }
  const X = allocFeatures(precision, rows * nf);
  const nan = new Int32Array(nf);
  const rowBad = new Uint8Array(rows);
  const metaVals: (Float64Array | (string | null)[])[] = metaIdx.map((i) => (pl.roles[i] === 'num' ? new Float64Array(rows) : new Array<string | null>(rows).fill(null)));
  const fd = openSync(path, 'r');
  const progress = reporter.progress(label, rows * meta.leaves.length);
  const BATCH = 64;
  let done = 0;
  try {
    let r0 = 0;
    for (const rg of meta.rowGroups) {
      const n = rg.numRows;
      const decode = (c: number): ColumnValues => {
        try {
          return decodeColumnChunk(leaves[c]!, rg.chunks[c]!, readChunk(fd, rg.chunks[c]!), n);
        } catch (e) {
          if (e instanceof ThriftError) throw new InputError(`${path}: not a readable Parquet file (column ${names[c]}: ${e.message})`);
          throw e;
        }
      };
      metaIdx.forEach((c, m) => {
        const v = decode(c);
        const dst = metaVals[m]!;
        if (dst instanceof Float64Array) dst.set(v.values as Float64Array, r0);
        else for (let i = 0; i < n; i++) dst[r0 + i] = (v.values as (string | null)[])[i]!;
      });
      const block = new Float64Array(BATCH * n);
      for (let b0 = 0; b0 < nf; b0 += BATCH) {
        const b1 = Math.min(nf, b0 + BATCH), w = b1 - b0;
        for (let q = 0; q < w; q++) {
          const c = featIdx[b0 + q]!;
          const v = decode(c);
          if (v.kind === 'number') block.set(v.values, q * n);
          else {
            const t = v.values;
            for (let i = 0; i < n; i++) {
              const s = t[i];
              const x = s === null || s === undefined ? NaN : parseDecimalText(s);
              if (x === undefined) throw nonNumeric(path, names[c]!, r0 + i + 1, s!);
              block[q * n + i] = x;
            }
          }
        }
        // Missing values and float32 range, column by column (contiguous in the block) …
        for (let q = 0; q < w; q++) {
          const o = q * n;
          let miss = 0;
          for (let i = 0; i < n; i++) {
            const v = block[o + i]!;
            if (v !== v) {
              miss++;
              rowBad[r0 + i] = 1;
            } else if (f32 && (v > F32_MAX || v < -F32_MAX) && v - v === 0) {
              throw new InputError(`${path}: column ${names[featIdx[b0 + q]!]}, data row ${r0 + i + 1}: ${v} does not fit float32 storage (largest ±3.4e38); read with float64`);
            }
          }
          nan[b0 + q]! += miss;
        }
        // … then the column-major block into row-major rows of X (one loop per storage type).
        if (X instanceof Float64Array) transposeInto(block, n, w, X, r0 * nf + b0, nf);
        else transposeInto(block, n, w, X, r0 * nf + b0, nf);
        done += w * n;
        progress.tick(done);
      }
      r0 += n;
    }
  } finally {
    closeSync(fd);
    progress.done();
  }
  let rowsWithNaN = 0;
  for (let i = 0; i < rows; i++) rowsWithNaN += rowBad[i]!;
  const metaCols: MetaColumn[] = metaIdx.map((c, m) => {
    const v = metaVals[m]!;
    return v instanceof Float64Array ? { name: names[c]!, kind: 'number', values: v } : { name: names[c]!, kind: 'string', values: v };
  });
  return { loaded: { rows, X, nan, rowsWithNaN, meta: metaCols }, plan_: pl };
}

/** Read a profile table. Bad input raises an InputError naming the file, column or row. */
export async function readProfiles(path: string, opts?: ReadOptions & { precision?: 'float64' }): Promise<ReadResult>;
export async function readProfiles(path: string, opts: ReadOptions): Promise<ReadResult<StoredMatrix>>;
export async function readProfiles(path: string, opts: ReadOptions = {}): Promise<ReadResult<StoredMatrix>> {
  const t0 = performance.now();
  const reporter = opts.reporter ?? silentReporter;
  const bytes = checkReadable(path);
  if (interchangeFormat(path)) return readInterchangeProfiles(path, bytes, t0);
  if (bytes === 0) throw new InputError(`${path}: empty file`);
  const text = textOptions(opts.text);
  const kind = sniffFileKind(path, text);
  const label = `reading ${basename(path)}`;

  let loaded: Loaded;
  let plan_: Plan;
  let textBytes: number | undefined;

  const pqMeta = kind.format === 'parquet' ? readParquetMeta(path) : null;
  const pqWhy = pqMeta ? parquetUnsupported(pqMeta) : null;
  let own: { loaded: Loaded; plan_: Plan } | null = null;
  if (pqMeta && pqWhy === null) {
    try {
      own = readParquetOwn(path, pqMeta, opts, reporter, label);
    } catch (e) {
      if (!(e instanceof ParquetUnsupported)) throw e;
      reporter.info(`${basename(path)}: read through DuckDB (${e.message})`);
    }
  } else if (pqWhy) reporter.info(`${basename(path)}: read through DuckDB (${pqWhy})`);
  if (own) ({ loaded, plan_ } = own);
  else if (kind.format === 'parquet') {
    ({ loaded, plan_ } = await withDuck(async (con, session) => {
      const source = `read_parquet(${lit(path)})`;
      const numbered = `read_parquet(${lit(path)}, file_row_number = true)`;
      let columns: Column[];
      let count: number;
      try {
        columns = await describe(con, source);
        columns = await originalParquetNames(con, path, columns);
        const c = await con.runAndReadAll(`SELECT count(*)::DOUBLE FROM ${source}`);
        count = Number(c.getRows()[0]![0]);
      } catch (e) {
        if (isOutOfMemory(e)) throw outOfMemoryError(path, 'open this Parquet file', session.memory, duckScanBytes(PARQUET_COLUMN_GROUP, duckThreads()));
        throw new InputError(`${path}: not a readable Parquet file (${duckMessage(e)})`);
      }
      if (count === 0) throw new InputError(`${path}: no data rows (header only)`);
      const names = columns.map((c) => c.name);
      checkDuplicateNames(path, names);
      const roles = assignRoles(path, names, opts);
      const pl = plan(path, columns, roles);
      for (let i = 0; i < columns.length; i++) {
        if (pl.roles[i] !== 'feature' || isNumericType(columns[i]!.type)) continue;
        const bad = await firstNonNumericRow(con, path, columns[i]!.sql);
        if (bad) throw nonNumeric(path, columns[i]!.name, bad.row, bad.value);
      }
      try {
        // Rows are placed by their file row number, so the scan may deliver them in any order.
        await con.run('SET preserve_insertion_order = false');
        const nf = pl.roles.filter((r) => r === 'feature').length;
        const loaded = await streamInto(con, numbered, pl, count, reporter, label, true, opts.precision, path, parquetGroup(nf, session.memory));
        if (loaded.rows !== count) throw new InputError(`${path}: read ${loaded.rows} of ${count} rows`);
        return { loaded, plan_: pl };
      } catch (e) {
        if (isInternal(e) || e instanceof InputError) throw e;
        if (isOutOfMemory(e)) {
          const nf = pl.roles.filter((r) => r === 'feature').length;
          const group = parquetGroup(nf, session.memory) + pl.roles.length - nf;
          throw outOfMemoryError(path, 'read this Parquet file', session.memory, duckScanBytes(group, duckThreads()));
        }
        throw new InputError(`${path}: ${duckMessage(e)}`);
      }
    }, { memoryLimit: opts.memoryLimit }));
  } else {
    const t = await readDelimited(path, {
      delimiter: (header) => delimiterFor(kind, header, text),
      encoding: kind.encoding,
      gzip: kind.gzip,
      bytes,
      precision: opts.precision ?? 'float64',
      memory: memoryLimit(opts.memoryLimit),
      reporter,
      label,
      roles: (names) => {
        checkDuplicateNames(path, names);
        const roles = assignRoles(path, names, opts);
        // Features are DOUBLE, everything else text whose type is decided once read.
        return plan(path, names.map((n, i) => ({ name: n, sql: n, type: roles[i] === 'feature' ? 'DOUBLE' : 'VARCHAR' })), roles).roles.map((r) => r === 'feature');
      },
    });
    textBytes = t.textBytes;
    const columns: Column[] = t.names.map((n, i) => ({ name: n, sql: n, type: t.isFeature[i] ? 'DOUBLE' : 'VARCHAR' }));
    plan_ = { columns, roles: t.isFeature.map((f) => (f ? 'feature' : 'str')) };
    const metaNames = t.names.filter((_, i) => !t.isFeature[i]);
    loaded = {
      rows: t.rows, X: t.X, nan: t.nan, rowsWithNaN: t.rowsWithNaN,
      meta: metaNames.map((name, m) => numericIfAllNumbers({ name, kind: 'string', values: t.meta[m]! })),
    };
  }

  if (loaded.rows === 0) throw new InputError(`${path}: no data rows (header only)`);
  const allFeatures = plan_.columns.filter((_, i) => plan_.roles[i] === 'feature').map((c) => c.name);
  const { X, keep, dropped } = dropAllNaN(loaded.X, loaded.rows, allFeatures, loaded.nan);
  const features = keep.map((j) => allFeatures[j]!);
  if (!features.length) throw new InputError(`${path}: every feature column is entirely missing (NaN)`);
  if (dropped.length) {
    const shown = dropped.slice(0, 5).map((d) => d.name).join(', ');
    reporter.warn(`${path}: dropped ${dropped.length} feature(s) with no values: ${shown}${dropped.length > 5 ? ', …' : ''}`);
  }
  const perFeature: Record<string, number> = {};
  let total = 0;
  for (const j of keep) {
    const c = loaded.nan[j]!;
    if (c > 0) {
      perFeature[allFeatures[j]!] = c;
      total += c;
    }
  }
  const profiles: Profiles<StoredMatrix> = {
    features,
    X: { rows: loaded.rows, cols: features.length, data: X },
    meta: loaded.meta,
    source: path,
  };
  const report: IngestReport = {
    file: path,
    format: kind.format,
    gzip: kind.gzip,
    rows: loaded.rows,
    features: features.length,
    metadataColumns: loaded.meta.map((m) => m.name),
    nanCounts: { perFeature, total, rowsWithNaN: dropped.length ? countRowsWithNaN(X, loaded.rows, features.length) : loaded.rowsWithNaN },
    droppedRows: [],
    droppedFeatures: dropped,
    bytes,
    textBytes,
    seconds: (performance.now() - t0) / 1000,
  };
  return { profiles, report };
}

/** GCT and h5ad (interchange.ts) carry their own feature/metadata split: the table as stored. */
async function readInterchangeProfiles(path: string, bytes: number, t0: number): Promise<ReadResult> {
  const profiles = await readInterchange(path);
  let total = 0;
  const perFeature: Record<string, number> = {};
  const { rows, cols, data } = profiles.X;
  for (let j = 0; j < cols; j++) {
    let c = 0;
    for (let i = 0; i < rows; i++) if (data[i * cols + j] !== data[i * cols + j]) c++;
    if (c) (perFeature[profiles.features[j]!] = c), (total += c);
  }
  const report: IngestReport = {
    file: path, format: fileKindOrText(path), gzip: false, rows, features: cols, metadataColumns: profiles.meta.map((m) => m.name),
    nanCounts: { perFeature, total, rowsWithNaN: countRowsWithNaN(data, rows, cols) }, droppedRows: [], droppedFeatures: [],
    bytes, seconds: (performance.now() - t0) / 1000,
  };
  return { profiles, report };
}

function fileKindOrText(path: string): TableFormat {
  return interchangeFormat(path)!;
}

function countRowsWithNaN(X: FeatureArray, rows: number, cols: number): number {
  let n = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) {
      const v = X[o + j]!;
      if (v !== v) {
        n++;
        break;
      }
    }
  }
  return n;
}

// ---------------------------------------------------------------------------------------------

/** A generic table (annotations for joins): every column as text, missing → null. */
export interface Table {
  readonly source: string;
  readonly columns: string[];
  readonly rows: number;
  /** Column name → values, one per row. */
  readonly values: Map<string, (string | null)[]>;
}

export function tableColumn(t: Table, name: string): (string | null)[] {
  const v = t.values.get(name);
  if (!v) {
    const shown = t.columns.slice(0, 12).join(', ') + (t.columns.length > 12 ? `, … (${t.columns.length} in all)` : '');
    throw new InputError(`${t.source}: no column "${name}" (have: ${shown})`);
  }
  return v;
}

/** Texts an annotation table reads as missing (DuckDB's nullstr as readTable always used it). */
const TABLE_MISSING: ReadonlySet<string> = new Set(['', 'NA']);

/**
 * Read an annotation table (CSV/TSV/TXT, optionally gzipped, or Parquet) with all columns as text.
 * Delimited text goes through phenomap's own reader (delimited.ts: the same quoting, ragged-row and
 * encoding errors as profile tables, one record held at a time, a 50 MB field read in a second);
 * Parquet through DuckDB. `textOpts`: delimiter and encoding as in ReadOptions.
 */
export async function readTable(path: string, textOpts: TextOptions = {}): Promise<Table> {
  const bytes = checkReadable(path);
  if (bytes === 0) throw new InputError(`${path}: empty file`);
  const text = textOptions(textOpts);
  const kind = sniffFileKind(path, text);
  if (kind.format !== 'parquet') {
    const t = await readDelimited(path, {
      delimiter: (header) => delimiterFor(kind, header, text),
      encoding: kind.encoding,
      gzip: kind.gzip,
      bytes,
      precision: 'float64',
      memory: memoryLimit(),
      reporter: silentReporter,
      label: `reading ${basename(path)}`,
      missing: TABLE_MISSING,
      roles: (names) => {
        checkDuplicateNames(path, names);
        return names.map(() => false);
      },
    });
    return { source: path, columns: t.names, rows: t.rows, values: new Map(t.names.map((n, j) => [n, t.meta[j]!])) };
  }
  const source = `read_parquet(${lit(path)})`;
  return withDuckOn(path, 'read this table', 0, async (con) => {
    try {
      const columns = await describe(con, source);
      const res = await con.stream(`SELECT ${columns.map((c) => `CAST(${ident(c.name)} AS VARCHAR)`).join(', ')} FROM ${source}`);
      const vals = columns.map(() => [] as (string | null)[]);
      let rows = 0;
      for (;;) {
        const chunk = await res.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        for (let j = 0; j < columns.length; j++) {
          const col = stringColumn(chunk, j);
          const dst = vals[j]!;
          for (let i = 0; i < col.length; i++) dst.push(col[i]!);
        }
        rows += chunk.rowCount;
      }
      if (rows === 0) throw new InputError(`${path}: no data rows (header only)`);
      return { source: path, columns: columns.map((c) => c.name), rows, values: new Map(columns.map((c, j) => [c.name, vals[j]!])) };
    } catch (e) {
      if (e instanceof InputError || isOutOfMemory(e)) throw e;
      throw new InputError(`${path}: ${duckMessage(e)}`);
    }
  });
}
