/**
 * Single cells from CellProfiler ExportToSpreadsheet folders: each folder (one per site in
 * JUMP-style runs, or one per run) holds `Image.csv` and one CSV per object. The CSVs are parsed
 * by DuckDB (typed columns, no sniffing); phenomap reads only the header line itself, to check
 * that every folder of a plate has the same columns before any work.
 *
 * Object columns get their compartment prefix (`AreaShape_Area` in Cells.csv → `Cells_AreaShape_Area`)
 * unless the file already carries it (cytominer-database's CSV exports). `ImageNumber` restarts
 * in every folder, so an image is (folder, ImageNumber); the folder's path stands in for
 * cytominer-database's `TableNumber`.
 *
 * Each folder is read once. Its objects are routed to their wells; a well is handed on as soon
 * as every folder holding one of its images has been read, so with one folder per site at most
 * a few wells are in memory (a single folder holding a whole plate is held whole).
 */
import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { doubleColumn, duckMessage, ident, lit, openDuck, stringColumn, type DuckSession } from '../io/duck.js';
import { findRaggedRow, splitLine } from '../io/text.js';
import { InputError } from '../util/errors.js';
import { headerLine } from './files.js';
import { LAYOUTS, type Layout } from './layouts.js';
import { numberFromText, shown } from './numbers.js';
import {
  classifyObjectColumns, emptyCounts, findLinking, groupWells, imageMetadataName, metaColumn, withoutLinks,
  type ColumnRef, type CompartmentSchema, type ImageTable, type ObjectRows, type PlateSchema, type PlateSource,
  type ReadCounts, type WellCells,
} from './schema.js';
import { checkDistinctFeatures } from './sqliteSource.js';
import { cellsDuckMemory } from './duckMemory.js';

export interface SpreadsheetOptions {
  compartments: readonly string[];
  strata: readonly string[];
}

const layout: Layout = LAYOUTS.spreadsheet;

/** A read batch grows to this many folders or bytes of CSV (then ~40 % of that as doubles in memory). */
const BATCH_FOLDERS = 512;
const BATCH_BYTES = 256 * 2 ** 20;

interface FileColumns {
  /** Names in the file. */
  readonly raw: string[];
  /** Output names (compartment prefix added where missing). */
  readonly names: string[];
}

interface CompartmentPlan {
  readonly schema: CompartmentSchema;
  readonly columns: FileColumns;
  /** Position in the file of ImageNumber, the object key, the hub's links and the features. */
  readonly imageAt: number;
  readonly objectAt: number;
  readonly linkAt: number[];
  readonly featureAt: number[];
  /** Per folder: the CSV, or null when it is empty (0 bytes). */
  readonly files: (string | null)[];
}

/** Growable row storage for one compartment of one well. */
class Rows {
  n = 0;
  X: Float64Array;
  image: Int32Array;
  object: Float64Array;
  links: Float64Array[];
  constructor(
    private readonly nf: number,
    nl: number,
  ) {
    const cap = 64;
    this.X = new Float64Array(cap * nf);
    this.image = new Int32Array(cap);
    this.object = new Float64Array(cap);
    this.links = Array.from({ length: nl }, () => new Float64Array(cap));
  }
  reserve(k: number): void {
    const need = this.n + k;
    if (need <= this.image.length) return;
    const cap = Math.max(need, this.image.length * 2);
    const X = new Float64Array(cap * this.nf);
    X.set(this.X.subarray(0, this.n * this.nf));
    this.X = X;
    const image = new Int32Array(cap);
    image.set(this.image.subarray(0, this.n));
    this.image = image;
    const object = new Float64Array(cap);
    object.set(this.object.subarray(0, this.n));
    this.object = object;
    this.links = this.links.map((l) => {
      const a = new Float64Array(cap);
      a.set(l.subarray(0, this.n));
      return a;
    });
  }
  done(): ObjectRows {
    const n = this.n;
    return {
      n,
      X: this.X.subarray(0, n * this.nf),
      image: this.image.subarray(0, n),
      object: this.object.subarray(0, n),
      links: this.links.map((l) => l.subarray(0, n)),
    };
  }
}

