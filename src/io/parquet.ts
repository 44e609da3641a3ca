/**
 * phenomap's own Parquet reader and writer for flat profile tables (Apache Parquet format 2,
 * https://parquet.apache.org/docs/file-format/), used where DuckDB is slow: a scan through DuckDB
 * pays a fixed cost per query that grows with the file's width (≈ 2 s on a 50,000-column file)
 * and ≈ 50 ns per value on a 5,792-column one, and writing went through a text copy and used
 * 3.7 GB for 7,680 × 5,792. DuckDB remains the reader for everything this one does not cover.
 *
 * Covered: a flat schema of required or optional (not repeated) columns; DOUBLE, FLOAT, INT32,
 * INT64 (also DECIMAL-annotated), BOOLEAN and BYTE_ARRAY (text); PLAIN and dictionary
 * (PLAIN_DICTIONARY / RLE_DICTIONARY) encodings; RLE/bit-packed definition levels; data pages v1;
 * UNCOMPRESSED, SNAPPY (decoded here), GZIP and BROTLI (node:zlib). Anything else —
 * ZSTD (absent from Node 20's zlib), LZ4, DELTA_* or BYTE_STREAM_SPLIT encodings, INT96 or
 * fixed-length columns, nested or repeated fields, data pages v2 — is reported by
 * parquetUnsupported() or, for what only the pages show, by a ParquetUnsupported error, and read by
 * DuckDB instead.
 *
 * The writer produces what the reader reads fastest: one PLAIN data page (v1) per column chunk,
 * optional columns (null = missing; NaN features are written as null, as the text path did),
 * doubles uncompressed (CellProfiler's measurements barely compress) and text GZIP-compressed,
 * row groups of about 64 MB, and the exact column names in the key-value metadata.
 */
import { closeSync, openSync, readSync, writeSync, fstatSync } from 'node:fs';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from '../util/errors.js';
import { T, ThriftError, ThriftReader, ThriftWriter, type ThriftField, type ThriftStruct, type ThriftValue } from './thrift.js';

/** Physical types (parquet.thrift `Type`). */
export const PQ = { BOOLEAN: 0, INT32: 1, INT64: 2, INT96: 3, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7 } as const;
const CODEC = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, BROTLI: 4 } as const;
const ENC = { PLAIN: 0, PLAIN_DICTIONARY: 2, RLE: 3, BIT_PACKED: 4, RLE_DICTIONARY: 8 } as const;
const PAGE = { DATA: 0, DICTIONARY: 2, DATA_V2: 3 } as const;
/** converted_type values that leave a column's meaning alone (UTF8, ENUM, JSON; INT_8…UINT_64). */
const PLAIN_CONVERTED = new Set([0, 4, 19, 15, 16, 17, 18, 11, 12, 13, 14]);
const DECIMAL_CONVERTED = 5;

/** Something only a page shows that this reader does not read (the caller falls back to DuckDB). */
export class ParquetUnsupported extends Error {}

export interface ParquetLeaf {
  readonly name: string;
  readonly physical: number;
  readonly optional: boolean;
  /** DECIMAL scale (value = integer · 10^−scale), 0 otherwise. */
  readonly scale: number;
  readonly converted?: number;
  readonly logical?: ThriftStruct;
  readonly repeated: boolean;
}

export interface ParquetChunk {
  readonly codec: number;
  readonly start: number;
  readonly size: number;
  readonly numValues: number;
  readonly encodings: number[];
}

export interface ParquetMeta {
  readonly numRows: number;
  readonly leaves: ParquetLeaf[];
  readonly nested: boolean;
  readonly rowGroups: { numRows: number; chunks: ParquetChunk[] }[];
  readonly kv: Map<string, string>;
}

const num = (v: ThriftValue | undefined): number => (typeof v === 'number' ? v : 0);
const str = (v: ThriftValue | undefined): string => (Buffer.isBuffer(v) ? v.toString('utf8') : '');

