/**
 * Representations that carry to unseen compounds and plates (issue 24): every learner held out by
 * compound on the real data, NSC / NSCB / MoA-consistency mAP as mean ± s.d. over seeds, and the
 * seconds each learner took (whole evaluation and per fit).
 *
 *   npx tsx bench/represent.ts [--data ../shared/data] [--datasets bbbc021,cell-injury,lincs,cell-injury-plates]
 *                              [--reps raw,lda-proj,...] [--seeds 5 | --seed-list 0,1] [--null 1000] [--ref lda-proj]
 *                              [--rules default,same,others,all] [--correct combat|harmony|sphere]
 *
 * Data sets: BBBC021 (leave-one-compound-out, batch = week; NSCB is the transfer test), the
 * cell-injury wells `fs_well_holdout` (5-fold over compounds, batch = plate), the LINCS plate
 * (5-fold over compounds), and `cell-injury-plates`: the cell-injury `fs_plate_holdout` wells, 5-fold
 * over compounds (within plate) beside leave-batch-out over its plates (queries on a plate never
 * seen in training) — the issue's "leave-batch-out within 10 % of the within-plate figure" — under
 * each candidate rule of `--rules` (candidates on the query's plate, on the others, on any: the
 * same rule on both sides of the comparison).
 * Each learner is one evaluation: its wall and process CPU seconds per fit and the 1-minute load
 * average after it; with several seeds, per-seed values and the paired differences against `--ref`.
 * Run under `flock /tmp/phenomap-heavy.lock`: the whole default run takes several minutes.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { bbbc021Recipe, cellInjuryRecipe, lincsRecipe, CELL_INJURY_FILES, LINCS_FILES } from '../src/io/recipes.js';
import type { Profiles } from '../src/io/profiles.js';
import { BUILTIN_REPRESENTATIONS, evaluate, type CandidateBatchRule, type EvaluationCorrection, type EvaluationResult, type MetricSummary } from '../src/evaluate/protocol.js';
import { CANDIDATE_BATCH_RULES, type SplitKind } from '../src/evaluate/splits.js';
import type { CorrectionName } from '../src/batch/registry.js';
import { linalgBackend } from '../src/linalg/backend.js';
import { arg, root } from './common.js';

const dataDir = arg('--data', join(root, '..', 'shared', 'data'));
const datasets = arg('--datasets', 'bbbc021,cell-injury,lincs,cell-injury-plates').split(',').filter(Boolean);
const DEFAULT_REPS = [
  'raw', 'raw-clip', 'pca', 'lda-proj', 'lda-proj-clip', 'lda-proj-consensus', 'lda-proj-clip-consensus',
  'lda-proj-clip-uncentred', 'batch-lda', 'batch-lda-noshrink', 'batch-lda-clip', 'nca', 'nca-clip', 'lmnn', 'lmnn-noscale', 'lmnn-lda', 'contrastive',
  'ensemble-lda-clip', 'select-linear', 'select-ensemble', 'select-ensemble-map', 'select-ensemble-5', 'select-corrected',
  'select-corrected-mrr', 'select-corrected-mrr-top2', 'select-corrected-center-mrr',
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
// cell-injury-plates: candidate rules relative to the query's plate ('default' = training treatments, any plate).
const rules = arg('--rules', 'default').split(',').filter(Boolean).map((r) => {
  if (r === 'default') return undefined;
  if (!(CANDIDATE_BATCH_RULES as readonly string[]).includes(r)) throw new Error(`unknown candidate rule ${r}`);
  return r as CandidateBatchRule;
});
// A batch correction refitted per fold on the training side (the held-out plate placed as a new batch under leave-batch-out).
const correctArg = arg('--correct', '');
const correction: EvaluationCorrection | undefined = correctArg ? { method: correctArg as CorrectionName, fit: 'training' } : undefined;

interface Task {
  name: string;
  profiles: Profiles;
  labelCol: string; groupCol: string; doseCol?: string; batchCol?: string; controls: string[];
  runs: { split: SplitKind; folds?: number; candidateBatch?: CandidateBatchRule }[];
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
      runs: name === 'cell-injury'
        ? [{ split: 'kfold', folds: 5 }]
        : rules.flatMap((rule) => [{ split: 'kfold' as const, folds: 5, candidateBatch: rule }, { split: 'leave-batch-out' as const, candidateBatch: rule }]),
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

interface Timed { r: EvaluationResult; cpu: number; load: number }

function table(parts: Timed[]): string {
  const head = ['representation', 'NSC', 'NSCB', 'mAP MoA', '(random)', 's total', 's / fit', 'CPU s / fit', 'load'];
  const rows = parts.map(({ r, cpu, load }) => {
    const s = r.representations[0]!;
    const fits = r.options.folds * r.options.seeds.length;
    const seeded = r.folds.filter((f) => f.representation === s.name);
    const perFit = seeded.length ? seeded.reduce((a, f) => a + f.seconds, 0) / seeded.length : s.seconds / fits;
    return [s.name, fmt(s.metrics.nsc), fmt(s.metrics.nscb), fmt(s.metrics['map-consistency']), s.metrics['map-consistency-baseline']?.mean.toFixed(3) ?? '–',
      s.seconds.toFixed(1), perFit.toFixed(2), (cpu / Math.max(1, seeded.length)).toFixed(2), load.toFixed(1)];
  });
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((x) => x[c]!.length)));
  const line = (cells: string[]) => cells.map((x, c) => (c === 0 ? x.padEnd(w[c]!) : x.padStart(w[c]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/**
 * Per-seed values and the paired differences against the reference learner: the seeds share their
 * folds, so the per-seed difference has its own spread, smaller than either learner's.
 */
