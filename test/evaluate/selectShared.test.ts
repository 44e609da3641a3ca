/**
 * The fast paths of the nested choice (issue 24, time target) give the plain path's results:
 * - the batch-aware LDA's Cholesky / span solve equals its d × d eigendecomposition form;
 * - candidates fitted on the same inner rows share the clipper, the clipped matrix and LDA fits that
 *   differ only in centring, value for value;
 * - on a real BBBC021 fold every inner score of select-corrected's (correction, learner) pairs is
 *   the same with the shared fits and the fast solve as with separate fits and the eigen form.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Profiles } from '../../src/io/profiles.js';
import { metaStrings, subsetRows } from '../../src/io/profiles.js';
import { fromRows, takeRows, type Matrix, type StoredMatrix } from '../../src/linalg/index.js';
import { BUILTIN_REPRESENTATIONS as B, fitRepresentation, normaliseForEvaluation, type RepresentationSpec } from '../../src/evaluate/protocol.js';
import { selectByInnerCv } from '../../src/evaluate/select.js';
import { makeSplits } from '../../src/evaluate/splits.js';
import { correctProfiles } from '../../src/batch/profiles.js';
import { BatchAwareLda } from '../../src/represent/batchLda.js';
import { FitWorkspace } from '../../src/represent/workspace.js';
import { bbbc021Recipe, BBBC021_FILES } from '../../src/io/recipes.js';
import { Rng } from '../../src/linalg/rng.js';
import { describeShared, sharedRoot } from '../helpers/shared.js';

/** Classes × compounds × batches with a batch shift, `d` features (wide when d exceeds the rows). */
function grouped(d: number, seed: number) {
  const rng = new Rng(seed);
  const rows: number[][] = [], labels: (string | null)[] = [], groups: (string | null)[] = [], batches: string[] = [];
  for (let c = 0; c < 4; c++) {
    for (let g = 0; g < 3; g++) {
      for (let b = 0; b < 2; b++) {
        for (let r = 0; r < 3; r++) {
          const x = Array.from({ length: d }, () => rng.normal());
          x[c] += 2;
          x[d - 1] += b ? 3 : -3;
          rows.push(x);
          labels.push(`m${c}`);
          groups.push(`m${c}c${g}`);
          batches.push(`b${b}`);
        }
      }
    }
  }
  // Unlabelled control rows on both batches: batch differences only.
  for (let b = 0; b < 2; b++) {
    for (let r = 0; r < 4; r++) {
      const x = Array.from({ length: d }, () => rng.normal());
      x[d - 1] += b ? 3 : -3;
      rows.push(x);
      labels.push(null);
      groups.push('ctl');
      batches.push(`b${b}`);
    }
  }
  return { X: fromRows(rows), labels, groups, batches };
}

const maxAbsDiff = (a: Matrix, b: Matrix) => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i]!)), 0);

describe('batch-aware LDA: the Cholesky and span solves equal the eigendecomposition form', () => {
  for (const [form, d] of [['direct (rows > features)', 8], ['span (rows < features)', 120]] as const) {
    it(form, () => {
      const { X, labels, groups, batches } = grouped(d, 7);
      for (const batchWeight of [0, 1, 3]) {
        const fast = new BatchAwareLda({ batchWeight }).fit(X, { labels, groups, batches });
        const ref = new BatchAwareLda({ batchWeight, solver: 'eigen' }).fit(X, { labels, groups, batches });
        expect(fast.shrinkage).toBe(ref.shrinkage);
        const scale = Math.max(...ref.scalings!.data.map(Math.abs));
        expect(maxAbsDiff(fast.scalings!, ref.scalings!) / scale).toBeLessThan(1e-9);
        expect(maxAbsDiff(fast.transform(X), ref.transform(X))).toBeLessThan(1e-9 * Math.max(...ref.transform(X).data.map(Math.abs)));
      }
    });
  }

  it('without shrinkage (eigenvalues floored) the eigendecomposition form is kept, unchanged', () => {
    const { X, labels, groups, batches } = grouped(120, 8);
    const a = new BatchAwareLda({ shrinkage: 0 }).fit(X, { labels, groups, batches });
    const b = new BatchAwareLda({ shrinkage: 0, solver: 'eigen' }).fit(X, { labels, groups, batches });
    expect(Array.from(a.scalings!.data)).toEqual(Array.from(b.scalings!.data));
  });

  it('an unknown solver is a clear error', () => {
    expect(() => new BatchAwareLda({ solver: 'qr' as never })).toThrow(/solver must be 'auto' or 'eigen'/);
  });
});

