import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromRows, clone, type Matrix } from '../../src/linalg/index.js';
import { RobustClipper, quantileSorted } from '../../src/represent/clip.js';
import { BatchAwareLda } from '../../src/represent/batchLda.js';
import { Lda } from '../../src/represent/lda.js';
import { Nca, ncaLossGrad } from '../../src/represent/nca.js';
import { lbfgs } from '../../src/represent/lbfgs.js';
import { ContrastiveEmbedding } from '../../src/represent/contrastive.js';
import { BUILTIN_REPRESENTATIONS, fitRepresentation, parseRepresentationList } from '../../src/evaluate/protocol.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/linalg/rng.js';
import { repoRoot } from '../helpers/shared.js';

/** Three classes, two compounds each, every compound on two batches with a batch shift on axis 5. */
function planted(seed = 3) {
  const rng = new Rng(seed);
  const rows: number[][] = [], labels: string[] = [], groups: string[] = [], batches: string[] = [];
  for (let c = 0; c < 3; c++) {
    for (let g = 0; g < 2; g++) {
      for (let b = 0; b < 2; b++) {
        for (let r = 0; r < 4; r++) {
          const x = Array.from({ length: 6 }, () => rng.normal());
          x[c] += 2.5;
          x[5] += b ? 4 : -4; // a strong batch direction
          rows.push(x);
          labels.push(`m${c}`);
          groups.push(`m${c}c${g}`);
          batches.push(`b${b}`);
        }
      }
    }
  }
  return { X: fromRows(rows), labels, groups, batches };
}

describe('RobustClipper', () => {
  it('clamps to median ± t·1.4826·MAD of the fitted rows, hand-checked', () => {
    const X = fromRows([[1, 10], [2, 10], [3, 10], [4, 10], [100, 11]]);
    const c = new RobustClipper({ threshold: 2 }).fit(X);
    // Column 0: median 3, |dev| = 2,1,0,1,97 → MAD 1 → bounds 3 ± 2.9652.
    expect(c.lo![0]).toBeCloseTo(3 - 2 * 1.4826, 12);
    expect(c.hi![0]).toBeCloseTo(3 + 2 * 1.4826, 12);
    // Column 1: MAD 0 falls back to the s.d. (0.4472).
    expect(c.hi![1]).toBeCloseTo(10 + 2 * Math.sqrt(0.2), 12);
    const Y = c.transform(fromRows([[-50, 10], [3.5, 50]]));
    expect(Y.data[0]).toBeCloseTo(3 - 2 * 1.4826, 12);
    expect(Y.data[1]).toBe(10);
    expect(Y.data[2]).toBe(3.5);
    expect(c.clippedFraction).toBeCloseTo(2 / 10, 12); // 100 and 11
  });
  it('quantile mode matches numpy linear quantiles', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    const c = new RobustClipper({ method: 'quantile', lower: 0.25, upper: 0.75 }).fit(fromRows([[1], [2], [3], [4]]));
    expect([c.lo![0], c.hi![0]]).toEqual([1.75, 3.25]);
  });
  it('bad options and input are clear errors', () => {
    expect(() => new RobustClipper({ threshold: 0 })).toThrow(InputError);
    expect(() => new RobustClipper({ method: 'quantile', lower: 0.9, upper: 0.1 })).toThrow(/lower < upper/);
    expect(() => new RobustClipper().fit(fromRows([[1]]))).toThrow(/at least 2 rows/);
    expect(() => new RobustClipper().fit(fromRows([[1], [NaN]]))).toThrow(/row 2, column 1/);
  });
});

