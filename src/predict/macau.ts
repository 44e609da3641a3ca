/**
 * Macau: Bayesian probabilistic matrix factorisation with side information, Gibbs-sampled.
 *
 * References: Salakhutdinov & Mnih (2008), "Bayesian probabilistic matrix factorization using
 * MCMC" (BPMF: Normal–Wishart hyper-priors, row-wise Gaussian conditionals); Simm et al. (2015),
 * "Macau: scalable Bayesian multi-relational factorization with side information using MCMC"
 * (link matrix β with prior mean μ_U + βᵀf_i, β by noise injection, λ_β Gamma posterior);
 * the SMURFF/macau-cpp sampler (hyper-parameters b0 = 2, W0 = I, ν0 = K, λ_β prior mean 1 with
 * ν = 1e-3, adaptive noise a0 = ½, b0 = ½·Var(Y), precision capped at (sn_max + 1)/Var(Y)).
 *
 * Model (compounds i, assays j, K latent dimensions):
 *   y_ij = offset + u_iᵀ v_j + ε,   ε ~ N(0, 1/α)   (probit: y_ij = 1[offset + u_iᵀv_j + ε > 0], α = 1)
 *   u_i ~ N(μ_U + βᵀ f_i, Λ_U⁻¹),   v_j ~ N(μ_V, Λ_V⁻¹)
 *   (μ, Λ) ~ Normal–Wishart(0, b0, W0, ν0) for U and V;   rows of β ~ N(0, (λ_β Λ_U)⁻¹).
 * The offset is the training mean for Gaussian noise and Φ⁻¹(base rate) for probit (so the
 * factors model deviations and the sampler does not have to spend a latent dimension on it).
 *
 * One Gibbs sweep: U rows | (μ_U, Λ_U) | β | λ_β | V rows | (μ_V, Λ_V) | noise precision.
 * Only observed cells are visited (CSR for U, CSC for V); Y is never densified.
 *
 * β with dense side information (betaSolver 'cholesky'): its conditional is matrix normal with
 * row covariance A⁻¹, A = FᵀF + λ_β I, and column covariance Λ_U⁻¹. Macau's noise injection solves
 * A β = Fᵀ(U − μ + E₁) + √λ_β E₂ with E₁, E₂ rows ~ N(0, Λ_U⁻¹). The injected term FᵀE₁ + √λ_β E₂
 * has exactly the law of L·E (L Lᵀ = A, E rows ~ N(0, Λ_U⁻¹)), so with the Cholesky factor at hand
 * we draw it as L·E: d×d×K work instead of N×d×K, same distribution. FᵀF is formed once per fit.
 * Wide side information ('cg'): the literal noise injection, solved by block conjugate gradient
 * warm-started at the previous β, never forming FᵀF.
 *
 * Saved model (toJSON): `keep` thinned posterior samples, each holding V (m×K), μ_U (K), β (d×K),
 * the noise precision and, when keepLatent is true, U (n×K). Size ≈ keep × K × (m + d + n·[keepLatent])
 * × 8 bytes (×4/3 as base64 text). In-matrix cells are predicted from the stored (U, V) samples;
 * out-of-matrix compounds from (μ_U + βᵀf, V). Cells known at fit time can instead be `track`ed:
 * their mean and sd are accumulated over all nsamples kept samples at no storage cost.
 */
import {
  type Matrix, zeros, fromData, transpose, gemm, gemmNT, crossprod, cholesky, choleskySolveMatrix, choleskyInverse,
  forwardSubstitute, backSubstituteT, conjugateGradient,
} from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import { type Reporter, silentReporter } from '../util/log.js';
import { Rng } from '../linalg/rng.js';
import { normalCdf, normalQuantile, truncatedNormalPositive } from './normal.js';
import { ActivityMatrix, type Cell } from './sparse.js';

export type MacauNoise =
  | { kind: 'fixed'; precision: number }
  | { kind: 'adaptive'; snInit?: number; snMax?: number }
  | { kind: 'probit'; threshold?: number };

export interface MacauOptions {
  numLatent?: number;
  burnin?: number;
  nsamples?: number;
  seed?: number;
  /** Default { kind: 'adaptive', snInit: 1, snMax: 10 }. */
  noise?: MacauNoise;
  /** Initial λ_β (default 5); sampled from its Gamma posterior unless sampleLambdaBeta is false. */
  lambdaBeta?: number;
  sampleLambdaBeta?: boolean;
  /** 'auto' (default): Cholesky when features ≤ 3000, conjugate gradient beyond. */
  betaSolver?: 'auto' | 'cholesky' | 'cg';
  /** Relative residual for the CG solver (default 1e-6). */
  cgTol?: number;
  /** Posterior samples stored for predict / predictNew / toJSON (default min(nsamples, 100), thinned evenly). */
  keep?: number;
  /**
   * Store U in the kept samples, needed by predict(cells) for in-matrix cells. Default: true when
   * those copies take at most 256 MB (keep × n × K × 8 bytes), else false with a warning.
   */
  keepLatent?: boolean;
  reporter?: Reporter;
}

export interface MacauFitOptions {
  /** Cells whose prediction is accumulated over every kept sample (e.g. held-out test cells). */
  track?: readonly Cell[];
}

export interface CellPrediction {
  /** Posterior mean per cell (Gaussian: activity value; probit: probability of the active class). */
  mean: Float64Array;
  /** Posterior sd of that mean across samples. */
  std: Float64Array;
  /** sd of a new observation: √(std² + 1/α) for Gaussian noise; equals std for probit. */
  predictiveStd: Float64Array;
}

