/**
 * Issue 24's smoother inner criterion ('mrr-b': reciprocal rank of the first right NSCB neighbour),
 * the soft top-two choice of (correction, learner) pairs, and per-batch control centring as a
 * correction candidate.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Profiles } from '../../src/io/profiles.js';
import { metaStrings } from '../../src/io/profiles.js';
import { fromRows, takeRows, type Matrix } from '../../src/linalg/index.js';
import { BUILTIN_REPRESENTATIONS as B, evaluate, fitRepresentation, normaliseForEvaluation, type RepresentationSpec } from '../../src/evaluate/protocol.js';
import { selectByInnerCv } from '../../src/evaluate/select.js';
import { firstHitReciprocalRanks, nearestNeighbourMoa, type Treatments } from '../../src/evaluate/nsc.js';
import { correctProfiles } from '../../src/batch/profiles.js';
import { bbbc021Recipe, BBBC021_FILES } from '../../src/io/recipes.js';
import { foldsCsv } from '../../src/cli/commands/evaluate.js';
import { Rng } from '../../src/linalg/rng.js';
import { describeShared, sharedRoot } from '../helpers/shared.js';
import { planted, plantedProfiles } from '../batch/planted.js';

const treatments = (X: number[][], compound: string[], label: string[], batches: string[][]): Treatments => ({
  X: fromRows(X), compound, dose: compound.map(() => ''), label, batches, rows: compound.map((_, i) => Int32Array.of(i)),
});
const deg = (a: number) => [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)];

describe('firstHitReciprocalRanks (hand-checked)', () => {
  // One query at angle 0°, week w1, MoA P. Candidates by angle from it (cosine order):
  //   k0 10° Q w2, k1 5° P w1 (same week), k2 20° P w2, k3 15° Q w2, k4 0° P own compound, k5 90° R w2.
  const q = treatments([deg(0)], ['qc'], ['P'], [['w1']]);
  const c = treatments([deg(10), deg(5), deg(20), deg(15), deg(0), deg(90)], ['a', 'b', 'c', 'd', 'qc', 'e'], ['Q', 'P', 'P', 'Q', 'P', 'R'],
    [['w2'], ['w1'], ['w2'], ['w2'], ['w2'], ['w2']]);

  it('NSC: the first right neighbour is k1 (5°), nothing of another label closer: 1/1', () => {
    expect(firstHitReciprocalRanks(q, c)).toEqual([1]);
  });
  it('NSCB: k1 shares the week, so the first right one is k2 (20°) behind k0 (10°) and k3 (15°): 1/3', () => {
    expect(firstHitReciprocalRanks(q, c, { excludeSameBatch: true })).toEqual([1 / 3]);
  });
  it('ties follow the 1-NN rule: a wrong candidate of equal similarity counts only when listed first', () => {
    const qq = treatments([deg(0)], ['qc'], ['P'], [['w1']]);
    // x (Q, 30°) ties with the right y (30°) and comes first: counts; z (Q, −30°) ties too but comes after y: does not.
    const wrongFirst = treatments([deg(30), deg(30), deg(-30)], ['x', 'y', 'z'], ['Q', 'P', 'Q'], [['w2'], ['w2'], ['w2']]);
    expect(firstHitReciprocalRanks(qq, wrongFirst)).toEqual([1 / 2]);
    const rightFirst = treatments([deg(30), deg(30), deg(-30)], ['y', 'x', 'z'], ['P', 'Q', 'Q'], [['w2'], ['w2'], ['w2']]);
    expect(firstHitReciprocalRanks(qq, rightFirst)).toEqual([1]);
  });
  it('an unanswerable query (no eligible candidate of its label) gives no value', () => {
    const two = treatments([deg(0), deg(180)], ['qc', 'q2'], ['P', 'Z'], [['w1'], ['w1']]);
    expect(firstHitReciprocalRanks(two, c)).toEqual([1]);
    expect(firstHitReciprocalRanks(two, c, { excludeSameBatch: true })).toEqual([1 / 3]);
  });
  it('1/rank is 1 exactly where nearestNeighbourMoa is right (random tables, with and without batches)', () => {
    const g = new Rng(5);
    const rnd = () => g.uniform();
    for (let t = 0; t < 20; t++) {
      const mk = (n: number, pre: string) => treatments(
        Array.from({ length: n }, () => [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5]), Array.from({ length: n }, (_, i) => `${pre}${i % 7}`),
        Array.from({ length: n }, () => 'ABC'[Math.floor(rnd() * 3)]!), Array.from({ length: n }, () => [`w${Math.floor(rnd() * 3)}`]));
      const qs = mk(12, 'q'), cs = mk(30, 'c');
      for (const excludeSameBatch of [false, true]) {
        const rr = firstHitReciprocalRanks(qs, cs, { excludeSameBatch });
        const nn = nearestNeighbourMoa(qs, cs, { excludeSameBatch });
        expect(rr.length).toBe(nn.predictions.length);
        expect(rr.map((v) => v === 1)).toEqual(nn.predictions.map((p) => p.correct));
        for (const v of rr) expect(v > 0 && v <= 1).toBe(true);
      }
    }
  });
});

describe("selectByInnerCv with criterion 'mrr-b' (hand-checked)", () => {
  // Four compounds (one well each, each in its own week): p1, p2 of MoA P; q1, q2 of MoA Q. Two fixed
  // "learners" place them at these angles; inner leave-one-compound-out, so each inner query's candidates
  // are the three other compounds.
  //   A: p1 0°, p2 30°, q1 20°, q2 90° → 1/rank: p1 1/2 (q1 before p2), p2 1/2 (q1), q1 1/3 (p2, p1), q2 1/2 (p2) → 11/24; NSC 0.
  //   B: p1 0°, p2 100°, q1 40°, q2 170° → p1 1/2 (q1), p2 1/3 (q1, q2), q1 1/3 (p1, p2), q2 1/2 (p2) → 10/24; NSC 0.
  const angles: Record<string, number[]> = { A: [0, 30, 20, 90], B: [0, 100, 40, 170] };
  const compounds = ['p1', 'p2', 'q1', 'q2'], labels = ['P', 'P', 'Q', 'Q'];
  const X = fromRows([[1], [2], [3], [4]]);
  const run = (criterion: 'nscb' | 'mrr-b') => selectByInnerCv({
    // B first: preferred on ties.
    candidates: [{ name: 'B' }, { name: 'A' }], X, fitRows: [0, 1, 2, 3], labels, compounds, batches: ['w1', 'w2', 'w3', 'w4'],
    controlLabels: ['DMSO'], innerFolds: 3, innerSplit: 'loco', seed: 0, criterion,
    fit: (spec) => (Y) => fromRows(Array.from({ length: Y.rows }, (_, r) => deg(angles[spec.name]![r]!))),
  });

  it('NSCB ties (0 and 0) and goes to the earlier candidate; the reciprocal rank separates them (11/24 > 10/24)', () => {
    const byNscb = run('nscb');
    expect(byNscb.scores.map((s) => s.nscb)).toEqual([0, 0]);
    expect(byNscb.chosen.name).toBe('B');
    expect(byNscb.scores.every((s) => Number.isNaN(s.mrr))).toBe(true);
    const byMrr = run('mrr-b');
    expect(byMrr.innerFolds).toBe(4);
    expect(byMrr.scores[0]!.mrr).toBeCloseTo(10 / 24, 12);
    expect(byMrr.scores[1]!.mrr).toBeCloseTo(11 / 24, 12);
    expect(byMrr.chosen.name).toBe('A');
    expect(byMrr.best.mrr).toBeCloseTo(11 / 24, 12);
    // The runner-up is reported for a soft choice.
    expect(byMrr.second?.chosen.name).toBe('B');
    expect(byMrr.second?.score).toBe(byMrr.scores[0]);
  });

  it('on planted data: deterministic for a seed, every mrr within [nscb, 1], the winner has the highest mrr', () => {
    const P = planted({ batches: 3, perBatch: 24, features: 5, controls: 6, classes: 3, seed: 2 });
    const fitRows = Array.from({ length: P.X.rows }, (_, i) => i).filter((i) => !P.isControl[i]);
    const mk = (seed: number) => selectByInnerCv({
      candidates: [B.raw!, B['lda-proj']!, B['lda-proj-clip-uncentred']!], X: P.X, fitRows, labels: fitRows.map((i) => P.label[i]!), compounds: P.compound,
      batches: P.batch, controlLabels: ['DMSO'], innerFolds: 3, seed, criterion: 'mrr-b',
      corrections: { names: ['none'], correct: (_k, rows) => takeRows(P.X, rows) },
      fit: (c, Xs, rows, labs, ctx) => fitRepresentation(c, Xs, rows, labs, 0, 'auto', ctx).transform,
    });
    const a = mk(3);
    expect(mk(3)).toEqual(a);
    for (const s of a.scores) expect(s.mrr >= s.nscb && s.mrr <= 1).toBe(true);
    expect(a.best.mrr).toBe(Math.max(...a.scores.map((s) => s.mrr)));
  });
});

describe('evaluate: mrr-b, fused top two, control centring', () => {
  const cols = { labelCol: 'Metadata_moa', groupCol: 'Metadata_compound', batchCol: 'Metadata_batch', inSample: false, dataLevel: false, nullSize: 20 };
  const sel = (name: string, candidates: string[], corrections: NonNullable<RepresentationSpec['select']>['corrections'], extra: Partial<NonNullable<RepresentationSpec['select']>> = {}): RepresentationSpec =>
    ({ name, kind: 'select', select: { candidates, corrections, innerFolds: 3, criterion: 'mrr-b', ...extra } });

  it('folds.csv reports the chosen pair, its inner NSC, NSCB and reciprocal rank; deterministic for a seed', () => {
    const p = plantedProfiles();
    const s = sel('sel-mrr', ['raw', 'lda-proj'], [{ name: 'none' }, { name: 'combat', method: 'combat' }]);
    const run = () => evaluate(p, { ...cols, metrics: ['nsc', 'nscb'], split: 'kfold', folds: 3, seeds: [2], representations: [s] });
    const a = run();
    expect(run().folds).toEqual(a.folds.map((f) => ({ ...f, seconds: expect.any(Number) })));
    const csv = foldsCsv(a).trim().split('\n');
    expect(csv[0]).toBe('representation,seed,fold,held_out,queries,nsc,nscb,map_consistency,seconds,chosen,inner_nsc,chosen_correction,inner_nscb,inner_mrr');
    a.folds.forEach((f, t) => {
      const cells = csv[t + 1]!.split(',');
      expect(f.innerMrr! >= f.innerNscb! && f.innerMrr! <= 1).toBe(true);
      expect([cells[9], cells[11], Number(cells[12]), Number(cells[13])]).toEqual([f.chosen, f.chosenCorrection, f.innerNscb, f.innerMrr]);
    });
    // Other criteria leave the column empty.
    const plain = evaluate(p, { ...cols, metrics: ['nsc'], split: 'loco', onlyFolds: ['loco:c0_0'], representations: [{ ...s, select: { ...s.select!, criterion: 'nscb' } }] });
    expect(foldsCsv(plain).trim().split('\n')[1]!.split(',')[13]).toBe('');
  });

  it('fused top two with one correction equals the fixed ensemble of the two learners on that correction', () => {
    const p = plantedProfiles();
    const metrics = ['nsc', 'nscb', 'map-consistency'] as const;
    const fused = evaluate(p, { ...cols, metrics: [...metrics], split: 'loco', representations: [sel('fused', ['lda-proj', 'lda-proj-clip'], [{ name: 'combat', method: 'combat' }], { fuseTopTwo: true })] });
    const ens: RepresentationSpec = { name: 'ens', kind: 'ensemble', ensemble: [B['lda-proj']!, B['lda-proj-clip']!] };
    const fixed = evaluate(p, { ...cols, metrics: [...metrics], split: 'loco', representations: [ens], correction: { method: 'combat' } });
    expect(fused.folds.map((f) => [f.nsc, f.nscb])).toEqual(fixed.folds.map((f) => [f.nsc, f.nscb]));
    fused.folds.forEach((f, t) => expect(f.mapConsistency).toBeCloseTo(fixed.folds[t]!.mapConsistency, 10));
    for (const f of fused.folds) {
      expect(f.chosenCorrection).toBe('combat+combat');
      expect(['lda-proj+lda-proj-clip', 'lda-proj-clip+lda-proj']).toContain(f.chosen);
    }
  });

  it("the 'center' candidate (sphering with shrinkage 1) is per-batch centring on the controls, up to one scale", () => {
    const p = plantedProfiles();
    const batch = metaStrings(p, 'Metadata_batch'), moa = metaStrings(p, 'Metadata_moa');
    const ctl = Uint8Array.from(moa, (m) => (m === 'DMSO' ? 1 : 0));
    const Y = correctProfiles(p, { method: 'sphere', batchCol: 'Metadata_batch', controls: ctl, options: { shrinkage: 1 } }).profiles.X as Matrix;
    const X = p.X as Matrix, d = X.cols;
    const mean = new Map<string, Float64Array>(), count = new Map<string, number>();
    for (let i = 0; i < X.rows; i++) {
      if (!ctl[i]) continue;
      const m = mean.get(batch[i]!) ?? new Float64Array(d);
      for (let j = 0; j < d; j++) m[j] += X.data[i * d + j]!;
      mean.set(batch[i]!, m);
      count.set(batch[i]!, (count.get(batch[i]!) ?? 0) + 1);
    }
    const scale = Y.data[0]! / (X.data[0]! - mean.get(batch[0]!)![0]! / count.get(batch[0]!)!);
    expect(scale).toBeGreaterThan(0);
    for (let i = 0; i < X.rows; i++) {
      const m = mean.get(batch[i]!)!, n = count.get(batch[i]!)!;
      for (let j = 0; j < d; j++) expect(Y.data[i * d + j]!).toBeCloseTo(scale * (X.data[i * d + j]! - m[j]! / n), 9);
    }
    expect(B['select-corrected-center-mrr']!.select!.corrections!.map((c) => c.name)).toEqual(['none', 'center', 'sphere', 'combat', 'harmony']);
  });
});

describeShared('mrr-b on BBBC021', Object.values(BBBC021_FILES).map((f) => `data/${f}`), () => {
  let profiles: Profiles;
  beforeAll(async () => {
    profiles = (await bbbc021Recipe(join(sharedRoot, 'data'))).profiles;
  });

  it('taxol fold: the evaluation reports the inner winner by reciprocal rank, graded above its 0/1 NSCB', () => {
    const c = { labelCol: 'Metadata_moa', groupCol: 'Metadata_compound', doseCol: 'Metadata_concentration', batchCol: 'Metadata_batch', controlLabels: ['DMSO'], inSample: false, dataLevel: false, nullSize: 20 };
    const learners = ['lda-proj', 'lda-proj-clip', 'lda-proj-clip-uncentred'];
    const spec: RepresentationSpec = { name: 'mrr-none', kind: 'select', select: { candidates: learners, corrections: [{ name: 'none' }], innerFolds: 3, criterion: 'mrr-b' } };
    const r = evaluate(profiles, { ...c, metrics: ['nsc', 'nscb'], split: 'loco', representations: [spec], onlyFolds: ['loco:taxol'] });
    const f = r.folds[0]!;
    // The same inner choice by hand on the outer training side's labelled rows (uncorrected).
    const p = normaliseForEvaluation(profiles, 'zscore').profiles;
    const moa = metaStrings(p, 'Metadata_moa'), comp = metaStrings(p, 'Metadata_compound');
    const fitRows = Array.from({ length: p.X.rows }, (_, i) => i).filter((i) => moa[i] && moa[i] !== 'DMSO' && comp[i] !== 'taxol');
    const hand = selectByInnerCv({
      candidates: learners.map((l) => B[l]!), X: p.X, fitRows, labels: fitRows.map((i) => moa[i]!), compounds: comp,
      doses: metaStrings(p, 'Metadata_concentration'), batches: metaStrings(p, 'Metadata_batch'), controlLabels: ['DMSO'], innerFolds: 3, seed: 0, criterion: 'mrr-b',
      fit: (s, Xs, rows, labs, ctx) => fitRepresentation(s, Xs, rows, labs, 0, 'auto', ctx).transform,
    });
    expect(f.chosenCorrection).toBe('none');
    expect(f.chosen).toBe(hand.chosen.name);
    expect([f.innerNsc, f.innerNscb, f.innerMrr]).toEqual([hand.best.nsc, hand.best.nscb, hand.best.mrr]);
    // Graded: every candidate gets partial credit for some inner NSCB misses (the 0/1 hit would give mrr = nscb).
    for (const s of hand.scores) expect(s.mrr).toBeGreaterThan(s.nscb + 0.005);
    expect(new Set(hand.scores.map((s) => s.mrr)).size).toBe(learners.length);
  }, 60_000);
});
