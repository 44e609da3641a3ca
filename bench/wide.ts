/**
 * Full-width profiles (issue 22): the whole CellProfiler feature space, 5,792 features, at 384,
 * 7,680 and 38,400 rows (1, 20 and 100 plates of `phenomap synth`), phenomap beside
 * scikit-learn / pandas in one run (bench/wide_peer.py, same table, same rows).
 *
 *   flock /tmp/phenomap-heavy.lock npx tsx bench/wide.ts [--sizes 384,7680,38400] [--threads 1]
 *       [--repeats 3] [--scratch DIR] [--peer-lda-max 7680] [--float32-from 38400] [--parquet 7680]
 *
 * Per size, each side in its own child process (so peak RSS is per size and side):
 *   phenomap stages  bench/wide-stages.ts: read, z-score, PCA(50), LDA (lda-proj), 50-NN, AP, and up
 *                    to --itml-max rows (384) the study's ITML, its d × d metric and Cholesky factor
 *   phenomap fold    bench/wide-stages.ts --stages fold: one fold of evaluate kfold 2 (raw, pca, lda-proj)
 *   phenomap run     `phenomap run --representations raw,pca` (whole process, /usr/bin/time RSS)
 *   peer stages      wide_peer.py stages (pandas read_csv, numpy z-score, PCA(50) default, LDA
 *                    eigen/auto, NearestNeighbors brute, AffinityPropagation, one fold)
 *   peer run         ../shared/bench/peer_sklearn.py --no-tsne --repeats 1 (the study's pipeline,
 *                    dense AP) where it fits in memory and time (≤ 7,680 rows)
 * Threads: PHENOMAP_THREADS and OPENBLAS_NUM_THREADS / OMP_NUM_THREADS = --threads (default 1:
 * one thread each). Tables at or above --float32-from rows are read as float32 by phenomap.
 * The peer's O(d³) LDA (≈ 6 min at d = 5,792) runs only up to --peer-lda-max rows.
 * With --parquet N the N-row table is also written as Parquet and read both ways.
 * The peer's dense AffinityPropagation runs only up to 8,000 rows (above, it says how much
 * memory it would need). Each stage is also given in process CPU seconds (one thread each side:
 * the fairer ratio on a loaded machine), with the load average before and after each size.
 * --run-timeout S stops phenomap's `run` after S seconds (0: no limit); --peer-run-max N runs
 * peer_sklearn.py only up to N rows (default 7,680).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, measure, peer, root, type Measured } from './common.js';

const sizes = arg('--sizes', '384,7680,38400').split(',').map(Number);
const threads = arg('--threads', '1');
const repeats = arg('--repeats', '3');
const scratch = arg('--scratch', join(tmpdir(), 'phenomap-wide'));
const peerLdaMax = Number(arg('--peer-lda-max', '7680'));
const float32From = Number(arg('--float32-from', '38400'));
const parquetAt = Number(arg('--parquet', '0'));
const itmlMax = Number(arg('--itml-max', '384'));
const runTimeout = Number(arg('--run-timeout', '0'));
const peerRunMax = Number(arg('--peer-run-max', '7680'));
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const D = 5792;
mkdirSync(scratch, { recursive: true });
const env = { ...process.env, PHENOMAP_THREADS: threads, OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads };



const measureHere = (cmd: string, cmdArgs: string[]): Measured => measure(cmd, cmdArgs, env);

interface StageResult {
  stages: Record<string, { seconds: number | null; runs: number[]; cpu?: number; note?: string }>;
  peakRssMB: number;
}

function json(m: Measured, what: string): StageResult | null {
  if (!m.ok) {
    console.log(`${what} failed:\n${m.stderr.split('\n').slice(-12).join('\n')}`);
    return null;
  }
  const line = m.stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  return line ? (JSON.parse(line) as StageResult) : null;
}

const phenomap = (args: string[]) => measureHere(process.execPath, [join(root, 'bin', 'phenomap.js'), ...args]);
const tsx = (file: string, args: string[]) => measureHere(process.execPath, ['--import', 'tsx', join(root, 'bench', file), ...args]);

const fmt = (s: number | null | undefined) => (s === undefined || s === null || Number.isNaN(s) ? '–' : s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toFixed(3));
const ratio = (peerS: number | null | undefined, ours: number | null | undefined) =>
  peerS === undefined || ours === undefined || peerS === null || ours === null || !(peerS > 0) || !(ours > 0) ? '–' : `${(peerS / ours).toFixed(2)}×`;

console.log(`# wide profiles: ${D} features; threads = ${threads} on both sides (PHENOMAP_THREADS, OPENBLAS_NUM_THREADS); ${new Date().toISOString()}`);
for (const n of sizes) {
  const table = join(scratch, `wide_${n}x${D}.csv.gz`);
  if (!existsSync(table)) {
    const g = phenomap(['synth', '--rows', String(n), '--features', String(D), '--plates', String(Math.max(1, Math.round(n / 384))), '--out', table, '-q']);
    if (!g.ok) throw new Error(`synth failed: ${g.stderr}`);
  }
  const f32 = n >= float32From ? ['--float32'] : [];
  const loadBefore = load();
  const itmlStage = n <= itmlMax ? ',itml' : '';
  const ours = json(tsx('wide-stages.ts', [table, '--repeats', repeats, '--stages', `read,zscore,pca,lda,knn,ap${itmlStage}`, ...f32]), `phenomap stages (${n})`);
  const oursFold = json(tsx('wide-stages.ts', [table, '--repeats', '1', '--stages', 'fold', ...f32]), `phenomap fold (${n})`);
  const out = join(scratch, `run_${n}`);
  rmSync(out, { recursive: true, force: true });
  const runArgs = ['run', table, '--label-col', 'Metadata_moa', '--representations', 'raw,pca', '--out', out, '-q', ...f32];
  const run = runTimeout > 0
    ? measureHere('/usr/bin/timeout', [String(runTimeout), process.execPath, join(root, 'bin', 'phenomap.js'), ...runArgs])
    : phenomap(runArgs);
  if (!run.ok && runTimeout > 0 && run.wall >= runTimeout - 1) console.log(`phenomap run stopped after --run-timeout ${runTimeout} s`);
  else if (!run.ok) console.log(`phenomap run failed: ${run.stderr.split('\n').slice(-5).join('\n')}`);
  const peerStages = ['read', 'zscore', 'pca', 'knn', 'ap', ...(n <= peerLdaMax ? ['lda', 'fold'] : [])];
  const theirs = json(measureHere('/usr/bin/python3', [join(root, 'bench', 'wide_peer.py'), 'stages', table, '--threads', threads, '--repeats', repeats, '--stages', peerStages.join(',')]), `peer stages (${n})`);
  const peerRun = n <= peerRunMax && existsSync(peer)
    ? measureHere('/usr/bin/python3', [peer, table, '--label-col', 'Metadata_moa', '--no-tsne', '--repeats', '1', '--threads', threads])
    : null;
  const S = ours?.stages ?? {}, P = theirs?.stages ?? {};
  console.log(`\n## ${n.toLocaleString('en-US')} rows × ${D} features (${f32.length ? 'float32' : 'float64'} storage in phenomap); load average before ${loadBefore}, after ${load()}`);
  console.log('stage | phenomap s | peer s | speed-up | phenomap CPU s | peer CPU s | CPU speed-up | notes');
  console.log('---|---|---|---|---|---|---|---');
  type St = { seconds: number | null; cpu?: number; note?: string };
  const row = (name: string, a?: St, b?: St) =>
    console.log(`${name} | ${fmt(a?.seconds)} | ${fmt(b?.seconds)} | ${ratio(b?.seconds, a?.seconds)} | ${fmt(a?.cpu)} | ${fmt(b?.cpu)} | ${ratio(b?.cpu, a?.cpu)} | ${[a?.note && `phenomap: ${a.note}`, b?.note && `peer: ${b.note}`].filter(Boolean).join('; ')}`);
  row('read (CSV.gz)', S.read, P.read);
  row('z-score', S.zscore, P.zscore);
  row('PCA(50)', S.pca, P.pca);
  row('LDA (lda-proj / eigen, auto shrinkage)', S.lda, P.lda);
  row('50-NN on PCA-50', S.knn, P.knn);
  row('affinity propagation on PCA-50', S.ap, P.ap);
  row('one evaluate fold (raw, pca, lda-proj)', oursFold?.stages.fold, P.fold);
  if (S.itml) {
    row('ITML, the study’s parameters (fit + transform)', S.itml, undefined);
    row('  its d × d metric, formed', S['itml metric (d × d)'], undefined);
    row('  metric-learn’s Cholesky components', S['itml Cholesky components'], undefined);
  }
  const peerRunS = peerRun?.ok ? peerRun.wall : undefined;
  const peerRunCpu = peerRun?.ok ? peerRun.cpu : undefined, runCpu = run.ok ? run.cpu : undefined;
  console.log(`run --representations raw,pca (whole process) | ${fmt(run.ok ? run.wall : undefined)} | ${fmt(peerRunS)} | ${ratio(peerRunS, run.ok ? run.wall : undefined)} | ${fmt(runCpu)} | ${fmt(peerRunCpu)} | ${ratio(peerRunCpu, runCpu)} | ${peerRun ? '' : `peer: not run above ${peerRunMax.toLocaleString('en-US')} rows (--peer-run-max; its dense AP needs ≥ 4 n² float64); `}peer: peer_sklearn.py (study pipeline: exact PCA, dense AP, no t-SNE)`);
  console.log(`peak RSS MB: phenomap stages ${fmt(ours?.peakRssMB)}, fold ${fmt(oursFold?.peakRssMB)}, run ${fmt(run.maxRssMB)}; peer stages ${fmt(theirs?.peakRssMB)}${peerRun ? `, peer run ${fmt(peerRun.maxRssMB)}` : ''}`);
  // Reading alone, each side in its own process: time and peak RSS of the read itself.
  const readOurs = json(tsx('wide-stages.ts', [table, '--repeats', '1', '--stages', 'read', ...f32]), 'phenomap read');
  const readPeer = json(measureHere('/usr/bin/python3', [join(root, 'bench', 'wide_peer.py'), 'stages', table, '--threads', threads, '--stages', 'read']), 'pandas read');
  console.log(`read only (CSV.gz, own process) | ${fmt(readOurs?.stages.read?.seconds)} | ${fmt(readPeer?.stages.read?.seconds)} | ${ratio(readPeer?.stages.read?.seconds, readOurs?.stages.read?.seconds)} | ${fmt(readOurs?.stages.read?.cpu)} | ${fmt(readPeer?.stages.read?.cpu)} | ${ratio(readPeer?.stages.read?.cpu, readOurs?.stages.read?.cpu)} | peak RSS MB: phenomap ${fmt(readOurs?.peakRssMB)}, pandas ${fmt(readPeer?.peakRssMB)}`);
  if (n === parquetAt) {
    const pq = join(scratch, `wide_${n}x${D}.parquet`);
    rmSync(pq, { force: true });
    const w = json(tsx('wide-stages.ts', [table, '--repeats', '1', '--stages', 'read', '--to-parquet', pq]), 'parquet write');
    const a = json(tsx('wide-stages.ts', [pq, '--repeats', repeats, '--stages', 'read', ...f32]), 'parquet read');
    console.log(`read Parquet (phenomap's reader, own process) | ${fmt(a?.stages.read?.seconds)} | – | ${ratio(readOurs?.stages.read?.seconds, a?.stages.read?.seconds)} vs phenomap's CSV.gz | ${fmt(a?.stages.read?.cpu)} | – | – | written by phenomap in ${fmt(w?.stages['write parquet']?.seconds)} s; peak RSS MB ${fmt(a?.peakRssMB)} (pandas cannot read Parquet here: no pyarrow)`);
  }
}
