/**
 * The few things phenomap does to delimited text itself, before handing the file to DuckDB:
 * a full decompression pass (a truncated gzip must be an error, and DuckDB's reader accepts a
 * truncated stream silently), a line count (so the matrix can be allocated once), the raw
 * header (DuckDB renames duplicate names silently, so duplicates are detected here), and, on
 * the error path only, locating the first ragged row.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import { basename } from 'node:path';
import { InputError } from '../util/errors.js';

export type TableFormat = 'csv' | 'tsv' | 'txt' | 'parquet' | 'gct' | 'h5ad';

export interface FileKind {
  readonly format: TableFormat;
  readonly gzip: boolean;
  /** Text that is not valid UTF-8, read as Latin-1 (ISO-8859-1). */
  readonly encoding?: 'utf8' | 'latin1';
}

const SPREADSHEETS: Record<string, string> = { '.xlsx': 'an Excel workbook (.xlsx)', '.xlsm': 'an Excel workbook (.xlsm)', '.xls': 'an Excel workbook (.xls)', '.ods': 'an OpenDocument spreadsheet (.ods)', '.numbers': 'a Numbers spreadsheet' };

function spreadsheetError(path: string, what: string): InputError {
  return new InputError(`${path} is ${what}; phenomap reads CSV, TSV and Parquet: save the sheet as CSV UTF-8 (File → Save As) and give that file`);
}

/** Is `b` valid UTF-8 (a sequence cut at the end of the sample counts as valid)? Returns the first bad offset, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const need = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= b.length) return -1;
      if ((b[i + k]! & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return -1;
}

/**
 * What the file is, by its first bytes as well as its name: gzip whatever the name (a `.csv` that
 * is gzip), Parquet by its magic, a spreadsheet (.xlsx is a zip archive, .xls an OLE file) refused
 * in one line saying how to convert it, and text that is not UTF-8 read as Latin-1.
 */
export function sniffFileKind(path: string): FileKind {
  const lower = basename(path).toLowerCase();
  const ext = Object.keys(SPREADSHEETS).find((e) => lower.endsWith(e));
  const head = Buffer.alloc(1 << 16);
  let got = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      got = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return fileKind(path);
  }
  const b = head.subarray(0, got);
  const isZip = got >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
  const isOle = got >= 8 && b.readUInt32BE(0) === 0xd0cf11e0 && b.readUInt32BE(4) === 0xa1b11ae1;
  if (ext || isZip || isOle) throw spreadsheetError(path, ext ? SPREADSHEETS[ext]! : isZip ? 'a zip archive (an .xlsx workbook?)' : 'an Excel workbook (.xls)');
  if (got >= 4 && b.toString('latin1', 0, 4) === 'PAR1') return { format: 'parquet', gzip: false };
  const gzip = got >= 2 && b[0] === 0x1f && b[1] === 0x8b;
  let kind: FileKind;
  try {
    kind = fileKind(path);
  } catch (e) {
    if (!gzip) throw e;
    kind = { format: 'csv', gzip: true };
  }
  // A ".gz" that is not gzip stays an error of the gzip reader (named as such).
  const gzipped = gzip || kind.gzip;
  if (kind.format === 'parquet' || kind.format === 'gct' || kind.format === 'h5ad') return kind;
  let text: Uint8Array = b;
  if (gzip) {
    try {
      text = gunzipSync(b, { finishFlush: 2 /* Z_SYNC_FLUSH: a partial stream is fine here */ });
    } catch {
      text = new Uint8Array(0);
    }
  }
  const bad = firstInvalidUtf8(text);
  return { format: kind.format, gzip: gzipped, ...(bad >= 0 ? { encoding: 'latin1' as const } : {}) };
}

/** Format from the file name: .csv, .tsv, .txt (each optionally .gz) or .parquet. */
export function fileKind(path: string): FileKind {
  const name = basename(path).toLowerCase();
  const gzip = name.endsWith('.gz');
  const stem = gzip ? name.slice(0, -3) : name;
  if (!gzip && (stem.endsWith('.parquet') || stem.endsWith('.pq'))) return { format: 'parquet', gzip };
  if (stem.endsWith('.csv')) return { format: 'csv', gzip };
  if (stem.endsWith('.tsv') || stem.endsWith('.tab')) return { format: 'tsv', gzip };
  if (stem.endsWith('.txt')) return { format: 'txt', gzip };
  throw new InputError(`${path}: unsupported file type (expected .csv, .csv.gz, .tsv, .tsv.gz, .txt, .txt.gz or .parquet)`);
}

export function checkReadable(path: string): number {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(`${path}: file not found`);
  }
  if (!st.isFile()) throw new InputError(`${path}: not a regular file`);
  return st.size;
}

