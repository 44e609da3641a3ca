/**
 * What a single-cell source holds, whatever its layout: the images (with their well), and per
 * compartment the object key, the parent links and the feature columns — plus the shape of the
 * rows a reader hands over for one well. Readers build a `PlateSchema`; linking and aggregation
 * only ever see this shape.
 *
 * Column roles follow pycytominer's `SingleCells` (db0c469c): in an object table, a column whose
 * name starts (case-insensitively) with the compartment's name is a feature — including
 * `Cells_Parent_Nuclei`, `Cells_Number_Object_Number` and the `Children_*_Count` columns —
 * except the hub's parent links (`Cytoplasm_Parent_Cells`, `Cytoplasm_Parent_Nuclei`), which
 * become metadata (`Metadata_Cytoplasm_Parent_Cells`, …); the keys and anything else are metadata.
 */
import type { MetaColumn } from '../io/profiles.js';
import { InputError } from '../util/errors.js';

/** One column of a source table: its name there and its name in phenomap's output. */
export interface ColumnRef {
  readonly source: string;
  readonly name: string;
}

export interface CompartmentSchema {
  /** Compartment name as it prefixes features (`Cells`). */
  readonly name: string;
  /** Where its objects live (table or file name), for messages. */
  readonly table: string;
  /** The object's number within its image. */
  readonly objectKey: ColumnRef;
  readonly features: readonly ColumnRef[];
}

/**
 * How compartments link into cells: the hub (Cytoplasm in CellProfiler's Cell Painting
 * pipelines) names, in each of its rows, the parent object of every other compartment.
 */
export interface Linking {
  readonly hub: string;
  /** One entry per other compartment: the hub column holding that compartment's object number. */
  readonly parents: readonly { readonly compartment: string; readonly column: ColumnRef }[];
}

export interface ImageTable {
  readonly n: number;
  /** The folder (spreadsheet) or TableNumber (cytominer-database) of each image; null when the layout has none. */
  readonly tableNumber: readonly (string | null)[] | null;
  readonly imageNumber: Float64Array;
  /** Image metadata columns, already renamed to `Metadata_*`. */
  readonly meta: readonly MetaColumn[];
  /** True when the source does not identify images (single-cell Parquet without image keys). */
  readonly imagesUnknown?: boolean;
}

export interface Wells {
  /** The strata columns (e.g. Metadata_Plate, Metadata_Well). */
  readonly strata: readonly string[];
  /** Per well, its strata values (number or string as the source typed them; null = missing). */
  readonly keys: readonly (readonly (string | number | null)[])[];
  /** Per well, its image indices. */
  readonly images: readonly Int32Array[];
  /** Well of each image. */
  readonly ofImage: Int32Array;
}

export interface PlateSchema {
  /** The SOURCE as the user gave it (file or folder). */
  readonly source: string;
  readonly layout: string;
  readonly images: ImageTable;
  readonly wells: Wells;
  readonly compartments: readonly CompartmentSchema[];
  /** null when the source already holds linked cells (single-cell Parquet) or cannot be linked. */
  readonly linking: Linking | null;
  /** Why the compartments cannot be linked into cells, when they cannot. */
  readonly linkProblem?: string;
  /** Rows are cells already linked (single-cell Parquet): objects that formed no cell are gone. */
  readonly preLinked?: boolean;
}

/** One compartment's objects in one well, as a reader delivers them. */
export interface ObjectRows {
  readonly n: number;
  /** Image index (into PlateSchema.images) of each object. */
  readonly image: Int32Array;
  readonly object: Float64Array;
  /** Hub only: one array per Linking.parents entry, the parent's object number (NaN = none). */
  readonly links: readonly Float64Array[];
  /** n × features, row-major; NaN = missing. */
  readonly X: Float64Array;
}

/** The objects of one well, one ObjectRows per compartment in schema order. */
export interface WellCells {
  readonly well: number;
  readonly compartments: readonly ObjectRows[];
}