export interface MatrixPrediction {
  mean: Matrix;
  std: Matrix;
  predictiveStd: Matrix;
}

/** Per-iteration diagnostics. */
export interface MacauTrace {
  /** Training RMSE of the current sample (Gaussian noise), or training error rate (probit). */
  trainError: number[];
  noisePrecision: number[];
  lambdaBeta: number[];
  secondsPerSample: number[];
  /** Process CPU seconds (user + system) per sweep: the honest figure on a shared machine. */
  cpuSecondsPerSample: number[];
  /** Total seconds per phase of the sweep (uRows, uHyper, beta, vRows, vHyper, noise). */
  phaseSeconds: Record<string, number>;
}

interface PosteriorSample {
  V: Float64Array;
  muU: Float64Array;
  beta: Float64Array | null;
  U: Float64Array | null;
  alpha: number;
}

interface ResolvedOptions {
  numLatent: number;
  burnin: number;
  nsamples: number;
  seed: number;
  noise: Required<Extract<MacauNoise, { kind: 'fixed' }>> | Required<Extract<MacauNoise, { kind: 'adaptive' }>> | Required<Extract<MacauNoise, { kind: 'probit' }>>;
  lambdaBeta: number;
  sampleLambdaBeta: boolean;
  betaSolver: 'auto' | 'cholesky' | 'cg';
  cgTol: number;
  keep: number;
  keepLatent: boolean | 'auto';
}

const FORMAT = 'phenomap-macau';

function resolveNoise(n: MacauNoise | undefined): ResolvedOptions['noise'] {
  if (!n) return { kind: 'adaptive', snInit: 1, snMax: 10 };
  if (n.kind === 'fixed') {
    if (!(n.precision > 0)) throw new RangeError(`Macau: fixed noise precision must be > 0, got ${n.precision}`);
    return { kind: 'fixed', precision: n.precision };
  }
  if (n.kind === 'adaptive') return { kind: 'adaptive', snInit: n.snInit ?? 1, snMax: n.snMax ?? 10 };
  return { kind: 'probit', threshold: n.threshold ?? 0.5 };
}

export class Macau {
  readonly options: ResolvedOptions;
  private readonly reporter: Reporter;
  /** Training shape and offset (set by fit or fromJSON). */
  rows = 0;
  cols = 0;
  numFeatures = 0;
  offset = 0;
  /** Posterior mean of the noise variance 1/α over kept samples (0 for probit). */
  noiseVariance = 0;
  trace: MacauTrace = { trainError: [], noisePrecision: [], lambdaBeta: [], secondsPerSample: [], cpuSecondsPerSample: [], phaseSeconds: {} };
  /** Mean/sd over all kept samples of the cells passed as `track` to fit. */
  tracked: ({ cells: Cell[] } & CellPrediction) | null = null;
  private samples: PosteriorSample[] = [];

  constructor(opts: MacauOptions = {}) {
    const nsamples = opts.nsamples ?? 800;
    this.options = {
      numLatent: opts.numLatent ?? 32,
      burnin: opts.burnin ?? 200,
      nsamples,
      seed: opts.seed ?? 0,
      noise: resolveNoise(opts.noise),
      lambdaBeta: opts.lambdaBeta ?? 5,
      sampleLambdaBeta: opts.sampleLambdaBeta ?? true,
      betaSolver: opts.betaSolver ?? 'auto',
      cgTol: opts.cgTol ?? 1e-6,
      keep: Math.min(opts.keep ?? 100, nsamples),
      keepLatent: opts.keepLatent ?? 'auto',
    };
    const o = this.options;
    if (!(Number.isInteger(o.numLatent) && o.numLatent >= 1)) throw new RangeError(`Macau: numLatent must be a positive integer, got ${o.numLatent}`);
    if (!(Number.isInteger(o.burnin) && o.burnin >= 0)) throw new RangeError(`Macau: burnin must be a non-negative integer, got ${o.burnin}`);
    if (!(Number.isInteger(nsamples) && nsamples >= 1)) throw new RangeError(`Macau: nsamples must be a positive integer, got ${nsamples}`);
    if (!(Number.isInteger(o.keep) && o.keep >= 1)) throw new RangeError(`Macau: keep must be a positive integer, got ${o.keep}`);
    if (!(o.lambdaBeta > 0)) throw new RangeError(`Macau: lambdaBeta must be > 0, got ${o.lambdaBeta}`);
    this.reporter = opts.reporter ?? silentReporter;
  }

  get isProbit(): boolean {
    return this.options.noise.kind === 'probit';
  }

  /** Number of stored posterior samples. */
  get keptSamples(): number {
    return this.samples.length;
  }

  get hasSideInfo(): boolean {
    return this.numFeatures > 0;
  }

