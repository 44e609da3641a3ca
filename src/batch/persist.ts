/**
 * Fitted models are outputs too (style.md): a model is plain data, saved as one JSON file whose
 * large arrays go to NPY files beside it (`<name>.json` + `<name>.<path>.npy`), and read back into
 * the same shape. Typed arrays of up to 64 values stay inline in the JSON.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { encodeNpy, readNpy } from '../io/npy.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';

const INLINE = 64;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isMatrix(v: unknown): v is { rows: number; cols: number; data: Float64Array } {
  return !!v && typeof v === 'object' && (v as { data?: unknown }).data instanceof Float64Array && typeof (v as { rows?: unknown }).rows === 'number';
}

/** Write `model` to `path` (a .json file) and its large arrays beside it. Returns the files written. */
export function saveModel(path: string, model: object): string[] {
  const files: string[] = [path];
  const stem = basename(path).replace(/\.json$/, '');
  const dir = dirname(path);
  const npy = (key: string, data: Float64Array, shape: number[]): Json => {
    const file = `${stem}.${key}.npy`;
    writeFileAtomic(join(dir, file), encodeNpy(data, shape));
    files.push(join(dir, file));
    return { $npy: file, shape };
  };
  const walk = (v: unknown, key: string): Json => {
    if (v === undefined) return null;
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : { $number: String(v) };
    if (isMatrix(v)) return { $matrix: npy(key, v.data, [v.rows, v.cols]) };
    if (v instanceof Float64Array) return v.length > INLINE ? npy(key, v, [v.length]) : { $f64: Array.from(v, (x) => walk(x, key)) };
    if (v instanceof Int32Array) return { $i32: Array.from(v) };
    if (v instanceof Uint8Array) return { $u8: Array.from(v) };
    if (Array.isArray(v)) {
      // A list of equally long vectors (one per batch) goes to one NPY matrix.
      if (v.length && v.every((x) => x instanceof Float64Array && x.length === (v[0] as Float64Array).length) && (v[0] as Float64Array).length > INLINE) {
        const d = (v[0] as Float64Array).length;
        const all = new Float64Array(v.length * d);
        v.forEach((x, i) => all.set(x as Float64Array, i * d));
        return { $rows: npy(key, all, [v.length, d]) };
      }
      return v.map((x, i) => walk(x, `${key}.${i}`));
    }
    if (typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x, key ? `${key}.${k}` : k)]));
    throw new TypeError(`saveModel: cannot store a ${typeof v} at ${key}`);
  };
  const json = walk(model, '');
  writeFileAtomic(path, JSON.stringify(json) + '\n');
  return files;
}

/** Read a model written by saveModel. */
export function loadModel<T>(path: string): T {
  let json: Json;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Json;
  } catch (e) {
    throw new InputError(`${path}: not a readable model file (${(e as Error).message})`);
  }
  const dir = dirname(path);
  const walk = (v: Json): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(walk);
    if ('$npy' in v) return readNpy(join(dir, String(v.$npy))).data;
    if ('$matrix' in v) {
      const inner = v.$matrix as { $npy: string; shape: number[] };
      return { rows: inner.shape[0], cols: inner.shape[1], data: readNpy(join(dir, inner.$npy)).data };
    }
    if ('$rows' in v) {
      const inner = v.$rows as { $npy: string; shape: number[] };
      const data = readNpy(join(dir, inner.$npy)).data;
      const d = inner.shape[1]!;
      return Array.from({ length: inner.shape[0]! }, (_, i) => data.slice(i * d, (i + 1) * d));
    }
    if ('$f64' in v) return Float64Array.from((v.$f64 as Json[]).map((x) => walk(x) as number));
    if ('$i32' in v) return Int32Array.from(v.$i32 as number[]);
    if ('$u8' in v) return Uint8Array.from(v.$u8 as number[]);
    if ('$number' in v) return Number(v.$number);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  return walk(json) as T;
}
