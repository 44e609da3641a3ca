/**
 * `phenomap run --representations raw --float32` from 10⁴ to 10⁶ profiles × 1,000 features
 * (synthetic tables from `phenomap synth`), one child process per size: wall time, peak RSS
 * (/usr/bin/time), each stage's time and share (summary.json), the k-NN method and its measured
 * recall. Results are merged into docs/scaling-raw.json (so sizes can be run one at a time) and
 * drawn as a log-log plot with the project's own plotting (Vega-Lite → SVG → PNG with resvg):
 * docs/figures/scaling_raw.svg / .png.
 *
 *   npm run build && flock /tmp/phenomap-heavy.lock npx tsx bench/million.ts \
 *       [--sizes 10000,100000,1000000] [--features 1000] [--scratch DIR] [--plot-only] [--keep-tables]
 *       [--run-args "--knn-projection 256 --knn-min-recall 0"] [--timeout SECONDS] [--deadline ISO-TIME]
 *
 * --representations raw,pca,itml runs the whole `run` instead (results in docs/scaling-raw-pca-itml.json,
 * no plot): the 100,000-row target of issue 18.
 *
 * Tables are written to --scratch (default ../scratch/million) as synth_<n>x<d>.parquet with the
 * scale bench's rule (moas = max(20, n/250), plates = ⌈n/384⌉, seed 0) unless already there, and
 * deleted after their run unless --keep-tables. At 10⁶ × 1,000 the Parquet file is ≈ 5.5 GB and its
 * generation needs ≈ 8 GB of temporary CSV on the same disk.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { writeSynthetic } from '../src/io/synthetic.js';
import { renderFigure, writeFigure, type VlSpec } from '../src/report/render.js';
import { arg, hasFlag, root } from './common.js';

const sizes = arg('--sizes', '10000,100000,1000000').split(',').map(Number);
const D = Number(arg('--features', '1000'));
const scratch = arg('--scratch', join(root, '..', 'scratch', 'million'));
/** Representations to run (default raw, the 10⁴ → 10⁶ curve); others are recorded in their own file, without the plot. */
const reps = arg('--representations', 'raw');
const rawOnly = reps === 'raw';
const resultsFile = join(root, 'docs', rawOnly ? 'scaling-raw.json' : `scaling-${reps.replace(/,/g, '-')}.json`);
/** More `run` flags for every size (e.g. "--knn-projection 256 --knn-min-recall 0"), recorded with the results. */
const extra = arg('--run-args', '').split(' ').filter(Boolean);
/** Stop a run after this many seconds (0 = never); a stopped run is reported, not recorded. */
const timeoutS = Number(arg('--timeout', '0'));
/** Or stop at this time (ISO 8601), whichever comes first: a session's end. */
const deadline = arg('--deadline', '');
function runLimitMs(): number | undefined {
  const lim: number[] = [];
  if (timeoutS > 0) lim.push(timeoutS * 1000);
  if (deadline) lim.push(Math.max(1000, Date.parse(deadline) - Date.now()));
  return lim.length ? Math.min(...lim) : undefined;
}
const STAGES = ['load', 'zscore', 'pca', 'itml', 'knn', 'ap', 'enrichment', 'csif', 'write'] as const;

interface Point {
  n: number;
  labelled: number;
  features: number;
  wallSeconds: number;
  /** CPU seconds of the run's process (user + system, all threads; /usr/bin/time). */
  cpuSeconds?: number;
  /** 1-minute load average when the run started and when it ended. */
  loadAverage?: number[];
  peakRssGB: number;
  stages: Record<string, number>;
  knn: { method: string; recall?: number; projectedDims?: number; seconds: number };
  ap: { iterations: number; converged: boolean; clusters: number };
  measured: string;
  runArgs: string;
  /** Per representation: k-NN method, seconds, recall, candidates' origin; AP iterations and clusters. */
  representations?: string[];
}

const results: Record<string, Point> = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {};