function fileColumns(path: string, compartment: string): FileColumns {
  const raw = splitLine(headerLine(path), ',');
  const keys = new Set(['ImageNumber', 'ObjectNumber']);
  const prefix = `${compartment}_`;
  const prefixed = raw.filter((c) => !keys.has(c)).every((c) => c.startsWith(prefix));
  const names = raw.map((c) => (keys.has(c) || prefixed ? c : prefix + c));
  return { raw, names };
}

function firstDifference(a: readonly string[], b: readonly string[]): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `column ${i + 1} is ${a[i] === undefined ? '(none)' : `"${a[i]}"`} in one and ${b[i] === undefined ? '(none)' : `"${b[i]}"`} in the other`;
  }
  return 'same columns';
}

function commonParent(folders: readonly string[]): string {
  const parts = folders.map((f) => resolve(f).split(sep));
  const first = parts[0]!;
  let k = first.length - 1; // at least the folder's own name stays
  for (const p of parts) {
    let i = 0;
    while (i < k && i < p.length - 1 && p[i] === first[i]) i++;
    k = Math.min(k, i);
  }
  return first.slice(0, k).join(sep) || sep;
}

class SpreadsheetPlate implements PlateSource {
  readonly counts: ReadCounts = emptyCounts();

  constructor(
    private readonly session: DuckSession,
    readonly schema: PlateSchema,
    private readonly folders: string[],
    private readonly plans: CompartmentPlan[],
    /** Image index of (folder, ImageNumber). */
    private readonly imageOf: Map<number, number>,
  ) {
    for (const p of plans) p.files.forEach((f, i) => f === null && this.counts.emptyFiles.push(join(folders[i]!, `${p.schema.name}.csv`)));
  }

  async *wells(which?: readonly number[]): AsyncIterable<WellCells> {
    const W = this.schema.wells;
    const order = [...new Set(which ?? W.keys.map((_, i) => i))].sort((a, b) => a - b);
    const wanted = new Uint8Array(W.keys.length);
    for (const w of order) wanted[w] = 1;
    const folderOfImage = new Int32Array(this.schema.images.n);
    for (const [key, im] of this.imageOf) folderOfImage[im] = Math.floor(key / 2 ** 32);
    const read = new Uint8Array(this.folders.length);
    const buffers = new Map<number, Rows[]>();
    const buffer = (w: number): Rows[] => {
      let b = buffers.get(w);
      if (!b) {
        b = this.plans.map((p) => new Rows(p.featureAt.length, p.linkAt.length));
        buffers.set(w, b);
      }
      return b;
    };
    const foldersOf = (w: number) => [...new Set(Array.from(W.images[w]!, (im) => folderOfImage[im]!))].filter((f) => !read[f]);
    for (let at = 0; at < order.length; at++) {
      const w = order[at]!;
      // Read this well's unread folders, and the next wells' too while the batch is small: one
      // DuckDB query costs tens of milliseconds however little it reads, and a plate has thousands
      // of sites. Objects of later wells wait in their buffers.
      const batch = new Set(foldersOf(w));
      let bytes = 0;
      for (const f of batch) bytes += this.folderBytes(f);
      for (let next = at + 1; next < order.length && batch.size > 0 && batch.size < BATCH_FOLDERS && bytes < BATCH_BYTES; next++) {
        for (const f of foldersOf(order[next]!)) if (!batch.has(f)) (batch.add(f), (bytes += this.folderBytes(f)));
      }
      const batchList = [...batch].sort((a, b) => a - b);
      if (batchList.length) {
        for (let ci = 0; ci < this.plans.length; ci++) await this.readBatch(ci, batchList, wanted, buffer);
        for (const f of batchList) read[f] = 1;
      }
      const rows = buffers.get(w) ?? this.plans.map((p) => new Rows(p.featureAt.length, p.linkAt.length));
      buffers.delete(w);
      wanted[w] = 0;
      yield { well: w, compartments: rows.map((r) => r.done()) };
    }
    if (which === undefined) await this.countUnread(read);
  }