/** What a reader counted while reading (summed over wells and plates in the report). */
export interface ReadCounts {
  /** Numeric cells stored as text that were read as numbers ("nan", "inf", "1.5"), per table. */
  textNumbers: Record<string, number>;
  /** Objects whose image is not in the image table, per table (dropped). */
  orphanObjects: Record<string, number>;
  /** Object files that are empty (0 bytes) although their folder has an image table. */
  emptyFiles: string[];
  /**
   * Which reader decoded each SQLite object table's rows: "direct" (phenomap's record reader,
   * sqlite_records.c) or "sqlite" followed by why the direct reader was not used.
   */
  rowReaders: Record<string, string>;
}

export function emptyCounts(): ReadCounts {
  return { textNumbers: {}, orphanObjects: {}, emptyFiles: [], rowReaders: {} };
}

export function addCount(rec: Record<string, number>, key: string, n: number): void {
  if (n) rec[key] = (rec[key] ?? 0) + n;
}

/** A source of single cells: its schema, and its objects delivered well by well. */
export interface PlateSource {
  readonly schema: PlateSchema;
  readonly counts: ReadCounts;
  /** The objects of the given wells (all when omitted), in any order; one well at a time in memory. */
  wells(which?: readonly number[]): AsyncIterable<WellCells>;
  /** Objects per compartment when known without reading them all (null otherwise). */
  objectCounts(): Record<string, number> | null;
  /** Objects per well (all compartments) when known before reading (SQLite's key scan). */
  wellWeights?(): Float64Array;
  close(): void;
}

// ---------------------------------------------------------------------------------------------

/** `Image_Metadata_X` → `Metadata_X`; `Metadata_X` stays; anything else is not image metadata. */
export function imageMetadataName(column: string, all: ReadonlySet<string>): string | null {
  if (column.startsWith('Metadata_')) return column;
  if (column.startsWith('Image_Metadata_')) {
    const short = column.slice('Image_'.length);
    return all.has(short) ? column : short;
  }
  return null;
}

/** The prefix test pycytominer uses for features: the name starts with the compartment, any case. */
export function startsWithCompartment(column: string, compartment: string): boolean {
  return column.toLowerCase().startsWith(compartment.toLowerCase());
}

export interface ClassifiedColumns {
  readonly objectKey: ColumnRef;
  /** Every compartment-prefixed column but the key, parent columns included (see `withoutLinks`). */
  readonly features: ColumnRef[];
  /** Columns that name a parent in another compartment: `<Compartment>_Parent_<Other>`. */
  readonly parentColumns: Map<string, ColumnRef>;
}

/**
 * Sort an object table's columns into key, features and parent links. `names` are the output
 * names (prefix already added where the layout needs it), `sources` the names in the table.
 */
export function classifyObjectColumns(
  where: string,
  compartment: string,
  sources: readonly string[],
  names: readonly string[],
  objectKeySource: string,
  skip: ReadonlySet<string>,
  others: readonly string[],
): ClassifiedColumns {
  const keyAt = sources.findIndex((s) => s === objectKeySource);
  if (keyAt < 0) throw new InputError(`${where}: no object key column "${objectKeySource}" (have: ${preview(sources)})`);
  const features: ColumnRef[] = [];
  const parentColumns = new Map<string, ColumnRef>();
  const parentNames = new Map(others.map((o) => [`${compartment}_Parent_${o}`.toLowerCase(), o]));
  for (let i = 0; i < sources.length; i++) {
    if (i === keyAt || skip.has(sources[i]!)) continue;
    const name = names[i]!;
    const parentOf = parentNames.get(name.toLowerCase());
    if (parentOf !== undefined) parentColumns.set(parentOf, { source: sources[i]!, name });
    if (startsWithCompartment(name, compartment)) features.push({ source: sources[i]!, name });
  }
  return { objectKey: { source: sources[keyAt]!, name: names[keyAt]! }, features, parentColumns };
}

/** A compartment's features without the columns the linking uses (those become metadata). */
export function withoutLinks(compartment: string, features: readonly ColumnRef[], linking: Linking | null): ColumnRef[] {
  if (!linking || linking.hub !== compartment) return [...features];
  const used = new Set(linking.parents.map((p) => p.column.source));
  return features.filter((f) => !used.has(f.source));
}

/**
 * The hub is the compartment whose table names a parent in every other compartment
 * (`Cytoplasm_Parent_Cells`, `Cytoplasm_Parent_Nuclei`). With one compartment there is nothing
 * to link; when no compartment qualifies, `problem` says why (per-compartment aggregation still works).
 */
