/**
 * 2-D embeddings for the report: t-SNE (study parameters) and/or UMAP of a run's representations
 * "before ITML" (repr_raw.npy, the z-scored features) and "after ITML" (repr_itml.npy, X·Lᵀ),
 * on all rows or on the rows of the top-k MoAs (the study's figure). Cached as
 * `embedding_<method>_<space>[_top<k>]_seed<seed>.npy` in the run directory so reruns are fast,
 * with a `.key` file beside it: a hash of the embedded matrix, its rows and every parameter of the
 * embedding. A cached file is used only when its key matches, so a run rewritten with other data
 * of the same size, or other parameters, is embedded afresh.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { join } from 'node:path';
import type { Matrix } from '../linalg/matrix.js';
import { takeRows } from '../linalg/index.js';
import { readNpyMatrix, writeNpy } from '../io/npy.js';
import { TSNE, type Knn } from '../embed/tsne.js';
import { UMAP } from '../embed/umap.js';
import { silentReporter, type Reporter } from '../util/log.js';
import { topCategories } from './figures.js';
import type { RunData } from '../io/runDir.js';

export type EmbeddingMethod = 'tsne' | 'umap';

export interface Embedding {
  key: string;
  method: EmbeddingMethod;
  /** Representation embedded ('raw' = before ITML, 'itml' = after ITML). */
  space: string;
  label: string;
  /** Run rows embedded, in order of `coords` rows. */
  rows: Int32Array;
  coords: Matrix;
  cached: boolean;
}

export interface EmbeddingOptions {
  methods?: EmbeddingMethod[];
  seed?: number;
  /** 'all' rows, or only rows whose label is among the top-k MoAs. */
  subset?: 'all' | 'top-moas';
  topMoas?: number;
  /** Recompute even when a cached file exists. */
  force?: boolean;
  /** Precomputed kNN of all rows per representation (reused by t-SNE when all rows are embedded). */
  knn?: Record<string, Knn>;
  /** Representations to embed (default raw and itml, else pca). */
  spaces?: string[];
  reporter?: Reporter;
}

export const SPACE_LABEL: Record<string, string> = { raw: 'before ITML', itml: 'after ITML', pca: 'PCA', uncorrected: 'before batch correction' };
const METHOD_LABEL: Record<EmbeddingMethod, string> = { tsne: 't-SNE', umap: 'UMAP' };

export function embeddingRows(run: RunData, subset: 'all' | 'top-moas', topMoas: number): Int32Array {
  if (subset === 'all') return Int32Array.from({ length: run.n }, (_, i) => i);
  const top = new Set(topCategories(run.moa, topMoas).map((t) => t.label));
  const idx: number[] = [];
  for (let i = 0; i < run.n; i++) if (run.moa[i] !== null && top.has(run.moa[i]!)) idx.push(i);
  return Int32Array.from(idx);
}

/** The cache key of an embedding: its input matrix, rows and parameters (the model's own fields). */
export function embeddingKey(method: EmbeddingMethod, model: object, X: Matrix, rows: Int32Array, precomputedKnn: boolean): string {
  const h = createHash('sha256');
  const params = JSON.stringify(model, (k, v) => (k === 'reporter' || k === 'knn' ? undefined : v instanceof Float64Array || v instanceof Float32Array ? Array.from(v) : v));
  h.update(JSON.stringify({ method, params, rows: X.rows, cols: X.cols, precomputedKnn }));
  h.update(new Uint8Array(X.data.buffer, X.data.byteOffset, X.data.byteLength));
  h.update(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
  return h.digest('hex');
}

export function computeEmbeddings(run: RunData, opts: EmbeddingOptions = {}): Embedding[] {
  const methods = opts.methods ?? ['tsne'];
  const seed = opts.seed ?? 0;
  const subset = opts.subset ?? 'all';
  const k = opts.topMoas ?? 10;
  const reporter = opts.reporter ?? silentReporter;
  const rows = embeddingRows(run, subset, k);
  const spaces = (opts.spaces ?? ['raw', 'itml']).filter((s) => run.repr(s));
  if (!opts.spaces && spaces.length === 0 && run.repr('pca')) spaces.push('pca');
  const out: Embedding[] = [];
  if (rows.length < 5) {
    reporter.warn(`embedding: only ${rows.length} rows to embed; skipped`);
    return out;
  }
  for (const method of methods) {
    for (const space of spaces) {
      const suffix = subset === 'top-moas' ? `_top${k}` : '';
      const key = `${method}_${space}${suffix}`;
      const file = join(run.dir, `embedding_${key}_seed${seed}.npy`);
      const keyFile = file.replace(/\.npy$/, '.key');
      const X = run.repr(space)!;
      const Xs = rows.length === run.n ? X : takeRows(X, rows);
      const knn = rows.length === run.n ? opts.knn?.[space] : undefined;
      const model = method === 'tsne' ? new TSNE({ seed, reporter, knn }) : new UMAP({ seed, reporter });
      const hash = embeddingKey(method, model, Xs, rows, knn !== undefined);
      let coords: Matrix | undefined;
      let cached = false;
      if (!opts.force && existsSync(file) && existsSync(keyFile) && readFileSync(keyFile, 'utf8').trim() === hash) {
        const m = readNpyMatrix(file);
        if (m.rows === rows.length && m.cols === 2) {
          coords = m;
          cached = true;
        }
      }
      if (!coords) {
        reporter.info(`${METHOD_LABEL[method]} of ${Xs.rows} rows × ${Xs.cols} (${SPACE_LABEL[space] ?? space})`);
        coords = model.fitTransform(Xs);
        writeNpy(file, coords);
        writeFileAtomic(keyFile, `${hash}\n`);
      }
      out.push({ key, method, space, label: `${METHOD_LABEL[method]} ${SPACE_LABEL[space] ?? space}${suffix ? ` (top ${k} MoAs)` : ''}`, rows, coords, cached });
    }
  }
  return out;
}