if (!hasFlag('--plot-only')) {
  mkdirSync(scratch, { recursive: true });
  for (const n of sizes) {
    const file = join(scratch, `synth_${n}x${D}.parquet`);
    if (!existsSync(file)) {
      const t0 = performance.now();
      await writeSynthetic(file, { rows: n, features: D, moas: Math.max(20, Math.round(n / 250)), plates: Math.ceil(n / 384), seed: 0 });
      console.log(`generated ${file} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const out = join(scratch, `run_${n}`);
    rmSync(out, { recursive: true, force: true });
    const t0 = performance.now();
    // The run's progress lines go to a log as they come (where a long run was when it stopped);
    // /usr/bin/time writes the peak RSS to a file of its own.
    const log = join(scratch, `run_${n}.log`), rssFile = join(scratch, `run_${n}.rss`);
    const fd = openSync(log, 'w');
    const load0 = loadavg()[0]!;
    const r = spawnSync('/usr/bin/time', ['-o', rssFile, '-f', 'MAXRSS_KB=%M CPU_S=%U+%S', process.execPath, join(root, 'bin', 'phenomap.js'), 'run', file,
      '--representations', reps, '--float32', '--label-col', 'Metadata_moa', '--out', out, ...extra],
    { stdio: ['ignore', fd, fd], timeout: runLimitMs(), killSignal: 'SIGTERM' });
    closeSync(fd);
    const wall = (performance.now() - t0) / 1000;
    const tail = () => readFileSync(log, 'utf8').split('\n').filter((l) => !/\r/.test(l)).slice(-15).join('\n');
    if (r.status !== 0) {
      console.log(`n = ${n}: run ${r.signal ? `stopped by ${r.signal} after ${wall.toFixed(0)} s` : 'failed'}; last lines of ${log}:\n${tail()}`);
      continue;
    }
    const timeOut = readFileSync(rssFile, 'utf8');
    const rss = Number(/MAXRSS_KB=(\d+)/.exec(timeOut)?.[1] ?? NaN) / 1024 / 1024;
    // CPU seconds of the run's process (all its threads), and the load average at its start and end.
    const cpuM = /CPU_S=([\d.]+)\+([\d.]+)/.exec(timeOut);
    const cpuSeconds = cpuM ? Number(cpuM[1]) + Number(cpuM[2]) : undefined;
    const load = [load0, loadavg()[0]!];
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const timingsFile = JSON.parse(readFileSync(join(out, 'timings.json'), 'utf8'));
    s.timings = timingsFile.seconds;
    const knnSeconds: Record<string, number> = timingsFile.knnSeconds ?? {};
    const rep = s.representations[reps.split(',')[0]!];
    // k-NN per representation: method, measured recall, where the candidates came from
    const knnAll = Object.entries(s.representations as Record<string, any>).map(([name, r]) => {
      const k = r.clustering?.knn ?? {};
      return `${name}: ${k.method}${k.projectedDims ? ` on ${k.projectedDims} PCs` : ''}${k.candidatesFrom ? ` (${k.candidatesFrom}'s candidates)` : ''}, ${knnSeconds[name]?.toFixed(1)} s, recall ${k.recall === undefined ? 'exact' : k.recall.toFixed(3)}; AP ${r.apIterations} it, ${r.clusters} clusters`;
    });
    console.log(`n = ${n}: wall ${wall.toFixed(1)} s, CPU ${cpuSeconds?.toFixed(1)} s, peak RSS ${rss.toFixed(2)} GB, load average ${load.map((v) => v.toFixed(1)).join(' → ')}\n  ${knnAll.join('\n  ')}`);
    const stages: Record<string, number> = {};
    for (const k of STAGES) if (s.timings[k] !== undefined) stages[k] = s.timings[k];
    results[String(n)] = {
      n, labelled: s.n, features: D, wallSeconds: wall, cpuSeconds, loadAverage: load, peakRssGB: rss, stages,
      knn: { method: rep.clustering?.knn?.method, recall: rep.clustering?.knn?.recall, projectedDims: rep.clustering?.knn?.projectedDims, seconds: knnSeconds[reps.split(",")[0]!] },
      ap: { iterations: rep.apIterations, converged: rep.apConverged, clusters: rep.clusters },
      measured: new Date().toISOString().slice(0, 10),
      runArgs: extra.join(' '),
      representations: knnAll,
    };
    writeFileSync(resultsFile, JSON.stringify(results, null, 1) + '\n');
    rmSync(out, { recursive: true, force: true });
    if (!hasFlag('--keep-tables')) rmSync(file, { force: true });
  }
}

// ------------------------------------------------------------------ the table and the plot
const pts = Object.values(results).sort((a, b) => a.n - b.n);
console.log(`run --representations ${reps} --float32, ${D} features (wall s, peak RSS GB, stage seconds and share of the wall time)`);
console.log(['n', 'wall', 'RSS', ...STAGES, 'k-NN', 'recall', 'AP it'].map((h) => h.padStart(10)).join(''));
for (const p of pts) {
  const cells = STAGES.map((k) => (p.stages[k] === undefined ? '-' : `${p.stages[k]!.toFixed(1)} (${((100 * p.stages[k]!) / p.wallSeconds).toFixed(0)}%)`));
  console.log([String(p.n), p.wallSeconds.toFixed(1), p.peakRssGB.toFixed(2), ...cells, `${p.knn.method}${p.knn.projectedDims ? `/${p.knn.projectedDims}` : ''}`,
    p.knn.recall === undefined ? 'exact' : p.knn.recall.toFixed(3), String(p.ap.iterations)].map((c) => c.padStart(10)).join(''));
}
for (let i = 1; i < pts.length; i++) {
  const a = pts[i - 1]!, b = pts[i]!;
  const e = Math.log(b.wallSeconds / a.wallSeconds) / Math.log(b.n / a.n);
  console.log(`growth ${a.n} → ${b.n}: time × ${(b.wallSeconds / a.wallSeconds).toFixed(1)} for n × ${(b.n / a.n).toFixed(0)} (log-log slope ${e.toFixed(2)}), memory × ${(b.peakRssGB / a.peakRssGB).toFixed(1)}`);
}

if (pts.length && rawOnly) {
  const rows: { n: number; seconds: number; what: string }[] = [];
  for (const p of pts) {
    rows.push({ n: p.n, seconds: p.wallSeconds, what: 'whole run (wall)' });
    for (const k of STAGES) if ((p.stages[k] ?? 0) > 0.05) rows.push({ n: p.n, seconds: p.stages[k]!, what: k });
  }
  const first = pts[0]!;
  const ref = pts.map((p) => ({ n: p.n, seconds: first.wallSeconds * (p.n / first.n), what: 'linear in n (reference)' }));
  const spec: VlSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `phenomap run --representations raw (${D} features, float32): time per stage`, subtitle: '2-core, 24 GB machine; synthetic Cell Painting profiles' },
    width: 520, height: 340,
    data: { values: [...rows, ...ref] },
    layer: [
      {
        mark: { type: 'line', point: true },
        transform: [{ filter: "datum.what !== 'linear in n (reference)'" }],
        encoding: {
          x: { field: 'n', type: 'quantitative', scale: { type: 'log' }, title: 'profiles (n)', axis: { format: '~s' } },
          y: { field: 'seconds', type: 'quantitative', scale: { type: 'log' }, title: 'seconds' },
          color: { field: 'what', type: 'nominal', title: null },
        },
      },
      {
        mark: { type: 'line', strokeDash: [4, 4], color: '#888' },
        transform: [{ filter: "datum.what === 'linear in n (reference)'" }],
        encoding: { x: { field: 'n', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'seconds', type: 'quantitative', scale: { type: 'log' } } },
      },
    ],
  } as VlSpec;
  const fig = await renderFigure('scaling_raw', spec);
  const paths = writeFigure(join(root, 'docs', 'figures'), fig);
  console.log(`plot: ${paths.svg}, ${paths.png}; data: ${resultsFile}`);
}
