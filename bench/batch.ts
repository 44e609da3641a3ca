/**
 * Batch corrections side by side: for each data set, each correction's batch-mixing and biology
 * figures (data level and held out, evaluate/batchProtocol.ts) and its time; beside them the numpy
 * peers of ../shared/bench/batch (ComBat, Harmony) and pycytominer's Spherize, on the same
 * normalised matrix in the same run (bench/batch_peer.py). Then the scale target: 100,000 profiles ×
 * 1,000 features corrected per method, phenomap and the peer alternating.
 *
 *   npx tsx bench/batch.ts [--data ../shared/data] [--datasets bbbc021,cell-injury,lincs]
 *                          [--scale FILE] [--repeats 3] [--peers sphere,combat,harmony] [--skip-heldout] [--correct-fit training|all]
 *                          [--grid [--grid-learners LIST] [--grid-corrections "PREFIX;PREFIX"] [--grid-seeds 0,1,2,3,4]]
 *
 * Data sets (batch column in brackets): BBBC021 (weeks; NSCB is the test; leave-one-compound-out
 * and leave-batch-out), the cell-injury wells (plates; 5-fold over compounds), the LINCS plate
 * (the 384-well quadrant = the 96-well source plate; 5-fold over compounds). --scale FILE is a
 * `phenomap synth` table (batch = Metadata_plate, controls = Metadata_pert_type == control); run
 * it under `flock /tmp/phenomap-heavy.lock`. --grid prints the BBBC021 accuracy search (every
 * correction variant × learner, leave-one-compound-out; hours on 2 loaded cores with the select-*
 * learners over five seeds: narrow it with --grid-corrections / --grid-learners / --grid-seeds).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { bbbc021Recipe, cellInjuryRecipe, lincsRecipe, CELL_INJURY_FILES, LINCS_FILES } from '../src/io/recipes.js';
import { readProfiles } from '../src/io/read.js';
import { metaStrings, withMeta, type Profiles } from '../src/io/profiles.js';
import { writeNpy, readNpyMatrix } from '../src/io/npy.js';
import { asFloat64, takeRows, type Matrix } from '../src/linalg/index.js';
import { PCA } from '../src/represent/pca.js';
import { BUILTIN_REPRESENTATIONS as B, evaluate, normaliseForEvaluation } from '../src/evaluate/protocol.js';
import { compareCorrections, formatCorrectionTable, judgeMatrix } from '../src/evaluate/batchProtocol.js';
import { makeSplits, type SplitKind } from '../src/evaluate/splits.js';
import { batchMixing } from '../src/evaluate/batchMetrics.js';
import { correctProfiles } from '../src/batch/profiles.js';
import { batchDesign } from '../src/batch/design.js';
import { harmonyIterate } from '../src/batch/harmony.js';
import { CORRECTION_NAMES, type CorrectionName } from '../src/batch/registry.js';
import { linalgBackend } from '../src/linalg/backend.js';
import { arg, hasFlag, root } from './common.js';

const engine = (() => {
  const b = linalgBackend();
  return `${b.engine}${b.simd ? ` (${b.simd})` : ''}, ${b.threads} thread(s)`;
})();

const dataDir = arg('--data', join(root, '..', 'shared', 'data'));
const datasets = arg('--datasets', 'bbbc021,cell-injury,lincs').split(',').filter(Boolean);
const scaleFile = arg('--scale', '');
const repeats = Number(arg('--repeats', '3'));
/** Peers run at --scale (numpy Harmony takes tens of minutes there). */
const peers = arg('--peers', 'sphere,combat,harmony').split(',').filter(Boolean);
/** Rows each correction is fitted on for the held-out tables (evaluate's `fit`; default training). */
const correctionFit = arg('--correct-fit', 'training') as 'training' | 'all';
if (correctionFit !== 'training' && correctionFit !== 'all') throw new Error(`--correct-fit must be training or all, got ${correctionFit}`);
const work = join(tmpdir(), `phenomap-bench-batch-${process.pid}`);
const peerScript = join(root, 'bench', 'batch_peer.py');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : 0.5 * (s[s.length / 2 - 1]! + s[s.length / 2]!);
};
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

