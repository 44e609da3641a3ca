/**
 * Finding single-cell sources on disk: SQLite files, single-cell Parquet files and
 * ExportToSpreadsheet folders (a folder holding `Image.csv`), given as files, folders (searched
 * recursively) or glob patterns; and the header line of a CSV without reading the whole file.
 */
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import picomatch from 'picomatch';
import { InputError } from '../util/errors.js';

export type SourceKind = 'sqlite' | 'parquet' | 'folder';

export interface FoundSource {
  readonly kind: SourceKind;
  /** The file, or the folder holding Image.csv. */
  readonly path: string;
}

const SQLITE_EXT = /\.(sqlite3?|db)$/i;
const PARQUET_EXT = /\.(parquet|pq)$/i;
const GLOB_CHARS = /[*?[\]{}]/;

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function kindOfFile(p: string): SourceKind | null {
  if (SQLITE_EXT.test(p)) return 'sqlite';
  if (PARQUET_EXT.test(p)) return 'parquet';
  return null;
}

/** Every source below a folder (the folder itself when it holds Image.csv), in path order. */
function walk(dir: string, out: FoundSource[], depth: number): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new InputError(`${dir}: cannot list the folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (entries.some((e) => e.isFile() && e.name === 'Image.csv')) {
    out.push({ kind: 'folder', path: dir });
    return;
  }
  const objectCsv = entries.find((e) => e.isFile() && /^(Cells|Cytoplasm|Nuclei)\.csv$/.test(e.name));
  if (objectCsv) {
    throw new InputError(`${dir}: has ${objectCsv.name} but no Image.csv, so its objects belong to no known image, plate or well`);
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isFile()) {
      const k = kindOfFile(e.name);
      if (k) out.push({ kind: k, path: p });
    } else if (e.isDirectory() && depth < 8 && !e.name.startsWith('.')) {
      walk(p, out, depth + 1);
    }
  }
}

function expandGlob(pattern: string): string[] {
  const scan = picomatch.scan(pattern);
  const base = scan.base === '' ? '.' : scan.base;
  const match = picomatch(resolve(pattern), { dot: false });
  const hits: string[] = [];
  const visit = (dir: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (match(resolve(p))) hits.push(p);
      if (e.isDirectory() && depth < 12) visit(p, depth + 1);
    }
  };
  visit(base, 0);
  return hits.sort();
}

/**
 * The sources named by command-line arguments: files, folders (searched recursively for
 * SQLite/Parquet files and Image.csv folders) and glob patterns. An argument that finds
 * nothing is an error naming it.
 */
export function findSources(args: readonly string[]): FoundSource[] {
  if (args.length === 0) throw new InputError('no single-cell source given (a .sqlite file, a .parquet file, or a folder of CellProfiler CSVs)');
  const out: FoundSource[] = [];
  const seen = new Set<string>();
  const add = (s: FoundSource): void => {
    const key = resolve(s.path);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(s);
  };
  for (const arg of args) {
    const globbed = GLOB_CHARS.test(arg) && !existsPath(arg);
    const paths = globbed ? expandGlob(arg) : [arg];
    if (paths.length === 0) throw new InputError(`${arg}: the pattern matches no file or folder`);
    const found: FoundSource[] = [];
    for (const p of paths) {
      if (isDir(p)) walk(p, found, 0);
      else if (!existsPath(p)) throw new InputError(`${p}: file or folder not found`);
      else {
        const k = kindOfFile(p);
        if (k) found.push({ kind: k, path: p });
        else if (basename(p) === 'Image.csv') found.push({ kind: 'folder', path: resolve(p, '..') });
        else if (!globbed) {
          throw new InputError(`${p}: not a single-cell source (expected a .sqlite/.db file, a .parquet file, or a folder with Image.csv)`);
        }
      }
    }
    if (!found.length) throw new InputError(`${arg}: no single-cell source found there (no .sqlite, .parquet or folder with Image.csv)`);
    found.forEach(add);
  }
  return out;
}

function existsPath(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

const headerBuf = Buffer.alloc(1 << 16);

/** The first line of a text file (without its line ending and BOM), reading only as far as it. */
export function headerLine(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const parts: Buffer[] = [];
    let pos = 0;
    for (;;) {
      const n = readSync(fd, headerBuf, 0, headerBuf.length, pos);
      if (n <= 0) break;
      const nl = headerBuf.subarray(0, n).indexOf(10);
      if (nl >= 0) {
        parts.push(Buffer.from(headerBuf.subarray(0, nl)));
        break;
      }
      parts.push(Buffer.from(headerBuf.subarray(0, n)));
      pos += n;
    }
    return Buffer.concat(parts).toString('utf8').replace(/\r$/, '').replace(/^\uFEFF/, '');
  } finally {
    closeSync(fd);
  }
}
