/**
 * The Profiles type: one contiguous row-major Float64Array of features plus typed metadata
 * columns beside it — no object per cell. Every stage reads and returns this shape.
 */
import type { Matrix, StoredMatrix } from '../linalg/matrix.js';
import { takeRows } from '../linalg/matrix.js';
import { InputError } from '../util/errors.js';

export type MetaColumn =
  | { readonly name: string; readonly kind: 'string'; readonly values: (string | null)[] }
  | { readonly name: string; readonly kind: 'number'; readonly values: Float64Array };

/**
 * M is the feature storage: float64 `Matrix` everywhere, except that `run` can hold its one big
 * table as float32 (`StoredMatrix`, readProfiles' `precision: 'float32'`).
 */
export interface Profiles<M extends StoredMatrix = Matrix> {
  /** Feature names, one per column of X. */
  readonly features: string[];
  /** rows × features, row-major. NaN marks a missing value. */
  readonly X: M;
  /** Metadata columns, each with one value per row. */
  readonly meta: MetaColumn[];
  /** Where the table came from (used in error messages). */
  readonly source?: string;
}

/** Something phenomap removed, with the reason: never silently lost. */
export interface Dropped {
  readonly kind: 'row' | 'feature';
  /** Feature name, or row index (0-based, in the input table) as a string. */
  readonly name: string;
  readonly reason: string;
}

export function nRows(p: Profiles<StoredMatrix>): number {
  return p.X.rows;
}

export function findMeta(p: Profiles<StoredMatrix>, name: string): MetaColumn | undefined {
  return p.meta.find((c) => c.name === name);
}

/** The named metadata column, or an InputError naming the file and listing what exists. */
export function getMeta(p: Profiles<StoredMatrix>, name: string): MetaColumn {
  const col = findMeta(p, name);
  if (!col) {
    const names = p.meta.map((c) => c.name);
    const shown = names.slice(0, 12).join(', ') + (names.length > 12 ? `, … (${names.length} in all)` : '');
    throw new InputError(`${p.source ?? 'profiles'}: no metadata column "${name}" (have: ${shown || 'none'})`);
  }
  return col;
}

/** Metadata values as strings (numbers formatted; missing → null). */
export function metaStrings(p: Profiles<StoredMatrix>, name: string): (string | null)[] {
  const col = getMeta(p, name);
  return columnStrings(col);
}

export function columnStrings(col: MetaColumn): (string | null)[] {
  if (col.kind === 'string') return col.values;
  return Array.from(col.values, (v) => (Number.isNaN(v) ? null : String(v)));
}

/** Value of a metadata cell as a string (null when missing). */
export function cellString(col: MetaColumn, i: number): string | null {
  if (col.kind === 'string') return col.values[i] ?? null;
  const v = col.values[i]!;
  return Number.isNaN(v) ? null : String(v);
}

export function subsetMetaColumn(col: MetaColumn, idx: ArrayLike<number>): MetaColumn {
  if (col.kind === 'string') {
    const v: (string | null)[] = new Array(idx.length);
    for (let r = 0; r < idx.length; r++) v[r] = col.values[idx[r]!] ?? null;
    return { name: col.name, kind: 'string', values: v };
  }
  const v = new Float64Array(idx.length);
  for (let r = 0; r < idx.length; r++) v[r] = col.values[idx[r]!]!;
  return { name: col.name, kind: 'number', values: v };
}

/** Keep the given rows (in order), features and metadata alike. */
export function subsetRows<M extends StoredMatrix>(p: Profiles<M>, idx: ArrayLike<number>): Profiles<M> {
  return {
    features: p.features,
    X: takeRows(p.X, idx),
    meta: p.meta.map((c) => subsetMetaColumn(c, idx)),
    source: p.source,
  };
}

/** Same rows and metadata, new feature matrix (e.g. after normalisation or selection). */
export function withFeatures(p: Profiles, X: Matrix, features: string[]): Profiles {
  if (X.rows !== p.X.rows) throw new RangeError(`withFeatures: ${X.rows} rows, profiles have ${p.X.rows}`);
  if (X.cols !== features.length) throw new RangeError(`withFeatures: ${X.cols} columns, ${features.length} names`);
  return { features, X, meta: p.meta, source: p.source };
}

/** Add or replace a metadata column. */
export function withMeta<M extends StoredMatrix>(p: Profiles<M>, col: MetaColumn): Profiles<M> {
  const meta = p.meta.filter((c) => c.name !== col.name);
  meta.push(col);
  return { ...p, meta };
}
