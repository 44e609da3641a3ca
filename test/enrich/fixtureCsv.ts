/** Minimal RFC-4180 CSV reader for the small parity-fixture tables (quoted fields, no embedded newlines). */
import { readFileSync } from 'node:fs';

export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (q) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else q = false;
      } else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
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