/** The footer of a Parquet file; InputError when it is not one. */
export function readParquetMeta(path: string): ParquetMeta {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(8);
    if (size < 12) throw new InputError(`${path}: not a readable Parquet file (too short)`);
    readSync(fd, tail, 0, 8, size - 8);
    if (tail.toString('latin1', 4, 8) !== 'PAR1') throw new InputError(`${path}: not a readable Parquet file (no PAR1 footer)`);
    const len = tail.readUInt32LE(0);
    if (len + 12 > size) throw new InputError(`${path}: not a readable Parquet file (footer length ${len} beyond the file)`);
    const foot = Buffer.alloc(len);
    readSync(fd, foot, 0, len, size - 8 - len);
    let fm: ThriftStruct;
    try {
      fm = new ThriftReader(foot).struct();
    } catch (e) {
      if (e instanceof ThriftError) throw new InputError(`${path}: not a readable Parquet file (${e.message} in the footer)`);
      throw e;
    }
    const schema = (fm[2] as ThriftStruct[] | undefined) ?? [];
    const leaves: ParquetLeaf[] = [];
    let nested = false;
    for (let i = 1; i < schema.length; i++) {
      const s = schema[i]!;
      if (num(s[5]) > 0) {
        nested = true;
        continue;
      }
      leaves.push({
        name: str(s[4]), physical: num(s[1]), optional: num(s[3]) === 1, repeated: num(s[3]) === 2,
        scale: num(s[6]) === DECIMAL_CONVERTED ? num(s[7]) : 0, converted: s[6] === undefined ? undefined : num(s[6]),
        logical: s[10] as ThriftStruct | undefined,
      });
    }
    if (schema.length && num(schema[0]![5]) !== schema.length - 1) nested = true;
    const rowGroups = ((fm[4] as ThriftStruct[] | undefined) ?? []).map((rg) => ({
      numRows: num(rg[3]),
      chunks: ((rg[1] as ThriftStruct[] | undefined) ?? []).map((cc) => {
        const md = (cc[3] as ThriftStruct | undefined) ?? {};
        const dict = md[11] === undefined ? Infinity : num(md[11]);
        const data = num(md[9]);
        const start = Math.min(dict > 0 ? dict : Infinity, data);
        return { codec: num(md[4]), start, size: num(md[7]), numValues: num(md[5]), encodings: ((md[2] as number[] | undefined) ?? []).slice() };
      }),
    }));
    const kv = new Map<string, string>();
    for (const e of (fm[5] as ThriftStruct[] | undefined) ?? []) kv.set(str(e[1]), str(e[2]));
    return { numRows: num(fm[3]), leaves, nested, rowGroups, kv };
  } finally {
    closeSync(fd);
  }
}

/** Why phenomap's reader cannot read this file (DuckDB then does), or null. */
export function parquetUnsupported(meta: ParquetMeta): string | null {
  if (meta.nested) return 'nested schema';
  for (const l of meta.leaves) {
    if (l.repeated) return `repeated column ${l.name}`;
    if (l.physical === PQ.INT96 || l.physical === PQ.FIXED_LEN_BYTE_ARRAY) return `column ${l.name}: physical type ${l.physical}`;
    if (l.converted !== undefined && !PLAIN_CONVERTED.has(l.converted) && l.converted !== DECIMAL_CONVERTED) return `column ${l.name}: converted type ${l.converted}`;
    const lt = l.logical;
    // STRING (1), ENUM (4), DECIMAL (5), INTEGER (10), JSON (12) keep the value's meaning.
    if (lt && !Object.keys(lt).every((k) => ['1', '4', '5', '10', '12'].includes(k))) return `column ${l.name}: logical type ${Object.keys(lt).join(',')}`;
  }
  for (const rg of meta.rowGroups) {
    if (rg.chunks.length !== meta.leaves.length) return 'row group without every column';
    for (const c of rg.chunks) {
      if (c.codec !== CODEC.UNCOMPRESSED && c.codec !== CODEC.SNAPPY && c.codec !== CODEC.GZIP && c.codec !== CODEC.BROTLI) return `codec ${c.codec}`;
      for (const e of c.encodings) if (e !== ENC.PLAIN && e !== ENC.PLAIN_DICTIONARY && e !== ENC.RLE && e !== ENC.BIT_PACKED && e !== ENC.RLE_DICTIONARY) return `encoding ${e}`;
    }
  }
  return null;
}

