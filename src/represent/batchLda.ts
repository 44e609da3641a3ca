/**
 * Batch-aware discriminant: a discriminant projection whose within-class scatter also counts the
 * differences between the profiles of the *same compound* in different batches (plates, weeks,
 * microscopes), and between the control wells of different batches, so that directions which
 * separate batches are treated as noise and shrunk rather than used to separate mechanisms.
 *
 * With class residuals r_i = x_i − μ_{class(i)} (n labelled rows, K classes),
 *   S_batch = Σ_g Σ_b n_gb·(m_gb − m_g)(m_gb − m_g)ᵀ   over compounds g (and the control group),
 * m_gb the mean of compound g's rows in batch b and m_g the mean of its rows; the fit uses
 *   Sw = (Σ_i r_i r_iᵀ + γ·S_batch) / (n − K),
 * then (optionally) Ledoit–Wolf shrinkage towards μ·I computed on the stacked residuals (the same
 * estimator as represent/lda.ts, `ledoitWolfScaled`), and the projection on the k leading
 * generalized eigenvectors of Sb·v = λ·Sw_s·v, scaled so that vᵀ·Sw_s·v = 1 (as lda-proj).
 * γ = 0 with shrinkage 'auto' is exactly lda-proj's pooled-scatter LDA. Same-compound batch
 * differences are already inside the class residuals once; γ adds them again with weight γ,
 * and the control wells (no class) contribute only through S_batch.
 *
 * With shrinkage (b = α·μ > 0) no eigenvalue of Sw_s can fall under `eigenFloor` × the largest, and
 * the directions come from Sw_s⁻¹·Bᵀ (Cholesky, or the Woodbury identity in the span of the stacked
 * residuals when they are fewer than the features; lda.ts's helpers) and a K × K eigenproblem.
 * Otherwise (the unshrunk form, Sw possibly singular) the generalized eigenproblem is solved in the
 * d × d eigenbasis of Sw_s with its eigenvalues floored at `eigenFloor` × the largest, then a K × K
 * eigenproblem: O(d³ + n·d²). Deterministic; `seed` is accepted for the uniform
 * learner interface and unused.
 */
import { type Matrix, type StoredMatrix, zeros, crossprod, tcrossprod, gemm, gemmNT, gemmTN, symmetricEigen, centeredProduct } from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import { classMeans, discriminantProjection, labelledClasses, ledoitWolfScaled, shrunkScatterSolveDirect, shrunkScatterSolveSpan } from './lda.js';
import { requireFiniteRows } from './finite.js';
import { type FitWorkspace, workMatrix } from './workspace.js';

export interface BatchLdaOptions {
  /** Shrinkage α in [0, 1], or 'auto' (Ledoit–Wolf). Default 'auto'. */
  shrinkage?: number | 'auto';
  /** Discriminant directions kept (≤ classes − 1). Default classes − 1. */
  nComponents?: number;
  /** γ: weight of the same-compound between-batch scatter. Default 1. */
  batchWeight?: number;
  /** Eigenvalues of Sw_s below this fraction of the largest are floored to it. Default 1e-6. */
  eigenFloor?: number;
  /**
   * 'auto' (default): the Cholesky / span solve whenever no eigenvalue can be floored, else the d × d
   * eigendecomposition; 'eigen': always the eigendecomposition (the reference form, for checks).
   */
  solver?: 'auto' | 'eigen';
  seed?: number;
}

export interface BatchLdaFitInput {
  /** Class per row; null = no class (e.g. a control well): used only for batch differences. */
  labels: readonly (string | null)[];
  /** Compound (or other replicate group) per row; null = not grouped. */
  groups: readonly (string | null)[];
  /** Batch per row; without it the fit is plain pooled LDA (γ has nothing to add). */
  batches?: readonly (string | null)[];
  /** Work arrays to reuse (workspace.ts); the same fit without. */
  workspace?: FitWorkspace;
}

export class BatchAwareLda {
  readonly shrinkageOpt: number | 'auto';
  readonly nComponentsRequested?: number;
  readonly batchWeight: number;
  readonly eigenFloor: number;
  readonly solver: 'auto' | 'eigen';
  mean?: Float64Array;
  scalings?: Matrix;
  classes: string[] = [];
  shrinkage = NaN;
  /** Share of the trace of Sw that the batch term contributes. */
  batchShare = NaN;
  /** (compound, batch) cells that contributed a batch difference. */
  batchCells = 0;

