/**
 * Representations that carry to unseen compounds and plates (issue 24): every learner held out by
 * compound on the real data, NSC / NSCB / MoA-consistency mAP as mean ± s.d. over seeds, and the
 * seconds each learner took (whole evaluation and per fit).
 *
 *   npx tsx bench/represent.ts [--data ../shared/data] [--datasets bbbc021,cell-injury,lincs,cell-injury-plates]
 *                              [--reps raw,lda-proj,...] [--seeds 5 | --seed-list 0,1] [--null 1000]
 *
 * Data sets: BBBC021 (leave-one-compound-out, batch = week; NSCB is the transfer test), the
 * cell-injury wells `fs_well_holdout` (5-fold over compounds, batch = plate), the LINCS plate
 * (5-fold over compounds), and `cell-injury-plates`: the cell-injury `fs_plate_holdout` wells, 5-fold
 * over compounds (within plate) beside leave-batch-out over its plates (queries on a plate never
 * seen in training) — the issue's "leave-batch-out within 10 % of the within-plate figure".
 * Run under `flock /tmp/phenomap-heavy.lock`: the whole default run takes several minutes.
 */
import os from 'node:os';
import { join } from 'node:path';
import { bbbc021Recipe, cellInjuryRecipe, lincsRecipe, CELL_INJURY_FILES, LINCS_FILES } from '../src/io/recipes.js';
import type { Profiles } from '../src/io/profiles.js';
import { BUILTIN_REPRESENTATIONS, evaluate, type EvaluationResult, type MetricSummary } from '../src/evaluate/protocol.js';
import type { SplitKind } from '../src/evaluate/splits.js';
import { linalgBackend } from '../src/linalg/backend.js';
import { arg, root } from './common.js';

const dataDir = arg('--data', join(root, '..', 'shared', 'data'));
const datasets = arg('--datasets', 'bbbc021,cell-injury,lincs,cell-injury-plates').split(',').filter(Boolean);
const DEFAULT_REPS = [
  'raw', 'raw-clip', 'pca', 'lda-proj', 'lda-proj-clip', 'lda-proj-consensus', 'lda-proj-clip-consensus',
  'lda-proj-clip-uncentred', 'batch-lda', 'batch-lda-noshrink', 'batch-lda-clip', 'nca', 'nca-clip', 'lmnn', 'lmnn-noscale', 'lmnn-lda', 'contrastive',
  'ensemble-lda-clip', 'select-linear', 'select-ensemble', 'select-ensemble-map', 'select-ensemble-5', 'select-corrected',
].join(',');
const reps = arg('--reps', DEFAULT_REPS).split(',').filter(Boolean).map((r) => {
  const s = BUILTIN_REPRESENTATIONS[r];
  if (!s) throw new Error(`unknown representation ${r}`);
  return s;
});
const nSeeds = Number(arg('--seeds', '5'));
// --seed-list 3,4 runs those seeds only (e.g. one seed per invocation of a long learner).
const seedList = arg('--seed-list', '');
const seeds = seedList ? seedList.split(',').map(Number) : Array.from({ length: nSeeds }, (_, i) => i);
const nullSize = Number(arg('--null', '1000'));

interface Task {
  name: string;
  profiles: Profiles;
  labelCol: string; groupCol: string; doseCol?: string; batchCol?: string; controls: string[];
  runs: { split: SplitKind; folds?: number }[];
}

async function load(name: string): Promise<Task> {
  if (name === 'bbbc021') {
    return {
      name, profiles: (await bbbc021Recipe(dataDir)).profiles, labelCol: 'Metadata_moa', groupCol: 'Metadata_compound',
      doseCol: 'Metadata_concentration', batchCol: 'Metadata_batch', controls: ['DMSO'], runs: [{ split: 'loco' }],
    };
  }
  if (name === 'cell-injury' || name === 'cell-injury-plates') {
    const file = name === 'cell-injury' ? CELL_INJURY_FILES.well : CELL_INJURY_FILES.plate;
    return {
      name, profiles: (await cellInjuryRecipe(join(dataDir, file))).profiles, labelCol: 'Metadata_injury_type',
      groupCol: 'Metadata_compound', doseCol: 'Compound Concentration (microMolar)', batchCol: 'Plate', controls: ['DMSO', 'Control'],
      runs: name === 'cell-injury' ? [{ split: 'kfold', folds: 5 }] : [{ split: 'kfold', folds: 5 }, { split: 'leave-batch-out' }],
    };
  }
  if (name === 'lincs') {
    const p = (await lincsRecipe(join(dataDir, LINCS_FILES.plate), join(dataDir, LINCS_FILES.annotations))).profiles;
    return {
      // One plate: no batch, so no NSCB and the batch-aware LDA has no batch term.
      name, profiles: p, labelCol: 'Metadata_moa', groupCol: 'Metadata_pert_iname', controls: ['DMSO'],
      runs: [{ split: 'kfold', folds: 5 }],
    };
  }
  throw new Error(`unknown data set ${name}`);
}

