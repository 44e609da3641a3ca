/**
 * `cells merge`: one row per linked cell — the compartments joined by their parent links
 * (link.ts), the image's key and strata attached — written block by block (one well at a time)
 * to CSV(.gz) or Parquet, so a plate of any size passes through bounded memory.
 *
 * The rows and features are pycytominer's `SingleCells.merge_single_cells()` (db0c469c). The
 * metadata differs on purpose: the object numbers are `Metadata_ObjectNumber_<compartment>` for
 * every compartment (pycytominer leaves the last one unsuffixed) and the hub's parent columns,
 * which repeat those numbers, are not written again.
 */
import { openTableWriter, type ColumnSpec, type RowBlock, type TableWriter } from '../io/tableWriter.js';
import { InputError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import { silentReporter } from '../util/log.js';
import { featureNames } from './aggregate.js';
import { emptyLinkCounts, linkWell } from './link.js';
import type { PlateSchema, PlateSource } from './schema.js';
import { preview } from './schema.js';
import { planSources, resolveSourceOptions, withSource, type CellSourceOptions } from './sources.js';
import { sourceWarnings, type SourceReport } from './wellProfiles.js';

export interface CellsMergeOptions extends CellSourceOptions {
  reporter?: Reporter;
}

export interface CellsMergeReport {
  readonly out: string;
  readonly strata: string[];
  readonly sources: SourceReport[];
  /** Rows written (linked cells). */
  readonly cells: number;
  readonly features: number;
  readonly columns: string[];
  readonly warnings: string[];
  readonly seconds: number;
}

interface Layout {
  readonly meta: ColumnSpec[];
  readonly features: string[];
  readonly hasTable: boolean;
  readonly site: boolean;
}

function outputLayout(schema: PlateSchema, strata: readonly string[]): Layout {
  const hasTable = schema.images.tableNumber !== null;
  const site = !strata.includes('Metadata_Site') && schema.images.meta.some((m) => m.name === 'Metadata_Site');
  const kindOf = (name: string): 'string' | 'number' => schema.images.meta.find((m) => m.name === name)?.kind ?? 'string';
  const meta: ColumnSpec[] = [
    ...(hasTable ? [{ name: 'Metadata_TableNumber', kind: 'string' as const }] : []),
    { name: 'Metadata_ImageNumber', kind: 'number' },
    ...strata.map((s) => ({ name: s, kind: kindOf(s) })),
    ...(site ? [{ name: 'Metadata_Site', kind: kindOf('Metadata_Site') }] : []),
    ...(schema.linking ? schema.compartments.map((c) => ({ name: `Metadata_ObjectNumber_${c.name.toLowerCase()}`, kind: 'number' as const })) : []),
  ];
  return { meta, features: featureNames(schema), hasTable, site };
}

async function mergeSource(source: PlateSource, layout: Layout, strata: readonly string[], writer: TableWriter, report: (r: { cells: number; links: ReturnType<typeof emptyLinkCounts>; objects: Record<string, number> }) => void, reporter: Reporter): Promise<void> {
  const schema = source.schema;
  const mine = featureNames(schema);
  const nf = layout.features.length;
  const colOf = Int32Array.from(layout.features, (f) => mine.indexOf(f));
  const offsets: number[] = [];
  let off = 0;
  for (const c of schema.compartments) {
    offsets.push(off);
    off += c.features.length;
  }
  const compAt = new Int32Array(mine.length);
  const inComp = new Int32Array(mine.length);
  schema.compartments.forEach((c, ci) => c.features.forEach((_, j) => {
    compAt[offsets[ci]! + j] = ci;
    inComp[offsets[ci]! + j] = j;
  }));
  const strataCols = strata.map((s) => schema.images.meta.find((m) => m.name === s)!);
  const siteCol = layout.site ? schema.images.meta.find((m) => m.name === 'Metadata_Site') : undefined;
  const links = emptyLinkCounts();
  const objects: Record<string, number> = Object.fromEntries(schema.compartments.map((c) => [c.name, 0]));
  let cells = 0;
  const progress = reporter.progress(`merging ${schema.source}`, schema.wells.keys.length);
  let done = 0;
  for await (const well of source.wells()) {
    schema.compartments.forEach((c, ci) => (objects[c.name]! += well.compartments[ci]!.n));
    const linked = linkWell(schema, well, links);
    const n = linked.n;
    cells += n;
    progress.tick(++done);
    if (n === 0) continue;
    const hubAt = schema.linking ? schema.compartments.findIndex((c) => c.name === schema.linking!.hub) : 0;
    const hub = well.compartments[hubAt]!;
    const image = Int32Array.from(linked.rows[hubAt]!, (r) => hub.image[r]!);
    const meta: RowBlock['meta'][number][] = [];
    const cellValue = (col: (typeof strataCols)[number] | undefined, im: number): string | number | null => {
      if (!col || im < 0) return null;
      const v = col.values[im];
      return col.kind === 'number' ? (Number.isNaN(v as number) ? null : (v as number)) : ((v as string | null) ?? null);
    };
    if (layout.hasTable) meta.push(Array.from(image, (im) => (im < 0 ? null : schema.images.tableNumber?.[im] ?? null)));
    meta.push(Float64Array.from(image, (im) => (im < 0 ? NaN : schema.images.imageNumber[im]!)));
    for (const col of strataCols) meta.push(Array.from(image, (im) => cellValue(col, im)));
    if (layout.site) meta.push(Array.from(image, (im) => cellValue(siteCol, im)));
    if (schema.linking) schema.compartments.forEach((_, ci) => meta.push(Float64Array.from(linked.rows[ci]!, (r) => well.compartments[ci]!.object[r]!)));
    const X = new Float64Array(n * nf);
    for (let k = 0; k < n; k++) {
      const o = k * nf;
      for (let j = 0; j < nf; j++) {
        const g = colOf[j]!;
        const ci = compAt[g]!;
        const rows = well.compartments[ci]!;
        X[o + j] = rows.X[linked.rows[ci]![k]! * schema.compartments[ci]!.features.length + inComp[g]!]!;
      }
    }
    await writer.append({ rows: n, meta, X });
  }
  progress.done();
  report({ cells, links, objects });
}

/** Merge the single cells of every source into one table of linked cells at `out`. */
export async function mergeCells(args: readonly string[], out: string, opts: CellsMergeOptions = {}): Promise<CellsMergeReport> {
  const t0 = performance.now();
  const so = resolveSourceOptions(opts);
  const reporter = opts.reporter ?? silentReporter;
  const plans = planSources(args, so);
  let writer: TableWriter | null = null;
  let layout: Layout | null = null;
  const reports: SourceReport[] = [];
  try {
    for (const plan of plans) {
      const t1 = performance.now();
      reporter.info(`reading ${plan.label}`);
      await withSource(plan, async (source) => {
        const schema = source.schema;
        if (!schema.linking && schema.linkProblem) throw new InputError(schema.linkProblem);
        const mine = outputLayout(schema, so.strata);
        if (!layout) {
          layout = mine;
          writer = await openTableWriter(out, layout.meta, layout.features);
        } else {
          const have = new Set(mine.features);
          const missing = layout.features.filter((f) => !have.has(f));
          if (missing.length || mine.features.length !== layout.features.length) {
            throw new InputError(`${schema.source} measures different features from ${reports[0]?.source ?? 'the first source'} (${missing.length ? `missing ${preview(missing, 3)}` : 'extra columns'}); merge plates of one CellProfiler pipeline`);
          }
        }
        await mergeSource(source, layout, so.strata, writer!, (r) => {
          reports.push({
            source: schema.source,
            layout: schema.layout,
            images: schema.images.n,
            wells: schema.wells.keys.length,
            profiles: 0,
            objects: r.objects,
            cells: r.cells,
            links: r.links,
            textNumbers: { ...source.counts.textNumbers },
            orphanObjects: { ...source.counts.orphanObjects },
            emptyFiles: [...source.counts.emptyFiles],
            rowReaders: { ...source.counts.rowReaders },
            droppedWells: [],
            seconds: (performance.now() - t1) / 1000,
          });
        }, reporter);
      });
    }
    const cells = reports.reduce((a, r) => a + r.cells, 0);
    if (cells === 0) throw new InputError(`${plans.map((p) => p.label).join(', ')}: no linked cells to write`);
    await (writer as TableWriter | null)?.close();
    writer = null;
    const warnings = reports.flatMap(sourceWarnings);
    for (const w of warnings) reporter.warn(w);
    const l = layout as Layout | null;
    return {
      out,
      strata: [...so.strata],
      sources: reports,
      cells,
      features: l?.features.length ?? 0,
      columns: l ? [...l.meta.map((m) => m.name), ...l.features] : [],
      warnings,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    if (writer) await (writer as TableWriter).abort();
  }
}