  /**
   * Run the sampler. Y: observed cells (binary 0/1 or thresholded for probit); F: side features of
   * the compounds (rows aligned with Y's rows), standardised by the caller.
   */
  fit(Y: ActivityMatrix, F?: Matrix, fitOpts: MacauFitOptions = {}): this {
    const o = this.options;
    const K = o.numLatent;
    const n = Y.rows, m = Y.cols, nnz = Y.nnz;
    if (nnz === 0) throw new InputError('Macau: the activity matrix has no observed cells');
    if (F) {
      if (F.rows !== n) throw new InputError(`Macau: side features have ${F.rows} rows, the activity matrix has ${n} compounds`);
      for (let t = 0; t < F.data.length; t++) {
        if (!Number.isFinite(F.data[t]!)) {
          throw new InputError(`Macau: side feature value at row ${Math.floor(t / F.cols)}, column ${t % F.cols} is not finite`);
        }
      }
    }
    const d = F ? F.cols : 0;
    this.rows = n; this.cols = m; this.numFeatures = d;
    this.samples = [];
    this.trace = { trainError: [], noisePrecision: [], lambdaBeta: [], secondsPerSample: [], cpuSecondsPerSample: [], phaseSeconds: {} };
    const phase = this.trace.phaseSeconds;
    let tp = 0;
    const lap = (name: string): void => {
      const now = performance.now();
      phase[name] = (phase[name] ?? 0) + (now - tp) / 1000;
      tp = now;
    };
    const rng = new Rng(o.seed);
    const probit = o.noise.kind === 'probit';

    // Targets in CSR order; CSC values reach them through colToRowPos.
    const yRow = new Float64Array(nnz);
    let varTotal = 1;
    if (o.noise.kind === 'probit') {
      const thr = o.noise.threshold;
      let pos = 0;
      for (let k = 0; k < nnz; k++) { const b = Y.rowVal[k]! >= thr ? 1 : 0; yRow[k] = b; pos += b; }
      const rate = Math.min(Math.max(pos / nnz, 1e-3), 1 - 1e-3);
      this.offset = normalQuantile(rate);
    } else {
      const st = Y.valueStats();
      this.offset = st.mean;
      for (let k = 0; k < nnz; k++) yRow[k] = Y.rowVal[k]! - st.mean;
      varTotal = st.variance > 0 ? st.variance : 1;
    }
    // Latent Gaussian targets (probit auxiliaries are resampled into it every half-sweep).
    const target = yRow.slice();

    let alpha: number, alphaMax = Infinity;
    const noise = o.noise;
    if (noise.kind === 'fixed') alpha = noise.precision;
    else if (noise.kind === 'adaptive') {
      alpha = (noise.snInit + 1) / varTotal;
      alphaMax = (noise.snMax + 1) / varTotal;
    } else alpha = 1;

    const U = new Float64Array(n * K), V = new Float64Array(m * K);
    for (let t = 0; t < U.length; t++) U[t] = 0.3 * rng.normal();
    for (let t = 0; t < V.length; t++) V[t] = 0.3 * rng.normal();
    const hypU = { mu: new Float64Array(K), Lambda: identityScaled(K, 10) };
    const hypV = { mu: new Float64Array(K), Lambda: identityScaled(K, 10) };

    // Side information state.
    let lambdaBeta = o.lambdaBeta;
    const solver = d === 0 ? 'none' : o.betaSolver === 'auto' ? (d <= 3000 ? 'cholesky' : 'cg') : o.betaSolver;
    const Fm = F ?? zeros(n, 0);
    let prod: SideProducts | null = null, FtF: Matrix | null = null, Fsum: Float64Array | null = null;
    let beta: Matrix = zeros(d, K);
    let Uhat: Float64Array | null = null;
    if (d > 0) {
      prod = makeSideProducts(Fm);
      if (solver === 'cholesky') FtF = crossprod(Fm);
      Fsum = new Float64Array(d);
      const fd = Fm.data;
      for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) Fsum[f] += fd[i * d + f]!;
      Uhat = new Float64Array(n * K);
    }

    let maxRow = 0;
    for (let i = 0; i < n; i++) maxRow = Math.max(maxRow, Y.rowNnz(i));
    for (let j = 0; j < m; j++) maxRow = Math.max(maxRow, Y.colNnz(j));
    let keepU = o.keepLatent === true;
    if (o.keepLatent === 'auto') {
      keepU = o.keep * n * K * 8 <= 256e6;
      if (!keepU) this.reporter.warn(`Macau: not storing U samples (${((o.keep * n * K * 8) / 1e6).toFixed(0)} MB); predict(cells) needs keepLatent: true or tracked cells`);
    }
    const ws = new RowWorkspace(K, Math.max(maxRow, K));
    const tracks = fitOpts.track ?? [];
    for (const c of tracks) {
      if (!(c.row >= 0 && c.row < n && c.col >= 0 && c.col < m)) throw new InputError(`Macau: tracked cell (${c.row}, ${c.col}) is outside the ${n}×${m} matrix`);
    }
    const trMean = new Float64Array(tracks.length), trM2 = new Float64Array(tracks.length);
    let trCount = 0;
    let alphaInvSum = 0;

    const keepAt = new Set<number>();
    for (let t = 0; t < o.keep; t++) keepAt.add(Math.min(o.nsamples - 1, Math.floor(((t + 1) * o.nsamples) / o.keep) - 1));

