/**
 * Text cells of the CSV/TSV files phenomap writes, safe to open in a spreadsheet: a cell that
 * starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a formula (OWASP "CSV
 * injection"), so it gets a leading `'`, which spreadsheets show as nothing. Numbers written as text
 * ("-0.5", "+3", "-inf") are left as they are. `--raw-text` (setRawText) turns this off for tools
 * that need the bytes exactly.
 */
let raw = false;

export function setRawText(on: boolean): void {
  raw = on;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:inf|infinity|nan)$/i;

export function spreadsheetSafe(s: string): string {
  if (raw || s.length === 0) return s;
  const c = s.charCodeAt(0);
  if (c !== 61 && c !== 43 && c !== 45 && c !== 64 && c !== 9 && c !== 13) return s;
  if ((c === 43 || c === 45) && NUMBER.test(s)) return s;
  return `'${s}`;
}

/** Undo spreadsheetSafe when reading phenomap's own CSV outputs back (run folders). */
export function fromSpreadsheetSafe(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 39) return s;
  const c = s.charCodeAt(1);
  return c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13 ? s.slice(1) : s;
}