interface DataSet {
  name: string;
  profiles: Profiles;
  labelCol: string;
  groupCol: string;
  doseCol?: string;
  batchCol: string;
  controls: string[];
  splits: { split: SplitKind; folds?: number }[];
}

function quadrant(well: string | null): string {
  return well ? `q${(well.charCodeAt(0) - 65) % 2}${(Number(well.slice(1)) - 1) % 2}` : 'none';
}

async function load(name: string): Promise<DataSet> {
  if (name === 'bbbc021') {
    return {
      name, profiles: (await bbbc021Recipe(dataDir)).profiles, labelCol: 'Metadata_moa', groupCol: 'Metadata_compound',
      doseCol: 'Metadata_concentration', batchCol: 'Metadata_batch', controls: ['DMSO'], splits: [{ split: 'loco' }, { split: 'leave-batch-out' }],
    };
  }
  if (name === 'cell-injury') {
    return {
      name, profiles: (await cellInjuryRecipe(join(dataDir, CELL_INJURY_FILES.well))).profiles, labelCol: 'Metadata_injury_type',
      groupCol: 'Metadata_compound', doseCol: 'Compound Concentration (microMolar)', batchCol: 'Plate', controls: ['DMSO', 'Control'],
      splits: [{ split: 'kfold', folds: 5 }],
    };
  }
  if (name === 'lincs') {
    const p = (await lincsRecipe(join(dataDir, LINCS_FILES.plate), join(dataDir, LINCS_FILES.annotations))).profiles;
    const q = metaStrings(p, 'Metadata_Well').map(quadrant);
    return {
      name, profiles: withMeta(p, { name: 'Metadata_quadrant', kind: 'string', values: q }), labelCol: 'Metadata_moa',
      groupCol: 'Metadata_pert_iname', batchCol: 'Metadata_quadrant', controls: ['DMSO'], splits: [{ split: 'kfold', folds: 5 }],
    };
  }
  throw new Error(`unknown data set ${name}`);
}