/** Snappy raw-format decompression (https://github.com/google/snappy/blob/main/format_description.txt). */
export function snappyDecompress(src: Buffer): Buffer {
  let p = 0;
  let len = 0, shift = 0;
  for (;;) {
    const b = src[p++]!;
    len += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) break;
    shift += 7;
    if (shift > 35) throw new ThriftError('bad snappy length');
  }
  const out = Buffer.allocUnsafe(len);
  let o = 0;
  while (p < src.length) {
    const tag = src[p++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >> 2;
      if (n >= 60) {
        const bytes = n - 59;
        n = 0;
        for (let i = 0; i < bytes; i++) n += src[p++]! * 2 ** (8 * i);
      }
      n += 1;
      if (p + n > src.length || o + n > len) throw new ThriftError('bad snappy literal');
      // Short runs byte by byte: Buffer#copy costs more to call than to copy a few bytes.
      if (n <= 32) for (let i = 0; i < n; i++) out[o + i] = src[p + i]!;
      else src.copy(out, o, p, p + n);
      p += n;
      o += n;
      continue;
    }
    let n: number, off: number;
    if (kind === 1) {
      n = ((tag >> 2) & 7) + 4;
      off = ((tag >> 5) << 8) | src[p++]!;
    } else if (kind === 2) {
      n = (tag >> 2) + 1;
      off = src[p]! | (src[p + 1]! << 8);
      p += 2;
    } else {
      n = (tag >> 2) + 1;
      off = src.readUInt32LE(p);
      p += 4;
    }
    if (off === 0 || off > o || o + n > len) throw new ThriftError('bad snappy copy');
    if (off >= n && n > 32) {
      out.copyWithin(o, o - off, o - off + n);
      o += n;
    } else for (let i = 0; i < n; i++, o++) out[o] = out[o - off]!;
  }
  if (o !== len) throw new ThriftError('snappy length mismatch');
  return out;
}

function decompress(codec: number, b: Buffer, size: number): Buffer {
  switch (codec) {
    case CODEC.UNCOMPRESSED: return b;
    case CODEC.SNAPPY: return snappyDecompress(b);
    case CODEC.GZIP: return gunzipSync(b);
    case CODEC.BROTLI: return brotliDecompressSync(b);
    default: throw new ThriftError(`codec ${codec}`);
  }
}

/** RLE / bit-packed hybrid run decoding into out[0…n) (Parquet's levels and dictionary indices). */
function decodeHybrid(b: Buffer, p: number, end: number, width: number, out: Int32Array, n: number): void {
  let i = 0;
  const bytes = (width + 7) >> 3;
  while (i < n) {
    if (p >= end) throw new ThriftError('RLE data ends early');
    let h = 0, mul = 1;
    for (;;) {
      const x = b[p++]!;
      h += (x & 0x7f) * mul;
      if (!(x & 0x80)) break;
      mul *= 128;
    }
    if (h % 2 === 0) {
      const count = h / 2;
      let v = 0;
      for (let k = 0; k < bytes; k++) v |= b[p++]! << (8 * k);
      const stop = Math.min(n, i + count);
      while (i < stop) out[i++] = v;
    } else {
      const values = ((h - 1) / 2) * 8;
      const mask = width === 32 ? -1 : (1 << width) - 1;
      let acc = 0, bits = 0;
      for (let k = 0; k < values; k++) {
        while (bits < width) {
          acc += b[p++]! * 2 ** bits;
          bits += 8;
        }
        const v = acc % 2 ** width;
        acc = Math.floor(acc / 2 ** width);
        bits -= width;
        if (i < n) out[i++] = v & mask;
      }
    }
  }
}

/** A decoded column chunk: numbers (NaN = null) or text (null = null). */
export type ColumnValues = { kind: 'number'; values: Float64Array } | { kind: 'text'; values: (string | null)[] };

