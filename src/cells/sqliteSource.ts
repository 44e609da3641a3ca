/**
 * Single cells from a CellProfiler SQLite database (ExportToDatabase `Per_<Object>` tables or
 * cytominer-database's `Image` / `Cells` / … with `TableNumber`), through better-sqlite3.
 *
 * Bounded memory without relying on the file's indexes: one pass over each object table reads
 * only the keys (rowid, image key, object number, parent links — they sit on the b-tree leaf
 * pages, never on overflow pages), which assigns every row to its well; a well's objects are then
 * fetched as runs of consecutive rowids (`rowid BETWEEN a AND b`, a b-tree seek), so at most one
 * well's objects are in memory and the file's row order does not matter.
 *
 * A 500-column row spills over several 4 KiB pages, and this SQLite build reads each value on an
 * overflow page with its own pread (≈ 2 µs a value instead of ≈ 0.1 µs); phenomap's extension
 * (sqliteExtension.ts) makes it read whole pages through its cache. Without the extension SQLite's
 * own memory mapping avoids the cost for the first 2 GiB of a file.
 *
 * Faster still, the extension's phenomap_rows decodes a run of rows straight from the table's
 * b-tree pages (native/sqlite_records.c): SQLite re-walks a row's overflow chain for every column
 * it extracts, phenomap_rows assembles each row once. It reads under the read transaction this
 * connection holds for the plate's life (so the key scan and the rows are one state of the file),
 * gives way to SQLite's reader when the file is in WAL mode or a table has columns it cannot place,
 * and hands every row holding text or a BLOB back to SQLite's path, so the numbers are the same
 * bit for bit. Which reader ran is reported per table (ReadCounts.rowReaders).
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import { LAYOUTS, sqliteLayoutFromTables, type Layout, type LayoutName } from './layouts.js';
import { numberFromText, shown } from './numbers.js';
import { sqliteExtension } from './sqliteExtension.js';
import {
  addCount, classifyObjectColumns, emptyCounts, findLinking, groupWells, imageMetadataName, metaColumn, preview,
  type ColumnRef, type CompartmentSchema, type ImageTable, type ObjectRows, type PlateSchema, type PlateSource,
  type ReadCounts, type WellCells, withoutLinks,
} from './schema.js';

type DB = Database.Database;

/** Columns per phenomap_f64 call (SQLite's limit is 1,000 arguments). */
const PACK = 900;

/** Rows per phenomap_rows call: ≈ 128 KB of doubles for 500 features, copied while still in cache. */
const DIRECT_ROWS = 32;

/** How a table's rows reach X through phenomap_rows, or why SQLite's reader is used instead. */
type DirectPlan = { stmt: Database.Statement; cols: Buffer } | { reason: string };

interface RowReader {
  readonly stmt: Database.Statement;
  /** Write the row's features to X[o…], returning how many were numbers stored as text. */
  decode(row: unknown[], X: Float64Array, o: number): number;
}

export interface SqliteOptions {
  /** Force a layout instead of detecting it from the tables. */
  layout?: LayoutName;
  compartments: readonly string[];
  /** Strata columns (after the Image_Metadata_ → Metadata_ rename). */
  strata: readonly string[];
  /**
   * Decode rows with phenomap's direct record reader where it applies (default true); false
   * keeps SQLite's own decoder, e.g. to compare the two.
   */
  directRows?: boolean;
}

const MMAP_BYTES = 2147418112; // SQLite's own ceiling (SQLITE_MAX_MMAP_SIZE)

function q(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function sqliteMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!.trim();
}

/** Run a statement, turning SQLite's failures (corrupt, truncated, not a database) into the user's words. */
function guarded<T>(path: string, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_')) {
      throw new InputError(`${path}: cannot read ${what}: ${sqliteMessage(e)} (${code}); the file may be truncated or damaged`);
    }
    throw e;
  }
}