function openText(path: string, gzip: boolean): Readable {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!gzip) return raw;
  const gz = createGunzip({ chunkSize: 1 << 20 });
  raw.on('error', (e) => gz.destroy(e));
  return raw.pipe(gz);
}

function gzipMessage(path: string, e: unknown): InputError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/unexpected end of file/i.test(msg)) return new InputError(`${path}: truncated gzip file (unexpected end of data)`);
  return new InputError(`${path}: unreadable gzip file (${msg})`);
}

export interface TextScan {
  /** The first line, without its line ending. */
  readonly header: string;
  /** Number of lines (a final line without a newline counts). An upper bound on data rows + 1. */
  readonly lines: number;
  /** Uncompressed size in bytes. */
  readonly bytes: number;
}

/** One pass over the (decompressed) text: header line, line count, size; verifies the gzip stream. */
export async function scanText(path: string, gzip: boolean): Promise<TextScan> {
  const stream = openText(path, gzip);
  let headerParts: Buffer[] | null = [];
  let header = '';
  let newlines = 0;
  let bytes = 0;
  let last = -1;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      let pos = 0;
      if (headerParts) {
        const nl = chunk.indexOf(10);
        if (nl < 0) {
          headerParts.push(chunk);
        } else {
          headerParts.push(chunk.subarray(0, nl));
          header = Buffer.concat(headerParts).toString('utf8');
          headerParts = null;
          newlines++;
          pos = nl + 1;
        }
      }
      if (!headerParts) {
        for (;;) {
          const nl = chunk.indexOf(10, pos);
          if (nl < 0) break;
          newlines++;
          pos = nl + 1;
        }
      }
      if (chunk.length) last = chunk[chunk.length - 1]!;
    }
  } catch (e) {
    if (gzip) throw gzipMessage(path, e);
    throw new InputError(`${path}: cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
  if (headerParts) header = Buffer.concat(headerParts).toString('utf8');
  header = header.replace(/\r$/, '').replace(/^\uFEFF/, '');
  const lines = newlines + (bytes > 0 && last !== 10 ? 1 : 0);
  return { header, lines, bytes };
}

/** Split one CSV/TSV line into fields, honouring double quotes ("" escapes a quote). */
export function splitLine(line: string, delim: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQ = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (inQ) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else inQ = false;
      } else cur += c;
    } else if (c === '"' && cur === '') {
      inQ = true;
    } else if (c === delim) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Tab for .tsv; for .txt a tab in the header decides; comma otherwise. */
export function delimiterFor(kind: FileKind, header: string): string {
  if (kind.format === 'tsv') return '\t';
  if (kind.format === 'txt') return header.includes('\t') ? '\t' : ',';
  // A ".csv" written with tabs or semicolons (Excel in many locales): its header says so.
  if (!header.includes(',')) {
    if (header.includes('\t')) return '\t';
    if (header.includes(';')) return ';';
  }
  return ',';
}

/** Duplicate names (as written in the file) → an InputError naming both positions. */
export function checkDuplicateNames(path: string, names: string[]): void {
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const prev = seen.get(n);
    if (prev !== undefined) {
      throw new InputError(`${path}: duplicate column name "${n}" (columns ${prev + 1} and ${i + 1})`);
    }
    seen.set(n, i);
  });
}

/**
 * The first data row whose field count differs from the header's (1-based data row), or null.
 * Only run after DuckDB has refused the file, to turn its message into one naming the row.
 * Quote-aware, so quoted delimiters and newlines are not miscounted.
 */
export async function findRaggedRow(path: string, gzip: boolean, delim: string): Promise<{ row: number; fields: number; expected: number } | null> {
  const d = delim.charCodeAt(0);
  const stream = openText(path, gzip);
  let inQ = false;
  let fields = 1;
  let nonEmpty = false;
  let record = 0; // 0 = header
  let expected = -1;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (c === 34) {
          inQ = !inQ; // "" inside quotes toggles twice: net effect none
          nonEmpty = true;
        } else if (inQ) {
          continue;
        } else if (c === d) {
          fields++;
          nonEmpty = true;
        } else if (c === 10) {
          if (nonEmpty) {
            if (record === 0) expected = fields;
            else if (fields !== expected) {
              stream.destroy();
              return { row: record, fields, expected };
            }
            record++;
          }
          fields = 1;
          nonEmpty = false;
        } else if (c !== 13) {
          nonEmpty = true;
        }
      }
    }
  } catch (e) {
    if (gzip) throw gzipMessage(path, e);
    throw e;
  }
  if (nonEmpty && record > 0 && fields !== expected) return { row: record, fields, expected };
  return null;
}