function readPlain(leaf: ParquetLeaf, b: Buffer, p: number, end: number, count: number): Float64Array | (string | null)[] {
  const t = leaf.physical;
  if (t === PQ.BYTE_ARRAY) {
    const out: (string | null)[] = new Array(count);
    for (let i = 0; i < count; i++) {
      if (p + 4 > end) throw new ThriftError('BYTE_ARRAY values end early');
      const n = b.readUInt32LE(p);
      p += 4;
      out[i] = b.toString('utf8', p, p + n);
      p += n;
    }
    return out;
  }
  const out = new Float64Array(count);
  const scale = leaf.scale ? 10 ** -leaf.scale : 1;
  if (t === PQ.DOUBLE) {
    if (p + 8 * count > end) throw new ThriftError('DOUBLE values end early');
    // A byte copy into the (aligned) result: the values rarely start on an 8-byte boundary.
    new Uint8Array(out.buffer, out.byteOffset, 8 * count).set(b.subarray(p, p + 8 * count));
  } else if (t === PQ.FLOAT) {
    if (p + 4 * count > end) throw new ThriftError('FLOAT values end early');
    for (let i = 0; i < count; i++) out[i] = b.readFloatLE(p + 4 * i);
  } else if (t === PQ.INT32) {
    if (p + 4 * count > end) throw new ThriftError('INT32 values end early');
    const unsigned = leaf.converted !== undefined && leaf.converted >= 11 && leaf.converted <= 14;
    for (let i = 0; i < count; i++) out[i] = (unsigned ? b.readUInt32LE(p + 4 * i) : b.readInt32LE(p + 4 * i)) * scale;
  } else if (t === PQ.INT64) {
    if (p + 8 * count > end) throw new ThriftError('INT64 values end early');
    for (let i = 0; i < count; i++) out[i] = (b.readUInt32LE(p + 8 * i) + b.readInt32LE(p + 8 * i + 4) * 4294967296) * scale;
  } else if (t === PQ.BOOLEAN) {
    for (let i = 0; i < count; i++) out[i] = (b[p + (i >> 3)]! >> (i & 7)) & 1;
  } else throw new ThriftError(`physical type ${t}`);
  return out;
}

/** Decode one column chunk (all its pages) of `rows` rows. */
export function decodeColumnChunk(leaf: ParquetLeaf, chunk: ParquetChunk, raw: Buffer, rows: number): ColumnValues {
  const text = leaf.physical === PQ.BYTE_ARRAY || leaf.physical === PQ.BOOLEAN;
  const nums = text ? null : new Float64Array(rows);
  const strs: (string | null)[] | null = text ? new Array(rows).fill(null) : null;
  let dict: Float64Array | (string | null)[] | null = null;
  let row = 0;
  const r = new ThriftReader(raw);
  const defs = new Int32Array(0);
  let defBuf = defs;
  let idxBuf = new Int32Array(0);
  while (row < rows && r.pos < raw.length) {
    const h = r.struct();
    const type = num(h[1]), usize = num(h[2]), csize = num(h[3]);
    const bodyStart = r.pos;
    if (bodyStart + csize > raw.length) throw new ThriftError('page beyond the column chunk');
    const body = raw.subarray(bodyStart, bodyStart + csize);
    r.pos = bodyStart + csize;
    if (type === PAGE.DICTIONARY) {
      const dh = (h[7] as ThriftStruct | undefined) ?? {};
      const page = decompress(chunk.codec, body, usize);
      dict = readPlain(leaf, page, 0, page.length, num(dh[1]));
      continue;
    }
    if (type !== PAGE.DATA && type !== PAGE.DATA_V2) continue;
    let n: number, enc: number, page: Buffer, p: number;
    if (type === PAGE.DATA) {
      const dh = (h[5] as ThriftStruct | undefined) ?? {};
      n = num(dh[1]);
      enc = num(dh[2]);
      page = decompress(chunk.codec, body, usize);
      p = 0;
      if (defBuf.length < n) defBuf = new Int32Array(n);
      if (leaf.optional) {
        const len = page.readUInt32LE(0);
        decodeHybrid(page, 4, 4 + len, 1, defBuf, n);
        p = 4 + len;
      }
    } else throw new ParquetUnsupported('data page v2');
    if (!leaf.optional) defBuf.fill(1, 0, n);
    let present = 0;
    for (let i = 0; i < n; i++) present += defBuf[i]!;
    let vals: Float64Array | (string | null)[];
    if (enc === ENC.PLAIN) vals = readPlain(leaf, page, p, page.length, present);
    else if (enc === ENC.PLAIN_DICTIONARY || enc === ENC.RLE_DICTIONARY) {
      if (!dict) throw new ThriftError('dictionary-encoded page without a dictionary');
      const width = page[p]!;
      if (idxBuf.length < present) idxBuf = new Int32Array(present);
      decodeHybrid(page, p + 1, page.length, width, idxBuf, present);
      if (dict instanceof Float64Array) {
        const v = new Float64Array(present);
        for (let i = 0; i < present; i++) v[i] = dict[idxBuf[i]!]!;
        vals = v;
      } else {
        const d = dict;
        vals = Array.from({ length: present }, (_, i) => d[idxBuf[i]!] ?? null);
      }
    } else throw new ParquetUnsupported(`page encoding ${enc}`);
    let k = 0;
    const take = Math.min(n, rows - row);
    if (nums) {
      const v = vals as Float64Array;
      if (present === n) nums.set(take === n ? v : v.subarray(0, take), row);
      else for (let i = 0; i < take; i++) nums[row + i] = defBuf[i] ? v[k++]! : NaN;
    } else {
      const v = vals as (string | null)[] | Float64Array;
      const bool = leaf.physical === PQ.BOOLEAN;
      for (let i = 0; i < take; i++) {
        if (!defBuf[i]) strs![row + i] = null;
        else {
          const x = v[k++]!;
          strs![row + i] = bool ? (x ? 'true' : 'false') : (x as string);
        }
      }
    }
    row += take;
  }
  if (row !== rows) throw new ThriftError(`column chunk holds ${row} of ${rows} rows`);
  return nums ? { kind: 'number', values: nums } : { kind: 'text', values: strs! };
}