  /** Objects in folders no image leads to (an Image.csv without rows) are dropped: count them. */
  private async countUnread(read: Uint8Array): Promise<void> {
    const unread = this.folders.map((_, f) => f).filter((f) => !read[f]);
    if (!unread.length) return;
    for (const plan of this.plans) {
      const files = unread.map((f) => plan.files[f]).filter((f): f is string => f !== null);
      if (!files.length) continue;
      const src = `read_csv([${files.map(lit).join(', ')}], columns={'l': 'VARCHAR'}, delim=chr(1), quote='', escape='', header=true, auto_detect=false, strict_mode=false)`;
      const n = Number((await this.session.con.runAndReadAll(`SELECT count(*)::DOUBLE FROM ${src}`)).getRows()[0]![0]);
      if (n) this.counts.orphanObjects[plan.schema.table] = (this.counts.orphanObjects[plan.schema.table] ?? 0) + n;
    }
  }

  /**
   * Route one object to its well's buffer: v[at] is its ImageNumber, then the object number, the
   * hub's links and the features. False when its image is not in the image table (an orphan).
   */
  private place(ci: number, folder: number, v: Float64Array, at: number, wanted: Uint8Array, buffer: (w: number) => Rows[]): boolean {
    const plan = this.plans[ci]!;
    const nl = plan.linkAt.length;
    const nf = plan.featureAt.length;
    const im = this.imageOf.get(folder * 2 ** 32 + v[at]!);
    if (im === undefined) return false;
    const w = this.schema.wells.ofImage[im]!;
    if (!wanted[w]) return true;
    const rows = buffer(w)[ci]!;
    rows.reserve(1);
    const r = rows.n++;
    rows.image[r] = im;
    rows.object[r] = v[at + 1]!;
    for (let l = 0; l < nl; l++) rows.links[l]![r] = v[at + 2 + l]!;
    rows.X.set(v.subarray(at + 2 + nl, at + 2 + nl + nf), r * nf);
    return true;
  }

  private async readBatch(ci: number, batch: number[], wanted: Uint8Array, buffer: (w: number) => Rows[]): Promise<void> {
    const plan = this.plans[ci]!;
    const files = batch.map((f) => plan.files[f]).filter((f): f is string => f !== null);
    if (!files.length) return;
    const folderByFile = new Map(batch.filter((f) => plan.files[f] !== null).map((f) => [plan.files[f]!, f]));
    const cols = [plan.imageAt, plan.objectAt, ...plan.linkAt, ...plan.featureAt];
    const ncol = plan.columns.raw.length;
    const con = this.session.con;
    let orphans = 0;
    try {
      const res = await con.stream(lineSplitQuery(files, cols));
      for (;;) {
        const chunk = await res.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const n = chunk.rowCount;
        const names = stringColumn(chunk, 0);
        const fields = doubleColumn(chunk, 1);
        const quoted = chunk.getColumnVector(2);
        const list = chunk.getColumnVector(3) as unknown as ListOfDoubles;
        const child = list.childVector;
        if (!allValid(child.validity.data, child.items.length)) throw new BadText();
        const v = child.items;
        for (let i = 0; i < n; i++) {
          if (fields[i] !== ncol) throw new BadText();
          if (quoted.getItem(i)) throw new Quoted();
          if (!this.place(ci, folderByFile.get(names[i]!) ?? -1, v, list.getEntryOffset(i), wanted, buffer)) orphans++;
        }
      }
    } catch (e) {
      if (e instanceof Quoted) {
        // A quoted field can hide a comma: this batch takes DuckDB's full CSV parser instead.
        return this.readBatchQuoted(ci, batch, wanted, buffer);
      }
      if (e instanceof InputError) throw e;
      throw await diagnose(con, files, plan, e);
    }
    if (orphans) this.counts.orphanObjects[plan.schema.table] = (this.counts.orphanObjects[plan.schema.table] ?? 0) + orphans;
  }

