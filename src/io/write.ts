/**
 * Writing Profiles as CSV, CSV.gz, TSV(.gz) or Parquet (chosen by extension): metadata columns
 * first, then features, as pycytominer writes them. Text is streamed in pieces of a few MB
 * (numbers in JS's shortest round-trip form, so a write → read cycle is exact); Parquet is
 * written by phenomap's own writer (parquet.ts: row groups of ~64 MB, one column at a time, so a
 * 7,680 × 5,792 table takes seconds and no more memory than the table). Everything lands under a temporary name and is
 * renamed when complete (withAtomicPath): a failed write leaves no partial file.
 */
import type { Profiles } from './profiles.js';
import { withAtomicPath } from '../util/atomic.js';
import { spreadsheetSafe } from '../util/csvSafe.js';
import { fileKind } from './text.js';
import { ParquetWriter, rowGroupRows, type WriterColumn } from './parquet.js';
import type { StoredMatrix } from '../linalg/matrix.js';
import { InputError } from '../util/errors.js';
import { TEXT_CHUNK_CHARS, TextChunks, textFileSink, type TextSink } from './textChunks.js';
import { interchangeFormat, writeInterchange } from './interchange.js';

/**
 * A text field as CSV/TSV needs it: safe for spreadsheets (a formula-like start gets a `'`,
 * src/util/csvSafe.ts), quoted when it holds the delimiter, a quote, a line break or edge spaces.
 */
export function quoteField(text: string, delim: string): string {
  if (text === '') return '""';
  const s = spreadsheetSafe(text);
  if (s.includes(delim) || s.includes('"') || s.includes('\n') || s.includes('\r') || s !== s.trim()) {
    return `"${s.replace(/"/g, '""')}"`;
  }
  return s;
}

/** A number as phenomap writes it: shortest round-trip form; NaN empty; ±inf spelled out. */
export function formatNumber(v: number): string {
  if (v !== v) return '';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v);
}

/**
 * The profiles as delimited text (header, then one line per row), handed to `sink` in pieces
 * of at most `chunkChars` characters (textChunks.ts: a wide table's text is larger than a
 * JavaScript string may be).
 */
export async function writeDelimitedText(p: Profiles<StoredMatrix>, delim: string, sink: TextSink, chunkChars = TEXT_CHUNK_CHARS): Promise<void> {
  const text = new TextChunks(sink, chunkChars);
  const names = [...p.meta.map((m) => m.name), ...p.features];
  await text.line(names.map((n) => quoteField(n, delim)).join(delim));
  const { rows, cols, data } = p.X;
  // String columns repeat few values (MoAs, feature names, plate ids): each is quoted once.
  const quoted = p.meta.map((m) => (m.kind === 'string' ? new Map<string, string>() : null));
  const cell = (c: number, i: number): string => {
    const m = p.meta[c]!;
    if (m.kind !== 'string') return formatNumber(m.values[i]!);
    const v = m.values[i];
    if (v === null || v === undefined) return '';
    const cache = quoted[c]!;
    let q = cache.get(v);
    if (q === undefined) {
      q = quoteField(v, delim);
      if (cache.size < 65536) cache.set(v, q);
    }
    return q;
  };
  const nMeta = p.meta.length;
  for (let i = 0; i < rows; i++) {
    let line = '';
    for (let c = 0; c < nMeta; c++) line += (c > 0 ? delim : '') + cell(c, i);
    const o = i * cols;
    for (let j = 0; j < cols; j++) line += (nMeta + j > 0 ? delim : '') + formatNumber(data[o + j]!);
    const pending = text.line(line);
    if (pending) await pending;
  }
  await text.flush();
}

async function writeText(path: string, p: Profiles<StoredMatrix>, delim: string, gzip: boolean): Promise<void> {
  const file = textFileSink(path, gzip ? 6 : undefined);
  await writeDelimitedText(p, delim, file.write);
  await file.close();
}

/**
 * DuckDB renames a column whose name differs from an earlier one only by case (LINCS:
 * Metadata_plate_map_name / Metadata_Plate_Map_Name → …_1), so the exact names also go into the
 * file's key-value metadata, which readProfiles prefers.
 */
export const PARQUET_NAMES_KEY = 'phenomap:columns';

function writeParquet(path: string, p: Profiles<StoredMatrix>): void {
  const cols: WriterColumn[] = [
    ...p.meta.map((m) => ({ name: m.name, kind: m.kind === 'number' ? ('double' as const) : ('text' as const) })),
    ...p.features.map((f) => ({ name: f, kind: 'double' as const })),
  ];
  const w = new ParquetWriter(path, cols, [[PARQUET_NAMES_KEY, JSON.stringify(cols.map((c) => c.name))]]);
  try {
    const { rows, cols: d, data } = p.X;
    const nm = p.meta.length;
    const G = rowGroupRows(cols.length);
    const col = new Float64Array(Math.min(G, Math.max(1, rows)));
    for (let r0 = 0; r0 < rows; r0 += G) {
      const n = Math.min(G, rows - r0);
      w.writeRowGroup(n, (c) => {
        if (c < nm) {
          const m = p.meta[c]!;
          return m.kind === 'number' ? m.values.subarray(r0, r0 + n) : m.values.slice(r0, r0 + n);
        }
        const j = c - nm;
        for (let i = 0; i < n; i++) col[i] = data[(r0 + i) * d + j]!;
        return col.subarray(0, n);
      });
    }
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
}

/** Formats a profile table can be written in (`--format`). */
export type OutputFormat = 'csv' | 'tsv' | 'parquet' | 'gct' | 'h5ad';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['csv', 'tsv', 'parquet', 'gct', 'h5ad'];

/**
 * Write profiles as CSV, CSV.gz, TSV, TSV.gz, Parquet, GCT or h5ad: by `format` when given,
 * else by the file's extension.
 */
export async function writeProfiles(path: string, profiles: Profiles<StoredMatrix>, format?: OutputFormat): Promise<void> {
  const ix = format === 'gct' || format === 'h5ad' ? format : format ? null : interchangeFormat(path);
  if (ix) {
    await writeInterchange(path, profiles, ix);
    return;
  }
  const kind = format ? { format, gzip: format !== 'parquet' && path.toLowerCase().endsWith('.gz') } : fileKind(path);
  const names = new Set<string>();
  for (const n of [...profiles.meta.map((m) => m.name), ...profiles.features]) {
    if (names.has(n)) throw new InputError(`${path}: cannot write two columns named "${n}"`);
    names.add(n);
  }
  await withAtomicPath(path, async (tmp) => {
    if (kind.format === 'parquet') writeParquet(tmp, profiles);
    else await writeText(tmp, profiles, kind.format === 'tsv' ? '\t' : ',', kind.gzip);
  });
}
