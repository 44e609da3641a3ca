/**
 * The Thrift compact protocol, as far as Parquet's footer and page headers need it
 * (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md).
 * Structs are read generically into { fieldId: value } records (lists → arrays, binary →
 * Buffer, i64 → number, exact below 2⁵³) and written from [fieldId, type, value] triples.
 */

export const T = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

export type ThriftValue = number | boolean | Buffer | ThriftStruct | ThriftValue[] | Map<ThriftValue, ThriftValue>;
export interface ThriftStruct {
  [field: number]: ThriftValue;
}

export class ThriftError extends Error {}

export class ThriftReader {
  pos: number;
  constructor(readonly buf: Buffer, pos = 0) {
    this.pos = pos;
  }

  private byte(): number {
    if (this.pos >= this.buf.length) throw new ThriftError('truncated Thrift data');
    return this.buf[this.pos++]!;
  }

  varint(): number {
    let result = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) return result;
      mul *= 128;
    }
    throw new ThriftError('varint too long');
  }

  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  private value(type: number): ThriftValue {
    switch (type) {
      case T.TRUE: return true;
      case T.FALSE: return false;
      case T.BYTE: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case T.I16: case T.I32: case T.I64: return this.zigzag();
      case T.DOUBLE: {
        if (this.pos + 8 > this.buf.length) throw new ThriftError('truncated Thrift data');
        const v = this.buf.readDoubleLE(this.pos);
        this.pos += 8;
        return v;
      }
      case T.BINARY: {
        const n = this.varint();
        if (this.pos + n > this.buf.length) throw new ThriftError('truncated Thrift data');
        const b = this.buf.subarray(this.pos, this.pos + n);
        this.pos += n;
        return b;
      }
      case T.LIST: case T.SET: {
        const h = this.byte();
        let size = h >> 4;
        if (size === 15) size = this.varint();
        const et = h & 0x0f;
        const out: ThriftValue[] = new Array(size);
        for (let i = 0; i < size; i++) {
          if (et === T.TRUE || et === T.FALSE) out[i] = this.byte() === T.TRUE;
          else out[i] = this.value(et);
        }
        return out;
      }
      case T.MAP: {
        const size = this.varint();
        const m = new Map<ThriftValue, ThriftValue>();
        if (size === 0) return m;
        const kv = this.byte();
        for (let i = 0; i < size; i++) m.set(this.value(kv >> 4), this.value(kv & 0x0f));
        return m;
      }
      case T.STRUCT: return this.struct();
      default: throw new ThriftError(`unknown Thrift type ${type}`);
    }
  }

  struct(): ThriftStruct {
    const out: ThriftStruct = {};
    let last = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return out;
      const delta = h >> 4, type = h & 0x0f;
      const id = delta === 0 ? this.zigzag() : last + delta;
      out[id] = this.value(type);
      last = id;
    }
  }
}

/** A field to write: [id, type, value]; undefined values are skipped. */
export type ThriftField = [number, number, unknown];

export class ThriftWriter {
  private parts: number[] = [];
  private chunks: Buffer[] = [];

  private flush(): void {
    if (this.parts.length) {
      this.chunks.push(Buffer.from(this.parts));
      this.parts = [];
    }
  }

  varint(v: number): void {
    let x = v;
    while (x >= 128) {
      this.parts.push((x % 128) | 0x80);
      x = Math.floor(x / 128);
    }
    this.parts.push(x);
  }

  zigzag(v: number): void {
    this.varint(v >= 0 ? 2 * v : -2 * v - 1);
  }

  private value(type: number, v: unknown, elem?: number): void {
    switch (type) {
      case T.I16: case T.I32: case T.I64: this.zigzag(v as number); break;
      case T.BINARY: {
        const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : (v as Buffer);
        this.varint(b.length);
        this.flush();
        this.chunks.push(b);
        break;
      }
      case T.LIST: {
        const arr = v as unknown[];
        const et = elem!;
        if (arr.length < 15) this.parts.push((arr.length << 4) | et);
        else {
          this.parts.push(0xf0 | et);
          this.varint(arr.length);
        }
        for (const x of arr) {
          if (et === T.STRUCT) this.struct(x as ThriftField[]);
          else this.value(et, x);
        }
        break;
      }
      case T.STRUCT: this.struct(v as ThriftField[]); break;
      default: throw new ThriftError(`cannot write Thrift type ${type}`);
    }
  }

  /** A struct; list fields give their element type as a fourth item. */
  struct(fields: (ThriftField | [number, number, unknown, number])[]): void {
    let last = 0;
    for (const f of fields) {
      const [id, type, v, elem] = f as [number, number, unknown, number?];
      if (v === undefined) continue;
      const t = type === T.TRUE ? (v ? T.TRUE : T.FALSE) : type;
      const delta = id - last;
      if (delta > 0 && delta <= 15) this.parts.push((delta << 4) | t);
      else {
        this.parts.push(t);
        this.zigzag(id);
      }
      if (type !== T.TRUE) this.value(type, v, elem);
      last = id;
    }
    this.parts.push(0);
  }

  toBuffer(): Buffer {
    this.flush();
    return Buffer.concat(this.chunks);
  }
}
