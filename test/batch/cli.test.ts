/** `phenomap run --correct` and the report's batch section, on a small planted table. */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, tempFile } from '../io/helpers.js';
import { readProfiles } from '../../src/io/read.js';
import { loadModel } from '../../src/batch/persist.js';
import { planted } from './planted.js';

let dir: string, csv: string;
beforeAll(() => {
  dir = tempDir();
  const P = planted({ batches: 3, perBatch: 40, features: 8, controls: 10, classes: 3, seed: 2 });
  const head = ['Metadata_plate', 'Metadata_compound', 'Metadata_moa', ...Array.from({ length: 8 }, (_, j) => `Cells_F${j}`)];
  const lines = [head.join(',')];
  for (let i = 0; i < P.X.rows; i++) {
    const moa = P.isControl[i] ? '' : P.label[i]!;
    lines.push([P.batch[i], P.compound[i], moa, ...Array.from(P.X.data.subarray(i * 8, (i + 1) * 8), (v) => v.toFixed(6))].join(','));
  }
  csv = tempFile(dir, 'planted.csv', lines.join('\n') + '\n');
  return () => rmSync(dir, { recursive: true, force: true });
});

describe('run --correct', () => {
  it('writes the corrected table, the model and the before / after metrics; the report shows them', async () => {
    const out = join(dir, 'run');
    const r = await runCli(['run', csv, '--label-col', 'Metadata_moa', '--id-col', 'Metadata_compound', '--batch-col', 'Metadata_plate',
      '--correct', 'sphere', '--controls', 'Metadata_compound == DMSO', '--representations', 'raw', '--csif-threshold', '0.9', '--out', out, '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/batch correction sphere on Metadata_plate: 3 batches, 120 rows/);
    expect(r.stdout).toMatch(/batch metrics: iLISI [\d.]+ → [\d.]+/);
    const corrected = (await readProfiles(join(out, 'corrected.parquet'))).profiles;
    expect(corrected.X.rows).toBe(120);
    expect(corrected.features).toHaveLength(8);
    const model = loadModel<{ kind: string; levels: string[] }>(join(out, 'batch_model.json'));
    expect(model.kind).toBe('sphere');
    expect(model.levels).toEqual(['B1', 'B2', 'B3']);
    const m = JSON.parse(readFileSync(join(out, 'batch_metrics.json'), 'utf8'));
    expect(m.after.mixing.ilisi).toBeGreaterThan(m.before.mixing.ilisi);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.batchCorrection.method).toBe('sphere');
    expect(s.batchCorrection.files).toEqual(['corrected.parquet', 'batch_model.json']);

    const rep = await runCli(['report', '--run', out, '-q']);
    expect(rep.stderr).toBe('');
    expect(rep.code).toBe(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<section id="batch"><h2>Batch correction</h2>');
    expect(html).toContain('id="batch-table"');
    for (const f of ['batch_tsne_before.svg', 'batch_tsne_after.svg']) expect(existsSync(join(out, 'figures', f))).toBe(true);
  }, 60_000);

  it('bad input: a clear message and exit 2, no output folder', async () => {
    const cases: [string[], RegExp][] = [
      [['--correct', 'combat'], /--correct needs --batch-col/],
      [['--correct', 'combat', '--batch-col', 'Metadata_batch'], /batch column "Metadata_batch" not found; give --batch-col one of the metadata columns/],
      [['--correct', 'sphere', '--batch-col', 'Metadata_plate'], /--correct sphere needs --controls/],
      [['--correct', 'combat', '--batch-col', 'Metadata_moa'], /batch column "Metadata_moa" is empty in 30 row\(s\)/],
      [['--correct', 'harmony', '--batch-col', 'Metadata_plate', '--correct-opt', 'theta=x'], /--correct-opt harmony: theta must be a number ≥ 0, got "x"/],
      [['--batch-col', 'Metadata_plate'], /go with --correct <method>/],
    ];
    for (const [extra, msg] of cases) {
      const out = join(dir, 'bad');
      const r = await runCli(['run', csv, '--label-col', 'Metadata_moa', '--out', out, '-q', ...extra]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(out, 'summary.json'))).toBe(false);
    }
  }, 30_000);
});
