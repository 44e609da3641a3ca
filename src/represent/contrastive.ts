/**
 * A small supervised-contrastive embedding: an MLP (d → hidden, ReLU → dim) whose L2-normalised
 * outputs are trained with the supervised contrastive loss of Khosla et al. 2020 (SupCon,
 * "L_out"): for an anchor i of a mini-batch,
 *   L_i = −1/|P(i)| Σ_{p ∈ P(i)} log( exp(z_i·z_p/τ) / Σ_{a ∈ A(i)} exp(z_i·z_a/τ) ),
 * P(i) = rows of *other compounds* with i's label (the many weak "same mechanism" relations),
 * A(i) = every other row of the batch except those of i's own compound (which would otherwise
 * teach compound identity rather than mechanism). Anchors without a positive carry no loss.
 *
 * Mini-batches draw up to `batchClasses` classes and `perClass` rows of each, spread over as many
 * compounds as possible and drawn at random over plates/batches, so every batch mixes batches.
 * Adam (Kingma & Ba 2015) with decoupled weight decay, He initialisation, seeded (linalg/rng); the
 * dense products go through the linalg kernels (gemm / gemmNT / gemmTN).
 *
 * Early stopping on an inner split: `validationFraction` of the compounds (whole compounds) are
 * held out; after every epoch each held-out row is labelled by its cosine nearest neighbour among
 * the inner-training rows, and the epoch with the best accuracy (ties: lowest training loss) is
 * kept. The network is then retrained from the same initialisation on all rows for that many
 * epochs, so no training compound is wasted. Same seed, same output.
 */
import { type Matrix, type StoredMatrix, zeros, gemm, gemmNT, gemmTN, asFloat64, takeRows, adamStep } from '../linalg/index.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../linalg/rng.js';
import { requireFiniteRows } from './finite.js';

export interface ContrastiveOptions {
  hidden?: number;
  /** Output (embedding) dimension. */
  dim?: number;
  /** Temperature τ. */
  temperature?: number;
  lr?: number;
  /** Decoupled weight decay per step, as a multiple of lr. */
  weightDecay?: number;
  /** Classes per mini-batch. */
  batchClasses?: number;
  /** Rows per class per mini-batch. */
  perClass?: number;
  maxEpochs?: number;
  patience?: number;
  /** Share of compounds held out for early stopping (0: train maxEpochs on all rows). */
  validationFraction?: number;
  seed?: number;
}

export interface ContrastiveFitInput {
  /** Compound per row (positives must be other compounds; validation holds out whole compounds). */
  groups?: readonly (string | null)[];
  batches?: readonly (string | null)[];
}

interface Net {
  W1: Matrix; b1: Float64Array; W2: Matrix; b2: Float64Array;
}

const DEFAULTS = {
  hidden: 128, dim: 32, temperature: 0.2, lr: 1e-3, weightDecay: 1e-4, batchClasses: 16, perClass: 6,
  maxEpochs: 80, patience: 15, validationFraction: 0.25, seed: 0,
};

export class ContrastiveEmbedding {
  readonly options: Required<ContrastiveOptions>;
  private net?: Net;
  /** Epochs of the final training (chosen by early stopping). */
  epochs = 0;
  /** Inner-validation 1-NN accuracy per epoch (empty without validation). */
  validation: number[] = [];

