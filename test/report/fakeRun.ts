/**
 * A run directory following notes/run-dir-contract.md, built from the LINCS parity fixtures
 * (test/fixtures/lincs_SQ00015054) and the bundled example profiles — so report tests do not
 * depend on the pipeline.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy, readNpyMatrix, writeNpy } from '../../src/io/npy.js';
import { gemmNT } from '../../src/linalg/index.js';
import { varianceRatios } from '../../src/report/figures.js';
import { writeCompletionRecord } from '../../src/util/outputDir.js';
import { repoRoot, examplePath } from '../helpers/shared.js';

export const FIXTURES = join(repoRoot, 'test/fixtures/lincs_SQ00015054');
const REPS = ['raw', 'pca', 'itml'] as const;

/** Minimal RFC 4180 line splitter for the fixture CSVs. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '', q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (q) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') q = false;
      else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') out.push(cur), (cur = '');
    else cur += ch;
  }
  out.push(cur);
  return out;
}

function csvCell(v: string | number | boolean): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function readFixtureCsv(name: string): { header: string[]; rows: string[][] } {
  const lines = readFileSync(join(FIXTURES, name), 'utf8').trim().split(/\r?\n/);
  return { header: splitCsvLine(lines[0]!), rows: lines.slice(1).map(splitCsvLine) };
}

export function makeFakeRun(opts: { evaluation?: boolean; dir?: string } = {}): string {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'phenomap-fakerun-'));
  const ref = JSON.parse(readFileSync(join(FIXTURES, 'summary.json'), 'utf8'));
  const rc = readFixtureCsv('rows_and_clusters.csv');
  const X = readNpyMatrix(join(FIXTURES, 'X_zscored.npy'));
  const features = readFileSync(join(FIXTURES, 'features.txt'), 'utf8').trim().split('\n');
  const labels: Record<string, Int32Array> = {};
  for (const r of REPS) labels[r] = Int32Array.from(readNpy(join(FIXTURES, `labels_${r}.npy`)).data);

  // clusters.csv: row, metadata, cluster_<r>, exemplar_<r> (an exemplar = first member here).
  const metaCols = rc.header.filter((h) => h !== 'row' && !h.startsWith('cluster_'));
  const head = ['row', ...metaCols, ...REPS.map((r) => `cluster_${r}`), ...REPS.map((r) => `exemplar_${r}`)];
  const seen: Record<string, Set<number>> = { raw: new Set(), pca: new Set(), itml: new Set() };
  const lines = [head.join(',')];
  rc.rows.forEach((row, i) => {
    const cells: (string | number | boolean)[] = [row[0]!, ...metaCols.map((c) => row[rc.header.indexOf(c)]!)];
    for (const r of REPS) cells.push(labels[r]![i]!);
    for (const r of REPS) {
      const first = !seen[r]!.has(labels[r]![i]!);
      seen[r]!.add(labels[r]![i]!);
      cells.push(first);
    }
    lines.push(cells.map(csvCell).join(','));
  });
  writeFileSync(join(dir, 'clusters.csv'), lines.join('\n') + '\n');

  // enrichment.csv from the three reference files.
  const enr = ['representation,cluster,moa,k,n,K,N,p,q,significant'];
  for (const r of REPS) {
    const e = readFixtureCsv(`enrichment_${r}.csv`);
    const ix = (c: string) => e.header.indexOf(c);
    for (const row of e.rows) {
      enr.push([r, row[ix('cluster')]!, row[ix('moa')]!, row[ix('k')]!, row[ix('n')]!, row[ix('K')]!, row[ix('N')]!, row[ix('p')]!, '', row[ix('significant')] === 'True'].map(csvCell).join(','));
    }
  }
  writeFileSync(join(dir, 'enrichment.csv'), enr.join('\n') + '\n');

  // csif.csv: the reference CSIFs (raw) with their ratios.
  const csifRef = JSON.parse(readFileSync(join(FIXTURES, 'csif_features_raw.json'), 'utf8')) as Record<string, string[]>;
  const { clusterIds, ratio } = varianceRatios(X, labels.raw!, 2);
  const sizes = new Map<number, number>();
  for (const l of labels.raw!) sizes.set(l, (sizes.get(l) ?? 0) + 1);
  const cs = ['representation,cluster,size,feature,ratio'];
  for (const [c, feats] of Object.entries(csifRef)) {
    const r = clusterIds.indexOf(Number(c));
    for (const f of feats) cs.push(['raw', c, sizes.get(Number(c))!, f, ratio[r * features.length + features.indexOf(f)]!].map(csvCell).join(','));
  }
  writeFileSync(join(dir, 'csif.csv'), cs.join('\n') + '\n');

  copyFileSync(join(FIXTURES, 'features.txt'), join(dir, 'features.txt'));
  writeNpy(join(dir, 'repr_raw.npy'), X);
  writeNpy(join(dir, 'repr_pca.npy'), readNpyMatrix(join(FIXTURES, 'X_pca.npy')));
  writeNpy(join(dir, 'repr_itml.npy'), gemmNT(X, readNpyMatrix(join(FIXTURES, 'itml_components_L.npy'))));

  const reps: Record<string, unknown> = {};
  for (const r of REPS) {
    const x = ref.representations[r];
    const sz = new Map<number, number>();
    for (const l of labels[r]!) sz.set(l, (sz.get(l) ?? 0) + 1);
    // An AP-like trace (exemplars per iteration) ending at the reference cluster count.
    const trace = Array.from({ length: x.ap_n_iter }, (_, t) => Math.round(x.n_clusters + (X.rows - x.n_clusters) * Math.exp(-t / 3)));
    reps[r] = {
      clusters: x.n_clusters, enrichedClusters: x.n_enriched_clusters, enrichmentRatio: x.enrichment_ratio,
      apIterations: x.ap_n_iter, apConverged: x.ap_converged, apDamping: 0.5, dim: x.dim, preference: x.ap_preference,
      clusterSizes: [...sz.values()], apTrace: trace, csifClusters: x.csif?.n_clusters_with_csif ?? null, csifTotal: x.csif?.n_csif_total ?? null,
    };
  }
  const summary = {
    phenomap: '0.1.0',
    inputs: { file: examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz'), rowsInFile: 384, labelCol: 'Metadata_moa', idCols: ['Metadata_pert_iname'], doseCol: 'Metadata_mmoles_per_liter' },
    parameters: { preset: 'paper', seed: 0, pca: 50, minMoa: 5, alpha: 0.01, csifThreshold: 0.01, csifMinSize: 2 },
    dropped: { rows: 42, features: 0, details: [] },
    n: X.rows,
    d: X.cols,
    representations: reps,
    timings: {},
    warnings: ['fake run built from parity fixtures'],
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 1));
  if (opts.evaluation) {
    mkdirSync(join(dir, 'evaluation'), { recursive: true });
    const evaluation = {
      split: 'leave-drug-out',
      results: REPS.map((r, i) => ({ representation: r, nsc: 0.4 + 0.05 * i, nscb: 0.3 + 0.04 * i, mAP: 0.2 + 0.03 * i })),
    };
    writeFileSync(join(dir, 'evaluation', 'summary.json'), JSON.stringify(evaluation));
  }
  // Finished, as `run` leaves it: readers refuse a run folder without its completion record.
  writeCompletionRecord(dir, 'run');
  return dir;
}
