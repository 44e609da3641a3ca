/**
 * Synthetic Cell Painting profile tables at any size, for benchmarks and tests.
 *
 * Generative model (all draws from one seeded Rng, so a seed fixes the table):
 * - `moas` mechanism centres μ_m ~ N(0, 4·I) in an L-dimensional latent space (L = min(12, D)).
 * - Compounds: each has one MoA (or, with probability `multiMoaFraction`, two: centre the mean of
 *   both, label "A|B"); its own latent offset c = μ + 1.0·N(0, I) (compounds of a MoA differ,
 *   and some sit closer to another MoA's centre than to their own). A fraction 1 − activeFraction
 *   of compounds is inactive: latent state × 0.15, close to the DMSO controls, as in real screens.
 * - Wells: each compound has `replicates` wells on different plates; a well's latent state is
 *   c + 0.6·N(0, I) (replicate noise). DMSO controls (latent 0 + noise) fill `controlsPerPlate`
 *   wells of every plate.
 * - Features: x = base + scale ⊙ (z·W + plate effect + 0.5·N(0, I)), W an L × D loading matrix
 *   whose columns come in correlated blocks (features of the same compartment/channel share a
 *   loading direction plus jitter, as CellProfiler features do), plate effect b_p ~ 0.4·N(0, I)
 *   per feature (additive batch effect), and per-feature base/scale of CellProfiler-like
 *   magnitudes. About a fifth of the features (areas, intensities) are made positive and skewed
 *   by exp().
 * Columns: Metadata_plate, Metadata_well, Metadata_compound, Metadata_moa (empty for controls),
 * Metadata_pert_type (trt | control), then D features named Compartment_Measure_Channel_….
 *
 * Rows are generated and written in blocks: memory is O(block · D + compounds · L), never the
 * whole table (Parquet: one row group of ~64 MB at a time). CSV/CSV.gz/TSV are streamed; Parquet
 * is written by parquet.ts.
 */
import { Rng } from '../linalg/rng.js';
import { InputError } from '../util/errors.js';
import { withAtomicPath } from '../util/atomic.js';
import { fileKind } from './text.js';
import { ParquetWriter, rowGroupRows, type WriterColumn } from './parquet.js';
import { PARQUET_NAMES_KEY } from './write.js';
import { textFileSink } from './textChunks.js';
import { type Reporter, silentReporter } from '../util/log.js';

export interface SyntheticOptions {
  rows: number;
  features: number;
  moas: number;
  plates: number;
  seed?: number;
  /** Wells per compound. Default 4. */
  replicates?: number;
  /** DMSO wells per plate. Default 16 (at most a quarter of a plate's wells). */
  controlsPerPlate?: number;
  /** Fraction of compounds with two MoAs. Default 0.05. */
  multiMoaFraction?: number;
  /** Fraction of compounds with a phenotype; the rest sit near DMSO (latent × 0.15). Default 0.5. */
  activeFraction?: number;
  /** Significant digits written per feature value. Default 6. */
  digits?: number;
}

export const SYNTHETIC_META = ['Metadata_plate', 'Metadata_well', 'Metadata_compound', 'Metadata_moa', 'Metadata_pert_type'] as const;

const COMPARTMENTS = ['Cells', 'Cytoplasm', 'Nuclei'];
const CHANNELS = ['DNA', 'RNA', 'ER', 'AGP', 'Mito'];
const MEASURES = [
  'Intensity_MeanIntensity', 'Intensity_IntegratedIntensity', 'Intensity_StdIntensity', 'Intensity_MedianIntensity',
  'Intensity_MADIntensity', 'Intensity_UpperQuartileIntensity', 'Intensity_LowerQuartileIntensity', 'Intensity_MaxIntensity',
  'Granularity_1', 'Granularity_2', 'Granularity_3', 'Granularity_4', 'Granularity_5', 'Granularity_6',
  'RadialDistribution_FracAtD_1of4', 'RadialDistribution_FracAtD_2of4', 'RadialDistribution_FracAtD_3of4', 'RadialDistribution_FracAtD_4of4',
  'RadialDistribution_MeanFrac_1of4', 'RadialDistribution_MeanFrac_2of4', 'RadialDistribution_RadialCV_1of4', 'RadialDistribution_RadialCV_2of4',
];
const TEXTURES = ['AngularSecondMoment', 'Contrast', 'Correlation', 'Entropy', 'InfoMeas1', 'InverseDifferenceMoment', 'SumAverage', 'Variance'];
const SHAPES = [
  'AreaShape_Area', 'AreaShape_Perimeter', 'AreaShape_FormFactor', 'AreaShape_Eccentricity', 'AreaShape_Solidity', 'AreaShape_Extent',
  'AreaShape_MajorAxisLength', 'AreaShape_MinorAxisLength', 'AreaShape_Compactness', 'AreaShape_MeanRadius', 'AreaShape_MaxFeretDiameter',
  'AreaShape_MinFeretDiameter', 'AreaShape_Orientation', 'AreaShape_Zernike_0_0', 'AreaShape_Zernike_1_1', 'AreaShape_Zernike_2_0',
];

