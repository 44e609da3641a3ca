/**
 * Annotating well profiles with their plate map, the cytomining profiling-recipe way:
 * `barcode_platemap.csv` maps each plate (`Assay_Plate_Barcode`) to its plate map
 * (`Plate_Map_Name`), and `platemap/<Plate_Map_Name>.txt` (tab-separated) describes each well
 * (`well_position`, `broad_sample`, doses, …). One plate map for every plate works too.
 * Plate-map columns become `Metadata_<column>` (pycytominer's `add_metadata_id_to_platemap`).
 *
 * Where phenomap differs from pycytominer's `annotate` (db0c469c) on purpose: it is a left join —
 * a well missing from its plate map keeps its profile, with empty annotations, and is counted
 * (pycytominer's inner merge drops it silently); rows keep the profiles' order (pycytominer's
 * come in plate-map order); wells match whatever their zero padding (`C6` = `C06`).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MetaColumn, Profiles } from '../io/profiles.js';
import { findMeta, metaStrings } from '../io/profiles.js';
import { normalizeKey } from '../io/join.js';
import { readTable, tableColumn, type Table } from '../io/read.js';
import { InputError, UsageError } from '../util/errors.js';

export interface PlatemapOptions {
  /** The profiling recipe's barcode_platemap.csv (Assay_Plate_Barcode → Plate_Map_Name). */
  barcodePlatemap?: string;
  /** Folder of `<Plate_Map_Name>.txt` files; default `platemap/` beside barcodePlatemap, else its own folder. */
  platemapDir?: string;
  /** One plate map for every plate (instead of barcodePlatemap). */
  platemap?: string;
  /** Profiles' plate column (default Metadata_Plate). */
  plateColumn?: string;
  /** Profiles' well column (default Metadata_Well). */
  wellColumn?: string;
  /** Plate map's well column (default well_position). */
  platemapWellColumn?: string;
}

export interface PlatemapReport {
  /** Plate → plate map name (or file). */
  readonly plates: Record<string, string>;
  readonly matched: number;
  /** Wells kept without annotation because their plate map has no such well. */
  readonly unmatched: number;
  readonly unmatchedWells: string[];
  /** Plates with no entry in barcode_platemap.csv (their wells are kept unannotated). */
  readonly platesWithoutMap: string[];
  readonly addedColumns: string[];
  readonly warnings: string[];
}

interface PlateMap {
  readonly name: string;
  readonly table: Table;
  /** normalised well → row */
  readonly rows: Map<string, number>;
}

function loadPlatemap(path: string, name: string, wellCol: string): Promise<PlateMap> {
  return readTable(path).then((table) => {
    const wells = tableColumn(table, wellCol);
    const rows = new Map<string, number>();
    wells.forEach((w, r) => {
      const k = normalizeKey(w, 'well');
      if (k === null) return;
      if (rows.has(k)) throw new InputError(`${path}: well ${w} appears twice in the plate map`);
      rows.set(k, r);
    });
    return { name, table, rows };
  });
}

