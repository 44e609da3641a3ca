/**
 * Single cells from Parquet with one row per linked cell — CytoTable's output, or phenomap's own
 * `cells merge` — read through DuckDB. The compartments are already joined, so there is nothing
 * to link; features are the compartment-prefixed columns, metadata the rest (`Image_Metadata_X`
 * is read as `Metadata_X`, as for the other layouts).
 *
 * Bounded memory: a first query counts each well's rows and checks whether they lie contiguous in
 * the file (CytoTable writes image by image, so they usually do). Then the file is streamed in
 * its own order and a well is handed on as soon as its last row has arrived. When wells are
 * interleaved, DuckDB orders the rows by well first (its sort spills to disk past its memory limit).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { statSync } from 'node:fs';
import { doubleColumn, duckMessage, ident, isNumericType, lit, openDuck, type DuckSession } from '../io/duck.js';
import { InputError } from '../util/errors.js';
import { cellsDuckMemory } from './duckMemory.js';
import { checkDistinctFeatures } from './sqliteSource.js';
import {
  emptyCounts, groupWells, imageMetadataName, metaColumn, preview, startsWithCompartment,
  type ColumnRef, type ImageTable, type ObjectRows, type PlateSchema, type PlateSource, type ReadCounts, type WellCells,
} from './schema.js';

export interface ParquetOptions {
  compartments: readonly string[];
  strata: readonly string[];
}

/** Columns that, with the strata, identify an image in a single-cell table (first found wins). */
const IMAGE_KEYS: readonly (readonly string[])[] = [['Metadata_TableNumber', 'Metadata_ImageNumber'], ['Metadata_ImageNumber'], ['Metadata_Site']];

class ParquetCells implements PlateSource {
  readonly counts: ReadCounts = emptyCounts();

  constructor(
    private readonly session: DuckSession,
    private readonly path: string,
    readonly schema: PlateSchema,
    private readonly strataSql: string[],
    private readonly featureSql: string[],
    private readonly wellRows: Float64Array,
    private readonly contiguous: boolean,
  ) {}

  async *wells(which?: readonly number[]): AsyncIterable<WellCells> {
    const W = this.schema.wells;
    const wanted = new Uint8Array(W.keys.length);
    for (const w of which ?? W.keys.map((_, i) => i)) wanted[w] = 1;
    const index = new Map(W.keys.map((k, w) => [keyId(k), w]));
    const nf = this.featureSql.length;
    const ns = this.strataSql.length;
    const buffers = new Map<number, { X: Float64Array; n: number }>();
    const select = [...this.strataSql.map((s) => `${ident(s)}`), ...this.featureSql.map((f) => `coalesce(CAST(${ident(f)} AS DOUBLE), 'NaN'::DOUBLE)`)].join(', ');
    const order = this.contiguous ? '' : ` ORDER BY ${this.strataSql.map(ident).join(', ')}, file_row_number`;
    const con = this.session.con;
    let res;
    try {
      res = await con.stream(`SELECT ${select} FROM read_parquet(${lit(this.path)}, file_row_number = true)${order}`);
    } catch (e) {
      throw new InputError(`${this.path}: ${duckMessage(e)}`);
    }
    const cols: Float64Array[] = new Array(nf);
    for (;;) {
      let chunk;
      try {
        chunk = await res.fetchChunk();
      } catch (e) {
        throw new InputError(`${this.path}: ${duckMessage(e)}`);
      }
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      const keys = Array.from({ length: ns }, (_, s) => chunk.getColumnVector(s));
      for (let q = 0; q < nf; q++) cols[q] = doubleColumn(chunk, ns + q);
      for (let i = 0; i < n; i++) {
        const w = index.get(keyId(keys.map((v) => normalise(v.getItem(i)))));
        if (w === undefined) throw new Error(`${this.path}: a row of an unknown well`);
        if (!wanted[w]) continue;
        let b = buffers.get(w);
        if (!b) {
          b = { X: new Float64Array(this.wellRows[w]! * nf), n: 0 };
          buffers.set(w, b);
        }
        const o = b.n * nf;
        for (let q = 0; q < nf; q++) b.X[o + q] = cols[q]![i]!;
        b.n++;
        if (b.n === this.wellRows[w]) {
          buffers.delete(w);
          wanted[w] = 0;
          yield { well: w, compartments: [rowsOf(b.X, b.n)] };
        }
      }
    }
    for (let w = 0; w < W.keys.length; w++) {
      if (wanted[w]) yield { well: w, compartments: [rowsOf(new Float64Array(0), 0)] };
    }
  }

  objectCounts(): Record<string, number> {
    return { [this.schema.compartments[0]!.name]: this.wellRows.reduce((a, b) => a + b, 0) };
  }

  close(): void {
    this.session.close();
  }
}

function rowsOf(X: Float64Array, n: number): ObjectRows {
  return { n, X, image: new Int32Array(n).fill(-1), object: new Float64Array(n).fill(NaN), links: [] };
}

