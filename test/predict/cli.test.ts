/** `phenomap predict evaluate|complete|train|rank` on small synthetic inputs written to a temp folder. */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/linalg/rng.js';
import { runCli, tempDir, tempFile } from '../io/helpers.js';

let dir: string;
const nCompounds = 60, nFeat = 8, nAssays = 4;
let profilesCsv: string, activityCsv: string, libraryCsv: string;

/**
 * Two replicate wells per compound; assay a is active when feature a (+ noise) is high, so
 * every model has signal to find. A Metadata_count column carries the cell count and a label
 * column ("L0|L2") the same activity as labels.
 */
function makeData(): void {
  const rng = new Rng(7);
  const feats = Array.from({ length: nFeat }, (_, f) => `Cells_F${f}`);
  const head = ['Metadata_compound', 'Metadata_labels', 'Metadata_Count_Cells', ...feats];
  const lines = [head.join(',')];
  const act: string[] = ['cpd,target,value'];
  const lib: string[] = [['Metadata_compound', ...[...feats].reverse(), 'Cells_extra'].join(',')];
  for (let c = 0; c < nCompounds; c++) {
    const base = feats.map(() => rng.normal());
    const active = Array.from({ length: nAssays }, (_, a) => base[a]! + 0.3 * rng.normal() > 0.6);
    for (let a = 0; a < nAssays; a++) if (c % 7 !== a) act.push(`C${c},A${a},${active[a] ? 'active' : 'inactive'}`);
    const labels = active.map((x, a) => (x ? `L${a}` : '')).filter(Boolean).join('|');
    for (let r = 0; r < 2; r++) {
      const x = base.map((v) => (v + 0.2 * rng.normal()).toFixed(5));
      lines.push([`C${c}`, labels, String(1000 + Math.round(100 * rng.normal())), ...x].join(','));
    }
    if (c < 20) lib.push([`N${c}`, ...[...base].reverse().map((v) => v.toFixed(5)), '0'].join(','));
  }
  act.push('C1,A0,notanumber', 'C999,A1,1', 'C2,A3,1');
  profilesCsv = tempFile(dir, 'profiles.csv', lines.join('\n') + '\n');
  activityCsv = tempFile(dir, 'activity.csv', act.join('\n') + '\n');
  libraryCsv = tempFile(dir, 'library.csv', lib.join('\n') + '\n');
}

beforeAll(() => {
  dir = tempDir();
  makeData();
});

const fast = ['--burnin', '10', '--samples', '20', '--latent', '4', '--epochs', '30', '--hidden', '16', '--folds', '3', '-q'];