    const total = o.burnin + o.nsamples;
    const prog = this.reporter.progress('Gibbs sampling', total);
    try {
      for (let iter = 0; iter < total; iter++) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        tp = t0;
        // U rows (compound side), prior mean μ_U + Uhat_i.
        sampleRows(U, V, K, n, Y.rowPtr, Y.rowCol, null, target, yRow, probit, this.offset, alpha, hypU, Uhat, ws, rng);
        lap('uRows');
        if (d > 0) {
          const resid = new Float64Array(n * K);
          for (let t = 0; t < resid.length; t++) resid[t] = U[t]! - Uhat![t]!;
          const BBt = crossprod(beta);
          for (let t = 0; t < K * K; t++) BBt.data[t] *= lambdaBeta;
          sampleNormalWishart(resid, n, K, hypU, BBt.data, d, rng);
          lap('uHyper');
          beta = solver === 'cholesky'
            ? sampleBetaCholesky(FtF!, prod!, Fsum!, U, n, K, hypU, lambdaBeta, rng)
            : sampleBetaCg(prod!, U, n, K, hypU, lambdaBeta, beta, o.cgTol, rng);
          Uhat!.set(prod!.mul(beta).data);
          if (o.sampleLambdaBeta) lambdaBeta = sampleLambdaBeta(beta, hypU.Lambda, K, rng);
          lap('beta');
        } else {
          sampleNormalWishart(U, n, K, hypU, null, 0, rng);
          lap('uHyper');
        }
        // V rows (assay side).
        sampleRows(V, U, K, m, Y.colPtr, Y.colRow, Y.colToRowPos, target, yRow, probit, this.offset, alpha, hypV, null, ws, rng);
        lap('vRows');
        sampleNormalWishart(V, m, K, hypV, null, 0, rng);
        lap('vHyper');

        // Noise precision and training error.
        let sse = 0, wrong = 0;
        for (let i = 0; i < n; i++) {
          const ui = i * K;
          for (let k = Y.rowPtr[i]!; k < Y.rowPtr[i + 1]!; k++) {
            const vj = Y.rowCol[k]! * K;
            let s = 0;
            for (let q = 0; q < K; q++) s += U[ui + q]! * V[vj + q]!;
            if (probit) { if ((s + this.offset > 0 ? 1 : 0) !== yRow[k]) wrong++; }
            else { const e = s - yRow[k]!; sse += e * e; }
          }
        }
        if (noise.kind === 'adaptive') {
          const aN = 0.5 + nnz / 2, bN = 0.5 * varTotal + sse / 2;
          alpha = Math.min(rng.gamma(aN) / bN, alphaMax);
        }
        lap('noise');
        this.trace.trainError.push(probit ? wrong / nnz : Math.sqrt(sse / nnz));
        this.trace.noisePrecision.push(alpha);
        this.trace.lambdaBeta.push(d > 0 ? lambdaBeta : NaN);

        if (iter >= o.burnin) {
          const s = iter - o.burnin;
          trCount++;
          alphaInvSum += probit ? 0 : 1 / alpha;
          for (let t = 0; t < tracks.length; t++) {
            const c = tracks[t]!;
            let v = this.offset;
            const ui = c.row * K, vj = c.col * K;
            for (let q = 0; q < K; q++) v += U[ui + q]! * V[vj + q]!;
            if (probit) v = normalCdf(v);
            const delta = v - trMean[t]!;
            trMean[t] += delta / trCount;
            trM2[t] += delta * (v - trMean[t]!);
          }
          if (keepAt.has(s)) {
            this.samples.push({
              V: V.slice(),
              muU: hypU.mu.slice(),
              beta: d > 0 ? beta.data.slice() : null,
              U: keepU ? U.slice() : null,
              alpha,
            });
          }
        }
        this.trace.secondsPerSample.push((performance.now() - t0) / 1000);
        const cu = process.cpuUsage(c0);
        this.trace.cpuSecondsPerSample.push((cu.user + cu.system) / 1e6);
        prog.tick(iter + 1);
      }
    } finally {
      prod?.close();
    }
    prog.done();
    this.noiseVariance = probit ? 0 : alphaInvSum / trCount;
    if (tracks.length) {
      const std = new Float64Array(tracks.length);
      for (let t = 0; t < tracks.length; t++) std[t] = trCount > 1 ? Math.sqrt(trM2[t]! / (trCount - 1)) : 0;
      this.tracked = { cells: tracks.map((c) => ({ row: c.row, col: c.col })), mean: trMean, std, predictiveStd: this.withNoise(std) };
    } else {
      this.tracked = null;
    }
    return this;
  }

  private withNoise(std: Float64Array): Float64Array {
    if (this.isProbit) return std.slice();
    return std.map((s) => Math.sqrt(s * s + this.noiseVariance));
  }

  private requireFitted(): void {
    if (!this.samples.length) throw new Error('Macau: model is not fitted');
  }

  /** Posterior mean and sd of in-matrix cells, over the stored samples (needs keepLatent). */
  predict(cells: readonly Cell[]): CellPrediction {
    this.requireFitted();
    if (!this.samples[0]!.U) throw new Error('Macau: predict(cells) needs keepLatent: true (or track the cells at fit time)');
    const K = this.options.numLatent;
    const nc = cells.length;
    for (const c of cells) {
      if (!(c.row >= 0 && c.row < this.rows && c.col >= 0 && c.col < this.cols)) throw new InputError(`Macau: cell (${c.row}, ${c.col}) is outside the ${this.rows}×${this.cols} matrix`);
    }
    const mean = new Float64Array(nc), m2 = new Float64Array(nc);
    let cnt = 0;
    for (const s of this.samples) {
      cnt++;
      const U = s.U!, V = s.V;
      for (let t = 0; t < nc; t++) {
        const ui = cells[t]!.row * K, vj = cells[t]!.col * K;
        let v = this.offset;
        for (let q = 0; q < K; q++) v += U[ui + q]! * V[vj + q]!;
        if (this.isProbit) v = normalCdf(v);
        const delta = v - mean[t]!;
        mean[t] += delta / cnt;
        m2[t] += delta * (v - mean[t]!);
      }
    }
    const std = m2.map((x) => (cnt > 1 ? Math.sqrt(x / (cnt - 1)) : 0));
    return { mean, std, predictiveStd: this.withNoise(std) };
  }

  /**
   * Out-of-matrix compounds from their side features: u = μ_U + βᵀf per stored sample (as SMURFF),
   * predictions for `assays` (default all). Without side information every new compound gets
   * u = μ_U (the population prediction); Fnew then only supplies the number of rows.
   */
  predictNew(Fnew: Matrix, assays?: readonly number[]): MatrixPrediction {
    this.requireFitted();
    const K = this.options.numLatent;
    const d = this.numFeatures;
    if (d > 0 && Fnew.cols !== d) throw new InputError(`Macau: new compounds have ${Fnew.cols} features, the model was fitted with ${d}`);
    for (let t = 0; t < Fnew.data.length; t++) {
      if (!Number.isFinite(Fnew.data[t]!)) throw new InputError(`Macau: feature value at row ${Math.floor(t / Fnew.cols)}, column ${t % Fnew.cols} is not finite`);
    }
    const cols = assays ? Array.from(assays) : Array.from({ length: this.cols }, (_, j) => j);
    for (const j of cols) if (!(j >= 0 && j < this.cols)) throw new InputError(`Macau: assay index ${j} is outside 0..${this.cols - 1}`);
    const nn = Fnew.rows, na = cols.length;
    const mean = zeros(nn, na), m2 = zeros(nn, na);
    const me = mean.data, mm = m2.data;
    const Vsel = zeros(na, K);
    let cnt = 0;
    for (const s of this.samples) {
      cnt++;
      let Unew: Matrix;
      if (d > 0) {
        Unew = gemm(Fnew, fromData(d, K, s.beta!));
      } else {
        Unew = zeros(nn, K);
      }
      const u = Unew.data;
      for (let i = 0; i < nn; i++) for (let q = 0; q < K; q++) u[i * K + q] += s.muU[q]!;
      for (let a = 0; a < na; a++) Vsel.data.set(s.V.subarray(cols[a]! * K, (cols[a]! + 1) * K), a * K);
      const P = gemmNT(Unew, Vsel);
      const p = P.data;
      for (let t = 0; t < p.length; t++) {
        let v = p[t]! + this.offset;
        if (this.isProbit) v = normalCdf(v);
        const delta = v - me[t]!;
        me[t] += delta / cnt;
        mm[t] += delta * (v - me[t]!);
      }
    }
    const std = zeros(nn, na);
    for (let t = 0; t < mm.length; t++) std.data[t] = cnt > 1 ? Math.sqrt(mm[t]! / (cnt - 1)) : 0;
    return { mean, std, predictiveStd: fromData(nn, na, this.withNoise(std.data)) };
  }

  /** Serialisable model: options, shape, offset and the stored samples (typed arrays as base64). */
  toJSON(): MacauJSON {
    this.requireFitted();
    return {
      format: FORMAT,
      version: 1,
      options: { ...this.options, noise: { ...this.options.noise } },
      rows: this.rows,
      cols: this.cols,
      numFeatures: this.numFeatures,
      offset: this.offset,
      noiseVariance: this.noiseVariance,
      samples: this.samples.map((s) => ({
        V: encodeF64(s.V),
        muU: encodeF64(s.muU),
        beta: s.beta ? encodeF64(s.beta) : null,
        U: s.U ? encodeF64(s.U) : null,
        alpha: s.alpha,
      })),
    };
  }

  static fromJSON(json: MacauJSON): Macau {
    if (!json || json.format !== FORMAT) throw new InputError(`not a saved Macau model (format ${String(json?.format)})`);
    if (json.version !== 1) throw new InputError(`saved Macau model has version ${json.version}; this phenomap reads version 1`);
    const { keepLatent, ...rest } = json.options;
    const m = new Macau({ ...rest, keepLatent: keepLatent === 'auto' ? undefined : keepLatent });
    m.rows = json.rows;
    m.cols = json.cols;
    m.numFeatures = json.numFeatures;
    m.offset = json.offset;
    m.noiseVariance = json.noiseVariance;
    const K = m.options.numLatent;
    m.samples = json.samples.map((s, t) => {
      const V = decodeF64(s.V), muU = decodeF64(s.muU);
      const beta = s.beta ? decodeF64(s.beta) : null;
      const U = s.U ? decodeF64(s.U) : null;
      if (V.length !== m.cols * K || muU.length !== K || (beta && beta.length !== m.numFeatures * K) || (U && U.length !== m.rows * K)) {
        throw new InputError(`saved Macau model: sample ${t} has arrays of the wrong size`);
      }
      return { V, muU, beta, U, alpha: s.alpha };
    });
    return m;
  }

  /** Approximate size in bytes of the stored samples (binary; base64 JSON is 4/3 of it). */
  storedBytes(): number {
    let b = 0;
    for (const s of this.samples) b += 8 * (s.V.length + s.muU.length + (s.beta?.length ?? 0) + (s.U?.length ?? 0) + 1);
    return b;
  }
}