  constructor(opts: ContrastiveOptions = {}) {
    this.options = { ...DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as Required<ContrastiveOptions>;
    const o = this.options;
    for (const key of ['hidden', 'dim', 'batchClasses', 'perClass', 'maxEpochs', 'patience'] as const) {
      if (!(Number.isInteger(o[key]) && o[key] >= 1)) throw new InputError(`contrastive: ${key} must be an integer ≥ 1, got ${o[key]}`);
    }
    if (!(o.temperature > 0)) throw new InputError(`contrastive: temperature must be > 0, got ${o.temperature}`);
    if (!(o.lr > 0)) throw new InputError(`contrastive: lr must be > 0, got ${o.lr}`);
    if (!(o.validationFraction >= 0 && o.validationFraction < 1)) throw new InputError(`contrastive: validationFraction must be in [0, 1), got ${o.validationFraction}`);
  }

  fit(Xs: StoredMatrix, labels: readonly string[], input: ContrastiveFitInput = {}): this {
    const X = asFloat64(Xs);
    const n = X.rows, d = X.cols;
    if (labels.length !== n) throw new InputError(`contrastive: ${labels.length} labels for ${n} rows`);
    requireFiniteRows(X, 'contrastive');
    const groups = input.groups ?? labels.map((_, i) => `row${i}`);
    if (groups.length !== n) throw new InputError(`contrastive: ${groups.length} groups for ${n} rows`);
    const cls = encode(labels), grp = encode(groups.map((g, i) => g ?? `\u0000row${i}`));
    const K = Math.max(...cls) + 1;
    if (K < 2) throw new InputError(`contrastive: needs at least 2 classes, got ${K}`);
    // A class whose rows all belong to one compound has no positive pair.
    const compoundsPerClass = new Map<number, Set<number>>();
    for (let i = 0; i < n; i++) {
      let s = compoundsPerClass.get(cls[i]!);
      if (!s) compoundsPerClass.set(cls[i]!, (s = new Set()));
      s.add(grp[i]!);
    }
    if (![...compoundsPerClass.values()].some((s) => s.size >= 2)) {
      throw new InputError('contrastive: no class has two compounds, so there is no positive pair (positives are other compounds of the same class)');
    }
    const o = this.options;
    let epochs = o.maxEpochs;
    this.validation = [];
    if (o.validationFraction > 0) {
      const rng = new Rng(o.seed + 7919);
      const ids = [...new Set(grp)];
      rng.shuffle(ids);
      const nVal = Math.round(ids.length * o.validationFraction);
      const valSet = new Set(ids.slice(0, nVal));
      const tr: number[] = [], va: number[] = [];
      for (let i = 0; i < n; i++) (valSet.has(grp[i]!) ? va : tr).push(i);
      const trCls = tr.map((i) => cls[i]!), trGrp = tr.map((i) => grp[i]!);
      const trainable = new Set<number>();
      const seen = new Map<number, Set<number>>();
      tr.forEach((i) => {
        let s = seen.get(cls[i]!);
        if (!s) seen.set(cls[i]!, (s = new Set()));
        s.add(grp[i]!);
        if (s.size >= 2) trainable.add(cls[i]!);
      });
      if (va.length && tr.length && trainable.size) {
        const Xtr = takeRows(X, tr), Xva = takeRows(X, va);
        const vaCls = va.map((i) => cls[i]!);
        let best = -1, bestLoss = Infinity, since = 0;
        epochs = 1;
        const vw = validationWorkspace(Xtr.rows, Xva.rows, o.hidden, o.dim);
        this.train(Xtr, trCls, trGrp, o.maxEpochs, (epoch, loss, net) => {
          const acc = nnAccuracy(embedInto(net, Xtr, vw.H, vw.R), trCls, embedInto(net, Xva, vw.H, vw.Q), vaCls, vw.S);
          this.validation.push(acc);
          if (acc > best || (acc === best && loss < bestLoss)) {
            best = acc; bestLoss = loss; epochs = epoch; since = 0;
          } else if (++since >= o.patience) return false;
          return true;
        });
      }
    }
    this.epochs = epochs;
    this.net = this.train(X, Array.from(cls), Array.from(grp), epochs);
    return this;
  }

  /** Train from the seeded initialisation; `onEpoch` may stop early (returns false). */
  private train(X: Matrix, cls: number[], grp: number[], epochs: number, onEpoch?: (epoch: number, loss: number, net: Net) => boolean): Net {
    const o = this.options;
    const n = X.rows, d = X.cols, h = o.hidden, k = o.dim;
    const rng = new Rng(o.seed);
    const net: Net = { W1: zeros(d, h), b1: new Float64Array(h), W2: zeros(h, k), b2: new Float64Array(k) };
    const s1 = Math.sqrt(2 / d), s2 = Math.sqrt(2 / h);
    for (let i = 0; i < net.W1.data.length; i++) net.W1.data[i] = rng.normal() * s1;
    for (let i = 0; i < net.W2.data.length; i++) net.W2.data[i] = rng.normal() * s2;
    const params = [net.W1.data, net.b1, net.W2.data, net.b2];
    const m1 = params.map((p) => new Float64Array(p.length)), m2 = params.map((p) => new Float64Array(p.length));
    // Rows per (class, compound), for batch sampling.
    const byClass = new Map<number, Map<number, number[]>>();
    for (let i = 0; i < n; i++) {
      let c = byClass.get(cls[i]!);
      if (!c) byClass.set(cls[i]!, (c = new Map()));
      let l = c.get(grp[i]!);
      if (!l) c.set(grp[i]!, (l = []));
      l.push(i);
    }
    const classes = [...byClass.keys()].filter((c) => byClass.get(c)!.size >= 2);
    const others = [...byClass.keys()].filter((c) => byClass.get(c)!.size < 2);
    const stepsPerEpoch = Math.max(1, Math.ceil(n / (o.batchClasses * o.perClass)));
    const cls32 = Int32Array.from(cls), grp32 = Int32Array.from(grp);
    let ws: StepWorkspace | undefined;
    let step = 0;
    const b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const decay = o.lr * o.weightDecay;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let lossSum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const batch = sampleBatch(rng, classes, others, byClass, o.batchClasses, o.perClass);
        if (!ws || ws.B !== batch.length) ws = stepWorkspace(batch.length, d, h, k);
        const loss = supconStep(net, X, batch, cls32, grp32, o.temperature, ws);
        lossSum += loss;
        step++;
        const lrT = o.lr * Math.sqrt(1 - b2 ** step) / (1 - b1 ** step);
        // Weights decay, biases do not.
        for (let t = 0; t < 4; t++) adamStep(params[t]!, ws.grads[t]!, m1[t]!, m2[t]!, lrT, t % 2 === 0 ? decay : 0, b1, b2, eps);
      }
      if (onEpoch && !onEpoch(epoch, lossSum / stepsPerEpoch, net)) break;
    }
    return net;
  }

  transform(X: StoredMatrix): Matrix {
    if (!this.net) throw new Error('ContrastiveEmbedding.transform called before fit');
    if (X.cols !== this.net.W1.rows) throw new InputError(`contrastive: data has ${X.cols} features, the model was fitted on ${this.net.W1.rows}`);
    return embed(this.net, X);
  }
}

