/**
 * Parity with the numpy peers of ../shared/bench/batch (fixtures in test/fixtures/batch, made by
 * test/fixtures/batch/make.ts; versions in its README) and with pycytominer's Spherize through
 * src/preprocess/spherize.ts, whose ε placement is pinned to pycytominer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { readProfiles } from '../../src/io/read.js';
import { metaStrings, type Profiles } from '../../src/io/profiles.js';
import { readNpyMatrix } from '../../src/io/npy.js';
import { takeCols, takeRows, type Matrix } from '../../src/linalg/matrix.js';
import { applyCombat, combatStatistics, fitCombat, fitCombatFromStatistics } from '../../src/batch/combat.js';
import { batchDesign } from '../../src/batch/design.js';
import { harmonyIterate } from '../../src/batch/harmony.js';
import { applySphere, fitSphere, ledoitWolfFromMoments, sphereStatistics } from '../../src/batch/sphere.js';
import { fitSpherize, applySpherize } from '../../src/preprocess/spherize.js';
import { ledoitWolfShrinkage } from '../../src/represent/lda.js';
import { examplePath, repoRoot } from '../helpers/shared.js';
import { COMBAT_FEATURES, PLATE, quadrant } from '../fixtures/batch/make.js';
import { planted } from './planted.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'batch');

function maxAbs(a: Matrix, b: Matrix): number {
  expect([a.rows, a.cols]).toEqual([b.rows, b.cols]);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

describe('parity on the LINCS plate, batch = 384-well quadrant', () => {
  let profiles: Profiles;
  let batch: string[];
  beforeAll(async () => {
    profiles = (await readProfiles(examplePath(PLATE))).profiles;
    batch = metaStrings(profiles, 'Metadata_Well').map((w) => quadrant(w!));
  });

  it('ComBat equals the numpy peer (itself equal to sva::ComBat to 5e-13) to 1e-10', () => {
    const X = takeCols(profiles.X, Array.from({ length: COMBAT_FEATURES }, (_, j) => j));
    const model = fitCombat(X, batch);
    const ours = applyCombat(model, X, batch);
    const peer = readNpyMatrix(join(fixtures, 'combat_peer.npy'));
    expect(maxAbs(ours, peer)).toBeLessThan(1e-10);
    expect(model.levels).toEqual(['q00', 'q01', 'q10', 'q11']);
    expect(model.batches.every((b) => b.converged)).toBe(true);
  });

  it('Harmony equals the numpy peer to 1e-6 given the same start and block orders (seed 0)', () => {
    const Z = readNpyMatrix(join(fixtures, 'harmony_Z.npy'));
    const init = readNpyMatrix(join(fixtures, 'harmony_init.npy'));
    const peer = readNpyMatrix(join(fixtures, 'harmony_peer.npy'));
    const meta = JSON.parse(readFileSync(join(fixtures, 'harmony_peer.json'), 'utf8')) as { objective: number[]; nclust: number };
    const design = batchDesign(batch);
    const state = harmonyIterate(Z, design.codes, design.levels.length, { seed: 0, nClusters: meta.nclust }, init);
    expect(maxAbs(state.corrected, peer)).toBeLessThan(1e-6);
    expect(state.objective.length).toBe(meta.objective.length);
    state.objective.forEach((v, i) => expect(Math.abs(v - meta.objective[i]!) / Math.abs(v)).toBeLessThan(1e-9));
    // Our own k-means start for seed 0 is the one the fixture was made with.
    const own = harmonyIterate(Z, design.codes, design.levels.length, { seed: 0 });
    expect(maxAbs(own.initialCentroids, init)).toBe(0);
  });
});

describe('sphering', () => {
  const P = planted({ features: 6, controls: 20, perBatch: 50 });

  it('per-batch scope without shrinkage is pycytominer\'s spherer fitted on each batch\'s controls', () => {
    const model = fitSphere(P.X, P.batch, P.isControl, { scope: 'batch', shrinkage: 0 });
    const out = applySphere(model, P.X, P.batch);
    for (const b of ['B1', 'B2', 'B3']) {
      const rows = P.batch.flatMap((x, i) => (x === b ? [i] : []));
      const ctl = rows.filter((i) => P.isControl[i]);
      const ref = fitSpherize(takeRows(P.X, ctl), { method: 'ZCA', epsilon: 1e-6 });
      expect(maxAbs(applySpherize(ref, takeRows(P.X, rows)), takeRows(out, rows))).toBeLessThan(1e-10);
    }
  });

  it('pooled scope: the controls come out centred per batch with identity pooled covariance (no shrinkage)', () => {
    const model = fitSphere(P.X, P.batch, P.isControl, { shrinkage: 0, epsilon: 0 });
    const Y = applySphere(model, P.X, P.batch);
    const d = 6, ctl = P.batch.map((_, i) => i).filter((i) => P.isControl[i]);
    const cov = new Float64Array(d * d);
    for (const b of ['B1', 'B2', 'B3']) {
      const rows = ctl.filter((i) => P.batch[i] === b);
      for (let j = 0; j < d; j++) expect(Math.abs(rows.reduce((s, i) => s + Y.data[i * d + j]!, 0) / rows.length)).toBeLessThan(1e-12);
      for (const i of rows) for (let a = 0; a < d; a++) for (let c = 0; c < d; c++) cov[a * d + c] += Y.data[i * d + a]! * Y.data[i * d + c]!;
    }
    for (let a = 0; a < d; a++) for (let c = 0; c < d; c++) expect(cov[a * d + c]! / (ctl.length - 3)).toBeCloseTo(a === c ? 1 : 0, 10);
  });

  it('Ledoit–Wolf from merged moments equals scikit-learn\'s formula on the stacked centred controls', () => {
    const stats = sphereStatistics(P.X, P.batch, P.isControl);
    const d = 6;
    const m2 = new Float64Array(d * d);
    let n = 0, q4 = 0;
    const resid: number[] = [];
    for (const [b, m] of stats) {
      for (let t = 0; t < d * d; t++) m2[t] += m.m2[t]!;
      n += m.n;
      q4 += m.q4;
      P.batch.forEach((x, i) => {
        if (x === b && P.isControl[i]) for (let j = 0; j < d; j++) resid.push(P.X.data[i * d + j]! - m.mean[j]!);
      });
    }
    const R = { rows: n, cols: d, data: Float64Array.from(resid) };
    expect(ledoitWolfFromMoments(m2, d, n, q4)).toBeCloseTo(ledoitWolfShrinkage(R), 12);
  });

  it('ZCA with rank-deficient controls and no shrinkage is refused with advice', () => {
    const Q = planted({ features: 30, controls: 5, perBatch: 20 });
    expect(() => fitSphere(Q.X, Q.batch, Q.isControl, { shrinkage: 0 })).toThrow(/span only 12 of 30 feature dimensions.*shrinkage 'auto'/);
    expect(fitSphere(Q.X, Q.batch, Q.isControl).shrinkage[0]).toBeGreaterThan(0);
  });
});

it('ComBat from per-plate statistics: batches split over plates give the same fit', () => {
  const P = planted();
  const whole = fitCombat(P.X, P.batch);
  const stats = fitCombatFromStatistics(combatStatistics(P.X, P.batch));
  for (let b = 0; b < 3; b++) {
    for (let j = 0; j < 10; j++) expect(stats.batches[b]!.gammaStar[j]).toBeCloseTo(whole.batches[b]!.gammaStar[j]!, 13);
  }
});