export interface MacauJSON {
  format: string;
  version: number;
  options: ResolvedOptions;
  rows: number;
  cols: number;
  numFeatures: number;
  offset: number;
  noiseVariance: number;
  samples: { V: string; muU: string; beta: string | null; U: string | null; alpha: number }[];
}

// ---------------------------------------------------------------------------------------------
// Sampler steps

interface Hyper {
  mu: Float64Array;
  Lambda: Float64Array; // K×K
}

/** Reused buffers so that the row loop allocates (almost) nothing. */
export class RowWorkspace {
  readonly MM: Matrix;
  readonly L: Matrix;
  readonly rr: Float64Array;
  readonly lmu: Float64Array;
  readonly u0: Float64Array;
  readonly res: Float64Array;
  tv: Float64Array;
  private gatherBuf: Float64Array;
  private readonly small = new Map<number, { G: Matrix; L: Matrix }>();
  constructor(readonly K: number, maxRow: number) {
    this.MM = zeros(K, K);
    this.L = zeros(K, K);
    this.rr = new Float64Array(K);
    this.lmu = new Float64Array(K);
    this.u0 = new Float64Array(K);
    this.res = new Float64Array(K);
    this.tv = new Float64Array(maxRow);
    this.gatherBuf = new Float64Array(maxRow * K);
  }
  /** n×n matrix and factor buffers for the perturbation sampler (n ≤ K). */
  smallMatrix(n: number): Matrix {
    return this.smallPair(n).G;
  }
  smallFactor(n: number): Matrix {
    return this.smallPair(n).L;
  }
  private smallPair(n: number): { G: Matrix; L: Matrix } {
    let p = this.small.get(n);
    if (!p) { p = { G: zeros(n, n), L: zeros(n, n) }; this.small.set(n, p); }
    return p;
  }
  /** n×K view for gathered rows. */
  gather(n: number): Matrix {
    return fromData(n, this.K, this.gatherBuf.subarray(0, n * this.K));
  }
}

