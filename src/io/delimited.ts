/**
 * phenomap's own reader of delimited profile tables (CSV, TSV, TXT, each optionally gzipped):
 * one streamed pass that parses numbers straight into the row-major feature matrix.
 *
 * Why not DuckDB here (it still reads Parquet and annotation tables): a scan holds a vector of
 * 2,048 values per column and thread, so a CellProfiler table of 5,800 columns needs DuckDB
 * memory in proportion to its width, not to its rows (125 single cells failed under 512 MB), and
 * its per-column work made a 7,680 × 5,792 CSV.gz take ~5 times the CPU of this reader.
 *
 * Semantics are DuckDB's read_csv as readProfiles configured it, so tables read the same:
 * RFC 4180 quoting ("" escapes a quote; quoted fields may hold delimiters and newlines), CRLF or
 * LF line ends, blank lines skipped, a BOM dropped, '', NA, NaN, nan = missing, numbers in
 * DuckDB's DOUBLE grammar (decimal.ts, correctly rounded), a row with another field count or text
 * in a feature column an InputError naming the data row and column.
 *
 * The pass: the file streams through zlib (decompression runs on libuv's thread pool, beside
 * the parse on the main thread); the matrix is allocated once for the rows the text's size
 * predicts (a gzip file's size is in its trailer), grown only when the prediction falls short, and
 * never larger than the memory limit allows (the message then names the size needed).
 */
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { allocFeatures, type FeatureArray, type Precision } from '../linalg/matrix.js';
import { InputError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import { decimalInto, MISSING_TEXTS, parseDecimalText } from './decimal.js';
import { formatBytes, memoryAdvice, type MemoryLimit } from './duck.js';
import { encodingError, Utf8Checker } from './text.js';

/** Largest finite float32. */
const F32_MAX = 3.4028234663852886e38;
const QUOTE = 34, LF = 10, CR = 13;
/** Bytes per read (and per zlib output chunk). */
const CHUNK = 4 << 20;
/** Exact powers of ten for the ≤ 15-digit fast path. */
const P10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);

export interface DelimitedOptions {
  /** The delimiter, chosen from the header line (without its line end). */
  delimiter(header: string): string;
  /** Text encoding of the file (default utf8; latin1 for files that are not UTF-8). */
  encoding?: 'utf8' | 'latin1';
  gzip: boolean;
  /** Compressed (or plain) file size in bytes. */
  bytes: number;
  /**
   * Called once with the header's names; returns which columns are features (in file order).
   * Throws to refuse the header (duplicates, no features).
   */
  roles(names: string[]): boolean[];
  precision: Precision;
  memory: MemoryLimit;
  reporter: Reporter;
  label: string;
  /**
   * The longest record accepted, in bytes (default 256 MB): a record is held whole while it is
   * parsed, so a longer one (a huge field, or an unterminated quote swallowing the file) is
   * refused by name rather than read into unbounded memory.
   */
  maxRecordBytes?: number;
  /** Metadata texts read as missing (default MISSING_TEXTS: '', NA, NaN, nan). */
  missing?: ReadonlySet<string>;
}

/** Default longest record: well above a 50 MB metadata field, well below V8's longest string (~512 MB). */
export const MAX_RECORD_BYTES = 256 << 20;

export interface DelimitedTable {
  readonly names: string[];
  readonly isFeature: boolean[];
  readonly rows: number;
  /** rows × features, row-major (a view of the allocation when it was predicted too large). */
  readonly X: FeatureArray;
  /** Missing values per feature. */
  readonly nan: Int32Array;
  readonly rowsWithNaN: number;
  /** Metadata columns in file order, text values (null = missing). */
  readonly meta: (string | null)[][];
  /** Uncompressed text size. */
  readonly textBytes: number;
}

function openText(path: string, gzip: boolean): { stream: Readable; raw: ReturnType<typeof createReadStream> } {
  const raw = createReadStream(path, { highWaterMark: CHUNK });
  if (!gzip) return { stream: raw, raw };
  const gz = createGunzip({ chunkSize: CHUNK });
  raw.on('error', (e) => gz.destroy(e));
  return { stream: raw.pipe(gz), raw };
}

