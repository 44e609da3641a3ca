/**
 * `phenomap profile CONFIG`: a whole profiling run on one machine, the cytomining profiling
 * recipe's order. Plate by plate (one source open at a time): single cells → well profiles
 * (cells/) → plate-map and compound annotation → normalisation against the plate's own
 * reference rows. Then across plates: feature selection → the selected profiles as a Parquet
 * dataset partitioned by plate (`profiles/<plateColumn>=<plate>/profiles.parquet`) → consensus.
 *
 * Every per-plate step writes its table (`plates/<plate>/<plate>_{aggregated,annotated,
 * normalized}.parquet`), the inputs of the global steps and of the cluster workflow built on
 * this; `profile_report.json` and an offline page, `profile_report.html` (plate layouts of cells
 * per well, feature selection, warnings). The run is staged in a sibling folder and replaces `output` whole only when complete, so
 * an interrupted run leaves the previous output (or nothing), never a mixture.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { planSources, resolveSourceOptions } from '../cells/sources.js';
import { OBJECT_COUNT, stackPlates, sourceWarnings, type SourceReport } from '../cells/wellProfiles.js';
import { writeProfilePage } from '../report/profileReport.js';
import type { LayoutName } from '../cells/layouts.js';
import { readFeatureList } from '../io/featureList.js';
import { joinAnnotations, type KeyKind } from '../io/join.js';
import type { Profiles } from '../io/profiles.js';
import { metaStrings, subsetRows } from '../io/profiles.js';
import { readTable, writeProfiles } from '../io/read.js';
import { readProfileTables } from '../io/readMany.js';
import { annotatePlatemap } from '../preprocess/annotate.js';
import { consensus, type ConsensusReport } from '../preprocess/consensus.js';
import { featureSelect, type FeatureSelectOperation, type FeatureSelectReport } from '../preprocess/featureSelect.js';
import { normalize, type NormalizeMethod } from '../preprocess/normalize.js';
import type { CorrelationMethod } from '../preprocess/correlation.js';
import { InputError } from '../util/errors.js';
import { CollectingReporter, silentReporter, type Reporter } from '../util/log.js';
import type { ProfileConfig } from './config.js';

export interface PlateStep {
  readonly plate: string;
  readonly source: string;
  readonly wells: number;
  readonly cells: number;
  /** Cells of each well (by the well column), for the plate-layout picture. */
  readonly cellsPerWell: Record<string, number>;
  readonly annotation?: { matched: number; unmatched: number; columns: string[] };
  readonly normalization?: { referenceRows: number; featuresOut: number; droppedFeatures: number };
  readonly files: Record<string, string>;
}

export interface ProfileRunReport {
  readonly output: string;
  readonly sources: SourceReport[];
  readonly plates: PlateStep[];
  readonly featureSelect: FeatureSelectReport | null;
  readonly profiles: { rows: number; features: number; dataset: string; files: string[] };
  readonly consensus: (Pick<ConsensusReport, 'method' | 'strata' | 'nRowsIn' | 'nGroups'> & { file: string }) | null;
  readonly warnings: string[];
  readonly seconds: number;
}

