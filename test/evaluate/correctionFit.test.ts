/** Where a batch correction is fitted in the held-out evaluation (EvaluationCorrection.fit). */
import { describe, expect, it } from 'vitest';
import type { Profiles } from '../../src/io/profiles.js';
import { BUILTIN_REPRESENTATIONS as B, evaluate } from '../../src/evaluate/protocol.js';
import { planted } from '../batch/planted.js';

function table(): Profiles {
  const P = planted({ batches: 3, perBatch: 30, features: 6, controls: 8, classes: 3, seed: 5 });
  return {
    features: Array.from({ length: P.X.cols }, (_, j) => `f${j}`), X: P.X, source: 'planted',
    meta: [
      { name: 'Metadata_moa', kind: 'string', values: P.label },
      { name: 'Metadata_compound', kind: 'string', values: P.compound },
      { name: 'Metadata_batch', kind: 'string', values: P.batch },
    ],
  };
}
const cols = { labelCol: 'Metadata_moa', groupCol: 'Metadata_compound', batchCol: 'Metadata_batch', inSample: false, dataLevel: false, nullSize: 20, metrics: ['nsc', 'nscb', 'map-consistency'] as const };

describe('evaluate: the correction fitted per fold on the training side', () => {
  it('k-fold over several seeds refits per seed (folds of different seeds share names, not rows)', () => {
    const p = table();
    const run = (seeds: number[]) => evaluate(p, { ...cols, metrics: [...cols.metrics], split: 'kfold', folds: 3, seeds, representations: [B.raw!], correction: { method: 'combat' } });
    const perFold = (r: ReturnType<typeof run>, seed: number) => r.folds.filter((f) => f.seed === seed).map((f) => [f.fold, f.heldOut, f.nsc, f.nscb, f.mapConsistency]);
    const both = run([0, 1]);
    expect(perFold(both, 1)).toEqual(perFold(run([1]), 1));
    expect(perFold(both, 0)).toEqual(perFold(run([0]), 0));
  });

  it('sphering (learnt from controls only) gives the same folds under either fit; the default refits per fold', () => {
    const p = table();
    const run = (method: 'combat' | 'sphere', fit: 'training' | 'all') =>
      evaluate(p, { ...cols, metrics: [...cols.metrics], split: 'loco', representations: [B.raw!], correction: { method, fit } }).folds.map((f) => f.nsc);
    expect(run('sphere', 'training')).toEqual(run('sphere', 'all'));
    const notes = evaluate(p, { ...cols, metrics: ['nsc'], split: 'loco', representations: [B.raw!], correction: { method: 'combat' } }).notes;
    expect(notes.some((n) => /refitted per fold on the training rows/.test(n))).toBe(true);
  });
});
