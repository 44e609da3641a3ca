/**
 * UMAP (McInnes, Healy & Melville 2018) through the `umap-js` package (PAIR-code), seeded from
 * phenomap's Rng so the same seed gives the same embedding. Defaults as umap-learn:
 * nNeighbors 15, minDist 0.1, 2 components.
 */
import { UMAP as UmapJs } from 'umap-js';
import type { Matrix } from '../linalg/matrix.js';
import { Rng } from '../linalg/rng.js';
import { InputError } from '../util/errors.js';
import { silentReporter, type Reporter } from '../util/log.js';

export interface UMAPOptions {
  nComponents?: number;
  nNeighbors?: number;
  minDist?: number;
  nEpochs?: number;
  seed?: number;
  reporter?: Reporter;
}

export class UMAP {
  readonly nComponents: number;
  readonly nNeighbors: number;
  readonly minDist: number;
  readonly nEpochs?: number;
  readonly seed: number;
  private readonly reporter: Reporter;

  constructor(opts: UMAPOptions = {}) {
    this.nComponents = opts.nComponents ?? 2;
    this.nNeighbors = opts.nNeighbors ?? 15;
    this.minDist = opts.minDist ?? 0.1;
    this.nEpochs = opts.nEpochs;
    this.seed = opts.seed ?? 0;
    this.reporter = opts.reporter ?? silentReporter;
  }

  fitTransform(X: Matrix): Matrix {
    const n = X.rows;
    if (n < 3) throw new InputError(`UMAP needs at least 3 rows, got ${n}`);
    const rows: number[][] = new Array(n);
    for (let i = 0; i < n; i++) {
      const r = Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols));
      for (const v of r) if (!Number.isFinite(v)) throw new InputError(`UMAP: input has a non-finite value at row ${i}`);
      rows[i] = r;
    }
    const rng = new Rng(this.seed);
    const umap = new UmapJs({
      nComponents: this.nComponents,
      nNeighbors: Math.min(this.nNeighbors, n - 1),
      minDist: this.minDist,
      ...(this.nEpochs ? { nEpochs: this.nEpochs } : {}),
      random: () => rng.uniform(),
    });
    const epochs = umap.initializeFit(rows);
    const progress = this.reporter.progress('UMAP', epochs);
    for (let e = 0; e < epochs; e++) {
      umap.step();
      if ((e + 1) % 10 === 0) progress.tick(e + 1);
    }
    progress.done();
    const emb = umap.getEmbedding();
    const out = new Float64Array(n * this.nComponents);
    for (let i = 0; i < n; i++) for (let a = 0; a < this.nComponents; a++) out[i * this.nComponents + a] = emb[i]![a]!;
    return { rows: n, cols: this.nComponents, data: out };
  }
}
