import { it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeShared, sharedRoot } from '../helpers/shared.js';
import { bbbc021Recipe, BBBC021_FILES } from '../../src/io/recipes.js';
import type { Profiles } from '../../src/io/profiles.js';
import { evaluate, BUILTIN_REPRESENTATIONS as B } from '../../src/evaluate/protocol.js';
import { nscAccuracy } from '../../src/evaluate/nsc.js';
import { normaliseForEvaluation } from '../../src/evaluate/protocol.js';
import { main } from '../../src/cli/main.js';

const dataDir = join(sharedRoot, 'data');

describeShared('BBBC021 held-out evaluation', Object.values(BBBC021_FILES).map((f) => `data/${f}`), () => {
  let profiles: Profiles;
  beforeAll(async () => {
    profiles = (await bbbc021Recipe(dataDir)).profiles;
  });
  const cols = { labelCol: 'Metadata_moa', groupCol: 'Metadata_compound', doseCol: 'Metadata_concentration', batchCol: 'Metadata_batch' };

  it('raw profiles, classic NSC/NSCB: 103 and 92 scored treatments, plausible accuracies', () => {
    const z = normaliseForEvaluation(profiles, 'zscore').profiles;
    const r = nscAccuracy(z, { ...cols, compoundCol: cols.groupCol });
    expect(r.treatments.X.rows).toBe(103);
    expect(r.nsc.total).toBe(103);
    expect(r.nscb!.total).toBe(92);
    expect(r.nsc.accuracy).toBeGreaterThan(0.8);
    expect(r.nscb!.accuracy).toBeGreaterThan(0.6);
    expect(r.nscb!.accuracy).toBeLessThan(r.nsc.accuracy);
  });

  it('held-out leave-one-compound-out raw equals the classic protocol (nothing is learned)', () => {
    const z = normaliseForEvaluation(profiles, 'zscore').profiles;
    const classic = nscAccuracy(z, { ...cols, compoundCol: cols.groupCol });
    const r = evaluate(profiles, { ...cols, split: 'loco', representations: [B.raw!], metrics: ['nsc', 'nscb'], inSample: false, dataLevel: false });
    expect(r.representations[0]!.metrics.nsc!.mean).toBeCloseTo(classic.nsc.accuracy, 12);
    expect(r.representations[0]!.metrics.nscb!.mean).toBeCloseTo(classic.nscb!.accuracy, 12);
    expect(r.folds.length).toBe(38);
  });

  it('LDA fitted on training compounds only (3-fold): plausible held-out accuracy', () => {
    const r = evaluate(profiles, {
      ...cols, split: 'kfold', folds: 3, seeds: [0], representations: [B['lda-proj']!],
      metrics: ['nsc', 'nscb', 'map-consistency'], nullSize: 100, inSample: false, dataLevel: false,
    });
    const m = r.representations[0]!.metrics;
    expect(m.nsc!.mean).toBeGreaterThan(0.8);
    expect(m['map-consistency']!.mean).toBeGreaterThan(5 * m['map-consistency-baseline']!.mean);
  }, 30_000);

  it('CLI writes summary.json, folds.csv and per_label.csv', async () => {
    const out = mkdtempSync(join(tmpdir(), 'phenomap-eval-'));
    const code = await main(['node', 'phenomap', 'evaluate', '--recipe', 'bbbc021', '--data', dataDir, '--representations', 'raw',
      '--null-size', '50', '--no-in-sample', '--out', out, '-q']);
    expect(code).toBe(0);
    for (const f of ['summary.json', 'folds.csv', 'per_label.csv']) expect(existsSync(join(out, f))).toBe(true);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.representations[0].metrics.nsc.mean).toBeGreaterThan(0.8);
    expect(s.dataLevel.consistency.meanMap).toBeGreaterThan(s.dataLevel.consistency.meanBaseline);
  }, 30_000);
});