function streamError(path: string, gzip: boolean, e: unknown): InputError {
  const msg = e instanceof Error ? e.message : String(e);
  if (!gzip) return new InputError(`${path}: cannot read (${msg})`);
  if (/unexpected end of file/i.test(msg)) return new InputError(`${path}: truncated gzip file (unexpected end of data)`);
  return new InputError(`${path}: unreadable gzip file (${msg})`);
}

/** The uncompressed size a gzip file declares in its trailer (modulo 2³²), or undefined. */
function gzipDeclaredSize(path: string, bytes: number): number | undefined {
  if (bytes < 18) return undefined;
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, bytes - 4);
    return b.readUInt32LE(0);
  } finally {
    closeSync(fd);
  }
}

/** Quote-aware end of the record starting at p (index of its LF, or -1 if the buffer ends first). */
function quotedRecordEnd(buf: Buffer, p: number, end: number): number {
  let inQ = false;
  for (let i = p; i < end; i++) {
    const c = buf[i]!;
    if (c === QUOTE) inQ = !inQ; // "" inside quotes toggles twice
    else if (c === LF && !inQ) return i;
  }
  return -1;
}

/** Field texts of one record [p, e) (quotes removed), for the header and error messages. */
function splitRecord(buf: Buffer, p: number, e: number, delim: number, enc: BufferEncoding = 'utf8'): string[] {
  const out: string[] = [];
  let i = p;
  for (;;) {
    const f = fieldAt(buf, i, e, delim, enc);
    out.push(f.text);
    i = f.next;
    if (i >= e) break;
    i++; // the delimiter
    if (i === e) {
      out.push('');
      break;
    }
  }
  return out;
}

/** Error of a quoted field with text after its closing quote. */
class QuoteError extends Error {}

/** One field starting at i: its text (unquoted) and the index of the delimiter or record end after it. */
function fieldAt(buf: Buffer, i: number, e: number, delim: number, enc: BufferEncoding = 'utf8'): { text: string; next: number } {
  if (i < e && buf[i] === QUOTE) {
    // Unescaped bytes gather in one buffer, decoded once: a long field full of "" stays linear.
    let s = i + 1;
    let out: Buffer | null = null;
    let len = 0;
    for (let j = buf.indexOf(QUOTE, s); j >= 0 && j < e; j = buf.indexOf(QUOTE, j + 1)) {
      if (j + 1 < e && buf[j + 1] === QUOTE) {
        out ??= Buffer.allocUnsafe(e - s);
        len += buf.copy(out, len, s, j + 1);
        j++;
        s = j + 1;
        continue;
      }
      let text: string;
      if (out) {
        len += buf.copy(out, len, s, j);
        text = out.toString(enc, 0, len);
      } else text = buf.toString(enc, s, j);
      if (j + 1 < e && buf[j + 1] !== delim) throw new QuoteError('text after a closing quote');
      return { text, next: j + 1 };
    }
    throw new QuoteError('unterminated quoted field');
  }
  let j = buf.indexOf(delim, i);
  if (j < 0 || j > e) j = e;
  return { text: buf.toString(enc, i, j), next: j };
}

/**
 * The parse state of one table. A class rather than closures: the hot loop (parseRecord) reads
 * its state from fields with fixed offsets and keeps the row in a Float64Array scratch, so it is
 * monomorphic whatever the storage precision.
 */
class TableParser {
  names: string[] | null = null;
  isFeature: boolean[] = [];
  delim = 44;
  /** Per file column: feature index ≥ 0, or −1 − metadata index. */
  slot = new Int32Array(0);
  nf = 0;
  ncol = 0;
  meta: (string | null)[][] = [];
  nan = new Int32Array(0);
  rowBuf = new Float64Array(0);
  X: FeatureArray = new Float64Array(0);
  capacity = 0;
  provisional = false;
  rows = 0;
  rowsWithNaN = 0;
  textBytes = 0;
  headerBytes = 0;
  /** Text bytes of the data rows parsed so far. */
  rowBytes = 0;
  declaredText: number | undefined;
  readonly f32: boolean;
  readonly valueBytes: number;
  readonly conv = new Float64Array(1);
  readonly missing: ReadonlySet<string>;

