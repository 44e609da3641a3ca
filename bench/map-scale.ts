/**
 * `phenomap map` against copairs, side by side in one run: synthetic profile tables of 10,000 and
 * 100,000 profiles × 1,000 features (5 % DMSO controls, compounds with 4 replicates, 40 MoAs),
 * two pairing rules — replicate retrieval against controls (copairs' activity recipe: compound +
 * reference index) and MoA consistency on treated profiles (same MoA, other compound) — null
 * 1,000 per shape. Each size and rule alternates phenomap and copairs (--repeats times), each in
 * its own process, and prints wall time, CPU time, peak RSS and the ratio of medians. copairs
 * (v0.4.4, commit b65bf1d: pandas pair matching) runs under a memory cap and a time limit; a run
 * that exceeds either is reported as such and not retried. copairs is repeated only while its
 * runs so far and one more fit in --copairs-budget seconds (it runs at least once): at 10,000
 * profiles one copairs run takes tens of minutes on a shared 2-core machine, and a 100× ratio
 * does not need three of them to be told from 10×.
 *
 *   flock /tmp/phenomap-heavy.lock npx tsx bench/map-scale.ts --copairs DIR/src [--sizes 10000,100000]
 *        [--rules replicate,moa] [--repeats 3] [--copairs-timeout 1800] [--copairs-mem-gb 14]
 *        [--copairs-budget 3600] [--scratch DIR] [--extrapolate 100000]
 *
 * Where copairs cannot run (at 100,000 its pair enumeration does not fit this machine), the growth
 * of its time and memory is measured instead: with two or more sizes finished for a rule, the
 * log-log slopes of its CPU time and peak RSS between the two largest sizes it finished (at small
 * sizes a fixed interpreter-and-libraries baseline flattens them) are printed with what they give at
 * --extrapolate rows (default: the largest size), beside phenomap's own growth.
 *
 * The child mode (`--child FEATURES.npy META.csv RULE`) is phenomap's side.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { readTable } from '../src/io/read.js';
import type { MetaColumn } from '../src/io/profiles.js';
import { averagePrecision, referenceIndexColumn } from '../src/evaluate/averagePrecision.js';
import { apQueries, meanAveragePrecision } from '../src/evaluate/map.js';
import { takeRows } from '../src/linalg/matrix.js';
import { Rng } from '../src/linalg/rng.js';

const argv = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1]! : def;
};

async function child(featPath: string, metaPath: string, rule: string): Promise<void> {
  const npy = readNpy(featPath);
  const X = { rows: npy.shape[0]!, cols: npy.shape[1]!, data: npy.data as Float64Array };
  const t = await readTable(metaPath);
  const compound = t.values.get('Metadata_compound')!, moa = t.values.get('Metadata_moa')!;
  const t0 = performance.now(), c0 = process.cpuUsage();
  let mean: number, aps: number;
  if (rule === 'replicate') {
    const meta: MetaColumn[] = [
      { name: 'Metadata_compound', kind: 'string', values: compound },
      referenceIndexColumn('Metadata_reference_index', compound.map((c) => c === 'DMSO')),
    ];
    const r = ['Metadata_compound', 'Metadata_reference_index'];
    const ap = averagePrecision(meta, X, { pos: { sameby: r }, neg: { diffby: r } });
    const m = meanAveragePrecision(apQueries(ap, (i) => compound[i]!), { nullSize: 1000, seed: 0 });
    mean = m.meanMap;
    aps = ap.ap.length;
  } else {
    const keep = compound.flatMap((c, i) => (c === 'DMSO' ? [] : [i]));
    const meta: MetaColumn[] = [
      { name: 'Metadata_compound', kind: 'string', values: keep.map((i) => compound[i]!) },
      { name: 'Metadata_moa', kind: 'string', values: keep.map((i) => moa[i]!) },
    ];
    const ap = averagePrecision(meta, takeRows(X, keep), {
      pos: { sameby: ['Metadata_moa'], diffby: ['Metadata_compound'] }, neg: { diffby: ['Metadata_moa', 'Metadata_compound'] },
    });
    const m = meanAveragePrecision(apQueries(ap, (i) => meta[1]!.values[i] as string), { nullSize: 1000, seed: 0 });
    mean = m.meanMap;
    aps = ap.ap.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  console.log(JSON.stringify({ seconds, cpu_seconds: (cu.user + cu.system) / 1e6, maxrss_gb: process.resourceUsage().maxRSS / 2 ** 20, mean_map: mean, aps }));
}

function makeData(n: number, d: number, dir: string): { feats: string; meta: string } {
  const feats = join(dir, `map_${n}x${d}.npy`), meta = join(dir, `map_${n}x${d}.csv`);
  if (existsSync(feats) && existsSync(meta)) return { feats, meta };
  const rng = new Rng(0);
  const nCtl = Math.round(n * 0.05), reps = 4, nMoa = 40;
  const nCmp = Math.floor((n - nCtl) / reps);
  const moaCentre = new Float64Array(nMoa * d);
  rng.fillNormal(moaCentre);
  const X = new Float64Array(n * d);
  const lines = ['Metadata_compound,Metadata_moa'];
  const cmpCentre = new Float64Array(d);
  let i = 0;
  for (; i < nCtl; i++) {
    rng.fillNormal(X, i * d, (i + 1) * d);
    lines.push('DMSO,control');
  }
  for (let c = 0; c < nCmp; c++) {
    const m = c % nMoa;
    rng.fillNormal(cmpCentre);
    for (let r = 0; r < reps && i < n; r++, i++) {
      rng.fillNormal(X, i * d, (i + 1) * d);
      for (let j = 0; j < d; j++) X[i * d + j] = X[i * d + j]! + 0.08 * moaCentre[m * d + j]! + 0.12 * cmpCentre[j]!;
      lines.push(`C${c},MoA${m}`);
    }
  }
  for (; i < n; i++) {
    rng.fillNormal(X, i * d, (i + 1) * d);
    lines.push('DMSO,control');
  }
  writeNpy(feats, { data: X, shape: [n, d] });
  writeFileSync(meta, lines.join('\n') + '\n');
  return { feats, meta };
}

interface Run { seconds: number; cpu_seconds: number; maxrss_gb: number; mean_map: number; aps: number }

function runChild(cmd: string, args: string[], timeoutS: number, env: NodeJS.ProcessEnv = process.env): Run | string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutS * 1000, env, maxBuffer: 1 << 26 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return `did not finish in ${timeoutS} s`;
  if (r.status !== 0) {
    const tail = (r.stderr || '').trim().split('\n').filter((l) => !/it\/s|s\/it/.test(l)).slice(-1)[0] ?? '';
    return `failed (exit ${r.status ?? r.signal}): ${tail.slice(0, 160)}`;
  }
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as Run;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;

async function mainBench(): Promise<void> {
  const copairs = arg('--copairs', '');
  if (!copairs) throw new Error('--copairs <copairs checkout>/src is required');
  const sizes = arg('--sizes', '10000,100000').split(',').map(Number);
  const rules = arg('--rules', 'replicate,moa').split(',');
  const repeats = Number(arg('--repeats', '3'));
  const timeoutS = Number(arg('--copairs-timeout', '1800'));
  const memGb = Number(arg('--copairs-mem-gb', '14'));
  const budgetS = Number(arg('--copairs-budget', '3600'));
  const scratch = arg('--scratch', join(tmpdir(), 'phenomap-map-bench'));
  mkdirSync(scratch, { recursive: true });
  const d = Number(arg('--features', '1000'));
  const extrapolateTo = Number(arg('--extrapolate', String(Math.max(...sizes))));
  const grown = new Map<string, { n: number; ours: Run; theirs: Run | null }[]>();
  console.log(`map-scale: ${d} features, null 1000, ${repeats} alternating repeats; copairs at ${copairs} (memory cap ${memGb} GB, ${timeoutS} s per run, repeated within ${budgetS} s)`);
  for (const n of sizes) {
    const { feats, meta } = makeData(n, d, scratch);
    for (const rule of rules) {
      const ours: Run[] = [], theirs: (Run | string)[] = [];
      for (let k = 0; k < repeats; k++) {
        const o = runChild(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', feats, meta, rule], 7200);
        if (typeof o === 'string') throw new Error(`phenomap ${rule} at ${n}: ${o}`);
        ours.push(o);
        // After the first copairs failure (memory or time), it is not retried.
        if (typeof theirs[0] === 'string') continue;
        const spent = theirs.reduce((t, r) => t + (r as Run).seconds, 0);
        if (theirs.length && spent + spent / theirs.length > budgetS) continue;
        // copairs caches null distributions under $HOME/.copairs; a fresh HOME per run makes
        // every run draw its nulls, as phenomap's does.
        const home = mkdtempSync(join(scratch, 'copairs-home-'));
        theirs.push(runChild('prlimit', [`--as=${Math.round(memGb * 2 ** 30)}`, '/usr/bin/python3', join(new URL('.', import.meta.url).pathname, 'copairs/run_copairs.py'), feats, meta, rule, '1000'], timeoutS,
          { ...process.env, PYTHONPATH: copairs, HOME: home, OMP_NUM_THREADS: '2' }));
        rmSync(home, { recursive: true, force: true });
      }
      const ot = ours.map((r) => r.seconds), oc = ours.map((r) => r.cpu_seconds);
      const line = [`n=${n} ${rule}: phenomap ${ot.map((s) => s.toFixed(2)).join(' / ')} s (median ${median(ot).toFixed(2)}; CPU median ${median(oc).toFixed(2)} s), peak ${Math.max(...ours.map((r) => r.maxrss_gb)).toFixed(2)} GB, mean mAP ${ours[0]!.mean_map.toFixed(4)}, ${ours[0]!.aps} APs`];
      const ok = theirs.filter((r): r is Run => typeof r !== 'string');
      if (ok.length) {
        const ct = ok.map((r) => r.seconds), cc = ok.map((r) => r.cpu_seconds);
        line.push(`copairs ${ct.map((s) => s.toFixed(2)).join(' / ')} s (median ${median(ct).toFixed(2)}; CPU median ${median(cc).toFixed(2)} s; ${ok.length} run${ok.length > 1 ? 's' : ''}), peak ${Math.max(...ok.map((r) => r.maxrss_gb)).toFixed(2)} GB, mean mAP ${ok[0]!.mean_map.toFixed(4)}, ${ok[0]!.aps} APs`);
        line.push(`speed-up ${(median(ct) / median(ot)).toFixed(1)}× wall, ${(median(cc) / median(oc)).toFixed(1)}× CPU (ratios of medians; phenomap spread ${(Math.min(...ot)).toFixed(2)}–${Math.max(...ot).toFixed(2)} s)`);
      } else line.push(`copairs ${theirs[0]} (phenomap median ${median(ot).toFixed(2)} s: copairs would need ≥ ${(timeoutS / median(ot)).toFixed(0)}× phenomap's time to reach the limit)`);
      console.log(line.join('\n  '));
      const mid = (runs: Run[]): Run => ({ ...runs[0]!, seconds: median(runs.map((r) => r.seconds)), cpu_seconds: median(runs.map((r) => r.cpu_seconds)), maxrss_gb: Math.max(...runs.map((r) => r.maxrss_gb)) });
      grown.set(rule, [...(grown.get(rule) ?? []), { n, ours: mid(ours), theirs: ok.length ? mid(ok) : null }]);
    }
  }
  for (const [rule, pts] of grown) {
    const done = pts.filter((p) => p.theirs).slice(-2);
    if (done.length < 2) continue;
    const fit = (ys: number[]) => slope(done.map((p) => p.n), ys);
    const ct = fit(done.map((p) => p.theirs!.cpu_seconds)), cm = fit(done.map((p) => p.theirs!.maxrss_gb));
    const ot = fit(done.map((p) => p.ours.cpu_seconds)), om = fit(done.map((p) => p.ours.maxrss_gb));
    const at = (f: { a: number; b: number }) => Math.exp(f.a + f.b * Math.log(extrapolateTo));
    // phenomap's fixed costs dominate at these sizes, so it is not extrapolated: it is measured at
    // the large size itself (when that size is in --sizes, its line above).
    const big = pts.find((p) => p.n === extrapolateTo);
    console.log(`growth, ${rule} rule, n = ${done.map((p) => p.n).join(', ')} (log-log slope between the two largest): copairs CPU time ∝ n^${ct.b.toFixed(2)}, peak RSS ∝ n^${cm.b.toFixed(2)}; `
      + `phenomap CPU time ∝ n^${ot.b.toFixed(2)}, peak RSS ∝ n^${om.b.toFixed(2)}\n  copairs extrapolated to n = ${extrapolateTo}: ≈ ${at(ct).toFixed(0)} s CPU, ≈ ${at(cm).toFixed(1)} GB`
      + (big ? `; phenomap measured there: ${big.ours.cpu_seconds.toFixed(1)} s CPU, ${big.ours.maxrss_gb.toFixed(2)} GB (≈ ${(at(ct) / big.ours.cpu_seconds).toFixed(0)}× CPU)` : ''));
  }
}

/** Least-squares line through (log x, log y): y ≈ e^a · x^b (through both points for two). */
function slope(xs: number[], ys: number[]): { a: number; b: number } {
  const lx = xs.map(Math.log), ly = ys.map(Math.log), m = lx.length;
  const mx = lx.reduce((s, v) => s + v, 0) / m, my = ly.reduce((s, v) => s + v, 0) / m;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < m; i++) { sxy += (lx[i]! - mx) * (ly[i]! - my); sxx += (lx[i]! - mx) ** 2; }
  const b = sxy / sxx;
  return { a: my - b * mx, b };
}

if (argv[0] === '--child') await child(argv[1]!, argv[2]!, argv[3]!);
else await mainBench();
