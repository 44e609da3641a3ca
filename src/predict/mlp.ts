/**
 * Multitask neural network for activity prediction (Simm et al. 2018; Hofmarcher et al. 2019):
 * shared fully connected ReLU layers on standardised profiles, one sigmoid output per assay,
 * binary cross-entropy summed over the observed cells of a mini-batch only (missing cells carry
 * no loss) and divided by their number, inverted dropout on the hidden layers, Adam (Kingma & Ba
 * 2015) with decoupled weight decay (AdamW, Loshchilov & Hutter 2019), He initialisation, and
 * early stopping on the masked loss of a seeded validation split of compounds (the best epoch's
 * weights are restored). Dense products go through the linalg kernels.
 */
import { type Matrix, zeros, fromData, gemm, gemmNT, gemmTN, takeRows } from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import { type Reporter, silentReporter } from '../util/log.js';
import { Rng } from '../linalg/rng.js';
import { Standardizer } from './baselines.js';
import type { ActivityModel } from './model.js';
import type { ActivityMatrix } from './sparse.js';

export interface MultitaskNetOptions {
  hidden?: number[];
  dropout?: number;
  lr?: number;
  batchSize?: number;
  maxEpochs?: number;
  patience?: number;
  /** Share of compounds held out for early stopping (0 disables it: train maxEpochs). */
  validationFraction?: number;
  /** Decoupled weight decay per step, as a multiple of lr (default 0). */
  weightDecay?: number;
  seed?: number;
  reporter?: Reporter;
}

export interface MultitaskFitOptions {
  /** Group label per row (e.g. compound id when rows are replicates): the validation split keeps groups whole. */
  groups?: readonly string[];
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  valLoss: number;
}

interface Layer {
  W: Matrix; // in × out
  b: Float64Array;
}

export class MultitaskNet implements ActivityModel {
  readonly name = 'mlp';
  readonly options: Required<Omit<MultitaskNetOptions, 'reporter'>>;
  private readonly reporter: Reporter;
  private std = new Standardizer();
  private layers: Layer[] = [];
  history: EpochRecord[] = [];
  bestEpoch = -1;

  constructor(opts: MultitaskNetOptions = {}) {
    this.options = {
      hidden: opts.hidden ?? [512, 512],
      dropout: opts.dropout ?? 0.3,
      lr: opts.lr ?? 1e-3,
      batchSize: opts.batchSize ?? 64,
      maxEpochs: opts.maxEpochs ?? 200,
      patience: opts.patience ?? 10,
      validationFraction: opts.validationFraction ?? 0.2,
      weightDecay: opts.weightDecay ?? 0,
      seed: opts.seed ?? 0,
    };
    const o = this.options;
    if (!(o.dropout >= 0 && o.dropout < 1)) throw new RangeError(`MultitaskNet: dropout must be in [0, 1), got ${o.dropout}`);
    if (!(o.validationFraction >= 0 && o.validationFraction < 1)) throw new RangeError(`MultitaskNet: validationFraction must be in [0, 1), got ${o.validationFraction}`);
    if (!o.hidden.every((h) => Number.isInteger(h) && h > 0)) throw new RangeError('MultitaskNet: hidden sizes must be positive integers');
    this.reporter = opts.reporter ?? silentReporter;
  }

  fit(X: Matrix, Y: ActivityMatrix, fitOpts: MultitaskFitOptions = {}): this {
    if (X.rows !== Y.rows) throw new InputError(`MultitaskNet: ${X.rows} profile rows, ${Y.rows} activity rows`);
    const o = this.options;
    const rng = new Rng(o.seed);
    const Xs = this.std.fit(X).transform(X);
    const n = X.rows, m = Y.cols;

    // Validation split of compounds (groups kept whole).
    const groups = fitOpts.groups ?? Array.from({ length: n }, (_, i) => String(i));
    if (groups.length !== n) throw new InputError(`MultitaskNet: ${groups.length} group labels for ${n} rows`);
    const names = [...new Set(groups)];
    rng.shuffle(names);
    const nVal = o.validationFraction > 0 ? Math.max(1, Math.round(o.validationFraction * names.length)) : 0;
    const valSet = new Set(names.slice(0, nVal));
    const trainRows: number[] = [], valRows: number[] = [];
    for (let i = 0; i < n; i++) {
      if (Y.rowNnz(i) === 0) continue; // rows without labels teach nothing
      (valSet.has(groups[i]!) ? valRows : trainRows).push(i);
    }
    if (!trainRows.length) throw new InputError('MultitaskNet: no training compound has an observed activity');

    // He initialisation.
    const sizes = [X.cols, ...o.hidden, m];
    this.layers = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const W = zeros(sizes[l]!, sizes[l + 1]!);
      const sd = Math.sqrt(2 / sizes[l]!);
      for (let t = 0; t < W.data.length; t++) W.data[t] = sd * rng.normal();
      this.layers.push({ W, b: new Float64Array(sizes[l + 1]!) });
    }
    const adam = this.layers.map((L) => ({
      mW: new Float64Array(L.W.data.length), vW: new Float64Array(L.W.data.length),
      mb: new Float64Array(L.b.length), vb: new Float64Array(L.b.length),
    }));
    let step = 0;
    const b1 = 0.9, b2 = 0.999, eps = 1e-8;

