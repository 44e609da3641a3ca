/**
 * Readers for compound × assay activity tables (issue 6, `phenomap predict`):
 *  - long format (CSV/TSV/Parquet, optionally gzipped): one record per row with a compound, an
 *    assay and a value column (names given by the caller); values are kept as text so that the
 *    matrix builder (predict/activity-table.ts) can count missing and non-numeric ones;
 *  - MatrixMarket coordinate files (`%%MatrixMarket matrix coordinate integer|real|pattern general`,
 *    optionally .gz), the exchange format of SMURFF/Macau and of the HTI label matrix
 *    (Hofmarcher et al. 2019), with optional row / column index CSVs that name the compounds and
 *    assays. An index CSV either has an INDEX column (0- or 1-based row numbers) beside a name
 *    column (e.g. `INDEX,INCHIKEY`), or is a one-column list in matrix order (e.g. `ASSAY_ID`).
 * Indices are 1-based in MatrixMarket (NIST MatrixMarket format, Boisvert et al. 1996).
 * Malformed MatrixMarket lines are InputErrors naming the line; duplicate cells are counted here
 * and aggregated by the matrix builder (predict/sparse.ts). io sits upstream of predict, so this
 * module returns plain coordinate arrays, not an ActivityMatrix.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { basename } from 'node:path';
import { InputError } from '../util/errors.js';
import { checkReadable } from './text.js';
import { readTable, tableColumn } from './read.js';

/** One (compound, assay, value) record; the value stays text until the matrix builder parses it. */
export interface ActivityRecord {
  compound: string;
  assay: string;
  value: string | number | null;
}

export interface LongActivityColumns {
  compoundCol: string;
  assayCol: string;
  valueCol: string;
}

export interface ActivityRecords {
  source: string;
  format: 'long' | 'matrixmarket';
  records: ActivityRecord[];
  /** MatrixMarket only: entries repeating an earlier (row, column) of the file (merged later by the builder). */
  duplicateEntries?: number;
}

function isMatrixMarket(path: string): boolean {
  const n = basename(path).toLowerCase();
  return n.endsWith('.mtx') || n.endsWith('.mtx.gz') || n.endsWith('.mm') || n.endsWith('.mm.gz');
}

/**
 * Long activity table → records. Row numbers in messages count data rows from 1 (the header is
 * line 1 of the file, so data row r is line r + 1). Empty compound or assay names are errors.
 */
export async function readLongActivity(path: string, cols: LongActivityColumns): Promise<ActivityRecords> {
  const t = await readTable(path);
  const compound = tableColumn(t, cols.compoundCol);
  const assay = tableColumn(t, cols.assayCol);
  const value = tableColumn(t, cols.valueCol);
  const records: ActivityRecord[] = new Array(t.rows);
  for (let r = 0; r < t.rows; r++) {
    const c = compound[r]?.trim(), a = assay[r]?.trim();
    if (!c) throw new InputError(`${path}: data row ${r + 1} has an empty compound ("${cols.compoundCol}")`);
    if (!a) throw new InputError(`${path}: data row ${r + 1} has an empty assay ("${cols.assayCol}")`);
    records[r] = { compound: c, assay: a, value: value[r] };
  }
  return { source: path, format: 'long', records };
}

export interface MatrixMarketOptions {
  /** Index CSV naming the rows (compounds). Default: names "1", "2", … (1-based, as in the file). */
  rows?: string;
  /** Index CSV naming the columns (assays). */
  cols?: string;
}

export interface MatrixMarketActivity {
  source: string;
  field: 'integer' | 'real' | 'pattern';
  rows: number;
  cols: number;
  /** 0-based coordinates and values of the entries, in file order (duplicates included). */
  rowIdx: Int32Array;
  colIdx: Int32Array;
  values: Float64Array;
  rowNames: string[];
  colNames: string[];
  /** Entries repeating an earlier (row, column) of the file. */
  duplicateEntries: number;
}

