/**
 * The few things phenomap does to delimited text around its reader (delimited.ts): what a file is
 * (by its first bytes as well as its name), the delimiter and encoding (named by the user or
 * guessed from the header; a byte that is not UTF-8 is an error naming its line and byte unless
 * Latin-1 was named), duplicate header names, and, on the error path only, locating the first
 * ragged row.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import { basename } from 'node:path';
import { InputError } from '../util/errors.js';

export type TableFormat = 'csv' | 'tsv' | 'txt' | 'parquet' | 'gct' | 'h5ad';

export interface FileKind {
  readonly format: TableFormat;
  readonly gzip: boolean;
  /** The text's encoding: UTF-8 unless the caller named Latin-1 (ISO-8859-1). */
  readonly encoding?: TextEncoding;
}

export type TextEncoding = 'utf8' | 'latin1';

/**
 * How delimited text is read when the user says so (`--delimiter`, `--encoding`): an explicit
 * delimiter replaces the one guessed from the header, and Latin-1 must be asked for, because
 * bytes that are not UTF-8 could be Latin-1, Windows-1252 or anything else.
 */
export interface TextOptions {
  /** One ASCII character other than a quote or a line end. */
  readonly delimiter?: string;
  /** Default utf8: a byte that is not UTF-8 is an error naming its line and byte. */
  readonly encoding?: TextEncoding;
}

let flagText: TextOptions = {};

/** The process-wide text options named on the command line (main.ts sets them before a command runs). */
export function setTextOptions(o: TextOptions): void {
  flagText = { ...o };
}

/** The options in force: those of the call, then the command line's. */
export function textOptions(o: TextOptions = {}): TextOptions {
  return { delimiter: o.delimiter ?? flagText.delimiter, encoding: o.encoding ?? flagText.encoding };
}

/** `--delimiter`: one character, or a name (tab, comma, semicolon, pipe, space). Throws an InputError naming the flag. */
export function parseDelimiter(text: string, what = '--delimiter'): string {
  const names: Record<string, string> = { tab: '\t', '\\t': '\t', comma: ',', semicolon: ';', pipe: '|', space: ' ' };
  const d = names[text.toLowerCase()] ?? text;
  if (d.length !== 1 || d.charCodeAt(0) > 127 || d === '"' || d === '\n' || d === '\r') {
    throw new InputError(`${what} must be one ASCII character other than a quote or a line end (or tab, comma, semicolon, pipe, space), got "${text}"`);
  }
  // A character numbers are written with would split them.
  if (/[0-9.eE+-]/.test(d)) throw new InputError(`${what} cannot be "${d}": numbers are written with it`);
  return d;
}

/** `--encoding`: utf-8 (the default) or latin-1 (ISO-8859-1). */
export function parseEncoding(text: string, what = '--encoding'): TextEncoding {
  const t = text.toLowerCase().replace(/[_\s]/g, '-');
  if (t === 'utf-8' || t === 'utf8') return 'utf8';
  if (t === 'latin-1' || t === 'latin1' || t === 'iso-8859-1' || t === 'iso8859-1') return 'latin1';
  throw new InputError(`${what} must be utf-8 or latin-1, got "${text}"`);
}

const SPREADSHEETS: Record<string, string> = { '.xlsx': 'an Excel workbook (.xlsx)', '.xlsm': 'an Excel workbook (.xlsm)', '.xls': 'an Excel workbook (.xls)', '.ods': 'an OpenDocument spreadsheet (.ods)', '.numbers': 'a Numbers spreadsheet' };

function spreadsheetError(path: string, what: string): InputError {
  return new InputError(`${path} is ${what}; phenomap reads CSV, TSV and Parquet: save the sheet as CSV UTF-8 (File → Save As) and give that file`);
}

/** Bytes of the UTF-8 sequence a lead byte starts (0: not a lead byte). */
function sequenceLength(c: number): number {
  return c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
}

/**
 * The first offset of `b` that is not UTF-8 (overlong forms, surrogates and code points above
 * U+10FFFF included), or -1; a sequence cut at the end of `b` counts as valid.
 */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const len = sequenceLength(c);
    if (len === 0) return i;
    for (let k = 1; k < len; k++) {
      if (i + k >= b.length) return -1;
      const x = b[i + k]!;
      let lo = 0x80, hi = 0xbf;
      if (k === 1) {
        if (c === 0xe0) lo = 0xa0;
        else if (c === 0xed) hi = 0x9f;
        else if (c === 0xf0) lo = 0x90;
        else if (c === 0xf4) hi = 0x8f;
      }
      if (x < lo || x > hi) return i;
    }
    i += len;
  }
  return -1;
}

/**
 * UTF-8 validation of a text that arrives in chunks (Node's native isUtf8 on each chunk; a
 * sequence cut at a chunk boundary is carried, at most 3 bytes). push returns the offset in the
 * whole text of the first byte that is not UTF-8, or -1.
 */
export class Utf8Checker {
  private tail: Buffer | null = null;
  /** Bytes of text pushed so far. */
  private seen = 0;

