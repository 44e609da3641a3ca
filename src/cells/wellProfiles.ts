/**
 * `cells aggregate`: single cells of any number of sources → one well-profile table. Each source
 * is opened in turn and aggregated well by well (aggregate.ts); the plates are then stacked
 * (features must agree, by name) and sorted by their strata, as pycytominer's groupby sorts them.
 */
import type { MetaColumn, Profiles } from '../io/profiles.js';
import type { GroupOperation } from '../linalg/groupStats.js';
import { InputError, UsageError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import { silentReporter } from '../util/log.js';
import type { DroppedWell, PlateProfiles } from './aggregate.js';
import type { LinkCounts } from './link.js';
import { compareKeys, metaColumn, preview, type ReadCounts } from './schema.js';
import { planSources, resolveSourceOptions, type CellSourceOptions } from './sources.js';

export interface CellsAggregateOptions extends CellSourceOptions {
  operation?: GroupOperation;
  /** Each compartment over all its own objects (pycytominer's SingleCells.aggregate_profiles). */
  perCompartment?: boolean;
  /** Threads for a SQLite plate (default: the machine's cores, PHENOMAP_THREADS). */
  threads?: number;
  reporter?: Reporter;
}

export interface SourceReport {
  readonly source: string;
  readonly layout: string;
  readonly images: number;
  readonly wells: number;
  readonly profiles: number;
  /** Objects read per compartment. */
  readonly objects: Record<string, number>;
  /** Cells formed by linking (0 in per-compartment mode). */
  readonly cells: number;
  readonly links: LinkCounts;
  readonly textNumbers: Record<string, number>;
  readonly orphanObjects: Record<string, number>;
  readonly emptyFiles: string[];
  /** SQLite object table → the reader that decoded its rows (ReadCounts.rowReaders). */
  readonly rowReaders: Record<string, string>;
  readonly droppedWells: DroppedWell[];
  readonly seconds: number;
}

export interface CellsAggregateReport {
  readonly operation: GroupOperation;
  readonly mode: 'cells' | 'compartments';
  readonly strata: string[];
  readonly compartments: string[];
  readonly sources: SourceReport[];
  readonly profiles: number;
  readonly features: number;
  /** Objects of the first compartment read, over all sources (the throughput's unit). */
  readonly objectsRead: number;
  readonly warnings: string[];
  readonly seconds: number;
}

export const OBJECT_COUNT = 'Metadata_Object_Count';
export const SITE_COUNT = 'Metadata_Site_Count';

/** Warnings a source's report calls for, in the user's words. */
export function sourceWarnings(r: SourceReport): string[] {
  const w: string[] = [];
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  for (const f of r.emptyFiles) w.push(`${f} is empty (0 bytes): that folder has no objects of this compartment`);
  for (const [t, n] of Object.entries(r.orphanObjects)) w.push(`${r.source}: ${n} object(s) in ${t} belong to no image of the image table and were dropped`);
  for (const [c, n] of Object.entries(r.links.noParent)) w.push(`${r.source}: ${n} object(s) have no ${c} parent (link 0) and form no cell`);
  for (const [c, n] of Object.entries(r.links.missingParent)) w.push(`${r.source}: ${n} object(s) name a ${c} parent that does not exist and form no cell`);
  for (const d of r.droppedWells) w.push(`${r.source}: well ${d.well} gives no profile: ${d.reason}`);
  if (sum(r.textNumbers)) w.push(`${r.source}: ${sum(r.textNumbers)} numeric value(s) were stored as text ("nan", "inf", …) and read as numbers`);
  return w;
}

function sourceReport(p: PlateProfiles, source: { counts: ReadCounts }, seconds: number): SourceReport {
  return {
    source: p.schema.source,
    layout: p.schema.layout,
    images: p.schema.images.n,
    wells: p.schema.wells.keys.length,
    profiles: p.wells.length,
    objects: p.objects,
    cells: p.cells,
    links: p.links,
    textNumbers: { ...source.counts.textNumbers },
    orphanObjects: { ...source.counts.orphanObjects },
    emptyFiles: [...source.counts.emptyFiles],
    rowReaders: { ...source.counts.rowReaders },
    droppedWells: p.droppedWells,
    seconds,
  };
}

/** Aggregate the single cells of every source into one well-profile table. */
export async function aggregateCells(args: readonly string[], opts: CellsAggregateOptions = {}): Promise<{ profiles: Profiles; report: CellsAggregateReport }> {
  const t0 = performance.now();
  const operation = opts.operation ?? 'median';
  if (operation !== 'median' && operation !== 'mean') throw new UsageError(`--operation must be median or mean, got "${String(operation)}"`);
  const so = resolveSourceOptions(opts);
  const reporter = opts.reporter ?? silentReporter;
  const plans = planSources(args, so);
  const plates: PlateProfiles[] = [];
  const reports: SourceReport[] = [];
  for (const plan of plans) {
    const t1 = performance.now();
    reporter.info(`reading ${plan.label}`);
    const { agg: p, counts } = await plan.aggregate({ operation, perCompartment: opts.perCompartment, reporter, threads: opts.threads });
    reports.push(sourceReport(p, { counts }, (performance.now() - t1) / 1000));
    if (plates.length) checkSameFeatures(plates[0]!, p);
    plates.push(p);
  }
  const warnings = reports.flatMap(sourceWarnings);
  for (const w of warnings) reporter.warn(w);
  const profiles = stackPlates(plates, so.strata);
  if (profiles.X.rows === 0) throw new InputError(`${plans.map((p) => p.label).join(', ')}: no well has any cell; nothing to aggregate`);
  const objectsRead = reports.reduce((a, r) => a + (Object.values(r.objects)[0] ?? 0), 0);
  return {
    profiles,
    report: {
      operation,
      mode: opts.perCompartment ? 'compartments' : 'cells',
      strata: [...so.strata],
      compartments: [...so.compartments],
      sources: reports,
      profiles: profiles.X.rows,
      features: profiles.features.length,
      objectsRead,
      warnings,
      seconds: (performance.now() - t0) / 1000,
    },
  };
}

function checkSameFeatures(a: PlateProfiles, b: PlateProfiles): void {
  const sa = new Set(a.features);
  const onlyB = b.features.filter((f) => !sa.has(f));
  const sb = new Set(b.features);
  const onlyA = a.features.filter((f) => !sb.has(f));
  if (onlyA.length || onlyB.length) {
    throw new InputError(
      `${b.schema.source} and ${a.schema.source} measure different features ` +
        `(${onlyB.length} only in the first${onlyB.length ? `: ${preview(onlyB, 3)}` : ''}; ${onlyA.length} only in the second${onlyA.length ? `: ${preview(onlyA, 3)}` : ''}); ` +
        `plates aggregated together must come from one CellProfiler pipeline`,
    );
  }
}

/** Stack plates (features in the first plate's order), rows sorted by strata; a well in two sources is an error. */
export function stackPlates(plates: readonly PlateProfiles[], strata: readonly string[]): Profiles {
  const features = plates[0]?.features ?? [];
  const nf = features.length;
  type Row = { key: readonly (string | number | null)[]; plate: number; i: number };
  const rows: Row[] = [];
  plates.forEach((p, pi) => p.wells.forEach((w, i) => rows.push({ key: p.schema.wells.keys[w]!, plate: pi, i })));
  rows.sort((x, y) => compareKeys(x.key, y.key) || x.plate - y.plate);
  for (let r = 1; r < rows.length; r++) {
    if (compareKeys(rows[r - 1]!.key, rows[r]!.key) === 0) {
      const a = plates[rows[r - 1]!.plate]!.schema.source, b = plates[rows[r]!.plate]!.schema.source;
      throw new InputError(`well ${strata.map((s, k) => `${s}=${rows[r]!.key[k]}`).join(', ')} appears in both ${a} and ${b}`);
    }
  }
  const colOf = plates.map((p) => (p.features === features ? null : Int32Array.from(features, (f) => p.features.indexOf(f))));
  const X = new Float64Array(rows.length * nf);
  rows.forEach((r, o) => {
    const p = plates[r.plate]!;
    const src = p.X.subarray(r.i * p.features.length, (r.i + 1) * p.features.length);
    const map = colOf[r.plate];
    if (!map) X.set(src, o * nf);
    else for (let j = 0; j < nf; j++) X[o * nf + j] = src[map[j]!]!;
  });
  const meta: MetaColumn[] = strata.map((s, k) => metaColumn(s, rows.map((r) => r.key[k] ?? null)));
  meta.push({ name: OBJECT_COUNT, kind: 'number', values: Float64Array.from(rows, (r) => plates[r.plate]!.objectCount[r.i]!) });
  meta.push({ name: SITE_COUNT, kind: 'number', values: Float64Array.from(rows, (r) => plates[r.plate]!.siteCount[r.i]!) });
  return { features: [...features], X: { rows: rows.length, cols: nf, data: X }, meta, source: plates.map((p) => p.schema.source).join(', ') };
}
