import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readProfiles } from '../../src/io/read.js';
import { runWorkflow } from '../../src/pipeline/run.js';
import { presetParameters } from '../../src/pipeline/params.js';
import { answerCompound, openCompoundIndex, queryCompounds, type CompoundIndex } from '../../src/repurpose/answer.js';
import { compoundRow } from '../../src/repurpose/similarity.js';
import { answersToCsv, ANSWER_CSV_COLUMNS, formatAnswer } from '../../src/repurpose/format.js';
import { CompoundNames } from '../../src/repurpose/names.js';
import { syntheticTable, HOSTILE } from './synthetic.js';

const silentParams = () => {
  const p = presetParameters('default', 'Metadata_label');
  p.representations = ['raw', 'pca'];
  p.pca = 5;
  p.idCols = ['Metadata_compound'];
  return p;
};

let dir: string;
let run: string;
let index: CompoundIndex;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'phenomap-repurpose-'));
  run = join(dir, 'run');
  await runWorkflow(syntheticTable(dir, 'plate.csv'), run, silentParams());
  index = await openCompoundIndex(run, { nullSize: 2000 });
}, 60_000);

/** Cosine AP of one well against the compound's other wells (positives) and the controls, by hand. */
function handAp(X: { rows: number; cols: number; data: Float64Array }, q: number, pos: number[], neg: number[]): number {
  const cos = (a: number, b: number) => {
    let s = 0, na = 0, nb = 0;
    for (let j = 0; j < X.cols; j++) {
      const x = X.data[a * X.cols + j]!, y = X.data[b * X.cols + j]!;
      s += x * y; na += x * x; nb += y * y;
    }
    return s / Math.sqrt(na * nb);
  };
  const cand = [...pos.map((i) => ({ s: cos(q, i), rel: 1 })), ...neg.map((i) => ({ s: cos(q, i), rel: 0 }))].sort((a, b) => b.s - a.s);
  let tp = 0, sum = 0;
  cand.forEach((c, k) => { if (c.rel) { tp++; sum += tp / (k + 1); } });
  return sum / tp;
}

