/**
 * Linking one well's compartments into cells, as pycytominer's `merge_single_cells` does
 * (db0c469c): the hub (Cytoplasm) is inner-joined to each parent compartment on
 * (image, hub's `<Hub>_Parent_<Other>` = other's object number). A cell is one hub object whose
 * every parent exists; cells come in the hub's row order. What the join leaves out is counted,
 * never silently lost: hub objects without a parent (CellProfiler writes 0), hub objects whose
 * parent is not in the table, and parent objects no hub object points to.
 */
import { InputError } from '../util/errors.js';
import type { PlateSchema, WellCells } from './schema.js';
import { wellLabel } from './schema.js';

export interface LinkCounts {
  /** Hub objects with no parent in a compartment (link 0 or missing), per that compartment. */
  noParent: Record<string, number>;
  /** Hub objects whose parent number is not among that compartment's objects of the image. */
  missingParent: Record<string, number>;
  /** Objects of a parent compartment that no hub object links to. */
  unlinked: Record<string, number>;
}

export function emptyLinkCounts(): LinkCounts {
  return { noParent: {}, missingParent: {}, unlinked: {} };
}

export interface LinkedCells {
  readonly n: number;
  /** Per compartment (schema order), the row of each cell's object in that compartment's rows. */
  readonly rows: readonly Int32Array[];
}

/** Objects per image are numbered from 1; the key packs (image, object) into one exact double. */
const OBJECT_LIMIT = 2 ** 26;

function objectKey(image: number, object: number): number {
  return image * OBJECT_LIMIT + object;
}

function validObject(object: number): boolean {
  return Number.isInteger(object) && object >= 0 && object < OBJECT_LIMIT;
}

function describeImage(schema: PlateSchema, image: number): string {
  const tn = schema.images.tableNumber?.[image];
  return `${tn !== undefined && tn !== null ? `TableNumber ${tn}, ` : ''}ImageNumber ${schema.images.imageNumber[image]}`;
}

/**
 * Row of each (image, object) of one compartment's rows in a well; a repeated key is an error
 * (it would duplicate cells in the join).
 */
export function objectIndex(schema: PlateSchema, cells: WellCells, ci: number): Map<number, number> {
  const rows = cells.compartments[ci]!;
  const c = schema.compartments[ci]!;
  const index = new Map<number, number>();
  for (let r = 0; r < rows.n; r++) {
    const obj = rows.object[r]!;
    const im = rows.image[r]!;
    if (!validObject(obj)) {
      throw new InputError(`${schema.source}: ${c.table}, ${describeImage(schema, im)}: object number ${obj} is not a whole number in 0…${OBJECT_LIMIT - 1}`);
    }
    const key = objectKey(im, obj);
    if (index.has(key)) {
      throw new InputError(
        `${schema.source}: ${c.table} has object ${obj} twice in ${describeImage(schema, im)} (${wellLabel(schema.wells, cells.well)}); ` +
          `duplicate object keys would duplicate cells — was a site ingested twice?`,
      );
    }
    index.set(key, r);
  }
  return index;
}

export function linkWell(schema: PlateSchema, cells: WellCells, counts: LinkCounts): LinkedCells {
  const linking = schema.linking;
  const nc = schema.compartments.length;
  if (!linking) {
    if (nc === 1 || schema.linkProblem === undefined) {
      // One compartment, or cells already linked (single-cell Parquet): every row is a cell.
      const n = cells.compartments[0]!.n;
      const all = new Int32Array(n);
      for (let i = 0; i < n; i++) all[i] = i;
      return { n, rows: [all] };
    }
    throw new InputError(schema.linkProblem);
  }
  const hubAt = schema.compartments.findIndex((c) => c.name === linking.hub);
  const hub = cells.compartments[hubAt]!;
  const parentAt = linking.parents.map((p) => schema.compartments.findIndex((c) => c.name === p.compartment));
  const indexes = parentAt.map((ci) => objectIndex(schema, cells, ci));
  objectIndex(schema, cells, hubAt);
  const used = parentAt.map((ci) => new Uint8Array(cells.compartments[ci]!.n));
  const out = schema.compartments.map(() => new Int32Array(hub.n));
  let n = 0;
  for (let r = 0; r < hub.n; r++) {
    const im = hub.image[r]!;
    let ok = true;
    for (let p = 0; p < parentAt.length; p++) {
      const target = linking.parents[p]!.compartment;
      const link = hub.links[p]![r]!;
      if (!(link > 0)) {
        counts.noParent[target] = (counts.noParent[target] ?? 0) + 1;
        ok = false;
        break;
      }
      const row = validObject(link) ? indexes[p]!.get(objectKey(im, link)) : undefined;
      if (row === undefined) {
        counts.missingParent[target] = (counts.missingParent[target] ?? 0) + 1;
        ok = false;
        break;
      }
      out[parentAt[p]!]![n] = row;
    }
    if (!ok) continue;
    out[hubAt]![n] = r;
    for (let p = 0; p < parentAt.length; p++) used[p]![out[parentAt[p]!]![n]!] = 1;
    n++;
  }
  for (let p = 0; p < parentAt.length; p++) {
    const u = used[p]!;
    let free = 0;
    for (let i = 0; i < u.length; i++) free += 1 - u[i]!;
    const name = linking.parents[p]!.compartment;
    if (free) counts.unlinked[name] = (counts.unlinked[name] ?? 0) + free;
  }
  return { n, rows: out.map((a) => a.subarray(0, n)) };
}