    let best = Infinity, bad = 0;
    let bestLayers: Layer[] | null = null;
    this.history = [];
    this.bestEpoch = -1;
    const prog = this.reporter.progress('training multitask net', o.maxEpochs);
    const order = Int32Array.from(trainRows);
    for (let epoch = 0; epoch < o.maxEpochs; epoch++) {
      rng.shuffle(order);
      let lossSum = 0, cellSum = 0;
      for (let s = 0; s < order.length; s += o.batchSize) {
        const idx = order.subarray(s, Math.min(order.length, s + o.batchSize));
        const { target, mask, count } = batchTargets(Y, idx);
        if (count === 0) continue;
        // Forward with dropout, keeping activations for the backward pass.
        const acts: Matrix[] = [takeRows(Xs, idx)];
        const masks: (Float64Array | null)[] = [];
        for (let l = 0; l < this.layers.length; l++) {
          const Z = affine(acts[l]!, this.layers[l]!);
          if (l < this.layers.length - 1) {
            const z = Z.data;
            const keep = 1 - o.dropout;
            const dm = o.dropout > 0 ? new Float64Array(z.length) : null;
            for (let t = 0; t < z.length; t++) {
              let v = z[t]! > 0 ? z[t]! : 0;
              if (dm) { const k = rng.uniform() < keep ? 1 / keep : 0; dm[t] = k; v *= k; }
              z[t] = v;
            }
            masks.push(dm);
          }
          acts.push(Z);
        }
        // Output gradient: (σ(z) − y) / count on observed cells.
        const out = acts[acts.length - 1]!;
        const G = zeros(out.rows, out.cols);
        const z = out.data, g = G.data;
        for (let t = 0; t < z.length; t++) {
          if (!mask[t]) continue;
          lossSum += bce(z[t]!, target[t]!);
          g[t] = (sigmoid(z[t]!) - target[t]!) / count;
        }
        cellSum += count;
        // Backward.
        let dZ = G;
        step++;
        const lrT = o.lr * Math.sqrt(1 - Math.pow(b2, step)) / (1 - Math.pow(b1, step));
        for (let l = this.layers.length - 1; l >= 0; l--) {
          const L = this.layers[l]!, A = adam[l]!;
          const dW = gemmTN(acts[l]!, dZ);
          const db = new Float64Array(L.b.length);
          const dz = dZ.data, cols = dZ.cols;
          for (let i = 0; i < dZ.rows; i++) for (let c = 0; c < cols; c++) db[c] += dz[i * cols + c]!;
          let dPrev: Matrix | null = null;
          if (l > 0) {
            dPrev = gemmNT(dZ, L.W);
            const dp = dPrev.data, a = acts[l]!.data, dm = masks[l - 1]!;
            // Through dropout and ReLU: the stored activation is 0 exactly where either zeroed it.
            for (let t = 0; t < dp.length; t++) dp[t] = a[t]! > 0 ? dp[t]! * (dm ? dm[t]! : 1) : 0;
          }
          adamStep(L.W.data, dW.data, A.mW, A.vW, lrT, o.lr * o.weightDecay, b1, b2, eps);
          adamStep(L.b, db, A.mb, A.vb, lrT, 0, b1, b2, eps);
          if (dPrev) dZ = dPrev;
        }
      }
      const trainLoss = cellSum ? lossSum / cellSum : NaN;
      const valLoss = valRows.length ? this.maskedLoss(Xs, Y, valRows) : NaN;
      this.history.push({ epoch, trainLoss, valLoss });
      prog.tick(epoch + 1, `loss ${trainLoss.toFixed(4)} val ${valLoss.toFixed(4)}`);
      if (valRows.length) {
        if (valLoss < best - 1e-6) {
          best = valLoss; bad = 0; this.bestEpoch = epoch;
          bestLayers = this.layers.map((L) => ({ W: { ...L.W, data: L.W.data.slice() }, b: L.b.slice() }));
        } else if (++bad >= o.patience) break;
      } else {
        this.bestEpoch = epoch;
      }
    }
    prog.done();
    if (bestLayers) this.layers = bestLayers;
    return this;
  }

  /** Probability of activity (compounds × assays). */
  predict(X: Matrix): Matrix {
    if (!this.layers.length) throw new Error('MultitaskNet: model is not fitted');
    const P = this.logits(this.std.transform(X));
    const p = P.data;
    for (let t = 0; t < p.length; t++) p[t] = sigmoid(p[t]!);
    return P;
  }

  toJSON(): MultitaskNetJSON {
    return {
      format: 'phenomap-mlp', version: 1, options: this.options,
      means: Array.from(this.std.means), scales: Array.from(this.std.scales),
      layers: this.layers.map((L) => ({ rows: L.W.rows, cols: L.W.cols, W: Array.from(L.W.data), b: Array.from(L.b) })),
      bestEpoch: this.bestEpoch,
    };
  }

  static fromJSON(json: MultitaskNetJSON): MultitaskNet {
    if (!json || json.format !== 'phenomap-mlp') throw new InputError(`not a saved multitask net (format ${String(json?.format)})`);
    const net = new MultitaskNet(json.options);
    net.std.means = Float64Array.from(json.means);
    net.std.scales = Float64Array.from(json.scales);
    net.layers = json.layers.map((L) => ({ W: fromData(L.rows, L.cols, Float64Array.from(L.W)), b: Float64Array.from(L.b) }));
    net.bestEpoch = json.bestEpoch;
    return net;
  }

  private logits(Xs: Matrix): Matrix {
    let H = Xs;
    for (let l = 0; l < this.layers.length; l++) {
      H = affine(H, this.layers[l]!);
      if (l < this.layers.length - 1) {
        const h = H.data;
        for (let t = 0; t < h.length; t++) if (h[t]! < 0) h[t] = 0;
      }
    }
    return H;
  }

  private maskedLoss(Xs: Matrix, Y: ActivityMatrix, rows: number[]): number {
    let s = 0, c = 0;
    for (let start = 0; start < rows.length; start += 1024) {
      const idx = rows.slice(start, start + 1024);
      const Z = this.logits(takeRows(Xs, idx));
      const m = Y.cols;
      idx.forEach((i, r) => {
        for (let k = Y.rowPtr[i]!; k < Y.rowPtr[i + 1]!; k++) {
          s += bce(Z.data[r * m + Y.rowCol[k]!]!, Y.rowVal[k]! >= 0.5 ? 1 : 0);
          c++;
        }
      });
    }
    return c ? s / c : NaN;
  }
}