describe('compound answers on a planted table', () => {
  it('calls activity against the negative controls: active, indistinguishable, one replicate', () => {
    const ctx = index.context();
    expect(ctx.controls).toEqual({ rule: 'Metadata_compound is DMSO / vehicle', wells: 24, used: 24 });
    expect(ctx.wellsFrom).toBe('run directory');
    const a = answerCompound(index, 'a');
    expect(a.status).toBe('ok');
    expect(a.compound).toBe('A');
    expect(a.activity!.status).toBe('active');
    expect(a.reliable).toBe(true);
    expect(a.verdict).toMatch(/^A is ACTIVE/);
    expect(a.treatments).toEqual([{ dose: '1', wells: 2 }, { dose: '10', wells: 2 }]);
    // mAP = mean of the hand-computed APs of A's four wells.
    const w = index.wells;
    const rows = w.compound.map((c, i) => (c === 'A' ? i : -1)).filter((i) => i >= 0);
    const ctrl = w.compound.map((c, i) => (w.controls!.mask[i] ? i : -1)).filter((i) => i >= 0);
    const expected = rows.reduce((s, q) => s + handAp(w.X, q, rows.filter((r) => r !== q), ctrl), 0) / rows.length;
    expect(a.activity!.map).toBeCloseTo(expected, 12);
    expect(a.activity!.p).toBeLessThan(0.01);

    const d = answerCompound(index, 'D');
    expect(d.activity!.status).toBe('inactive');
    expect(d.reliable).toBe(false);
    expect(d.verdict).toMatch(/^D is INDISTINGUISHABLE FROM NEGATIVE CONTROLS/);
    expect(d.verdict).toMatch(/UNRELIABLE/);
    expect(formatAnswer(d)).toMatch(/UNRELIABLE — nearest compounds/);

    const e = answerCompound(index, 'E');
    expect(e.status).toBe('ok');
    expect(e.activity!.status).toBe('not-called');
    expect(e.activity!.reason).toMatch(/one replicate well/);
    expect(e.reliable).toBeNull();
    expect(e.verdict).toMatch(/^E: NO ACTIVITY CALL/);
    // BH family = the compounds with ≥ 2 wells (A, B, C, D, Alpha-1, Alpha-2, the hostile one).
    expect(ctx.compoundsCalled).toBe(7);
  });

  it('ranks distinct compounds: A finds B first, with percentile and p against the pairs not involving A', () => {
    const a = answerCompound(index, 'A', { k: 3 });
    expect(a.neighbours.map((n) => n.compound)[0]).toBe('B');
    expect(new Set(a.neighbours.map((n) => n.compound)).size).toBe(3);
    expect(a.neighbours.every((n) => n.compound !== 'A' && n.compound !== 'DMSO')).toBe(true);
    const b = a.neighbours[0]!;
    expect(b.sharedAnnotations).toEqual({ label: ['mito'], target: ['T2'] });
    expect(b.activity.status).toBe('active');
    // The null by brute force: max-over-doses similarity of every pair of compounds other than A.
    const s = index.space('raw');
    const names = s.space.compounds;
    const ia = names.indexOf('A');
    const nul: number[] = [];
    for (let x = 0; x < names.length; x++) {
      if (x === ia) continue;
      const row = compoundRow(s.space, x);
      for (let y = x + 1; y < names.length; y++) if (y !== ia) nul.push(Math.max(row[y]!.similarity, compoundRow(s.space, y)[x]!.similarity));
    }
    const ge = nul.filter((v) => v >= b.similarity - 1e-12).length;
    expect(b.p).toBeCloseTo((ge + 1) / (nul.length + 1), 12);
    expect(b.percentile).toBeCloseTo((100 * (nul.length - ge)) / nul.length, 9);
    for (let t = 1; t < a.neighbours.length; t++) expect(a.neighbours[t]!.similarity).toBeLessThanOrEqual(a.neighbours[t - 1]!.similarity);
  });

  it('a sampled null gives nearly the same p as the exact one', async () => {
    const sampled = await openCompoundIndex(run, { nullSize: 200, maxNullPairs: 20, seed: 3 });
    expect(sampled.context().nullExact).toBe(false);
    expect(sampled.context().nullPairs).toBe(20);
    const nb = answerCompound(sampled, 'A').neighbours[0]!;
    expect(nb.compound).toBe('B');
    expect(nb.p).toBeLessThan(0.3);
  });

  it('reports the community at compound level with its enrichment', () => {
    const c = answerCompound(index, 'C').community!;
    expect(c.representation).toBe('raw');
    expect(c.queryWells).toBe(4);
    expect(c.queryWellsInCommunity).toBeGreaterThan(0);
    expect(c.profiles).toBeGreaterThanOrEqual(c.queryWellsInCommunity);
    expect(c.compounds.every((x) => x.compound !== 'C')).toBe(true);
    for (const e of c.enrichment) expect(e.p).toBeGreaterThan(0);
    const d = answerCompound(index, 'D', { representation: 'pca' });
    expect(d.representation).toBe('pca');
    expect(d.community!.representation).toBe('pca');
  });

  it('names: close names when absent, candidates when ambiguous, controls are not treatments', () => {
    const nf = answerCompound(index, 'Alfa-1x');
    expect(nf.status).toBe('not-found');
    expect(nf.suggestions![0]).toBe('Alpha-1');
    expect(nf.neighbours).toEqual([]);
    const amb = answerCompound(index, 'alpha');
    expect(amb.status).toBe('ambiguous');
    expect(amb.candidates).toEqual(['Alpha-1', 'Alpha-2']);
    expect(amb.verdict).toMatch(/matches 2 compounds/);
    expect(answerCompound(index, 'dmso').status).toBe('control');
    expect(answerCompound(index, HOSTILE).compound).toBe(HOSTILE);
    const names = new CompoundNames(['BRD-K12345678-001-05-5', 'BRD-K12345678-003-01-1', 'BRD-A00000001-001-01-1']);
    expect(names.match('BRD-K12345678')).toEqual({ status: 'ambiguous', candidates: ['BRD-K12345678-001-05-5', 'BRD-K12345678-003-01-1'], how: 'Broad id prefix' });
    expect(names.match('brd-a00000001-001-99-9')).toEqual({ status: 'found', compound: 'BRD-A00000001-001-01-1', how: 'Broad id prefix' });
  });

  it('CSV: one row per neighbour, hostile names quoted', () => {
    const csv = answersToCsv([answerCompound(index, 'A', { k: 4 }), answerCompound(index, 'zzz'), answerCompound(index, HOSTILE, { k: 1 })]);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(ANSWER_CSV_COLUMNS.join(','));
    expect(lines.length).toBe(1 + 4 + 1 + 1);
    expect(csv).toContain('"</script><img src=x onerror=""window.__pwned=1"">"');
  });
});