/** D distinct CellProfiler-style feature names, grouped by compartment and channel. */
export function syntheticFeatureNames(D: number): { names: string[]; group: Int32Array } {
  const names: string[] = [];
  const group: number[] = [];
  let g = 0;
  const push = (n: string, grp: number) => {
    if (names.length < D) {
      names.push(n);
      group.push(grp);
    }
  };
  outer: for (let scale = 0; ; scale++) {
    for (const comp of COMPARTMENTS) {
      const gShape = g++;
      for (const s of SHAPES) push(scale ? `${comp}_${s}_${scale}` : `${comp}_${s}`, gShape);
      for (const ch of CHANNELS) {
        const gCh = g++;
        for (const m of MEASURES) push(scale ? `${comp}_${m}_${ch}_${scale}` : `${comp}_${m}_${ch}`, gCh);
        for (const t of TEXTURES) for (const d of [3, 5, 10]) push(`${comp}_Texture_${t}_${ch}_${d}_${scale}`, gCh);
        for (const ch2 of CHANNELS) if (ch2 > ch) push(scale ? `${comp}_Correlation_Correlation_${ch}_${ch2}_${scale}` : `${comp}_Correlation_Correlation_${ch}_${ch2}`, gCh);
        if (names.length >= D) break outer;
      }
    }
    if (names.length >= D) break;
  }
  return { names, group: Int32Array.from(group) };
}

function wellName(w: number): string {
  let r = Math.floor(w / 24);
  let letters = '';
  do {
    letters = String.fromCharCode(65 + (r % 26)) + letters;
    r = Math.floor(r / 26) - 1;
  } while (r >= 0);
  return `${letters}${String((w % 24) + 1).padStart(2, '0')}`;
}

interface Plan {
  names: string[];
  L: number;
  W: Float64Array;
  base: Float64Array;
  scale: Float64Array;
  expo: Uint8Array;
  plateEffect: Float64Array;
  compoundLatent: Float64Array;
  compoundName: string[];
  compoundMoa: string[];
  /** Per row: plate, compound (−1 = control). */
  rowPlate: Int32Array;
  rowCompound: Int32Array;
  rowWell: Int32Array;
}