describe('BatchAwareLda', () => {
  const { X, labels, groups, batches } = planted();
  it('with batch weight 0 it is the shrinkage-LDA projection (lda-proj)', () => {
    const a = new BatchAwareLda({ batchWeight: 0, shrinkage: 0.3 }).fit(X, { labels, groups, batches }).transform(X);
    const b = new Lda({ shrinkage: 0.3, nComponents: 2, solver: 'direct' }).fit(X, labels).transform(X);
    for (let i = 0; i < a.data.length; i++) expect(a.data[i]).toBeCloseTo(b.data[i]!, 6);
  });
  it('shrinks the direction that separates batches', () => {
    // Without the batch term the batch axis (5) is not separating classes anyway, so compare the
    // weight the projection puts on it per unit of class separation: it must fall.
    const w = (m: BatchAwareLda) => {
      const S = m.scalings!;
      let batch = 0, all = 0;
      for (let j = 0; j < 6; j++) for (let c = 0; c < S.cols; c++) {
        const v = S.data[j * S.cols + c]! ** 2;
        all += v;
        if (j === 5) batch += v;
      }
      return batch / all;
    };
    const plain = new BatchAwareLda({ batchWeight: 0 }).fit(X, { labels, groups, batches });
    const aware = new BatchAwareLda({ batchWeight: 5 }).fit(X, { labels, groups, batches });
    expect(aware.batchCells).toBe(12);
    expect(aware.batchShare).toBeGreaterThan(0.5);
    expect(w(aware)).toBeLessThan(w(plain));
  });
  it('one class, too many components and mismatched columns are clear errors', () => {
    expect(() => new BatchAwareLda().fit(X, { labels: labels.map(() => 'a'), groups })).toThrow(/at least 2 classes/);
    expect(() => new BatchAwareLda({ nComponents: 3 }).fit(X, { labels, groups })).toThrow(/\[1, 2\] \(classes − 1\)/);
    expect(() => new BatchAwareLda().fit(X, { labels, groups: groups.slice(1) })).toThrow(InputError);
  });
});

describe('NCA', () => {
  const ref = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'nca', 'sklearn_nca.json'), 'utf8')) as {
    X: number[][]; y: number[]; L0: number[][]; loss: number; grad: number[][]; fitted_loss: number;
  };
  const X = fromRows(ref.X);
  const cls = Int32Array.from(ref.y);
  it('objective and analytic gradient equal scikit-learn\'s _loss_grad_lbfgs', () => {
    const { loss, gradient } = ncaLossGrad(X, cls, fromRows(ref.L0));
    expect(Math.abs(loss - ref.loss)).toBeLessThan(1e-10);
    ref.grad.flat().forEach((g, i) => expect(Math.abs(gradient.data[i]! - g)).toBeLessThan(1e-9 * Math.max(1, Math.abs(g))));
  });
  it('the gradient matches finite differences', () => {
    const L = fromRows(ref.L0);
    const { gradient } = ncaLossGrad(X, cls, L);
    for (const t of [0, 5, 7, 11]) {
      const h = 1e-6;
      const Lp = clone(L), Lm = clone(L);
      Lp.data[t] += h;
      Lm.data[t] -= h;
      const fd = (ncaLossGrad(X, cls, Lp).loss - ncaLossGrad(X, cls, Lm).loss) / (2 * h);
      expect(Math.abs(fd - gradient.data[t]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
    }
  });
  it('from sklearn\'s start it reaches sklearn\'s fitted objective', () => {
    const labels = ref.y.map((c) => `c${c}`);
    const m = new Nca({ nComponents: 2, init: fromRows(ref.L0), maxIter: 50 }).fit(X, labels);
    expect(m.score * X.rows).toBeGreaterThanOrEqual(ref.fitted_loss - 1e-3);
    const again = new Nca({ nComponents: 2, init: fromRows(ref.L0), maxIter: 50 }).fit(X, labels);
    expect(Array.from(again.components!.data)).toEqual(Array.from(m.components!.data));
  });
  it('bad input is a clear error', () => {
    expect(() => new Nca().fit(X, ref.y.map(() => 'a'))).toThrow(/at least 2 classes/);
    expect(() => new Nca({ nComponents: 7 }).fit(X, ref.y.map(String))).toThrow(/\[1, 6\]/);
  });
});