/**
 * Sample every row r of `X` (nRows×K) from its Gaussian conditional given the other side `W`:
 *   precision  Λ + α Σ_j w_j w_jᵀ,   mean = precision⁻¹ (Λ (μ + prior_r) + α Σ_j w_j t_rj)
 * over the observed cells of row r (ptr/idx). For probit the auxiliaries t_rj are first drawn from
 * N(offset + x_rᵀw_j, 1) truncated to the sign of y_rj, then the offset is removed.
 * `pos` maps this orientation's cell positions to CSR positions (null when already CSR).
 *
 * Two exact samplers of the same conditional, chosen per row by cost:
 *  - few cells (n_r ≤ K, the usual compound row): perturbation / "Matheron's rule" (Hoffman &
 *    Ribak 1991; Doucet 2010, "A note on efficient conditional simulation of Gaussian
 *    distributions"): draw x0 ~ N(μ + prior_r, Λ⁻¹) and e ~ N(0, I/α), then
 *    x = x0 + ΣWᵀ (WΣWᵀ + I/α)⁻¹ (t − W x0 − e) with Σ = Λ⁻¹. Cost O(K² + n_r²K) instead of O(K³);
 *  - many cells (assay rows): the K×K precision, its scatter formed by the crossprod kernel on
 *    the gathered rows, one Cholesky, x = L⁻ᵀ(L⁻¹ rr + z).
 * Exported for the statistical test of the two paths only (not part of the public API).
 */
export function sampleRows(
  X: Float64Array, W: Float64Array, K: number, nRows: number,
  ptr: Int32Array, idx: Int32Array, pos: Int32Array | null,
  target: Float64Array, yRow: Float64Array, probit: boolean, offset: number, alpha: number,
  hyp: Hyper, priorOffset: Float64Array | null, ws: RowWorkspace, rng: Rng,
): void {
  const MM = ws.MM, mm = MM.data, L = ws.L, rr = ws.rr, lmu = ws.lmu;
  const Lam = hyp.Lambda, mu = hyp.mu;
  const nW = W.length / K;
  // Λμ once per sweep.
  for (let p = 0; p < K; p++) {
    let s = 0;
    for (let q = 0; q < K; q++) s += Lam[p * K + q]! * mu[q]!;
    lmu[p] = s;
  }
  let anyFew = false;
  for (let r = 0; r < nRows && !anyFew; r++) anyFew = ptr[r + 1]! - ptr[r]! <= K;
  let LLam: Matrix | null = null, WS: Float64Array | null = null;
  if (anyFew) {
    LLam = cholesky(fromData(K, K, Lam));
    WS = gemm(fromData(nW, K, W), choleskyInverse(LLam)).data; // rows Σ w_j
  }
  const sdNoise = 1 / Math.sqrt(alpha);
  const u0 = ws.u0, tv = ws.tv, res = ws.res;
  for (let r = 0; r < nRows; r++) {
    const xo = r * K;
    const lo = ptr[r]!, hi = ptr[r + 1]!, nr = hi - lo;
    // Targets (probit: fresh auxiliaries given the current x_r).
    for (let k = lo; k < hi; k++) {
      const cp = pos ? pos[k]! : k;
      if (probit) {
        const wo = idx[k]! * K;
        let pred = offset;
        for (let q = 0; q < K; q++) pred += X[xo + q]! * W[wo + q]!;
        const z = yRow[cp]! > 0.5 ? truncatedNormalPositive(rng, pred) : -truncatedNormalPositive(rng, -pred);
        target[cp] = z - offset;
      }
      tv[k - lo] = target[cp]!;
    }
    if (nr <= K) {
      // x0 ~ N(μ + prior_r, Λ⁻¹)
      for (let p = 0; p < K; p++) u0[p] = rng.normal();
      backSubstituteT(LLam!, u0, u0);
      for (let p = 0; p < K; p++) u0[p] += mu[p]! + (priorOffset ? priorOffset[xo + p]! : 0);
      if (nr > 0) {
        const G = ws.smallMatrix(nr), gd = G.data;
        for (let a = 0; a < nr; a++) {
          const sa = idx[lo + a]! * K;
          for (let b = 0; b <= a; b++) {
            const wb = idx[lo + b]! * K;
            let sum = 0;
            for (let q = 0; q < K; q++) sum += WS![sa + q]! * W[wb + q]!;
            gd[a * nr + b] = sum;
          }
          gd[a * nr + a] += 1 / alpha;
          const wa = idx[lo + a]! * K;
          let pred = 0;
          for (let q = 0; q < K; q++) pred += W[wa + q]! * u0[q]!;
          res[a] = tv[a]! - pred - sdNoise * rng.normal();
        }
        const Lg = cholesky(G, ws.smallFactor(nr));
        const c = res.subarray(0, nr);
        forwardSubstitute(Lg, c, c);
        backSubstituteT(Lg, c, c);
        for (let a = 0; a < nr; a++) {
          const sa = idx[lo + a]! * K, ca = c[a]!;
          for (let q = 0; q < K; q++) u0[q] += ca * WS![sa + q]!;
        }
      }
      for (let p = 0; p < K; p++) X[xo + p] = u0[p]!;
      continue;
    }
    if (priorOffset) {
      for (let p = 0; p < K; p++) {
        let sum = lmu[p]!;
        const lp = p * K;
        for (let q = 0; q < K; q++) sum += Lam[lp + q]! * priorOffset[xo + q]!;
        rr[p] = sum;
      }
    } else {
      rr.set(lmu);
    }
    // Gather √α·w_j and accumulate α Σ w_j t_j; the scatter α Σ w_j w_jᵀ comes from crossprod.
    const Gm = ws.gather(nr), gd = Gm.data;
    const sa = Math.sqrt(alpha);
    for (let k = lo; k < hi; k++) {
      const wo = idx[k]! * K, go = (k - lo) * K;
      const at = alpha * tv[k - lo]!;
      for (let p = 0; p < K; p++) {
        const w = W[wo + p]!;
        rr[p] += at * w;
        gd[go + p] = sa * w;
      }
    }
    const S = crossprod(Gm);
    for (let t = 0; t < K * K; t++) mm[t] = Lam[t]! + S.data[t]!;
    cholesky(MM, L);
    // x = L⁻ᵀ (L⁻¹ rr + z): mean MM⁻¹rr, covariance MM⁻¹.
    forwardSubstitute(L, rr, rr);
    for (let p = 0; p < K; p++) rr[p] += rng.normal();
    backSubstituteT(L, rr, rr);
    for (let p = 0; p < K; p++) X[xo + p] = rr[p]!;
  }
}