function encode(values: readonly string[]): Int32Array {
  const ids = new Map<string, number>();
  return Int32Array.from(values, (v) => {
    let c = ids.get(v);
    if (c === undefined) ids.set(v, (c = ids.size));
    return c;
  });
}

/** Unnormalised network output (cosine geometry downstream normalises it). */
function embed(net: Net, X: StoredMatrix): Matrix {
  return embedInto(net, X, zeros(Math.min(X.rows, EMBED_BLOCK_ROWS), net.b1.length), zeros(X.rows, net.b2.length));
}

/**
 * Rows per product of embedInto: 64 × 516 × 128 multiply-adds stay below the size at which a
 * native product is split over kernel threads (the outer folds already occupy the cores), and the
 * block's hidden layer stays in cache.
 */
const EMBED_BLOCK_ROWS = 64;

/**
 * embed's output into Z (X.rows × dim), the hidden layer of each block of EMBED_BLOCK_ROWS rows in
 * H (at least min(rows, EMBED_BLOCK_ROWS) × hidden). Each entry is the same sum as one product
 * over all rows gives.
 */
function embedInto(net: Net, X: StoredMatrix, H: Matrix, Z: Matrix): Matrix {
  const d = X.cols, h = net.b1.length, k = net.b2.length, b1 = net.b1, b2 = net.b2;
  for (let r0 = 0; r0 < X.rows; r0 += EMBED_BLOCK_ROWS) {
    const rows = Math.min(EMBED_BLOCK_ROWS, X.rows - r0);
    const Hb: Matrix = { rows, cols: h, data: H.data.subarray(0, rows * h) };
    gemm({ rows, cols: d, data: X.data.subarray(r0 * d, (r0 + rows) * d) }, net.W1, Hb);
    const hd = Hb.data;
    for (let i = 0; i < rows; i++) {
      const o = i * h;
      for (let j = 0; j < h; j++) hd[o + j] = Math.max(0, hd[o + j]! + b1[j]!);
    }
    const Zb: Matrix = { rows, cols: k, data: Z.data.subarray(r0 * k, (r0 + rows) * k) };
    gemm(Hb, net.W2, Zb);
    const zd = Zb.data;
    for (let i = 0; i < rows; i++) {
      const o = i * k;
      for (let j = 0; j < k; j++) zd[o + j] += b2[j]!;
    }
  }
  return Z;
}

interface ValidationWorkspace { H: Matrix; R: Matrix; Q: Matrix; S: Matrix }

