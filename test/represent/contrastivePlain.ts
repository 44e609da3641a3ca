/**
 * The plain form the workspace-based supervised-contrastive trainer (represent/contrastive.ts) must
 * equal to the last bit: the trainer as it was before the speed-ups of issue 24, every per-step
 * matrix freshly allocated (takeRows, gemm outputs, zeroed gradients, the B × B similarities), the
 * validation embeddings made anew after every epoch. Kept for the tests only.
 */
import { type Matrix, type StoredMatrix, zeros, gemm, gemmNT, gemmTN, asFloat64, takeRows } from '../../src/linalg/index.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/linalg/rng.js';
import { requireFiniteRows } from '../../src/represent/finite.js';
import type { ContrastiveOptions, ContrastiveFitInput } from '../../src/represent/contrastive.js';
// The optimiser step was not changed, only moved (and given a native twin): the plain form uses its JS twin.
import { adamStepJs as adam } from '../../src/linalg/adam.js';

interface Net {
  W1: Matrix; b1: Float64Array; W2: Matrix; b2: Float64Array;
}

const DEFAULTS = {
  hidden: 128, dim: 32, temperature: 0.2, lr: 1e-3, weightDecay: 1e-4, batchClasses: 16, perClass: 6,
  maxEpochs: 80, patience: 15, validationFraction: 0.25, seed: 0,
};

