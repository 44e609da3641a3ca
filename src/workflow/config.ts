/**
 * The profiling config: one typed object, whose JSON schema is generated from the same zod
 * definition (`profileConfigJsonSchema`, written to docs/profile-config.schema.json), checked once
 * when it loads; every error names its key path. Every number someone might tune lives here
 * (style.md). YAML or JSON; relative paths are relative to the config file.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { LAYOUT_NAMES } from '../cells/layouts.js';
import { KEY_KINDS } from '../io/join.js';
import { FEATURE_SELECT_OPERATIONS } from '../preprocess/featureSelect.js';
import { NORMALIZE_METHODS } from '../preprocess/normalize.js';
import { InputError } from '../util/errors.js';

const nonEmpty = z.string().min(1);
const columns = z.array(nonEmpty).min(1);

export const ProfileConfigSchema = z
  .object({
    /** Output folder (replaced whole when the run completes). */
    output: nonEmpty.describe('output folder, replaced whole when the run completes'),
    /** Single-cell sources: SQLite files, Parquet files, CellProfiler CSV folders, folders of them, globs. */
    sources: z.array(nonEmpty).min(1).describe('single-cell sources (as for `phenomap cells aggregate`)'),
    cells: z
      .object({
        layout: z.enum(['auto', ...LAYOUT_NAMES]).default('auto'),
        compartments: columns.default(['Cells', 'Cytoplasm', 'Nuclei']),
        strata: columns.default(['Metadata_Plate', 'Metadata_Well']),
        /** Column naming the plate: per-plate steps and the output partitions follow it. */
        plateColumn: nonEmpty.default('Metadata_Plate'),
      })
      .strict()
      .default({ layout: 'auto', compartments: ['Cells', 'Cytoplasm', 'Nuclei'], strata: ['Metadata_Plate', 'Metadata_Well'], plateColumn: 'Metadata_Plate' }),
    aggregate: z
      .object({ operation: z.enum(['median', 'mean']).default('median'), perCompartment: z.boolean().default(false) })
      .strict()
      .default({ operation: 'median', perCompartment: false }),
    annotate: z
      .object({
        barcodePlatemap: nonEmpty.optional().describe('barcode_platemap.csv (Assay_Plate_Barcode → Plate_Map_Name)'),
        platemapDir: nonEmpty.optional().describe('folder of <Plate_Map_Name>.txt; default platemap/ beside barcodePlatemap'),
        platemap: nonEmpty.optional().describe('one plate map for every plate'),
        wellColumn: nonEmpty.default('Metadata_Well'),
        platemapWellColumn: nonEmpty.default('well_position'),
        external: z
          .array(
            z
              .object({
                file: nonEmpty,
                profileKey: nonEmpty,
                tableKey: nonEmpty,
                keyKind: z.enum(KEY_KINDS as unknown as [string, ...string[]]),
                columns: z.array(nonEmpty).optional(),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .refine((a) => !(a.barcodePlatemap && a.platemap), { message: 'give barcodePlatemap or platemap, not both' })
      .optional(),
    normalize: z
      .object({
        method: z.enum(NORMALIZE_METHODS as unknown as [string, ...string[]]).default('mad_robustize'),
        samples: nonEmpty.default('all').describe('reference rows: "all" or a query such as "Metadata_broad_sample == \'DMSO\'"'),
        madEpsilon: z.number().nonnegative().optional(),
        inverseNormalQuantiles: z.number().int().min(2).optional(),
      })
      .strict()
      .optional(),
    featureSelect: z
      .object({
        operations: z.array(z.enum(FEATURE_SELECT_OPERATIONS as unknown as [string, ...string[]])).min(1),
        samples: nonEmpty.default('all'),
        naCutoff: z.number().min(0).max(1).optional(),
        freqCut: z.number().min(0).max(1).optional(),
        uniqueCut: z.number().min(0).max(1).optional(),
        minVariance: z.number().nonnegative().optional(),
        corrThreshold: z.number().min(0).max(1).optional(),
        corrMethod: z.enum(['pearson', 'spearman']).optional(),
        blocklist: nonEmpty.optional().describe('file of feature names, one per line'),
        outlierCutoff: z.number().positive().optional(),
        noiseRemovalPerturbGroups: nonEmpty.optional().describe('noise_removal: metadata column naming each well\'s perturbation'),
        noiseRemovalStdevCutoff: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    consensus: z
      .object({ strata: columns, method: z.enum(['median', 'modz']).default('median') })
      .strict()
      .optional(),
  })
  .strict();

export type ProfileConfig = z.infer<typeof ProfileConfigSchema>;

/** The JSON schema of the config (docs/profile-config.schema.json is this, written by a test). */
export function profileConfigJsonSchema(): unknown {
  return z.toJSONSchema(ProfileConfigSchema, { io: 'input' });
}

function keyPath(path: readonly PropertyKey[]): string {
  return path.length ? path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)';
}

/** Check a parsed config; relative paths are resolved against `baseDir`. */
export function checkProfileConfig(raw: unknown, where: string, baseDir: string): ProfileConfig {
  const r = ProfileConfigSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) => `${keyPath(i.path)}: ${i.message}`);
    throw new InputError(`${where}: ${issues.join('; ')}${r.error.issues.length > 5 ? ` (+ ${r.error.issues.length - 5} more)` : ''}`);
  }
  const c = r.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  if (!c.cells.strata.includes(c.cells.plateColumn)) {
    throw new InputError(`${where}: cells.plateColumn ${c.cells.plateColumn} must be one of cells.strata (${c.cells.strata.join(', ')})`);
  }
  if (c.featureSelect?.operations.includes('blocklist') && !c.featureSelect.blocklist) {
    throw new InputError(`${where}: featureSelect.operations has blocklist but featureSelect.blocklist names no file`);
  }
  if (c.featureSelect?.operations.includes('noise_removal') && !c.featureSelect.noiseRemovalPerturbGroups) {
    throw new InputError(`${where}: featureSelect.operations has noise_removal but featureSelect.noiseRemovalPerturbGroups names no column`);
  }
  return {
    ...c,
    output: abs(c.output),
    sources: c.sources.map(abs),
    annotate: c.annotate && {
      ...c.annotate,
      barcodePlatemap: c.annotate.barcodePlatemap && abs(c.annotate.barcodePlatemap),
      platemapDir: c.annotate.platemapDir && abs(c.annotate.platemapDir),
      platemap: c.annotate.platemap && abs(c.annotate.platemap),
      external: c.annotate.external.map((e) => ({ ...e, file: abs(e.file) })),
    },
    featureSelect: c.featureSelect && { ...c.featureSelect, blocklist: c.featureSelect.blocklist && abs(c.featureSelect.blocklist) },
  };
}

/** Read and check a YAML or JSON config file. */
export function loadProfileConfig(path: string): ProfileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError(`${path}: cannot read the config file`);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new InputError(`${path}: not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'} (${(e as Error).message.split('\n')[0]})`);
  }
  return checkProfileConfig(raw, path, dirname(resolve(path)));
}