function openDb(path: string): DB {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new InputError(`${path}: not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: file not found`);
  }
  if (size === 0) throw new InputError(`${path}: empty file (0 bytes), not a SQLite database`);
  const ext = sqliteExtension();
  let db: DB;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new InputError(`${path}: cannot open as SQLite: ${sqliteMessage(e)}`);
  }
  try {
    guarded(path, 'the table list', () => {
      if (ext) db.loadExtension(ext);
      // With the extension, pages come whole through SQLite's cache (no mapping: a mapped 14 GB
      // plate would count towards the process's resident memory); without it SQLite maps what it may.
      db.pragma(`mmap_size = ${ext ? 0 : MMAP_BYTES}`);
      // One read transaction for the plate's life: the key scan and every row read see one state
      // of the file, and SQLite's shared lock is held while phenomap_rows reads pages directly.
      db.exec('BEGIN');
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    });
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

function tableNames(db: DB, path: string): string[] {
  return guarded(path, 'the table list', () => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
}

function columnsOf(db: DB, path: string, table: string): string[] {
  return guarded(path, `table ${table}`, () => db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[]);
}

function findTable(tables: readonly string[], want: string): string | undefined {
  return tables.find((t) => t === want) ?? tables.find((t) => t.toLowerCase() === want.toLowerCase());
}

/** Keys of every row of one object table, in rowid order. */
interface KeyScan {
  readonly rowid: Float64Array;
  /** Image index of the row, −1 when its image is not in the image table. */
  readonly image: Int32Array;
  readonly object: Float64Array;
  readonly links: Float64Array[];
}

class SqlitePlate implements PlateSource {
  readonly counts: ReadCounts = emptyCounts();
  private readonly keys: KeyScan[];
  /** Per compartment, per well: positions into the key scan (rowid order). */
  private readonly byWell: Int32Array[][];
  private readonly tables: string[];

  /** Rows come packed by the extension's phenomap_f64. */
  private readonly packed = sqliteExtension() !== null;
  /** Per compartment: the direct record reader's plan (made on first use). */
  private readonly direct: (DirectPlan | undefined)[] = [];

  constructor(
    private readonly db: DB,
    private readonly path: string,
    readonly schema: PlateSchema,
    tables: string[],
    imageIndex: (row: unknown[], at: number) => number,
    keyColumns: (c: number) => string[],
    private readonly directRows: boolean,
  ) {
    this.tables = tables;
    this.keys = schema.compartments.map((c, ci) => this.scanKeys(ci, c, imageIndex, keyColumns(ci)));
    const nw = schema.wells.keys.length;
    this.byWell = this.keys.map((k) => {
      const count = new Int32Array(nw);
      const of = schema.wells.ofImage;
      for (let i = 0; i < k.image.length; i++) if (k.image[i]! >= 0) count[of[k.image[i]!]!]++;
      const lists = Array.from(count, (n) => new Int32Array(n));
      const fill = new Int32Array(nw);
      for (let i = 0; i < k.image.length; i++) {
        const im = k.image[i]!;
        if (im < 0) continue;
        const w = of[im]!;
        lists[w]![fill[w]!++] = i;
      }
      return lists;
    });
  }

  private scanKeys(ci: number, c: CompartmentSchema, imageIndex: (row: unknown[], at: number) => number, cols: string[]): KeyScan {
    const table = this.tables[ci]!;
    const n = guarded(this.path, `table ${table}`, () => Number(this.db.prepare(`SELECT count(*) FROM ${q(table)}`).pluck().get()));
    const rowid = new Float64Array(n);
    const image = new Int32Array(n);
    const object = new Float64Array(n);
    const hub = this.schema.linking?.hub === c.name;
    const linkCols = hub ? this.schema.linking!.parents.map((p) => p.column.source) : [];
    const links = linkCols.map(() => new Float64Array(n));
    const nImageKey = cols.length;
    // No ORDER BY: SQLite may then scan a covering index (the profiling recipe's
    // (TableNumber, ImageNumber, ObjectNumber)) instead of the table's wide rows, 10× less to read;
    // rows are put in rowid order below.
    const select = (names: string[]) => `SELECT rowid, ${names.map(q).join(', ')} FROM ${q(table)}`;
    const keyCols = [...cols, c.objectKey.source];
    const linksLater = linkCols.length ? this.linksPlan(ci, select([...keyCols, ...linkCols]), linkCols) : null;
    let sql = select(linksLater ? keyCols : [...keyCols, ...linkCols]);
    let i = 0;
    let orphans = 0;
    guarded(this.path, `table ${table}`, () => {
      let stmt;
      try {
        stmt = this.db.prepare(sql).raw(true);
      } catch (e) {
        if (/no such column: rowid/i.test(sqliteMessage(e))) {
          throw new InputError(`${this.path}: table ${table} is a WITHOUT ROWID table; phenomap reads rowid tables (as CellProfiler and cytominer-database write them)`);
        }
        throw e;
      }
      const nl = linksLater ? 0 : linkCols.length;
      for (const row of stmt.iterate() as IterableIterator<unknown[]>) {
        if (i >= n) break;
        rowid[i] = Number(row[0]);
        const im = imageIndex(row, 1);
        image[i] = im;
        if (im < 0) orphans++;
        object[i] = this.keyNumber(row[1 + nImageKey], table, c.objectKey.source, rowid[i]!);
        for (let l = 0; l < nl; l++) links[l]![i] = this.keyNumber(row[2 + nImageKey + l], table, linkCols[l]!, rowid[i]!);
        i++;
      }
    });
    if (i !== n) throw new InputError(`${this.path}: table ${table} changed while it was read (${i} of ${n} rows)`);
    addCount(this.counts.orphanObjects, c.table, orphans);
    sql = '';
    let sorted = true;
    for (let r = 1; r < n && sorted; r++) if (rowid[r]! < rowid[r - 1]!) sorted = false;
    let keys: KeyScan = { rowid, image, object, links };
    if (!sorted) {
      const order = Int32Array.from({ length: n }, (_, r) => r).sort((a, b) => rowid[a]! - rowid[b]!);
      const take = <T extends Float64Array | Int32Array>(a: T): T => {
        const out = new (a.constructor as { new (n: number): T })(n);
        for (let r = 0; r < n; r++) out[r] = a[order[r]!]!;
        return out;
      };
      keys = { rowid: take(rowid), image: take(image), object: take(object), links: links.map(take) };
    }
    if (linksLater) this.readLinks(ci, linksLater, linkCols, keys);
    return keys;
  }

  /**
   * The hub's parent links sit after its features, on overflow pages, where no index covers
   * them: SQLite would walk every row's overflow chain to reach them. Then the keys come from
   * SQL (a covering index, or the rows' first bytes) and the links from phenomap_rows (readLinks).
   */
  private linksPlan(ci: number, fullSql: string, linkCols: readonly string[]): { stmt: Database.Statement; cols: Buffer } | null {
    const table = this.tables[ci]!;
    const plan = guarded(this.path, `table ${table}`, (): DirectPlan | null => {
      if (!this.directRows || !this.packed) return null;
      let how: string;
      try {
        how = (this.db.prepare(`EXPLAIN QUERY PLAN ${fullSql}`).all() as { detail: string }[]).map((r) => r.detail).join(' ');
      } catch {
        return null; // e.g. a WITHOUT ROWID table: the key scan itself says so, in the user's words
      }
      if (/COVERING INDEX/i.test(how)) return null;
      const top = Number(this.db.prepare(`SELECT max(rowid) FROM ${q(table)}`).pluck().get() ?? 0);
      const bottom = Number(this.db.prepare(`SELECT min(rowid) FROM ${q(table)}`).pluck().get() ?? 0);
      if (!(Math.abs(top) < 2 ** 53 && Math.abs(bottom) < 2 ** 53)) return null;
      return this.columnPlan(ci, linkCols);
    });
    return plan && 'stmt' in plan ? plan : null;
  }

  /** Fill keys.links from phenomap_rows, in rowid order, row for row with the key scan. */
  private readLinks(ci: number, plan: { stmt: Database.Statement; cols: Buffer }, linkCols: readonly string[], keys: KeyScan): void {
    const table = this.tables[ci]!;
    const k = linkCols.length;
    const n = keys.rowid.length;
    const one = this.db.prepare(`SELECT ${linkCols.map(q).join(', ')} FROM ${q(table)} WHERE rowid = ?`).raw(true);
    const CHUNK = 1024;
    let from = -(2 ** 53);
    let i = 0;
    guarded(this.path, `table ${table}`, () => {
      for (;;) {
        const blob = plan.stmt.get(from, 2 ** 53, plan.cols, CHUNK, table) as Buffer | null | undefined;
        if (blob === undefined) throw new InputError(`${this.path}: table ${table} is no longer in the schema`);
        if (blob === null) throw new InputError(`${this.path}: table ${table} changed while it was read (now in WAL mode)`);
        const f = blob.byteOffset % 8 === 0 ? new Float64Array(blob.buffer, blob.byteOffset, blob.length / 8) : new Float64Array(new Uint8Array(blob).buffer);
        const m = f[0]!;
        const flags = 1 + m + m * k;
        for (let t = 0; t < m; t++, i++) {
          const id = f[1 + t]!;
          if (i >= n || keys.rowid[i] !== id) throw new InputError(`${this.path}: table ${table} changed while it was read (rowid ${id})`);
          if (f[flags + t] !== 0) {
            // Text in a link column: read as the SQL scan reads it.
            const again = one.get(id) as unknown[];
            for (let l = 0; l < k; l++) keys.links[l]![i] = this.keyNumber(again[l], table, linkCols[l]!, id);
            continue;
          }
          // A stored NULL is the only NaN SQLite gives back (it stores no NaN), and NULL reads as NaN.
          for (let l = 0; l < k; l++) keys.links[l]![i] = f[1 + m + t * k + l]!;
        }
        if (m < CHUNK) break;
        from = f[m]! + 1;
      }
    });
    if (i !== n) throw new InputError(`${this.path}: table ${table} changed while it was read (${i} of ${n} rows)`);
  }

  private keyNumber(v: unknown, table: string, column: string, rowid: number): number {
    if (typeof v === 'number') return v;
    if (v === null || v === undefined) return NaN;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'string') {
      const x = numberFromText(v);
      if (x !== undefined) return x;
    }
    throw new InputError(`${this.path}: table ${table}, column ${column}, rowid ${rowid}: key value "${shown(String(v))}" is not a number`);
  }

  async *wells(which?: readonly number[]): AsyncIterable<WellCells> {
    const all = which ?? this.schema.wells.keys.map((_, w) => w);
    const readers = this.schema.compartments.map((c, ci) => this.rowReader(ci, c));
    for (const w of all) {
      const compartments: ObjectRows[] = this.schema.compartments.map((c, ci) => this.readRows(ci, c, this.byWell[ci]![w]!, readers[ci]!));
      yield { well: w, compartments };
    }
  }

  /**
   * How one row's features reach X. With the extension, phenomap_f64 packs up to PACK columns
   * into one BLOB (SQLite allows 1,000 function arguments) and a row is a few memcpys; without
   * it, one JavaScript value per feature.
   */
  private rowReader(ci: number, c: CompartmentSchema): RowReader {
    const table = this.tables[ci]!;
    const cols = c.features.map((f) => q(f.source));
    const nf = cols.length;
    const packed = this.packed && nf > 0;
    const groups: [number, number][] = [];
    for (let a = 0; packed && a < nf; a += PACK) groups.push([a, Math.min(nf, a + PACK)]);
    const select = packed ? groups.map(([a, b]) => `phenomap_f64(${cols.slice(a, b).join(', ')})`) : cols;
    const stmt = guarded(this.path, `table ${table}`, () =>
      this.db.prepare(`SELECT rowid${select.length ? ', ' : ''}${select.join(', ')} FROM ${q(table)} WHERE rowid BETWEEN ? AND ?`).raw(true),
    );
    if (!packed) {
      return {
        stmt,
        decode: (row, X, o) => {
          let text = 0;
          for (let j = 0; j < nf; j++) {
            const v = row[j + 1];
            if (typeof v === 'number') X[o + j] = v;
            else if (v === null) X[o + j] = NaN;
            else {
              X[o + j] = this.cellNumber(v, table, c.features[j]!, row[0] as number);
              if (typeof v === 'string') text++;
            }
          }
          return text;
        },
      };
    }
    const bytes = new Uint8Array(8 * 2);
    const trailer = new Float64Array(bytes.buffer);
    return {
      stmt,
      decode: (row, X, o) => {
        let text = 0;
        const target = new Uint8Array(X.buffer, X.byteOffset, X.length * 8);
        for (let g = 0; g < groups.length; g++) {
          const [a, b] = groups[g]!;
          const blob = row[g + 1] as Uint8Array;
          const k = b - a;
          // The BLOB's bytes may sit at any offset of a pooled Buffer: copy bytes, not doubles.
          target.set(blob.subarray(0, 8 * k), 8 * (o + a));
          bytes.set(blob.subarray(8 * k, 8 * k + 16));
          text += trailer[0]!;
          if (trailer[1]! >= 0) {
            const col = c.features[a + trailer[1]!]!;
            const v = this.db.prepare(`SELECT ${q(col.source)} FROM ${q(table)} WHERE rowid = ?`).pluck().get(row[0]);
            this.cellNumber(v, table, col, row[0] as number); // throws, naming the value
          }
        }
        return text;
      },
    };
  }

  private readRows(ci: number, c: CompartmentSchema, pos: Int32Array, reader: RowReader): ObjectRows {
    const k = this.keys[ci]!;
    const n = pos.length;
    const nf = c.features.length;
    const X = new Float64Array(n * nf);
    const image = new Int32Array(n);
    const object = new Float64Array(n);
    const links = k.links.map(() => new Float64Array(n));
    for (let r = 0; r < n; r++) {
      const p = pos[r]!;
      image[r] = k.image[p]!;
      object[r] = k.object[p]!;
      for (let l = 0; l < links.length; l++) links[l]![r] = k.links[l]![p]!;
    }
    const table = this.tables[ci]!;
    let text = 0;
    let r = 0;
    const direct = this.directPlan(ci, c);
    guarded(this.path, `table ${table}`, () => {
      while (r < n) {
        if (direct && 'stmt' in direct) {
          const done = this.readDirect(ci, direct, pos, r, X, nf, reader);
          if (done !== null) {
            text += done.text;
            r = done.next;
            continue;
          }
        }
        // A run of consecutive scan positions is a run of consecutive rows in rowid order.
        let e = r;
        while (e + 1 < n && pos[e + 1] === pos[e]! + 1) e++;
        const from = k.rowid[pos[r]!]!, to = k.rowid[pos[e]!]!;
        for (const row of reader.stmt.iterate(from, to) as IterableIterator<unknown[]>) {
          if (r > e || row[0] !== k.rowid[pos[r]!]) {
            throw new InputError(`${this.path}: table ${table} changed while it was read (rowid ${String(row[0])})`);
          }
          text += reader.decode(row, X, r * nf);
          r++;
        }
        if (r !== e + 1) throw new InputError(`${this.path}: table ${table} changed while it was read (rows ${from}…${to})`);
      }
    });
    addCount(this.counts.textNumbers, table, text);
    return { n, image, object, links, X };
  }

  /**
   * Whether phenomap_rows may read this table: the extension is loaded, the file is not in WAL
   * mode, and every feature column sits at a known position of the stored record (no generated
   * or hidden columns, none the rowid's alias, whose record slot holds NULL).
   */
  private directPlan(ci: number, c: CompartmentSchema): DirectPlan {
    const have = this.direct[ci];
    if (have) return have;
    const plan = this.columnPlan(ci, c.features.map((f) => f.source));
    this.useReader(ci, plan);
    return plan;
  }

  /** phenomap_rows for these columns of table ci (record slots), or why it cannot be used. */
  private columnPlan(ci: number, columns: readonly string[]): DirectPlan {
    const table = this.tables[ci]!;
    return guarded(this.path, `table ${table}`, (): DirectPlan => {
      if (!this.directRows) return { reason: 'sqlite (direct reader turned off)' };
      if (!this.packed) return { reason: process.env.PHENOMAP_NO_NATIVE === '1' ? 'sqlite (PHENOMAP_NO_NATIVE=1)' : 'sqlite (phenomap\'s SQLite extension is not built)' };
      const mode = String(this.db.pragma('journal_mode', { simple: true })).toLowerCase();
      if (mode === 'wal') return { reason: 'sqlite (the database is in WAL mode)' };
      const info = this.db.prepare('SELECT cid, name, type, pk, hidden FROM pragma_table_xinfo(?)').all(table) as
        { cid: number; name: string; type: string; pk: number; hidden: number }[];
      if (info.some((x) => x.hidden !== 0)) return { reason: `sqlite (table ${table} has generated or hidden columns)` };
      const pks = info.filter((x) => x.pk > 0);
      const alias = pks.length === 1 && pks[0]!.type.toUpperCase() === 'INTEGER' ? pks[0]!.name : null;
      const slot = new Map(info.map((x, i) => [x.name, i]));
      const cols = new Int32Array(columns.length);
      for (let j = 0; j < cols.length; j++) {
        const src = columns[j]!;
        if (src === alias) return { reason: `sqlite (column ${src} is table ${table}'s rowid)` };
        const at = slot.get(src);
        if (at === undefined) return { reason: `sqlite (column ${src} not found in table ${table}'s schema)` };
        cols[j] = at;
      }
      const stmt = this.db.prepare("SELECT phenomap_rows(rootpage, ?, ?, ?, ?) FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck();
      return { stmt, cols: Buffer.from(cols.buffer, cols.byteOffset, cols.byteLength) };
    });
  }

  private useReader(ci: number, plan: DirectPlan): void {
    this.direct[ci] = plan;
    this.counts.rowReaders[this.tables[ci]!] = 'stmt' in plan ? 'direct' : plan.reason;
  }

  /**
   * Up to DIRECT_ROWS rows of the run starting at pos[r] through phenomap_rows; null when the
   * file turned out to be in WAL mode (the plan then switches to SQLite's reader for good).
   */
  private readDirect(ci: number, plan: { stmt: Database.Statement; cols: Buffer }, pos: Int32Array, r: number, X: Float64Array, nf: number, reader: RowReader): { next: number; text: number } | null {
    const k = this.keys[ci]!;
    const table = this.tables[ci]!;
    let e = r;
    while (e + 1 < pos.length && pos[e + 1] === pos[e]! + 1 && e - r + 1 < DIRECT_ROWS) e++;
    const from = k.rowid[pos[r]!]!, to = k.rowid[pos[e]!]!;
    const blob = plan.stmt.get(from, to, plan.cols, DIRECT_ROWS, table) as Buffer | null | undefined;
    if (blob === undefined) throw new InputError(`${this.path}: table ${table} is no longer in the schema`);
    if (blob === null) {
      this.useReader(ci, { reason: 'sqlite (the database is in WAL mode)' });
      return null;
    }
    const f = blob.byteOffset % 8 === 0 ? new Float64Array(blob.buffer, blob.byteOffset, blob.length / 8) : new Float64Array(new Uint8Array(blob).buffer);
    const m = f[0]!;
    if (m !== e - r + 1) throw new InputError(`${this.path}: table ${table} changed while it was read (rows ${from}…${to})`);
    for (let t = 0; t < m; t++) {
      if (f[1 + t] !== k.rowid[pos[r + t]!]) throw new InputError(`${this.path}: table ${table} changed while it was read (rowid ${f[1 + t]})`);
    }
    X.set(f.subarray(1 + m, 1 + m + m * nf), r * nf);
    let text = 0;
    const flags = 1 + m + m * nf;
    for (let t = 0; t < m; t++) {
      if (f[flags + t] === 0) continue;
      // Text, a BLOB, or a column the row predates: SQLite's path, exactly as without this reader.
      const id = f[1 + t]!;
      let seen = 0;
      for (const row of reader.stmt.iterate(id, id) as IterableIterator<unknown[]>) {
        text += reader.decode(row, X, (r + t) * nf);
        seen++;
      }
      if (seen !== 1) throw new InputError(`${this.path}: table ${table} changed while it was read (rowid ${id})`);
    }
    return { next: e + 1, text };
  }

  private cellNumber(v: unknown, table: string, col: ColumnRef, rowid: number): number {
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'string') {
      const x = numberFromText(v);
      if (x !== undefined) return x;
      throw new InputError(`${this.path}: table ${table}, column ${col.source}, rowid ${rowid}: "${shown(v)}" is not a number`);
    }
    throw new InputError(`${this.path}: table ${table}, column ${col.source}, rowid ${rowid}: a binary value (BLOB) where a number belongs`);
  }

  /** Objects of every compartment in each well, from the key scan: what a worker's share weighs. */
  wellWeights(): Float64Array {
    const w = new Float64Array(this.schema.wells.keys.length);
    for (const per of this.byWell) per.forEach((rows, i) => (w[i] += rows.length));
    return w;
  }

  objectCounts(): Record<string, number> {
    return Object.fromEntries(this.schema.compartments.map((c, ci) => [c.name, this.byWell[ci]!.reduce((a, w) => a + w.length, 0)]));
  }

  close(): void {
    this.db.close();
  }
}

/** Open one SQLite plate: detect (or take) the layout, read the image table, scan the object keys. */
export function openSqlitePlate(path: string, opts: SqliteOptions): PlateSource {
  const db = openDb(path);
  try {
    const tables = tableNames(db, path);
    const detected = sqliteLayoutFromTables(tables, (t) => columnsOf(db, path, t));
    const name = opts.layout ?? detected;
    if (!name) {
      throw new InputError(`${path}: no CellProfiler image table (expected Per_Image or Image; tables: ${preview(tables) || 'none'})`);
    }
    const layout: Layout = LAYOUTS[name];
    if (layout.storage !== 'sqlite') throw new InputError(`${path}: a SQLite file cannot be read with the ${name} layout`);
    const imageTable = findTable(tables, layout.imageTable);
    if (!imageTable) throw new InputError(`${path}: no ${layout.imageTable} table for the ${name} layout (tables: ${preview(tables)})`);

    // Image table: key columns and metadata.
    const imageCols = columnsOf(db, path, imageTable);
    const keyCols = layout.imageKey.map((k) => {
      const found = imageCols.find((c) => c.toLowerCase() === k.toLowerCase());
      if (!found) throw new InputError(`${path}: table ${imageTable} has no ${k} column (have: ${preview(imageCols)})`);
      return found;
    });
    const colSet = new Set(imageCols);
    const metaCols = imageCols.map((c) => ({ source: c, name: imageMetadataName(c, colSet) })).filter((m): m is ColumnRef => m.name !== null);
    const imageRows = guarded(path, `table ${imageTable}`, () =>
      db.prepare(`SELECT ${[...keyCols, ...metaCols.map((m) => m.source)].map(q).join(', ')} FROM ${q(imageTable)}`).raw(true).all() as unknown[][],
    );
    if (imageRows.length === 0) throw new InputError(`${path}: table ${imageTable} has no images`);
    const nk = keyCols.length;
    const hasTableNumber = nk === 2;
    const images: ImageTable = {
      n: imageRows.length,
      tableNumber: hasTableNumber ? imageRows.map((r) => (r[0] === null ? null : String(r[0]))) : null,
      imageNumber: Float64Array.from(imageRows, (r) => Number(r[nk - 1])),
      meta: metaCols.map((m, j) => metaColumn(m.name, imageRows.map((r) => normaliseMeta(r[nk + j])))),
    };
    const imageKeyOf = (vals: readonly unknown[]): string => vals.map((v) => (v === null ? '\u0001' : String(v))).join('\u0000');
    const imageIndexMap = new Map<string, number>();
    imageRows.forEach((r, i) => {
      const key = imageKeyOf(r.slice(0, nk));
      if (imageIndexMap.has(key)) {
        throw new InputError(`${path}: table ${imageTable} has two rows for image ${keyCols.map((c, j) => `${c}=${String(r[j])}`).join(', ')}`);
      }
      imageIndexMap.set(key, i);
    });
    // One numeric ImageNumber (CellProfiler's layout): looked up as a number, no key string per object.
    const byNumber = new Map<number, number>();
    if (nk === 1) imageRows.forEach((r, i) => typeof r[0] === 'number' && byNumber.set(r[0], i));
    const imageIndex = (row: unknown[], at: number): number => {
      if (nk === 1) {
        const v = row[at];
        const i = typeof v === 'number' ? byNumber.get(v) : undefined;
        if (i !== undefined) return i;
      }
      return imageIndexMap.get(imageKeyOf(row.slice(at, at + nk))) ?? -1;
    };
    const wells = groupWells(`${path} (${imageTable})`, images, opts.strata);

    // Object tables: columns, roles, linking.
    const objTables = opts.compartments.map((c) => {
      const t = findTable(tables, layout.objectTable(c));
      if (!t) throw new InputError(`${path}: no ${layout.objectTable(c)} table for compartment ${c} (tables: ${preview(tables)})`);
      return t;
    });
    const parents = new Map<string, Map<string, ColumnRef>>();
    const classified = opts.compartments.map((c, ci) => {
      const cols = columnsOf(db, path, objTables[ci]!);
      const objKey = cols.find((x) => x.toLowerCase() === layout.objectKey(c).toLowerCase()) ?? layout.objectKey(c);
      const imageKeyInTable = layout.imageKey.map((k) => cols.find((x) => x.toLowerCase() === k.toLowerCase()));
      imageKeyInTable.forEach((found, j) => {
        if (!found) throw new InputError(`${path}: table ${objTables[ci]} has no ${layout.imageKey[j]} column to find its image`);
      });
      const skip = new Set(imageKeyInTable as string[]);
      const cl = classifyObjectColumns(`${path}: table ${objTables[ci]}`, c, cols, cols, objKey, skip, opts.compartments.filter((o) => o !== c));
      parents.set(c, cl.parentColumns);
      return { cl, imageKeyInTable: imageKeyInTable as string[] };
    });
    const { linking, problem } = findLinking(path, opts.compartments, parents);
    const compartments: CompartmentSchema[] = opts.compartments.map((c, ci) => {
      const { cl } = classified[ci]!;
      return { name: c, table: objTables[ci]!, objectKey: cl.objectKey, features: withoutLinks(c, cl.features, linking) };
    });
    checkDistinctFeatures(path, compartments);
    const schema: PlateSchema = { source: path, layout: layout.name, images, wells, compartments, linking, linkProblem: problem };
    return new SqlitePlate(
      db,
      path,
      schema,
      objTables,
      imageIndex,
      (ci) => classified[ci]!.imageKeyInTable,
      opts.directRows ?? true,
    );
  } catch (e) {
    db.close();
    throw e;
  }
}

function normaliseMeta(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return v;
  return String(v);
}

/** The same feature name in two compartments would make two output columns with one name. */
export function checkDistinctFeatures(where: string, compartments: readonly CompartmentSchema[]): void {
  const owner = new Map<string, string>();
  for (const c of compartments) {
    for (const f of c.features) {
      const prev = owner.get(f.name);
      if (prev === c.table) throw new InputError(`${where}: ${c.table} has the column ${f.name} twice`);
      if (prev !== undefined) throw new InputError(`${where}: feature ${f.name} appears in both ${prev} and ${c.table}`);
      owner.set(f.name, c.table);
    }
  }
}
