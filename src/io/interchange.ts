/**
 * The field's interchange formats beside CSV/Parquet:
 *
 * - GCT 1.3 (Broad's format, opened by Morpheus and cmapPy), laid out as pycytominer's
 *   `write_gct`: one row per feature (row metadata `cp_feature_name`, plus any feature
 *   annotations), one column per profile (ids SAMPLE_0…), and a column-metadata block with one
 *   line per metadata column of the profiles (full names kept, so a file reads back as written).
 *   Extra column annotations (a run's communities and their enriched MoAs) are metadata columns
 *   like any other, so Morpheus can colour and sort by them.
 * - AnnData `.h5ad` (scanpy): obs = the metadata (a dataframe group; text columns as string
 *   arrays, numbers as float64), var = the feature names, X = the float32 profile matrix, with
 *   AnnData's encoding attributes. Written and read through h5wasm (HDF5 compiled to WebAssembly).
 *
 * Both are written to a temporary name and renamed when complete.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import type { MetaColumn, Profiles } from './profiles.js';
import type { StoredMatrix } from '../linalg/matrix.js';
import { withAtomicPath } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { TEXT_CHUNK_CHARS, TextChunks } from './textChunks.js';

export type InterchangeFormat = 'gct' | 'h5ad';

/** .gct / .h5ad by the file name, else null. */
export function interchangeFormat(path: string): InterchangeFormat | null {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.gct')) return 'gct';
  if (name.endsWith('.h5ad')) return 'h5ad';
  return null;
}

function gctCell(v: string): string {
  // GCT is tab-separated without quoting: tabs and line breaks inside a value become spaces.
  return v.replace(/[\t\r\n]/g, ' ');
}

function numText(v: number): string {
  return v !== v ? 'NaN' : String(v);
}

function metaText(c: MetaColumn, i: number): string {
  if (c.kind === 'number') return numText(c.values[i]!);
  const v = c.values[i];
  return v === null || v === undefined ? 'NA' : gctCell(v);
}

/** The lines of the GCT 1.3 text (features as rows, profiles as columns), one at a time. */
function* gctLines(p: Profiles<StoredMatrix>): Generator<string> {
  const { rows: n, cols: d, data } = p.X;
  yield '#1.3';
  yield `${d}\t${n}\t1\t${p.meta.length}`;
  const ids = Array.from({ length: n }, (_, i) => `SAMPLE_${i}`);
  yield ['id', 'cp_feature_name', ...ids].join('\t');
  for (const c of p.meta) {
    const cells: string[] = new Array(n);
    for (let i = 0; i < n; i++) cells[i] = metaText(c, i);
    yield [gctCell(c.name), 'NA', ...cells].join('\t');
  }
  const cells: string[] = new Array(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) cells[i] = numText(data[i * d + j]!);
    const name = gctCell(p.features[j]!);
    yield `${name}\t${name}\t${cells.join('\t')}`;
  }
}

/** GCT 1.3 text of the profiles (features as rows, profiles as columns). */
export function gctText(p: Profiles<StoredMatrix>): string {
  return [...gctLines(p)].join('\n') + '\n';
}

/**
 * The GCT text handed to `sink` in pieces of at most `chunkChars` characters (textChunks.ts: a
 * wide table's text is larger than a JavaScript string may be: 7,680 × 5,792 values are ≈ 0.8 GB).
 */
export function writeGctText(p: Profiles<StoredMatrix>, sink: (piece: string) => void, chunkChars = TEXT_CHUNK_CHARS): void {
  const text = new TextChunks(sink, chunkChars);
  for (const line of gctLines(p)) text.line(line);
  text.flush();
}

/** Write the GCT file piece by piece (writeGctText). */
export async function writeGct(path: string, p: Profiles<StoredMatrix>): Promise<void> {
  await withAtomicPath(path, (tmp) => {
    const fd = openSync(tmp, 'w');
    try {
      writeGctText(p, (piece) => writeSync(fd, piece));
    } finally {
      closeSync(fd);
    }
  });
}

const NA = new Set(['', 'NA', 'NaN', 'nan', 'na', '-666']);