/** A plate name as a folder name: path separators and the like become '_'. */
export function plateFolderName(plate: string): string {
  return plate.replace(/[/\\:*?"<>|\s]+/g, '_') || '_';
}

function rowsByPlate(p: Profiles, column: string): Map<string, number[]> {
  const values = metaStrings(p, column);
  const out = new Map<string, number[]>();
  values.forEach((v, i) => {
    const k = v ?? '(missing)';
    out.set(k, [...(out.get(k) ?? []), i]);
  });
  return out;
}

export async function runProfile(config: ProfileConfig, opts: { reporter?: Reporter } = {}): Promise<ProfileRunReport> {
  const t0 = performance.now();
  const reporter = opts.reporter ?? silentReporter;
  const out = config.output;
  const staging = join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const staged = await runStaged(config, staging, reporter);
    const relocate = (p: string) => (p.startsWith(staging) ? out + p.slice(staging.length) : p);
    const report: ProfileRunReport = {
      ...staged,
      output: out,
      plates: staged.plates.map((s) => ({ ...s, files: Object.fromEntries(Object.entries(s.files).map(([k, v]) => [k, relocate(v)])) })),
      profiles: { ...staged.profiles, dataset: relocate(staged.profiles.dataset), files: staged.profiles.files.map(relocate) },
      consensus: staged.consensus && { ...staged.consensus, file: relocate(staged.consensus.file) },
      seconds: (performance.now() - t0) / 1000,
    };
    writeFileSync(join(staging, 'profile_report.json'), JSON.stringify({ ...report, config }, null, 2));
    await writeProfilePage(join(staging, 'profile_report.html'), {
      title: `phenomap profile: ${report.plates.length} plate(s)`,
      plates: report.plates.map((p) => ({
        plate: p.plate, source: p.source, wells: p.wells, cells: p.cells,
        annotated: p.annotation ? `${p.annotation.matched} of ${p.annotation.matched + p.annotation.unmatched}` : undefined,
        reference: p.normalization?.referenceRows,
      })),
      cellsPerWell: report.plates.map((p) => ({ plate: p.plate, cells: p.cellsPerWell })),
      featureSelection: report.featureSelect?.operations ?? null,
      features: report.featureSelect ? { in: report.featureSelect.featuresIn, out: report.featureSelect.kept } : null,
      outputs: [
        { what: 'profiles (partitioned by plate)', path: report.profiles.dataset },
        ...(report.consensus ? [{ what: 'consensus', path: report.consensus.file }] : []),
        { what: 'per-plate tables', path: join(out, 'plates') },
        { what: 'report (JSON)', path: join(out, 'profile_report.json') },
      ],
      warnings: report.warnings,
    });
    // Swap the finished run into place.
    const old = join(dirname(out), `.${basename(out)}.old-${process.pid}`);
    if (existsSync(out)) renameSync(out, old);
    renameSync(staging, out);
    rmSync(old, { recursive: true, force: true });
    return report;
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

async function runStaged(config: ProfileConfig, dir: string, reporter: Reporter): Promise<ProfileRunReport> {
  const so = resolveSourceOptions({
    layout: config.cells.layout === 'auto' ? undefined : (config.cells.layout as LayoutName),
    compartments: config.cells.compartments,
    strata: config.cells.strata,
  });
  const plateCol = config.cells.plateColumn;
  const warnings: string[] = [];
  const sources: SourceReport[] = [];
  const plates: PlateStep[] = [];
  const seen = new Map<string, string>();
  const externals = await Promise.all((config.annotate?.external ?? []).map(async (e) => ({ spec: e, table: await readTable(e.file) })));

  for (const plan of planSources(config.sources, so)) {
    const t1 = performance.now();
    reporter.info(`profiling ${plan.label}`);
    const { agg, counts } = await plan.aggregate({ operation: config.aggregate.operation, perCompartment: config.aggregate.perCompartment, reporter });
    const r: SourceReport = {
      source: agg.schema.source, layout: agg.schema.layout, images: agg.schema.images.n, wells: agg.schema.wells.keys.length, profiles: agg.wells.length,
      objects: agg.objects, cells: agg.cells, links: agg.links, textNumbers: { ...counts.textNumbers }, orphanObjects: { ...counts.orphanObjects },
      emptyFiles: [...counts.emptyFiles], droppedWells: agg.droppedWells, seconds: (performance.now() - t1) / 1000,
    };
    sources.push(r);
    warnings.push(...sourceWarnings(r));
    if (!agg.wells.length) continue;
    const wells = stackPlates([agg], so.strata);
    for (const [plate, rows] of rowsByPlate(wells, plateCol)) {
      const prev = seen.get(plate);
      if (prev !== undefined) throw new InputError(`plate ${plate} appears in both ${prev} and ${plan.label}; each plate must come from one source`);
      seen.set(plate, plan.label);
      const folder = join(dir, 'plates', plateFolderName(plate));
      const stem = join(folder, plateFolderName(plate));
      const files: Record<string, string> = {};
      let p = subsetRows(wells, rows);
      const counts = wells.meta.find((m) => m.name === OBJECT_COUNT)!.values as Float64Array;
      const wellNames = metaStrings(wells, config.annotate?.wellColumn ?? 'Metadata_Well');
      const cellsPerWell: Record<string, number> = {};
      for (const i of rows) cellsPerWell[wellNames[i] ?? `row ${i}`] = counts[i]!;
      const cells = Array.from(rows, (i) => counts[i]!).reduce((a, b) => a + b, 0);
      files.aggregated = `${stem}_aggregated.parquet`;
      await writeProfiles(files.aggregated, p);
      let annotation: PlateStep['annotation'];
      if (config.annotate) {
        const a = config.annotate;
        const cols: string[] = [];
        let matched = p.X.rows, unmatched = 0;
        if (a.barcodePlatemap || a.platemap) {
          const r = await annotatePlatemap(p, {
            barcodePlatemap: a.barcodePlatemap, platemapDir: a.platemapDir, platemap: a.platemap,
            plateColumn: plateCol, wellColumn: a.wellColumn, platemapWellColumn: a.platemapWellColumn,
          });
          p = r.profiles;
          matched = r.report.matched;
          unmatched = r.report.unmatched;
          cols.push(...r.report.addedColumns);
          warnings.push(...r.report.warnings.map((w) => `plate ${plate}: ${w}`));
        }
        for (const { spec, table } of externals) {
          const j = joinAnnotations(p, table, { profileKey: spec.profileKey, tableKey: spec.tableKey, keyKind: spec.keyKind as KeyKind, columns: spec.columns });
          p = j.profiles;
          cols.push(...j.addedColumns);
          if (j.unmatched) warnings.push(`plate ${plate}: ${j.unmatched} well(s) found no row in ${spec.file} by ${spec.profileKey} (kept unannotated; e.g. ${j.unmatchedKeys.slice(0, 3).join(', ')})`);
        }
        annotation = { matched, unmatched, columns: cols };
        files.annotated = `${stem}_annotated.parquet`;
        await writeProfiles(files.annotated, p);
      }
      let normalization: PlateStep['normalization'];
      if (config.normalize) {
        const steps = new CollectingReporter();
        const n = normalize(p, {
          method: config.normalize.method as NormalizeMethod, samples: config.normalize.samples, madEpsilon: config.normalize.madEpsilon,
          inverseNormalQuantiles: config.normalize.inverseNormalQuantiles, reporter: steps,
        });
        warnings.push(...steps.warnings.map((w) => `plate ${plate}: ${w}`));
        p = n.profiles;
        normalization = { referenceRows: n.report.strata[0]?.nReference ?? 0, featuresOut: n.report.featuresOut, droppedFeatures: n.report.droppedFeatures.length };
        for (const d of n.report.droppedFeatures.slice(0, 3)) warnings.push(`plate ${plate}: normalization dropped ${d.name}: ${d.reason}`);
        files.normalized = `${stem}_normalized.parquet`;
        await writeProfiles(files.normalized, p);
      }
      plates.push({ plate, source: plan.label, wells: p.X.rows, cells, cellsPerWell, annotation, normalization, files });
    }
  }
  if (!plates.length) throw new InputError(`${config.sources.join(', ')}: no plate gave any well profile`);

  // Across plates: feature selection on the last per-plate tables, then the partitioned dataset.
  const last = plates.map((s) => s.files.normalized ?? s.files.annotated ?? s.files.aggregated!);
  const all = (await readProfileTables(last, { metadata: ['Metadata_*'] })).profiles;
  let selected = all;
  let fsReport: FeatureSelectReport | null = null;
  if (config.featureSelect) {
    const f = config.featureSelect;
    const r = featureSelect(all, {
      operations: f.operations as FeatureSelectOperation[], samples: f.samples, naCutoff: f.naCutoff, freqCut: f.freqCut, uniqueCut: f.uniqueCut,
      minVariance: f.minVariance, corrThreshold: f.corrThreshold, corrMethod: f.corrMethod as CorrelationMethod | undefined,
      blocklist: f.blocklist ? readFeatureList(f.blocklist) : undefined, outlierCutoff: f.outlierCutoff,
      noiseRemovalPerturbGroups: f.noiseRemovalPerturbGroups, noiseRemovalStdevCutoff: f.noiseRemovalStdevCutoff,
    });
    selected = r.profiles;
    fsReport = r.report;
    warnings.push(...r.report.warnings);
  }
  const dataset = join(dir, 'profiles');
  const files: string[] = [];
  for (const [plate, rows] of rowsByPlate(selected, plateCol)) {
    const f = join(dataset, `${plateCol}=${encodeURIComponent(plate)}`, 'profiles.parquet');
    await writeProfiles(f, subsetRows(selected, rows));
    files.push(f);
  }
  let cons: ProfileRunReport['consensus'] = null;
  if (config.consensus) {
    const c = consensus(selected, { strata: config.consensus.strata, method: config.consensus.method });
    const file = join(dir, 'consensus.parquet');
    await writeProfiles(file, c.profiles);
    cons = { method: c.report.method, strata: c.report.strata, nRowsIn: c.report.nRowsIn, nGroups: c.report.nGroups, file };
    warnings.push(...c.report.warnings);
  }
  for (const w of warnings) reporter.warn(w);
  return {
    output: dir,
    sources,
    plates,
    featureSelect: fsReport,
    profiles: { rows: selected.X.rows, features: selected.features.length, dataset, files },
    consensus: cons,
    warnings,
    seconds: 0,
  };
}