/** Add each well's plate-map columns to the profiles (left join by plate and well). */
export async function annotatePlatemap(profiles: Profiles, opts: PlatemapOptions): Promise<{ profiles: Profiles; report: PlatemapReport }> {
  if (!opts.barcodePlatemap === !opts.platemap) throw new UsageError('give either a barcode_platemap.csv (--barcode-platemap) or one plate map (--platemap)');
  const plateCol = opts.plateColumn ?? 'Metadata_Plate';
  const wellCol = opts.wellColumn ?? 'Metadata_Well';
  const pmWell = opts.platemapWellColumn ?? 'well_position';
  const plates = metaStrings(profiles, plateCol);
  const wells = metaStrings(profiles, wellCol);
  const n = profiles.X.rows;
  const mapOfPlate = new Map<string, PlateMap | null>();
  const warnings: string[] = [];
  const platesWithoutMap: string[] = [];
  if (opts.platemap) {
    const pm = await loadPlatemap(opts.platemap, opts.platemap, pmWell);
    for (const p of new Set(plates)) mapOfPlate.set(p ?? '', pm);
  } else {
    const bp = await readTable(opts.barcodePlatemap!);
    const barcodes = tableColumn(bp, 'Assay_Plate_Barcode');
    const names = tableColumn(bp, 'Plate_Map_Name');
    const nameOf = new Map<string, string>();
    barcodes.forEach((b, i) => b !== null && names[i] !== null && nameOf.set(b.trim(), names[i]!.trim()));
    const dir = opts.platemapDir ?? (existsSync(join(dirname(opts.barcodePlatemap!), 'platemap')) ? join(dirname(opts.barcodePlatemap!), 'platemap') : dirname(opts.barcodePlatemap!));
    const loaded = new Map<string, PlateMap>();
    for (const p of new Set(plates)) {
      const name = p === null ? undefined : nameOf.get(p.trim());
      if (name === undefined) {
        mapOfPlate.set(p ?? '', null);
        platesWithoutMap.push(p ?? '(missing)');
        continue;
      }
      let pm = loaded.get(name);
      if (!pm) {
        const file = [`${name}.txt`, `${name}.tsv`, `${name}.csv`].map((f) => join(dir, f)).find(existsSync);
        if (!file) throw new InputError(`${opts.barcodePlatemap}: plate ${p} uses plate map ${name}, but ${join(dir, `${name}.txt`)} does not exist`);
        pm = await loadPlatemap(file, name, pmWell);
        loaded.set(name, pm);
      }
      mapOfPlate.set(p ?? '', pm);
    }
    if (platesWithoutMap.length) warnings.push(`${platesWithoutMap.length} plate(s) have no entry in ${opts.barcodePlatemap} (e.g. ${platesWithoutMap.slice(0, 3).join(', ')}); their wells are kept without annotation`);
  }
  // Output columns: every plate map column but the well, in first-seen order, Metadata_-prefixed.
  const columns: string[] = [];
  for (const pm of new Set([...mapOfPlate.values()].filter((x): x is PlateMap => x !== null))) {
    for (const c of pm.table.columns) if (c !== pmWell && !columns.includes(c)) columns.push(c);
  }
  const outNames = columns.map((c) => (c.startsWith('Metadata_') ? c : `Metadata_${c}`));
  const clash = outNames.filter((c) => findMeta(profiles, c));
  if (clash.length) throw new InputError(`${profiles.source ?? 'profiles'}: already has ${clash.join(', ')}; the plate map would add them again`);
  const values = columns.map(() => new Array<string | null>(n).fill(null));
  let matched = 0;
  const unmatchedWells: string[] = [];
  for (let i = 0; i < n; i++) {
    const pm = mapOfPlate.get(plates[i] ?? '') ?? null;
    if (!pm) continue;
    const r = pm.rows.get(normalizeKey(wells[i], 'well') ?? '');
    if (r === undefined) {
      if (unmatchedWells.length < 20) unmatchedWells.push(`${plates[i]}/${wells[i]}`);
      continue;
    }
    matched++;
    columns.forEach((c, k) => {
      const col = pm.table.values.get(c);
      values[k]![i] = col ? (col[r] ?? null) : null;
    });
  }
  const unmatched = n - matched;
  if (unmatched) warnings.push(`${unmatched} well(s) have no plate-map entry and are kept without annotation (e.g. ${unmatchedWells.slice(0, 5).join(', ') || platesWithoutMap.slice(0, 3).join(', ')})`);
  const added: MetaColumn[] = outNames.map((name, k) => ({ name, kind: 'string', values: values[k]! }));
  return {
    profiles: { ...profiles, meta: [...profiles.meta, ...added] },
    report: {
      plates: Object.fromEntries([...mapOfPlate].map(([p, pm]) => [p, pm?.name ?? '(none)'])),
      matched,
      unmatched,
      unmatchedWells,
      platesWithoutMap,
      addedColumns: outNames,
      warnings,
    },
  };
}
