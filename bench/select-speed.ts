/**
 * The nested choices of issue 24 (select-corrected, -r3, -loco, …) on BBBC021 held out by compound:
 * this checkout beside an earlier one (`--base`, e.g. `git worktree add /tmp/base <commit>` with
 * node_modules linked), alternating, each evaluation in a fresh process. Prints per run the wall and
 * process CPU seconds (every thread of the process) and the 1-minute load average before and after,
 * then per representation the medians, the CPU and wall ratios (base / this) and whether the fold
 * records (folds.csv without its seconds column) and the pooled NSC / NSCB / mAP are identical.
 *
 *   npx tsx bench/select-speed.ts --base /path/to/old/checkout [--reps select-corrected,select-corrected-r3]
 *        [--seed 0] [--repeats 2] [--threads 1,2] [--base-threads 1] [--only loco:AZ138,loco:taxol] [--data ../shared/data]
 *
 * `--threads` lists this checkout's thread counts to run; the base runs on `--base-threads` (default
 * one thread; an earlier checkout that shares outer folds over threads can be given 2).
 * Run under `flock /tmp/phenomap-heavy.lock`: one select-corrected evaluation is a minute of CPU.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { arg, hasFlag, root } from './common.js';

interface Run { tree: string; threads: number; rep: string; wall: number; cpu: number; load0: number; load1: number; folds: string; metrics: string }

if (hasFlag('--child')) {
  // One evaluation with the code of `--root`; prints its timing and the digests of its outputs.
  const tree = arg('--root', root);
  const { bbbc021Recipe } = await import(pathToFileURL(join(tree, 'src/io/recipes.ts')).href);
  const { BUILTIN_REPRESENTATIONS, evaluate } = await import(pathToFileURL(join(tree, 'src/evaluate/protocol.ts')).href);
  const rep = arg('--rep', 'select-corrected');
  const only = arg('--only', '');
  const p = (await bbbc021Recipe(arg('--data', join(root, '..', 'shared', 'data')))).profiles;
  const load0 = loadavg()[0]!;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = evaluate(p, {
    labelCol: 'Metadata_moa', groupCol: 'Metadata_compound', doseCol: 'Metadata_concentration', batchCol: 'Metadata_batch', controlLabels: ['DMSO'],
    split: 'loco', seeds: [Number(arg('--seed', '0'))], representations: [BUILTIN_REPRESENTATIONS[rep]], metrics: ['nsc', 'nscb', 'map-consistency'],
    nullSize: 1000, inSample: false, dataLevel: false, onlyFolds: only ? only.split(',') : undefined, threads: Number(arg('--threads', '1')),
  });
  const c = process.cpuUsage(c0);
  const digest = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex').slice(0, 16);
  const folds = r.folds.map(({ seconds: _s, ...f }: { seconds: number }) => f);
  console.log(JSON.stringify({
    wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, load0, load1: loadavg()[0], folds: digest(folds), metrics: digest(r.representations[0].metrics),
  }));
} else {
  const base = arg('--base', '');
  if (!base) throw new Error('--base <checkout of an earlier commit> is required');
  const reps = arg('--reps', 'select-corrected').split(',').filter(Boolean);
  const repeats = Number(arg('--repeats', '2'));
  const threadList = arg('--threads', '1').split(',').map(Number);
  const baseThreads = Number(arg('--base-threads', '1'));
  const pass = ['--seed', arg('--seed', '0'), '--data', arg('--data', join(root, '..', 'shared', 'data')), ...(arg('--only', '') ? ['--only', arg('--only', '')] : [])];
  const self = join(root, 'bench', 'select-speed.ts');
  const runs: Run[] = [];
  const once = (tree: string, threads: number, rep: string) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', '--root', tree, '--rep', rep, '--threads', String(threads), ...pass], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`${tree} ${rep}: ${r.stderr}`);
    const line = r.stdout.trim().split('\n').pop()!;
    const run: Run = { tree: tree === root ? 'this' : 'base', threads, rep, ...JSON.parse(line) };
    runs.push(run);
    console.log(`${run.rep.padEnd(24)} ${run.tree.padEnd(4)} threads ${threads}  wall ${run.wall.toFixed(1).padStart(6)} s  CPU ${run.cpu.toFixed(1).padStart(6)} s  load ${run.load0.toFixed(1)} → ${run.load1.toFixed(1)}  folds ${run.folds} metrics ${run.metrics}`);
  };
  console.log(`BBBC021 held out by compound, seed ${arg('--seed', '0')}${arg('--only', '') ? `, folds ${arg('--only', '')}` : ', all 38 folds'}; base ${base}; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const rep of reps) {
    for (let k = 0; k < repeats; k++) {
      once(base, baseThreads, rep);
      for (const t of threadList) once(root, t, rep);
    }
  }
  const med = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  console.log('\nmedians (base / this = speed-up)');
  for (const rep of reps) {
    const b = runs.filter((r) => r.rep === rep && r.tree === 'base');
    for (const t of threadList) {
      const n = runs.filter((r) => r.rep === rep && r.tree === 'this' && r.threads === t);
      const same = n.every((r) => r.folds === b[0]!.folds && r.metrics === b[0]!.metrics) && b.every((r) => r.folds === b[0]!.folds);
      console.log(`${rep.padEnd(24)} threads ${t}: base wall ${med(b.map((r) => r.wall)).toFixed(1)} s CPU ${med(b.map((r) => r.cpu)).toFixed(1)} s; this wall ${med(n.map((r) => r.wall)).toFixed(1)} s CPU ${med(n.map((r) => r.cpu)).toFixed(1)} s; ` +
        `CPU ratio ${(med(b.map((r) => r.cpu)) / med(n.map((r) => r.cpu))).toFixed(2)}×, wall ratio ${(med(b.map((r) => r.wall)) / med(n.map((r) => r.wall))).toFixed(2)}×; outputs ${same ? 'identical' : 'DIFFER'}`);
    }
  }
}
