/**
 * Parity tests assert a bound; docs/parity.md quotes the difference actually measured. With
 * PHENOMAP_PARITY_LOG=FILE set, `recordParity` appends one JSON line per comparison to FILE (the
 * test's own measurement, the same number its assertion checks), so the table can be refreshed:
 *
 *   PHENOMAP_PARITY_LOG=/tmp/parity.jsonl npx vitest run test/evaluate/copairs-parity.test.ts \
 *     test/preprocess/pycytominer-issue23.test.ts test/cells/parity.test.ts
 *
 * Without the variable it does nothing.
 */
import { appendFileSync } from 'node:fs';
import { expect } from 'vitest';

export interface ParityRecord {
  /** What was compared (operation and data). */
  what: string;
  /**
   * 'abs' |a − b|; 'rel' |a − b| / max(|a|, |b|); 'scaled' |a − b| / max(1, |b|) (absolute below
   * 1, relative above); 'count' of disagreements.
   */
  kind: 'abs' | 'rel' | 'scaled' | 'count';
  /** Largest difference measured. */
  max: number;
  /** Values compared. */
  n: number;
  /** Where the largest difference is, when the test knows. */
  worst?: string;
}

export function recordParity(rec: ParityRecord): void {
  const file = process.env.PHENOMAP_PARITY_LOG;
  if (!file) return;
  const test = expect.getState().currentTestName ?? '';
  const testPath = expect.getState().testPath ?? '';
  appendFileSync(file, JSON.stringify({ ...rec, test, file: testPath.replace(/^.*?\/test\//, 'test/') }) + '\n');
}

/** Largest |a − b| over pairs, and how many pairs were compared. */
export class MaxDiff {
  max = 0;
  n = 0;
  add(a: number, b: number): number {
    const d = Math.abs(a - b);
    if (d > this.max) this.max = d;
    this.n++;
    return d;
  }
}