describe('predict evaluate', () => {
  it('cross-validates every model by compound and writes summary.json and per_assay.csv', async () => {
    const out = join(dir, 'eval');
    const r = await runCli(['predict', 'evaluate', profilesCsv, '--activity', activityCsv, '--compound-col', 'cpd', '--assay-col', 'target',
      // Without -q: the warnings are wanted on stderr (-q means nothing on stderr but errors).
      '--group-col', 'Metadata_compound', ...fast.filter((f) => f !== '-q'), '--out', out]);
    expect(r.stderr).toContain('1 non-numeric values skipped (e.g. data row');
    expect(r.stderr).toContain('1 compounds of the activity table (1 records) have no profile row (e.g. C999)');
    expect(r.stderr).toMatch(/duplicate \(compound, assay\) cells merged by mean/);
    expect(r.code).toBe(0);
    for (const m of ['macau', 'mlp', 'logistic', 'knn', 'cellcount']) expect(r.stdout).toMatch(new RegExp(`^${m} `, 'm'));
    expect(r.stdout).toMatch(/macau sd: mean \d/);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.data.compounds).toBe(nCompounds);
    expect(s.data.rows).toBe(2 * nCompounds);
    expect(s.data.cellCountColumn).toBe('Metadata_Count_Cells');
    expect(s.data.report.table.nonNumeric).toBe(1);
    expect(s.data.report.table.missingCompounds).toBe(1);
    const byName = Object.fromEntries(s.models.map((m: { model: string }) => [m.model, m]));
    expect(byName.logistic.auc.scored).toBe(nAssays);
    expect(byName.logistic.auc.meanAuc).toBeGreaterThan(0.8);
    expect(byName.macau.uncertainty.meanSd).toBeGreaterThan(0);
    expect(byName.macau.calibration.cells).toBe(byName.knn.calibration.cells);
    // Cell count is pure noise here.
    expect(byName.cellcount.auc.meanAuc).toBeLessThan(byName.logistic.auc.meanAuc);
    const csv = readFileSync(join(out, 'per_assay.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('model,assay,n_pos,n_neg,positive_compounds,auc,pooled_auc,ef1,ef5,topk_enrichment,fold_aucs');
    expect(csv.length).toBe(1 + 5 * nAssays);
    expect(readdirSync(out).sort()).toEqual(['complete.json', 'per_assay.csv', 'summary.json']);
  }, 60_000);

  it('turns a label column into one-vs-rest assays and applies the positive-compound minimum', async () => {
    const out = join(dir, 'eval-labels');
    const r = await runCli(['predict', 'evaluate', profilesCsv, '--label-assays', 'Metadata_labels', '--group-col', 'Metadata_compound',
      '--models', 'logistic,knn', '--min-positive-compounds', '2', ...fast, '--out', out]);
    expect(r.code).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.data.report.labels.assays).toBe(nAssays);
    expect(s.data.assays + s.data.report.droppedAssays.length).toBe(nAssays);
    // Compounds with no label at all are unknown, not negatives: they carry no cells.
    expect(s.data.compounds).toBe(s.data.report.labels.labelledCompounds);
    expect(s.models.map((m: { model: string }) => m.model)).toEqual(['logistic', 'knn']);
  }, 30_000);

  it('exits 2 with one line on bad input and writes nothing', async () => {
    const out = join(dir, 'eval-bad');
    const cases: string[][] = [
      ['predict', 'evaluate', profilesCsv, '--group-col', 'Metadata_compound', '--out', out], // no activity source
      ['predict', 'evaluate', profilesCsv, '--activity', activityCsv, '--group-col', 'Metadata_compound', '--out', out], // default column names absent
      ['predict', 'evaluate', profilesCsv, '--label-assays', 'Metadata_nope', '--group-col', 'Metadata_compound', '--out', out],
      ['predict', 'evaluate', profilesCsv, '--label-assays', 'Metadata_labels', '--group-col', 'Metadata_compound', '--models', 'svm', '--out', out],
      ['predict', 'evaluate', profilesCsv, '--label-assays', 'Metadata_labels', '--group-col', 'Metadata_compound', '--min-positive-compounds', '1000', '--out', out],
      ['predict', 'evaluate', profilesCsv, '--label-assays', 'Metadata_labels', '--group-col', 'Metadata_compound', '--folds', '1', '--out', out],
    ];
    for (const args of cases) {
      const r = await runCli([...args, '-q']);
      expect(r.code, args.join(' ')).toBe(2);
      // One message line (commander adds its "(run with --help for usage)" hint), never a stack trace.
      expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with --help')).length, r.stderr).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('predict train → rank', () => {
  it('round trip: ranks a library whose columns are in another order, by feature name, with Macau sd', async () => {
    const model = join(dir, 'model.json');
    const t = await runCli(['predict', 'train', profilesCsv, '--activity', activityCsv, '--compound-col', 'cpd', '--assay-col', 'target',
      '--group-col', 'Metadata_compound', '--model', 'macau', '--burnin', '20', '--samples', '40', '--latent', '4', '--cv-folds', '3', '--out', model, '-q']);
    expect(t.code).toBe(0);
    const saved = JSON.parse(readFileSync(model, 'utf8'));
    expect(saved.features).toEqual(Array.from({ length: nFeat }, (_, f) => `Cells_F${f}`));
    expect(saved.standardization.means.length).toBe(nFeat);
    expect([...saved.assays].sort()).toEqual(['A0', 'A1', 'A2', 'A3']);
    // What rank needs beside the model: tested compounds, the cell-count baseline, the CV expectation.
    expect(saved.tested.A0.active.length + saved.tested.A0.inactive.length).toBeGreaterThan(40);
    expect(saved.tested.A0.active).not.toContain('C0'); // C0 has no A0 cell (c % 7 === a)
    expect(saved.tested.A0.inactive).not.toContain('C0');
    expect(saved.cellCount.column).toBe('Metadata_Count_Cells');
    expect(saved.cellCount.weights).toHaveLength(4);
    expect(saved.expected.folds).toBe(3);
    expect(saved.expected.fractions).toEqual([0.01, 0.02, 0.05, 0.1, 0.2, 0.5]);
    const e0 = saved.expected.assays.A0;
    expect(e0.model.auc).toBeGreaterThan(0.7);
    expect(e0.cellCount.auc).toBeLessThan(e0.model.auc);
    expect(e0.baseRate).toBeCloseTo(e0.active / e0.labelled, 12);
    const ranked = join(dir, 'ranked.csv');
    const r = await runCli(['predict', 'rank', libraryCsv, '--model', model, '--assay', 'A0', '--id-col', 'Metadata_compound', '--top', '5', '--out', ranked]);
    expect(r.code).toBe(0);
    const rows = readFileSync(ranked, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('rank,compound,probability,sd,cellcount_probability,cellcount_rank,tested');
    expect(rows.length).toBe(21);
    const parsed = rows.slice(1).map((l) => l.split(','));
    expect(parsed.map((p) => Number(p[0]))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const scores = parsed.map((p) => Number(p[2]));
    for (let i = 1; i < scores.length; i++) expect(scores[i]!).toBeLessThanOrEqual(scores[i - 1]!);
    for (const p of parsed) expect(Number(p[3])).toBeGreaterThan(0);
    for (const p of parsed) expect(p[6]).toBe('untested');
    // The library has no cell-count column: the baseline is said to be missing, not invented.
    for (const p of parsed) expect(p[4]).toBe('');
    expect(r.stdout).toMatch(/the library has no "Metadata_Count_Cells" column: no cell-count baseline/);
    // Library compound Nc has the profile of training compound Cc: the top of the A0 ranking
    // should be mostly compounds active in A0 (feature 0 high).
    const lib = readFileSync(libraryCsv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const f0 = new Map(lib.map((l) => [l[0]!, Number(l[nFeat])])); // reversed order: Cells_F0 is last
    const top5 = parsed.slice(0, 5).map((p) => f0.get(p[1]!)!);
    const bottom5 = parsed.slice(-5).map((p) => f0.get(p[1]!)!);
    expect(top5.reduce((a, b) => a + b, 0)).toBeGreaterThan(bottom5.reduce((a, b) => a + b, 0));
    expect(r.stdout).toMatch(/^A0: 20 untested compounds ranked by macau/m);
    expect(r.stdout).toMatch(/cross-validated on the training compounds: AUC 0\.\d\d \(cell count alone 0\.\d\d\); base hit rate/);
    expect(r.stdout).toMatch(/expected in the top 5 \(25\.0 % of the ranking; enrichment measured at the top 50 % of held-out compounds\): \d+\.\d\d× the library's hit rate, ≈ \d+\.\d % if that is the training one/);
  }, 60_000);

  it('rank on the training table lists only the untested compounds, with the cell-count baseline beside the model', async () => {
    const model = join(dir, 'model.json'); // from the test above
    const r = await runCli(['predict', 'rank', profilesCsv, '--model', model, '--assay', 'A1', '--top', '3', '--out', join(dir, 'ranked-train.csv'), '-q']);
    expect(r.code).toBe(0);
    // Rows of one compound are averaged; the compounds with an A1 cell are set apart.
    expect(r.stdout).toMatch(/note: 120 library rows averaged into 60 compounds/);
    const rows = readFileSync(join(dir, 'ranked-train.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const saved = JSON.parse(readFileSync(model, 'utf8'));
    const tested = new Set([...saved.tested.A1.active, ...saved.tested.A1.inactive]);
    expect(rows.length).toBe(60 - tested.size);
    expect(rows.every((p) => !tested.has(p[1]!))).toBe(true);
    expect(rows.every((p) => Number(p[4]) > 0 && Number(p[4]) < 1 && Number(p[5]) >= 1)).toBe(true);
    expect(r.stdout).toMatch(new RegExp(`A1: ${60 - tested.size} untested compounds ranked by macau; ${tested.size} compounds already tested in A1 are left out`));
    const all = await runCli(['predict', 'rank', profilesCsv, '--model', model, '--assay', 'A1', '--include-tested', '--out', join(dir, 'ranked-all.csv'), '-q']);
    expect(all.code).toBe(0);
    const allRows = readFileSync(join(dir, 'ranked-all.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(allRows.length).toBe(60);
    expect(allRows.filter((p) => p[6] !== 'untested').length).toBe(tested.size);
  }, 30_000);

  it('the multitask net round trip has no sd; missing features and unknown assays are named', async () => {
    const model = join(dir, 'mlp.json');
    const t = await runCli(['predict', 'train', profilesCsv, '--label-assays', 'Metadata_labels', '--group-col', 'Metadata_compound',
      '--model', 'mlp', '--hidden', '8', '--epochs', '20', '--cv-folds', '0', '--out', model, '-q']);
    expect(t.code).toBe(0);
    const r = await runCli(['predict', 'rank', libraryCsv, '--model', model, '--assay', 'L1', '--top', '3', '-q']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/L1: 20 untested compounds ranked by mlp/);
    expect(r.stdout).toMatch(/no expected enrichment/);
    const bad = await runCli(['predict', 'rank', libraryCsv, '--model', model, '--assay', 'L9', '-q']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no assay "L9"/);
    const short = tempFile(dir, 'short.csv', 'Metadata_compound,Cells_F0,Cells_F1\nX,1,2\n');
    const miss = await runCli(['predict', 'rank', short, '--model', model, '--assay', 'L1', '--out', join(dir, 'never.csv'), '-q']);
    expect(miss.code).toBe(2);
    expect(miss.stderr).toMatch(/6 of the model's 8 features are missing: Cells_F2/);
    expect(existsSync(join(dir, 'never.csv'))).toBe(false);
    const notModel = tempFile(dir, 'not-model.json', '{"format":"x"}');
    expect((await runCli(['predict', 'rank', libraryCsv, '--model', notModel, '--assay', 'L1', '-q'])).stderr).toMatch(/not a phenomap activity model/);
  }, 60_000);
});

describe('predict complete', () => {
  it('holds out cells of a planted low-rank binary matrix and beats the rate baselines', async () => {
    const rng = new Rng(3);
    const n = 150, m = 20, K = 2;
    const U = Array.from({ length: n * K }, () => rng.normal()), V = Array.from({ length: m * K }, () => rng.normal());
    const lines: string[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
      if (rng.uniform() > 0.5) continue;
      let s = 0;
      for (let q = 0; q < K; q++) s += U[i * K + q]! * V[j * K + q]!;
      lines.push(`${i + 1} ${j + 1} ${s + 0.3 * rng.normal() > 0 ? 1 : -1}`);
    }
    const mtx = tempFile(dir, 'planted.mtx', `%%MatrixMarket matrix coordinate integer general\n${n} ${m} ${lines.length}\n${lines.join('\n')}\n`);
    const out = join(dir, 'complete');
    const r = await runCli(['predict', 'complete', mtx, '--holdout', '0.2', '--burnin', '30', '--samples', '60', '--latent', '4', '--out', out, '-q']);
    expect(r.code).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.protocol.noise).toBe('probit');
    expect(s.data.testCells).toBe(Math.round(lines.length * 0.2));
    expect(s.macau.auc).toBeGreaterThan(0.85);
    expect(s.macau.auc).toBeGreaterThan(s.baselines.assayRate.auc + 0.1);
    expect(s.macau.summary.meanAuc).toBeGreaterThan(s.baselines.compoundRate.summary.meanAuc);
    expect(r.stdout).toMatch(/^macau\s+0\.\d{3}/m);
    const bad = await runCli(['predict', 'complete', tempFile(dir, 'bad.mtx', '%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 q\n'), '--out', join(dir, 'complete-bad'), '-q']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/line 3: value "q"/);
    expect(existsSync(join(dir, 'complete-bad'))).toBe(false);
  }, 60_000);
});
