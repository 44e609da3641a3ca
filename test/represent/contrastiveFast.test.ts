/**
 * The supervised-contrastive trainer with its kept per-step workspace (represent/contrastive.ts)
 * against its plain form (contrastivePlain.ts, every matrix allocated afresh): the same weights,
 * epochs and validation curve to the last bit, on real BBBC021 profiles at the registry's network
 * size and on small planted data through the corner cases (single-compound classes as negatives,
 * batches without an anchor, no validation); whatever the kernel threads or backend.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bbbc021Recipe, BBBC021_FILES } from '../../src/io/recipes.js';
import { metaStrings } from '../../src/io/profiles.js';
import { fromRows, takeRows, type Matrix } from '../../src/linalg/index.js';
import { useNative } from '../../src/linalg/native.js';
import { Rng } from '../../src/linalg/rng.js';
import { normaliseForEvaluation } from '../../src/evaluate/protocol.js';
import { ContrastiveEmbedding, type ContrastiveOptions } from '../../src/represent/contrastive.js';
import { describeShared, sharedRoot } from '../helpers/shared.js';
import { PlainContrastive } from './contrastivePlain.js';

function bits(M: Matrix): string {
  return Buffer.from(M.data.buffer, M.data.byteOffset, M.data.byteLength).toString('hex');
}

/** Fits both forms and checks that they agree to the bit; returns the fast model. */
function same(X: Matrix, labels: string[], groups: string[], opts: ContrastiveOptions, query: Matrix = X): ContrastiveEmbedding {
  const fast = new ContrastiveEmbedding(opts).fit(X, labels, { groups });
  const plain = new PlainContrastive(opts).fit(X, labels, { groups });
  expect(fast.epochs).toBe(plain.epochs);
  expect(fast.validation).toEqual(plain.validation);
  expect(bits(fast.transform(query))).toBe(bits(plain.transform(query)));
  return fast;
}

/** Four classes (one of them a single compound), three compounds each otherwise, 20 features. */
function planted(seed: number) {
  const rng = new Rng(seed);
  const rows: number[][] = [], labels: string[] = [], groups: string[] = [];
  for (let c = 0; c < 4; c++) {
    for (let g = 0; g < (c === 3 ? 1 : 3); g++) {
      for (let r = 0; r < 5; r++) {
        const x = Array.from({ length: 20 }, () => rng.normal());
        x[c] += 2;
        rows.push(x);
        labels.push(`m${c}`);
        groups.push(`m${c}c${g}`);
      }
    }
  }
  return { X: fromRows(rows), labels, groups };
}

describe('ContrastiveEmbedding equals its plain form (planted data)', () => {
  const { X, labels, groups } = planted(11);
  const base = { hidden: 16, dim: 4, maxEpochs: 12, patience: 4, batchClasses: 3, perClass: 4, seed: 3 };
  it('with early stopping, a single-compound class among the negatives', () => {
    const m = same(X, labels, groups, base);
    expect(m.validation.length).toBeGreaterThan(0);
  });
  it('without validation, every class in each batch, other temperatures and widths', () => {
    same(X, labels, groups, { ...base, validationFraction: 0, batchClasses: 8, temperature: 0.5, hidden: 7, dim: 3 });
    same(X, labels, groups, { ...base, batchClasses: 2, perClass: 3, temperature: 0.05, seed: 9 });
  });
  it('batches without an anchor (one row per class) only decay the weights', () => {
    same(X, labels, groups, { ...base, perClass: 1, validationFraction: 0, maxEpochs: 5 });
  });
  it('is the same on one or two kernel threads and on the JavaScript kernels', () => {
    const opts = { ...base, seed: 5 };
    const ref = new PlainContrastive(opts).fit(X, labels, { groups }).transform(X);
    const before = process.env.PHENOMAP_THREADS;
    try {
      for (const t of ['1', '2']) {
        process.env.PHENOMAP_THREADS = t;
        expect(bits(new ContrastiveEmbedding(opts).fit(X, labels, { groups }).transform(X))).toBe(bits(ref));
      }
    } finally {
      if (before === undefined) delete process.env.PHENOMAP_THREADS;
      else process.env.PHENOMAP_THREADS = before;
    }
    const wasOn = useNative(false);
    try {
      expect(bits(new ContrastiveEmbedding(opts).fit(X, labels, { groups }).transform(X))).toBe(bits(ref));
    } finally {
      useNative(wasOn);
    }
  });
});

describeShared('ContrastiveEmbedding equals its plain form on BBBC021', Object.values(BBBC021_FILES).map((f) => `data/${f}`), () => {
  let X: Matrix;
  let labels: string[], groups: string[];
  beforeAll(async () => {
    const p = normaliseForEvaluation((await bbbc021Recipe(join(sharedRoot, 'data'))).profiles, 'zscore').profiles;
    const moa = metaStrings(p, 'Metadata_moa'), comp = metaStrings(p, 'Metadata_compound');
    const rows: number[] = [];
    moa.forEach((m, i) => {
      if (m && m !== 'DMSO' && comp[i]) rows.push(i);
    });
    X = takeRows(p.X, rows) as Matrix;
    labels = rows.map((i) => moa[i]!);
    groups = rows.map((i) => comp[i]!);
  });
  it('the registry network (516 → 128 → 32, 16 classes × 6 rows), early stopping and retraining', () => {
    expect(X.cols).toBe(516);
    expect(X.rows).toBeGreaterThan(200); // several mini-batches per epoch, validation blocks of 64 rows
    const m = same(X, labels, groups, { maxEpochs: 10, patience: 3, seed: 1 });
    expect(m.validation.length).toBeGreaterThan(2);
  });
});