describe('L-BFGS', () => {
  it('minimises the Rosenbrock function', () => {
    const r = lbfgs((x, g) => {
      const a = 1 - x[0]!, b = x[1]! - x[0]! * x[0]!;
      g[0] = -2 * a - 400 * x[0]! * b;
      g[1] = 200 * b;
      return a * a + 100 * b * b;
    }, Float64Array.from([-1.2, 1]), { maxIter: 500, gtol: 1e-8, ftol: 0 });
    expect(r.x[0]).toBeCloseTo(1, 5);
    expect(r.x[1]).toBeCloseTo(1, 5);
  });
});

describe('ContrastiveEmbedding', () => {
  const { X, labels, groups, batches } = planted(5);
  const opts = { hidden: 16, dim: 4, maxEpochs: 30, patience: 10, seed: 2 };
  it('is seeded and separates the classes of unseen compounds', () => {
    const trainIdx = groups.flatMap((g, i) => (g.endsWith('c0') ? [i] : []));
    const testIdx = groups.flatMap((g, i) => (g.endsWith('c1') ? [i] : []));
    const take = (idx: number[]): Matrix => fromRows(idx.map((i) => Array.from(X.data.subarray(i * 6, i * 6 + 6))));
    // Training side: compound c0 of each class; its two batches count as two "compounds" so
    // that every class has a positive pair. The c1 compounds are never seen.
    const half = trainIdx;
    const m = new ContrastiveEmbedding({ ...opts, validationFraction: 0 }).fit(take(half), half.map((i) => labels[i]!), { groups: half.map((i) => `${groups[i]}${batches[i]}`) });
    const m2 = new ContrastiveEmbedding({ ...opts, validationFraction: 0 }).fit(take(half), half.map((i) => labels[i]!), { groups: half.map((i) => `${groups[i]}${batches[i]}`) });
    const a = m.transform(take(testIdx)), b = m2.transform(take(testIdx));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    // 1-NN (cosine) of each unseen row among the training rows has its class for most rows.
    const R = m.transform(take(half));
    const cos = (u: Float64Array, v: Float64Array) => {
      let s = 0, nu = 0, nv = 0;
      for (let j = 0; j < u.length; j++) { s += u[j]! * v[j]!; nu += u[j]! ** 2; nv += v[j]! ** 2; }
      return s / Math.sqrt(nu * nv);
    };
    let hit = 0;
    testIdx.forEach((i, q) => {
      const u = a.data.subarray(q * 4, q * 4 + 4);
      let best = -2, bl = '';
      half.forEach((j, r) => {
        const s = cos(u, R.data.subarray(r * 4, r * 4 + 4));
        if (s > best) { best = s; bl = labels[j]!; }
      });
      if (bl === labels[i]) hit++;
    });
    expect(hit / testIdx.length).toBeGreaterThan(0.8);
  });
  it('early stopping on an inner compound split picks an epoch', () => {
    const m = new ContrastiveEmbedding({ ...opts, validationFraction: 0.34 }).fit(X, labels, { groups: groups.map((g, i) => `${g}${batches[i]}`) });
    expect(m.validation.length).toBeGreaterThan(0);
    expect(m.epochs).toBeGreaterThanOrEqual(1);
    expect(m.epochs).toBeLessThanOrEqual(30);
  });
  it('classes of one compound only are a clear error', () => {
    expect(() => new ContrastiveEmbedding(opts).fit(X, labels, { groups: labels })).toThrow(/no class has two compounds/);
    expect(() => new ContrastiveEmbedding({ temperature: 0 })).toThrow(/temperature/);
  });
});

