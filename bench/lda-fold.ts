/**
 * The LDA target of issue 22 on its own: one `evaluate` fold with lda-proj at 3,680 × 5,792
 * (≥ 10× scikit-learn's LinearDiscriminantAnalysis(solver='eigen', shrinkage='auto'), < 35 s),
 * phenomap and the peer alternating in fresh processes on the same table, --repeats times each
 * (bench/wide.ts runs every stage once per size; the peer's O(d³) fit takes minutes, so this
 * script runs only the two stages the target is about).
 *
 *   flock /tmp/phenomap-heavy.lock npx tsx bench/lda-fold.ts --table wide_7680x5792.csv.gz
 *       [--repeats 2] [--threads 1] [--our-threads N]
 *
 * phenomap: bench/wide-stages.ts --stages lda,fold (the LDA stage: lda-proj fitted on the
 * training compounds and applied to every row; the fold: `evaluate` kfold 2 with raw, pca and
 * lda-proj, median fold). Peer: bench/wide_peer.py --stages lda,fold (one LDA fit, timed inside
 * its fold). --threads sets both sides (PHENOMAP_THREADS, OPENBLAS_NUM_THREADS; default 1);
 * --our-threads overrides phenomap's side only. Beside wall seconds: process CPU seconds of each
 * LDA fit + transform (the peer's is the fit inside its fold), and the load average, so that a
 * loaded machine's figures can be read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { arg, measure, root } from './common.js';

const table = arg('--table', '');
if (!table) throw new Error('give --table wide_7680x5792.csv.gz (phenomap synth --rows 7680 --features 5792 --plates 20)');
const repeats = Number(arg('--repeats', '2'));
const threads = arg('--threads', '1');
const ourThreads = arg('--our-threads', threads);
const env = { ...process.env, PHENOMAP_THREADS: threads, OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads };
const ourEnv = { ...env, PHENOMAP_THREADS: ourThreads };

interface Stage { seconds: number; runs: number[]; cpu?: number; note?: string }
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
function stages(stdout: string): Record<string, Stage> {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (!line) throw new Error(`no result line in:\n${stdout}`);
  return (JSON.parse(line) as { stages: Record<string, Stage> }).stages;
}
/** "raw 2.90 s, pca 2.44 s, lda-proj 10.28 s" → the seconds of `name`. */
function part(note: string | undefined, name: string): number {
  const m = new RegExp(`(?:^|, )${name} ([0-9.]+) s`).exec(note ?? '');
  return m ? Number(m[1]) : NaN;
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

console.log(`# lda-proj fold, ${table}; threads: phenomap ${ourThreads}, scikit-learn ${threads}; alternating, ${repeats} repeats; ${new Date().toISOString()}`);
const rows: { ldaFold: number; ldaStage: number; ldaCpu: number; fold: number; foldCpu: number; peerLda: number; peerStage: number; peerLdaCpu: number; peerFold: number; peerFoldCpu: number }[] = [];
for (let r = 0; r < repeats; r++) {
  const loadBefore = load();
  const o = measure(process.execPath, ['--import', 'tsx', join(root, 'bench', 'wide-stages.ts'), table, '--repeats', '1', '--stages', 'lda,fold'], ourEnv);
  if (!o.ok) throw new Error(`phenomap failed:\n${o.stderr}`);
  const p = measure('/usr/bin/python3', [join(root, 'bench', 'wide_peer.py'), 'stages', table, '--threads', threads, '--repeats', '1', '--stages', 'lda,fold'], env);
  if (!p.ok) throw new Error(`peer failed:\n${p.stderr}`);
  const so = stages(o.stdout), sp = stages(p.stdout);
  const row = {
    ldaFold: part(so.fold?.note, 'lda-proj'), ldaStage: so.lda!.seconds, ldaCpu: so.lda!.cpu ?? NaN, fold: so.fold!.seconds, foldCpu: so.fold!.cpu ?? NaN,
    peerLda: part(sp.fold?.note, 'lda'), peerStage: sp.lda!.seconds, peerLdaCpu: sp.lda!.cpu ?? NaN, peerFold: sp.fold!.seconds, peerFoldCpu: sp.fold!.cpu ?? NaN,
  };
  rows.push(row);
  console.log(`repeat ${r + 1} (load average ${loadBefore} → ${load()}): phenomap fold ${row.fold.toFixed(1)} s, CPU ${row.foldCpu.toFixed(1)} s (lda-proj ${row.ldaFold.toFixed(1)} s; ${so.fold!.note}), LDA stage ${row.ldaStage.toFixed(1)} s, CPU ${row.ldaCpu.toFixed(1)} s (${so.lda!.note}), peak RSS ${o.maxRssMB.toFixed(0)} MB | ` +
    `scikit-learn fold ${row.peerFold.toFixed(1)} s, CPU ${row.peerFoldCpu.toFixed(1)} s (${sp.fold!.note}), LDA ${row.peerStage.toFixed(1)} s, CPU ${row.peerLdaCpu.toFixed(1)} s, peak RSS ${p.maxRssMB.toFixed(0)} MB | lda-proj ${(row.peerLda / row.ldaFold).toFixed(2)}× wall, LDA ${(row.peerLdaCpu / row.ldaCpu).toFixed(2)}× CPU`);
}
const m = (k: keyof (typeof rows)[number]) => med(rows.map((x) => x[k]));
console.log(`median: lda-proj in one fold phenomap ${m('ldaFold').toFixed(1)} s, scikit-learn ${m('peerLda').toFixed(1)} s → ${(m('peerLda') / m('ldaFold')).toFixed(2)}× ` +
  `(per repeat ${rows.map((x) => (x.peerLda / x.ldaFold).toFixed(2)).join(', ')}); LDA stage ${m('ldaStage').toFixed(1)} s vs ${m('peerStage').toFixed(1)} s → ${(m('peerStage') / m('ldaStage')).toFixed(2)}×; ` +
  `whole fold (raw, pca, lda) ${m('fold').toFixed(1)} s vs ${m('peerFold').toFixed(1)} s → ${(m('peerFold') / m('fold')).toFixed(2)}×; ` +
  `CPU: LDA fit + transform ${m('ldaCpu').toFixed(1)} s vs ${m('peerLdaCpu').toFixed(1)} s → ${(m('peerLdaCpu') / m('ldaCpu')).toFixed(2)}×, whole fold ${m('foldCpu').toFixed(1)} s vs ${m('peerFoldCpu').toFixed(1)} s → ${(m('peerFoldCpu') / m('foldCpu')).toFixed(2)}×`);
