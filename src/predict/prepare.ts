/**
 * From a profile table and an activity source to the inputs of the activity models, with an
 * account of every row, feature, cell and assay left out (the `phenomap predict` commands use it):
 *  1. optional averaging of rows per stratum (e.g. compound + dose → one consensus row);
 *  2. features with a missing value in any row are dropped (the models need finite inputs);
 *  3. the activity cells: a long / MatrixMarket table matched to the profiles by compound id, or a
 *     metadata label column turned into one-vs-rest assays (label-assays.ts); values are
 *     binarised at `threshold` (value ≥ threshold = active);
 *  4. rows with no observed cell are dropped (missing is unknown, not inactive);
 *  5. assays with fewer than `minPositiveCompounds` active or `minNegativeCompounds` inactive
 *     compounds are dropped (listed with their counts);
 *  6. the cell-count column, when the table has one (features first, then numeric metadata),
 *     is kept for the cell-count-only baseline.
 */
import { type Matrix, zeros, takeCols, takeRows } from '../linalg/index.js';
import { type Profiles, type MetaColumn, metaStrings, withFeatures } from '../io/profiles.js';
import { aggregate } from '../preprocess/aggregate.js';
import { InputError } from '../util/errors.js';
import { buildActivityMatrix, type ActivityRecord, type ActivityTableReport } from './activity-table.js';
import { findCellCountColumn } from './baselines.js';
import { labelAssayRecords, positiveCompounds, type LabelAssayReport } from './label-assays.js';
import type { ActivityMatrix, DuplicatePolicy } from './sparse.js';

export type ActivitySource =
  | { kind: 'table'; records: readonly ActivityRecord[]; duplicates?: DuplicatePolicy }
  | { kind: 'labels'; column: string; separator?: string; exclude?: readonly string[] };

export interface PrepareOptions {
  /** Compound column: CV folds keep its rows together; positives are counted in its distinct values. */
  groupCol: string;
  /** Column matched against the activity table's compound names (default groupCol). */
  idCol?: string;
  /** Average the rows of each combination of these columns first (e.g. compound, dose). */
  aggregate?: readonly string[];
  activity: ActivitySource;
  /** Value ≥ threshold is active (default 0.5). */
  threshold?: number;
  /** Assays need at least this many active compounds (default 2) … */
  minPositiveCompounds?: number;
  /** … and this many inactive ones (default 2). */
  minNegativeCompounds?: number;
  /** Name of a cell-count column (default: detected by findCellCountColumn; '' disables it). */
  cellCountCol?: string;
}

export interface DroppedAssay {
  assay: string;
  positiveCompounds: number;
  negativeCompounds: number;
}

export interface PreparedActivity {
  X: Matrix;
  features: string[];
  /** Per row: compound id (idCol) and CV group (groupCol). */
  ids: string[];
  groups: string[];
  /** Binary (0/1) observed cells, rows aligned with X, columns = assays. */
  Y: ActivityMatrix;
  assays: string[];
  positiveCompounds: Int32Array;
  cellCount: { name: string; X: Matrix } | null;
  report: {
    rowsIn: number;
    rowsAfterAggregate: number;
    rowsWithoutCells: number;
    rowsWithoutId: number;
    droppedFeatures: string[];
    table: ActivityTableReport;
    labels: LabelAssayReport | null;
    droppedAssays: DroppedAssay[];
  };
}

/** Append a numeric metadata column as an extra feature column (so aggregation averages it too). */
function appendFeature(p: Profiles, col: Extract<MetaColumn, { kind: 'number' }>, name: string): Profiles {
  const { rows, cols, data } = p.X;
  const X = zeros(rows, cols + 1);
  for (let i = 0; i < rows; i++) {
    X.data.set(data.subarray(i * cols, (i + 1) * cols), i * (cols + 1));
    X.data[i * (cols + 1) + cols] = col.values[i]!;
  }
  return withFeatures(p, X, [...p.features, name]);
}

const CELL_COUNT_FEATURE = '__phenomap_cell_count__';