  /** The same as readBatch through read_csv with every column typed (slow to start on wide files). */
  private async readBatchQuoted(ci: number, batch: number[], wanted: Uint8Array, buffer: (w: number) => Rows[]): Promise<void> {
    const plan = this.plans[ci]!;
    const files = batch.map((f) => plan.files[f]).filter((f): f is string => f !== null);
    const folderByFile = new Map(batch.filter((f) => plan.files[f] !== null).map((f) => [plan.files[f]!, f]));
    const cols = [plan.imageAt, plan.objectAt, ...plan.linkAt, ...plan.featureAt];
    const select = [...cols.map((i) => `coalesce(c${i}, 'NaN'::DOUBLE)`), 'filename'].join(', ');
    const source = csvSource(files, plan.columns.raw.length, new Set(cols));
    const con = this.session.con;
    let orphans = 0;
    try {
      const res = await con.stream(`SELECT ${select} FROM ${source}`);
      const vecs: Float64Array[] = new Array(cols.length);
      const row = new Float64Array(cols.length);
      for (;;) {
        const chunk = await res.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const n = chunk.rowCount;
        for (let q = 0; q < cols.length; q++) vecs[q] = doubleColumn(chunk, q);
        const names = stringColumn(chunk, cols.length);
        for (let i = 0; i < n; i++) {
          for (let q = 0; q < cols.length; q++) row[q] = vecs[q]![i]!;
          if (!this.place(ci, folderByFile.get(names[i]!) ?? -1, row, 0, wanted, buffer)) orphans++;
        }
      }
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw await diagnose(con, files, plan, e);
    }
    if (orphans) this.counts.orphanObjects[plan.schema.table] = (this.counts.orphanObjects[plan.schema.table] ?? 0) + orphans;
  }

  private sizes: number[] | null = null;

  /** Bytes of a folder's object files (what a batch costs to hold). */
  private folderBytes(f: number): number {
    if (!this.sizes) {
      this.sizes = this.folders.map((_, i) => this.plans.reduce((a, p) => a + (p.files[i] ? statSync(p.files[i]!).size : 0), 0));
    }
    return this.sizes[f]!;
  }

  objectCounts(): null {
    return null;
  }

  close(): void {
    this.session.close();
  }
}

/** True when a DuckDB validity mask (null = all valid) marks the first n entries valid. */
function allValid(mask: unknown, n: number): boolean {
  if (mask === null || mask === undefined) return true;
  const words = mask as BigUint64Array;
  const full = Math.floor(n / 64);
  for (let w = 0; w < full; w++) if (words[w] !== 0xffffffffffffffffn) return false;
  const rest = n % 64;
  if (rest === 0) return true;
  const m = (1n << BigInt(rest)) - 1n;
  return (words[full]! & m) === m;
}

/** Thrown inside readBatch when a row needs the careful path. */
class BadText extends Error {}
class Quoted extends Error {}

/** The parts of DuckDB's LIST vector readBatch uses (public in @duckdb/node-api). */
interface ListOfDoubles {
  readonly childVector: { readonly items: Float64Array; readonly validity: { readonly data: unknown } };
  getEntryOffset(i: number): number;
}

/**
 * CellProfiler's object CSVs are numbers only, hundreds to thousands of columns. DuckDB's typed
 * CSV reader spends ~0.2 s setting up each such file before reading a row (measured in
 * bench/singlecell.ts), which a plate of 10,000 site files cannot afford; read as one text column,
 * split on commas and cast by DuckDB itself, a file costs what its bytes cost. The wanted fields
 * come back as one LIST<DOUBLE> per row — flat and row-major in DuckDB's child vector. Empty and
 * NA-like fields are NaN; any other field that is not a number comes back NULL and sends the
 * batch to `diagnose`; a line with a quote goes to the typed reader.
 */
