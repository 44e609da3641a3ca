/**
 * How close is PCA's randomized solver to the exact one? Principal angles between the
 * 50-component subspaces of the exact solver and of phenomap's randomized block Krylov solver
 * (q = 1, 2 — the default — and 3 iterations, 10 oversamples; the range finder in float32 — the
 * default — and, at q = 2, in float64), beside scikit-learn's default PCA(50) (randomized_svd, 7 power
 * iterations) against its exact solver — on the real tables (LINCS plate, BBBC021, cell injury,
 * the JUMP single cells of one plate) and, with --wide, the synthetic 7,680 × 5,792 table. On wide
 * tables (rows ≤ features) also the float32 Gram solver ('gram', what 'auto' takes there when
 * features > 500) and, with --npy, z-scored matrices saved as NPY (e.g. bench/pca-speed.ts's
 * 384-row input), as they are.
 *
 *   npx tsx bench/pca-angles.ts [--data ../shared/data] [--wide /work/scratch/22/w7680.csv.gz] [--npy Z384.npy,…]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readProfiles } from '../src/io/read.js';
import { bbbc021Recipe, cellInjuryRecipe, CELL_INJURY_FILES } from '../src/io/recipes.js';
import { readNpyMatrix, writeNpy } from '../src/io/npy.js';
import { zscore } from '../src/preprocess/zscore.js';
import { PCA } from '../src/represent/pca.js';
import type { Matrix } from '../src/linalg/index.js';
import { arg, plate, principalAnglesDeg, root } from './common.js';

const data = arg('--data', join(root, '..', 'shared', 'data'));
const wide = arg('--wide', '');
const tables: [string, () => Promise<Matrix>][] = [
  ['LINCS plate SQ00015054 (384 × 454)', async () => (await readProfiles(plate)).profiles.X],
  ['BBBC021 (632 wells)', async () => (await bbbc021Recipe(data)).profiles.X],
  ['cell injury (fs_well_holdout)', async () => (await cellInjuryRecipe(join(data, CELL_INJURY_FILES.well))).profiles.X],
  ['JUMP BR00121431 single cells (125 × 5,790)', async () => (await readProfiles(join(root, '..', 'shared', 'reference', 'singlecell', 'jump_target2_BR00121431_single_cells.csv.gz'))).profiles.X],
];
if (wide) tables.push([`synthetic ${wide}`, async () => (await readProfiles(wide)).profiles.X]);
const npys = arg('--npy', '').split(',').filter(Boolean);
for (const f of npys) tables.push([`NPY ${f} (z-scored as saved)`, async () => readNpyMatrix(f)]);
const tmp = mkdtempSync(join(tmpdir(), 'phenomap-angles-'));
const k = 50;
console.log('table | n × d | solver | max angle (°) | median angle (°) | Σ explained-variance ratio rel. error | seconds');
for (const [name, load] of tables) {
  const X = await load();
  const { Z } = name.startsWith('NPY ') ? { Z: X } : zscore(X);
  const kk = Math.min(k, Z.rows - 1, Z.cols);
  let t0 = performance.now();
  const exact = new PCA({ nComponents: kk, solver: 'full' }).fit(Z);
  const tExact = (performance.now() - t0) / 1000;
  const evExact = exact.explainedVarianceRatio!.reduce((a, b) => a + b, 0);
  console.log(`${name} | ${Z.rows} × ${Z.cols} | phenomap exact | 0 | 0 | 0 | ${tExact.toFixed(3)}`);
  for (const [q, os, prec] of [[1, 10, 'float32'], [2, 10, 'float32'], [2, 10, 'float64'], [3, 10, 'float32']] as const) {
    t0 = performance.now();
    const r = new PCA({ nComponents: kk, solver: 'randomized', iterations: q, oversamples: os, rangePrecision: prec }).fit(Z);
    const t = (performance.now() - t0) / 1000;
    const ang = principalAnglesDeg(exact.components!, r.components!);
    const ev = r.explainedVarianceRatio!.reduce((a, b) => a + b, 0);
    console.log(`${name} | | phenomap randomized q=${q} p=${os} ${prec} | ${ang.at(-1)!.toExponential(2)} | ${ang[ang.length >> 1]!.toExponential(2)} | ${(Math.abs(ev - evExact) / evExact).toExponential(2)} | ${t.toFixed(3)}`);
  }
  if (Z.rows <= Z.cols) {
    t0 = performance.now();
    const g = new PCA({ nComponents: kk, solver: 'gram' }).fit(Z);
    const t = (performance.now() - t0) / 1000;
    const ang = principalAnglesDeg(exact.components!, g.components!);
    const ev = g.explainedVarianceRatio!.reduce((a, b) => a + b, 0);
    let evMax = 0;
    for (let c = 0; c < kk; c++) evMax = Math.max(evMax, Math.abs(g.explainedVariance![c]! - exact.explainedVariance![c]!) / exact.explainedVariance![c]!);
    console.log(`${name} | | phenomap float32 Gram (${g.solver === 'gram' ? 'ran' : 'declined: exact'}; auto: ${new PCA({ nComponents: kk }).chooseSolver(Z.rows, Z.cols)}) | ${ang.at(-1)!.toExponential(2)} | ${ang[ang.length >> 1]!.toExponential(2)} | ${(Math.abs(ev - evExact) / evExact).toExponential(2)} (largest per-component variance error ${evMax.toExponential(2)}) | ${t.toFixed(3)}`);
  }
  const f = join(tmp, 'Z.npy');
  writeNpy(f, Z);
  const out = JSON.parse(execFileSync('/usr/bin/python3', [join(root, 'bench', 'wide_peer.py'), 'pca-angles', f, '--k', String(kk), '--repeats', '1'], { encoding: 'utf8', maxBuffer: 1 << 26 }));
  console.log(`${name} | | scikit-learn default (${out.solver}) | ${out.max_angle_deg.toExponential(2)} | ${out.median_angle_deg.toExponential(2)} | ${out.explained_rel_err.toExponential(2)} | ${out.t_default_s.toFixed(3)} (full ${out.t_full_s.toFixed(3)})`);
}
rmSync(tmp, { recursive: true, force: true });