/** Run a peer on X / batch (/ controls / init) written to a fresh folder; returns its output and seconds. */
function peer(method: string, X: Matrix, batch: readonly string[], extra: { control?: ArrayLike<number>; nclust?: number } = {}): { out: Matrix; seconds: number[] } {
  const dir = join(work, method);
  mkdirSync(dir, { recursive: true });
  writeNpy(join(dir, 'X.npy'), X);
  writeFileSync(join(dir, 'batch.txt'), batch.join('\n'));
  if (extra.control) writeFileSync(join(dir, 'control.txt'), Array.from(extra.control, (v) => (v ? '1' : '0')).join('\n'));
  if (extra.nclust) writeFileSync(join(dir, 'params.json'), JSON.stringify({ nclust: extra.nclust }));
  const res = JSON.parse(execFileSync('/usr/bin/python3', [peerScript, method, dir], { env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' }, maxBuffer: 1 << 26 }).toString()) as { seconds: number[] };
  const out = readNpyMatrix(join(dir, 'peer_out.npy'));
  rmSync(dir, { recursive: true, force: true });
  return { out, seconds: res.seconds };
}

function maxAbs(a: Matrix, b: Matrix): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

const f3 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(3));

async function dataset(name: string): Promise<void> {
  const ds = await load(name);
  console.log(`\n=== ${name}: ${ds.profiles.X.rows} wells × ${ds.profiles.features.length} features, batch = ${ds.batchCol} ===`);
  const base = {
    labelCol: ds.labelCol, groupCol: ds.groupCol, doseCol: ds.doseCol, batchCol: ds.batchCol, controlLabels: ds.controls,
    representations: [B.raw!, B.pca!, B['lda-proj']!], metrics: ['nsc', 'nscb', 'map-consistency'] as const, nullSize: 1000, inSample: false, dataLevel: false,
  };
  if (!hasFlag('--skip-heldout')) {
    for (const s of ds.splits) {
      const t0 = performance.now();
      const cmp = compareCorrections(ds.profiles, { ...base, metrics: [...base.metrics], ...s, corrections: CORRECTION_NAMES, correctionFit });
      console.log(`held out, ${s.split}: each correction ${s.split === 'leave-batch-out' ? 'refitted on the training batches' : correctionFit === 'training' ? 'refitted per fold on the training side (--correct-fit training)' : 'fitted once on all rows (--correct-fit all)'}`);
      console.log(formatCorrectionTable(cmp));
      for (const r of cmp.rows) for (const n of r.notes) console.log(`  note (${r.correction}): ${n}`);
      console.log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s for the comparison)`);
    }
  }
  // Peers on the same normalised matrix.
  const norm = normaliseForEvaluation(ds.profiles, 'zscore').profiles;
  const batch = metaStrings(norm, ds.batchCol).map((b) => b ?? 'none');
  const up = new Set(ds.controls.map((c) => c.toUpperCase()));
  const lab = metaStrings(norm, ds.labelCol), grp = metaStrings(norm, ds.groupCol);
  const control = Uint8Array.from({ length: norm.X.rows }, (_, i) => (up.has((lab[i] ?? '').toUpperCase()) || up.has((grp[i] ?? '').toUpperCase()) ? 1 : 0));
  const keys = {
    batch, label: lab.map((l) => (l === null || l.trim() === '' ? null : l.trim())), compound: grp, dose: ds.doseCol ? metaStrings(norm, ds.doseCol) : undefined,
    isControl: control, controlLabels: ds.controls,
  };
  console.log('\npeers on the same z-scored matrix (data-level figures of each output; time = median of the repeats):');
  console.log('method                     side       seconds      iLISI  graph conn.  batch sil.  repl. mAP  MoA mAP    NSC   NSCB  max |Δ| vs peer');
  const row = (m: string, side: string, secs: number[], X: Matrix, diff = '') => {
    const j = judgeMatrix(X, keys, { nullSize: 200 });
    console.log(`${m.padEnd(26)} ${side.padEnd(9)} ${`${median(secs).toFixed(3)} (${spread(secs)})`.padStart(16)}  ${f3(j.mixing.ilisi).padStart(6)}  ${f3(j.mixing.graphConnectivity).padStart(11)}  ${f3(j.mixing.silhouetteBatch).padStart(10)}  ${f3(j.biology.replicateMap).padStart(9)}  ${f3(j.biology.moaMap).padStart(7)}  ${f3(j.biology.nsc).padStart(5)}  ${f3(j.biology.nscb).padStart(5)}  ${diff}`);
  };
  const timeOurs = <T>(fn: () => T): [T, number[]] => {
    const secs: number[] = [];
    let out!: T;
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      out = fn();
      secs.push((performance.now() - t0) / 1000);
    }
    return [out, secs];
  };
  // ComBat: the same computation on both sides.
  const [combat, tc] = timeOurs(() => correctProfiles(norm, { method: 'combat', batchCol: ds.batchCol }).profiles.X);
  const pc = peer('combat', norm.X, batch);
  for (let r = 1; r < repeats; r++) pc.seconds.push(...peer('combat', norm.X, batch).seconds);
  row('ComBat', 'phenomap', tc, combat, maxAbs(combat, pc.out).toExponential(1));
  row('ComBat (numpy, sva)', 'peer', pc.seconds, pc.out);
  // Harmony on the same PCA-50 embedding; each side with its own k-means start (scikit-learn's on the peer's side).
  const Z = new PCA({ nComponents: Math.min(50, norm.X.rows - 1, norm.X.cols) }).fitTransform(norm.X);
  const design = batchDesign(batch);
  const [h, th] = timeOurs(() => harmonyIterate(Z, design.codes, design.levels.length, { seed: 0 }));
  const ph = peer('harmony', Z, batch, { nclust: h.centroids.rows });
  for (let r = 1; r < repeats; r++) ph.seconds.push(...peer('harmony', Z, batch, { nclust: h.centroids.rows }).seconds);
  row('Harmony (PCA-50 in)', 'phenomap', th, h.corrected, `${maxAbs(h.corrected, ph.out).toExponential(1)} (different k-means starts)`);
  row('Harmony (numpy)', 'peer', ph.seconds, ph.out);
  // Sphering: phenomap per-batch centring + pooled shrunk whitening; pycytominer one spherer on all controls.
  const [sp, ts] = timeOurs(() => correctProfiles(norm, { method: 'sphere', batchCol: ds.batchCol, controls: control }).profiles.X);
  const epsilon = '1e-6';
  let ps: { out: Matrix; seconds: number[] } | undefined;
  try {
    process.env.SPHERE_EPSILON = epsilon;
    ps = peer('sphere', norm.X, batch, { control });
    for (let r = 1; r < repeats; r++) ps.seconds.push(...peer('sphere', norm.X, batch, { control }).seconds);
  } catch (e) {
    console.log(`  pycytominer Spherize failed: ${(e as Error).message.split('\n')[0]}`);
  }
  row('sphere (per batch, LW)', 'phenomap', ts, sp);
  if (ps) row('Spherize ZCA (pycytominer)', 'peer', ps.seconds, ps.out, '(one spherer on all controls, ε = 1e-6: not the same computation)');
}

async function scale(file: string): Promise<void> {
  console.log(`\n=== scale: ${file} ===`);
  const t0 = performance.now();
  const { profiles } = await readProfiles(file);
  console.log(`read ${profiles.X.rows} × ${profiles.features.length} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const batch = metaStrings(profiles, 'Metadata_plate').map((b) => b ?? 'none');
  const control = Uint8Array.from(metaStrings(profiles, 'Metadata_pert_type'), (v) => (v === 'control' ? 1 : 0));
  const X = asFloat64(profiles.X);
  const results: Record<string, { ours: number[]; peer: number[] }> = {};
  // The peer of each method alternates with phenomap's repeats; numpy Harmony (half an hour on a
  // loaded machine at 100,000 rows) runs once, last, after every phenomap figure is printed.
  const harmonyPeer = (): void => {
    // The peer gets the PCA-50 embedding phenomap's Harmony computes (its own PCA would add scikit-learn's time).
    const Z = new PCA({ nComponents: 50, solver: 'randomized' }).fitTransform(X);
    results.harmony!.peer.push(...peer('harmony', Z, batch, { nclust: 100 }).seconds);
    console.log(`  harmony peer: ${results.harmony!.peer.at(-1)!.toFixed(1)} s`);
  };
  for (const method of CORRECTION_NAMES as CorrectionName[]) {
    const r = (results[method] = { ours: [] as number[], peer: [] as number[] });
    for (let k = 0; k < repeats; k++) {
      const s0 = performance.now();
      const c = correctProfiles(profiles, { method, batchCol: 'Metadata_plate', controls: control });
      r.ours.push((performance.now() - s0) / 1000);
      if (k === 0) {
        console.log(`  ${method}: ${c.profiles.X.rows} × ${c.profiles.X.cols} corrected, ${r.ours[0]!.toFixed(1)} s (phenomap)`);
        for (const n of c.report.notes) console.log(`    ${n}`);
        if (c.model.kind === 'harmony') console.log(`    soft k-means rounds per Harmony round: ${c.model.kmeansRounds.join(', ')}`);
      }
      if (method === 'combat' && peers.includes('combat')) r.peer.push(...peer('combat', X, batch).seconds);
      else if (method === 'sphere' && peers.includes('sphere')) r.peer.push(...peer('sphere', X, batch, { control }).seconds);
      console.log(`    repeat ${k + 1}: phenomap ${r.ours[k]!.toFixed(1)} s${r.peer[k] !== undefined ? `, peer ${r.peer[k]!.toFixed(1)} s` : ''}`);
    }
  }
  const table = (): void => {
    console.log(`\n${profiles.X.rows} × ${profiles.features.length}, engine ${engine}; medians of ${repeats} (range):`);
    console.log('method    phenomap (whole correction)   peer                                                          peer / phenomap');
    for (const [m, r] of Object.entries(results)) {
      const what = m === 'harmony' ? 'numpy Harmony on the PCA-50 embedding' : m === 'combat' ? 'numpy ComBat' : 'pycytominer Spherize (global)';
      const peerText = r.peer.length ? `${median(r.peer).toFixed(1)} s (${spread(r.peer)}) ${what}` : `– (${what} not run)`;
      console.log(`${m.padEnd(9)} ${`${median(r.ours).toFixed(1)} s (${spread(r.ours)})`.padEnd(29)} ${peerText.padEnd(62)} ${r.peer.length ? `${(median(r.peer) / median(r.ours)).toFixed(2)}×` : '–'}`);
    }
  };
  table();
  if (peers.includes('harmony')) {
    harmonyPeer();
    table();
  }
}


/**
 * The accuracy target's search (issue 19: BBBC021 held-out NSCB ≥ 95 % with a correction plus a
 * learned metric): every correction variant × every learner under leave-one-compound-out, each
 * row's NSC / NSCB printed — not only the best (mean ± s.d. over --grid-seeds where a step is
 * seeded: the select-* learners' inner folds). Corrections use no label; each is fitted either on
 * the training side of every fold (`fit: training`, evaluate's default: the held-out compound's
 * rows are placed with that fit) or once on all wells (`fit: all`); sphering learns from the DMSO
 * wells only, which are never held out, so its two fits are the same matrix. Learners are fitted
 * on the training compounds only; the select-* learners choose theirs per fold by inner
 * compound-grouped CV on the training side. Beside each correction, its batch mixing where the
 * held-out figures are scored: every treated well as the fold that held its compound out placed
 * it (fit: training) or the one fit (fit: all).
 */
type GridCorrection = { method: CorrectionName; batchCol?: string; options?: Record<string, unknown>; fit?: 'training' | 'all' };
const GRID_CORRECTIONS: { name: string; correction?: GridCorrection }[] = [
  { name: 'none' },
  { name: 'sphere (per week, LW)', correction: { method: 'sphere' } },
  { name: 'sphere (per plate, LW)', correction: { method: 'sphere', batchCol: 'Metadata_plate' } },
  { name: 'sphere (per week, scope=batch)', correction: { method: 'sphere', options: { scope: 'batch' } } },
  { name: 'sphere (per week, α = 0.5)', correction: { method: 'sphere', options: { shrinkage: 0.5 } } },
  { name: 'sphere (per week, α = 0.9)', correction: { method: 'sphere', options: { shrinkage: 0.9 } } },
  { name: 'DMSO centring (per week, α = 1)', correction: { method: 'sphere', options: { shrinkage: 1 } } },
  { name: 'DMSO centring (per plate, α = 1)', correction: { method: 'sphere', batchCol: 'Metadata_plate', options: { shrinkage: 1 } } },
  { name: 'combat (per week, fit: training)', correction: { method: 'combat', fit: 'training' } },
  { name: 'combat (per week, fit: all)', correction: { method: 'combat', fit: 'all' } },
  { name: 'combat (per plate, fit: training)', correction: { method: 'combat', batchCol: 'Metadata_plate', fit: 'training' } },
  { name: 'combat (per plate, fit: all)', correction: { method: 'combat', batchCol: 'Metadata_plate', fit: 'all' } },
  { name: 'harmony (θ = 2, fit: training)', correction: { method: 'harmony', fit: 'training' } },
  { name: 'harmony (θ = 2, fit: all)', correction: { method: 'harmony', fit: 'all' } },
  { name: 'harmony (θ = 0.5, fit: training)', correction: { method: 'harmony', options: { theta: 0.5 }, fit: 'training' } },
  { name: 'harmony (θ = 0.5, fit: all)', correction: { method: 'harmony', options: { theta: 0.5 }, fit: 'all' } },
];

/** Batch mixing of the treated wells as the held-out figures see them (see accuracyGrid). */
function heldOutMixing(profiles: Profiles, c: GridCorrection | undefined): string {
  const norm = normaliseForEvaluation(profiles, 'zscore').profiles;
  const week = metaStrings(norm, 'Metadata_batch'), compound = metaStrings(norm, 'Metadata_compound'), moa = metaStrings(norm, 'Metadata_moa');
  const control = Uint8Array.from(compound, (v) => (v === 'DMSO' ? 1 : 0));
  const groups = compound.map((v, i) => (control[i] || !moa[i] ? null : v));
  let X: Matrix = asFloat64(norm.X);
  if (c) {
    const fit = (rows?: Int32Array) => asFloat64(correctProfiles(norm, { method: c.method, batchCol: c.batchCol ?? 'Metadata_batch', controls: control, options: c.options, fitRows: rows }).profiles.X);
    X = fit();
    if ((c.fit ?? 'training') === 'training') {
      const placed = Float64Array.from(X.data);
      for (const f of makeSplits({ kind: 'loco', groups, labels: moa, controlGroups: ['DMSO'], batches: week })) {
        const Xf = fit(f.train);
        for (const i of f.test) placed.set(Xf.data.subarray(i * X.cols, (i + 1) * X.cols), i * X.cols);
      }
      X = { rows: X.rows, cols: X.cols, data: placed };
    }
  }
  const rows: number[] = [];
  for (let i = 0; i < X.rows; i++) if (!control[i] && moa[i]) rows.push(i);
  const m = batchMixing(takeRows(X, rows), rows.map((i) => week[i]!), rows.map((i) => moa[i]!));
  return `iLISI ${f3(m.ilisi)}, other-week neighbours ${f3(m.otherBatchShare)} (mixed ${f3(m.otherBatchShareExpected)}), graph conn. ${f3(m.graphConnectivity)}`;
}

async function accuracyGrid(): Promise<void> {
  const learners = arg('--grid-learners', 'raw,lda-proj,lda-proj-clip,lda-proj-clip-uncentred,batch-lda,batch-lda-clip,select-linear,select-ensemble-5,nca').split(',').filter(Boolean);
  const only = arg('--grid-corrections', '');
  const gridSeeds = arg('--grid-seeds', '0,1,2,3,4').split(',').map(Number);
  const profiles = (await bbbc021Recipe(dataDir)).profiles;
  console.log(`\n=== BBBC021 accuracy grid: correction × learner, leave-one-compound-out, NSCB excludes the query's week (target NSCB ≥ 0.95) ===`);
  console.log(`seeded learners (select-*) over seeds ${gridSeeds.join(',')}; mean ± s.d. [per seed]`);
  console.log(`${'correction'.padEnd(36)} ${'learner'.padEnd(24)}   NSC              NSCB             s (evaluation)  choices (folds × seeds)`);
  const pm = (m: { mean: number; sd: number; values: number[] } | undefined) =>
    !m ? '–' : m.values.length > 1 ? `${f3(m.mean)} ± ${f3(m.sd)} [${m.values.map(f3).join(' ')}]` : f3(m.mean);
  for (const g of GRID_CORRECTIONS) {
    if (only && !only.split(';').some((o) => g.name.startsWith(o.trim()))) continue;
    console.log(`${g.name}: held-out placement mixing: ${heldOutMixing(profiles, g.correction)}`);
    for (const l of learners) {
      const t0 = performance.now();
      const spec = B[l]!;
      const seeded = spec.kind === 'select' || spec.kind === 'contrastive' || spec.kind === 'itml';
      const ev = evaluate(profiles, {
        labelCol: 'Metadata_moa', groupCol: 'Metadata_compound', doseCol: 'Metadata_concentration', batchCol: 'Metadata_batch', controlLabels: ['DMSO'],
        split: 'loco', seeds: seeded ? gridSeeds : [0], representations: [spec], metrics: ['nsc', 'nscb'], inSample: false, dataLevel: false, correction: g.correction,
      });
      const r = ev.representations[0]!;
      const chosen: Record<string, number> = {};
      for (const f of ev.folds) if (f.chosen) chosen[f.chosen] = (chosen[f.chosen] ?? 0) + 1;
      const sec = (performance.now() - t0) / 1000;
      console.log(`${g.name.padEnd(36)} ${l.padEnd(24)} ${pm(r.metrics.nsc).padStart(6)}  ${pm(r.metrics.nscb).padStart(6)}  ${sec.toFixed(0).padStart(6)}  ${Object.keys(chosen).length ? JSON.stringify(chosen) : ''}`);
    }
  }
}

async function mainBench(): Promise<void> {
  mkdirSync(work, { recursive: true });
  try {
    console.log(`phenomap batch bench, engine ${engine}, repeats ${repeats}`);
    for (const d of datasets) await dataset(d);
    if (hasFlag('--grid')) await accuracyGrid();
    if (scaleFile) await scale(scaleFile);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await mainBench();
