/** Run the built CLI (bin/phenomap.js → dist/) as a separate process, as a user would. */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = join(repoRoot, 'bin', 'phenomap.js');

/** Rebuild dist/ when a source file is newer than it. */
export function ensureBuilt(): void {
  const newest = (d: string): number =>
    readdirSync(d, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(d, e.name)) : statSync(join(d, e.name)).mtimeMs), 0);
  const built = join(repoRoot, 'dist', 'cli', 'main.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(repoRoot, 'src'))) return;
  const r = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
}

export interface Spawned {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** Called with the child once it runs (to signal it). */
  onStart?: (child: ReturnType<typeof spawn>) => void;
}

/** Run `phenomap ARGS`; resolves when the process and everything holding its stdout/stderr are done. */
export function phenomap(args: string[], opts: CliOptions = {}): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const so: SpawnOptions = { cwd: opts.cwd, env: { ...process.env, CI: 'true', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] };
    if (opts.uid !== undefined) so.uid = opts.uid;
    if (opts.gid !== undefined) so.gid = opts.gid;
    const child = spawn(process.execPath, [bin, ...args], so);
    let stdout = '', stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, seconds: (performance.now() - t0) / 1000 }));
    opts.onStart?.(child);
  });
}

/** A table of `rows` labelled profiles with `features` features in `classes` MoA classes (deterministic). */
export function syntheticCsv(rows: number, features: number, classes: number, seed = 1): string {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const lines = [['Metadata_pert_iname', 'Metadata_moa', ...Array.from({ length: features }, (_, j) => `Cells_f${j}`)].join(',')];
  for (let i = 0; i < rows; i++) {
    const m = i % classes;
    const x = Array.from({ length: features }, (_, j) => ((j % classes === m ? 2 : 0) + Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand())).toFixed(4));
    lines.push([`drug${i}`, `moa${m}`, ...x].join(','));
  }
  return lines.join('\n') + '\n';
}