/** Read a GCT 1.2 / 1.3 file written with profiles as columns (pycytominer's and phenomap's layout). */
export function readGct(path: string): Profiles {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError(`${path}: file not found`);
  }
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const version = lines[0]?.trim();
  if (version !== '#1.3' && version !== '#1.2') throw new InputError(`${path}: not a GCT file (first line "${(version ?? '').slice(0, 20)}", expected #1.3 or #1.2)`);
  const dims = (lines[1] ?? '').split('\t').map((s) => Number(s.trim()));
  const [nRows, nCols] = dims;
  const nRowMeta = version === '#1.3' ? dims[2] : 1;
  const nColMeta = version === '#1.3' ? dims[3] : 0;
  if (![nRows, nCols, nRowMeta, nColMeta].every((v) => Number.isInteger(v) && v! >= 0) || (version === '#1.3' && dims.length < 4)) {
    throw new InputError(`${path}: line 2 must give the dimensions (rows, columns${version === '#1.3' ? ', row-metadata and column-metadata counts' : ''}), got "${lines[1]}"`);
  }
  const width = 1 + nRowMeta! + nCols!;
  const header = (lines[2] ?? '').split('\t');
  if (header.length !== width) {
    throw new InputError(`${path}: the header line has ${header.length} fields, but the dimensions line says 1 + ${nRowMeta} row-metadata + ${nCols} data columns = ${width}`);
  }
  const expectedLines = 3 + nColMeta! + nRows!;
  if (lines.length !== expectedLines) {
    throw new InputError(`${path}: ${lines.length - 3 - nColMeta!} data line(s) after the column metadata, but the dimensions line says ${nRows} rows`);
  }
  const split = (k: number): string[] => {
    const f = lines[k]!.split('\t');
    if (f.length !== width) throw new InputError(`${path}: line ${k + 1} has ${f.length} fields, expected ${width}`);
    return f;
  };
  const meta: MetaColumn[] = [];
  for (let m = 0; m < nColMeta!; m++) {
    const f = split(3 + m);
    const vals = f.slice(1 + nRowMeta!);
    const nums = vals.map((v) => (NA.has(v) ? NaN : Number(v)));
    const numeric = vals.every((v, i) => NA.has(v) || Number.isFinite(nums[i]!));
    meta.push(numeric && vals.some((v) => !NA.has(v))
      ? { name: f[0]!, kind: 'number', values: Float64Array.from(nums) }
      : { name: f[0]!, kind: 'string', values: vals.map((v) => (NA.has(v) ? null : v)) });
  }
  const n = nCols!, d = nRows!;
  const data = new Float64Array(n * d);
  const features: string[] = [];
  for (let j = 0; j < d; j++) {
    const k = 3 + nColMeta! + j;
    const f = split(k);
    features.push(f[0]!);
    for (let i = 0; i < n; i++) {
      const s = f[1 + nRowMeta! + i]!;
      const v = NA.has(s) ? NaN : Number(s);
      if (!NA.has(s) && !Number.isFinite(v)) throw new InputError(`${path}: line ${k + 1}, column ${header[1 + nRowMeta! + i]}: "${s}" is not a number`);
      data[i * d + j] = v;
    }
  }
  if (!meta.some((c) => c.name === 'id')) meta.unshift({ name: 'id', kind: 'string', values: header.slice(1 + nRowMeta!) });
  return { features, X: { rows: n, cols: d, data }, meta, source: path };
}

type H5 = typeof import('h5wasm/node');
let h5: H5 | undefined;
async function h5wasm(): Promise<H5> {
  if (!h5) {
    const mod = await import('h5wasm/node');
    await mod.ready;
    h5 = mod;
  }
  return h5;
}

const attrs = (obj: { create_attribute: (name: string, value: string) => unknown }, a: Record<string, string>) => {
  for (const [k, v] of Object.entries(a)) obj.create_attribute(k, v);
};

