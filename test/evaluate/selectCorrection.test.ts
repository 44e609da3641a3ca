/** Nested choice of the batch correction with the learner (evaluate/select.ts, issue 24). */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Profiles } from '../../src/io/profiles.js';
import { metaStrings, subsetRows } from '../../src/io/profiles.js';
import { takeRows, type StoredMatrix } from '../../src/linalg/index.js';
import { BUILTIN_REPRESENTATIONS as B, evaluate, fitRepresentation, normaliseForEvaluation, type RepresentationSpec } from '../../src/evaluate/protocol.js';
import { selectByInnerCv } from '../../src/evaluate/select.js';
import { makeSplits } from '../../src/evaluate/splits.js';
import { correctProfiles } from '../../src/batch/profiles.js';
import { bbbc021Recipe, BBBC021_FILES } from '../../src/io/recipes.js';
import { foldsCsv } from '../../src/cli/commands/evaluate.js';
import { UsageError } from '../../src/util/errors.js';
import { describeShared, sharedRoot } from '../helpers/shared.js';
import { planted, plantedProfiles } from '../batch/planted.js';

const table = plantedProfiles;
const cols = { labelCol: 'Metadata_moa', groupCol: 'Metadata_compound', batchCol: 'Metadata_batch', inSample: false, dataLevel: false, nullSize: 20 };
const spec = (name: string, candidates: string[], corrections: NonNullable<RepresentationSpec['select']>['corrections'], extra: Partial<NonNullable<RepresentationSpec['select']>> = {}): RepresentationSpec =>
  ({ name, kind: 'select', select: { candidates, corrections, innerFolds: 3, criterion: 'nscb', ...extra } });

