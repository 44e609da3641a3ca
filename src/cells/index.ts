/**
 * Single-cell CellProfiler output → well profiles: the layouts labs hand over (ExportToSpreadsheet
 * folders, ExportToDatabase and cytominer-database SQLite, single-cell Parquet), compartments
 * linked into cells, streamed aggregation, merged single-cell tables, platemap annotation.
 */
export { LAYOUTS, LAYOUT_NAMES, DEFAULT_COMPARTMENTS, type Layout, type LayoutName } from './layouts.js';
export type { PlateSchema, PlateSource, CompartmentSchema, Linking, WellCells, ObjectRows, ReadCounts } from './schema.js';
export { findSources, type FoundSource } from './files.js';
export { planSources, resolveSourceOptions, withSource, DEFAULT_STRATA, type CellSourceOptions, type SourcePlan } from './sources.js';
export { openSqlitePlate } from './sqliteSource.js';
export { openSpreadsheetFolders } from './spreadsheetSource.js';
export { openParquetCells } from './parquetSource.js';
export { linkWell, type LinkCounts, type LinkedCells } from './link.js';
export { aggregatePlate, type AggregateCellsOptions, type PlateProfiles, type DroppedWell } from './aggregate.js';
export { aggregateCells, OBJECT_COUNT, SITE_COUNT, type CellsAggregateOptions, type CellsAggregateReport, type SourceReport } from './wellProfiles.js';
export { mergeCells, type CellsMergeOptions, type CellsMergeReport } from './merge.js';
export { describeCells, type CellSourceInfo } from './describe.js';
export { writeSingleCellPlate, measurementNames, type SingleCellSynthOptions, type SingleCellSynthResult } from './synth.js';