function openLines(path: string): AsyncIterable<string> {
  const raw = createReadStream(path);
  let input: Readable = raw;
  if (path.toLowerCase().endsWith('.gz')) {
    const gz = createGunzip();
    raw.on('error', (e) => gz.destroy(e));
    input = raw.pipe(gz);
  }
  return createInterface({ input, crlfDelay: Infinity });
}

const HEADER = /^%%matrixmarket\s+matrix\s+(\w+)\s+(\w+)\s+(\w+)\s*$/i;

/** Parse a MatrixMarket coordinate file into coordinate arrays (values as in the file). */
export async function readMatrixMarketActivity(path: string, opts: MatrixMarketOptions = {}): Promise<MatrixMarketActivity> {
  if (checkReadable(path) === 0) throw new InputError(`${path}: empty file`);
  let lineNo = 0;
  let field: MatrixMarketActivity['field'] | null = null;
  let size: [number, number, number] | null = null;
  let rowIdx = new Int32Array(0), colIdx = new Int32Array(0), values = new Float64Array(0);
  let k = 0;
  try {
    for await (const line of openLines(path)) {
      lineNo++;
      if (lineNo === 1) {
        const m = HEADER.exec(line.trim());
        if (!m) throw new InputError(`${path}: line 1 is not a MatrixMarket header ("%%MatrixMarket matrix coordinate integer general")`);
        const [, format, fld, symmetry] = m.map((s) => s.toLowerCase());
        if (format !== 'coordinate') throw new InputError(`${path}: MatrixMarket format "${format}" is not supported (only coordinate)`);
        if (fld !== 'integer' && fld !== 'real' && fld !== 'pattern') throw new InputError(`${path}: MatrixMarket field "${fld}" is not supported (integer, real or pattern)`);
        if (symmetry !== 'general') throw new InputError(`${path}: MatrixMarket symmetry "${symmetry}" is not supported (only general)`);
        field = fld;
        continue;
      }
      const s = line.trim();
      if (s === '' || s.startsWith('%')) continue;
      const parts = s.split(/\s+/);
      if (!size) {
        const nums = parts.map(Number);
        if (parts.length !== 3 || !nums.every((x) => Number.isInteger(x) && x >= 0)) {
          throw new InputError(`${path}: line ${lineNo}: expected the size line "rows columns entries", got "${s}"`);
        }
        size = [nums[0]!, nums[1]!, nums[2]!];
        rowIdx = new Int32Array(size[2]); colIdx = new Int32Array(size[2]); values = new Float64Array(size[2]);
        continue;
      }
      const want = field === 'pattern' ? 2 : 3;
      if (parts.length !== want) throw new InputError(`${path}: line ${lineNo}: expected ${want} fields (row column${field === 'pattern' ? '' : ' value'}), got ${parts.length}`);
      if (k >= size[2]) throw new InputError(`${path}: line ${lineNo}: more entries than the ${size[2]} announced on the size line`);
      const i = Number(parts[0]), j = Number(parts[1]);
      if (!Number.isInteger(i) || i < 1 || i > size[0]) throw new InputError(`${path}: line ${lineNo}: row index "${parts[0]}" is not an integer in 1..${size[0]}`);
      if (!Number.isInteger(j) || j < 1 || j > size[1]) throw new InputError(`${path}: line ${lineNo}: column index "${parts[1]}" is not an integer in 1..${size[1]}`);
      const v = field === 'pattern' ? 1 : Number(parts[2]);
      if (!Number.isFinite(v)) throw new InputError(`${path}: line ${lineNo}: value "${parts[2]}" is not a finite number`);
      if (field === 'integer' && !Number.isInteger(v)) throw new InputError(`${path}: line ${lineNo}: value "${parts[2]}" is not an integer (header says integer)`);
      rowIdx[k] = i - 1; colIdx[k] = j - 1; values[k] = v;
      k++;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: unreadable (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!field) throw new InputError(`${path}: empty file`);
  if (!size) throw new InputError(`${path}: no size line after the MatrixMarket header`);
  if (k !== size[2]) throw new InputError(`${path}: ${k} entries, the size line announces ${size[2]} (truncated file?)`);
  const seen = new Set<number>();
  let duplicateEntries = 0;
  for (let t = 0; t < k; t++) {
    const key = rowIdx[t]! * size[1] + colIdx[t]!;
    if (seen.has(key)) duplicateEntries++;
    else seen.add(key);
  }
  const rowNames = opts.rows ? await readIndexNames(opts.rows, size[0], 'rows') : Array.from({ length: size[0] }, (_, i) => String(i + 1));
  const colNames = opts.cols ? await readIndexNames(opts.cols, size[1], 'columns') : Array.from({ length: size[1] }, (_, j) => String(j + 1));
  return { source: path, field, rows: size[0], cols: size[1], rowIdx, colIdx, values, rowNames, colNames, duplicateEntries };
}

/**
 * Names of the matrix rows (or columns) from an index CSV. With an INDEX column the names come
 * from the first other column and the indices (0-based, or 1-based when they run 1..n) place
 * them; without one, the first column lists the names in matrix order.
 */
export async function readIndexNames(path: string, n: number, what: 'rows' | 'columns'): Promise<string[]> {
  const t = await readTable(path);
  const idxCol = t.columns.find((c) => c.toLowerCase() === 'index');
  const nameCol = t.columns.find((c) => c !== idxCol);
  if (!nameCol) throw new InputError(`${path}: needs a name column besides "${idxCol}"`);
  if (t.rows !== n) throw new InputError(`${path}: ${t.rows} names for the matrix's ${n} ${what}`);
  const names = tableColumn(t, nameCol);
  if (!idxCol) return names.map((v, r) => {
    if (v === null || v.trim() === '') throw new InputError(`${path}: data row ${r + 1} has an empty name`);
    return v.trim();
  });
  const idx = tableColumn(t, idxCol).map((v, r) => {
    const x = Number(v);
    if (v === null || !Number.isInteger(x)) throw new InputError(`${path}: data row ${r + 1}: ${idxCol} "${v ?? ''}" is not an integer`);
    return x;
  });
  const base = Math.min(...idx) === 1 && !idx.includes(0) ? 1 : 0;
  const out = new Array<string | undefined>(n);
  idx.forEach((x, r) => {
    const p = x - base;
    if (p < 0 || p >= n) throw new InputError(`${path}: data row ${r + 1}: ${idxCol} ${x} is outside ${base}..${n - 1 + base}`);
    if (out[p] !== undefined) throw new InputError(`${path}: data row ${r + 1}: ${idxCol} ${x} occurs twice`);
    const v = names[r];
    if (v === null || v === undefined || v.trim() === '') throw new InputError(`${path}: data row ${r + 1} has an empty ${nameCol}`);
    out[p] = v.trim();
  });
  return out as string[];
}

/** The entries of a MatrixMarket activity file as (compound name, assay name, value) records, in file order. */
export function matrixMarketRecords(mm: MatrixMarketActivity): ActivityRecord[] {
  const out: ActivityRecord[] = new Array(mm.values.length);
  for (let t = 0; t < mm.values.length; t++) out[t] = { compound: mm.rowNames[mm.rowIdx[t]!]!, assay: mm.colNames[mm.colIdx[t]!]!, value: mm.values[t]! };
  return out;
}

/**
 * Either kind of activity file as records: MatrixMarket by extension (.mtx, .mtx.gz, .mm),
 * otherwise a long table with the given column names.
 */
export async function readActivityRecords(
  path: string,
  opts: Partial<LongActivityColumns> & { rowIndex?: string; colIndex?: string },
): Promise<ActivityRecords> {
  if (isMatrixMarket(path)) {
    const mm = await readMatrixMarketActivity(path, { rows: opts.rowIndex, cols: opts.colIndex });
    return { source: path, format: 'matrixmarket', records: matrixMarketRecords(mm), duplicateEntries: mm.duplicateEntries };
  }
  return readLongActivity(path, {
    compoundCol: opts.compoundCol ?? 'compound',
    assayCol: opts.assayCol ?? 'assay',
    valueCol: opts.valueCol ?? 'value',
  });
}
