/** Minimal RFC-4180 CSV reader for the small parity-fixture tables (quoted fields, no embedded newlines). */
import { readFileSync } from 'node:fs';
import { splitLine } from '../../src/io/text.js';

/** One CSV line split with the library's own quoting rules. */
export function parseCsvLine(line: string): string[] {
  return splitLine(line, ',');
}

/** Header + rows as records of strings. */
export function readCsvRecords(path: string): Record<string, string>[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const header = parseCsvLine(lines[0]!);
  return lines.slice(1).map((l) => {
    const f = parseCsvLine(l);
    const r: Record<string, string> = {};
    header.forEach((h, i) => (r[h] = f[i] ?? ''));
    return r;
  });
}