/**
 * (μ, Λ) from the Normal–Wishart conditional given the N rows of X (N×K), prior μ0 = 0, b0 = 2,
 * W0⁻¹ = I, ν0 = K (BPMF / SMURFF defaults). For Macau, the d rows of β contribute `extraScatter`
 * = λ_β ββᵀ to the inverse scale and `extraDf` = d to the degrees of freedom.
 * Λ ~ Wishart(T, ν) is drawn by the Bartlett decomposition: with T⁻¹ = Lx Lxᵀ and A lower
 * triangular (A_ii = √χ²(ν − i), A_ij ~ N(0,1) below), Λ = C Cᵀ with C = Lx⁻ᵀ A.
 */
function sampleNormalWishart(
  X: Float64Array, N: number, K: number, hyp: Hyper,
  extraScatter: Float64Array | null, extraDf: number, rng: Rng,
): void {
  const b0 = 2;
  const xbar = new Float64Array(K);
  for (let i = 0; i < N; i++) for (let q = 0; q < K; q++) xbar[q] += X[i * K + q]!;
  for (let q = 0; q < K; q++) xbar[q] /= N;
  const C = zeros(N, K);
  const c = C.data;
  for (let i = 0; i < N; i++) for (let q = 0; q < K; q++) c[i * K + q] = X[i * K + q]! - xbar[q]!;
  const S = crossprod(C); // Σ (x − x̄)(x − x̄)ᵀ
  const Tinv = S.data;
  const km = (b0 * N) / (b0 + N);
  for (let p = 0; p < K; p++) {
    for (let q = 0; q < K; q++) Tinv[p * K + q] += km * xbar[p]! * xbar[q]!;
    Tinv[p * K + p] += 1;
  }
  if (extraScatter) for (let t = 0; t < K * K; t++) Tinv[t] += extraScatter[t]!;
  const nu = K + N + extraDf;
  const kappa = b0 + N;
  const Lx = cholesky(S); // S now holds T⁻¹
  // Bartlett factor A (lower), then C = Lx⁻ᵀ A column by column.
  const Cm = zeros(K, K);
  const col = new Float64Array(K);
  const A = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    A[i * K + i] = Math.sqrt(2 * rng.gamma((nu - i) / 2));
    for (let j = 0; j < i; j++) A[i * K + j] = rng.normal();
  }
  for (let j = 0; j < K; j++) {
    for (let i = 0; i < K; i++) col[i] = A[i * K + j]!;
    backSubstituteT(Lx, col, col);
    for (let i = 0; i < K; i++) Cm.data[i * K + j] = col[i]!;
  }
  const Lam = gemmNT(Cm, Cm);
  // Symmetrise rounding so the row loop's Cholesky sees an exactly symmetric matrix.
  for (let p = 0; p < K; p++) for (let q = 0; q < p; q++) {
    const v = 0.5 * (Lam.data[p * K + q]! + Lam.data[q * K + p]!);
    Lam.data[p * K + q] = v; Lam.data[q * K + p] = v;
  }
  hyp.Lambda.set(Lam.data);
  // μ ~ N(μ_c, (κ Λ)⁻¹), μ_c = N x̄ / (b0 + N).
  const kL = zeros(K, K);
  for (let t = 0; t < K * K; t++) kL.data[t] = kappa * Lam.data[t]!;
  const Lk = cholesky(kL);
  const z = new Float64Array(K);
  for (let q = 0; q < K; q++) z[q] = rng.normal();
  backSubstituteT(Lk, z, z);
  for (let q = 0; q < K; q++) hyp.mu[q] = (N * xbar[q]!) / kappa + z[q]!;
}