export function prepareActivityData(profiles: Profiles, opts: PrepareOptions): PreparedActivity {
  const src = profiles.source ?? 'profiles';
  const idCol = opts.idCol ?? opts.groupCol;
  const threshold = opts.threshold ?? 0.5;
  const rowsIn = profiles.X.rows;
  // Cell count: a feature stays one; a numeric metadata column rides along as an extra feature.
  let p = profiles;
  let cellName: string | null = null;
  let cellIsExtra = false;
  if (opts.cellCountCol !== '') {
    const names = [...p.features, ...p.meta.filter((m) => m.kind === 'number').map((m) => m.name)];
    const found = opts.cellCountCol ? { name: opts.cellCountCol } : findCellCountColumn(names);
    if (found) {
      cellName = found.name;
      if (!p.features.includes(found.name)) {
        const col = p.meta.find((m) => m.name === found.name);
        if (!col) throw new InputError(`${src}: no cell-count column "${found.name}"`);
        if (col.kind !== 'number') throw new InputError(`${src}: cell-count column "${found.name}" is not numeric`);
        p = appendFeature(p, col, CELL_COUNT_FEATURE);
        cellIsExtra = true;
      }
    }
  }
  for (const c of [opts.groupCol, idCol]) metaStrings(p, c); // names the missing column
  if (opts.aggregate?.length) p = aggregate(p, { strata: [...opts.aggregate], operation: 'mean' }).profiles;
  const rowsAfterAggregate = p.X.rows;
  // Features with a missing value anywhere are dropped (reported), never imputed silently.
  const { rows: n, cols: d, data } = p.X;
  const bad = new Uint8Array(d);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) if (!Number.isFinite(data[i * d + f]!)) bad[f] = 1;
  const keep: number[] = [];
  const droppedFeatures: string[] = [];
  for (let f = 0; f < d; f++) {
    if (!bad[f]) keep.push(f);
    else if (p.features[f] !== CELL_COUNT_FEATURE) droppedFeatures.push(p.features[f]!);
  }
  if (cellName && bad[p.features.indexOf(cellIsExtra ? CELL_COUNT_FEATURE : cellName)]) {
    throw new InputError(`${src}: cell-count column "${cellName}" has missing values`);
  }
  const idsAll = metaStrings(p, idCol), groupsAll = metaStrings(p, opts.groupCol);
  const ids = idsAll.map((v) => v ?? '');
  const rowsWithoutId = ids.filter((v) => v === '').length;
  let labels: LabelAssayReport | null = null;
  let built: ReturnType<typeof buildActivityMatrix>;
  if (opts.activity.kind === 'labels') {
    const la = labelAssayRecords(idsAll, metaStrings(p, opts.activity.column), { separator: opts.activity.separator, exclude: opts.activity.exclude });
    labels = la.report;
    built = buildActivityMatrix(la.records, ids, { assays: la.assays });
  } else {
    built = buildActivityMatrix(opts.activity.records, ids, { duplicates: opts.activity.duplicates ?? 'mean', threshold });
  }
  const table = built.report;
  // Rows without a compound id can't carry cells ('' never matches a record: records have names).
  const Yb = built.Y.binarize(threshold);
  const withCells: number[] = [];
  for (let i = 0; i < Yb.rows; i++) if (Yb.rowNnz(i) > 0 && ids[i] !== '') withCells.push(i);
  if (withCells.length === 0) throw new InputError(`${src}: no profile row has an activity value (check the compound id column "${idCol}")`);
  const groups = withCells.map((i) => groupsAll[i] ?? `row${i}`);
  const Yrows = Yb.subsetRows(withCells);
  const posC = positiveCompounds(Yrows, groups, 0.5);
  const negC = new Int32Array(Yrows.cols);
  // Inactive compounds: distinct groups with a 0 cell in the assay.
  for (let j = 0; j < Yrows.cols; j++) {
    const seen = new Set<string>();
    for (let k = Yrows.colPtr[j]!; k < Yrows.colPtr[j + 1]!; k++) if (Yrows.colVal[k]! < 0.5) seen.add(groups[Yrows.colRow[k]!]!);
    negC[j] = seen.size;
  }
  const minPos = opts.minPositiveCompounds ?? 2, minNeg = opts.minNegativeCompounds ?? 2;
  const keptAssays: number[] = [];
  const droppedAssays: DroppedAssay[] = [];
  for (let j = 0; j < Yrows.cols; j++) {
    if (posC[j]! >= minPos && negC[j]! >= minNeg) keptAssays.push(j);
    else droppedAssays.push({ assay: built.assays[j]!, positiveCompounds: posC[j]!, negativeCompounds: negC[j]! });
  }
  if (keptAssays.length === 0) {
    throw new InputError(`${src}: no assay has ≥ ${minPos} active and ≥ ${minNeg} inactive compounds (${Yrows.cols} assays before filtering)`);
  }
  let Y = Yrows.subsetCols(keptAssays);
  // Assay filtering can leave rows without cells: drop them too.
  const stillObserved: number[] = [];
  for (let r = 0; r < Y.rows; r++) if (Y.rowNnz(r) > 0) stillObserved.push(r);
  const rows = stillObserved.map((r) => withCells[r]!);
  Y = Y.subsetRows(stillObserved);
  const featIdx = keep.filter((f) => p.features[f] !== CELL_COUNT_FEATURE);
  const Xall = takeRows(p.X, rows);
  const X = takeCols(Xall, featIdx);
  const cellCount = cellName ? { name: cellName, X: takeCols(Xall, [p.features.indexOf(cellIsExtra ? CELL_COUNT_FEATURE : cellName)]) } : null;
  return {
    X,
    features: featIdx.map((f) => p.features[f]!),
    ids: rows.map((i) => ids[i]!),
    groups: stillObserved.map((r) => groups[r]!),
    Y,
    assays: keptAssays.map((j) => built.assays[j]!),
    positiveCompounds: Int32Array.from(keptAssays, (j) => posC[j]!),
    cellCount,
    report: {
      rowsIn, rowsAfterAggregate, rowsWithoutCells: rowsAfterAggregate - rows.length, rowsWithoutId,
      droppedFeatures, table, labels, droppedAssays,
    },
  };
}
