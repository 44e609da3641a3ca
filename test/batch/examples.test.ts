/** The @example of every public batch entry point, run as written (on a small planted table). */
import { expect, it } from 'vitest';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitCombat, applyCombat } from '../../src/batch/combat.js';
import { fitSphere, applySphere } from '../../src/batch/sphere.js';
import { fitTransformHarmony, mapHarmony } from '../../src/batch/harmony.js';
import { correctProfiles } from '../../src/batch/profiles.js';
import { saveModel } from '../../src/batch/persist.js';
import { readProfiles } from '../../src/io/read.js';
import { writeProfiles } from '../../src/io/write.js';
import { takeRows } from '../../src/linalg/matrix.js';
import { planted } from './planted.js';

const P = planted();
const X = P.X, plateOfRow = P.batch, isDmso = P.isControl;

it('fitCombat / applyCombat', () => {
  const model = fitCombat(X, plateOfRow);
  const corrected = applyCombat(model, X, plateOfRow);
  expect(corrected.rows).toBe(X.rows);
});

it('fitSphere / applySphere', () => {
  const model = fitSphere(X, plateOfRow, isDmso);
  const sphered = applySphere(model, X, plateOfRow);
  expect(sphered.cols).toBe(X.cols);
});

it('fitTransformHarmony / mapHarmony', () => {
  const rows = Int32Array.from({ length: 80 }, (_, i) => i);
  const { model, corrected } = fitTransformHarmony(takeRows(X, rows), plateOfRow.slice(0, 80), { seed: 0, nClusters: 4 });
  const Xnew = takeRows(X, Int32Array.from({ length: 40 }, (_, i) => 80 + i)), plateOfNewRows = plateOfRow.slice(80);
  const newPlate = mapHarmony(model, Xnew, plateOfNewRows, { unseen: 'estimate' });
  expect([corrected.rows, newPlate.rows]).toEqual([80, 40]);
});

it('correctProfiles, written out with its model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phenomap-example-'));
  try {
    await writeProfiles(join(dir, 'plates.parquet'), {
      features: Array.from({ length: 10 }, (_, j) => `Cells_F${j}`), X,
      meta: [{ name: 'Metadata_Plate', kind: 'string', values: P.batch }, { name: 'Metadata_pert_type', kind: 'string', values: Array.from(P.isControl, (c) => (c ? 'control' : 'trt')) }],
    });
    const { profiles } = await readProfiles(join(dir, 'plates.parquet'));
    const r = correctProfiles(profiles, {
      method: 'sphere', batchCol: 'Metadata_Plate', controls: { column: 'Metadata_pert_type', values: ['control'] },
    });
    await writeProfiles(join(dir, 'plates_sphered.parquet'), r.profiles);
    saveModel(join(dir, 'sphere_model.json'), r.model);
    expect(existsSync(join(dir, 'plates_sphered.parquet')) && existsSync(join(dir, 'sphere_model.json'))).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