describe('nested choice of the correction: every inner fit leaves the inner held-out compounds out', () => {
  const P = planted({ batches: 3, perBatch: 24, features: 5, controls: 6, classes: 3, seed: 2 });
  const n = P.X.rows;
  // The outer fold: compound c0_0 held out; the training side's controls are the context rows.
  const fitRows = Array.from({ length: n }, (_, i) => i).filter((i) => !P.isControl[i] && P.compound[i] !== 'c0_0');
  const context = Array.from({ length: n }, (_, i) => i).filter((i) => P.isControl[i]);
  const run = (innerRepeats: number, calls: { k: number; rows: readonly number[]; fit: number[] }[]) => selectByInnerCv({
    candidates: [B.raw!, B['lda-proj']!], X: P.X, fitRows, labels: fitRows.map((i) => P.label[i]!), compounds: P.compound, batches: P.batch,
    controlLabels: ['DMSO'], innerFolds: 3, innerRepeats, seed: 4, criterion: 'nscb', contextRows: context, contextIsControl: context.map(() => true),
    corrections: {
      names: ['none', 'spy'],
      correct: (k, rows, fit) => {
        calls.push({ k, rows, fit: Array.from(fit) });
        return takeRows(P.X, rows);
      },
    },
    fit: (c, Xs, rows, labs, ctx) => fitRepresentation(c, Xs, rows, labs, 0, 'auto', ctx).transform,
  });

  it('the correction is fitted on the inner training compounds plus the context rows, never on an inner held-out row (hand-checked folds)', () => {
    const calls: { k: number; rows: readonly number[]; fit: number[] }[] = [];
    const r = run(1, calls);
    const m = fitRows.length;
    // The inner folds the selection must have used: 3-fold over the training compounds, seed 4.
    const inner = makeSplits({ kind: 'kfold', groups: fitRows.map((i) => P.compound[i]!), labels: fitRows.map((i) => P.label[i]!), folds: 3, seed: 4 });
    expect(r.innerFolds).toBe(3);
    expect(calls.map((c) => c.k)).toEqual([0, 1, 0, 1, 0, 1]);
    inner.forEach((f, t) => {
      for (const c of calls.slice(2 * t, 2 * t + 2)) {
        // Subset rows: the outer fit rows, then the context rows.
        expect(c.rows).toEqual([...fitRows, ...context]);
        expect(c.fit).toEqual([...Array.from(f.train), ...context.map((_, k) => m + k)]);
        const heldOut = new Set(Array.from(f.test, (s) => P.compound[fitRows[s]!]));
        expect(heldOut.size).toBeGreaterThan(0);
        for (const s of c.fit) expect(heldOut.has(P.compound[c.rows[s]!]!) && s < m).toBe(false);
      }
    });
    // Candidates are (correction, learner) pairs, correction-major; the winner is reported with its scores.
    expect(r.scores.map((s) => s.name)).toEqual(['none/raw', 'none/lda-proj', 'spy/raw', 'spy/lda-proj']);
    expect(r.best).toBe(r.scores[r.correction! * 2 + (r.chosen.name === 'raw' ? 0 : 1)]);
    // The identity "spy" scores like none, so the tie goes to the earlier (simpler) correction.
    expect(r.scores[2]).toMatchObject({ nsc: r.scores[0]!.nsc, nscb: r.scores[0]!.nscb });
    expect(r.correction).toBe(0);
  });

  it('repeated inner splits: repeat 0 is the plain split, each repeat refits the correction', () => {
    const calls: { k: number; rows: readonly number[]; fit: number[] }[] = [];
    const r = run(2, calls);
    expect(r.innerFolds).toBe(6);
    expect(calls.length).toBe(12);
    const once: typeof calls = [];
    run(1, once);
    expect(calls.slice(0, 6).map((c) => c.fit)).toEqual(once.map((c) => c.fit));
    expect(calls.slice(6).map((c) => c.fit)).not.toEqual(once.map((c) => c.fit));
  });

  it('inner leave-one-compound-out: one inner fold per training compound, the same for every seed', () => {
    const mk = (seed: number) => selectByInnerCv({
      candidates: [B['lda-proj']!], X: P.X, fitRows, labels: fitRows.map((i) => P.label[i]!), compounds: P.compound, batches: P.batch,
      controlLabels: ['DMSO'], innerFolds: 3, innerSplit: 'loco', seed, criterion: 'nscb', contextRows: context, contextIsControl: context.map(() => true),
      corrections: { names: ['none'], correct: (_k, rows) => takeRows(P.X, rows) },
      fit: (c, Xs, rows, labs, ctx) => fitRepresentation(c, Xs, rows, labs, 0, 'auto', ctx).transform,
    });
    const a = mk(0);
    expect(a.innerFolds).toBe(new Set(fitRows.map((i) => P.compound[i])).size);
    expect(mk(7)).toEqual(a);
  });

  it('a correction choice with ensembles, or with no correction, is a usage error', () => {
    const base = {
      candidates: [B.raw!, B['lda-proj']!], X: P.X, fitRows, labels: fitRows.map((i) => P.label[i]!), compounds: P.compound, batches: P.batch,
      controlLabels: ['DMSO'], innerFolds: 3, seed: 0, fit: (c: RepresentationSpec, Xs: StoredMatrix, rows: number[], labs: string[]) => fitRepresentation(c, Xs, rows, labs, 0).transform,
    };
    expect(() => selectByInnerCv({ ...base, corrections: { names: ['none'], correct: (_k, rows) => takeRows(P.X, rows) }, combine: (a) => a })).toThrow(UsageError);
    expect(() => selectByInnerCv({ ...base, corrections: { names: [], correct: (_k, rows) => takeRows(P.X, rows) } })).toThrow(UsageError);
  });
});

