/** Candidates relative to the query's batch (evaluate's `candidateBatch`, splits.ts `candidateRows`). */
import { describe, expect, it } from 'vitest';
import type { Profiles } from '../../src/io/profiles.js';
import { fromRows } from '../../src/linalg/index.js';
import { candidateRows, makeSplits, type Fold } from '../../src/evaluate/splits.js';
import { BUILTIN_REPRESENTATIONS as B, evaluate } from '../../src/evaluate/protocol.js';
import { planted } from '../batch/planted.js';

describe('candidateRows: which rows may be candidates', () => {
  // The leave-batch-out toy of splits.test.ts: c2 spans b1 and b2; DMSO on every batch; c6 has no batch.
  const rows: [string, string, string | null][] = [
    ['c0', 'm0', 'b1'], ['c0', 'm0', 'b1'], ['c1', 'm1', 'b1'], ['c2', 'm0', 'b1'], ['c2', 'm0', 'b2'],
    ['c3', 'm1', 'b2'], ['c4', 'm0', 'b2'], ['c5', 'm1', 'b3'], ['DMSO', 'DMSO', 'b1'], ['DMSO', 'DMSO', 'b2'], ['DMSO', 'DMSO', 'b3'],
    ['c6', 'm1', null],
  ];
  const groups = rows.map((r) => r[0]), labels = rows.map((r) => r[1]), batches = rows.map((r) => r[2]);
  // As evaluate passes them: controls have no group.
  const split = groups.map((g) => (g === 'DMSO' ? null : g));

  it('leave-batch-out b1: same = the held-out batch, others = the training side (never the rows on neither side), all = both', () => {
    const b1 = makeSplits({ kind: 'leave-batch-out', groups, labels, batches, controlGroups: ['DMSO'] })[0]!;
    expect(Array.from(b1.test)).toEqual([0, 1, 2, 3, 8]);
    expect(Array.from(b1.train)).toEqual([5, 6, 7, 9, 10, 11]); // row 4 (c2 on b2) on neither side
    expect(Array.from(candidateRows(b1, batches, split, 'b1', 'same'))).toEqual([0, 1, 2, 3, 8]);
    expect(Array.from(candidateRows(b1, batches, split, 'b1', 'others'))).toEqual([5, 6, 7, 9, 10, 11]);
    expect(Array.from(candidateRows(b1, batches, split, 'b1', 'all'))).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('a compound split: both sides; a compound of the query\'s batch only by its rows there; no batch = a batch of its own', () => {
    // c2 held out (row 3 on b1, row 4 on b2), everything else training.
    const fold: Fold = { name: 'loco:c2', test: Int32Array.from([3, 4]), train: Int32Array.from([0, 1, 2, 5, 6, 7, 8, 9, 10, 11]), heldOutGroups: ['c2'] };
    // Queries on b1 (c0, c1, c2 are on b1): c2's row on b2 is no candidate of theirs, as under leave-batch-out.
    expect(Array.from(candidateRows(fold, batches, split, 'b1', 'same'))).toEqual([0, 1, 2, 3, 8]);
    expect(Array.from(candidateRows(fold, batches, split, 'b1', 'others'))).toEqual([5, 6, 7, 9, 10, 11]);
    expect(Array.from(candidateRows(fold, batches, split, 'b1', 'all'))).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11]);
    // Queries on b2 (c2, c3, c4): c2's row on b1 is left out; controls (no group) stay.
    expect(Array.from(candidateRows(fold, batches, split, 'b2', 'same'))).toEqual([4, 5, 6, 9]);
    expect(Array.from(candidateRows(fold, batches, split, 'b2', 'others'))).toEqual([0, 1, 2, 7, 8, 10, 11]);
    expect(Array.from(candidateRows(fold, batches, split, null, 'same'))).toEqual([11]);
    expect(() => candidateRows(fold, batches, split, 'b1', 'any' as 'all')).toThrow(/unknown candidate rule "any"/);
  });
});

/**
 * Two plates, two MoAs, two compounds of each per plate, two wells each. On P2 the MoAs' two
 * features are swapped (a plate that inverts the signal), so after the z-score a compound looks
 * like its own MoA on its own plate and like the other MoA on the other plate (cosine ±1, with
 * a small jitter breaking ties). By hand, with raw profiles: candidates on the same plate → every
 * query finds its MoA (NSC 1, AP 1); on the other plate → never (NSC 0; both positives rank below
 * both negatives, AP = (1/3 + 2/4) / 2 = 5/12).
 */
