/**
 * phenomap's SQLite extension (native/sqlite_cells.c, built by `npm ci` beside the numeric
 * kernels): a VFS under which SQLite reads overflow pages whole through its cache (this SQLite
 * build otherwise reads each value on an overflow page with its own pread) and `phenomap_f64(…)`,
 * one BLOB of doubles per row. Optional: without it (no compiler, PHENOMAP_NO_NATIVE=1) the reader
 * takes better-sqlite3's values one by one — the same numbers, slower, and much slower past the
 * first 2 GiB of a file.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// src/cells and dist/cells are both two levels below the package root.
const path = fileURLToPath(new URL('../../build/Release/phenomap_sqlite.node', import.meta.url));

let state: 'unknown' | 'loaded' | 'absent' = 'unknown';
let boot: Database.Database | null = null;

/**
 * The extension's path once its VFS is registered (process-wide, before the database is opened),
 * or null when it is not available.
 */
export function sqliteExtension(): string | null {
  if (state === 'unknown') {
    state = 'absent';
    if (process.env.PHENOMAP_NO_NATIVE !== '1' && existsSync(path)) {
      try {
        // Loading it into any connection registers the VFS as the default for later opens.
        boot = new Database(':memory:');
        boot.loadExtension(path);
        state = 'loaded';
      } catch {
        boot?.close();
        boot = null;
      }
    }
  }
  return state === 'loaded' ? path : null;
}