describe('issue-24 representations in evaluate', () => {
  const { X, labels, groups, batches } = planted(7);
  const n = X.rows;
  const trainRows = Array.from({ length: n }, (_, i) => i).filter((i) => !groups[i]!.endsWith('c1') || labels[i] !== 'm2');
  const probe = fromRows([Array.from(X.data.subarray(0, 6)), Array.from(X.data.subarray((n - 1) * 6, n * 6))]);
  const names = ['raw-clip', 'lda-proj-clip', 'lda-proj-clip-uncentred', 'batch-lda', 'batch-lda-noshrink', 'batch-lda-clip', 'nca', 'nca-clip', 'lmnn', 'lmnn-lda', 'ensemble-lda-clip', 'contrastive'];
  it('every name parses', () => {
    expect(parseRepresentationList(names.join(',')).map((s) => s.name)).toEqual(names);
  });
  for (const name of names) {
    it(`${name}: changing a held-out row leaves the fit unchanged; the same seed gives the same output`, () => {
      const spec = name === 'contrastive'
        ? { ...BUILTIN_REPRESENTATIONS[name]!, contrastive: { hidden: 8, dim: 3, maxEpochs: 5, patience: 2 } }
        : BUILTIN_REPRESENTATIONS[name]!;
      const ctx = { groups: trainRows.map((i) => groups[i]!), batches: trainRows.map((i) => batches[i]!) };
      const fitLabels = trainRows.map((i) => labels[i]!);
      const a = fitRepresentation(spec, X, trainRows, fitLabels, 1, 'auto', ctx).transform(probe);
      const X2 = clone(X);
      for (let i = 0; i < n; i++) if (!trainRows.includes(i)) for (let j = 0; j < 6; j++) X2.data[i * 6 + j] = 1e3;
      const b = fitRepresentation(spec, X2, trainRows, fitLabels, 1, 'auto', ctx).transform(probe);
      expect(Array.from(b.data)).toEqual(Array.from(a.data));
    });
  }
});

describe('nested model choice (evaluate/select.ts)', () => {
  it('picks the candidate that wins inner compound-grouped NSC, using only the rows it is given', async () => {
    const { selectByInnerCv } = await import('../../src/evaluate/select.js');
    const { X, labels, groups, batches } = planted(9);
    const n = X.rows;
    const fitRows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 16 < 12);
    const good = BUILTIN_REPRESENTATIONS['lda-proj']!;
    // One principal component of data whose largest variance is the batch axis: no mechanism left.
    const bad = { ...BUILTIN_REPRESENTATIONS.pca!, name: 'pca-1', pca: 1 };
    const run = (rows: number[], Xin: Matrix) => selectByInnerCv({
      candidates: [bad, good], X: Xin, fitRows: rows, labels: rows.map((i) => labels[i]!), compounds: groups, batches, controlLabels: ['DMSO'],
      innerFolds: 3, seed: 0, fit: (c, Xs, r, l, ctx) => fitRepresentation(c, Xs, r, l, 0, 'auto', ctx).transform,
    });
    const a = run(fitRows, X);
    expect(a.chosen.name).toBe('lda-proj');
    expect(a.scores[1]!.nsc).toBeGreaterThan(a.scores[0]!.nsc);
    // Rows outside fitRows cannot change the choice or the scores.
    const X2 = clone(X);
    for (let i = 0; i < n; i++) if (!fitRows.includes(i)) for (let j = 0; j < 6; j++) X2.data[i * 6 + j] = -1e3;
    expect(run(fitRows, X2)).toEqual(a);
  });
});