  constructor(opts: BatchLdaOptions = {}) {
    this.shrinkageOpt = opts.shrinkage ?? 'auto';
    this.nComponentsRequested = opts.nComponents;
    this.batchWeight = opts.batchWeight ?? 1;
    this.eigenFloor = opts.eigenFloor ?? 1e-6;
    this.solver = opts.solver ?? 'auto';
    if (this.solver !== 'auto' && this.solver !== 'eigen') throw new InputError(`batch-aware LDA: solver must be 'auto' or 'eigen', got "${String(this.solver)}"`);
    if (typeof this.shrinkageOpt === 'number' && !(this.shrinkageOpt >= 0 && this.shrinkageOpt <= 1)) {
      throw new InputError(`batch-aware LDA: shrinkage must be in [0, 1] or 'auto', got ${this.shrinkageOpt}`);
    }
    if (!(this.batchWeight >= 0 && Number.isFinite(this.batchWeight))) throw new InputError(`batch-aware LDA: batchWeight must be ≥ 0, got ${this.batchWeight}`);
  }

  fit(X: StoredMatrix, input: BatchLdaFitInput): this {
    const { labels, groups, batches, workspace: ws } = input;
    const n0 = X.rows, d = X.cols, x = X.data;
    if (labels.length !== n0 || groups.length !== n0 || (batches && batches.length !== n0)) {
      throw new InputError(`batch-aware LDA: ${labels.length} labels, ${groups.length} groups${batches ? `, ${batches.length} batches` : ''} for ${n0} rows`);
    }
    requireFiniteRows(X, 'batch-aware LDA');
    const { classIndex, rows, cls, K, n } = labelledClasses(labels, 'batch-aware LDA');
    const k = this.nComponentsRequested ?? K - 1;
    if (!(Number.isInteger(k) && k >= 1 && k <= K - 1)) throw new InputError(`batch-aware LDA: nComponents must be an integer in [1, ${K - 1}] (classes − 1), got ${k}`);
    this.classes = [...classIndex.keys()];

    const { counts, means, mean } = classMeans(x, d, rows, cls, K);

    // Same-group between-batch differences: one row √(γ·n_gb)·(m_gb − m_g) per (group, batch).
    const cells = new Map<string, Map<string, number[]>>();
    if (batches && this.batchWeight > 0) {
      for (let i = 0; i < n0; i++) {
        const g = groups[i], b = batches[i];
        if (g === null || g === '' || b === null || b === '') continue;
        let m = cells.get(g);
        if (!m) cells.set(g, (m = new Map()));
        let list = m.get(b);
        if (!list) m.set(b, (list = []));
        list.push(i);
      }
    }
    let nb = 0;
    for (const m of cells.values()) if (m.size > 1) nb += m.size;
    this.batchCells = nb;
    const R = workMatrix(ws, 'residuals', n + nb, d);
    const rd = R.data;
    for (let r = 0; r < n; r++) {
      const o = rows[r]! * d, mo = cls[r]! * d, ro = r * d;
      for (let j = 0; j < d; j++) rd[ro + j] = x[o + j]! - means[mo + j]!;
    }
    let t = n;
    const gm = new Float64Array(d), bm = new Float64Array(d);
    for (const m of cells.values()) {
      if (m.size < 2) continue;
      gm.fill(0);
      let total = 0;
      for (const list of m.values()) {
        for (const i of list) for (let j = 0; j < d; j++) gm[j] += x[i * d + j]!;
        total += list.length;
      }
      for (let j = 0; j < d; j++) gm[j] /= total;
      for (const list of m.values()) {
        bm.fill(0);
        for (const i of list) for (let j = 0; j < d; j++) bm[j] += x[i * d + j]!;
        const w = Math.sqrt(this.batchWeight * list.length);
        for (let j = 0; j < d; j++) rd[t * d + j] = w * (bm[j]! / list.length - gm[j]!);
        t++;
      }
    }
    let ssClass = 0, ssBatch = 0;
    for (let i = 0; i < n * d; i++) ssClass += rd[i]! * rd[i]!;
    for (let i = n * d; i < (n + nb) * d; i++) ssBatch += rd[i]! * rd[i]!;
    this.batchShare = ssBatch / (ssClass + ssBatch);

    const dof = n - K;
    const alpha = this.shrinkageOpt === 'auto' ? ledoitWolfScaled(R, ws) : this.shrinkageOpt;
    this.shrinkage = alpha;
    // Sb = Bᵀ·B with class offsets weighted by √(n_c / n).
    const B = zeros(K, d);
    for (let c = 0; c < K; c++) {
      const f = Math.sqrt(counts[c]! / n);
      for (let j = 0; j < d; j++) B.data[c * d + j] = f * (means[c * d + j]! - mean[j]!);
    }
    // Sw_s = a·RᵀR + b·I. The smaller Gram matrix of R gives its trace (and the span form's system).
    const span = n + nb < d;
    // The span form's Gram matrix is only read (and overwritten) by its solve: a workspace array.
    const G = span ? tcrossprod(R, workMatrix(ws, 'gram', n + nb, n + nb)) : crossprod(R);
    let trace = 0;
    for (let j = 0; j < G.rows; j++) trace += G.data[j * G.rows + j]!;
    let mu = trace / dof / d;
    const a = (1 - alpha) / dof;
    let b = alpha * mu;
    if (this.solver === 'auto' && b > 0 && b >= this.eigenFloor * (a * trace + b)) {
      // Every eigenvalue of Sw_s is ≥ b and the largest ≤ a·tr(RᵀR) + b, so none is floored: the
      // directions need only Sw_s⁻¹·Bᵀ (a Cholesky solve, in the span of R's rows when they are
      // fewer than the features) instead of the d × d eigendecomposition. Same directions
      // (test/represent/batchLda.test.ts: to 1e-9 of the eigendecomposition's).
      let Zt: Matrix;
      if (span) Zt = shrunkScatterSolveSpan(R, G, B, a, b, 'batch-aware LDA', ws);
      else {
        const sw = G.data;
        for (let i = 0; i < sw.length; i++) sw[i] = (sw[i]! / dof) * (1 - alpha);
        for (let j = 0; j < d; j++) sw[j * d + j] += b;
        Zt = shrunkScatterSolveDirect(G, B, 'batch-aware LDA');
      }
      this.scalings = discriminantProjection(B, Zt, k).scalings;
      this.mean = mean;
      return this;
    }
    const Sw = span ? crossprod(R) : G;
    const sw = Sw.data;
    if (span) {
      // μ from the d × d scatter's own diagonal, as this form always took it.
      trace = 0;
      for (let j = 0; j < d; j++) trace += sw[j * d + j]!;
      mu = trace / dof / d;
      b = alpha * mu;
    }
    for (let i = 0; i < sw.length; i++) sw[i] = (sw[i]! / dof) * (1 - alpha);
    for (let j = 0; j < d; j++) sw[j * d + j] += b;
    const { values, vectors } = symmetricEigen(Sw);
    const floor = Math.max(values[0]! * this.eigenFloor, Number.MIN_VALUE);
    const W = zeros(d, d); // V·Λ^(−1/2)
    for (let c = 0; c < d; c++) {
      const s = 1 / Math.sqrt(Math.max(values[c]!, floor));
      for (let j = 0; j < d; j++) W.data[j * d + c] = vectors.data[j * d + c]! * s;
    }
    const Bw = gemm(B, W); // K × d
    const M = gemmNT(Bw, Bw); // K × K, shares its nonzero eigenvalues with Bwᵀ·Bw
    const eb = symmetricEigen(M, { k });
    // Eigenvectors of Bwᵀ·Bw: e = Bwᵀ·u / √λ; directions v = W·e.
    const E = gemmTN(Bw, eb.vectors); // d × k
    for (let c = 0; c < k; c++) {
      const inv = eb.values[c]! > 0 ? 1 / Math.sqrt(eb.values[c]!) : 0;
      for (let j = 0; j < d; j++) E.data[j * k + c] *= inv;
    }
    const V = gemm(W, E);
    // Sign rule of svd_flip: each direction's largest-magnitude entry positive.
    for (let c = 0; c < k; c++) {
      let best = -1, bi = 0;
      for (let j = 0; j < d; j++) {
        const a = Math.abs(V.data[j * k + c]!);
        if (a > best) { best = a; bi = j; }
      }
      if (V.data[bi * k + c]! < 0) for (let j = 0; j < d; j++) V.data[j * k + c] = -V.data[j * k + c]!;
    }
    this.scalings = V;
    this.mean = mean;
    return this;
  }

  transform(X: StoredMatrix): Matrix {
    if (!this.scalings || !this.mean) throw new Error('BatchAwareLda.transform called before fit');
    if (X.cols !== this.mean.length) throw new InputError(`batch-aware LDA: data has ${X.cols} features, the model was fitted on ${this.mean.length}`);
    return centeredProduct(X, this.mean, this.scalings);
  }
}
