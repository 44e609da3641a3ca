/**
 * From a long activity table (compound, assay, value) to an ActivityMatrix whose rows are the
 * profile rows, with an account of everything that did not fit (issue 6 "Bad input"): compounds
 * absent from the profiles (counted, not fatal), missing or non-numeric values (counted, skipped),
 * duplicate (compound, assay) cells (aggregated by the chosen policy and counted), and assays with
 * one class only (listed; they cannot be scored).
 * Values: numbers, or the words active/inactive, true/false, yes/no (→ 1/0), case-insensitive.
 * When several profile rows carry the same compound id (replicates), each of them gets the cells.
 */
import { InputError } from '../util/errors.js';
import { ActivityMatrix, type DuplicatePolicy } from './sparse.js';

import type { ActivityRecord } from '../io/activity.js';

export type { ActivityRecord };

export interface ActivityTableReport {
  records: number;
  /** Records that became cells (before duplicate aggregation). */
  used: number;
  /** Distinct compounds of the table that have no profile row. */
  missingCompounds: number;
  missingCompoundExamples: string[];
  /** Records dropped because their compound has no profile row. */
  recordsWithoutProfile: number;
  /** Empty / NA values. */
  missingValues: number;
  nonNumeric: number;
  nonNumericExamples: { record: number; value: string }[];
  duplicatesMerged: number;
  assays: number;
  /** Assays whose observed values (≥ threshold = active) hold one class only. */
  singleClassAssays: string[];
}

const WORDS: Record<string, number> = { active: 1, inactive: 0, true: 1, false: 0, yes: 1, no: 0 };
const MISSING = new Set(['', 'na', 'nan', 'null', 'none', 'n/a']);

export function parseActivityValue(v: string | number | null | undefined): number | 'missing' | 'invalid' {
  if (v === null || v === undefined) return 'missing';
  if (typeof v === 'number') return Number.isFinite(v) ? v : Number.isNaN(v) ? 'missing' : 'invalid';
  const s = v.trim().toLowerCase();
  if (MISSING.has(s)) return 'missing';
  if (s in WORDS) return WORDS[s]!;
  const x = Number(s);
  return Number.isFinite(x) ? x : 'invalid';
}

export function buildActivityMatrix(
  records: readonly ActivityRecord[],
  compounds: readonly string[],
  opts: { duplicates?: DuplicatePolicy; threshold?: number; assays?: readonly string[] } = {},
): { Y: ActivityMatrix; assays: string[]; report: ActivityTableReport } {
  const rowsOf = new Map<string, number[]>();
  compounds.forEach((c, i) => {
    const a = rowsOf.get(c);
    if (a) a.push(i);
    else rowsOf.set(c, [i]);
  });
  const assays = opts.assays ? [...opts.assays] : [];
  const assayIndex = new Map<string, number>(assays.map((a, j) => [a, j]));
  const missing = new Set<string>();
  const report: ActivityTableReport = {
    records: records.length, used: 0, missingCompounds: 0, missingCompoundExamples: [], recordsWithoutProfile: 0,
    missingValues: 0, nonNumeric: 0, nonNumericExamples: [], duplicatesMerged: 0, assays: 0, singleClassAssays: [],
  };
  const r: number[] = [], c: number[] = [], v: number[] = [];
  records.forEach((rec, t) => {
    const val = parseActivityValue(rec.value);
    if (val === 'missing') { report.missingValues++; return; }
    if (val === 'invalid') {
      report.nonNumeric++;
      if (report.nonNumericExamples.length < 5) report.nonNumericExamples.push({ record: t, value: String(rec.value) });
      return;
    }
    const rows = rowsOf.get(rec.compound);
    if (!rows) { missing.add(rec.compound); report.recordsWithoutProfile++; return; }
    let j = assayIndex.get(rec.assay);
    if (j === undefined) {
      if (opts.assays) throw new InputError(`activity table: assay "${rec.assay}" (record ${t}) is not among the requested assays`);
      j = assays.length;
      assays.push(rec.assay);
      assayIndex.set(rec.assay, j);
    }
    for (const i of rows) { r.push(i); c.push(j); v.push(val); }
    report.used++;
  });
  report.missingCompounds = missing.size;
  report.missingCompoundExamples = [...missing].slice(0, 5);
  const Y = ActivityMatrix.fromCOO(compounds.length, assays.length, r, c, v, { duplicates: opts.duplicates ?? 'mean' });
  // Counted per profile row: a repeated record of a compound with r replicate rows counts r times.
  report.duplicatesMerged = Y.duplicatesMerged;
  report.assays = assays.length;
  const { pos, neg } = Y.classCounts(opts.threshold ?? 0.5);
  for (let j = 0; j < assays.length; j++) if (pos[j] === 0 || neg[j] === 0) report.singleClassAssays.push(assays[j]!);
  return { Y, assays, report };
}