describe('evaluate: select with corrections', () => {
  it('with one correction and one learner it equals that correction fitted per fold + that learner; folds.csv names the choice', () => {
    const p = table();
    const metrics = ['nsc', 'nscb', 'map-consistency'] as const;
    const nested = evaluate(p, { ...cols, metrics: [...metrics], split: 'loco', representations: [spec('sel', ['lda-proj'], [{ name: 'combat', method: 'combat' }])] });
    const fixed = evaluate(p, { ...cols, metrics: [...metrics], split: 'loco', representations: [B['lda-proj']!], correction: { method: 'combat' } });
    const outer = (r: typeof nested) => r.folds.map((f) => [f.fold, f.nsc, f.nscb, f.mapConsistency]);
    expect(outer(nested)).toEqual(outer(fixed));
    expect(nested.folds.every((f) => f.chosenCorrection === 'combat' && f.chosen === 'lda-proj' && f.innerNscb! >= 0 && f.innerNscb! <= 1)).toBe(true);
    expect(nested.notes.some((x) => /sel: chooses its batch correction per fold \(combat\)/.test(x))).toBe(true);
    const csv = foldsCsv(nested).trim().split('\n');
    expect(csv[0]).toBe('representation,seed,fold,held_out,queries,nsc,nscb,map_consistency,seconds,chosen,inner_nsc,chosen_correction,inner_nscb,inner_mrr');
    const cells = csv[1]!.split(',');
    expect(cells[0]).toBe('sel');
    expect(cells[9]).toBe('lda-proj');
    expect(cells[11]).toBe('combat');
    expect(Number(cells[12])).toBe(nested.folds[0]!.innerNscb);
  });

  it('choosing among none, sphere and ComBat × two learners: deterministic for a seed, every fold reports a pair', () => {
    const p = table();
    const s = spec('sel3', ['raw', 'lda-proj'], [{ name: 'none' }, { name: 'sphere', method: 'sphere' }, { name: 'combat', method: 'combat' }]);
    const run = (seeds: number[]) => evaluate(p, { ...cols, metrics: ['nsc', 'nscb'], split: 'kfold', folds: 3, seeds, representations: [s] });
    const a = run([1]);
    const fields = (r: typeof a) => r.folds.map((f) => [f.fold, f.chosenCorrection, f.chosen, f.innerNsc, f.innerNscb, f.nsc, f.nscb]);
    expect(fields(run([1]))).toEqual(fields(a));
    expect(a.folds.length).toBe(3);
    for (const f of a.folds) {
      expect(['none', 'sphere', 'combat']).toContain(f.chosenCorrection);
      expect(['raw', 'lda-proj']).toContain(f.chosen);
    }
    // Without a batch column there is nothing to correct per batch.
    expect(() => evaluate(p, { ...cols, batchCol: undefined, metrics: ['nsc'], split: 'loco', representations: [s] })).toThrow(UsageError);
  });

  it('inner leave-one-compound-out is not seeded: every seed gives the first seed\'s figures', () => {
    const p = table();
    const s = spec('sel-loco', ['lda-proj'], [{ name: 'none' }, { name: 'combat', method: 'combat' }], { innerSplit: 'loco' });
    const r = evaluate(p, { ...cols, metrics: ['nsc', 'nscb'], split: 'loco', seeds: [0, 3], representations: [s] });
    expect(r.folds.every((f) => f.seed === 0)).toBe(true);
    expect(r.representations[0]!.metrics.nscb!.values).toEqual([r.representations[0]!.metrics.nscb!.values[0], r.representations[0]!.metrics.nscb!.values[0]]);
    const other = evaluate(p, { ...cols, metrics: ['nsc', 'nscb'], split: 'loco', seeds: [3], representations: [s] });
    expect(other.folds.map((f) => [f.chosenCorrection, f.innerNscb, f.nscb])).toEqual(r.folds.map((f) => [f.chosenCorrection, f.innerNscb, f.nscb]));
  });

  it('onlyFolds runs the named folds; an unknown name is a usage error', () => {
    const p = table();
    const r = evaluate(p, { ...cols, metrics: ['nsc'], split: 'loco', representations: [B.raw!], onlyFolds: ['loco:c0_0', 'loco:c1_2'] });
    expect(r.folds.map((f) => f.fold)).toEqual(['loco:c0_0', 'loco:c1_2']);
    expect(() => evaluate(p, { ...cols, metrics: ['nsc'], split: 'loco', representations: [B.raw!], onlyFolds: ['loco:nope'] })).toThrow(/no fold named "loco:nope"/);
  });
});