/** Kept buffers of the per-epoch validation: inner-training (R) and held-out (Q) embeddings, their cosines. */
function validationWorkspace(nTrain: number, nVal: number, hidden: number, dim: number): ValidationWorkspace {
  return {
    H: zeros(Math.min(Math.max(nTrain, nVal), EMBED_BLOCK_ROWS), hidden), R: zeros(nTrain, dim), Q: zeros(nVal, dim), S: zeros(nVal, nTrain),
  };
}

function sampleBatch(
  rng: Rng, classes: number[], others: number[], byClass: Map<number, Map<number, number[]>>, nClasses: number, perClass: number,
): number[] {
  const pool = [...classes];
  rng.shuffle(pool);
  const chosen = pool.slice(0, nClasses);
  // Single-compound classes still serve as negatives when there is room.
  if (chosen.length < nClasses && others.length) {
    const o = [...others];
    rng.shuffle(o);
    chosen.push(...o.slice(0, nClasses - chosen.length));
  }
  const rows: number[] = [];
  for (const c of chosen) {
    const comps = [...byClass.get(c)!.values()];
    rng.shuffle(comps);
    for (let t = 0; t < perClass; t++) {
      const list = comps[t % comps.length]!;
      rows.push(list[rng.int(list.length)]!);
    }
  }
  return rows;
}

/** Every per-step matrix of supconStep, kept for the whole training (B: rows of a mini-batch). */
interface StepWorkspace {
  B: number;
  Xb: Matrix; H: Matrix; Z: Matrix; U: Matrix; S: Matrix; G: Matrix; dU: Matrix; dZ: Matrix; dH: Matrix;
  norms: Float64Array; e: Float64Array; bc: Int32Array; bg: Int32Array;
  /** Gradients of [W1, b1, W2, b2]; W1's and W2's as matrices too, for the products that write them. */
  grads: Float64Array[]; dW1: Matrix; dW2: Matrix;
}

function stepWorkspace(B: number, d: number, h: number, k: number): StepWorkspace {
  const dW1 = zeros(d, h), dW2 = zeros(h, k);
  return {
    B, Xb: zeros(B, d), H: zeros(B, h), Z: zeros(B, k), U: zeros(B, k), S: zeros(B, B), G: zeros(B, B), dU: zeros(B, k), dZ: zeros(B, k), dH: zeros(B, h),
    norms: new Float64Array(B), e: new Float64Array(B), bc: new Int32Array(B), bg: new Int32Array(B),
    grads: [dW1.data, new Float64Array(h), dW2.data, new Float64Array(k)], dW1, dW2,
  };
}

/**
 * SupCon loss of one mini-batch; the gradients of [W1, b1, W2, b2] into ws.grads. Every matrix
 * lives in the workspace and every product writes into it; the arithmetic is the same, in the same
 * order, as with fresh matrices (test/represent/contrastivePlain.ts holds that form).
 */
