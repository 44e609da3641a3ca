/**
 * Parameters of the DIP-community workflow and its presets. `paper` reproduces the source study
 * (metric-learn ITML with 20 + 20 constraints, 1000 sweeps, tol 1e-3, its percentile bounds;
 * PCA 50; z-score over the labelled rows only, as the reference run did).
 */
import type { ItmlBounds } from '../represent/itml.js';
import type { PcaSolver } from '../represent/pca.js';
import { UsageError } from '../util/errors.js';

export type Representation = 'raw' | 'pca' | 'itml';
/** 'auto': dense AP up to `DENSE_MAX_ROWS` rows, sparse AP on the k-NN graph above. */
export type ClusteringMethod = 'auto' | 'dense' | 'sparse-ap' | 'louvain';
export const CLUSTERING_METHODS: readonly ClusteringMethod[] = ['auto', 'dense', 'sparse-ap', 'louvain'];
/** Largest n for which `auto` picks dense AP (3 n² float64 arrays: 600 MB at 5,000). */
export const DENSE_MAX_ROWS = 5000;
export const REPRESENTATIONS: readonly Representation[] = ['raw', 'pca', 'itml'];

export interface RunParameters {
  preset: 'paper' | 'default';
  labelCol: string;
  /** Multi-MoA separator inside a label. */
  sep: string;
  seed: number;
  /** Rows whose statistics the z-score uses: only labelled rows (the study) or all rows. */
  normalizeOn: 'labelled' | 'all';
  /** PCA components (integer) or variance fraction. */
  pca: number;
  /** PCA solver: 'auto' (randomized for large tables), 'full' (exact) or 'randomized'. */
  pcaSolver: PcaSolver;
  itml: { numConstraints: number; maxIter: number; tol: number; gamma: number; bounds: ItmlBounds };
  ap: { damping: number; maxIter: number; convergenceIter: number; retry: boolean };
  clustering: ClusteringMethod;
  /** Neighbours per row of the k-NN graph (sparse AP, Louvain). */
  knn: number;
  /**
   * 'auto': exact up to 20,000 rows, else the least estimated cost of exact, projected (exact
   * candidates on principal components) and HNSW (cluster/knnCost.ts).
   */
  knnMethod: 'auto' | 'exact' | 'projected' | 'hnsw';
  /**
   * Principal components candidates are found on, then re-ranked exactly: HNSW's (0 = all
   * dimensions, the default) and the projected exact search's (0 = 256).
   */
  knnProjection: number;
  /** With a projection: widen it (×2, up to all dimensions) while the measured recall@k is below this. */
  knnMinRecall: number;
  /** Louvain resolution γ. */
  louvainResolution: number;
  /** Sparse AP: fraction of points allowed to be still changing when convergence is declared. */
  sparseApTolerance: number;
  minMoa: number;
  alpha: number;
  csifThreshold: number;
  csifMinSize: number;
  representations: Representation[];
  /** Columns that name a drug (query, report); the first present one wins. */
  idCols: string[];
}

export const DEFAULT_ID_COLS = [
  'Metadata_pert_iname', 'Metadata_compound', 'Compound Name', 'Metadata_Compound', 'Metadata_broad_sample',
  'Metadata_broad_id', 'Compound BRD', 'Metadata_pert_id',
];

export function presetParameters(preset: 'paper' | 'default', labelCol = 'Metadata_moa'): RunParameters {
  const base: RunParameters = {
    preset,
    labelCol,
    sep: '|',
    seed: 0,
    normalizeOn: 'all',
    pca: 50,
    pcaSolver: 'auto',
    itml: { numConstraints: 20, maxIter: 1000, tol: 1e-3, gamma: 1, bounds: 'squared' },
    ap: { damping: 0.5, maxIter: 200, convergenceIter: 15, retry: true },
    clustering: 'auto',
    knn: 50,
    knnMethod: 'auto',
    knnProjection: 0,
    knnMinRecall: 0.95,
    louvainResolution: 1,
    sparseApTolerance: 1e-3,
    minMoa: 5,
    alpha: 0.01,
    csifThreshold: 0.01,
    csifMinSize: 2,
    representations: [...REPRESENTATIONS],
    idCols: [...DEFAULT_ID_COLS],
  };
  if (preset === 'paper') {
    base.normalizeOn = 'labelled';
    base.itml = { ...base.itml, bounds: 'metric-learn' };
  }
  return base;
}

export function parseRepresentations(text: string): Representation[] {
  const out = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const r of out) {
    if (!REPRESENTATIONS.includes(r as Representation)) {
      throw new UsageError(`unknown representation "${r}" (choose from ${REPRESENTATIONS.join(', ')})`);
    }
  }
  if (!out.length) throw new UsageError('no representation given');
  return out as Representation[];
}
