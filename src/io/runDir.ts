/**
 * Reads what `phenomap run` wrote into a run directory (written by pipeline/outputs.ts):
 * summary.json, clusters.csv, enrichment.csv, csif.csv, features.txt, repr_*.npy and the optional
 * evaluation/summary.json. Missing optional parts are reported, not fatal.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Matrix } from '../linalg/matrix.js';
import { readNpyMatrix } from './npy.js';
import { readTable, type Table } from './read.js';
import { InputError } from '../util/errors.js';

export const REPRESENTATIONS = ['raw', 'pca', 'itml'] as const;
export const DRUG_NAME_FALLBACKS = ['Metadata_pert_iname', 'Compound Name', 'Metadata_compound', 'Metadata_broad_sample'];

export interface RepresentationSummary {
  clusters?: number;
  enrichedClusters?: number;
  enrichmentRatio?: number;
  apIterations?: number;
  apConverged?: boolean;
  dim?: number;
  clusterSizes?: number[];
  apTrace?: number[];
  csifClusters?: number;
  csifTotal?: number;
  [k: string]: unknown;
}

export interface RunSummary {
  phenomap?: string;
  inputs?: { file?: string; files?: string[]; rowsInFile?: number; labelCol?: string; idCol?: string; idCols?: string[]; doseCol?: string | null };
  parameters?: Record<string, unknown>;
  n?: number;
  d?: number;
  representations?: Record<string, RepresentationSummary>;
  timings?: Record<string, number>;
  warnings?: string[];
  /** `run --correct`: the corrected table (files[0], in the run folder) is what the run analysed. */
  batchCorrection?: { files?: string[] };
  [k: string]: unknown;
}

/** One row of enrichment.csv (the file format; the enrichment stage's row plus its representation). */
export interface EnrichmentRecord {
  representation: string;
  cluster: number;
  moa: string;
  k: number;
  n: number;
  K: number;
  N: number;
  p: number;
  q: number;
  significant: boolean;
}

export interface CsifRecord {
  representation: string;
  cluster: number;
  size: number;
  feature: string;
  ratio: number;
}

export interface RunData {
  dir: string;
  summary: RunSummary;
  n: number;
  /** clusters.csv as read (all columns as text). */
  table: Table;
  drugCol: string;
  drug: string[];
  labelCol: string;
  moa: (string | null)[];
  doseCol: string | null;
  dose: (string | null)[];
  /** Representations with cluster labels in clusters.csv, in raw / pca / itml order. */
  reps: string[];
  clusters: Record<string, Int32Array>;
  exemplar: Record<string, boolean[]>;
  enrichment: EnrichmentRecord[];
  csif: CsifRecord[];
  features: string[];
  evaluation?: unknown;
  /** repr_<name>.npy, read on first use; undefined when absent. */
  repr(name: string): Matrix | undefined;
}

/** A CSV written by `run` with its header only (no enriched pair, no CSIF) is an empty table, not an error. */
function hasDataRows(path: string): boolean {
  const text = readFileSync(path, 'utf8');
  const firstBreak = text.indexOf('\n');
  return firstBreak >= 0 && text.slice(firstBreak + 1).trim().length > 0;
}