  constructor(readonly path: string, readonly o: DelimitedOptions, readonly compressedRead: () => number) {
    this.missing = o.missing ?? MISSING_TEXTS;
    this.f32 = o.precision === 'float32';
    this.valueBytes = this.f32 ? 4 : 8;
  }

  private need(r: number): number {
    return r * this.nf * this.valueBytes;
  }

  private tooLarge(r: number): InputError {
    const { path, o, nf } = this;
    const need = this.need(r);
    return new InputError(
      `${path}: the table (about ${r.toLocaleString('en-US')} rows × ${nf.toLocaleString('en-US')} features, ${o.precision}) needs about ` +
        `${formatBytes(need)}${this.f32 ? '' : ' (half with --float32)'}, and ${memoryAdvice(o.memory, need + 256e6)}`,
    );
  }

  /**
   * Room for `want` rows: a fresh allocation, the rows so far copied over. `predicted` is the
   * row count the text's size suggests (want adds a margin to it).
   */
  reserve(want: number, predicted = want): void {
    if (this.need(want) > this.o.memory.bytes) {
      // The margin may overshoot: refuse only when the prediction itself would not fit.
      const likely = Math.max(this.rows + 1, predicted);
      if (this.need(likely) > this.o.memory.bytes) throw this.tooLarge(likely);
      want = Math.max(this.rows + 1, Math.floor(this.o.memory.bytes / Math.max(1, this.nf * this.valueBytes)));
    }
    const Y = allocFeatures(this.o.precision, want * this.nf);
    if (this.rows) Y.set(this.X.subarray(0, this.rows * this.nf));
    this.X = Y;
    this.capacity = want;
  }

  /** Rows the whole text should hold, from the bytes per row seen so far. */
  predictRows(): number {
    const { o, rows } = this;
    const consumed = this.compressedRead();
    const perRow = rows > 0 ? this.rowBytes / rows : 1024;
    let total: number;
    if (!o.gzip) total = o.bytes;
    else {
      // The trailer's size is modulo 2³²: pick the wrap nearest to the compression ratio so far.
      const byRatio = consumed > 0 ? (this.textBytes / consumed) * o.bytes : this.textBytes * 4;
      if (this.declaredText === undefined) total = byRatio;
      else {
        const k = Math.max(0, Math.round((byRatio - this.declaredText) / 2 ** 32));
        total = this.declaredText + k * 2 ** 32;
        if (total < this.textBytes) total = byRatio;
      }
    }
    const rest = Math.max(0, total - this.headerBytes - this.rowBytes);
    return rows + Math.ceil(rest / perRow);
  }

  private rowError(row: number, what: string): InputError {
    return new InputError(`${this.path}: data row ${row} ${what}`);
  }

  private field(buf: Buffer, i: number, e: number, c: number): { text: string; next: number } {
    try {
      return fieldAt(buf, i, e, this.delim, this.o.encoding ?? 'utf8');
    } catch (err) {
      if (err instanceof QuoteError) throw this.rowError(this.rows + 1, `column "${this.names![c]}": ${err.message}`);
      throw err;
    }
  }

  header(buf: Buffer, p: number, e: number, next: number): void {
    const { o, path } = this;
    if (e === p) throw new InputError(`${path}: empty file`);
    this.delim = o.delimiter(buf.toString(o.encoding ?? 'utf8', p, e)).charCodeAt(0);
    let names: string[];
    try {
      names = splitRecord(buf, p, e, this.delim, o.encoding ?? 'utf8');
    } catch (err) {
      if (err instanceof QuoteError) throw new InputError(`${path}: header line: ${err.message}`);
      throw err;
    }
    names[0] = names[0]!.replace(/^\uFEFF/, '');
    this.names = names;
    this.isFeature = o.roles(names);
    const ncol = (this.ncol = names.length);
    this.slot = new Int32Array(ncol);
    let nm = 0, nf = 0;
    for (let c = 0; c < ncol; c++) this.slot[c] = this.isFeature[c] ? nf++ : -1 - nm++;
    this.nf = nf;
    this.meta = Array.from({ length: nm }, () => []);
    this.nan = new Int32Array(nf);
    this.rowBuf = new Float64Array(nf);
    this.headerBytes = next - p;
    if (o.gzip) this.declaredText = gzipDeclaredSize(path, o.bytes);
  }

