/**
 * A small binary container for the partial results that workflow jobs hand to each other
 * (feature statistics, k-NN candidate lists): a magic line naming the kind, a JSON header, then
 * typed arrays, each 8-byte aligned, little-endian as the machine writes them. Numbers travel
 * bit for bit (no text round trip), so a result merged from files equals the one merged in memory.
 *
 * Layout: "PHENOMAP <kind> 1\n", u32 header length, header JSON (with the arrays' names, types and
 * lengths), padding to 8 bytes, then the arrays in header order.
 */
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { InputError } from './errors.js';

export type PackedArray = Float64Array | Int32Array | Uint8Array;
type ArrayType = 'f64' | 'i32' | 'u8';

interface ArrayEntry {
  readonly name: string;
  readonly type: ArrayType;
  readonly length: number;
}

const typeOf = (a: PackedArray): ArrayType => (a instanceof Float64Array ? 'f64' : a instanceof Int32Array ? 'i32' : 'u8');
const bytesOf: Record<ArrayType, number> = { f64: 8, i32: 4, u8: 1 };
const align8 = (n: number) => (n + 7) & ~7;

function magic(kind: string): Buffer {
  return Buffer.from(`PHENOMAP ${kind} 1\n`, 'latin1');
}

/** Pack a header object and named arrays into one buffer. */
export function packArrays(kind: string, header: object, arrays: Record<string, PackedArray>): Buffer {
  const entries: ArrayEntry[] = Object.entries(arrays).map(([name, a]) => ({ name, type: typeOf(a), length: a.length }));
  const json = Buffer.from(JSON.stringify({ ...header, arrays: entries }), 'utf8');
  const m = magic(kind);
  const start = align8(m.length + 4 + json.length);
  const total = entries.reduce((o, e) => align8(o + e.length * bytesOf[e.type]), start);
  const buf = Buffer.alloc(total);
  m.copy(buf, 0);
  buf.writeUInt32LE(json.length, m.length);
  json.copy(buf, m.length + 4);
  let o = start;
  for (const e of entries) {
    const a = arrays[e.name]!;
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, o);
    o = align8(o + a.byteLength);
  }
  return buf;
}

export interface Unpacked<H> {
  readonly header: H;
  readonly arrays: Record<string, PackedArray>;
}

/** Read back what packArrays wrote; a file of another kind or a cut-off file is an InputError naming `where`. */
export function unpackArrays<H>(buf: Uint8Array, kind: string, where: string): Unpacked<H> {
  const m = magic(kind);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < m.length + 4 || !b.subarray(0, m.length).equals(m)) {
    throw new InputError(`${where}: not a phenomap ${kind} file (it starts with ${JSON.stringify(b.subarray(0, 24).toString('latin1'))})`);
  }
  const len = b.readUInt32LE(m.length);
  let header: H & { arrays: ArrayEntry[] };
  try {
    header = JSON.parse(b.subarray(m.length + 4, m.length + 4 + len).toString('utf8'));
  } catch {
    throw new InputError(`${where}: the ${kind} file's header is damaged`);
  }
  let o = align8(m.length + 4 + len);
  const arrays: Record<string, PackedArray> = {};
  for (const e of header.arrays) {
    const bytes = e.length * bytesOf[e.type];
    if (o + bytes > b.length) throw new InputError(`${where}: the ${kind} file is cut off (${b.length} bytes; array ${e.name} needs ${o + bytes})`);
    // Copy into fresh, aligned storage (the buffer's own offset need not be aligned).
    const raw = new Uint8Array(bytes);
    raw.set(b.subarray(o, o + bytes));
    arrays[e.name] = e.type === 'f64' ? new Float64Array(raw.buffer) : e.type === 'i32' ? new Int32Array(raw.buffer) : raw;
    o = align8(o + bytes);
  }
  const { arrays: _entries, ...rest } = header;
  return { header: rest as unknown as H, arrays };
}

/** Read the header of a packed file and return where each array starts (to read slices of large files). */
export function packedLayout<H>(path: string, kind: string): { header: H; offsets: Record<string, { offset: number; type: ArrayType; length: number }>; size: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const m = magic(kind);
    const head = Buffer.alloc(Math.min(size, 1 << 16));
    readSync(fd, head, 0, head.length, 0);
    if (!head.subarray(0, m.length).equals(m)) throw new InputError(`${path}: not a phenomap ${kind} file`);
    const len = head.readUInt32LE(m.length);
    let hb = head;
    if (m.length + 4 + len > head.length) {
      hb = Buffer.alloc(m.length + 4 + len);
      readSync(fd, hb, 0, hb.length, 0);
    }
    const header = JSON.parse(hb.subarray(m.length + 4, m.length + 4 + len).toString('utf8')) as H & { arrays: ArrayEntry[] };
    let o = align8(m.length + 4 + len);
    const offsets: Record<string, { offset: number; type: ArrayType; length: number }> = {};
    for (const e of header.arrays) {
      offsets[e.name] = { offset: o, type: e.type, length: e.length };
      o = align8(o + e.length * bytesOf[e.type]);
    }
    if (o > size) throw new InputError(`${path}: the ${kind} file is cut off (${size} bytes, ${o} expected)`);
    const { arrays: _entries, ...rest } = header;
    return { header: rest as unknown as H, offsets, size };
  } finally {
    closeSync(fd);
  }
}

/** Read elements [from, to) of one array of a packed file (see packedLayout). */
export function readPackedSlice(path: string, at: { offset: number; type: ArrayType }, from: number, to: number): PackedArray {
  const bpe = bytesOf[at.type];
  const raw = new Uint8Array((to - from) * bpe);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < raw.length) {
      const n = readSync(fd, raw, done, raw.length - done, at.offset + from * bpe + done);
      if (n <= 0) throw new InputError(`${path}: the file is cut off`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return at.type === 'f64' ? new Float64Array(raw.buffer) : at.type === 'i32' ? new Int32Array(raw.buffer) : raw;
}