const fmt = (s: MetricSummary | undefined) => (s && !Number.isNaN(s.mean) ? `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}` : '–');

function table(r: EvaluationResult): string {
  const fits = r.options.folds * r.options.seeds.length;
  const head = ['representation', 'NSC', 'NSCB', 'mAP MoA', '(random)', 's total', 's / fit'];
  const rows = r.representations.map((s) => {
    const seeded = r.folds.filter((f) => f.representation === s.name);
    const perFit = seeded.length ? seeded.reduce((a, f) => a + f.seconds, 0) / seeded.length : s.seconds / fits;
    return [s.name, fmt(s.metrics.nsc), fmt(s.metrics.nscb), fmt(s.metrics['map-consistency']), s.metrics['map-consistency-baseline']?.mean.toFixed(3) ?? '–',
      s.seconds.toFixed(1), perFit.toFixed(2)];
  });
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((x) => x[c]!.length)));
  const line = (cells: string[]) => cells.map((x, c) => (c === 0 ? x.padEnd(w[c]!) : x.padStart(w[c]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

const loadavg = () => os.loadavg().map((v) => v.toFixed(1)).join(' ');
const b = linalgBackend();
console.log(`phenomap representations held out (${b.engine}${b.simd ? ` ${b.simd}` : ''}, ${b.threads} thread(s)); seeds ${seeds.join(',')}; null ${nullSize}`);
for (const name of datasets) {
  const t = await load(name);
  for (const run of t.runs) {
    const loadBefore = loadavg();
    const cpu0 = process.cpuUsage();
    // A nested choice of batch correction needs batches (the LINCS plate has none).
    const runReps = t.batchCol ? reps : reps.filter((s) => !s.select?.corrections?.length);
    for (const s of reps) if (!runReps.includes(s)) console.log(`  ${s.name} skipped on ${name}: no batch column to correct`);
    const r = evaluate(t.profiles, {
      labelCol: t.labelCol, groupCol: t.groupCol, doseCol: t.doseCol, batchCol: t.batchCol, controlLabels: t.controls,
      split: run.split, folds: run.folds, seeds, representations: runReps, metrics: ['nsc', 'nscb', 'map-consistency'],
      nullSize, inSample: false, dataLevel: false,
    });
    console.log(`\n## ${name}: ${run.split}${run.folds ? ` ${run.folds}` : ''} (${r.options.folds} folds × ${seeds.length} seeds; ${r.treatments} treatments of ${r.compounds} compounds, ${r.features} features)`);
    const cpu = process.cpuUsage(cpu0);
    console.log(`load average (1, 5, 15 min) before ${loadBefore}, after ${loadavg()}; process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s for the whole run`);
    console.log(table(r));
    for (const s of r.representations) for (const w of s.warnings) console.log(`  note ${w}`);
    // The nested choice per outer fold, counted (first seed, and over every seed), and each seed's figures.
    for (const s of r.representations) {
      const own = r.folds.filter((f) => f.representation === s.name && f.chosen);
      if (!own.length) continue;
      const count = (fs: typeof own) => {
        const m = new Map<string, number>();
        for (const f of fs) {
          const k = f.chosenCorrection !== undefined ? `${f.chosenCorrection}/${f.chosen}` : f.chosen!;
          m.set(k, (m.get(k) ?? 0) + 1);
        }
        return [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ×${v}`).join(', ');
      };
      console.log(`  ${s.name} chose (folds of seed ${seeds[0]}): ${count(own.filter((f) => f.seed === seeds[0]))}`);
      if (seeds.length > 1) console.log(`  ${s.name} chose (folds × seeds): ${count(own)}`);
      const per = (k: 'nsc' | 'nscb' | 'map-consistency') => s.metrics[k]?.values.map((v) => v.toFixed(3)).join(' ') ?? '–';
      console.log(`  ${s.name} per seed: NSC ${per('nsc')}; NSCB ${per('nscb')}; MoA mAP ${per('map-consistency')}`);
      if (own.some((f) => f.chosenCorrection !== undefined)) {
        const corr = new Map<string, number>();
        for (const f of own) corr.set(f.chosenCorrection!, (corr.get(f.chosenCorrection!) ?? 0) + 1);
        console.log(`  ${s.name} corrections chosen (folds × seeds): ${[...corr].map(([k, v]) => `${k} ×${v}`).join(', ')}`);
      }
    }
  }
}
