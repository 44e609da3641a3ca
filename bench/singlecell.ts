/**
 * Single cells → well profiles, phenomap against pycytominer side by side in one run (issue 15).
 *
 *   npx tsx bench/singlecell.ts [--sizes 50000,200000,1000000] [--features 500]
 *     [--layouts cytominer-sqlite,cellprofiler-sqlite,spreadsheet,parquet] [--peer pc_merge,pc_profiles]
 *     [--scratch DIR] [--timeout 2400] [--cap-gb 20] [--threads N] [--no-merge]
 *
 * For each size, a 384-well plate of that many cells × 3 compartments × F features is generated in
 * each layout (`phenomap synth --single-cell`, one seed: the same cells everywhere); `phenomap
 * cells aggregate` (median per well) and `cells merge` (to Parquet) run on it as whole processes
 * under /usr/bin/time, the page cache warmed first; pycytominer (../shared/bench/pycytominer, its
 * bench_one.py, Debian's Python) runs on the same cytominer-database file the same way, capped as
 * in ../shared/bench/singlecell/RESULTS.md (address space and wall clock). Plates are deleted after
 * each size. Prints one table (cells/s, wall, peak RSS) and writes bench/out/singlecell.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, openSync, readSync, closeSync, statSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const shared = resolve(root, '..', 'shared');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '50000,200000,1000000' },
    features: { type: 'string', default: '500' },
    layouts: { type: 'string', default: 'cytominer-sqlite,cellprofiler-sqlite,spreadsheet,parquet' },
    peer: { type: 'string', default: 'pc_merge,pc_profiles' },
    scratch: { type: 'string', default: join(root, 'bench', 'out', 'singlecell-plates') },
    timeout: { type: 'string', default: '2400' },
    'cap-gb': { type: 'string', default: '20' },
    threads: { type: 'string' },
    'no-merge': { type: 'boolean', default: false },
  },
});
const sizes = values.sizes!.split(',').map(Number);
const features = Number(values.features);
const layouts = values.layouts!.split(',').filter(Boolean);
const peers = values.peer!.split(',').filter(Boolean);
const scratch = resolve(values.scratch!);
mkdirSync(scratch, { recursive: true });
const cli = join(root, 'bin', 'phenomap.js');

interface Run {
  size: number;
  tool: string;
  what: string;
  layout: string;
  status: string;
  wall: number;
  rssGiB: number;
  cellsPerSec: number;
  note?: string;
}
const runs: Run[] = [];

/** Run a whole command under /usr/bin/time -v (and optional caps); wall, peak RSS, status. */
function timed(cmd: string[], env: Record<string, string> = {}, capGb?: number, timeoutS?: number): { status: string; wall: number; rssGiB: number; stdout: string; stderr: string } {
  const timeFile = join(scratch, 'time.txt');
  const wrapped = [
    ...(capGb ? ['sh', '-c', `ulimit -v ${capGb * 1024 * 1024}; exec "$@"`, 'sh'] : []),
    '/usr/bin/time', '-v', '-o', timeFile,
    ...(timeoutS ? ['timeout', '-k', '30', String(timeoutS)] : []),
    ...cmd,
  ];
  const t0 = performance.now();
  const r = spawnSync(wrapped[0]!, wrapped.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = (performance.now() - t0) / 1000;
  const time = existsSync(timeFile) ? readFileSync(timeFile, 'utf8') : '';
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(time)?.[1] ?? NaN) / 2 ** 20;
  const status = r.status === 0 ? 'ok' : r.status === 124 ? 'timeout' : `failed (exit ${r.status})`;
  return { status, wall, rssGiB: rss, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Read every byte once so each run starts with the same page cache. */
function warm(path: string): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const e of readdirSync(path)) warm(join(path, e));
    return;
  }
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(1 << 22);
  while (readSync(fd, buf, 0, buf.length, null) > 0);
  closeSync(fd);
}

function platePath(size: number, layout: string): string {
  const ext = layout === 'spreadsheet' ? '' : layout === 'parquet' ? '.parquet' : '.sqlite';
  return join(scratch, `plate_${size}_${layout}${ext}`);
}

const threadEnv: Record<string, string> = values.threads ? { PHENOMAP_THREADS: values.threads } : {};
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');