  /** A field the fast path did not take: text, quotes, words, long mantissas; writes rowBuf[s], returns its end. */
  slowFeature(buf: Buffer, i: number, e: number, c: number, s: number): number {
    const f = this.field(buf, i, e, c);
    const v = parseDecimalText(f.text);
    if (v === undefined) {
      const t = f.text.length > 40 ? `${f.text.slice(0, 40)}…` : f.text;
      throw new InputError(`${this.path}: feature column "${this.names![c]}" has non-numeric value "${t}" in data row ${this.rows + 1}`);
    }
    this.rowBuf[s] = v;
    return f.next;
  }

  /** A metadata field: its text (missing words → null); returns its end. */
  metaField(buf: Buffer, i: number, e: number, c: number, s: number): number {
    const f = this.field(buf, i, e, c);
    this.meta[-1 - s]!.push(this.missing.has(f.text) ? null : f.text);
    return f.next;
  }

  /** The error for a record that ends after `c + 1` fields or has more than the header (next < e). */
  ragged(buf: Buffer, c: number, next: number, e: number): InputError {
    const ncol = this.ncol;
    let fields = c + 1;
    if (next < e) {
      try {
        fields = ncol + splitRecord(buf, next + 1, e, this.delim).length;
      } catch {
        fields = ncol + 1;
      }
    }
    return this.rowError(this.rows + 1, `has ${fields} fields, the header has ${ncol}`);
  }

  checkFloat32(v: number, c: number): void {
    if ((v > F32_MAX || v < -F32_MAX) && v - v === 0) {
      throw new InputError(`${this.path}: column ${this.names![c]}, data row ${this.rows + 1}: ${v} does not fit float32 storage (largest ±3.4e38); read with float64`);
    }
  }

  /** Parse one data record [p, e) (see parseFields) into the next row. */
  parseRecord(buf: Buffer, p: number, e: number): void {
    if (this.rows === this.capacity) {
      const predicted = this.predictRows();
      this.reserve(Math.max(this.rows + 1024, Math.ceil(predicted * 1.1)), predicted);
    }
    const rowBad = parseFields(this, buf, p, e, this.slot, this.rowBuf, this.nan, this.conv, this.delim, this.ncol, this.f32);
    this.X.set(this.rowBuf, this.rows * this.nf);
    if (rowBad) this.rowsWithNaN++;
    this.rows++;
  }

  /** Parse the complete records of buf; returns where an unfinished one starts (buf.length if none). */
  handle(buf: Buffer, final: boolean): number {
    const end = buf.length;
    let p = 0;
    // The next quote character at or after p (end if none): records before it need no quote-aware scan.
    let nextQuote = -1;
    while (p < end) {
      if (nextQuote < p) {
        nextQuote = buf.indexOf(QUOTE, p);
        if (nextQuote < 0) nextQuote = end;
      }
      let nl = buf.indexOf(LF, p);
      if (nl >= 0 && nextQuote < nl) nl = quotedRecordEnd(buf, p, end);
      if (nl < 0) {
        if (!final) return p;
        nl = end;
      }
      let e = nl;
      if (e > p && buf[e - 1] === CR) e--;
      if (this.names === null) this.header(buf, p, e, nl + 1);
      else if (e > p) {
        if (this.capacity === 0) {
          // A provisional block for this buffer's rows; the matrix is sized once they are parsed.
          let k = 1;
          for (let j = buf.indexOf(LF, p); j >= 0; j = buf.indexOf(LF, j + 1)) k++;
          this.reserve(k);
          this.provisional = true;
        }
        this.parseRecord(buf, p, e);
        this.rowBytes += nl + 1 - p;
      }
      p = nl + 1;
    }
    return end;
  }
}

/**
 * Parse one data record [p, e) (e = its LF or CR LF, or the end of the text). buf[e] exists (the
 * last record of a text is given a line end) and is no digit or delimiter, so the number loops
 * stop there without bounds tests. Only the common case lives here — an unquoted decimal of at
 * most 19 significant digits and a power of ten within ±22 — everything else is a call out.
 */