function supconStep(net: Net, X: Matrix, batch: number[], cls: Int32Array, grp: Int32Array, tau: number, ws: StepWorkspace): number {
  const B = batch.length, d = X.cols, h = net.b1.length, k = net.b2.length;
  const { Xb, H, Z, U, S, G, dU, dZ, dH, norms, e, bc, bg } = ws;
  const x = X.data, xb = Xb.data;
  for (let i = 0; i < B; i++) {
    const r = batch[i]!;
    xb.set(x.subarray(r * d, (r + 1) * d), i * d);
    bc[i] = cls[r]!;
    bg[i] = grp[r]!;
  }
  gemm(Xb, net.W1, H);
  const hd = H.data, b1 = net.b1;
  for (let i = 0; i < B; i++) {
    const o = i * h;
    for (let j = 0; j < h; j++) hd[o + j] = Math.max(0, hd[o + j]! + b1[j]!);
  }
  gemm(H, net.W2, Z);
  const zd = Z.data, ud = U.data, b2 = net.b2;
  for (let i = 0; i < B; i++) {
    const o = i * k;
    let s = 0;
    for (let j = 0; j < k; j++) {
      const v = zd[o + j]! + b2[j]!;
      zd[o + j] = v;
      s += v * v;
    }
    const nrm = Math.sqrt(s) + 1e-12;
    norms[i] = nrm;
    for (let j = 0; j < k; j++) ud[o + j] = zd[o + j]! / nrm;
  }
  gemmNT(U, U, S); // B × B cosine similarities
  const sd = S.data, gd = G.data; // G = ∂loss/∂S
  // The logits S / τ, each divided once (the loss reads them three times).
  for (let t = 0; t < B * B; t++) sd[t] = sd[t]! / tau;
  gd.fill(0);
  let loss = 0, anchors = 0;
  for (let i = 0; i < B; i++) {
    const ci = bc[i]!, gi = bg[i]!, row = i * B;
    // Positives and the largest logit among the anchor's candidates (a ≠ i, other compounds).
    let nPos = 0, mx = -Infinity;
    for (let a = 0; a < B; a++) {
      if (a === i || bg[a] === gi) continue;
      if (bc[a] === ci) nPos++;
      mx = Math.max(mx, sd[row + a]!);
    }
    if (!nPos) continue;
    anchors++;
    let z = 0;
    for (let a = 0; a < B; a++) {
      const v = a !== i && bg[a] !== gi ? Math.exp(sd[row + a]! - mx) : 0;
      e[a] = v;
      z += v;
    }
    const logZ = Math.log(z) + mx;
    for (let a = 0; a < B; a++) {
      const ea = e[a]!;
      if (!ea) continue;
      const pos = bc[a] === ci ? 1 / nPos : 0;
      if (pos) loss -= pos * (sd[row + a]! - logZ);
      gd[row + a] = (ea / z - pos) / tau;
    }
  }
  const [gW1, gb1, gW2, gb2] = ws.grads as [Float64Array, Float64Array, Float64Array, Float64Array];
  if (!anchors) {
    gW1.fill(0); gb1.fill(0); gW2.fill(0); gb2.fill(0);
    return 0;
  }
  const inv = 1 / anchors;
  // S = U·Uᵀ: ∂/∂U = (G + Gᵀ)·U, with G scaled by 1 / anchors first.
  for (let i = 0; i < B; i++) {
    gd[i * B + i] = gd[i * B + i]! * inv * 2;
    for (let j = i + 1; j < B; j++) {
      const s = gd[i * B + j]! * inv + gd[j * B + i]! * inv;
      gd[i * B + j] = s;
      gd[j * B + i] = s;
    }
  }
  gemm(G, U, dU);
  // Through the normalisation: dZ = (dU − U·(u·dU)) / ‖z‖.
  const dud = dU.data, dzd = dZ.data;
  for (let i = 0; i < B; i++) {
    const o = i * k, nrm = norms[i]!;
    let dot = 0;
    for (let j = 0; j < k; j++) dot += ud[o + j]! * dud[o + j]!;
    for (let j = 0; j < k; j++) dzd[o + j] = (dud[o + j]! - ud[o + j]! * dot) / nrm;
  }
  gemmTN(H, dZ, ws.dW2);
  gb2.fill(0);
  for (let i = 0; i < B; i++) for (let j = 0; j < k; j++) gb2[j] += dzd[i * k + j]!;
  gemmNT(dZ, net.W2, dH);
  // Through the ReLU (no gradient where the unit was off), summed into b1's gradient in the same pass.
  const dhd = dH.data;
  gb1.fill(0);
  for (let i = 0; i < B; i++) {
    const o = i * h;
    for (let j = 0; j < h; j++) {
      const v = hd[o + j]! <= 0 ? 0 : dhd[o + j]!;
      dhd[o + j] = v;
      gb1[j] += v;
    }
  }
  gemmTN(Xb, dH, ws.dW1);
  return loss * inv;
}

/** Share of query rows whose cosine nearest reference row has their class (R and Q normalised in place; S: Q.rows × R.rows). */
function nnAccuracy(R: Matrix, rCls: number[], Q: Matrix, qCls: number[], S: Matrix): number {
  const k = R.cols;
  const norm = (M: Matrix) => {
    for (let i = 0; i < M.rows; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += M.data[i * k + j]! ** 2;
      const f = 1 / (Math.sqrt(s) + 1e-12);
      for (let j = 0; j < k; j++) M.data[i * k + j] *= f;
    }
  };
  norm(R);
  norm(Q);
  gemmNT(Q, R, S);
  let hit = 0;
  for (let i = 0; i < Q.rows; i++) {
    let best = -Infinity, bi = 0;
    for (let j = 0; j < R.rows; j++) if (S.data[i * R.rows + j]! > best) { best = S.data[i * R.rows + j]!; bi = j; }
    if (rCls[bi] === qCls[i]) hit++;
  }
  return hit / Q.rows;
}
