/**
 * CellProfiler-shaped single-cell plates at any size, in every layout phenomap reads — for
 * benchmarks (a 384-well plate of 10⁶ cells) and for tests (the same cells in every layout must
 * give the same well profiles).
 *
 * One seed fixes the cells whatever the layout: images are visited in order, and each image's
 * objects are drawn before any is written. Plate: `wells` wells (A01, A02, … row by row) × `sites`
 * images; cells fall on images uniformly at random. Each image's cells are linked 1:1:1 (object
 * k of Cytoplasm has Parent_Cells = Parent_Nuclei = k); a fraction `extraNuclei` of further nuclei
 * belong to no cell, as in real segmentations. Feature j of a compartment is
 * base_j + scale_j · (well effect_{w,j} + N(0, 1)), base_j log-uniform over 10⁻²…10³.
 *
 * Layout shapes (as the real files in ../shared/data/singlecell):
 * - spreadsheet: a folder per site `<plate>-<well>-<site>` with Image.csv (ImageNumber 1) and
 *   Cells.csv / Cytoplasm.csv / Nuclei.csv whose columns carry no compartment prefix;
 * - cellprofiler-sqlite: Per_Image (Image_Metadata_*), Per_<Object> with `<Object>_Number_Object_Number`;
 * - cytominer-sqlite: Image / Cells / Cytoplasm / Nuclei keyed by (TableNumber, ImageNumber,
 *   ObjectNumber), with the profiling recipe's indexes;
 * - parquet: one row per linked cell (what `cells merge` and CytoTable write).
 * Memory is one image's objects, whatever the plate size.
 */