/** Read the raw bytes of a column chunk. */
export function readChunk(fd: number, chunk: ParquetChunk): Buffer {
  const b = Buffer.allocUnsafe(chunk.size);
  let got = 0;
  while (got < chunk.size) {
    const n = readSync(fd, b, got, chunk.size - got, chunk.start + got);
    if (n === 0) throw new ThriftError('column chunk beyond the end of the file');
    got += n;
  }
  return b;
}

// ------------------------------------------------------------------------------------------

export type WriterColumn = { name: string; kind: 'double' } | { name: string; kind: 'text' };

/** Rows per row group: about 64 MB of values, at least 1. */
export function rowGroupRows(columns: number): number {
  return Math.max(1, Math.min(1 << 20, Math.floor((64 << 20) / Math.max(1, columns * 8))));
}

/**
 * A Parquet file written row group by row group (writeRowGroup), footer on close. The caller
 * owns the file's path (atomic rename happens outside).
 */
export class ParquetWriter {
  private readonly fd: number;
  private offset = 0;
  private readonly groups: ThriftField[][] = [];
  private rows = 0;

  constructor(path: string, private readonly columns: WriterColumn[], private readonly kv: [string, string][] = []) {
    this.fd = openSync(path, 'w');
    this.write(Buffer.from('PAR1', 'latin1'));
  }

  private write(b: Buffer): void {
    let done = 0;
    while (done < b.length) done += writeSync(this.fd, b, done, b.length - done);
    this.offset += b.length;
  }