describe('where the negative controls come from', () => {
  it('from the input table when the run left them out (unlabelled DMSO), z-scored as the run did', async () => {
    const file = syntheticTable(dir, 'unlabelled.csv', { unlabelledControls: true });
    const out = join(dir, 'run-unlabelled');
    await runWorkflow(file, out, silentParams());
    const { context, answers } = await queryCompounds(out, ['A', 'D'], { nullSize: 500 });
    expect(context.wellsFrom).toBe(file);
    expect(context.controls!.wells).toBe(24);
    expect(context.controls!.rule).toBe('Metadata_compound is DMSO / vehicle');
    expect(context.centredOnControls).toBe(true);
    expect(answers[0]!.activity!.active).toBe(true);
    expect(answers[1]!.activity!.active).toBe(false);
    // A table that is not the run's input is refused.
    const other = syntheticTable(dir, 'other.csv', { unlabelledControls: true, seed: 99 });
    await expect(openCompoundIndex(out, { profiles: other })).rejects.toThrow(/does not reproduce the run's z-scored profile/);
    // An explicit control query.
    const q = await queryCompounds(out, ['A'], { nullSize: 200, controls: 'Metadata_compound == DMSO' });
    expect(q.context.controls!.rule).toBe('Metadata_compound == DMSO');
  });

  it('no negative controls in the table: says so, no activity call, neighbours still ranked', async () => {
    const file = syntheticTable(dir, 'nocontrols.csv', { controls: false });
    const out = join(dir, 'run-nocontrols');
    await runWorkflow(file, out, silentParams());
    const { context, answers } = await queryCompounds(out, ['A'], { nullSize: 200 });
    expect(context.controls).toBeNull();
    expect(context.noControlsReason).toMatch(/no negative-control wells in .*nocontrols\.csv/);
    const a = answers[0]!;
    expect(a.activity!.status).toBe('not-called');
    expect(a.verdict).toMatch(/NO ACTIVITY CALL — no activity call: no negative-control wells/);
    expect(a.reliable).toBeNull();
    expect(a.neighbours[0]!.compound).toBe('B');
    expect(a.notes.join(' ')).toMatch(/not their changes from control/);
  });

  it('a run from memory without controls and without an input table points to --profiles', async () => {
    const { profiles } = await readProfiles(syntheticTable(dir, 'mem.csv', { unlabelledControls: true }));
    const out = join(dir, 'run-mem');
    await runWorkflow(profiles, out, silentParams());
    const { context } = await queryCompounds(out, ['A'], { nullSize: 200 });
    expect(context.noControlsReason).toMatch(/records no input table; pass --profiles/);
    const again = await queryCompounds(out, ['A'], { nullSize: 200, profiles });
    expect(again.context.controls!.wells).toBe(24);
  });
});