function normalise(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return String(v);
}

function keyId(k: readonly (string | number | null)[]): string {
  return k.map((v) => (v === null ? '\u0001' : typeof v === 'number' ? `n${v}` : `s${v}`)).join('\u0000');
}

async function describe(con: DuckDBConnection, path: string): Promise<{ name: string; type: string }[]> {
  const r = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit(path)})`);
  return r.getRowObjectsJS().map((o) => ({ name: String(o['column_name']), type: String(o['column_type']) }));
}

export async function openParquetCells(path: string, opts: ParquetOptions): Promise<PlateSource> {
  try {
    if (statSync(path).size === 0) throw new InputError(`${path}: empty file (0 bytes)`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: file not found`);
  }
  const session = await openDuck({ memoryLimit: cellsDuckMemory(), preserveOrder: true });
  try {
    const con = session.con;
    let cols: { name: string; type: string }[];
    try {
      cols = await describe(con, path);
    } catch (e) {
      throw new InputError(`${path}: not a readable Parquet file (${duckMessage(e)})`);
    }
    const all = new Set(cols.map((c) => c.name));
    const meta = cols.map((c) => ({ source: c.name, name: imageMetadataName(c.name, all) })).filter((m): m is ColumnRef => m.name !== null);
    const features = cols.filter((c) => opts.compartments.some((k) => startsWithCompartment(c.name, k)) && !c.name.includes('_Metadata_'));
    const nonNumeric = features.filter((c) => !isNumericType(c.type));
    if (nonNumeric.length) {
      throw new InputError(`${path}: feature column ${nonNumeric[0]!.name} is ${nonNumeric[0]!.type}, not numeric (${nonNumeric.length} such column(s))`);
    }
    if (!features.length) {
      throw new InputError(`${path}: no feature columns (expected names starting with ${opts.compartments.join('_, ')}_; have: ${preview(cols.map((c) => c.name))})`);
    }
    const strataSql = opts.strata.map((s) => {
      const m = meta.find((x) => x.name === s);
      if (!m) throw new InputError(`${path}: no column ${s} to group wells by (metadata: ${preview(meta.map((x) => x.name))}); choose --strata`);
      return m.source;
    });
    const keyCols = IMAGE_KEYS.find((ks) => ks.every((k) => meta.some((m) => m.name === k))) ?? [];
    const keySql = keyCols.map((k) => meta.find((m) => m.name === k)!.source);
    // One row per image (strata + image key): its cell count and where its rows lie in the file.
    const groupCols = [...new Set([...strataSql, ...keySql])];
    const gsel = groupCols.map(ident).join(', ');
    let rows: unknown[][];
    try {
      const r = await con.runAndReadAll(
        `SELECT ${gsel}, count(*)::DOUBLE, min(file_row_number)::DOUBLE, max(file_row_number)::DOUBLE FROM read_parquet(${lit(path)}, file_row_number = true) GROUP BY ALL`,
      );
      rows = r.getRowsJS();
    } catch (e) {
      throw new InputError(`${path}: ${duckMessage(e)}`);
    }
    if (!rows.length) throw new InputError(`${path}: no cells (0 rows)`);
    const g = groupCols.length;
    const images: ImageTable = {
      n: rows.length,
      tableNumber: null,
      imageNumber: Float64Array.from(rows, (r) => (keySql.length ? Number(r[g - 1]) : NaN)),
      meta: groupCols.map((c, j) => metaColumn(meta.find((m) => m.source === c)!.name, rows.map((r) => normalise(r[j])))),
      imagesUnknown: keySql.length === 0,
    };
    const wells = groupWells(path, images, opts.strata);
    const nw = wells.keys.length;
    const wellRows = new Float64Array(nw);
    const lo = new Float64Array(nw).fill(Infinity);
    const hi = new Float64Array(nw).fill(-Infinity);
    rows.forEach((r, i) => {
      const w = wells.ofImage[i]!;
      wellRows[w] += Number(r[g]);
      lo[w] = Math.min(lo[w]!, Number(r[g + 1]));
      hi[w] = Math.max(hi[w]!, Number(r[g + 2]));
    });
    let contiguous = true;
    for (let w = 0; w < nw; w++) if (hi[w]! - lo[w]! + 1 !== wellRows[w]) contiguous = false;
    const featureRefs = features.map((c) => ({ source: c.name, name: c.name }));
    const compartment = { name: opts.compartments.join('+'), table: path, objectKey: { source: '', name: '' }, features: featureRefs };
    checkDistinctFeatures(path, [compartment]);
    const schema: PlateSchema = { source: path, layout: 'parquet', images, wells, compartments: [compartment], linking: null, preLinked: true };
    return new ParquetCells(session, path, schema, strataSql, features.map((c) => c.name), wellRows, contiguous);
  } catch (e) {
    session.close();
    throw e;
  }
}