describe('candidates fitted on the same rows share fits, value for value', () => {
  const { X, labels, groups, batches } = grouped(10, 9);
  const fitRows = labels.flatMap((l, i) => (l !== null ? [i] : []));
  const fitLabels = fitRows.map((i) => labels[i]!);
  const ctlRows = labels.flatMap((l, i) => (l === null ? [i] : []));
  const ctx = {
    groups: fitRows.map((i) => groups[i]!), batches: fitRows.map((i) => batches[i]!),
    controlRows: ctlRows, controlBatches: ctlRows.map((i) => batches[i]!),
  };
  const names = ['lda-proj', 'lda-proj-clip', 'lda-proj-clip-uncentred', 'batch-lda', 'batch-lda-clip', 'raw-clip', 'ensemble-lda-clip'];

  it('every candidate transforms X exactly as its separate fit does, in any order', () => {
    const separate = names.map((n) => fitRepresentation(B[n]!, X, fitRows, fitLabels, 0, 'auto', ctx).transform(X));
    for (const order of [names, [...names].reverse()]) {
      const shared = { X, rows: fitRows, memo: new Map<string, unknown>() };
      const got = new Map(order.map((n) => [n, fitRepresentation(B[n]!, X, fitRows, fitLabels, 0, 'auto', { ...ctx, shared }).transform(X)]));
      names.forEach((n, t) => expect(Array.from(got.get(n)!.data), n).toEqual(Array.from(separate[t]!.data)));
      // One clipper and one clipped X for the four clipped candidates, one LDA fit for the two clipped projections.
      expect([...shared.memo.keys()].filter((k) => k.startsWith('clip')).length).toBe(1);
      expect([...shared.memo.keys()].filter((k) => k.startsWith('lda')).length).toBe(2);
    }
  });

  it('with a workspace kept across inner folds (clipped X and the LDA temporaries reused), every transform is still its separate fit\'s', () => {
    const workspace = new FitWorkspace();
    // Two "inner folds" in turn on one workspace: all rows, then every other row.
    for (const keep of [fitRows, fitRows.filter((_, r) => r % 2 === 0)]) {
      const keepLabels = keep.map((i) => labels[i]!);
      const kctx = { ...ctx, groups: keep.map((i) => groups[i]!), batches: keep.map((i) => batches[i]!) };
      const separate = names.map((n) => fitRepresentation(B[n]!, X, keep, keepLabels, 0, 'auto', kctx).transform(X));
      const shared = { X, rows: keep, memo: new Map<string, unknown>() };
      const fitted = names.map((n) => fitRepresentation(B[n]!, X, keep, keepLabels, 0, 'auto', { ...kctx, shared, workspace }));
      names.forEach((n, t) => expect(Array.from(fitted[t]!.transform(X).data), n).toEqual(Array.from(separate[t]!.data)));
    }
  });

  it('a transform maps each row on its own: the first rows of X give the first rows of X\'s transform', () => {
    const m = fitRows.length;
    const prefix: StoredMatrix = { rows: m, cols: X.cols, data: X.data.subarray(0, m * X.cols) };
    // Both orders: with a shared memo the prefix's clipped rows are a view of clipped X, made first or reused.
    for (const prefixFirst of [false, true]) {
      for (const n of names) {
        const shared = { X, rows: fitRows, memo: new Map<string, unknown>() };
        const t = fitRepresentation(B[n]!, X, fitRows, fitLabels, 0, 'auto', { ...ctx, shared }).transform;
        const part = prefixFirst ? t(prefix) : undefined, whole = t(X);
        expect(Array.from((part ?? t(prefix)).data), n).toEqual(Array.from(whole.data.subarray(0, m * whole.cols)));
      }
    }
  });

  it('the memo is not used for another matrix or another rows array', () => {
    const shared = { X, rows: fitRows, memo: new Map<string, unknown>() };
    fitRepresentation(B['lda-proj-clip']!, X, [...fitRows], fitLabels, 0, 'auto', { ...ctx, shared });
    expect(shared.memo.size).toBe(0);
  });
});