function swappedPlates(plates = ['P1', 'P2']): Profiles {
  const X: number[][] = [], moa: string[] = [], cpd: string[] = [], plate: string[] = [];
  let k = 0;
  for (const [p, pl] of plates.entries()) {
    for (const m of ['A', 'B']) {
      for (const c of [1, 2]) {
        for (let w = 0; w < 2; w++) {
          const hi = (m === 'A') === (p === 0) ? 0 : 1;
          const jitter = 0.001 * (k++ % 7);
          X.push([hi === 0 ? 1 + jitter : jitter, hi === 1 ? 1 + jitter : jitter, ((k * 37) % 11) / 11]);
          moa.push(m);
          cpd.push(`${m}${c}-${pl}`);
          plate.push(pl);
        }
      }
    }
  }
  return {
    features: ['f0', 'f1', 'f2'], X: fromRows(X), source: 'swapped plates',
    meta: [
      { name: 'moa', kind: 'string', values: moa }, { name: 'compound', kind: 'string', values: cpd }, { name: 'plate', kind: 'string', values: plate },
    ],
  };
}
const base = { labelCol: 'moa', groupCol: 'compound', batchCol: 'plate', inSample: false, dataLevel: false, nullSize: 10, representations: [B.raw!] };

describe('evaluate with a candidate rule', () => {
  for (const split of ['leave-batch-out', 'loco'] as const) {
    it(`${split}: same plate NSC 1 / mAP 1, other plate NSC 0 / mAP 5/12 (hand-checked)`, () => {
      const run = (rule: 'same' | 'others') => evaluate(swappedPlates(), { ...base, split, candidateBatch: rule, metrics: ['nsc', 'map-consistency'] });
      const same = run('same'), others = run('others');
      expect(same.options.candidateBatch).toBe('same');
      expect(same.representations[0]!.metrics.nsc!.mean).toBe(1);
      expect(same.representations[0]!.metrics['map-consistency']!.mean).toBeCloseTo(1, 12);
      expect(others.representations[0]!.metrics.nsc!.mean).toBe(0);
      expect(others.representations[0]!.metrics['map-consistency']!.mean).toBeCloseTo(5 / 12, 12);
      // Every one of the 8 compounds is a query exactly once.
      expect(same.folds.reduce((a, f) => a + f.queries, 0)).toBe(8);
    });
  }

  it('leave-batch-out with "others" gives the default protocol\'s figures, fold by fold', () => {
    const P = planted({ batches: 3, perBatch: 30, features: 6, controls: 8, classes: 3, seed: 5 });
    const p: Profiles = {
      features: Array.from({ length: P.X.cols }, (_, j) => `f${j}`), X: P.X, source: 'planted',
      meta: [{ name: 'moa', kind: 'string', values: P.label }, { name: 'compound', kind: 'string', values: P.compound }, { name: 'plate', kind: 'string', values: P.batch }],
    };
    const run = (rule?: 'others') => evaluate(p, { ...base, representations: [B['lda-proj']!], split: 'leave-batch-out', candidateBatch: rule, metrics: ['nsc', 'nscb', 'map-consistency'] })
      .folds.map((f) => [f.fold, f.queries, f.nsc, f.nscb, f.mapConsistency]);
    expect(run('others')).toEqual(run());
  });

  it('raw profiles (nothing learned): every rule gives the same figures under a compound split and under leave-batch-out', () => {
    // Two compounds of each class per plate (row parity); c<k>_0* on B1, c<k>_1* on B2 and B3: compounds span plates.
    const P = planted({ batches: 3, perBatch: 30, features: 6, controls: 8, classes: 3, seed: 5 });
    const p: Profiles = {
      features: Array.from({ length: P.X.cols }, (_, j) => `f${j}`), X: P.X, source: 'planted',
      meta: [
        { name: 'moa', kind: 'string', values: P.label }, { name: 'compound', kind: 'string', values: P.compound.map((c, i) => (c === 'DMSO' ? c : `${c.replace(/_2$/, '_1')}${i % 2 ? 'a' : 'b'}`)) },
        { name: 'plate', kind: 'string', values: P.batch },
      ],
    };
    for (const rule of ['same', 'others', 'all'] as const) {
      const m = (split: 'loco' | 'leave-batch-out') => {
        const s = evaluate(p, { ...base, split, candidateBatch: rule, controlLabels: ['DMSO'], metrics: ['nsc', 'map-consistency'] }).representations[0]!.metrics;
        return [s.nsc!.mean, s['map-consistency']!.mean];
      };
      const [a, b] = [m('loco'), m('leave-batch-out')];
      expect(a[0]).toBe(b[0]);
      expect(a[1]).toBeCloseTo(b[1]!, 12);
    }
  });

  it('bad input: one plate, no batch column, an unknown rule', () => {
    expect(() => evaluate(swappedPlates(['P1']), { ...base, split: 'loco', candidateBatch: 'same', metrics: ['nsc'] }))
      .toThrow(/candidate rule "same": column plate has 1 batch value\(s\) \("P1"\); a rule relative to the query's batch needs at least 2/);
    expect(() => evaluate(swappedPlates(), { ...base, batchCol: undefined, split: 'loco', candidateBatch: 'others', metrics: ['nsc'] }))
      .toThrow(/candidates on the other batches need --batch-col/);
    expect(() => evaluate(swappedPlates(), { ...base, split: 'loco', candidateBatch: 'near' as 'same', metrics: ['nsc'] })).toThrow(/unknown candidate rule "near"/);
  });
});
