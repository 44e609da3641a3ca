/** What the benchmark scripts share: paths, flag parsing and the peer's `--scale k` input. */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metaStrings, subsetRows, type Profiles } from '../src/io/profiles.js';
import { columnStd, gemmNT, symmetricEigen, tcrossprod, zeros, type Matrix } from '../src/linalg/index.js';
import { Rng } from '../src/linalg/rng.js';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const plate = join(root, 'examples', 'lincs', 'SQ00015054_normalized_feature_select.csv.gz');
/** The scikit-learn peer script (in ../shared beside the clone). */
export const peer = join(root, '..', 'shared', 'bench', 'peer_sklearn.py');

/** Value of `--name value` on the command line, or the default. */
export function arg(name: string, def: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : def;
}

export function hasFlag(name: string): boolean {
  return process.argv.slice(2).includes(name);
}

/** X stacked k times with 1 % Gaussian noise × column std, as peer_sklearn.py --scale k does. */
export function stackWithNoise(X: Matrix, k: number, seed = 0): Matrix {
  const n = X.rows, d = X.cols;
  const sd = columnStd(X);
  const rng = new Rng(seed);
  const out = zeros(n * k, d);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      const so = i * d, dO = (c * n + i) * d;
      for (let j = 0; j < d; j++) out.data[dO + j] = X.data[so + j]! + 0.01 * sd[j]! * rng.normal();
    }
  }
  return out;
}

/** The labelled rows of `p`, stacked k times with 1 % noise (metadata repeated); k = 1: unchanged. */
export function scaledProfiles(p: Profiles, k: number, labelCol = 'Metadata_moa', seed = 0): Profiles {
  const labels = metaStrings(p, labelCol);
  const idx = labels.flatMap((l, i) => (l && l.trim() ? [i] : []));
  const base = subsetRows(p, idx);
  if (k === 1) return base;
  const rows = Array.from({ length: base.X.rows * k }, (_, r) => r % base.X.rows);
  return { features: base.features, X: stackWithNoise(base.X, k, seed), meta: subsetRows(base, rows).meta, source: `${p.source} ×${k}` };
}

/** Principal angles (degrees, ascending) between the row spaces of A and B (orthonormal rows). */
export function principalAnglesDeg(A: Matrix, B: Matrix): number[] {
  const M = gemmNT(A, B);
  const { values } = symmetricEigen(tcrossprod(M));
  return Array.from(values, (v) => (Math.acos(Math.min(1, Math.sqrt(Math.max(v, 0)))) * 180) / Math.PI).sort((a, b) => a - b);
}

/** A whole process's wall seconds, CPU seconds and peak RSS (from /usr/bin/time), its output and success. */
export interface Measured {
  wall: number;
  /** User + system CPU seconds of the process and its children. */
  cpu: number;
  maxRssMB: number;
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Run a command under /usr/bin/time: wall seconds, CPU seconds and peak RSS. */
export function measure(cmd: string, cmdArgs: string[], env: NodeJS.ProcessEnv = process.env): Measured {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M CPU_S=%U+%S', cmd, ...cmdArgs], { encoding: 'utf8', maxBuffer: 1 << 28, env });
  const wall = (performance.now() - t0) / 1000;
  const m = /MAXRSS_KB=(\d+)/.exec(r.stderr ?? '');
  const c = /CPU_S=([0-9.]+)\+([0-9.]+)/.exec(r.stderr ?? '');
  return { wall, cpu: c ? Number(c[1]) + Number(c[2]) : NaN, maxRssMB: m ? Number(m[1]) / 1024 : NaN, ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