  push(chunk: Buffer): number {
    const base = this.seen;
    this.seen += chunk.length;
    let start = 0;
    if (this.tail) {
      const t = this.tail;
      const need = sequenceLength(t[0]!) - t.length;
      const take = Math.min(need, chunk.length);
      const joined = Buffer.concat([t, chunk.subarray(0, take)]);
      const bad = firstInvalidUtf8(joined);
      if (bad >= 0) return base - t.length + bad;
      if (take < need) {
        this.tail = joined;
        return -1;
      }
      this.tail = null;
      start = take;
    }
    // A sequence cut by the end of the chunk waits for the next one.
    let cut = chunk.length;
    for (let k = 1; k <= 3 && chunk.length - k >= start; k++) {
      const c = chunk[chunk.length - k]!;
      if ((c & 0xc0) === 0x80) continue;
      if (sequenceLength(c) > k) cut = chunk.length - k;
      break;
    }
    const body = chunk.subarray(start, cut);
    if (!isUtf8(body)) {
      const i = firstInvalidUtf8(body);
      return base + start + (i >= 0 ? i : 0);
    }
    if (cut < chunk.length) this.tail = Buffer.from(chunk.subarray(cut));
    return -1;
  }

  /** At the end of the text: the offset of a sequence left unfinished, or -1. */
  end(): number {
    return this.tail ? this.seen - this.tail.length : -1;
  }
}

/**
 * The one line for a byte that is not UTF-8: the file, line and byte, what was found (the
 * byte, the text before it on its line, and what it would be in Latin-1) and the flag that reads it.
 */
function encodingMessage(path: string, gzip: boolean, line: number, offset: number, before: Buffer, bytes: Buffer): string {
  const hex = `0x${bytes[0]!.toString(16).toUpperCase().padStart(2, '0')}`;
  const lead = before.toString('latin1').replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
  const shown = lead.length > 30 ? `…${lead.slice(-30)}` : lead;
  const asLatin1 = bytes.subarray(0, 1).toString('latin1');
  return (
    `${path}: line ${line}, byte ${(offset + 1).toLocaleString('en-US')}${gzip ? ' of the uncompressed text' : ''}: ` +
    `found byte ${hex} after "${shown}", which is not UTF-8 (in Latin-1 it is "${/[\x80-\x9f]/.test(asLatin1) ? `U+00${bytes[0]!.toString(16).toUpperCase()}` : asLatin1}"); ` +
    `if the file is Latin-1 (ISO-8859-1) text, add --encoding latin-1`
  );
}

/** The encoding error for a byte of a sample held in memory (the first 64 KB of the text). */
function encodingErrorIn(path: string, gzip: boolean, text: Uint8Array, offset: number): InputError {
  const b = Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  let line = 1;
  let lineStart = 0;
  for (let i = b.indexOf(10); i >= 0 && i < offset; i = b.indexOf(10, i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return new InputError(encodingMessage(path, gzip, line, offset, b.subarray(Math.max(lineStart, offset - 60), offset), b.subarray(offset, offset + 4)));
}

/**
 * The encoding error for a byte found at `offset` of the (decompressed) text while streaming:
 * the text is read again up to it to count the lines before (error path only).
 */
export async function encodingError(path: string, gzip: boolean, offset: number): Promise<InputError> {
  const stream = openText(path, gzip);
  let line = 1;
  let pos = 0;
  let before = Buffer.alloc(0);
  let bytes = Buffer.alloc(0);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const end = Math.min(chunk.length, offset - pos);
      let lineStart = -1;
      for (let i = chunk.indexOf(10); i >= 0 && i < end; i = chunk.indexOf(10, i + 1)) {
        line++;
        lineStart = i + 1;
      }
      const from = Math.max(lineStart >= 0 ? lineStart : 0, end - 60);
      before = lineStart >= 0 ? Buffer.from(chunk.subarray(from, end)) : Buffer.concat([before, chunk.subarray(from, end)]).subarray(-60);
      if (end < chunk.length) {
        bytes = Buffer.from(chunk.subarray(end, end + 4));
        break;
      }
      pos += chunk.length;
    }
  } catch {
    // The byte was found once; the message still names it without its line's text.
  } finally {
    stream.destroy();
  }
  return new InputError(encodingMessage(path, gzip, line, offset, before, bytes.length ? bytes : Buffer.from([0])));
}

/**
 * What the file is, by its first bytes as well as its name: gzip whatever the name (a `.csv` that
 * is gzip), Parquet by its magic, a spreadsheet (.xlsx is a zip archive, .xls an OLE file) refused
 * in one line saying how to convert it. Text is UTF-8 unless `text.encoding` says Latin-1; a byte
 * that is not UTF-8 in the first 64 KB is refused here, before any work (later ones by the reader).
 */
export function sniffFileKind(path: string, text: TextOptions = {}): FileKind {
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
  const encoding = textOptions(text).encoding ?? 'utf8';
  if (encoding === 'utf8') {
    let sample: Uint8Array = b;
    if (gzip) {
      try {
        sample = gunzipSync(b, { finishFlush: 2 /* Z_SYNC_FLUSH: a partial stream is fine here */ });
      } catch {
        sample = new Uint8Array(0);
      }
    }
    const bad = firstInvalidUtf8(sample);
    if (bad >= 0) throw encodingErrorIn(path, gzipped, sample, bad);
  }
  return { format: kind.format, gzip: gzipped, encoding };
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

/** The delimiter named by the user; else tab for .tsv; for .txt a tab in the header decides; comma otherwise. */
export function delimiterFor(kind: FileKind, header: string, text: TextOptions = {}): string {
  const named = textOptions(text).delimiter;
  if (named !== undefined) return named;
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