function lineSplitQuery(files: readonly string[], cols: readonly number[]): string {
  const pick = cols.map((c) => c + 1).join(', ');
  return (
    `SELECT filename, len(p)::DOUBLE, quoted, list_transform(list_select(p, [${pick}]), ` +
    `x -> CASE WHEN x IN ('', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None') THEN 'NaN'::DOUBLE ELSE TRY_CAST(x AS DOUBLE) END) ` +
    `FROM (SELECT filename, string_split(rtrim(l, chr(13)), ',') AS p, contains(l, '"') AS quoted ` +
    `FROM read_csv([${files.map(lit).join(', ')}], columns={'l': 'VARCHAR'}, delim=chr(1), quote='', escape='', header=true, ` +
    `auto_detect=false, strict_mode=false, filename=true))`
  );
}

/** read_csv over several files with positional names: the used columns DOUBLE, the rest text. */
function csvSource(files: readonly string[], ncol: number, numeric: ReadonlySet<number>): string {
  const struct = `{${Array.from({ length: ncol }, (_, i) => `'c${i}': '${numeric.has(i) ? 'DOUBLE' : 'VARCHAR'}'`).join(', ')}}`;
  return (
    `read_csv([${files.map(lit).join(', ')}], header=true, auto_detect=false, columns=${struct}, delim=',', quote='"', escape='"', ` +
    `strict_mode=true, null_padding=false, nullstr='', filename=true)`
  );
}

/** After DuckDB refused a batch: name the file, line, column and value, asking DuckDB as text. */
async function diagnose(con: DuckDBConnection, files: readonly string[], plan: CompartmentPlan, e: unknown): Promise<InputError> {
  const used = [plan.imageAt, plan.objectAt, ...plan.linkAt, ...plan.featureAt];
  for (const f of files) {
    const rag = await findRaggedRow(f, false, ',');
    if (rag) return new InputError(`${f}: data row ${rag.row} has ${rag.fields} fields, the header has ${rag.expected} (a truncated or damaged file)`);
    const ncol = plan.columns.raw.length;
    const struct = `{${Array.from({ length: ncol }, (_, i) => `'c${i}': 'VARCHAR'`).join(', ')}}`;
    const src =
      `read_csv(${lit(f)}, header=true, auto_detect=false, columns=${struct}, delim=',', quote='"', escape='"', ` +
      `strict_mode=false, null_padding=true, nullstr='')`;
    let rows: unknown[][];
    try {
      const r = await con.runAndReadAll(`SELECT * FROM ${src}`);
      rows = r.getRowsJS();
    } catch (e2) {
      return new InputError(`${f}: not readable as CSV (${duckMessage(e2)})`);
    }
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      for (const c of used) {
        const v = row[c];
        if (v === null || v === undefined) continue;
        if (numberFromText(String(v)) === undefined) {
          return new InputError(`${f}: line ${i + 2}, column ${plan.columns.raw[c]}: "${shown(String(v))}" is not a number`);
        }
      }
    }
    try {
      await con.runAndReadAll(`SELECT count(*) FROM ${csvSource([f], ncol, new Set(used))}`);
    } catch (e3) {
      return new InputError(`${f}: ${duckMessage(e3)}`);
    }
  }
  return new InputError(`${files[0]}${files.length > 1 ? ` (and ${files.length - 1} more)` : ''}: ${duckMessage(e)}`);
}