for (const size of sizes) {
  for (const layout of layouts) {
    const plate = platePath(size, layout);
    rmSync(plate, { recursive: true, force: true });
    const g = timed(['node', cli, 'synth', '--single-cell', '--layout', layout, '--cells', String(size), '--features', String(features), '-o', plate, '-q']);
    if (g.status !== 'ok') throw new Error(`generating ${plate}: ${g.stderr}`);
    const bytes = Number(/([\d.]+) MiB/.exec(g.stdout)?.[1] ?? NaN);
    console.error(`${size} ${layout}: generated ${fmt(bytes / 1024, 2)} GiB in ${fmt(g.wall)} s`);
    warm(plate);
    const out = join(scratch, `wells_${size}_${layout}.parquet`);
    const a = timed(['node', cli, 'cells', 'aggregate', plate, '-o', out, '--json', '-q'], threadEnv);
    runs.push({ size, tool: 'phenomap', what: 'cells aggregate (median)', layout, status: a.status, wall: a.wall, rssGiB: a.rssGiB, cellsPerSec: size / a.wall, note: a.status === 'ok' ? undefined : a.stderr.trim().split('\n').pop() });
    console.error(`  aggregate: ${a.status} ${fmt(a.wall)} s, ${fmt(a.rssGiB, 2)} GiB`);
    rmSync(out, { force: true });
    if (!values['no-merge']) {
      const m = join(scratch, `cells_${size}_${layout}.parquet`);
      const r = timed(['node', cli, 'cells', 'merge', plate, '-o', m, '--json', '-q'], threadEnv);
      runs.push({ size, tool: 'phenomap', what: 'cells merge (→ Parquet)', layout, status: r.status, wall: r.wall, rssGiB: r.rssGiB, cellsPerSec: size / r.wall, note: r.status === 'ok' ? undefined : r.stderr.trim().split('\n').pop() });
      console.error(`  merge: ${r.status} ${fmt(r.wall)} s, ${fmt(r.rssGiB, 2)} GiB`);
      rmSync(m, { force: true });
    }
    if (layout === 'cytominer-sqlite' && existsSync(join(shared, 'bench', 'singlecell', 'bench_one.py'))) {
      for (const method of peers) {
        warm(plate);
        const p = timed(
          ['env', `PYTHONPATH=${join(shared, 'bench', 'pycytominer')}:${join(shared, 'bench', 'singlecell')}`, 'OPENBLAS_NUM_THREADS=1',
            '/usr/bin/python3', join(shared, 'bench', 'singlecell', 'bench_one.py'), method, plate, join(scratch, `peer_${size}_${method}`)],
          {}, Number(values['cap-gb']), Number(values.timeout),
        );
        const err = p.stderr.trim().split('\n').pop() ?? '';
        runs.push({ size, tool: 'pycytominer', what: method, layout, status: /MemoryError/.test(p.stderr) ? 'failed: MemoryError' : p.status, wall: p.wall, rssGiB: p.rssGiB, cellsPerSec: p.status === 'ok' ? size / p.wall : NaN, note: p.status === 'ok' ? undefined : err });
        console.error(`  pycytominer ${method}: ${p.status} ${fmt(p.wall)} s, ${fmt(p.rssGiB, 2)} GiB`);
        rmSync(join(scratch, `peer_${size}_${method}.pkl`), { force: true });
      }
    }
    rmSync(plate, { recursive: true, force: true });
  }
}

// The table, and each phenomap run's speed-up over the peer's best completed run at that size.
const best = (size: number) => Math.max(...runs.filter((r) => r.tool === 'pycytominer' && r.size === size && r.status === 'ok').map((r) => r.cellsPerSec));
const lines = ['cells      tool         what                          layout                 status      wall s   cells/s   peak RSS GiB  × best peer'];
for (const r of runs) {
  const b = best(r.size);
  lines.push(
    `${String(r.size).padEnd(10)} ${r.tool.padEnd(12)} ${r.what.padEnd(29)} ${r.layout.padEnd(22)} ${r.status.slice(0, 10).padEnd(10)} ${fmt(r.wall).padStart(7)} ${fmt(r.cellsPerSec, 0).padStart(9)} ${fmt(r.rssGiB, 2).padStart(13)}  ${r.tool === 'phenomap' && Number.isFinite(b) ? `${fmt(r.cellsPerSec / b, 1)}×` : ''}`,
  );
}
console.log(lines.join('\n'));
mkdirSync(join(root, 'bench', 'out'), { recursive: true });
writeFileSync(join(root, 'bench', 'out', 'singlecell.json'), JSON.stringify({ date: new Date().toISOString(), features, threads: values.threads ?? 'default', runs }, null, 2));
