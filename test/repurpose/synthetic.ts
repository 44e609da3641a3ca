/**
 * A small profile table with a planted answer, for the compound-query tests: 24 DMSO wells
 * (label "Control"), compounds A and B sharing one phenotype (A at two doses), C another,
 * D indistinguishable from DMSO, E with one well, Alpha-1 and Alpha-2 a third phenotype
 * (one name prefix for the ambiguous query), and a compound whose name is hostile HTML.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/linalg/rng.js';

export const HOSTILE = '</script><img src=x onerror="window.__pwned=1">';

export interface SyntheticOptions {
  controls?: boolean;
  /** Give the DMSO wells no label (a run then leaves them out). */
  unlabelledControls?: boolean;
  seed?: number;
}

export function syntheticTable(dir: string, name: string, opts: SyntheticOptions = {}): string {
  const rng = new Rng(opts.seed ?? 11);
  const d = 12;
  const dir1 = Array.from({ length: d }, (_, j) => (j < 3 ? 1 : 0));
  const dir2 = Array.from({ length: d }, (_, j) => (j >= 3 && j < 6 ? 1 : 0));
  const dir3 = Array.from({ length: d }, (_, j) => (j >= 6 && j < 9 ? 1 : -0.3));
  const zero = new Array<number>(d).fill(0);
  const head = ['Metadata_compound', 'Metadata_concentration', 'Metadata_label', 'Metadata_target', ...Array.from({ length: d }, (_, j) => `Cells_f${j}`)];
  const lines = [head.join(',')];
  const add = (compound: string, dose: number, label: string, target: string, mean: number[], n: number, scale: number) => {
    for (let r = 0; r < n; r++) {
      const x = mean.map((m) => (scale * m + rng.normal()).toFixed(6));
      const q = (s: string) => (/[",<]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
      lines.push([q(compound), String(dose), label, target, ...x].join(','));
    }
  };
  if (opts.controls ?? true) add('DMSO', 0, opts.unlabelledControls ? '' : 'Control', '', zero, 24, 0);
  add('A', 1, 'mito', 'T1|T2', dir1, 2, 4);
  add('A', 10, 'mito', 'T1|T2', dir1, 2, 5);
  add('B', 1, 'mito', 'T2', dir1, 4, 4);
  add('C', 1, 'kin', 'T3', dir2, 4, 4);
  add('D', 1, 'misc', 'T4', zero, 4, 0);
  add('E', 1, 'kin', 'T3', dir2, 1, 4);
  add('Alpha-1', 1, 'tub', 'T5', dir3, 3, 4);
  add('Alpha-2', 1, 'tub', 'T5', dir3, 3, 4);
  add(HOSTILE, 1, 'misc', '', dir2.map((v, j) => v - dir1[j]!), 3, 3);
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}
