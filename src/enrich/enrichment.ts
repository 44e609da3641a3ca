/**
 * MoA enrichment of clusters (the source study's test; spec pipeline.md §6).
 *
 * For cluster c (n labelled members) and each MoA m carried by ≥ minMoa of the N labelled rows
 * (K rows), with k members of c carrying m: p = P(X ≥ k), X ~ Hypergeometric(N, K, n), the
 * scipy `hypergeom.sf(k − 1, N, K, n)` the study used; significant when p < alpha (no
 * correction, compat). A cluster is enriched when any of its MoAs is significant; enrichment
 * ratio = enriched clusters / clusters. phenomap adds Benjamini–Hochberg q-values over the whole
 * family of tested (cluster × MoA) pairs — including pairs with k = 0 (p = 1), since those
 * hypotheses were tested too (option `bhFamily: 'observed'` restricts the family to k ≥ 1).
 *
 * Label strings are split on `sep` and trimmed; a row labelled `A|B` counts for A and for B
 * (once each, even if repeated). Rows with a null/empty label are left out of N and of every n.
 */
import { InputError } from '../util/errors.js';
import { benjaminiHochberg } from './bh.js';
import { hypergeomSf } from './hypergeom.js';

export interface EnrichmentOptions {
  /** Minimum number of labelled rows carrying a MoA for it to be tested (default 5). */
  minMoa?: number;
  /** Significance level for p (default 0.01). */
  alpha?: number;
  /** Separator of multi-MoA label strings (default '|'). */
  sep?: string;
  /** Family for BH q-values: every tested pair (default) or only pairs with k ≥ 1. */
  bhFamily?: 'all' | 'observed';
}

export interface EnrichmentRow {
  cluster: number;
  moa: string;
  /** Members of the cluster carrying the MoA. */
  k: number;
  /** Labelled members of the cluster. */
  n: number;
  /** Labelled rows carrying the MoA. */
  K: number;
  /** Labelled rows. */
  N: number;
  p: number;
  q: number;
  significant: boolean;
}

export interface EnrichmentResult {
  /** Every (cluster, tested MoA) pair with k ≥ 1, by cluster then MoA (code-unit order). */
  rows: EnrichmentRow[];
  /** Distinct cluster labels ≥ 0 among labelled rows. */
  nClusters: number;
  enrichedClusters: number[];
  /** enrichedClusters / nClusters (0 when there are no clusters). */
  enrichmentRatio: number;
  nMoasTested: number;
  nSignificantPairs: number;
  /** Labelled rows used (N). */
  nLabelled: number;
  warnings: string[];
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Split a label string into its distinct trimmed MoAs ([] for null/empty). */
export function splitMoas(label: string | null | undefined, sep = '|'): string[] {
  if (label == null) return [];
  const out: string[] = [];
  for (const part of label.split(sep)) {
    const t = part.trim();
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

export function moaEnrichment(labels: Int32Array, moaLabels: ArrayLike<string | null>, opts: EnrichmentOptions = {}): EnrichmentResult {
  const minMoa = opts.minMoa ?? 5;
  const alpha = opts.alpha ?? 0.01;
  const sep = opts.sep ?? '|';
  if (labels.length !== moaLabels.length) {
    throw new InputError(`enrichment: ${labels.length} cluster labels but ${moaLabels.length} MoA labels`);
  }
  if (!(alpha > 0 && alpha <= 1)) throw new InputError(`enrichment: alpha must be in (0, 1], got ${alpha}`);
  if (!Number.isInteger(minMoa) || minMoa < 1) throw new InputError(`enrichment: minMoa must be an integer ≥ 1, got ${minMoa}`);
  const warnings: string[] = [];

  const rowMoas: string[][] = [];
  const used: number[] = [];
  let unclustered = 0;
  for (let i = 0; i < labels.length; i++) {
    const m = splitMoas(moaLabels[i], sep);
    if (m.length === 0) continue;
    if (labels[i]! < 0) {
      unclustered++;
      continue;
    }
    used.push(i);
    rowMoas.push(m);
  }
  if (unclustered) warnings.push(`enrichment: ${unclustered} labelled rows have no cluster (label -1) and were left out`);
  const N = used.length;

  const moaCount = new Map<string, number>();
  for (const ms of rowMoas) for (const m of ms) moaCount.set(m, (moaCount.get(m) ?? 0) + 1);
  const tested = [...moaCount.keys()].filter((m) => moaCount.get(m)! >= minMoa).sort(byCodeUnit);
  const testedIdx = new Map(tested.map((m, i) => [m, i]));

  const clusterIds = [...new Set(used.map((i) => labels[i]!))].sort((a, b) => a - b);
  const cPos = new Map(clusterIds.map((c, i) => [c, i]));
  const size = new Int32Array(clusterIds.length);
  const kMat = new Int32Array(clusterIds.length * tested.length);
  for (let r = 0; r < used.length; r++) {
    const c = cPos.get(labels[used[r]!]!)!;
    size[c]!++;
    for (const m of rowMoas[r]!) {
      const t = testedIdx.get(m);
      if (t !== undefined) kMat[c * tested.length + t]!++;
    }
  }

  const rows: EnrichmentRow[] = [];
  const enriched: number[] = [];
  let nSig = 0;
  for (let c = 0; c < clusterIds.length; c++) {
    let any = false;
    for (let t = 0; t < tested.length; t++) {
      const k = kMat[c * tested.length + t]!;
      if (k === 0) continue;
      const K = moaCount.get(tested[t]!)!;
      const p = hypergeomSf(k, N, K, size[c]!);
      const significant = p < alpha;
      if (significant) {
        any = true;
        nSig++;
      }
      rows.push({ cluster: clusterIds[c]!, moa: tested[t]!, k, n: size[c]!, K, N, p, q: NaN, significant });
    }
    if (any) enriched.push(clusterIds[c]!);
  }

  // BH over the family; pairs with k = 0 have p = 1 and only enlarge m.
  const family = opts.bhFamily ?? 'all';
  const m = family === 'all' ? clusterIds.length * tested.length : rows.length;
  const pv = new Float64Array(m).fill(1);
  for (let r = 0; r < rows.length; r++) pv[r] = rows[r]!.p;
  const q = benjaminiHochberg(pv);
  for (let r = 0; r < rows.length; r++) rows[r]!.q = q[r]!;

  if (tested.length === 0) warnings.push(`enrichment: no MoA is carried by ≥ ${minMoa} labelled rows; nothing was tested`);
  return {
    rows,
    nClusters: clusterIds.length,
    enrichedClusters: enriched,
    enrichmentRatio: clusterIds.length ? enriched.length / clusterIds.length : 0,
    nMoasTested: tested.length,
    nSignificantPairs: nSig,
    nLabelled: N,
    warnings,
  };
}
