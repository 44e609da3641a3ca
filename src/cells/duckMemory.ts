/**
 * DuckDB's memory limit while reading single cells: a CSV of a few thousand columns needs more
 * than the small default that suits profile tables, and the reader's own buffers are small
 * (one well), so DuckDB may take a quarter of the machine (PHENOMAP_DUCKDB_MEMORY overrides).
 */
import { totalmem } from 'node:os';

export function cellsDuckMemory(): string {
  const env = process.env.PHENOMAP_DUCKDB_MEMORY;
  if (env) return env;
  const mb = Math.max(1024, Math.floor(totalmem() / 4 / 2 ** 20));
  return `${mb}MB`;
}