/** AnnData .h5ad: X float32 (profiles × features), obs = metadata, var = feature names. */
export async function writeH5ad(path: string, p: Profiles<StoredMatrix>): Promise<void> {
  const mod = await h5wasm();
  const { rows: n, cols: d } = p.X;
  await withAtomicPath(path, (tmp) => {
    const f = new mod.File(tmp, 'w');
    try {
      attrs(f, { 'encoding-type': 'anndata', 'encoding-version': '0.1.0' });
      const X = f.create_dataset({ name: 'X', data: Float32Array.from(p.X.data), shape: [n, d], dtype: '<f' });
      attrs(X, { 'encoding-type': 'array', 'encoding-version': '0.2.0' });
      const frame = (name: string, index: string[], cols: MetaColumn[]) => {
        const g = f.create_group(name);
        const order = cols.map((c) => c.name).filter((c) => c !== '_index');
        attrs(g, { 'encoding-type': 'dataframe', 'encoding-version': '0.2.0', _index: '_index' });
        g.create_attribute('column-order', order.length ? order : [''], null, order.length ? undefined : 'S1');
        const idx = g.create_dataset({ name: '_index', data: index });
        attrs(idx, { 'encoding-type': 'string-array', 'encoding-version': '0.2.0' });
        for (const c of cols) {
          if (c.name === '_index' || c.name.includes('/')) continue;
          const ds = c.kind === 'number'
            ? g.create_dataset({ name: c.name, data: Float64Array.from(c.values), dtype: '<d' })
            : g.create_dataset({ name: c.name, data: c.values.map((v) => v ?? '') });
          attrs(ds, c.kind === 'number' ? { 'encoding-type': 'array', 'encoding-version': '0.2.0' } : { 'encoding-type': 'string-array', 'encoding-version': '0.2.0' });
        }
      };
      frame('obs', Array.from({ length: n }, (_, i) => String(i)), p.meta);
      frame('var', p.features, []);
      for (const g of ['uns', 'obsm', 'varm', 'obsp', 'varp', 'layers']) attrs(f.create_group(g), { 'encoding-type': 'dict', 'encoding-version': '0.1.0' });
    } finally {
      f.close();
    }
  });
}

/** Read an AnnData .h5ad with a dense X (obs columns become metadata, var's index the feature names). */
export async function readH5ad(path: string): Promise<Profiles> {
  const mod = await h5wasm();
  let f: InstanceType<H5['File']>;
  try {
    readFileSync(path, { flag: 'r' }).subarray(0, 0);
    f = new mod.File(path, 'r');
  } catch (e) {
    throw new InputError(`${path}: not a readable HDF5 / .h5ad file (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    const keys = f.keys();
    if (!keys.includes('X')) throw new InputError(`${path}: no X matrix in this .h5ad (it has: ${keys.join(', ') || 'nothing'})`);
    const X = f.get('X') as unknown as { type?: string; shape?: number[]; value?: ArrayLike<number>; keys?: () => string[] };
    if (X.type !== 'Dataset' || !X.shape || X.shape.length !== 2) {
      throw new InputError(`${path}: X is not a dense 2-D matrix (a sparse X is not supported; densify it first)`);
    }
    const [n, d] = X.shape as [number, number];
    const data = Float64Array.from(X.value as ArrayLike<number>);
    const frame = (name: string): { index: string[]; cols: MetaColumn[] } => {
      const g = f.get(name) as unknown as { keys(): string[]; get(k: string): { value: unknown; attrs?: Record<string, { value: unknown }> } } | null;
      if (!g) return { index: [], cols: [] };
      const cols: MetaColumn[] = [];
      let index: string[] = [];
      for (const k of g.keys()) {
        const ds = g.get(k) as unknown as { type?: string; value: unknown };
        if (ds.type !== 'Dataset') continue;
        const v = ds.value as unknown;
        if (k === '_index') {
          index = Array.from(v as ArrayLike<string>, String);
          continue;
        }
        if (Array.isArray(v)) cols.push({ name: k, kind: 'string', values: v.map((s) => (s === '' ? null : String(s))) });
        else if (v && typeof (v as ArrayLike<number>).length === 'number') cols.push({ name: k, kind: 'number', values: Float64Array.from(v as ArrayLike<number>, Number) });
      }
      const order = (g as unknown as { attrs?: Record<string, { value: unknown }> }).attrs?.['column-order']?.value;
      if (Array.isArray(order)) {
        const rank = new Map(order.map((c, i) => [String(c), i]));
        cols.sort((a, b) => (rank.get(a.name) ?? 1e9) - (rank.get(b.name) ?? 1e9));
      }
      return { index, cols };
    };
    const obs = frame('obs'), vars = frame('var');
    const features = vars.index.length === d ? vars.index : Array.from({ length: d }, (_, j) => `feature_${j}`);
    for (const c of obs.cols) if (c.values.length !== n) throw new InputError(`${path}: obs column ${c.name} has ${c.values.length} values for ${n} rows of X`);
    return { features, X: { rows: n, cols: d, data }, meta: obs.cols, source: path };
  } finally {
    f.close();
  }
}

/** Write profiles as GCT or h5ad. */
export async function writeInterchange(path: string, p: Profiles<StoredMatrix>, format: InterchangeFormat): Promise<void> {
  if (format === 'gct') await writeGct(path, p);
  else await writeH5ad(path, p);
}

export async function readInterchange(path: string): Promise<Profiles> {
  return interchangeFormat(path) === 'gct' ? readGct(path) : readH5ad(path);
}