/** E (rows × K) with rows ~ N(0, Λ⁻¹): e = L_Λ⁻ᵀ z per row. */
function normalRowsWithPrecision(rows: number, K: number, LLam: Matrix, rng: Rng): Matrix {
  const E = zeros(rows, K);
  const e = E.data;
  const z = new Float64Array(K);
  for (let i = 0; i < rows; i++) {
    for (let q = 0; q < K; q++) z[q] = rng.normal();
    backSubstituteT(LLam, z, z);
    e.set(z, i * K);
  }
  return E;
}

/** Fᵀ(U − 1μᵀ) = FᵀU − (Fᵀ1) μᵀ. */
function rhsBeta(prod: SideProducts, Fsum: Float64Array, U: Float64Array, n: number, K: number, mu: Float64Array): Matrix {
  const R = prod.tmul(fromData(n, K, U));
  const r = R.data, d = R.rows;
  for (let f = 0; f < d; f++) for (let q = 0; q < K; q++) r[f * K + q] -= Fsum[f]! * mu[q]!;
  return R;
}

function sampleBetaCholesky(
  FtF: Matrix, prod: SideProducts, Fsum: Float64Array, U: Float64Array, n: number, K: number,
  hyp: Hyper, lambdaBeta: number, rng: Rng,
): Matrix {
  const d = FtF.rows;
  const A = zeros(d, d);
  A.data.set(FtF.data);
  for (let f = 0; f < d; f++) A.data[f * d + f] += lambdaBeta;
  const L = cholesky(A);
  const LLam = cholesky(fromData(K, K, hyp.Lambda));
  const E = normalRowsWithPrecision(d, K, LLam, rng);
  const R = rhsBeta(prod, Fsum, U, n, K, hyp.mu);
  const LE = gemm(L, E);
  for (let t = 0; t < R.data.length; t++) R.data[t] += LE.data[t]!;
  return choleskySolveMatrix(L, R);
}

function sampleBetaCg(
  prod: SideProducts, U: Float64Array, n: number, K: number,
  hyp: Hyper, lambdaBeta: number, betaPrev: Matrix, tol: number, rng: Rng,
): Matrix {
  const d = prod.cols;
  const LLam = cholesky(fromData(K, K, hyp.Lambda));
  // Literal noise injection: Fᵀ(U − μ + E₁) + √λ_β E₂.
  const E1 = normalRowsWithPrecision(n, K, LLam, rng);
  const W = E1.data;
  for (let i = 0; i < n; i++) for (let q = 0; q < K; q++) W[i * K + q] += U[i * K + q]! - hyp.mu[q]!;
  const R = prod.tmul(E1);
  const E2 = normalRowsWithPrecision(d, K, LLam, rng);
  const sl = Math.sqrt(lambdaBeta);
  for (let t = 0; t < R.data.length; t++) R.data[t] += sl * E2.data[t]!;
  const res = conjugateGradient((P, out) => {
    const AP = prod.tmul(prod.mul(P));
    const o = out.data, a = AP.data, p = P.data;
    for (let t = 0; t < o.length; t++) o[t] = a[t]! + lambdaBeta * p[t]!;
  }, R, { tol, x0: betaPrev, maxIter: 10 * d });
  return res.X;
}

/**
 * λ_β | β, Λ_U ~ Gamma(shape (ν + dK)/2, rate (ν + μ0 Σ_f β_fᵀ Λ β_f) / (2 μ0)) with the
 * SMURFF hyper-prior μ0 = 1 (prior mean), ν = 1e-3 (weak).
 */
function sampleLambdaBeta(beta: Matrix, Lambda: Float64Array, K: number, rng: Rng): number {
  const mu0 = 1, nu0 = 1e-3;
  const d = beta.rows, b = beta.data;
  let tr = 0;
  const tmp = new Float64Array(K);
  for (let f = 0; f < d; f++) {
    const bo = f * K;
    for (let p = 0; p < K; p++) {
      let s = 0;
      for (let q = 0; q < K; q++) s += Lambda[p * K + q]! * b[bo + q]!;
      tmp[p] = s;
    }
    for (let p = 0; p < K; p++) tr += b[bo + p]! * tmp[p]!;
  }
  const shape = (nu0 + d * K) / 2;
  const rate = (nu0 + mu0 * tr) / (2 * mu0);
  return rng.gamma(shape) / rate;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** F·B and Fᵀ·B for the fixed side features (Fᵀ formed once per fit). */
interface SideProducts {
  readonly cols: number;
  mul(B: Matrix): Matrix;
  tmul(B: Matrix): Matrix;
  close(): void;
}

function makeSideProducts(F: Matrix): SideProducts {
  const Ft = transpose(F);
  return { cols: F.cols, mul: (B) => gemm(F, B), tmul: (B) => gemm(Ft, B), close: () => {} };
}

function identityScaled(K: number, s: number): Float64Array {
  const a = new Float64Array(K * K);
  for (let i = 0; i < K; i++) a[i * K + i] = s;
  return a;
}

function encodeF64(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function decodeF64(s: string): Float64Array {
  const buf = Buffer.from(s, 'base64');
  if (buf.byteLength % 8 !== 0) throw new InputError('saved Macau model: a sample array is truncated');
  const out = new Float64Array(buf.byteLength / 8);
  new Uint8Array(out.buffer).set(buf);
  return out;
}
