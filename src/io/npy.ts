/**
 * NPY 1.0/2.0 reader and writer for little-endian float64 / float32 / int64 / int32 C-order arrays —
 * the format of the parity fixtures and of phenomap's matrix outputs (readable by numpy.load).
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../util/errors.js';
import { tempPathFor } from '../util/atomic.js';
import type { Matrix, StoredMatrix } from '../linalg/matrix.js';

export interface NpyArray {
  shape: number[];
  dtype: '<f8' | '<i8' | '<i4' | '<f4';
  /** Values widened to float64 (int64 values beyond 2^53 lose precision; fixtures never have them). */
  data: Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function parseNpy(buf: Buffer, name = 'array'): NpyArray {
  for (let i = 0; i < MAGIC.length; i++) {
    if (buf[i] !== MAGIC[i]) throw new InputError(`${name}: not an NPY file (bad magic)`);
  }
  const major = buf[6]!;
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    offset = 10;
  } else if (major === 2 || major === 3) {
    headerLen = buf.readUInt32LE(8);
    offset = 12;
  } else {
    throw new InputError(`${name}: unsupported NPY version ${major}`);
  }
  const header = buf.toString('latin1', offset, offset + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new InputError(`${name}: malformed NPY header`);
  if (fortran === 'True') throw new InputError(`${name}: Fortran-ordered NPY arrays are not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = offset + headerLen;
  const body = buf.subarray(start);
  const data = new Float64Array(count);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const width = descr === '<f8' || descr === '<i8' ? 8 : descr === '<f4' || descr === '<i4' ? 4 : 0;
  if (!width) throw new InputError(`${name}: unsupported NPY dtype ${descr} (need <f8, <f4, <i8 or <i4)`);
  if (body.byteLength < count * width) {
    throw new InputError(`${name}: truncated NPY data (${body.byteLength} bytes, need ${count * width})`);
  }
  for (let i = 0; i < count; i++) {
    switch (descr) {
      case '<f8':
        data[i] = dv.getFloat64(i * 8, true);
        break;
      case '<f4':
        data[i] = dv.getFloat32(i * 4, true);
        break;
      case '<i8':
        data[i] = Number(dv.getBigInt64(i * 8, true));
        break;
      default:
        data[i] = dv.getInt32(i * 4, true);
    }
  }
  return { shape, dtype: descr as NpyArray['dtype'], data };
}

export function readNpy(path: string): NpyArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseNpy(buf, path);
}

/** Read a 2-D NPY file as a Matrix (a 1-D array becomes one column). */
export function readNpyMatrix(path: string): Matrix {
  const a = readNpy(path);
  if (a.shape.length === 1) return { rows: a.shape[0]!, cols: 1, data: a.data };
  if (a.shape.length !== 2) throw new InputError(`${path}: expected a 2-D array, got shape (${a.shape.join(', ')})`);
  return { rows: a.shape[0]!, cols: a.shape[1]!, data: a.data };
}

export type NpyWriteDtype = '<f8' | '<f4' | '<i8';

function npyHeader(shape: number[], dtype: NpyWriteDtype): Buffer {
  const shapeText = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${shapeText}), }`;
  // Pad so that the data starts on a 64-byte boundary, as numpy does.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  MAGIC.forEach((b, i) => (head[i] = b));
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1')]);
}

/** Little-endian bytes of data[from, to) in `dtype`, written into `out` (which must be large enough). */
function encodeRange(data: ArrayLike<number>, from: number, to: number, dtype: NpyWriteDtype, out: Buffer): number {
  const w = dtype === '<f4' ? 4 : 8;
  for (let i = from, o = 0; i < to; i++, o += w) {
    if (dtype === '<f8') out.writeDoubleLE(data[i]!, o);
    else if (dtype === '<f4') out.writeFloatLE(data[i]!, o);
    else out.writeBigInt64LE(BigInt(Math.round(data[i]!)), o);
  }
  return (to - from) * w;
}

export function encodeNpy(data: ArrayLike<number>, shape: number[], dtype: NpyWriteDtype = '<f8'): Buffer {
  const body = Buffer.alloc(data.length * (dtype === '<f4' ? 4 : 8));
  encodeRange(data, 0, data.length, dtype, body);
  return Buffer.concat([npyHeader(shape, dtype), body]);
}

/** Values per write when streaming a large array to disk (8 MB of float64). */
const WRITE_CHUNK = 1 << 20;

/**
 * Write an array as NPY, in chunks (a 100,000 × 1,000 representation is never encoded whole in
 * memory) under a temporary name renamed when complete. Float32 storage is written as '<f4'
 * unless a dtype is given.
 */
export function writeNpy(path: string, m: StoredMatrix | { data: ArrayLike<number>; shape: number[] }, dtype?: NpyWriteDtype): void {
  const shape = 'shape' in m ? m.shape : [m.rows, m.cols];
  const dt: NpyWriteDtype = dtype ?? (m.data instanceof Float32Array ? '<f4' : '<f8');
  const data = m.data;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    writeSync(fd, npyHeader(shape, dt));
    const buf = Buffer.alloc(Math.min(data.length, WRITE_CHUNK) * 8);
    for (let i = 0; i < data.length; i += WRITE_CHUNK) {
      const bytes = encodeRange(data, i, Math.min(data.length, i + WRITE_CHUNK), dt, buf);
      writeSync(fd, buf, 0, bytes);
    }
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}