function parseFields(
t: TableParser, buf: Buffer, p: number, e: number, slot: Int32Array, rb: Float64Array, nan: Int32Array, conv: Float64Array,
delim: number, ncol: number, f32: boolean,
): number {
  let rowBad = 0;
  let i = p;
  for (let c = 0; c < ncol; c++) {
    const s = slot[c]!;
    let q: number;
    if (s < 0) q = t.metaField(buf, i, e, c, s);
    else {
      q = i;
      let ch = buf[q]!;
      let v = NaN;
      let fast = q === e || ch === delim; // empty = missing
      if (!fast) {
        let neg = false;
        if (ch === 45) {
          neg = true;
          ch = buf[++q]!;
        } else if (ch === 43) ch = buf[++q]!;
        const start = q;
        // Significant digits: leading zeros skipped, the first 15 in hi, up to 4 more in lo.
        let hi = 0, lo = 0, nHi = 0, nLo = 0, exp = 0, long = false;
        let d = ch - 48;
        while (d >= 0 && d <= 9) {
          if (nHi < 15) {
            if (nHi > 0 || d > 0) {
              hi = hi * 10 + d;
              nHi++;
            }
          } else if (nLo < 4) {
            lo = lo * 10 + d;
            nLo++;
          } else long = true;
          d = buf[++q]! - 48;
        }
        let digits = q - start;
        if (d === -2) {
          // '.': fraction digits, each one more negative power of ten
          const f0 = ++q;
          d = buf[q]! - 48;
          while (d >= 0 && d <= 9) {
            if (nHi < 15) {
              if (nHi > 0 || d > 0) {
                hi = hi * 10 + d;
                nHi++;
              }
              exp--;
            } else if (nLo < 4) {
              lo = lo * 10 + d;
              nLo++;
              exp--;
            } else long = true;
            d = buf[++q]! - 48;
          }
          digits += q - f0;
        }
        if (digits > 0 && (d === 53 || d === 21)) {
          // 'e' or 'E'
          d = buf[++q]! - 48;
          let es = 1;
          if (d === -3) {
            es = -1;
            d = buf[++q]! - 48;
          } else if (d === -5) d = buf[++q]! - 48;
          let ev = 0;
          const e0 = q;
          while (d >= 0 && d <= 9) {
            if (ev < 100000) ev = ev * 10 + d;
            d = buf[++q]! - 48;
          }
          if (q === e0) long = true;
          exp += es * ev;
        }
        if (!long && digits > 0 && (q === e || d + 48 === delim)) {
          if (nLo === 0 && exp >= -22 && exp <= 22) {
            // Clinger's fast path: an exact integer times or over an exact power of ten.
            v = exp >= 0 ? hi * P10[exp]! : hi / P10[-exp]!;
            fast = true;
          } else if (decimalInto(hi, lo, nLo, exp, conv)) {
            v = conv[0]!;
            fast = true;
          }
          if (neg) v = -v;
        }
      }
      if (fast) rb[s] = v;
      else {
        q = t.slowFeature(buf, i, e, c, s);
        v = rb[s]!;
      }
      if (v !== v) {
        nan[s]!++;
        rowBad = 1;
      } else if (f32) t.checkFloat32(v, c);
    }
    // After a field: a delimiter (more fields follow) or the record's end.
    if (q < e) {
      if (c === ncol - 1) throw t.ragged(buf, c, q, e);
      i = q + 1;
    } else if (c < ncol - 1) throw t.ragged(buf, c, q, e);
  }
  return rowBad;
}


/**
 * Where the record continuing into `buf` ends (its LF), given whether the text before `buf` left
 * a quoted field open; -1 and the quote state at the end of `buf` when it does not end in it.
 */
function recordEndFrom(buf: Buffer, inQ: boolean): { end: number; inQ: boolean } {
  let i = 0;
  let nl = buf.indexOf(LF);
  for (;;) {
    const q = buf.indexOf(QUOTE, i);
    if (inQ) {
      if (q < 0) return { end: -1, inQ };
      inQ = false; // "" inside quotes closes and reopens: the same as reading on
      i = q + 1;
      continue;
    }
    if (nl >= 0 && nl < i) nl = buf.indexOf(LF, i);
    if (nl >= 0 && (q < 0 || nl < q)) return { end: nl, inQ };
    if (q < 0) return { end: -1, inQ };
    inQ = true;
    i = q + 1;
  }
}

