/**
 * Issue 24's learner-variance and weak-supervision variants on a small real slice (cell-injury wells,
 * fs_well_holdout): the contrastive ensemble (`contrastive-ens5`, members seeded from the fold's
 * seed), its ensemble with lda-proj, the compound-supervised projection (`lda-proj-compound`,
 * `ensemble-lda-compound`) and the nested choice of the contrastive MLP's hyperparameters
 * (`select-contrastive`).
 */
import { beforeAll, expect, it } from 'vitest';
import { cellInjuryRecipe, CELL_INJURY_FILES } from '../../src/io/recipes.js';
import { metaStrings } from '../../src/io/profiles.js';
import { clone, normalizeRows, takeRows, type Matrix, type StoredMatrix } from '../../src/linalg/index.js';
import { BUILTIN_REPRESENTATIONS as B, fitRepresentation, memberSeed, normaliseForEvaluation, parseRepresentationList, type RepresentationSpec } from '../../src/evaluate/protocol.js';
import { selectByInnerCv } from '../../src/evaluate/select.js';
import { makeSplits } from '../../src/evaluate/splits.js';
import { Lda } from '../../src/represent/lda.js';
import { ContrastiveEmbedding } from '../../src/represent/contrastive.js';
import { RobustClipper } from '../../src/represent/clip.js';
import { InputError, UsageError } from '../../src/util/errors.js';
import { describeShared, sharedPath } from '../helpers/shared.js';

const file = `data/${CELL_INJURY_FILES.well}`;
/** Small networks, so that the test takes a second; the registry's other options are kept. */
const small = { hidden: 12, dim: 4, maxEpochs: 6, patience: 3 };
const shrink = (s: RepresentationSpec): RepresentationSpec => (s.kind === 'contrastive' ? { ...s, contrastive: { ...small, ...s.contrastive, maxEpochs: Math.min(s.contrastive?.maxEpochs ?? 6, 6) } } : s);

