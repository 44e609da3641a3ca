/** Where a batch correction is fitted in the held-out evaluation (EvaluationCorrection.fit). */
import { describe, expect, it } from 'vitest';
import type { Profiles } from '../../src/io/profiles.js';
import { BUILTIN_REPRESENTATIONS as B, evaluate } from '../../src/evaluate/protocol.js';
import { plantedProfiles } from '../batch/planted.js';

const table = plantedProfiles;
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