/** Open a set of ExportToSpreadsheet folders as one source (wells pooled across folders by their strata). */
export async function openSpreadsheetFolders(folders: readonly string[], opts: SpreadsheetOptions): Promise<PlateSource> {
  if (!folders.length) throw new InputError('no CellProfiler CSV folder given');
  const root = commonParent(folders);
  const where = folders.length === 1 ? folders[0]! : `${root} (${folders.length} folders)`;
  for (const f of folders) {
    const img = join(f, layout.imageTable);
    if (!existsSync(img)) throw new InputError(`${f}: no ${layout.imageTable} (an ExportToSpreadsheet folder has Image.csv and one CSV per object)`);
    if (statSync(img).size === 0) throw new InputError(`${img}: empty file (0 bytes); the folder's images are unknown`);
  }
  // Object files: header of each; the same columns in every folder.
  const plans0 = opts.compartments.map((c) => {
    let ref: { folder: string; cols: FileColumns } | null = null;
    const files = folders.map((f) => {
      const path = join(f, layout.objectTable(c));
      if (!existsSync(path)) throw new InputError(`${f}: no ${layout.objectTable(c)} for compartment ${c} (choose compartments with --compartments)`);
      if (statSync(path).size === 0) return null;
      const cols = fileColumns(path, c);
      if (!ref) ref = { folder: f, cols };
      else if (cols.raw.join('\u0000') !== ref.cols.raw.join('\u0000')) {
        throw new InputError(
          `${layout.objectTable(c)} has different columns in ${ref.folder} (${ref.cols.raw.length}) and ${f} (${cols.raw.length}): ` +
            `${firstDifference(ref.cols.raw, cols.raw)}; sites of one plate must come from one CellProfiler pipeline`,
        );
      }
      return path;
    });
    const r = ref as { folder: string; cols: FileColumns } | null;
    if (!r) throw new InputError(`${where}: every ${layout.objectTable(c)} is empty (0 bytes): no ${c} objects at all`);
    return { c, files, cols: r.cols, table: `${layout.objectTable(c)}` };
  });
  const parents = new Map<string, Map<string, ColumnRef>>();
  const classified = plans0.map((p) => {
    const cl = classifyObjectColumns(
      `${where}: ${p.table}`,
      p.c,
      p.cols.raw,
      p.cols.names,
      layout.objectKey(p.c),
      new Set(['ImageNumber']),
      opts.compartments.filter((o) => o !== p.c),
    );
    if (!p.cols.raw.includes('ImageNumber')) throw new InputError(`${where}: ${p.table} has no ImageNumber column`);
    parents.set(p.c, cl.parentColumns);
    return cl;
  });
  const { linking, problem } = findLinking(where, opts.compartments, parents);
  const session = await openDuck({ memoryLimit: cellsDuckMemory(), preserveOrder: true });
  try {
    const { images, imageOf } = await readImages(session.con, folders, root);
    const wells = groupWells(`${where} (Image.csv)`, images, opts.strata);
    const plans: CompartmentPlan[] = plans0.map((p, ci) => {
      const cl = classified[ci]!;
      const features = withoutLinks(p.c, cl.features, linking);
      const at = (src: string): number => p.cols.raw.indexOf(src);
      const linkAt = linking && linking.hub === p.c ? linking.parents.map((x) => at(x.column.source)) : [];
      return {
        schema: { name: p.c, table: p.table, objectKey: cl.objectKey, features },
        columns: p.cols,
        imageAt: at('ImageNumber'),
        objectAt: at(cl.objectKey.source),
        linkAt,
        featureAt: features.map((f) => at(f.source)),
        files: p.files,
      };
    });
    const compartments = plans.map((p) => p.schema);
    checkDistinctFeatures(where, compartments);
    const schema: PlateSchema = { source: where, layout: layout.name, images, wells, compartments, linking, linkProblem: problem };
    return new SpreadsheetPlate(session, schema, [...folders], plans, imageOf);
  } catch (e) {
    session.close();
    throw e;
  }
}

