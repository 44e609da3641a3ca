/**
 * The source layouts in which CellProfiler single-cell output reaches a lab, as typed records
 * (CytoTable's presets idea, `cytotable/presets.py`, with the keys checked by the compiler).
 * Readers work through these records; nothing outside this file branches on a layout's name,
 * and a user's explicit options override a record's fields (see `CellsOptions`).
 *
 * - `spreadsheet`: CellProfiler ExportToSpreadsheet — a folder (per site, or per run) holding
 *   `Image.csv` plus one CSV per object; object columns usually carry no compartment prefix.
 *   `ImageNumber` restarts in every folder, so the folder is part of the image key (as
 *   cytominer-database's `TableNumber` is).
 * - `cellprofiler-sqlite`: CellProfiler ExportToDatabase (SQLite, one table per object):
 *   `Per_Image`, `Per_<Object>`; the object key is `<Object>_Number_Object_Number`.
 * - `cytominer-sqlite`: cytominer-database ingest (the profiling recipe's SQLite): `Image`,
 *   `Cells`, `Cytoplasm`, `Nuclei`, keyed by (`TableNumber`, `ImageNumber`, `ObjectNumber`).
 * - `parquet`: single-cell Parquet as CytoTable writes it — compartments already joined, one
 *   row per cell, `Metadata_*` columns for keys and image metadata.
 */

export type LayoutName = 'spreadsheet' | 'cellprofiler-sqlite' | 'cytominer-sqlite' | 'parquet';

export type Storage = 'csv-folders' | 'sqlite' | 'parquet';

export interface Layout {
  readonly name: LayoutName;
  readonly description: string;
  readonly storage: Storage;
  /** Image table: a table name (SQLite) or a file name inside each folder (spreadsheet). */
  readonly imageTable: string;
  /** Object table (or file) of a compartment, e.g. `Per_Cells`, `Cells.csv`. */
  objectTable(compartment: string): string;
  /** Columns of the image table that, with the folder or TableNumber, identify an image. */
  readonly imageKey: readonly string[];
  /** Object tables' own key column (besides the image key). */
  objectKey(compartment: string): string;
  /** Whether object columns lack the compartment prefix and get `<Compartment>_` added. */
  readonly prefixObjectColumns: boolean;
  /** What the layout was checked against (real files in ../shared/data/singlecell). */
  readonly checkedWith: string;
}

export const LAYOUTS = {
  spreadsheet: {
    name: 'spreadsheet',
    description: 'CellProfiler ExportToSpreadsheet folders (Image.csv + one CSV per object)',
    storage: 'csv-folders',
    imageTable: 'Image.csv',
    objectTable: (c: string) => `${c}.csv`,
    imageKey: ['ImageNumber'],
    objectKey: () => 'ObjectNumber',
    prefixObjectColumns: true,
    checkedWith: 'CellProfiler 4 (JUMP cpg0016 / cpg0043 site folders)',
  },
  'cellprofiler-sqlite': {
    name: 'cellprofiler-sqlite',
    description: 'CellProfiler ExportToDatabase SQLite (Per_Image, Per_<Object>)',
    storage: 'sqlite',
    imageTable: 'Per_Image',
    objectTable: (c: string) => `Per_${c}`,
    imageKey: ['ImageNumber'],
    objectKey: (c: string) => `${c}_Number_Object_Number`,
    prefixObjectColumns: false,
    checkedWith: 'CellProfiler 4.2 ExportToDatabase (NF1 Schwann-cell screen)',
  },
  'cytominer-sqlite': {
    name: 'cytominer-sqlite',
    description: 'cytominer-database SQLite (Image, Cells, Cytoplasm, Nuclei with TableNumber)',
    storage: 'sqlite',
    imageTable: 'Image',
    objectTable: (c: string) => c,
    imageKey: ['TableNumber', 'ImageNumber'],
    objectKey: () => 'ObjectNumber',
    prefixObjectColumns: false,
    checkedWith: 'cytominer-database 0.3.x ingest (Cell Health, LINCS data_b)',
  },
  parquet: {
    name: 'parquet',
    description: 'single-cell Parquet (CytoTable: compartments joined, one row per cell)',
    storage: 'parquet',
    imageTable: '',
    objectTable: () => '',
    imageKey: ['Metadata_ImageNumber'],
    objectKey: () => 'Metadata_ObjectNumber',
    prefixObjectColumns: false,
    checkedWith: 'CytoTable 0.0.x Parquet output (Metadata_* keys, <Compartment>_* features)',
  },
} as const satisfies Record<LayoutName, Layout>;

export const LAYOUT_NAMES = Object.keys(LAYOUTS) as LayoutName[];

export function layoutByName(name: LayoutName): Layout {
  return LAYOUTS[name];
}

/** The compartments CellProfiler's Cell Painting pipelines export, in output order. */
export const DEFAULT_COMPARTMENTS: readonly string[] = ['Cells', 'Cytoplasm', 'Nuclei'];

/**
 * The SQLite layout that owns a database, from the tables it holds: `Per_Image` →
 * ExportToDatabase; `Image` with a `TableNumber` column → cytominer-database.
 */
export function sqliteLayoutFromTables(tables: readonly string[], imageColumns: (table: string) => string[]): LayoutName | null {
  const lower = new Map(tables.map((t) => [t.toLowerCase(), t]));
  if (lower.has('per_image')) return 'cellprofiler-sqlite';
  const image = lower.get('image');
  if (image && imageColumns(image).some((c) => c.toLowerCase() === 'tablenumber')) return 'cytominer-sqlite';
  if (image) return 'cytominer-sqlite';
  return null;
}
