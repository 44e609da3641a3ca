/**
 * phenomap's LMNN beside metric-learn's on the same input (issue 24): BBBC021's labelled non-control
 * wells, z-scored, PCA-50, every compound in training (this compares optimisers, nothing is held
 * out), k = 3 target neighbours of the same MoA (any compound: metric-learn has no group
 * restriction), μ = 0.5, both started from the identity. Prints per side the seconds, iterations
 * and the objective reached — metric-learn's value from its own `_loss_grad`, ours from
 * lmnnLossGrad (equal for the same L, test/represent/lmnn.test.ts) — and each side's objective
 * evaluated by us on the other's components, alternating the two sides `--repeats` times.
 *
 *   PYTHONPATH=/path/to/metric-learn npx tsx bench/lmnn.ts [--data ../shared/data] [--repeats 3]
 *       [--max-iter 200] [--learn-rate 1e-3] [--peer-max-iter 1000]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bbbc021Recipe } from '../src/io/recipes.js';
import { metaStrings } from '../src/io/profiles.js';
import { fromRows, takeRows } from '../src/linalg/index.js';
import { PCA } from '../src/represent/pca.js';
import { Lmnn, lmnnLossGrad, lmnnTargets } from '../src/represent/lmnn.js';
import { normaliseForEvaluation } from '../src/evaluate/protocol.js';
import { arg, root } from './common.js';

const dataDir = arg('--data', join(root, '..', 'shared', 'data'));
const repeats = Number(arg('--repeats', '3'));
const maxIter = Number(arg('--max-iter', '200'));
const learnRate = Number(arg('--learn-rate', '1e-3'));
const peerMaxIter = Number(arg('--peer-max-iter', '1000'));
const p = normaliseForEvaluation((await bbbc021Recipe(dataDir)).profiles, 'zscore').profiles;
const moa = metaStrings(p, 'Metadata_moa');
const rows = moa.flatMap((l, i) => (l && l.toUpperCase() !== 'DMSO' ? [i] : []));
const labels = rows.map((i) => moa[i]!);
const X = new PCA({ nComponents: 50, seed: 0 }).fitTransform(takeRows(p.X, rows));
const ids = [...new Set(labels)];
const cls = Int32Array.from(labels, (l) => ids.indexOf(l));
const k = 3, mu = 0.5;
const dir = mkdtempSync(join(tmpdir(), 'phenomap-lmnn-'));
const input = join(dir, 'input.json');
writeFileSync(input, JSON.stringify({ X: Array.from({ length: X.rows }, (_, i) => Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols))), y: labels, k, pushWeight: mu, learnRate, maxIter: peerMaxIter }));
const { targets } = lmnnTargets(X, cls, k);
const objective = (L: { rows: number; cols: number; data: Float64Array }) => lmnnLossGrad(X, cls, targets, k, L, mu).loss;
console.log(`LMNN on BBBC021 (${X.rows} wells × PCA-50, ${ids.length} MoAs, k = ${k}, μ = ${mu}; identity start; phenomap L-BFGS maxIter ${maxIter}, metric-learn learn_rate ${learnRate}, max_iter ${peerMaxIter})`);
const ours: number[] = [], theirs: number[] = [];
for (let r = 0; r < repeats; r++) {
  const t = performance.now();
  // The same start on both sides: our default rescaling of the identity is switched off.
  const m = new Lmnn({ k, pushWeight: mu, init: 'identity', rescale: false, maxIter }).fit(X, labels);
  const s = (performance.now() - t) / 1000;
  ours.push(s);
  const py = spawnSync('/usr/bin/python3', [join(root, 'bench', 'lmnn_peer.py'), input], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (py.status !== 0) throw new Error(`metric-learn peer failed: ${py.stderr}`);
  const ref = JSON.parse(py.stdout) as { seconds: number; iterations: number; objective: number; active: number; components: number[][] };
  theirs.push(ref.seconds);
  console.log(`repeat ${r + 1}: phenomap ${s.toFixed(2)} s, ${m.iterations} it, objective ${m.objective.toFixed(2)} (${m.active} active) | metric-learn ${ref.seconds.toFixed(2)} s, ${ref.iterations} it, objective ${ref.objective.toFixed(2)} (${ref.active} active; ours on its L: ${objective(fromRows(ref.components)).toFixed(2)})`);
}
const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.log(`median seconds: phenomap ${med(ours).toFixed(2)}, metric-learn ${med(theirs).toFixed(2)} (ratio ${(med(theirs) / med(ours)).toFixed(1)}×; spread phenomap ${Math.min(...ours).toFixed(2)}–${Math.max(...ours).toFixed(2)}, metric-learn ${Math.min(...theirs).toFixed(2)}–${Math.max(...theirs).toFixed(2)})`);
rmSync(dir, { recursive: true, force: true });
