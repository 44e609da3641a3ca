/** Batch corrections judged on BBBC021 (weeks as batches: NSCB is the test). */
import { beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeShared, sharedRoot } from '../helpers/shared.js';
import { bbbc021Recipe, BBBC021_FILES } from '../../src/io/recipes.js';
import type { Profiles } from '../../src/io/profiles.js';
import { BUILTIN_REPRESENTATIONS as B, evaluate } from '../../src/evaluate/protocol.js';
import { compareCorrections } from '../../src/evaluate/batchProtocol.js';
import { main } from '../../src/cli/main.js';

const dataDir = join(sharedRoot, 'data');
const cols = { labelCol: 'Metadata_moa', groupCol: 'Metadata_compound', doseCol: 'Metadata_concentration', batchCol: 'Metadata_batch' };

describeShared('batch corrections on BBBC021', Object.values(BBBC021_FILES).map((f) => `data/${f}`), () => {
  let profiles: Profiles;
  beforeAll(async () => {
    profiles = (await bbbc021Recipe(dataDir)).profiles;
  });

  it('side by side: sphering to DMSO keeps biology and raises raw NSCB; Harmony mixes weeks but loses MoA (confounded design)', () => {
    // The data-level figures are the subject; one fit on all rows keeps the held-out side to one Harmony (not 38).
    const c = compareCorrections(profiles, {
      ...cols, corrections: ['sphere', 'harmony'], correctionFit: 'all', representations: [B.raw!], metrics: ['nsc', 'nscb'], nullSize: 50, inSample: false, dataLevel: false,
    });
    const [none, sphere, harmony] = c.rows;
    expect([none!.correction, sphere!.correction, harmony!.correction]).toEqual(['none', 'sphere', 'harmony']);
    // Nothing learned for raw: held out by compound equals the data level (the classic NSC / NSCB).
    expect(none!.heldOut.raw!.nsc).toBeCloseTo(none!.biology.nsc, 12);
    expect(none!.biology.nsc).toBeCloseTo(91 / 103, 12);
    expect(sphere!.biology.nscb!).toBeGreaterThan(none!.biology.nscb!);
    expect(sphere!.biology.replicateMap!).toBeGreaterThan(none!.biology.replicateMap!);
    expect(harmony!.mixing.ilisi).toBeGreaterThan(none!.mixing.ilisi + 0.1);
    expect(harmony!.biology.moaMap).toBeLessThan(none!.biology.moaMap - 0.2);
  }, 60_000);

  it('issue 19 target: ComBat per week fitted on each fold\'s training side + LDA projection holds NSCB ≥ 0.95 out by compound; fitted on all rows it does not', () => {
    const run = (fit?: 'training' | 'all') => evaluate(profiles, {
      ...cols, split: 'loco', representations: [B['lda-proj']!], metrics: ['nsc', 'nscb'], inSample: false, dataLevel: false,
      correction: { method: 'combat', ...(fit ? { fit } : {}) },
    });
    const byDefault = run();
    expect(byDefault.notes.some((n) => /refitted per fold on the training rows/.test(n))).toBe(true);
    const nscb = byDefault.representations[0]!.metrics.nscb!.mean;
    // 89 of 92 scored treatments (0.967); the floor is the target.
    expect(nscb).toBeGreaterThanOrEqual(0.95);
    // Fitted once on all rows, a held-out compound moves its own week's ComBat estimate (0.891).
    const all = run('all');
    expect(all.notes.some((n) => /fitted on all rows/.test(n))).toBe(true);
    expect(all.representations[0]!.metrics.nscb!.mean).toBeLessThan(nscb - 0.05);
  }, 90_000);

  it('leave-batch-out with a correction refitted per fold: one fold per week, corrections never see the held-out week', () => {
    const r = evaluate(profiles, {
      ...cols, split: 'leave-batch-out', representations: [B.raw!], metrics: ['nsc'], inSample: false, dataLevel: false, correction: { method: 'combat' },
    });
    expect(r.options.folds).toBe(10);
    expect(r.notes.some((n) => /refitted per fold/.test(n))).toBe(true);
    expect(r.representations[0]!.metrics.nsc!.mean).toBeGreaterThan(0.4);
  }, 60_000);

  it('CLI: evaluate --correct writes summary.json and batch.csv with one row per correction', async () => {
    const out = mkdtempSync(join(tmpdir(), 'phenomap-batch-eval-'));
    try {
      const code = await main(['node', 'phenomap', 'evaluate', '--recipe', 'bbbc021', '--data', dataDir, '--representations', 'raw', '--metrics', 'nsc,nscb',
        '--correct', 'sphere,combat', '--correct-opt', 'sphere.shrinkage=0.1', '--correct-fit', 'all', '--null-size', '20', '--no-in-sample', '--no-data-level', '--out', out, '-q']);
      expect(code).toBe(0);
      const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(s.batchCorrections.map((r: { correction: string }) => r.correction)).toEqual(['none', 'sphere', 'combat']);
      expect(s.evaluations.sphere.options.correction).toEqual({ method: 'sphere', options: { shrinkage: 0.1 }, batchCol: 'Metadata_batch', fit: 'all' });
      expect(readFileSync(join(out, 'batch.csv'), 'utf8').split('\n')[0]).toMatch(/^correction,graph_connectivity,ilisi,/);
      expect(existsSync(join(out, 'corrected_sphere.parquet'))).toBe(false);
      const bad = await main(['node', 'phenomap', 'evaluate', '--recipe', 'bbbc021', '--data', dataDir, '--correct', 'sphere', '--correct-opt', 'theta=2', '--out', out, '-q']);
      expect(bad).toBe(2);
      const badFit = await main(['node', 'phenomap', 'evaluate', '--recipe', 'bbbc021', '--data', dataDir, '--correct', 'combat', '--correct-fit', 'some', '--out', out, '-q']);
      expect(badFit).toBe(2);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 90_000);
});