function paired(parts: Timed[], ref: string): string[] {
  const base = parts.find((x) => x.r.representations[0]!.name === ref)?.r.representations[0];
  const out: string[] = [];
  for (const { r } of parts) {
    const s = r.representations[0]!;
    for (const [key, label] of [['nsc', 'NSC'], ['nscb', 'NSCB'], ['map-consistency', 'mAP']] as const) {
      const v = s.metrics[key]?.values;
      if (!v?.length) continue;
      let line = `  ${s.name} ${label} per seed: ${v.map((x) => x.toFixed(3)).join(' ')}`;
      const b = base?.metrics[key]?.values;
      if (b && s.name !== ref && b.length === v.length) {
        const d = v.map((x, i) => x - b[i]!);
        const m = d.reduce((a, x) => a + x, 0) / d.length;
        const sd = d.length > 1 ? Math.sqrt(d.reduce((a, x) => a + (x - m) ** 2, 0) / (d.length - 1)) : 0;
        const larger = Math.max(s.metrics[key]!.sd, base!.metrics[key]!.sd);
        line += `; − ${ref}: ${d.map((x) => (x >= 0 ? '+' : '') + x.toFixed(3)).join(' ')} (mean ${m >= 0 ? '+' : ''}${m.toFixed(3)} ± ${sd.toFixed(3)}, ${d.filter((x) => x > 0).length}/${d.length} seeds above; mean difference ${m > larger ? '>' : '≤'} larger s.d. ${larger.toFixed(3)})`;
      }
      out.push(line);
    }
  }
  return out;
}

const b = linalgBackend();
const refRep = arg('--ref', 'lda-proj');
console.log(`phenomap representations held out (${b.engine}${b.simd ? ` ${b.simd}` : ''}, ${b.threads} thread(s)); seeds ${seeds.join(',')}; null ${nullSize}; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
for (const name of datasets) {
  const t = await load(name);
  for (const run of t.runs) {
    // One evaluation per learner, so that each gets its own process CPU time and load average.
    const parts: Timed[] = [];
    for (const rep of reps) {
      // A nested choice of batch correction needs batches (the LINCS plate has none).
      if (!t.batchCol && rep.select?.corrections?.length) {
        console.log(`  ${rep.name} skipped on ${name}: no batch column to correct`);
        continue;
      }
      const c0 = process.cpuUsage();
      const r = evaluate(t.profiles, {
        labelCol: t.labelCol, groupCol: t.groupCol, doseCol: t.doseCol, batchCol: t.batchCol, controlLabels: t.controls,
        split: run.split, folds: run.folds, seeds, representations: [rep], metrics: ['nsc', 'nscb', 'map-consistency'],
        nullSize, inSample: false, dataLevel: false, candidateBatch: run.candidateBatch, correction,
      });
      const c = process.cpuUsage(c0);
      parts.push({ r, cpu: (c.user + c.system) / 1e6, load: loadavg()[0]! });
    }
    if (!parts.length) continue;
    const r = parts[0]!.r;
    const rule = (run.candidateBatch ? `; candidates: ${run.candidateBatch} batch` : '') + (correction ? `; ${correction.method} per fold on the training side` : '');
    console.log(`\n## ${name}: ${run.split}${run.folds ? ` ${run.folds}` : ''}${rule} (${r.options.folds} folds × ${seeds.length} seeds; ${r.treatments} treatments of ${r.compounds} compounds, ${r.features} features)`);
    console.log(table(parts));
    // Per-fold warnings of one kind (e.g. LMNN's rows without a target) once, with their count.
    for (const { r: x } of parts) {
      for (const s of x.representations) {
        if (!s.warnings.length) continue;
        console.log(`  note ${s.warnings[0]}${s.warnings.length > 1 ? ` (and ${s.warnings.length - 1} more fold warning(s) like it)` : ''}`);
      }
    }
    for (const l of paired(parts, refRep)) console.log(l);
    // The nested choice per outer fold, counted (first seed, and over every seed; correction/learner
    // where the correction was chosen too).
    for (const { r: x } of parts) {
      for (const sr of x.representations) {
        const own = x.folds.filter((f) => f.representation === sr.name && f.chosen);
        if (!own.length) continue;
        const count = (fs: typeof own) => {
          const m = new Map<string, number>();
          for (const f of fs) {
            const k = f.chosenCorrection !== undefined ? `${f.chosenCorrection}/${f.chosen}` : f.chosen!;
            m.set(k, (m.get(k) ?? 0) + 1);
          }
          return [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ×${v}`).join(', ');
        };
        console.log(`  ${sr.name} chose (folds of seed ${seeds[0]}): ${count(own.filter((f) => f.seed === seeds[0]))}`);
        if (seeds.length > 1) console.log(`  ${sr.name} chose (folds × seeds): ${count(own)}`);
        if (own.some((f) => f.chosenCorrection !== undefined)) {
          const corr = new Map<string, number>();
          for (const f of own) corr.set(f.chosenCorrection!, (corr.get(f.chosenCorrection!) ?? 0) + 1);
          console.log(`  ${sr.name} corrections chosen (folds × seeds): ${[...corr].map(([k, v]) => `${k} ×${v}`).join(', ')}`);
        }
      }
    }
  }
}
