/**
 * Inner leave-one-compound-out under an outer leave-one-compound-out split: the two outer folds of
 * a pair of compounds share the inner fits on every compound but the two (evaluate/select.ts
 * `pairShare`, InnerPairTable). The choices and inner scores must be what each fold computes alone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Profiles } from '../../src/io/profiles.js';
import { subsetRows } from '../../src/io/profiles.js';
import { takeRows } from '../../src/linalg/index.js';
import { BUILTIN_REPRESENTATIONS as B, evaluate, fitRepresentation, runFoldTask, type EvaluateOptions, type FoldOutput, type RepresentationSpec } from '../../src/evaluate/protocol.js';
import { InnerPairTable, selectByInnerCv, TALLY_FIELDS, type InnerPairShare } from '../../src/evaluate/select.js';
import { correctProfiles } from '../../src/batch/profiles.js';
import { bbbc021Recipe, BBBC021_FILES } from '../../src/io/recipes.js';
import { describeShared, sharedRoot } from '../helpers/shared.js';
import { planted, plantedProfiles } from '../batch/planted.js';

describe('InnerPairTable', () => {
  it('a slot is empty until given, then holds exactly the numbers given (first writer wins); shapes are checked', () => {
    const t = new InnerPairTable(3, 2);
    expect(t.take(0, 1)).toBeUndefined();
    t.give(0, 1, Float64Array.from([0.1, 2]));
    expect(Array.from(t.take(0, 1)!)).toEqual([0.1, 2]);
    expect(t.take(1, 0)).toBeUndefined();
    t.give(0, 1, Float64Array.from([5, 5]));
    expect(Array.from(t.take(0, 1)!)).toEqual([0.1, 2]);
    // Another view of the same buffer (as a worker thread has) sees the same slots.
    const u = new InnerPairTable(3, 2, t.buffer);
    expect(Array.from(u.take(0, 1)!)).toEqual([0.1, 2]);
    expect(() => t.give(2, 2, new Float64Array(3))).toThrow(RangeError);
    expect(() => new InnerPairTable(4, 2, t.buffer)).toThrow(RangeError);
  });
});

describe('pair sharing in selectByInnerCv', () => {
  const P = planted({ batches: 3, perBatch: 30, features: 6, controls: 8, classes: 3, seed: 5 });
  const n = P.X.rows;
  const all = Array.from({ length: n }, (_, i) => i);
  const context = all.filter((i) => P.isControl[i]);
  // plantedProfiles() is this table with its metadata.
  const profiles = plantedProfiles();
  const methods = [undefined, 'combat', 'harmony'] as const;
  const outer = (a: string, share?: InnerPairShare, calls?: number[]) => {
    const fitRows = all.filter((i) => !P.isControl[i] && P.compound[i] !== a);
    return selectByInnerCv({
      candidates: [B['lda-proj']!, B.raw!], X: P.X, fitRows, labels: fitRows.map((i) => P.label[i]!), compounds: P.compound, batches: P.batch,
      controlLabels: ['DMSO'], innerFolds: 3, innerSplit: 'loco', seed: 0, criterion: 'mrr-b', contextRows: context, contextIsControl: context.map(() => true),
      pairShare: share,
      corrections: {
        names: ['none', 'combat', 'harmony'],
        correct: (k, rows, fit) => {
          calls?.push(k);
          const m = methods[k];
          if (!m) return takeRows(P.X, rows);
          return correctProfiles(subsetRows(profiles, rows), { method: m, batchCol: 'Metadata_batch', controls: Uint8Array.from(rows, (i) => P.isControl[i]!), fitRows: fit }).profiles.X;
        },
      },
      fit: (c, Xs, rows, labs, ctx) => fitRepresentation(c, Xs, rows, labs, 0, 'auto', ctx).transform,
    });
  };
  const compounds = [...new Set(P.compound.filter((c) => c !== 'DMSO'))];
  const shareOf = (table: InnerPairTable, a: string): InnerPairShare => {
    const idx = (g: string) => compounds.indexOf(g);
    const rows = all.filter((i) => P.compound[i] === a);
    return {
      heldOutRows: rows, heldOutLabels: rows.map((i) => P.label[i]!),
      take: (g) => table.take(idx(a), idx(g)), give: (g, v) => table.give(idx(g), idx(a), v),
    };
  };

  it('the fold that meets a pair second takes its inner scores instead of refitting, and every fold chooses and scores as alone', () => {
    const table = new InnerPairTable(compounds.length, 3 * 2 * TALLY_FIELDS);
    const [a, b, c] = compounds as [string, string, string];
    const alone = [a, b, c].map((x) => outer(x));
    const callsA: number[] = [], callsB: number[] = [], callsC: number[] = [];
    const shared = [outer(a, shareOf(table, a), callsA), outer(b, shareOf(table, b), callsB), outer(c, shareOf(table, c), callsC)];
    expect(shared).toEqual(alone);
    // Inner folds: one per other compound. a fits them all; b takes (b, a); c takes (c, a) and (c, b).
    const inner = compounds.length - 1;
    expect(callsA.length).toBe(3 * inner);
    expect(callsB.length).toBe(3 * (inner - 1));
    expect(callsC.length).toBe(3 * (inner - 2));
    // The scores that were handed over are the partner's own: b alone at its inner fold a.
    expect(table.take(compounds.indexOf(b), compounds.indexOf(a))).toBeDefined();
  });

  it('without context rows in some batch (an inner fit could meet an unseen batch) nothing is shared', () => {
    const table = new InnerPairTable(compounds.length, 3 * 2 * TALLY_FIELDS);
    const a = compounds[0]!;
    const fitRows = all.filter((i) => !P.isControl[i] && P.compound[i] !== a);
    const fewContext = context.filter((i) => P.batch[i] !== 'B3');
    const calls: number[] = [];
    selectByInnerCv({
      candidates: [B['lda-proj']!], X: P.X, fitRows, labels: fitRows.map((i) => P.label[i]!), compounds: P.compound, batches: P.batch,
      controlLabels: ['DMSO'], innerFolds: 3, innerSplit: 'loco', seed: 0, contextRows: fewContext, contextIsControl: fewContext.map(() => true),
      pairShare: shareOf(table, a),
      corrections: { names: ['none'], correct: (_k, rows) => { calls.push(rows.length); return takeRows(P.X, rows); } },
      fit: (s, Xs, rows, labs, ctx) => fitRepresentation(s, Xs, rows, labs, 0, 'auto', ctx).transform,
    });
    // The subset was not extended by the held-out rows, and no slot was filled.
    expect(new Set(calls)).toEqual(new Set([fitRows.length + fewContext.length]));
    for (let k = 0; k < compounds.length; k++) expect(table.take(k, 0)).toBeUndefined();
  });
});

describe('evaluate: inner leave-one-compound-out folds share their pairs', () => {
  const sel: RepresentationSpec = {
    name: 'sel-loco', kind: 'select',
    select: { candidates: ['lda-proj', 'raw'], corrections: [{ name: 'none' }, { name: 'sphere', method: 'sphere' }, { name: 'combat', method: 'combat' }, { name: 'harmony', method: 'harmony' }], innerFolds: 3, innerSplit: 'loco', criterion: 'nscb' },
  };
  const opts: EvaluateOptions = {
    labelCol: 'Metadata_moa', groupCol: 'Metadata_compound', batchCol: 'Metadata_batch', inSample: false, dataLevel: false, nullSize: 20,
    metrics: ['nsc', 'nscb', 'map-consistency'], split: 'loco', representations: [sel], threads: 1,
  };
  const strip = (f: { seconds: number }) => {
    const { seconds: _s, ...rest } = f;
    return rest;
  };

  it('every fold equals the fold run alone (no partner to share with); folds claimed by two "threads" in any order give the same', () => {
    const p = plantedProfiles();
    const r = evaluate(p, opts);
    expect(r.folds.length).toBe(9);
    for (const f of r.folds) {
      const alone = evaluate(p, { ...opts, onlyFolds: [f.fold] });
      expect(strip(alone.folds[0]!)).toEqual(strip(f));
    }
    // Two tasks over one table, as two worker threads: one claims the even folds, the other the
    // odd ones, each in its own order; every output is the single thread's.
    const table = new InnerPairTable(9, 4 * 2 * TALLY_FIELDS);
    const outs: FoldOutput[] = [];
    for (const order of [[8, 6, 4, 2, 0], [1, 3, 5, 7]]) {
      let k = 0;
      runFoldTask(p, opts, { rep: 0, seed: 0, pairs: table.buffer, claim: () => (k < order.length ? order[k++]! : 9), emit: (fi, o) => (outs[fi] = o) });
    }
    expect(outs.map((o) => strip(o.rec))).toEqual(r.folds.map(strip));
    // Pairs were handed over (between the two "threads" too: fold 1 meets fold 0's pair after it).
    let given = 0;
    for (let a = 0; a < 9; a++) for (let b = 0; b < 9; b++) if (table.take(a, b)) given++;
    expect(given).toBeGreaterThan(20);
  }, 60_000);
});

describeShared('pair sharing on BBBC021', Object.values(BBBC021_FILES).map((f) => `data/${f}`), () => {
  let profiles: Profiles;
  beforeAll(async () => {
    profiles = (await bbbc021Recipe(join(sharedRoot, 'data'))).profiles;
  });

  it('ComBat × lda-proj with inner leave-one-compound-out: two outer folds together equal each alone', () => {
    const sel: RepresentationSpec = {
      name: 'combat-loco', kind: 'select',
      select: { candidates: ['lda-proj'], corrections: [{ name: 'combat', method: 'combat' }], innerFolds: 3, innerSplit: 'loco', criterion: 'nscb' },
    };
    const o: EvaluateOptions = {
      labelCol: 'Metadata_moa', groupCol: 'Metadata_compound', doseCol: 'Metadata_concentration', batchCol: 'Metadata_batch', controlLabels: ['DMSO'],
      inSample: false, dataLevel: false, nullSize: 20, metrics: ['nsc', 'nscb'], split: 'loco', representations: [sel], threads: 1,
    };
    const only = ['loco:taxol', 'loco:AZ-J'];
    const both = evaluate(profiles, { ...o, onlyFolds: only });
    const alone = only.map((f) => evaluate(profiles, { ...o, onlyFolds: [f] }).folds[0]!);
    const fields = (f: (typeof alone)[number]) => [f.fold, f.chosen, f.chosenCorrection, f.innerNsc, f.innerNscb, f.nsc, f.nscb];
    expect(both.folds.map(fields)).toEqual(alone.map(fields));
  }, 60_000);
});