describeShared('select-corrected on BBBC021: the fast path gives every inner score of the plain path', Object.values(BBBC021_FILES).map((f) => `data/${f}`), () => {
  let p: Profiles<StoredMatrix>;
  beforeAll(async () => {
    p = normaliseForEvaluation((await bbbc021Recipe(join(sharedRoot, 'data'))).profiles, 'zscore').profiles;
  });

  it('the 5 learners of select-corrected × {none, ComBat} on the taxol fold: all inner NSC and NSCB equal', () => {
    const moa = metaStrings(p, 'Metadata_moa'), comp = metaStrings(p, 'Metadata_compound'), week = metaStrings(p, 'Metadata_batch'), dose = metaStrings(p, 'Metadata_concentration');
    const ctl = Uint8Array.from(comp, (x) => (x === 'DMSO' ? 1 : 0));
    const folds = makeSplits({ kind: 'loco', groups: comp.map((x, i) => (ctl[i] || !moa[i] ? null : x)), labels: moa, controlGroups: ['DMSO'] });
    const learners = ['lda-proj', 'lda-proj-clip', 'lda-proj-clip-uncentred', 'batch-lda', 'batch-lda-clip'].map((n) => B[n]!);
    // The reference: the batch-aware LDA in its eigendecomposition form, every candidate fitted alone.
    const eigenForm = learners.map((s): RepresentationSpec => (s.kind === 'batch-lda' ? { ...s, batchLda: { ...s.batchLda, solver: 'eigen' } } : s));
    // Two corrections keep the test short (the corrections are shared by both paths; the learners differ).
    const methods = [undefined, 'combat'] as const;
    for (const name of ['loco:taxol']) {
      const fold = folds.find((f) => f.name === name)!;
      const fitRows = Array.from(fold.train).filter((i) => !ctl[i] && moa[i]);
      const context = Array.from(fold.train).filter((i) => ctl[i] || !moa[i]);
      // Each correction fitted once per inner fold and shared by both paths (only the learners are compared).
      const corrected = new Map<string, StoredMatrix>();
      const run = (cands: RepresentationSpec[], share: boolean) => selectByInnerCv({
        candidates: cands, X: p.X, fitRows, labels: fitRows.map((i) => moa[i]!), compounds: comp, doses: dose, batches: week, controlLabels: ['DMSO'],
        innerFolds: 3, seed: 1, criterion: 'nscb', contextRows: context, contextIsControl: context.map((i) => ctl[i] === 1),
        corrections: {
          names: methods.map((m) => m ?? 'none'),
          correct: (k, rows, fit) => {
            const key = `${k} ${fit.join(',')}`;
            let Xc = corrected.get(key);
            if (!Xc) {
              const m = methods[k];
              Xc = m ? correctProfiles(subsetRows(p, rows), { method: m, batchCol: 'Metadata_batch', controls: Uint8Array.from(rows, (i) => ctl[i]!), fitRows: fit }).profiles.X : takeRows(p.X, rows);
              corrected.set(key, Xc);
            }
            return Xc;
          },
        },
        fit: (s, Xs, rows, labs, ctx) => fitRepresentation(s, Xs, rows, labs, 1, 'auto', share ? { ...ctx, shared: { X: Xs, rows, memo: ctx.memo } } : ctx).transform,
      });
      const fast = run(learners, true), plain = run(eigenForm, false);
      expect(fast.scores.length).toBe(10);
      expect(fast.scores).toEqual(plain.scores);
      expect(fast.correction).toBe(plain.correction);
      expect(fast.chosen.name).toBe(plain.chosen.name);
    }
  }, 120_000);
});