import Database from 'better-sqlite3';
import { mkdirSync, rmSync, createWriteStream, existsSync, readdirSync, renameSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { join, dirname, basename } from 'node:path';
import { openTableWriter, type TableWriter } from '../io/tableWriter.js';
import { InputError, UsageError } from '../util/errors.js';
import { silentReporter, type Reporter } from '../util/log.js';
import { Rng } from '../linalg/rng.js';
import { LAYOUT_NAMES, type LayoutName } from './layouts.js';

export interface SingleCellSynthOptions {
  layout: LayoutName;
  /** Cells on the plate. */
  cells: number;
  /** Features per compartment (besides keys and parent links). */
  features: number;
  wells?: number;
  sites?: number;
  seed?: number;
  plate?: string;
  /** Unlinked nuclei as a fraction of cells. Default 0.02. */
  extraNuclei?: number;
  /** SQLite layouts: create the profiling recipe's indexes. Default true. */
  index?: boolean;
}

export interface SingleCellSynthResult {
  readonly out: string;
  readonly layout: LayoutName;
  readonly cells: number;
  readonly nuclei: number;
  readonly images: number;
  readonly wells: number;
  readonly features: number;
  readonly bytes: number;
  readonly seconds: number;
}

const CHANNELS = ['DNA', 'ER', 'RNA', 'AGP', 'Mito'];

/** n CellProfiler measurement names (without compartment), spread over the measurement groups. */
export function measurementNames(n: number): string[] {
  const pool: string[] = [];
  for (const m of ['Area', 'Perimeter', 'FormFactor', 'Eccentricity', 'Solidity', 'Extent', 'MajorAxisLength', 'MinorAxisLength', 'Compactness', 'MeanRadius', 'MaxFeretDiameter', 'MinFeretDiameter', 'Orientation']) pool.push(`AreaShape_${m}`);
  for (let i = 0; i < 10; i++) for (let j = i % 2; j <= i; j += 2) pool.push(`AreaShape_Zernike_${i}_${j}`);
  for (const c of CHANNELS) {
    for (const m of ['IntegratedIntensity', 'MeanIntensity', 'StdIntensity', 'MedianIntensity', 'MADIntensity', 'MaxIntensity', 'MinIntensity', 'LowerQuartileIntensity', 'UpperQuartileIntensity', 'MassDisplacement', 'IntegratedIntensityEdge', 'MeanIntensityEdge']) pool.push(`Intensity_${m}_${c}`);
    for (let k = 1; k <= 16; k++) pool.push(`Granularity_${k}_${c}`);
    for (const m of ['FracAtD', 'MeanFrac', 'RadialCV']) for (let k = 1; k <= 4; k++) pool.push(`RadialDistribution_${m}_${c}_${k}of4`);
    for (const s of [3, 5, 10, 20]) {
      for (const m of ['AngularSecondMoment', 'Contrast', 'Correlation', 'DifferenceEntropy', 'DifferenceVariance', 'Entropy', 'InfoMeas1', 'InfoMeas2', 'InverseDifferenceMoment', 'SumAverage', 'SumEntropy', 'SumVariance', 'Variance']) {
        pool.push(`Texture_${m}_${c}_${s}_00_256`);
      }
    }
    for (const m of ['CenterMassIntensity_X', 'CenterMassIntensity_Y', 'MaxIntensity_X', 'MaxIntensity_Y']) pool.push(`Location_${m}_${c}`);
  }
  for (let a = 0; a < CHANNELS.length; a++) for (let b = a + 1; b < CHANNELS.length; b++) for (const m of ['Correlation', 'K', 'Manders', 'Overlap', 'RWC', 'Costes']) pool.push(`Correlation_${m}_${CHANNELS[a]}_${CHANNELS[b]}`);
  if (n > pool.length) {
    for (let i = pool.length; i < n; i++) pool.push(`Texture_Extra${i}_${CHANNELS[i % 5]}_3_00_256`);
  }
  // A spread over all groups, not the first ones only.
  if (n >= pool.length) return pool.slice(0, n);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(pool[Math.round((i * (pool.length - 1)) / Math.max(1, n - 1))]!);
  return [...new Set(out)].length === n ? out : pool.slice(0, n);
}

/** A01 … P24: the wells of a 384-well plate, row by row. */
function wellName(i: number): string {
  return `${String.fromCharCode(65 + Math.floor(i / 24))}${String((i % 24) + 1).padStart(2, '0')}`;
}

/** A stable 32-hex-digit TableNumber per site (cytominer-database uses an md5 of the site). */
function tableNumber(plate: string, well: string, site: number): string {
  let out = '';
  let h = 0x811c9dc5;
  const s = `${plate}/${well}/${site}`;
  for (let r = 0; r < 4; r++) {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    h = Math.imul(h ^ r, 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out;
}

const COMPARTMENTS = ['Cells', 'Cytoplasm', 'Nuclei'] as const;

/** One image's objects: per compartment k × features values, row-major. */
interface ImageObjects {
  image: number;
  well: number;
  site: number;
  cells: number;
  nuclei: number;
  X: Float64Array[];
}

interface Sink {
  image(o: ImageObjects): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

function validate(opts: SingleCellSynthOptions): Required<Omit<SingleCellSynthOptions, 'plate'>> & { plate: string } {
  if (!LAYOUT_NAMES.includes(opts.layout)) throw new UsageError(`--layout must be one of ${LAYOUT_NAMES.join(', ')}`);
  const wells = opts.wells ?? 384;
  const sites = opts.sites ?? 9;
  const extraNuclei = opts.extraNuclei ?? 0.02;
  if (!(Number.isInteger(opts.cells) && opts.cells >= 1)) throw new UsageError('--cells must be a whole number ≥ 1');
  if (!(Number.isInteger(opts.features) && opts.features >= 1 && opts.features <= 1990)) throw new UsageError('--features must be a whole number in 1…1990 (SQLite allows 2,000 columns a table)');
  if (!(Number.isInteger(wells) && wells >= 1 && wells <= 384)) throw new UsageError('--wells must be a whole number in 1…384');
  if (!(Number.isInteger(sites) && sites >= 1)) throw new UsageError('--sites must be a whole number ≥ 1');
  if (!(extraNuclei >= 0 && extraNuclei <= 1)) throw new UsageError('--extra-nuclei must be in [0, 1]');
  return { layout: opts.layout, cells: opts.cells, features: opts.features, wells, sites, seed: opts.seed ?? 0, plate: opts.plate ?? 'SYNTH0001', extraNuclei, index: opts.index ?? true };
}

/** Write a synthetic single-cell plate to `out` (a folder for the spreadsheet layout, else a file). */
export async function writeSingleCellPlate(out: string, options: SingleCellSynthOptions, reporter: Reporter = silentReporter): Promise<SingleCellSynthResult> {
  const t0 = performance.now();
  const o = validate(options);
  const names = measurementNames(o.features);
  const nImages = o.wells * o.sites;
  const rng = new Rng(o.seed);
  // Cells per image, then per-feature scales and per-well effects.
  const perImage = new Int32Array(nImages);
  for (let c = 0; c < o.cells; c++) perImage[rng.int(nImages)]++;
  const F = o.features;
  const base = COMPARTMENTS.map(() => Float64Array.from({ length: F }, () => 10 ** (rng.uniform() * 5 - 2)));
  const scale = base.map((b) => Float64Array.from(b, (v) => v * (0.1 + 0.4 * rng.uniform())));
  const effect = COMPARTMENTS.map(() => {
    const e = new Float64Array(o.wells * F);
    rng.fillNormal(e);
    for (let i = 0; i < e.length; i++) e[i]! *= 0.5;
    return e;
  });
  const sink = await openSink(out, o, names);
  const progress = reporter.progress(`writing ${basename(out)}`, nImages);
  let nuclei = 0;
  try {
    for (let im = 0; im < nImages; im++) {
      const well = Math.floor(im / o.sites);
      const k = perImage[im]!;
      let extra = 0;
      for (let c = 0; c < k; c++) if (rng.uniform() < o.extraNuclei) extra++;
      const X = COMPARTMENTS.map((_, ci) => {
        const rows = ci === 2 ? k + extra : k;
        const x = new Float64Array(rows * F);
        rng.fillNormal(x);
        const b = base[ci]!, s = scale[ci]!, e = effect[ci]!;
        for (let r = 0; r < rows; r++) {
          const off = r * F;
          for (let j = 0; j < F; j++) x[off + j] = b[j]! + s[j]! * (e[well * F + j]! + x[off + j]!);
        }
        return x;
      });
      nuclei += k + extra;
      await sink.image({ image: im, well, site: (im % o.sites) + 1, cells: k, nuclei: k + extra, X });
      progress.tick(im + 1);
    }
    await sink.close();
  } catch (e) {
    await sink.abort();
    throw e;
  } finally {
    progress.done();
  }
  return { out, layout: o.layout, cells: o.cells, nuclei, images: nImages, wells: o.wells, features: F, bytes: sizeOf(out), seconds: (performance.now() - t0) / 1000 };
}

function sizeOf(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of readdirSync(p)) n += sizeOf(join(p, e));
  return n;
}

type Opts = ReturnType<typeof validate>;

async function openSink(out: string, o: Opts, names: string[]): Promise<Sink> {
  if (existsSync(out)) throw new InputError(`${out}: already exists; choose a new path (nothing was written)`);
  mkdirSync(dirname(out), { recursive: true });
  switch (o.layout) {
    case 'spreadsheet':
      return spreadsheetSink(out, o, names);
    case 'parquet':
      return parquetSink(out, o, names);
    default:
      return sqliteSink(out, o, names);
  }
}

function csvNumber(v: number): string {
  return v !== v ? '' : String(v);
}

/** Folders per site, written under a temporary folder that is renamed when complete. */
function spreadsheetSink(out: string, o: Opts, names: string[]): Sink {
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  mkdirSync(tmp, { recursive: true });
  const headers = [
    ['ImageNumber', 'ObjectNumber', ...names, 'Parent_Nuclei'].join(','),
    ['ImageNumber', 'ObjectNumber', ...names, 'Parent_Cells', 'Parent_Nuclei'].join(','),
    ['ImageNumber', 'ObjectNumber', ...names].join(','),
  ];
  const F = names.length;
  const writeFile = async (path: string, header: string, rows: number, row: (r: number) => string): Promise<void> => {
    const ws = createWriteStream(path);
    ws.write(header + '\n');
    let buf = '';
    for (let r = 0; r < rows; r++) {
      buf += row(r) + '\n';
      if (buf.length > 1 << 20) {
        if (!ws.write(buf)) await once(ws, 'drain');
        buf = '';
      }
    }
    ws.end(buf);
    await finished(ws);
  };
  return {
    async image(im) {
      const well = wellName(im.well);
      const dir = join(tmp, `${o.plate}-${well}-${im.site}`);
      mkdirSync(dir);
      await writeFile(join(dir, 'Image.csv'), 'ImageNumber,Metadata_Plate,Metadata_Well,Metadata_Site,Count_Cells', 1, () => `1,${o.plate},${well},${im.site},${im.cells}`);
      const vals = (x: Float64Array, r: number): string => {
        let s = '';
        for (let j = 0; j < F; j++) s += ',' + csvNumber(x[r * F + j]!);
        return s;
      };
      await writeFile(join(dir, 'Cells.csv'), headers[0]!, im.cells, (r) => `1,${r + 1}${vals(im.X[0]!, r)},${r + 1}`);
      await writeFile(join(dir, 'Cytoplasm.csv'), headers[1]!, im.cells, (r) => `1,${r + 1}${vals(im.X[1]!, r)},${r + 1},${r + 1}`);
      await writeFile(join(dir, 'Nuclei.csv'), headers[2]!, im.nuclei, (r) => `1,${r + 1}${vals(im.X[2]!, r)}`);
    },
    async close() {
      renameSync(tmp, out);
    },
    async abort() {
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

function sqliteSink(out: string, o: Opts, names: string[]): Sink {
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  const db = new Database(tmp);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const cyto = o.layout === 'cytominer-sqlite';
  const q = (s: string) => `"${s}"`;
  const F = names.length;
  const tables = cyto ? { image: 'Image', obj: (c: string) => c } : { image: 'Per_Image', obj: (c: string) => `Per_${c}` };
  const meta = cyto ? ['Metadata_Plate', 'Metadata_Well', 'Metadata_Site'] : ['Image_Metadata_Plate', 'Image_Metadata_Well', 'Image_Metadata_Site'];
  const imageCols = [...(cyto ? ['TableNumber TEXT'] : []), 'ImageNumber INTEGER', `${meta[0]} TEXT`, `${meta[1]} TEXT`, `${meta[2]} INTEGER`, 'Image_Count_Cells INTEGER'];
  db.exec(`CREATE TABLE ${tables.image} (${imageCols.join(', ')})`);
  const extraCols: string[][] = [['Parent_Nuclei'], ['Parent_Cells', 'Parent_Nuclei'], []];
  const objCols = COMPARTMENTS.map((c, ci) => {
    const key = cyto ? ['TableNumber TEXT', 'ImageNumber INTEGER', 'ObjectNumber INTEGER'] : ['ImageNumber INTEGER', `${c}_Number_Object_Number INTEGER`];
    return [...key, ...names.map((n) => `${q(`${c}_${n}`)} REAL`), ...extraCols[ci]!.map((n) => `${q(`${c}_${n}`)} INTEGER`)];
  });
  COMPARTMENTS.forEach((c, ci) => db.exec(`CREATE TABLE ${tables.obj(c)} (${objCols[ci]!.join(', ')})`));
  const insImage = db.prepare(`INSERT INTO ${tables.image} VALUES (${imageCols.map(() => '?').join(', ')})`);
  const ins = COMPARTMENTS.map((c, ci) => db.prepare(`INSERT INTO ${tables.obj(c)} VALUES (${objCols[ci]!.map(() => '?').join(', ')})`));
  const row: unknown[][] = objCols.map((cols) => new Array(cols.length));
  let images = 0;
  db.exec('BEGIN');
  return {
    async image(im) {
      const well = wellName(im.well);
      const tn = tableNumber(o.plate, well, im.site);
      const imageNumber = im.image + 1;
      insImage.run(...(cyto ? [tn] : []), imageNumber, o.plate, well, im.site, im.cells);
      COMPARTMENTS.forEach((_, ci) => {
        const rows = ci === 2 ? im.nuclei : im.cells;
        const x = im.X[ci]!;
        const r0 = row[ci]!;
        const nk = cyto ? 3 : 2;
        for (let r = 0; r < rows; r++) {
          if (cyto) {
            r0[0] = tn;
            r0[1] = imageNumber;
            r0[2] = r + 1;
          } else {
            r0[0] = imageNumber;
            r0[1] = r + 1;
          }
          for (let j = 0; j < F; j++) r0[nk + j] = x[r * F + j]!;
          for (let e = 0; e < extraCols[ci]!.length; e++) r0[nk + F + e] = r + 1;
          ins[ci]!.run(...r0);
        }
      });
      if (++images % 64 === 0) {
        db.exec('COMMIT');
        db.exec('BEGIN');
      }
    },
    async close() {
      db.exec('COMMIT');
      if (o.index) {
        if (cyto) {
          db.exec('CREATE INDEX table_image_idx ON Image(TableNumber, ImageNumber)');
          for (const c of COMPARTMENTS) db.exec(`CREATE INDEX table_image_object_${c.toLowerCase()}_idx ON ${c}(TableNumber, ImageNumber, ObjectNumber)`);
          db.exec('CREATE INDEX plate_well_image_idx ON Image(Metadata_Plate, Metadata_Well)');
        } else {
          for (const c of COMPARTMENTS) db.exec(`CREATE INDEX ${c.toLowerCase()}_image_object_idx ON Per_${c}(ImageNumber, ${c}_Number_Object_Number)`);
        }
      }
      db.close();
      renameSync(tmp, out);
    },
    async abort() {
      try {
        db.close();
      } catch {
        // closing a failed handle: the file is removed next
      }
      rmSync(tmp, { force: true });
    },
  };
}

async function parquetSink(out: string, o: Opts, names: string[]): Promise<Sink> {
  const meta = [
    { name: 'Metadata_ImageNumber', kind: 'number' as const },
    { name: 'Metadata_Plate', kind: 'string' as const },
    { name: 'Metadata_Well', kind: 'string' as const },
    { name: 'Metadata_Site', kind: 'number' as const },
    ...COMPARTMENTS.map((c) => ({ name: `Metadata_ObjectNumber_${c.toLowerCase()}`, kind: 'number' as const })),
  ];
  const features = [
    ...names.map((n) => `Cells_${n}`), 'Cells_Parent_Nuclei',
    ...names.map((n) => `Cytoplasm_${n}`),
    ...names.map((n) => `Nuclei_${n}`),
  ];
  const writer: TableWriter = await openTableWriter(out, meta, features);
  const F = names.length;
  const nf = features.length;
  return {
    async image(im) {
      const k = im.cells;
      if (k === 0) return;
      const X = new Float64Array(k * nf);
      for (let r = 0; r < k; r++) {
        const o2 = r * nf;
        X.set(im.X[0]!.subarray(r * F, (r + 1) * F), o2);
        X[o2 + F] = r + 1;
        X.set(im.X[1]!.subarray(r * F, (r + 1) * F), o2 + F + 1);
        X.set(im.X[2]!.subarray(r * F, (r + 1) * F), o2 + 2 * F + 1);
      }
      const well = wellName(im.well);
      const object = Float64Array.from({ length: k }, (_, r) => r + 1);
      await writer.append({
        rows: k,
        meta: [new Float64Array(k).fill(im.image + 1), new Array(k).fill(o.plate), new Array(k).fill(well), new Float64Array(k).fill(im.site), object, object, object],
        X,
      });
    },
    close: () => writer.close(),
    abort: () => writer.abort(),
  };
}