describe('select-lmnn: LMNN\'s k, PCA size and start chosen inside the training rows', () => {
  it('scores its six candidates on the same inner folds and keeps the best inner NSC + mAP (earlier candidate on ties)', async () => {
    const { selectByInnerCv } = await import('../../src/evaluate/select.js');
    const { X: X0, labels, groups, batches } = planted(9);
    // Extra noise, so that the candidates do not all tie at inner NSC 1.
    const rng = new Rng(2);
    const X = fromRows(Array.from({ length: X0.rows }, (_, i) => Array.from({ length: X0.cols }, (_, j) => X0.data[i * X0.cols + j]! + 2 * rng.normal())));
    const fitRows = Array.from({ length: X.rows }, (_, i) => i);
    const sel = BUILTIN_REPRESENTATIONS['select-lmnn']!.select!;
    const cands = sel.candidates.map((c) => BUILTIN_REPRESENTATIONS[c]!);
    expect(cands.map((c) => c.kind)).toEqual(['lda', 'lmnn', 'lmnn', 'lmnn', 'lmnn', 'lmnn']);
    const r = selectByInnerCv({
      candidates: cands, X, fitRows, labels, compounds: groups, batches, controlLabels: ['DMSO'], innerFolds: sel.innerFolds!, seed: 0, criterion: sel.criterion,
      fit: (c, Xs, rr, l, ctx) => fitRepresentation(c, Xs, rr, l, 0, 'auto', ctx).transform,
    });
    expect(r.scores.map((s) => s.name)).toEqual(sel.candidates);
    // Every compound sits on both batches, so inner NSCB is undefined (NaN) and cannot break ties.
    expect(r.scores.every((s) => Number.isNaN(s.nscb))).toBe(true);
    const key = (s: (typeof r.scores)[number]) => s.nsc + s.map;
    const best = Math.max(...r.scores.map(key));
    expect(r.chosen.name).toBe(r.scores.find((s) => key(s) === best)!.name);
  });
});

describe('ensembles', () => {
  it('a row is the concatenation of its unit-length member representations: cosine = mean of the members\' cosines', () => {
    const { X, labels, groups } = planted(4);
    const rows = Array.from({ length: X.rows }, (_, i) => i);
    const ctx = { groups };
    const spec = BUILTIN_REPRESENTATIONS['ensemble-lda-clip']!;
    const Y = fitRepresentation(spec, X, rows, labels, 0, 'auto', ctx).transform(X);
    const A = fitRepresentation(spec.ensemble![0]!, X, rows, labels, 0, 'auto', ctx).transform(X);
    const B = fitRepresentation(spec.ensemble![1]!, X, rows, labels, 0, 'auto', ctx).transform(X);
    expect(Y.cols).toBe(A.cols + B.cols);
    const cos = (M: Matrix, i: number, j: number) => {
      let s = 0, a = 0, b = 0;
      for (let t = 0; t < M.cols; t++) {
        const u = M.data[i * M.cols + t]!, v = M.data[j * M.cols + t]!;
        s += u * v; a += u * u; b += v * v;
      }
      return s / Math.sqrt(a * b);
    };
    for (const [i, j] of [[0, 5], [3, 40], [10, 47]] as const) {
      expect(cos(Y as Matrix, i, j)).toBeCloseTo((cos(A as Matrix, i, j) + cos(B as Matrix, i, j)) / 2, 12);
    }
  });
  it('nested choice scores the best two\'s ensemble on the same inner folds; it wins only when strictly better', async () => {
    const { selectByInnerCv } = await import('../../src/evaluate/select.js');
    const { X, labels, groups, batches } = planted(9);
    const fitRows = Array.from({ length: X.rows }, (_, i) => i);
    const bad = { ...BUILTIN_REPRESENTATIONS.pca!, name: 'pca-1', pca: 1 };
    const good = BUILTIN_REPRESENTATIONS['lda-proj']!;
    const r = selectByInnerCv({
      candidates: [good, bad], X, fitRows, labels, compounds: groups, batches, controlLabels: ['DMSO'], innerFolds: 3, seed: 0, criterion: 'nsc+map',
      fit: (c, Xs, rr, l, ctx) => fitRepresentation(c, Xs, rr, l, 0, 'auto', ctx).transform,
      combine: (a, b) => ({ name: `${a.name}+${b.name}`, kind: 'ensemble' as const, ensemble: [a, b] }),
    });
    expect(r.scores.map((s) => s.name)).toEqual(['lda-proj', 'pca-1', 'lda-proj+pca-1']);
    const [g, , e] = r.scores;
    expect(r.scores.every((s) => s.map > 0 && s.map <= 1)).toBe(true);
    const key = (s: typeof g) => s!.nsc + s!.map;
    expect(r.chosen.name).toBe(key(e) > key(g) || (key(e) === key(g) && e!.nscb > g!.nscb) ? 'lda-proj+pca-1' : 'lda-proj');
  });
});