export async function readRunDir(dir: string): Promise<RunData> {
  const summaryPath = join(dir, 'summary.json');
  if (!existsSync(summaryPath)) throw new InputError(`${dir}: not a phenomap run directory (no summary.json)`);
  let summary: RunSummary;
  try {
    summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as RunSummary;
  } catch (e) {
    throw new InputError(`${summaryPath}: not valid JSON (${(e as Error).message})`);
  }
  const clustersPath = join(dir, 'clusters.csv');
  if (!existsSync(clustersPath)) throw new InputError(`${dir}: no clusters.csv (run \`phenomap run\` first)`);
  const table = await readTable(clustersPath);
  const n = table.rows;
  const col = (name: string) => table.values.get(name);

  const idCols = [...(summary.inputs?.idCol ? [summary.inputs.idCol] : []), ...(summary.inputs?.idCols ?? []), ...DRUG_NAME_FALLBACKS];
  const drugCol = idCols.find((c) => col(c)) ?? 'row';
  const drugVals = col(drugCol);
  const drug = Array.from({ length: n }, (_, i) => drugVals?.[i] ?? `row ${col('row')?.[i] ?? i}`);
  const labelCol = summary.inputs?.labelCol && col(summary.inputs.labelCol) ? summary.inputs.labelCol : col('Metadata_moa') ? 'Metadata_moa' : '';
  const moa = labelCol ? col(labelCol)! : new Array<string | null>(n).fill(null);
  const doseCol = summary.inputs?.doseCol && col(summary.inputs.doseCol) ? summary.inputs.doseCol : col('Metadata_mmoles_per_liter') ? 'Metadata_mmoles_per_liter' : null;
  const dose = doseCol ? col(doseCol)! : new Array<string | null>(n).fill(null);

  const reps: string[] = [];
  const clusters: Record<string, Int32Array> = {};
  const exemplar: Record<string, boolean[]> = {};
  const extra = Object.keys(summary.representations ?? {}).filter((r) => !(REPRESENTATIONS as readonly string[]).includes(r));
  for (const r of [...REPRESENTATIONS, ...extra]) {
    const c = col(`cluster_${r}`);
    if (!c) continue;
    const lab = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = Number(c[i]);
      if (!Number.isInteger(v)) throw new InputError(`${clustersPath}: cluster_${r} has a non-integer value "${c[i]}" in data row ${i + 1}`);
      lab[i] = v;
    }
    reps.push(r);
    clusters[r] = lab;
    const e = col(`exemplar_${r}`);
    exemplar[r] = Array.from({ length: n }, (_, i) => /^(true|1)$/i.test(e?.[i] ?? ''));
  }
  if (reps.length === 0) throw new InputError(`${clustersPath}: no cluster_<representation> column`);

  const enrichment: EnrichmentRecord[] = [];
  const enrPath = join(dir, 'enrichment.csv');
  if (existsSync(enrPath) && hasDataRows(enrPath)) {
    const t = await readTable(enrPath);
    const g = (name: string) => t.values.get(name) ?? new Array<string | null>(t.rows).fill(null);
    const [rep, cl, mo, k, nn, K, N, p, q, sig] = ['representation', 'cluster', 'moa', 'k', 'n', 'K', 'N', 'p', 'q', 'significant'].map(g);
    for (let i = 0; i < t.rows; i++) {
      enrichment.push({
        representation: rep![i] ?? 'raw',
        cluster: Number(cl![i]),
        moa: mo![i] ?? '',
        k: Number(k![i]),
        n: Number(nn![i]),
        K: Number(K![i]),
        N: Number(N![i]),
        p: Number(p![i]),
        q: q![i] === null ? NaN : Number(q![i]),
        significant: /^(true|1)$/i.test(sig![i] ?? ''),
      });
    }
  }
  const csif: CsifRecord[] = [];
  const csifPath = join(dir, 'csif.csv');
  if (existsSync(csifPath) && hasDataRows(csifPath)) {
    const t = await readTable(csifPath);
    const g = (name: string) => t.values.get(name) ?? new Array<string | null>(t.rows).fill(null);
    const [rep, cl, size, feat, ratio] = ['representation', 'cluster', 'size', 'feature', 'ratio'].map(g);
    for (let i = 0; i < t.rows; i++) {
      csif.push({ representation: rep![i] ?? 'raw', cluster: Number(cl![i]), size: Number(size![i]), feature: feat![i] ?? '', ratio: Number(ratio![i]) });
    }
  }
  const featPath = join(dir, 'features.txt');
  const features = existsSync(featPath) ? readFileSync(featPath, 'utf8').split(/\r?\n/).filter((s) => s.length > 0) : [];
  let evaluation: unknown;
  const evalPath = join(dir, 'evaluation', 'summary.json');
  if (existsSync(evalPath)) {
    try {
      evaluation = JSON.parse(readFileSync(evalPath, 'utf8'));
    } catch (e) {
      throw new InputError(`${evalPath}: not valid JSON (${(e as Error).message})`);
    }
  }
  const cache = new Map<string, Matrix | undefined>();
  const repr = (name: string) => {
    if (!cache.has(name)) {
      const p = join(dir, `repr_${name}.npy`);
      let m: Matrix | undefined;
      if (existsSync(p)) {
        m = readNpyMatrix(p);
        if (m.rows !== n) throw new InputError(`${p}: ${m.rows} rows, but clusters.csv has ${n}`);
      }
      cache.set(name, m);
    }
    return cache.get(name);
  };
  return { dir, summary, n, table, drugCol, drug, labelCol, moa, doseCol, dose, reps, clusters, exemplar, enrichment, csif, features, evaluation, repr };
}