describeShared('nested correction choice on BBBC021', Object.values(BBBC021_FILES).map((f) => `data/${f}`), () => {
  let profiles: Profiles;
  beforeAll(async () => {
    profiles = (await bbbc021Recipe(join(sharedRoot, 'data'))).profiles;
  });
  const c = { ...cols, doseCol: 'Metadata_concentration', controlLabels: ['DMSO'] };
  const only = ['loco:taxol', 'loco:AZ-J'];

  it('inner ComBat refitted without the inner held-out compounds scores them higher than the outer fit reused (the leak the nesting removes)', () => {
    const sel = spec('combat-lda', ['lda-proj'], [{ name: 'combat', method: 'combat' }]);
    const r = evaluate(profiles, { ...c, metrics: ['nsc', 'nscb'], split: 'loco', representations: [sel], onlyFolds: only });
    const fixed = evaluate(profiles, { ...c, metrics: ['nsc', 'nscb'], split: 'loco', representations: [B['lda-proj']!], correction: { method: 'combat' }, onlyFolds: only });
    expect(r.folds.map((f) => [f.nsc, f.nscb])).toEqual(fixed.folds.map((f) => [f.nsc, f.nscb]));
    // The same inner folds scored on the outer fold's ComBat fit, which saw every inner held-out compound.
    const p = normaliseForEvaluation(profiles, 'zscore').profiles;
    const moa = metaStrings(p, 'Metadata_moa'), comp = metaStrings(p, 'Metadata_compound'), week = metaStrings(p, 'Metadata_batch'), dose = metaStrings(p, 'Metadata_concentration');
    const ctl = Uint8Array.from(comp, (x) => (x === 'DMSO' ? 1 : 0));
    const folds = makeSplits({ kind: 'loco', groups: comp.map((x, i) => (ctl[i] || !moa[i] ? null : x)), labels: moa, controlGroups: ['DMSO'] });
    only.forEach((name, t) => {
      const fold = folds.find((f) => f.name === name)!;
      const fitRows = Array.from(fold.train).filter((i) => !ctl[i] && moa[i]);
      const context = Array.from(fold.train).filter((i) => ctl[i] || !moa[i]);
      const outerFit = correctProfiles(p, { method: 'combat', batchCol: 'Metadata_batch', controls: ctl, fitRows: fold.train }).profiles.X;
      const inner = (leak: boolean) => selectByInnerCv({
        candidates: [B['lda-proj']!], X: p.X, fitRows, labels: fitRows.map((i) => moa[i]!), compounds: comp, doses: dose, batches: week, controlLabels: ['DMSO'],
        innerFolds: 3, seed: 0, criterion: 'nscb', contextRows: context, contextIsControl: context.map((i) => ctl[i] === 1),
        corrections: {
          names: ['combat'],
          correct: (_k, rows, fit) => (leak ? takeRows(outerFit, rows)
            : correctProfiles(subsetRows(p, rows), { method: 'combat', batchCol: 'Metadata_batch', controls: Uint8Array.from(rows, (i) => ctl[i]!), fitRows: fit }).profiles.X),
        },
        fit: (s, Xs, rows, labs, ctx) => fitRepresentation(s, Xs, rows, labs, 0, 'auto', ctx).transform,
      }).best;
      const nestedScore = inner(false), leaky = inner(true);
      expect(r.folds[t]!.innerNscb).toBe(nestedScore.nscb);
      expect(nestedScore.nscb).toBeGreaterThan(leaky.nscb + 0.02);
    });
  }, 60_000);
});