function validate(o: SyntheticOptions): void {
  const int = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new InputError(`synthetic: ${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int(o.rows, 'rows', 1);
  int(o.features, 'features', 2);
  int(o.moas, 'moas', 1);
  int(o.plates, 'plates', 1);
  int(o.replicates ?? 4, 'replicates', 1);
  int(o.controlsPerPlate ?? 16, 'controlsPerPlate', 0);
  const af = o.activeFraction ?? 0.5;
  if (!(af >= 0 && af <= 1)) throw new InputError(`synthetic: activeFraction must be in [0, 1], got ${af}`);
  const f = o.multiMoaFraction ?? 0.05;
  if (!(f >= 0 && f <= 1)) throw new InputError(`synthetic: multiMoaFraction must be in [0, 1], got ${f}`);
}

function plan(o: SyntheticOptions): Plan {
  validate(o);
  const rng = new Rng(o.seed ?? 0);
  const N = o.rows, D = o.features, P = o.plates, reps = o.replicates ?? 4;
  const L = Math.min(12, D);
  const { names, group } = syntheticFeatureNames(D);
  // Loadings: a direction per feature group plus per-feature jitter → correlated blocks.
  const nGroups = group[D - 1]! + 1;
  const G = new Float64Array(nGroups * L);
  for (let i = 0; i < G.length; i++) G[i] = rng.normal();
  const W = new Float64Array(L * D);
  for (let j = 0; j < D; j++) {
    const g = group[j]!;
    for (let l = 0; l < L; l++) W[l * D + j] = (0.8 * G[g * L + l]! + 0.6 * rng.normal()) / Math.sqrt(L);
  }
  const base = new Float64Array(D), scale = new Float64Array(D), expo = new Uint8Array(D);
  for (let j = 0; j < D; j++) {
    expo[j] = names[j]!.includes('Area') || names[j]!.includes('IntegratedIntensity') ? 1 : 0;
    base[j] = expo[j] ? 2 + rng.uniform() * 4 : rng.normal() * 2;
    scale[j] = expo[j] ? 0.2 + 0.2 * rng.uniform() : Math.exp(rng.normal());
  }
  const plateEffect = new Float64Array(P * D);
  for (let i = 0; i < plateEffect.length; i++) plateEffect[i] = 0.4 * rng.normal();

  // Layout: controls on every plate, the rest are compound replicates.
  const perPlate = Math.ceil(N / P);
  const ctl = Math.min(o.controlsPerPlate ?? 16, Math.floor(perPlate / 4));
  const rowPlate = new Int32Array(N), rowCompound = new Int32Array(N), rowWell = new Int32Array(N);
  const slots: number[] = []; // row indices of treatment wells
  for (let i = 0; i < N; i++) {
    const p = Math.floor(i / perPlate);
    const w = i - p * perPlate;
    rowPlate[i] = p;
    rowWell[i] = w;
    if (w < ctl) rowCompound[i] = -1;
    else slots.push(i);
  }
  const nCompounds = Math.max(1, Math.ceil(slots.length / reps));
  // Spread replicates over plates: deal the shuffled slots to compounds round-robin.
  const perm = rng.permutation(slots.length);
  for (let t = 0; t < slots.length; t++) rowCompound[slots[perm[t]!]!] = t % nCompounds;

  const mu = new Float64Array(o.moas * L);
  for (let i = 0; i < mu.length; i++) mu[i] = 2 * rng.normal();
  const moaName = Array.from({ length: o.moas }, (_, m) => `moa_${String(m).padStart(String(o.moas - 1).length, '0')}`);
  const compoundLatent = new Float64Array(nCompounds * L);
  const compoundName: string[] = [], compoundMoa: string[] = [];
  const multi = o.multiMoaFraction ?? 0.05;
  for (let c = 0; c < nCompounds; c++) {
    const m1 = c < o.moas ? c : rng.int(o.moas); // every MoA has at least one compound when possible
    let label = moaName[m1]!;
    let m2 = -1;
    if (o.moas > 1 && rng.uniform() < multi) {
      m2 = rng.int(o.moas - 1);
      if (m2 >= m1) m2++;
      label = [moaName[m1]!, moaName[m2]!].sort().join('|');
    }
    // Most compounds in a screen do little at the tested dose: inactive ones stay near DMSO.
    const strength = rng.uniform() < (o.activeFraction ?? 0.5) ? 1 : 0.15;
    for (let l = 0; l < L; l++) {
      const centre = m2 >= 0 ? (mu[m1 * L + l]! + mu[m2 * L + l]!) / 2 : mu[m1 * L + l]!;
      compoundLatent[c * L + l] = strength * (centre + 1.0 * rng.normal());
    }
    compoundName.push(`CPD-${String(c).padStart(6, '0')}`);
    compoundMoa.push(label);
  }
  return { names, L, W, base, scale, expo, plateEffect, compoundLatent, compoundName, compoundMoa, rowPlate, rowCompound, rowWell };
}

/** Rows [r0, r1) of features into out ((r1 − r0) × D), from the row's own seeded stream. */
function fillRows(pl: Plan, D: number, seed: number, r0: number, r1: number, out: Float64Array): void {
  const { L, W, base, scale, expo, plateEffect, compoundLatent } = pl;
  const z = new Float64Array(L);
  for (let i = r0; i < r1; i++) {
    // One generator per row block keeps generation order-independent of the block size.
    const rng = new Rng(seed * 1_000_003 + i + 1);
    const c = pl.rowCompound[i]!;
    for (let l = 0; l < L; l++) z[l] = (c >= 0 ? compoundLatent[c * L + l]! : 0) + 0.6 * rng.normal();
    const o = (i - r0) * D, po = pl.rowPlate[i]! * D;
    for (let j = 0; j < D; j++) {
      let s = 0;
      for (let l = 0; l < L; l++) s += z[l]! * W[l * D + j]!;
      const v = s + plateEffect[po + j]! + 0.5 * rng.normal();
      out[o + j] = expo[j] ? Math.exp(base[j]! + scale[j]! * v) : base[j]! + scale[j]! * v;
    }
  }
}

/** Generate the table in memory (small sizes: tests). Features row-major. */
export function generateSynthetic(o: SyntheticOptions): { features: string[]; X: Float64Array; meta: Record<(typeof SYNTHETIC_META)[number], (string | null)[]> } {
  const pl = plan(o);
  const X = new Float64Array(o.rows * o.features);
  fillRows(pl, o.features, o.seed ?? 0, 0, o.rows, X);
  const meta = metaColumns(pl, 0, o.rows);
  return { features: pl.names, X, meta };
}

function metaColumns(pl: Plan, r0: number, r1: number): Record<(typeof SYNTHETIC_META)[number], (string | null)[]> {
  const out = { Metadata_plate: [], Metadata_well: [], Metadata_compound: [], Metadata_moa: [], Metadata_pert_type: [] } as Record<(typeof SYNTHETIC_META)[number], (string | null)[]>;
  for (let i = r0; i < r1; i++) {
    const c = pl.rowCompound[i]!;
    out.Metadata_plate.push(`SYN${String(pl.rowPlate[i]! + 1).padStart(4, '0')}`);
    out.Metadata_well.push(wellName(pl.rowWell[i]!));
    out.Metadata_compound.push(c >= 0 ? pl.compoundName[c]! : 'DMSO');
    out.Metadata_moa.push(c >= 0 ? pl.compoundMoa[c]! : null);
    out.Metadata_pert_type.push(c >= 0 ? 'trt' : 'control');
  }
  return out;
}

async function writeText(path: string, o: SyntheticOptions, pl: Plan, delim: string, gzip: boolean, reporter: Reporter): Promise<void> {
  const file = textFileSink(path, gzip ? 1 : undefined);
  const write = file.write;
  const D = o.features, digits = o.digits ?? 6;
  await write([...SYNTHETIC_META, ...pl.names].join(delim) + '\n');
  const BLOCK = 128;
  const buf = new Float64Array(BLOCK * D);
  const progress = reporter.progress('synthetic rows', o.rows);
  for (let r0 = 0; r0 < o.rows; r0 += BLOCK) {
    const r1 = Math.min(o.rows, r0 + BLOCK);
    fillRows(pl, D, o.seed ?? 0, r0, r1, buf);
    const meta = metaColumns(pl, r0, r1);
    const lines: string[] = [];
    const cells = new Array<string>(SYNTHETIC_META.length + D);
    for (let i = r0; i < r1; i++) {
      const a = i - r0;
      for (let m = 0; m < SYNTHETIC_META.length; m++) cells[m] = meta[SYNTHETIC_META[m]!][a] ?? '';
      const off = a * D;
      for (let j = 0; j < D; j++) cells[SYNTHETIC_META.length + j] = String(Number(buf[off + j]!.toPrecision(digits)));
      lines.push(cells.join(delim));
    }
    await write(lines.join('\n') + '\n');
    progress.tick(r1);
  }
  progress.done();
  await file.close();
}

/** Parquet: row groups of about 64 MB (parquet.ts), values rounded as the text is. */
function writeParquetSynthetic(path: string, o: SyntheticOptions, pl: Plan, reporter: Reporter): void {
  const D = o.features, digits = o.digits ?? 6;
  const cols: WriterColumn[] = [...SYNTHETIC_META.map((m) => ({ name: m, kind: 'text' as const })), ...pl.names.map((f) => ({ name: f, kind: 'double' as const }))];
  const w = new ParquetWriter(path, cols, [[PARQUET_NAMES_KEY, JSON.stringify(cols.map((c) => c.name))]]);
  const G = rowGroupRows(cols.length);
  const progress = reporter.progress('synthetic rows', o.rows);
  try {
    const buf = new Float64Array(Math.min(G, o.rows) * D);
    const col = new Float64Array(Math.min(G, o.rows));
    for (let r0 = 0; r0 < o.rows; r0 += G) {
      const r1 = Math.min(o.rows, r0 + G), n = r1 - r0;
      fillRows(pl, D, o.seed ?? 0, r0, r1, buf);
      for (let t = 0; t < n * D; t++) buf[t] = Number(buf[t]!.toPrecision(digits));
      const meta = metaColumns(pl, r0, r1);
      w.writeRowGroup(n, (c) => {
        if (c < SYNTHETIC_META.length) return meta[SYNTHETIC_META[c]!];
        const j = c - SYNTHETIC_META.length;
        for (let i = 0; i < n; i++) col[i] = buf[i * D + j]!;
        return col.subarray(0, n);
      });
      progress.tick(r1);
    }
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  } finally {
    progress.done();
  }
}

/** Write a synthetic table to CSV / CSV.gz / TSV(.gz) / Parquet (by extension), streamed and atomically. */
export async function writeSynthetic(path: string, o: SyntheticOptions, reporter: Reporter = silentReporter): Promise<{ rows: number; features: number; compounds: number; controls: number }> {
  const pl = plan(o);
  const kind = fileKind(path);
  await withAtomicPath(path, async (tmp) => {
    if (kind.format !== 'parquet') {
      await writeText(tmp, o, pl, kind.format === 'tsv' ? '\t' : ',', kind.gzip, reporter);
      return;
    }
    writeParquetSynthetic(tmp, o, pl, reporter);
  });
  let controls = 0;
  for (let i = 0; i < o.rows; i++) if (pl.rowCompound[i]! < 0) controls++;
  return { rows: o.rows, features: o.features, compounds: pl.compoundName.length, controls };
}