  /** value(c) gives column c's values for the group's n rows: numbers (NaN = null) or text. */
  writeRowGroup(n: number, value: (c: number) => ArrayLike<number> | readonly (string | null)[]): void {
    const chunks: ThriftField[][] = [];
    const start = this.offset;
    for (let c = 0; c < this.columns.length; c++) {
      const col = this.columns[c]!;
      const v = value(c);
      // Definition levels (1 = present), bit-packed; values PLAIN.
      const def = Buffer.alloc(Math.ceil(n / 8));
      let present = 0;
      let body: Buffer;
      if (col.kind === 'double') {
        const x = v as ArrayLike<number>;
        for (let i = 0; i < n; i++) if (x[i] === x[i]) present++;
        const vals = present === n ? Buffer.allocUnsafeSlow(n * 8) : Buffer.allocUnsafe(present * 8);
        if (present === n) {
          // No nulls: the values' bytes as they are (PLAIN doubles are little-endian, as is every
          // machine Node runs on here), one copy instead of a call per value.
          new Float64Array(vals.buffer, vals.byteOffset, n).set(x);
          def.fill(0xff);
          if (n & 7) def[n >> 3] = (1 << (n & 7)) - 1;
        } else {
          for (let i = 0, k = 0; i < n; i++) {
            const y = x[i]!;
            if (y !== y) continue;
            def[i >> 3] |= 1 << (i & 7);
            vals.writeDoubleLE(y, 8 * k++);
          }
        }
        body = vals;
      } else {
        const x = v as readonly (string | null)[];
        const parts: Buffer[] = [];
        for (let i = 0; i < n; i++) {
          const s = x[i];
          if (s === null || s === undefined) continue;
          def[i >> 3] |= 1 << (i & 7);
          const b = Buffer.from(s, 'utf8');
          const len = Buffer.allocUnsafe(4);
          len.writeUInt32LE(b.length, 0);
          parts.push(len, b);
          present++;
        }
        body = Buffer.concat(parts);
      }
      const lw = new ThriftWriter();
      lw.varint(Math.ceil(n / 8) * 2 + 1); // one bit-packed run of ⌈n/8⌉ groups of 8
      const header = lw.toBuffer();
      const levels = Buffer.concat([header, def.subarray(0, Math.ceil(n / 8))]);
      const lenBuf = Buffer.allocUnsafe(4);
      lenBuf.writeUInt32LE(levels.length, 0);
      const page = Buffer.concat([lenBuf, levels, body]);
      const codec = col.kind === 'text' ? CODEC.GZIP : CODEC.UNCOMPRESSED;
      const stored = codec === CODEC.GZIP ? gzipSync(page) : page;
      const ph = new ThriftWriter();
      ph.struct([
        [1, T.I32, PAGE.DATA], [2, T.I32, page.length], [3, T.I32, stored.length],
        [5, T.STRUCT, [[1, T.I32, n], [2, T.I32, ENC.PLAIN], [3, T.I32, ENC.RLE], [4, T.I32, ENC.RLE]]],
      ]);
      const phb = ph.toBuffer();
      const chunkStart = this.offset;
      this.write(phb);
      this.write(stored);
      chunks.push([
        [2, T.I64, chunkStart],
        [3, T.STRUCT, [
          [1, T.I32, col.kind === 'double' ? PQ.DOUBLE : PQ.BYTE_ARRAY],
          [2, T.LIST, [ENC.PLAIN, ENC.RLE], T.I32],
          [3, T.LIST, [col.name], T.BINARY],
          [4, T.I32, codec],
          [5, T.I64, n],
          [6, T.I64, phb.length + page.length],
          [7, T.I64, phb.length + stored.length],
          [9, T.I64, chunkStart],
        ]],
      ]);
    }
    this.groups.push([
      [1, T.LIST, chunks, T.STRUCT] as unknown as ThriftField,
      [2, T.I64, this.offset - start],
      [3, T.I64, n],
    ]);
    this.rows += n;
  }

  close(): void {
    try {
      const schema: ThriftField[][] = [[[4, T.BINARY, 'schema'], [5, T.I32, this.columns.length]]];
      for (const c of this.columns) {
        schema.push(c.kind === 'double'
          ? [[1, T.I32, PQ.DOUBLE], [3, T.I32, 1], [4, T.BINARY, c.name]]
          : [[1, T.I32, PQ.BYTE_ARRAY], [3, T.I32, 1], [4, T.BINARY, c.name], [6, T.I32, 0], [10, T.STRUCT, [[1, T.STRUCT, []]]]]);
      }
      const w = new ThriftWriter();
      w.struct([
        [1, T.I32, 1],
        [2, T.LIST, schema, T.STRUCT] as unknown as ThriftField,
        [3, T.I64, this.rows],
        [4, T.LIST, this.groups, T.STRUCT] as unknown as ThriftField,
        [5, T.LIST, this.kv.map(([k, v]) => [[1, T.BINARY, k], [2, T.BINARY, v]]), T.STRUCT] as unknown as ThriftField,
        [6, T.BINARY, 'phenomap'],
      ]);
      const foot = w.toBuffer();
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32LE(foot.length, 0);
      this.write(foot);
      this.write(len);
      this.write(Buffer.from('PAR1', 'latin1'));
    } finally {
      closeSync(this.fd);
    }
  }

  /** Close without a footer (the caller removes the file). */
  abort(): void {
    closeSync(this.fd);
  }
}