export function findLinking(
  where: string,
  compartments: readonly string[],
  parents: ReadonlyMap<string, Map<string, ColumnRef>>,
): { linking: Linking | null; problem?: string } {
  if (compartments.length <= 1) return { linking: null };
  for (const hub of compartments) {
    const p = parents.get(hub)!;
    const others = compartments.filter((c) => c !== hub);
    if (others.every((o) => p.has(o))) {
      return { linking: { hub, parents: others.map((o) => ({ compartment: o, column: p.get(o)! })) } };
    }
  }
  const found = [...parents.entries()].flatMap(([c, m]) => [...m.values()].map((r) => `${c}: ${r.name}`));
  return {
    linking: null,
    problem:
      `${where}: cannot link the compartments ${compartments.join(', ')} into cells: no compartment names a parent in all others ` +
      `(expected columns such as Cytoplasm_Parent_Cells and Cytoplasm_Parent_Nuclei; found ${found.length ? found.join(', ') : 'none'}); ` +
      `aggregate each compartment on its own with --per-compartment`,
  };
}

export function preview(names: readonly string[], k = 10): string {
  return names.slice(0, k).join(', ') + (names.length > k ? `, … (${names.length} in all)` : '');
}

/**
 * Group images into wells by the strata columns. Values keep the source's type (numbers sort
 * as numbers, as pandas' groupby does); wells come out sorted by their keys.
 */
export function groupWells(where: string, images: ImageTable, strata: readonly string[]): Wells {
  const cols = strata.map((s) => {
    const c = images.meta.find((m) => m.name === s);
    if (!c) {
      const have = images.meta.map((m) => m.name);
      throw new InputError(`${where}: image table has no column "${s}" to group wells by (image metadata: ${preview(have) || 'none'}); choose --strata`);
    }
    return c;
  });
  const index = new Map<string, number>();
  const keys: (string | number | null)[][] = [];
  const members: number[][] = [];
  const ofImage = new Int32Array(images.n);
  for (let i = 0; i < images.n; i++) {
    const key = cols.map((c): string | number | null => {
      if (c.kind === 'number') {
        const v = c.values[i]!;
        return Number.isNaN(v) ? null : v;
      }
      return c.values[i] ?? null;
    });
    const id = key.map((v) => (v === null ? '\u0001' : typeof v === 'number' ? `n${v}` : `s${v}`)).join('\u0000');
    let w = index.get(id);
    if (w === undefined) {
      w = keys.length;
      index.set(id, w);
      keys.push(key);
      members.push([]);
    }
    members[w]!.push(i);
    ofImage[i] = w;
  }
  const order = keys.map((_, w) => w).sort((a, b) => compareKeys(keys[a]!, keys[b]!));
  const rank = new Int32Array(keys.length);
  order.forEach((w, r) => (rank[w] = r));
  for (let i = 0; i < images.n; i++) ofImage[i] = rank[ofImage[i]!]!;
  return {
    strata: [...strata],
    keys: order.map((w) => keys[w]!),
    images: order.map((w) => Int32Array.from(members[w]!)),
    ofImage,
  };
}

/** pandas' sort of groupby keys: numbers numerically, strings by code point; missing last. */
export function compareKeys(a: readonly (string | number | null)[], b: readonly (string | number | null)[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    const sx = String(x), sy = String(y);
    return sx < sy ? -1 : sx > sy ? 1 : 0;
  }
  return 0;
}

/** "Metadata_Plate=P1, Metadata_Well=A01" for messages. */
export function wellLabel(w: Wells, i: number): string {
  return w.strata.map((s, k) => `${s}=${w.keys[i]![k] ?? '(missing)'}`).join(', ');
}

/** A metadata column from raw values: numeric when every present value is a number. */
export function metaColumn(name: string, values: readonly (string | number | null)[]): MetaColumn {
  let allNumbers = true;
  let present = 0;
  for (const v of values) {
    if (v === null) continue;
    present++;
    if (typeof v !== 'number') {
      allNumbers = false;
      break;
    }
  }
  if (allNumbers && present > 0) return { name, kind: 'number', values: Float64Array.from(values, (v) => (v === null ? NaN : (v as number))) };
  return { name, kind: 'string', values: values.map((v) => (v === null ? null : String(v))) };
}
