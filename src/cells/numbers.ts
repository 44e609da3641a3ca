/**
 * Numbers that arrive as text. SQLite stores whatever it was given: CellProfiler and
 * cytominer-database write NaN as the text "nan" in REAL columns (pycytominer issue #198), and
 * some exports store numbers as text. pycytominer reads these cells with Python's `float()`;
 * phenomap accepts the same spellings and counts them, and refuses anything else by name.
 */

const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Spellings of a missing value (pandas' defaults that CellProfiler exports use). */
const MISSING = new Set(['', 'NA', 'N/A', 'null', 'NULL', 'None']);

/**
 * The number a text cell stands for: a decimal number, nan, inf/infinity (any case, optional
 * sign), or a missing value (empty, NA, N/A, null, None). Undefined when the text is not a number.
 */
export function numberFromText(text: string): number | undefined {
  const s = text.trim();
  if (MISSING.has(s)) return NaN;
  if (DECIMAL.test(s)) return Number(s);
  const l = s.toLowerCase();
  const sign = l.startsWith('-') ? -1 : 1;
  const body = l.startsWith('-') || l.startsWith('+') ? l.slice(1) : l;
  if (body === 'nan') return NaN;
  if (body === 'inf' || body === 'infinity') return sign * Infinity;
  return undefined;
}

/** Text shortened for a message. */
export function shown(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