export interface MultitaskNetJSON {
  format: string;
  version: number;
  options: Required<Omit<MultitaskNetOptions, 'reporter'>>;
  means: number[];
  scales: number[];
  layers: { rows: number; cols: number; W: number[]; b: number[] }[];
  bestEpoch: number;
}

function affine(H: Matrix, L: Layer): Matrix {
  const Z = gemm(H, L.W);
  const z = Z.data, b = L.b, c = Z.cols;
  for (let i = 0; i < Z.rows; i++) for (let j = 0; j < c; j++) z[i * c + j] += b[j]!;
  return Z;
}

function batchTargets(Y: ActivityMatrix, idx: ArrayLike<number>): { target: Float64Array; mask: Uint8Array; count: number } {
  const m = Y.cols;
  const target = new Float64Array(idx.length * m), mask = new Uint8Array(idx.length * m);
  let count = 0;
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r]!;
    for (let k = Y.rowPtr[i]!; k < Y.rowPtr[i + 1]!; k++) {
      const t = r * m + Y.rowCol[k]!;
      target[t] = Y.rowVal[k]! >= 0.5 ? 1 : 0;
      mask[t] = 1;
      count++;
    }
  }
  return { target, mask, count };
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** −[y log σ(z) + (1 − y) log(1 − σ(z))] = softplus(z) − y z, computed stably. */
function bce(z: number, y: number): number {
  const sp = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
  return sp - y * z;
}

function adamStep(
  w: Float64Array, g: Float64Array, mo: Float64Array, ve: Float64Array,
  lrT: number, decay: number, b1: number, b2: number, eps: number,
): void {
  for (let t = 0; t < w.length; t++) {
    const gt = g[t]!;
    const mt = b1 * mo[t]! + (1 - b1) * gt;
    const vt = b2 * ve[t]! + (1 - b2) * gt * gt;
    mo[t] = mt; ve[t] = vt;
    w[t] -= lrT * mt / (Math.sqrt(vt) + eps) + decay * w[t]!;
  }
}
