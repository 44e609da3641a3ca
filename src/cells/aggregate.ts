/**
 * Single cells → one profile per well, streamed: a source hands over one well's objects at a
 * time, they are linked into cells and reduced to the well's medians (or means) at once, so a
 * plate's cells are never all in memory (peak ≈ one well plus the wells × features result).
 *
 * Two definitions, both pycytominer's (db0c469c), both exact:
 * - default: aggregate the linked cells — `pycytominer.aggregate` applied to
 *   `SingleCells.merge_single_cells()` (the path pycytominer recommends with CytoTable);
 * - `perCompartment`: each compartment over all of its own objects, linked or not —
 *   `SingleCells.aggregate_profiles()`.
 * `Metadata_Object_Count` is the number of linked cells (default) or of the first compartment's
 * objects (per compartment, as pycytominer counts); `Metadata_Site_Count` the well's images.
 * A well with no cell (or, per compartment, with a compartment without objects) yields no
 * profile — pycytominer's inner joins drop it silently; here it is named in the report.
 */
import { subsetColumnStats, subsetScratchLength, type GroupOperation } from '../linalg/groupStats.js';
import { InputError, UsageError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import { silentReporter } from '../util/log.js';
import { emptyLinkCounts, linkWell, type LinkCounts } from './link.js';
import type { PlateSchema, PlateSource, WellCells } from './schema.js';
import { wellLabel } from './schema.js';

export interface AggregateCellsOptions {
  /** 'median' (default, as pycytominer) or 'mean'. */
  operation?: GroupOperation;
  /** Each compartment over all its objects instead of over linked cells. */
  perCompartment?: boolean;
  /** Only these wells (indices into schema.wells): one worker's share; no plate-level checks. */
  wells?: readonly number[];
  reporter?: Reporter;
}

export interface DroppedWell {
  readonly well: string;
  readonly reason: string;
}

export interface PlateProfiles {
  readonly schema: PlateSchema;
  /** Output feature names, compartments in schema order. */
  readonly features: string[];
  /** Kept wells (indices into schema.wells), in well order. */
  readonly wells: number[];
  /** wells × features, row-major. */
  readonly X: Float64Array;
  readonly objectCount: Float64Array;
  readonly siteCount: Float64Array;
  /** Objects read per compartment (after dropping objects without an image). */
  readonly objects: Record<string, number>;
  /** Cells formed by linking (default mode). */
  readonly cells: number;
  readonly links: LinkCounts;
  readonly droppedWells: DroppedWell[];
}

/** A plate without any object is a broken export, not an empty result. */
export function checkHasObjects(schema: PlateSchema, objects: Record<string, number>): void {
  if (Object.values(objects).every((n) => n === 0)) {
    throw new InputError(`${schema.source}: the plate has no cells (${schema.compartments.map((c) => c.table).join(', ')} hold no objects of its images)`);
  }
}

/** Per-worker results of one plate, in any order, as one (wells sorted, counts summed). */
export function mergePlateProfiles(parts: readonly PlateProfiles[]): PlateProfiles {
  const first = parts[0]!;
  const nf = first.features.length;
  const rows = parts.flatMap((p, pi) => p.wells.map((w, i) => ({ w, pi, i }))).sort((a, b) => a.w - b.w);
  const X = new Float64Array(rows.length * nf);
  rows.forEach((r, o) => X.set(parts[r.pi]!.X.subarray(r.i * nf, (r.i + 1) * nf), o * nf));
  const sum = (get: (p: PlateProfiles) => Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const p of parts) for (const [k, v] of Object.entries(get(p))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const merged: PlateProfiles = {
    schema: first.schema,
    features: first.features,
    wells: rows.map((r) => r.w),
    X,
    objectCount: Float64Array.from(rows, (r) => parts[r.pi]!.objectCount[r.i]!),
    siteCount: Float64Array.from(rows, (r) => parts[r.pi]!.siteCount[r.i]!),
    objects: sum((p) => p.objects),
    cells: parts.reduce((a, p) => a + p.cells, 0),
    links: { noParent: sum((p) => p.links.noParent), missingParent: sum((p) => p.links.missingParent), unlinked: sum((p) => p.links.unlinked) },
    droppedWells: parts.flatMap((p) => p.droppedWells),
  };
  checkHasObjects(first.schema, merged.objects);
  return merged;
}

export function featureNames(schema: PlateSchema): string[] {
  return schema.compartments.flatMap((c) => c.features.map((f) => f.name));
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** Aggregate every well of one source. */
export async function aggregatePlate(source: PlateSource, opts: AggregateCellsOptions = {}): Promise<PlateProfiles> {
  const schema = source.schema;
  const op = opts.operation ?? 'median';
  const per = !!opts.perCompartment;
  const reporter = opts.reporter ?? silentReporter;
  if (!per && !schema.linking && schema.linkProblem) throw new InputError(schema.linkProblem);
  if (per && schema.preLinked) {
    throw new UsageError(`${schema.source}: holds cells already linked, without the objects that formed no cell; --per-compartment needs the object tables (SQLite or CSV folders)`);
  }
  const features = featureNames(schema);
  const nf = features.length;
  const offsets: number[] = [];
  let off = 0;
  for (const c of schema.compartments) {
    offsets.push(off);
    off += c.features.length;
  }
  const nw = schema.wells.keys.length;
  const out = new Float64Array(nw * nf);
  const objectCount = new Float64Array(nw);
  const kept = new Uint8Array(nw);
  const objects: Record<string, number> = Object.fromEntries(schema.compartments.map((c) => [c.name, 0]));
  const links = emptyLinkCounts();
  const dropped: DroppedWell[] = [];
  let cells = 0;
  let scratch = new Float64Array(0);
  const progress = reporter.progress(`aggregating ${schema.source}`, nw);
  let done = 0;
  const reduce = (well: WellCells, ci: number, rows: Int32Array): void => {
    const c = schema.compartments[ci]!;
    const need = subsetScratchLength(rows.length, c.features.length);
    if (scratch.length < need) scratch = new Float64Array(Math.max(need, scratch.length * 2));
    subsetColumnStats(well.compartments[ci]!.X, c.features.length, rows, op, out, well.well * nf + offsets[ci]!, scratch);
  };
  for await (const well of source.wells(opts.wells)) {
    schema.compartments.forEach((c, ci) => (objects[c.name]! += well.compartments[ci]!.n));
    if (per) {
      const empty = schema.compartments.filter((_, ci) => well.compartments[ci]!.n === 0).map((c) => c.name);
      if (empty.length) {
        dropped.push({ well: wellLabel(schema.wells, well.well), reason: `no ${empty.join(', ')} objects` });
      } else {
        schema.compartments.forEach((_, ci) => reduce(well, ci, identity(well.compartments[ci]!.n)));
        objectCount[well.well] = well.compartments[0]!.n;
        kept[well.well] = 1;
      }
    } else {
      const linked = linkWell(schema, well, links);
      cells += linked.n;
      if (linked.n === 0) {
        const n = schema.compartments.map((c, ci) => `${well.compartments[ci]!.n} ${c.name}`).join(', ');
        dropped.push({ well: wellLabel(schema.wells, well.well), reason: `no linked cells (${n} objects)` });
      } else {
        schema.compartments.forEach((_, ci) => reduce(well, ci, linked.rows[ci]!));
        objectCount[well.well] = linked.n;
        kept[well.well] = 1;
      }
    }
    progress.tick(++done);
  }
  progress.done();
  if (!opts.wells) checkHasObjects(schema, objects);
  const wells: number[] = [];
  for (let w = 0; w < nw; w++) if (kept[w]) wells.push(w);
  const X = new Float64Array(wells.length * nf);
  wells.forEach((w, i) => X.set(out.subarray(w * nf, (w + 1) * nf), i * nf));
  return {
    schema,
    features,
    wells,
    X,
    objectCount: Float64Array.from(wells, (w) => objectCount[w]!),
    siteCount: Float64Array.from(wells, (w) => (schema.images.imagesUnknown ? NaN : schema.wells.images[w]!.length)),
    objects,
    cells,
    links,
    droppedWells: dropped,
  };
}
