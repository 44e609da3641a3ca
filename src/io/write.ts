/**
 * Writing Profiles as CSV, CSV.gz, TSV(.gz) or Parquet (chosen by extension): metadata columns
 * first, then features, as pycytominer writes them. Text is streamed row block by row block
 * (numbers in JS's shortest round-trip form, so a write → read cycle is exact); Parquet goes
 * through DuckDB's COPY from such a text file. Everything lands under a temporary name and is
 * renamed when complete (withAtomicPath): a failed write leaves no partial file.
 */
import { createWriteStream, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Profiles } from './profiles.js';
import { withAtomicPath } from '../util/atomic.js';
import { fileKind } from './text.js';
import { ident, lit, withDuckOn } from './duck.js';
import { InputError } from '../util/errors.js';

function quoteField(s: string, delim: string): string {
  if (s === '') return '""';
  if (s.includes(delim) || s.includes('"') || s.includes('\n') || s.includes('\r') || s !== s.trim()) {
    return `"${s.replace(/"/g, '""')}"`;
  }
  return s;
}

function formatNumber(v: number): string {
  if (v !== v) return '';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v);
}

async function writeText(path: string, p: Profiles, delim: string, gzip: boolean): Promise<void> {
  const file = createWriteStream(path);
  let out: Writable = file;
  if (gzip) {
    const gz = createGzip({ level: 6 });
    gz.pipe(file);
    out = gz;
  }
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const names = [...p.meta.map((m) => m.name), ...p.features];
  await write(names.map((n) => quoteField(n, delim)).join(delim) + '\n');
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
  const BLOCK = 1024;
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(rows, r0 + BLOCK);
    let chunk = '';
    for (let i = r0; i < r1; i++) {
      let line = '';
      for (let c = 0; c < nMeta; c++) line += (c > 0 ? delim : '') + cell(c, i);
      const o = i * cols;
      for (let j = 0; j < cols; j++) line += (nMeta + j > 0 ? delim : '') + formatNumber(data[o + j]!);
      chunk += line + '\n';
    }
    await write(chunk);
  }
  out.end();
  await finished(file);
}

/**
 * DuckDB renames a column whose name differs from an earlier one only by case (LINCS:
 * Metadata_plate_map_name / Metadata_Plate_Map_Name → …_1), so the exact names also go into the
 * file's key-value metadata, which readProfiles prefers.
 */
export const PARQUET_NAMES_KEY = 'phenomap:columns';

async function writeParquet(path: string, p: Profiles): Promise<void> {
  const csv = `${path}.csv`;
  try {
    await writeText(csv, p, ',', false);
    const cols = [
      ...p.meta.map((m) => [m.name, m.kind === 'number' ? 'DOUBLE' : 'VARCHAR'] as const),
      ...p.features.map((f) => [f, 'DOUBLE'] as const),
    ];
    // Positional names in DuckDB (its identifiers are case-insensitive; LINCS has names that
    // differ only by case), aliased back to the real names in the Parquet schema.
    const struct = `{${cols.map(([, t], i) => `'c${i}': ${lit(t)}`).join(', ')}}`;
    const src =
      `read_csv(${lit(csv)}, header=true, delim=',', quote='"', escape='"', auto_detect=false, ` +
      `nullstr='', columns=${struct})`;
    const select = cols.map(([n], i) => `c${i} AS ${ident(n)}`).join(', ');
    await withDuckOn(path, 'write this Parquet file', cols.length, async (con) => {
      await con.run(`COPY (SELECT ${select} FROM ${src}) TO ${lit(path)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 16384, KV_METADATA {${lit(PARQUET_NAMES_KEY)}: ${lit(JSON.stringify(cols.map(([n]) => n)))}})`);
    });
  } finally {
    rmSync(csv, { force: true });
  }
}

/** Write profiles to CSV, CSV.gz, TSV, TSV.gz or Parquet, by the file's extension. */
export async function writeProfiles(path: string, profiles: Profiles): Promise<void> {
  const kind = fileKind(path);
  const names = new Set<string>();
  for (const n of [...profiles.meta.map((m) => m.name), ...profiles.features]) {
    if (names.has(n)) throw new InputError(`${path}: cannot write two columns named "${n}"`);
    names.add(n);
  }
  await withAtomicPath(path, async (tmp) => {
    if (kind.format === 'parquet') await writeParquet(tmp, profiles);
    else await writeText(tmp, profiles, kind.format === 'tsv' ? '\t' : ',', kind.gzip);
  });
}