describeShared('issue-24 variants on a cell-injury slice', [file], () => {
  // Four injury types with several compounds each, 40 features: every class has positives.
  let X: Matrix;
  let labels: string[], compounds: string[], batches: string[];
  let train: number[], heldOut: number[];
  beforeAll(async () => {
    const p = normaliseForEvaluation((await cellInjuryRecipe(sharedPath(file)!)).profiles, 'zscore').profiles;
    const lab = metaStrings(p, 'Metadata_injury_type'), comp = metaStrings(p, 'Metadata_compound'), plate = metaStrings(p, 'Plate');
    const perType = new Map<string, Set<string>>();
    lab.forEach((l, i) => {
      if (!l || l === 'Control' || l === 'DMSO' || !comp[i]) return;
      perType.set(l, (perType.get(l) ?? new Set()).add(comp[i]!));
    });
    const types = [...perType].filter(([, s]) => s.size >= 4).map(([t]) => t).sort().slice(0, 4);
    const rows: number[] = [];
    lab.forEach((l, i) => {
      if (l && types.includes(l) && comp[i] && rows.filter((r) => comp[r] === comp[i]).length < 6) rows.push(i);
    });
    const all = takeRows(p.X, rows) as Matrix;
    X = { rows: all.rows, cols: 40, data: new Float64Array(all.rows * 40) };
    for (let i = 0; i < all.rows; i++) for (let j = 0; j < 40; j++) X.data[i * 40 + j] = all.data[i * all.cols + j]!;
    labels = rows.map((i) => lab[i]!);
    compounds = rows.map((i) => comp[i]!);
    batches = rows.map((i) => plate[i]!);
    // Held out: the first compound of each type.
    const first = new Set(types.map((t) => compounds[labels.indexOf(t)]!));
    train = [], heldOut = [];
    compounds.forEach((c, i) => (first.has(c) ? heldOut : train).push(i));
  });
  const ctxOf = (rows: number[]) => ({ groups: rows.map((i) => compounds[i]!), batches: rows.map((i) => batches[i]!) });
  /** X with every held-out row replaced: a fit that never reads them gives the same transform. */
  const poisoned = () => {
    const Y = clone(X);
    for (const i of heldOut) for (let j = 0; j < Y.cols; j++) Y.data[i * Y.cols + j] = 1e3 * ((i + j) % 3 - 1);
    return Y;
  };

  it('every new name parses', () => {
    const names = ['contrastive-ens5', 'ensemble-lda-contrastive5', 'lda-proj-compound', 'ensemble-lda-compound', 'select-contrastive',
      'contrastive-h64', 'contrastive-h256', 'contrastive-t01', 'contrastive-t05', 'contrastive-e40', 'select-corrected-map', 'select-corrected-map-top2',
      'select-corrected-mrr-top2-r3', 'select-corrected-map-top2-r3'];
    expect(parseRepresentationList(names.join(',')).map((s) => s.name)).toEqual(names);
    // The soft choice pooled over three inner splits: select-corrected-mrr-top2 with repeats, nothing else
    // (repeats: selectCorrection.test.ts; the fusion: selectMrr.test.ts).
    expect(B['select-corrected-mrr-top2-r3']!.select).toEqual({ ...B['select-corrected-mrr-top2']!.select, innerRepeats: 3 });
    expect(B['select-corrected-map-top2-r3']!.select).toEqual({ ...B['select-corrected-map-top2']!.select, innerRepeats: 3 });
  });

  it('lda-proj-compound is the shrinkage-LDA projection with compounds as classes (compounds − 1 directions); held-out rows unused', () => {
    const spec = B['lda-proj-compound']!;
    const tl = train.map((i) => labels[i]!);
    const Y = fitRepresentation(spec, X, train, tl, 0, 'auto', ctxOf(train)).transform(X);
    const nComp = new Set(train.map((i) => compounds[i]!)).size;
    const ref = new Lda({ shrinkage: 'auto', nComponents: nComp - 1 }).fit(takeRows(X, train), train.map((i) => compounds[i]!)).transform(X);
    expect(Y.cols).toBe(nComp - 1);
    expect(Y.cols).toBeGreaterThan(new Set(tl).size - 1);
    for (let t = 0; t < Y.data.length; t++) expect(Y.data[t]!).toBeCloseTo(ref.data[t]!, 9);
    expect(Array.from(fitRepresentation(spec, poisoned(), train, tl, 0, 'auto', ctxOf(train)).transform(X).data)).toEqual(Array.from(Y.data));
    // Its ensemble with lda-proj: both members unit-length, side by side.
    const E = fitRepresentation(B['ensemble-lda-compound']!, X, train, tl, 0, 'auto', ctxOf(train)).transform(X);
    const L = normalizeRows(fitRepresentation(B['lda-proj']!, X, train, tl, 0, 'auto', ctxOf(train)).transform(X) as Matrix);
    const C = normalizeRows(Y as Matrix);
    expect(E.cols).toBe(L.cols + C.cols);
    for (const i of [0, 7, heldOut[0]!]) {
      for (let j = 0; j < L.cols; j++) expect(E.data[i * E.cols + j]!).toBeCloseTo(L.data[i * L.cols + j]!, 12);
      for (let j = 0; j < C.cols; j++) expect(E.data[i * E.cols + L.cols + j]!).toBeCloseTo(C.data[i * C.cols + j]!, 12);
    }
    // Without the compounds, or with a row lacking one: clear errors.
    expect(() => fitRepresentation(spec, X, train, tl, 0)).toThrow(UsageError);
    const g = train.map((i) => compounds[i]!) as (string | null)[];
    g[3] = null;
    expect(() => fitRepresentation(spec, X, train, tl, 0, 'auto', { groups: g })).toThrow(InputError);
    expect(() => fitRepresentation(spec, X, train, tl, 0, 'auto', { groups: g })).toThrow(/training row 4 has no compound/);
  });

  it('contrastive-ens5: five nets seeded from the fold seed (member 0 = contrastive), unit-length side by side; deterministic; held-out rows unused', () => {
    const reg = B['contrastive-ens5']!;
    expect(reg.ensemble!.map((m) => m.seedOffset)).toEqual([0, 1, 2, 3, 4]);
    expect(reg.ensemble!.every((m) => m.kind === 'contrastive' && JSON.stringify(m.contrastive) === JSON.stringify(B.contrastive!.contrastive))).toBe(true);
    const spec: RepresentationSpec = { ...reg, ensemble: reg.ensemble!.map(shrink) };
    const tl = train.map((i) => labels[i]!);
    const seed = 3;
    const Y = fitRepresentation(spec, X, train, tl, seed, 'auto', ctxOf(train)).transform(X);
    // By hand: clipped as `contrastive` clips, each net with its derived seed.
    const clipper = new RobustClipper(B.contrastive!.clip).fit(takeRows(X, train));
    const Xc = clipper.transform(takeRows(X, train)), Xall = clipper.transform(X);
    const seeds = [0, 1, 2, 3, 4].map((k) => memberSeed(seed, k));
    expect(seeds[0]).toBe(seed);
    expect(new Set(seeds).size).toBe(5);
    const parts = seeds.map((s) => normalizeRows(new ContrastiveEmbedding({ ...B.contrastive!.contrastive, ...small, seed: s })
      .fit(Xc, tl, { groups: ctxOf(train).groups, batches: ctxOf(train).batches }).transform(Xall)));
    expect(Y.cols).toBe(5 * small.dim);
    for (let i = 0; i < X.rows; i++) {
      parts.forEach((P, k) => {
        for (let j = 0; j < P.cols; j++) expect(Y.data[i * Y.cols + k * P.cols + j]!).toBeCloseTo(P.data[i * P.cols + j]!, 12);
      });
    }
    // The nets differ (different starts), the same seed repeats, another fold seed changes them.
    expect(Array.from(parts[1]!.data)).not.toEqual(Array.from(parts[0]!.data));
    expect(Array.from(fitRepresentation(spec, poisoned(), train, tl, seed, 'auto', ctxOf(train)).transform(X).data)).toEqual(Array.from(Y.data));
    expect(Array.from(fitRepresentation(spec, X, train, tl, seed + 1, 'auto', ctxOf(train)).transform(X).data)).not.toEqual(Array.from(Y.data));
    // With lda-proj: ½ / ½ (the five nets' block is scaled to unit length as one member).
    const both: RepresentationSpec = { ...B['ensemble-lda-contrastive5']!, ensemble: [B['lda-proj']!, spec] };
    const E = fitRepresentation(both, X, train, tl, seed, 'auto', ctxOf(train)).transform(X);
    const L = normalizeRows(fitRepresentation(B['lda-proj']!, X, train, tl, seed, 'auto', ctxOf(train)).transform(X) as Matrix);
    expect(E.cols).toBe(L.cols + Y.cols);
    for (let i = 0; i < X.rows; i++) {
      for (let j = 0; j < L.cols; j++) expect(E.data[i * E.cols + j]!).toBeCloseTo(L.data[i * L.cols + j]!, 12);
      for (let j = 0; j < Y.cols; j++) expect(E.data[i * E.cols + L.cols + j]!).toBeCloseTo(Y.data[i * Y.cols + j]! / Math.sqrt(5), 12);
    }
  });

  it('select-contrastive: six configurations on the same inner compound folds, best inner NSC + mAP; no fit sees an inner or outer held-out compound', () => {
    const sel = B['select-contrastive']!.select!;
    expect(sel.candidates).toEqual(['contrastive', 'contrastive-h64', 'contrastive-h256', 'contrastive-t01', 'contrastive-t05', 'contrastive-e40']);
    expect([sel.criterion, sel.innerFolds]).toEqual(['nsc+map', 3]);
    // The registry's options, with small nets (the width variants keep their relative order).
    const cands = sel.candidates.map((c) => B[c]!).map((c) => ({ ...shrink(c), contrastive: { ...shrink(c).contrastive, hidden: (c.contrastive?.hidden ?? 128) / 8 } }));
    const tl = train.map((i) => labels[i]!);
    const outerHeld = new Set(heldOut.map((i) => compounds[i]!));
    const run = (Xin: StoredMatrix, seen: { name: string; compounds: Set<string> }[]) => selectByInnerCv({
      candidates: cands, X: Xin, fitRows: train, labels: tl, compounds, batches, controlLabels: ['DMSO', 'Control'], innerFolds: 3, seed: 1, criterion: 'nsc+map',
      fit: (c, Xs, rows, labs, ctx) => {
        seen.push({ name: c.name, compounds: new Set(ctx.groups.map((g) => g!)) });
        return fitRepresentation(c, Xs, rows, labs, 1, 'auto', ctx).transform;
      },
    });
    const seen: { name: string; compounds: Set<string> }[] = [];
    const r = run(X, seen);
    // The inner folds it must have used: 3-fold over the training compounds, seed 1.
    const inner = makeSplits({ kind: 'kfold', groups: train.map((i) => compounds[i]!), labels: tl, folds: 3, seed: 1 });
    expect(seen.length).toBe(inner.length * cands.length);
    inner.forEach((f, t) => {
      const innerTrain = new Set(Array.from(f.train, (s) => compounds[train[s]!]!));
      const innerHeld = new Set(Array.from(f.test, (s) => compounds[train[s]!]!));
      for (const s of seen.slice(t * cands.length, (t + 1) * cands.length)) {
        expect(s.compounds).toEqual(innerTrain);
        for (const c of s.compounds) expect(innerHeld.has(c) || outerHeld.has(c)).toBe(false);
      }
    });
    expect(r.scores.map((s) => s.name)).toEqual(sel.candidates);
    const key = (s: (typeof r.scores)[number]) => s.nsc + s.map;
    const best = Math.max(...r.scores.map(key));
    expect(r.chosen.name).toBe(r.scores.find((s) => key(s) === best)!.name);
    // Deterministic, and the outer held-out rows cannot change the choice or a score.
    expect(run(X, [])).toEqual(r);
    expect(run(poisoned(), [])).toEqual(r);
  });

  it('select-corrected-map: select-corrected\'s pairs ranked by inner NSC + MoA mAP; each correction fitted without the inner held-out compounds', () => {
    const s = B['select-corrected-map']!.select!;
    expect({ ...s, criterion: undefined }).toEqual({ ...B['select-corrected']!.select!, criterion: undefined });
    expect(s.criterion).toBe('nsc+map');
    // Its soft form differs only in fusing the best two pairs (the fusion itself: selectMrr.test.ts).
    expect(B['select-corrected-map-top2']!.select).toEqual({ ...s, fuseTopTwo: true });
    const tl = train.map((i) => labels[i]!);
    const calls: number[][] = [];
    const learners = ['lda-proj', 'lda-proj-clip'];
    const run = (Xin: StoredMatrix) => selectByInnerCv({
      candidates: learners.map((l) => B[l]!), X: Xin, fitRows: train, labels: tl, compounds, batches, controlLabels: ['DMSO', 'Control'],
      innerFolds: s.innerFolds!, seed: 2, criterion: s.criterion,
      corrections: {
        names: ['none', 'shifted'],
        // "shifted": a label-free per-row change a correction could make (its fit rows recorded).
        correct: (k, rows, fit) => {
          calls.push(Array.from(fit));
          const Y = takeRows(Xin, rows) as Matrix;
          if (k === 1) for (let i = 0; i < Y.rows; i++) Y.data[i * Y.cols] = 0;
          return Y;
        },
      },
      fit: (c, Xs, rows, labs, ctx) => fitRepresentation(c, Xs, rows, labs, 2, 'auto', ctx).transform,
    });
    const r = run(X);
    const inner = makeSplits({ kind: 'kfold', groups: train.map((i) => compounds[i]!), labels: tl, folds: 3, seed: 2 });
    expect(calls).toEqual(inner.flatMap((f) => [Array.from(f.train), Array.from(f.train)]));
    expect(r.scores.map((x) => x.name)).toEqual(['none/lda-proj', 'none/lda-proj-clip', 'shifted/lda-proj', 'shifted/lda-proj-clip']);
    const key = (x: (typeof r.scores)[number]) => x.nsc + x.map;
    expect(r.scores.every((x) => x.map > 0 && x.map <= 1)).toBe(true);
    const best = Math.max(...r.scores.map(key));
    expect(key(r.best)).toBe(best);
    expect(r.best).toBe(r.scores.find((x) => key(x) === best));
    expect(run(poisoned())).toEqual(r);
  });
});
