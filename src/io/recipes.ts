/**
 * Recipes that build labelled profile tables from the public data sets in ../shared/data
 * (layout described in its README): BBBC021 (Ljosa et al. 2013; per-well means ↔ image table
 * ↔ MoA table), the LINCS Cell Painting plate SQ00015054 with Drug Repurposing Hub
 * annotations, and the cell-injury set (Dahlin et al. 2023). Every join reports what matched;
 * nothing is dropped silently.
 */
import { join } from 'node:path';
import type { MetaColumn, Profiles } from './profiles.js';
import { getMeta, metaStrings, withMeta } from './profiles.js';
import { readProfiles, readTable, tableColumn, type IngestReport } from './read.js';
import { joinAnnotations, type JoinResult } from './join.js';
import { InputError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';

export interface RecipeResult {
  readonly profiles: Profiles;
  readonly ingest: IngestReport;
  /** Named counts (rows, matched, unmatched, classes, …) for printing and tests. */
  readonly counts: Record<string, number>;
  /** One-line human notes (what was joined, what did not match). */
  readonly notes: string[];
}

export const BBBC021_FILES = {
  wells: 'bbbc021/ljosa_jbiomolscreen_2013_per_well_mean.csv.gz',
  images: 'bbbc021/BBBC021_v1_image.csv.gz',
  moa: 'bbbc021/BBBC021_v1_moa.csv',
} as const;

export const LINCS_FILES = {
  plate: 'lincs/SQ00015054_normalized_feature_select.csv.gz',
  annotations: 'annotations/lincs_repurposing_moa.tsv',
} as const;

export const CELL_INJURY_FILES = {
  well: 'cell-injury/fs_well_holdout.csv.gz',
  plate: 'cell-injury/fs_plate_holdout.csv.gz',
} as const;

/** Concentrations compare as numbers (0.003 vs 0.003000). */
function concKey(v: string | null): string | null {
  if (v === null) return null;
  const x = Number(v);
  return Number.isFinite(x) ? String(Number(x.toPrecision(6))) : v.trim();
}

function firstColumn(t: { columns: string[]; source: string }, candidates: string[]): string {
  const c = candidates.find((n) => t.columns.includes(n));
  if (!c) throw new InputError(`${t.source}: none of the columns ${candidates.map((n) => `"${n}"`).join(', ')}`);
  return c;
}

function distinct(values: (string | null)[]): number {
  return new Set(values.filter((v) => v !== null)).size;
}

/**
 * BBBC021: per-well mean profiles (632 wells × 516 features) labelled from the image table
 * (plate + well → compound, concentration, replicate; one row per image, so deduplicated per
 * plate + well) and the MoA table (compound + concentration → MoA; DMSO is the control with
 * MoA "DMSO"). Adds Metadata_plate, _well, _compound, _concentration, _moa, _batch (the WeekN
 * prefix of the plate name) and _replicate, replacing the Image_Metadata_ keys.
 */
export async function bbbc021Recipe(dataDir: string, reporter?: Reporter): Promise<RecipeResult> {
  const { profiles: wells, report: ingest } = await readProfiles(join(dataDir, BBBC021_FILES.wells), { reporter });
  const images = await readTable(join(dataDir, BBBC021_FILES.images));
  const moaTable = await readTable(join(dataDir, BBBC021_FILES.moa));

  const wPlateName = firstColumn({ columns: wells.meta.map((m) => m.name), source: wells.source ?? 'wells' }, ['Image_Metadata_Plate', 'Image_Metadata_Plate_DAPI', 'Metadata_Plate']);
  const wWellName = firstColumn({ columns: wells.meta.map((m) => m.name), source: wells.source ?? 'wells' }, ['Image_Metadata_Well', 'Image_Metadata_Well_DAPI', 'Metadata_Well']);
  const plates = metaStrings(wells, wPlateName);
  const wellIds = metaStrings(wells, wWellName);

  const iPlate = tableColumn(images, firstColumn(images, ['Image_Metadata_Plate_DAPI', 'Image_Metadata_Plate']));
  const iWell = tableColumn(images, firstColumn(images, ['Image_Metadata_Well_DAPI', 'Image_Metadata_Well']));
  const iCompound = tableColumn(images, firstColumn(images, ['Image_Metadata_Compound']));
  const iConc = tableColumn(images, firstColumn(images, ['Image_Metadata_Concentration']));
  const iRep = tableColumn(images, firstColumn(images, ['Replicate', 'Image_Metadata_Replicate']));

  // One entry per plate + well (the image table has one row per field of view).
  const byWell = new Map<string, { compound: string | null; conc: string | null; rep: string | null }>();
  let conflictingWells = 0;
  for (let r = 0; r < images.rows; r++) {
    const key = `${iPlate[r]}\u0000${iWell[r]}`;
    const prev = byWell.get(key);
    const cur = { compound: iCompound[r] ?? null, conc: iConc[r] ?? null, rep: iRep[r] ?? null };
    if (!prev) byWell.set(key, cur);
    else if (prev.compound !== cur.compound || concKey(prev.conc) !== concKey(cur.conc)) conflictingWells++;
  }

  const mCompound = tableColumn(moaTable, 'compound');
  const mConc = tableColumn(moaTable, 'concentration');
  const mMoa = tableColumn(moaTable, 'moa');
  const moaOf = new Map<string, string>();
  for (let r = 0; r < moaTable.rows; r++) {
    if (mCompound[r] === null || mMoa[r] === null) continue;
    moaOf.set(`${mCompound[r]}\u0000${concKey(mConc[r] ?? null)}`, mMoa[r]!);
  }

  const n = wells.X.rows;
  const compound: (string | null)[] = new Array(n).fill(null);
  const moa: (string | null)[] = new Array(n).fill(null);
  const concentration = new Float64Array(n).fill(NaN);
  const replicate = new Float64Array(n).fill(NaN);
  const batch: (string | null)[] = new Array(n).fill(null);
  let mapped = 0;
  let withMoa = 0;
  const missingMoa = new Set<string>();
  for (let i = 0; i < n; i++) {
    const plate = plates[i] ?? null;
    batch[i] = plate ? (/^(Week\d+)/.exec(plate)?.[1] ?? null) : null;
    const hit = byWell.get(`${plate}\u0000${wellIds[i]}`);
    if (!hit) continue;
    mapped++;
    compound[i] = hit.compound;
    concentration[i] = hit.conc === null ? NaN : Number(hit.conc);
    replicate[i] = hit.rep === null ? NaN : Number(hit.rep);
    const isControl = hit.compound?.toUpperCase() === 'DMSO';
    const m = isControl ? 'DMSO' : moaOf.get(`${hit.compound}\u0000${concKey(hit.conc)}`);
    if (m !== undefined) {
      moa[i] = m;
      withMoa++;
    } else missingMoa.add(`${hit.compound}@${hit.conc}`);
  }

  const keep = wells.meta.filter((m) => m.name !== wPlateName && m.name !== wWellName);
  const cols: MetaColumn[] = [
    { name: 'Metadata_plate', kind: 'string', values: plates },
    { name: 'Metadata_well', kind: 'string', values: wellIds },
    { name: 'Metadata_batch', kind: 'string', values: batch },
    { name: 'Metadata_compound', kind: 'string', values: compound },
    { name: 'Metadata_concentration', kind: 'number', values: concentration },
    { name: 'Metadata_replicate', kind: 'number', values: replicate },
    { name: 'Metadata_moa', kind: 'string', values: moa },
  ];
  // The Image_Metadata_ keys are replaced by Metadata_plate / Metadata_well.
  const profiles: Profiles = { ...wells, meta: [...cols, ...keep] };

  const counts = {
    rows: n,
    features: profiles.features.length,
    wellsMappedToCompound: mapped,
    wellsUnmapped: n - mapped,
    wellsWithMoa: withMoa,
    wellsWithoutMoa: mapped - withMoa,
    compounds: distinct(compound),
    moas: distinct(moa),
    plates: distinct(plates),
    batches: distinct(batch),
    conflictingImageRows: conflictingWells,
  };
  const notes = [
    `BBBC021: ${mapped}/${n} wells mapped to a compound via ${BBBC021_FILES.images} (plate + well)`,
    `${withMoa}/${n} wells have an MoA from ${BBBC021_FILES.moa} (compound + concentration; DMSO = control)` +
      (missingMoa.size ? `; ${mapped - withMoa} wells (${missingMoa.size} compound-concentration pairs) have no MoA and keep a null label` : ''),
  ];
  return { profiles, ingest, counts, notes };
}

/**
 * LINCS plate SQ00015054 joined with the Drug Repurposing Hub table by Broad id (the plate's
 * Metadata_broad_sample `BRD-K…-001-05-5` against the table's broad_id `BRD-K…`). Adds
 * Metadata_pert_iname and Metadata_clinical_phase; DMSO wells are controls and get
 * pert_iname "DMSO".
 */
export async function lincsRecipe(plateFile: string, annotationsFile: string, reporter?: Reporter): Promise<RecipeResult & { join: JoinResult }> {
  const { profiles: plate, report: ingest } = await readProfiles(plateFile, { reporter });
  const table = await readTable(annotationsFile);
  const j = joinAnnotations(plate, table, {
    profileKey: 'Metadata_broad_sample',
    tableKey: 'broad_id',
    keyKind: 'broad_id',
    columns: ['pert_iname', 'clinical_phase'],
  });
  const samples = metaStrings(j.profiles, 'Metadata_broad_sample');
  const iname = (getMeta(j.profiles, 'Metadata_pert_iname').values as (string | null)[]).slice();
  let controls = 0;
  for (let i = 0; i < samples.length; i++) {
    if (samples[i]?.toUpperCase() === 'DMSO') {
      controls++;
      if (iname[i] === null) iname[i] = 'DMSO';
    }
  }
  const profiles = withMeta(j.profiles, { name: 'Metadata_pert_iname', kind: 'string', values: iname });
  const unmatchedTreated = j.unmatched - controls;
  let emptyName = 0;
  for (let i = 0; i < iname.length; i++) if (iname[i] === null) emptyName++;
  const counts = {
    rows: profiles.X.rows,
    features: profiles.features.length,
    matched: j.matched,
    unmatched: j.unmatched,
    controls,
    unmatchedTreated,
    ambiguous: j.ambiguous,
    withoutPertIname: emptyName,
    compounds: distinct(iname.filter((v) => v !== 'DMSO')),
    broadIds: distinct(metaStrings(profiles, 'Metadata_broad_id')),
  };
  const notes = [
    `LINCS: ${j.matched}/${counts.rows} wells matched ${annotationsFile} by broad_id (first 13 characters of Metadata_broad_sample)`,
    `${j.unmatched} unmatched: ${controls} DMSO control wells (pert_iname "DMSO")` +
      (unmatchedTreated > 0 ? `, ${unmatchedTreated} treated wells without annotation (e.g. ${j.unmatchedKeys.filter((k) => k !== 'DMSO').slice(0, 3).join(', ')})` : ''),
  ];
  if (emptyName) notes.push(`${emptyName} wells matched a table row whose pert_iname is empty (kept, label null)`);
  return { profiles, ingest, counts, notes, join: j };
}

/**
 * Cell-injury (Dahlin et al. 2023) feature-selected well profiles. Column names carry spaces
 * and brackets (`Compound Concentration (microMolar)`, `Characteristics [Organism]`) and are
 * kept as they are; `injury_type` and `Compound Name` are also exposed as Metadata_injury_type
 * and Metadata_compound for the uniform label names the rest of phenomap uses.
 */
export async function cellInjuryRecipe(file: string, reporter?: Reporter): Promise<RecipeResult> {
  const { profiles: p, report: ingest } = await readProfiles(file, { reporter });
  const injury = metaStrings(p, 'injury_type');
  const compound = metaStrings(p, 'Compound Name');
  let profiles = withMeta(p, { name: 'Metadata_injury_type', kind: 'string', values: injury });
  profiles = withMeta(profiles, { name: 'Metadata_compound', kind: 'string', values: compound });
  const missing = injury.filter((v) => v === null).length;
  const counts = {
    rows: profiles.X.rows,
    features: profiles.features.length,
    injuryTypes: distinct(injury),
    compounds: distinct(compound),
    rowsWithoutInjuryType: missing,
  };
  const notes = [`cell-injury: ${counts.rows} wells, ${counts.injuryTypes} injury types, ${counts.compounds} compounds`];
  return { profiles, ingest, counts, notes };
}
