/**
 * From command-line SOURCE arguments to open single-cell sources: each SQLite file and each
 * Parquet file is one source; ExportToSpreadsheet folders are pooled by the folder that holds them
 * (the site folders of one plate), whose wells are told apart by the strata.
 * Options the user gives override what the layout records say (CytoTable's rule).
 */
import { dirname, resolve } from 'node:path';
import { InputError, UsageError } from '../util/errors.js';
import { findSources } from './files.js';
import { DEFAULT_COMPARTMENTS, LAYOUTS, LAYOUT_NAMES, type LayoutName } from './layouts.js';
import { openParquetCells } from './parquetSource.js';
import type { PlateSource, ReadCounts } from './schema.js';
import { aggregatePlate, type AggregateCellsOptions, type PlateProfiles } from './aggregate.js';
import { aggregateSqlitePlate } from './parallel.js';
import { openSpreadsheetFolders } from './spreadsheetSource.js';
import { openSqlitePlate } from './sqliteSource.js';

export const DEFAULT_STRATA: readonly string[] = ['Metadata_Plate', 'Metadata_Well'];

export interface CellSourceOptions {
  /** Force a layout instead of detecting it (see LAYOUTS). */
  layout?: LayoutName;
  /** Compartments (object tables) to read, in output order; default Cells, Cytoplasm, Nuclei. */
  compartments?: readonly string[];
  /** Image metadata columns a well is identified by; default Metadata_Plate, Metadata_Well. */
  strata?: readonly string[];
}

export interface ResolvedSourceOptions {
  readonly layout?: LayoutName;
  readonly compartments: readonly string[];
  readonly strata: readonly string[];
}

/** Check the options once, at the door. */
export function resolveSourceOptions(opts: CellSourceOptions): ResolvedSourceOptions {
  if (opts.layout !== undefined && !LAYOUT_NAMES.includes(opts.layout)) {
    throw new UsageError(`--layout must be one of ${LAYOUT_NAMES.join(', ')}, got "${String(opts.layout)}"`);
  }
  const compartments = opts.compartments?.length ? [...opts.compartments] : [...DEFAULT_COMPARTMENTS];
  const lower = compartments.map((c) => c.toLowerCase());
  const dup = compartments.find((c, i) => lower.indexOf(c.toLowerCase()) !== i);
  if (dup) throw new UsageError(`--compartments names ${dup} twice`);
  for (const c of compartments) if (!/^[A-Za-z][A-Za-z0-9]*$/.test(c)) throw new UsageError(`--compartments: "${c}" is not a CellProfiler object name`);
  const strata = opts.strata?.length ? [...opts.strata] : [...DEFAULT_STRATA];
  return { layout: opts.layout, compartments, strata };
}

/** A source found on disk, opened only when its turn comes (one plate's key scan in memory at a time). */
export interface SourcePlan {
  /** The file, or the folders' common parent. */
  readonly label: string;
  /** The file, or the folders: planSources(paths) plans this source again (a workflow job does). */
  readonly paths: readonly string[];
  open(): Promise<PlateSource>;
  /** Every well aggregated (a SQLite plate on several threads), with what the reader counted. */
  aggregate(opts: AggregateCellsOptions & { threads?: number }): Promise<{ agg: PlateProfiles; counts: ReadCounts }>;
}

function plan(label: string, paths: readonly string[], open: () => Promise<PlateSource>): SourcePlan {
  return {
    label,
    paths,
    open,
    aggregate: (opts) => withSource({ open }, async (s) => ({ agg: await aggregatePlate(s, opts), counts: s.counts })),
  };
}

/** Every source the arguments name, in argument order (CSV folders pooled per parent folder, last). */
export function planSources(args: readonly string[], opts: ResolvedSourceOptions): SourcePlan[] {
  const found = findSources(args);
  const forced = opts.layout ? LAYOUTS[opts.layout] : undefined;
  const plans: SourcePlan[] = [];
  for (const f of found) {
    if (forced) {
      const want = forced.storage === 'sqlite' ? 'sqlite' : forced.storage === 'parquet' ? 'parquet' : 'folder';
      if (want !== f.kind) throw new InputError(`${f.path}: a ${f.kind === 'folder' ? 'CSV folder' : f.kind} source cannot be read with --layout ${forced.name}`);
    }
    if (f.kind === 'sqlite') {
      const so = { layout: opts.layout, compartments: opts.compartments, strata: opts.strata };
      plans.push({
        label: f.path,
        paths: [f.path],
        open: async () => openSqlitePlate(f.path, so),
        aggregate: (o) => aggregateSqlitePlate(f.path, so, o, o.threads),
      });
    } else if (f.kind === 'parquet') {
      plans.push(plan(f.path, [f.path], () => openParquetCells(f.path, { compartments: opts.compartments, strata: opts.strata })));
    }
  }
  // Site folders sit in a folder per plate: each parent folder is one source.
  const byParent = new Map<string, string[]>();
  for (const f of found) {
    if (f.kind !== 'folder') continue;
    const parent = dirname(resolve(f.path));
    byParent.set(parent, [...(byParent.get(parent) ?? []), f.path]);
  }
  for (const [parent, folders] of byParent) {
    plans.push(plan(folders.length === 1 ? folders[0]! : `${parent} (${folders.length} CellProfiler CSV folders)`, folders, () => openSpreadsheetFolders(folders, { compartments: opts.compartments, strata: opts.strata })));
  }
  return plans;
}

/** Open a planned source, run `fn`, close it whatever happens. */
export async function withSource<T>(plan: Pick<SourcePlan, 'open'>, fn: (source: PlateSource) => Promise<T>): Promise<T> {
  const source = await plan.open();
  try {
    return await fn(source);
  } finally {
    source.close();
  }
}
