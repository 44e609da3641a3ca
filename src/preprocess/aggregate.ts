/**
 * Aggregate rows into one profile per stratum (e.g. plate + well, or compound + dose), as
 * pycytominer's `aggregate` (pandas groupby mean/median). Differences, on purpose:
 * groups come out in order of first appearance (pandas sorts keys), rows with a missing key form
 * their own group instead of vanishing, and the output keeps every metadata column that is
 * constant within every group (pycytominer keeps only the strata) plus a row count.
 *
 * Missing feature values are skipped per feature, as pandas does; a feature with no value in a
 * group stays missing and is counted in the report.
 */
import type { MetaColumn, Profiles } from '../io/profiles.js';
import { subsetMetaColumn } from '../io/profiles.js';
import { zeros } from '../linalg/matrix.js';
import { InputError, UsageError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import { silentReporter } from '../util/log.js';
import { gatherSorted, groupRows, medianSorted, type RowGroups } from './stats.js';

export type AggregateOperation = 'mean' | 'median';

export interface AggregateOptions {
  strata: string[];
  operation?: AggregateOperation;
  /** Name of the added count column (default 'Metadata_Object_Count', pycytominer's name for it). */
  countColumn?: string;
  reporter?: Reporter;
}

export interface AggregateReport {
  readonly operation: AggregateOperation;
  readonly strata: string[];
  readonly nRowsIn: number;
  readonly nGroups: number;
  /** Metadata columns carried over (strata first, then the constant ones). */
  readonly metadataKept: string[];
  /** Metadata columns that vary within some group and were left out. */
  readonly metadataDropped: string[];
  /** Output cells that are missing because the group had no value for that feature. */
  readonly missingCells: number;
  /** Features with at least one such missing output cell. */
  readonly featuresWithMissing: string[];
  readonly warnings: string[];
}

function cellsEqual(col: MetaColumn, i: number, j: number): boolean {
  const a = col.values[i], b = col.values[j];
  if (col.kind === 'number') return a === b || (Number.isNaN(a as number) && Number.isNaN(b as number));
  return a === b;
}

/**
 * Output metadata for grouped rows: the strata columns, then every other column constant within
 * all groups (value of the group's first row), then a count column.
 */
export function groupMetadata(p: Profiles, groups: RowGroups, countColumn: string): { meta: MetaColumn[]; kept: string[]; dropped: string[] } {
  const first = Int32Array.from(groups.rows.map((r) => r[0]!));
  const strata = new Set(groups.columns);
  const meta: MetaColumn[] = [];
  const kept: string[] = [];
  const dropped: string[] = [];
  const ordered = [...groups.columns.map((c) => p.meta.find((m) => m.name === c)!), ...p.meta.filter((m) => !strata.has(m.name))];
  for (const col of ordered) {
    if (col.name === countColumn) continue; // replaced by the new count
    let constant = true;
    if (!strata.has(col.name)) {
      outer: for (const rows of groups.rows) {
        const f = rows[0]!;
        for (let t = 1; t < rows.length; t++) {
          if (!cellsEqual(col, f, rows[t]!)) {
            constant = false;
            break outer;
          }
        }
      }
    }
    if (constant) {
      meta.push(subsetMetaColumn(col, first));
      kept.push(col.name);
    } else dropped.push(col.name);
  }
  meta.push({ name: countColumn, kind: 'number', values: Float64Array.from(groups.rows.map((r) => r.length)) });
  return { meta, kept, dropped };
}

export function aggregate(profiles: Profiles, opts: AggregateOptions): { profiles: Profiles; report: AggregateReport } {
  const operation = opts.operation ?? 'mean';
  if (operation !== 'mean' && operation !== 'median') {
    throw new UsageError(`aggregate: operation must be mean or median, got "${String(operation)}"`);
  }
  if (!opts.strata || opts.strata.length === 0) throw new UsageError('aggregate: give at least one strata column (e.g. Metadata_Plate, Metadata_Well)');
  const reporter = opts.reporter ?? silentReporter;
  const src = profiles.source ?? 'profiles';
  const { rows: n, cols: d, data } = profiles.X;
  if (n === 0) throw new InputError(`${src}: no rows to aggregate`);
  const groups = groupRows(profiles, opts.strata);
  const G = groups.rows.length;
  const out = zeros(G, d);
  const od = out.data;
  const missing = new Uint8Array(d);
  let missingCells = 0;
  if (operation === 'mean') {
    const cnt = new Float64Array(d);
    for (let g = 0; g < G; g++) {
      const rows = groups.rows[g]!;
      const o = g * d;
      cnt.fill(0);
      for (const i of rows) {
        const ri = i * d;
        for (let j = 0; j < d; j++) {
          const v = data[ri + j]!;
          if (v === v) {
            od[o + j] += v;
            cnt[j]++;
          }
        }
      }
      for (let j = 0; j < d; j++) {
        if (cnt[j]! > 0) od[o + j] /= cnt[j]!;
        else {
          od[o + j] = NaN;
          missing[j] = 1;
          missingCells++;
        }
      }
    }
  } else {
    const buf = new Float64Array(n);
    for (let g = 0; g < G; g++) {
      const rows = groups.rows[g]!;
      const o = g * d;
      for (let j = 0; j < d; j++) {
        const k = gatherSorted(data, d, j, rows, buf);
        od[o + j] = medianSorted(buf, k);
        if (k === 0) {
          missing[j] = 1;
          missingCells++;
        }
      }
    }
  }
  const countColumn = opts.countColumn ?? 'Metadata_Object_Count';
  const { meta, kept, dropped } = groupMetadata(profiles, groups, countColumn);
  const featuresWithMissing = profiles.features.filter((_, j) => missing[j]);
  const warnings: string[] = [];
  if (groups.missingKeyGroups) warnings.push(`${groups.missingKeyGroups} group(s) have a missing ${opts.strata.join('/')} value and are kept as their own group`);
  if (missingCells) {
    warnings.push(
      `${missingCells} aggregated value(s) are missing because every row of the group lacked the feature ` +
        `(${featuresWithMissing.length} feature(s), e.g. ${featuresWithMissing.slice(0, 3).join(', ')})`,
    );
  }
  for (const w of warnings) reporter.warn(w);
  const result: Profiles = { features: profiles.features, X: out, meta, source: profiles.source };
  return {
    profiles: result,
    report: { operation, strata: [...opts.strata], nRowsIn: n, nGroups: G, metadataKept: kept, metadataDropped: dropped, missingCells, featuresWithMissing, warnings },
  };
}