/** Every Image.csv in one DuckDB scan: ImageNumber and the Metadata_* columns. */
async function readImages(con: DuckDBConnection, folders: readonly string[], root: string): Promise<{ images: ImageTable; imageOf: Map<number, number> }> {
  const files = folders.map((f) => join(f, layout.imageTable));
  const folderOf = new Map(files.map((f, i) => [f, i]));
  const header = splitLine(headerLine(files[0]!), ',');
  const all = new Set(header);

  const metaCols = header.map((c) => ({ source: c, name: imageMetadataName(c, all) })).filter((m): m is ColumnRef => m.name !== null);
  if (!header.includes('ImageNumber')) throw new InputError(`${files[0]}: no ImageNumber column`);
  const wanted = ['ImageNumber', ...metaCols.map((m) => m.source)];
  let rows: unknown[][] | null = null;
  const first = headerLine(files[0]!);
  if (files.every((f, i) => i === 0 || headerLine(f) === first)) {
    // The common case: one header for all sites, no quotes — split lines as for object files.
    const pick = wanted.map((c) => `p[${header.indexOf(c) + 1}]`).join(', ');
    const sql =
      `SELECT filename, len(p) = ${header.length} AND NOT quoted, ${pick} FROM (SELECT filename, string_split(rtrim(l, chr(13)), ',') AS p, ` +
      `contains(l, '"') AS quoted FROM read_csv([${files.map(lit).join(', ')}], columns={'l': 'VARCHAR'}, delim=chr(1), quote='', escape='', ` +
      `header=true, auto_detect=false, strict_mode=false, filename=true))`;
    try {
      const got = (await con.runAndReadAll(sql)).getRowsJS();
      if (got.every((r) => r[1] === true)) rows = got.map((r) => [r[0], ...r.slice(2).map((v) => (v === '' ? null : v))]);
    } catch {
      rows = null; // the careful reader below names the problem
    }
  }
  if (!rows) {
    const src = `read_csv([${files.map(lit).join(', ')}], header=true, all_varchar=true, union_by_name=true, filename=true, delim=',', quote='"', escape='"', nullstr='')`;
    try {
      const r = await con.runAndReadAll(`SELECT filename, ${wanted.map(ident).join(', ')} FROM ${src}`);
      rows = r.getRowsJS();
    } catch (e) {
      throw new InputError(`${files.length === 1 ? files[0] : `${files.length} Image.csv files under ${root}`}: ${duckMessage(e)}`);
    }
  }
  const imageOf = new Map<number, number>();
  const tableNumber: string[] = [];
  const imageNumber: number[] = [];
  rows.forEach((row, i) => {
    const folder = folderOf.get(String(row[0]));
    if (folder === undefined) throw new Error(`Image.csv rows from an unexpected file ${String(row[0])}`);
    const num = Number(row[1]);
    if (!Number.isInteger(num) || num < 0) throw new InputError(`${files[folder]}: ImageNumber "${String(row[1])}" is not a whole number`);
    const key = folder * 2 ** 32 + num;
    if (imageOf.has(key)) throw new InputError(`${files[folder]}: ImageNumber ${num} appears twice`);
    imageOf.set(key, i);
    tableNumber.push(relative(root, folders[folder]!) || folders[folder]!);
    imageNumber.push(num);
  });
  const meta = metaCols.map((m, j) => metaColumn(m.name, numbersIfAllNumbers(rows.map((r) => (r[2 + j] === null || r[2 + j] === undefined ? null : String(r[2 + j]))))));
  const images: ImageTable = { n: rows.length, tableNumber, imageNumber: Float64Array.from(imageNumber), meta };
  if (!rows.length) throw new InputError(`${root}: the Image.csv files hold no images`);
  return { images, imageOf };
}

const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** CSV metadata is text; a column whose every value is a plain decimal number is read as numbers (as pandas does). */
function numbersIfAllNumbers(values: (string | null)[]): (string | number | null)[] {
  return values.every((v) => v === null || NUMBER.test(v)) ? values.map((v) => (v === null ? null : Number(v))) : values;
}