/** Read a delimited table; see the file header. */
export async function readDelimited(path: string, o: DelimitedOptions): Promise<DelimitedTable> {
  const { stream, raw } = openText(path, o.gzip);
  const progress = o.reporter.progress(o.label, o.bytes);
  const t = new TableParser(path, o, () => raw.bytesRead);
  const utf8 = (o.encoding ?? 'utf8') === 'utf8' ? new Utf8Checker() : null;
  const maxRecord = o.maxRecordBytes ?? MAX_RECORD_BYTES;
  // The start of a record the last chunk did not finish, kept as the chunks it spans (a 50 MB
  // field is gathered once, not recopied with every chunk), and whether it ends inside quotes.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let pendingInQ = false;
  let badByte = -1;
  const tooLong = (inQ: boolean): InputError =>
    new InputError(
      `${path}: ${t.names ? `data row ${(t.rows + 1).toLocaleString('en-US')}` : 'the header line'} is longer than ${formatBytes(maxRecord)}` +
        (inQ ? ' (a quoted field opened in it has not closed: an unmatched " makes the rest of the file one field)' : '') +
        '; phenomap holds one row in memory at a time and refuses rows this long',
    );
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (utf8) {
        badByte = utf8.push(chunk);
        if (badByte >= 0) break;
      }
      t.textBytes += chunk.length;
      let buf = chunk;
      if (pendingBytes) {
        const r = recordEndFrom(chunk, pendingInQ);
        if (r.end < 0) {
          pending.push(chunk);
          pendingBytes += chunk.length;
          pendingInQ = r.inQ;
          if (pendingBytes > maxRecord) throw tooLong(pendingInQ);
          progress.tick(raw.bytesRead);
          continue;
        }
        if (pendingBytes + r.end + 1 > maxRecord) throw tooLong(false);
        const head = Buffer.concat([...pending, chunk.subarray(0, r.end + 1)]);
        pending = [];
        pendingBytes = 0;
        if (t.handle(head, false) !== head.length) throw new Error('internal: a finished record was left unparsed');
        buf = chunk.subarray(r.end + 1);
      }
      const used = t.handle(buf, false);
      if (used < buf.length) {
        const rest = Buffer.from(buf.subarray(used));
        pending = [rest];
        pendingBytes = rest.length;
        pendingInQ = recordEndFrom(rest, false).inQ;
        if (pendingBytes > maxRecord) throw tooLong(pendingInQ);
      }
      if (t.provisional && t.rows > 0) {
        t.provisional = false;
        const predicted = t.predictRows();
        t.reserve(Math.max(t.rows, Math.ceil(predicted * 1.03) + 16), predicted);
      }
      progress.tick(raw.bytesRead);
    }
    if (utf8 && badByte < 0) badByte = utf8.end();
    if (badByte >= 0) {
      stream.destroy();
      throw await encodingError(path, o.gzip, badByte);
    }
    if (pendingBytes) t.handle(Buffer.concat([...pending, Buffer.from('\n')]), true);
  } catch (e) {
    stream.destroy();
    if (e instanceof InputError) throw e;
    throw streamError(path, o.gzip, e);
  }
  progress.done();
  const { names, rows, nf, capacity } = t;
  if (names === null || t.textBytes === 0) throw new InputError(`${path}: empty file`);
  if (rows === 0) throw new InputError(`${path}: no data rows (header only)`);
  let X: FeatureArray = t.X.subarray(0, rows * nf);
  // A prediction far above the rows read would hold memory for nothing: keep only the rows.
  if (capacity > rows * 1.25 + 1024) {
    const Y = allocFeatures(o.precision, rows * nf);
    Y.set(X);
    X = Y;
  }
  return { names, isFeature: t.isFeature, rows, X, nan: t.nan, rowsWithNaN: t.rowsWithNaN, meta: t.meta, textBytes: t.textBytes };
}
