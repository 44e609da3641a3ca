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
import { CORRECTION_NAMES, correctionByName } from '../batch/registry.js';
import { checkOptions } from '../batch/options.js';
import { InputError, isUserError } from '../util/errors.js';

const nonEmpty = z.string().min(1);
const columns = z.array(nonEmpty).min(1);

export const ProfileConfigSchema = z
  .object({
    /** Output folder (replaced whole when the run completes). */
    output: nonEmpty.describe('output folder, replaced whole when the run completes'),
    /** Single-cell sources: SQLite files, Parquet files, CellProfiler CSV folders, folders of them, globs. */
    sources: z.array(nonEmpty).min(1).describe('single-cell sources (as for `phenomap cells aggregate`)'),
    /** Only these plates (values of cells.plateColumn); each must be in one of the sources. */
    plates: z.array(nonEmpty).min(1).optional().describe('profile only these plates; a plate no source holds is an error'),
    /** How plates with different features combine across plates: refused, or their shared features. */
    featureJoin: z.enum(['same', 'intersection']).default('same').describe('plates measuring different features: "same" refuses them, "intersection" keeps the shared ones (each dropped feature listed)'),
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
    correct: z
      .object({
        method: z.enum(CORRECTION_NAMES as [string, ...string[]]).describe('batch correction of the selected profiles: sphere (to negative controls), combat, harmony'),
        batchColumn: nonEmpty.optional().describe('metadata column holding the batch (plate, batch, source, microscope); default cells.plateColumn'),
        controls: nonEmpty.optional().describe('query selecting the negative-control wells, e.g. "Metadata_compound == \'DMSO\'" (sphere needs it)'),
        options: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({}).describe('options of the correction (as run --correct-opt), e.g. {nClusters: 50}'),
        labelColumn: nonEmpty.optional().describe('with compoundColumn: batch-mixing and biology metrics before / after the correction (batch_correction.json)'),
        compoundColumn: nonEmpty.optional().describe('compound names for the before / after metrics (replicates, NSC)'),
      })
      .strict()
      .optional()
      .describe('correct batch effects after feature selection: consensus and clustering read the corrected profiles (corrected/<plateColumn>=<plate>/profiles.parquet)'),
    consensus: z
      .object({ strata: columns, method: z.enum(['median', 'modz']).default('median') })
      .strict()
      .optional(),
    cluster: z
      .object({
        on: z.enum(['consensus', 'profiles']).optional().describe('table to cluster; default consensus when configured, else the well profiles'),
        method: z.enum(['sparse-ap', 'louvain']).default('sparse-ap'),
        k: z.number().int().min(1).default(20).describe('neighbours per profile in the k-NN graph'),
        knn: z.enum(['auto', 'exact', 'hnsw']).default('auto').describe('auto: exact up to 20,000 rows, HNSW above'),
        shards: z.number().int().min(1).default(2).describe('k-NN index shards (one job each; each queries every profile)'),
        seed: z.number().int().min(0).default(0),
        hnsw: z
          .object({ m: z.number().int().min(2).default(16), efConstruction: z.number().int().min(1).default(100), efSearch: z.number().int().min(1).optional() })
          .strict()
          .default({ m: 16, efConstruction: 100 }),
        damping: z.number().min(0.5).lt(1).default(0.5),
        maxIter: z.number().int().min(1).default(200),
        convergenceIter: z.number().int().min(1).default(15),
        convergenceTolerance: z.number().min(0).max(1).default(1e-3).describe('sparse AP: fraction of points still changing when convergence is declared'),
        preferencePairs: z.number().int().min(1).default(200000).describe('sparse AP preference: median of −d² over this many seeded random pairs'),
        resolution: z.number().positive().default(1).describe('Louvain resolution'),
        labelColumn: nonEmpty.optional().describe('metadata column (e.g. MoA) whose enrichment in the clusters is tested'),
        minLabel: z.number().int().min(1).default(5).describe('enrichment: labels carried by fewer rows are not tested'),
        alpha: z.number().gt(0).lt(1).default(0.01).describe('enrichment: significance level'),
      })
      .strict()
      .optional(),
    workflow: z
      .object({
        mergeFanIn: z.number().int().min(2).default(64).describe('partial statistics merged per merge job (a tree above that)'),
        command: z.array(nonEmpty).min(1).optional().describe('how jobs run phenomap, e.g. ["/usr/bin/node", "/opt/phenomap/bin/phenomap.js"]; default: this installation'),
        jobs: z.number().int().min(1).default(100).describe('Slurm jobs in flight at once'),
        platesPerJob: z.number().int().min(1).default(1).describe('Slurm: plate jobs bundled into one submission (Snakemake group components)'),
        appliesPerJob: z.number().int().min(1).default(50).describe('Slurm: per-plate feature-subset jobs bundled into one submission'),
        latencyWait: z.number().int().min(0).default(30).describe('seconds to wait for outputs to appear on a shared file system'),
        resources: z
          .partialRecord(
            z.enum(['plate', 'merge_stats', 'select', 'apply', 'correct', 'consensus', 'knn_shard', 'knn_merge', 'cluster', 'report']),
            z.object({ threads: z.number().int().min(1).optional(), memMb: z.number().int().min(1).optional(), runtimeMin: z.number().int().min(1).optional() }).strict(),
          )
          .default({})
          .describe('per rule: threads, memMb (Slurm --mem), runtimeMin (Slurm --time)'),
      })
      .strict()
      .default({ mergeFanIn: 64, jobs: 100, platesPerJob: 1, appliesPerJob: 50, latencyWait: 30, resources: {} }),
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
  if (c.cluster?.on === 'consensus' && !c.consensus) throw new InputError(`${where}: cluster.on is consensus but there is no consensus section`);
  if (c.correct) {
    const k = c.correct;
    if (k.method === 'sphere' && !k.controls) throw new InputError(`${where}: correct.method sphere needs correct.controls (a query selecting the negative-control wells)`);
    if (!!k.labelColumn !== !!k.compoundColumn) throw new InputError(`${where}: correct.labelColumn and correct.compoundColumn go together (both name the columns of the before / after metrics)`);
    try {
      checkOptions(k.options, correctionByName(k.method).constraints, 'correct.options');
    } catch (e) {
      if (isUserError(e)) throw new InputError(`${where}: ${(e as Error).message}`);
      throw e;
    }
  }
  if (c.plates && new Set(c.plates).size !== c.plates.length) {
    throw new InputError(`${where}: plates names ${c.plates.find((p, i) => c.plates!.indexOf(p) !== i)} twice`);
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