export class PlainContrastive {
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
        this.train(Xtr, trCls, trGrp, o.maxEpochs, (epoch, loss, net) => {
          const acc = nnAccuracy(embed(net, Xtr), trCls, embed(net, Xva), vaCls);
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
    let step = 0;
    const b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let lossSum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const batch = sampleBatch(rng, classes, others, byClass, o.batchClasses, o.perClass);
        const { loss, grads } = supconStep(net, X, batch, cls, grp, o.temperature);
        lossSum += loss;
        step++;
        const lrT = o.lr * Math.sqrt(1 - b2 ** step) / (1 - b1 ** step);
        params.forEach((p, t) => adam(p, grads[t]!, m1[t]!, m2[t]!, lrT, t % 2 === 0 ? o.lr * o.weightDecay : 0, b1, b2, eps));
      }
      if (onEpoch && !onEpoch(epoch, lossSum / stepsPerEpoch, net)) break;
    }
    return net;
  }

  transform(X: StoredMatrix): Matrix {
    if (!this.net) throw new Error('PlainContrastive.transform called before fit');
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
  const H = gemm(X, net.W1);
  const h = net.b1.length;
  for (let i = 0; i < H.rows; i++) for (let j = 0; j < h; j++) H.data[i * h + j] = Math.max(0, H.data[i * h + j]! + net.b1[j]!);
  const Z = gemm(H, net.W2);
  const k = net.b2.length;
  for (let i = 0; i < Z.rows; i++) for (let j = 0; j < k; j++) Z.data[i * k + j] += net.b2[j]!;
  return Z;
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

/** SupCon loss of one mini-batch and the gradients of [W1, b1, W2, b2]. */
function supconStep(net: Net, X: Matrix, batch: number[], cls: number[], grp: number[], tau: number): { loss: number; grads: Float64Array[] } {
  const B = batch.length, h = net.b1.length, k = net.b2.length;
  const Xb = takeRows(X, batch);
  const H = gemm(Xb, net.W1);
  for (let i = 0; i < B; i++) for (let j = 0; j < h; j++) H.data[i * h + j] = Math.max(0, H.data[i * h + j]! + net.b1[j]!);
  const Z = gemm(H, net.W2);
  const norms = new Float64Array(B);
  const U = zeros(B, k);
  for (let i = 0; i < B; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      const v = Z.data[i * k + j]! + net.b2[j]!;
      Z.data[i * k + j] = v;
      s += v * v;
    }
    norms[i] = Math.sqrt(s) + 1e-12;
    for (let j = 0; j < k; j++) U.data[i * k + j] = Z.data[i * k + j]! / norms[i]!;
  }
  const S = gemmNT(U, U); // B × B cosine similarities
  const G = zeros(B, B); // ∂loss/∂S
  let loss = 0, anchors = 0;
  const e = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    const ci = cls[batch[i]!]!, gi = grp[batch[i]!]!;
    let nPos = 0;
    for (let a = 0; a < B; a++) if (a !== i && cls[batch[a]!] === ci && grp[batch[a]!] !== gi) nPos++;
    if (!nPos) continue;
    anchors++;
    let mx = -Infinity;
    for (let a = 0; a < B; a++) if (a !== i && grp[batch[a]!] !== gi) mx = Math.max(mx, S.data[i * B + a]! / tau);
    let z = 0;
    for (let a = 0; a < B; a++) {
      e[a] = a !== i && grp[batch[a]!] !== gi ? Math.exp(S.data[i * B + a]! / tau - mx) : 0;
      z += e[a]!;
    }
    const logZ = Math.log(z) + mx;
    for (let a = 0; a < B; a++) {
      if (!e[a]) continue;
      const pos = cls[batch[a]!] === ci ? 1 / nPos : 0;
      if (pos) loss -= pos * (S.data[i * B + a]! / tau - logZ);
      G.data[i * B + a] = (e[a]! / z - pos) / tau;
    }
  }
  const zero = () => [new Float64Array(net.W1.data.length), new Float64Array(h), new Float64Array(net.W2.data.length), new Float64Array(k)];
  if (!anchors) return { loss: 0, grads: zero() };
  const inv = 1 / anchors;
  for (let t = 0; t < B * B; t++) G.data[t] *= inv;
  // S = U·Uᵀ: ∂/∂U = (G + Gᵀ)·U.
  for (let i = 0; i < B; i++) for (let j = i + 1; j < B; j++) {
    const s = G.data[i * B + j]! + G.data[j * B + i]!;
    G.data[i * B + j] = s;
    G.data[j * B + i] = s;
  }
  for (let i = 0; i < B; i++) G.data[i * B + i] *= 2;
  const dU = gemm(G, U);
  // Through the normalisation: dZ = (dU − U·(u·dU)) / ‖z‖.
  const dZ = zeros(B, k);
  for (let i = 0; i < B; i++) {
    let dot = 0;
    for (let j = 0; j < k; j++) dot += U.data[i * k + j]! * dU.data[i * k + j]!;
    for (let j = 0; j < k; j++) dZ.data[i * k + j] = (dU.data[i * k + j]! - U.data[i * k + j]! * dot) / norms[i]!;
  }
  const dW2 = gemmTN(H, dZ);
  const db2 = new Float64Array(k);
  for (let i = 0; i < B; i++) for (let j = 0; j < k; j++) db2[j] += dZ.data[i * k + j]!;
  const dH = gemmNT(dZ, net.W2);
  for (let t = 0; t < B * h; t++) if (H.data[t]! <= 0) dH.data[t] = 0;
  const dW1 = gemmTN(Xb, dH);
  const db1 = new Float64Array(h);
  for (let i = 0; i < B; i++) for (let j = 0; j < h; j++) db1[j] += dH.data[i * h + j]!;
  return { loss: loss * inv, grads: [dW1.data, db1, dW2.data, db2] };
}


/** Share of query rows whose cosine nearest reference row has their class. */
function nnAccuracy(R: Matrix, rCls: number[], Q: Matrix, qCls: number[]): number {
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
  const S = gemmNT(Q, R);
  let hit = 0;
  for (let i = 0; i < Q.rows; i++) {
    let best = -Infinity, bi = 0;
    for (let j = 0; j < R.rows; j++) if (S.data[i * R.rows + j]! > best) { best = S.data[i * R.rows + j]!; bi = j; }
    if (rCls[bi] === qCls[i]) hit++;
  }
  return hit / Q.rows;
}
