/**
 * Two finished runs of one config compared table by table — the check that a cluster run and a
 * single-machine `profile` run gave the same answer: every per-plate table, the profiles
 * dataset, the consensus, the selected features and the clusters. Numbers agree when
 * |a − b| ≤ rtol · max(|a|, |b|) (missing equals missing); metadata, feature names, row order and
 * cluster labels must be identical.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cellString, type Profiles } from '../io/profiles.js';
import { readProfiles } from '../io/read.js';
import { InputError } from '../util/errors.js';

export interface TableComparison {
  readonly file: string;
  readonly rows: number;
  readonly features: number;
  /** Largest relative difference of a number (0 = identical bits or values). */
  readonly maxRel: number;
  readonly identical: boolean;
  /** What differs beyond the tolerance (empty when the table agrees). */
  readonly problems: string[];
}

export interface RunComparison {
  readonly a: string;
  readonly b: string;
  readonly rtol: number;
  readonly tables: TableComparison[];
  /** Files present in one run only, and other differences (selection, clusters). */
  readonly problems: string[];
  readonly same: boolean;
}

function walk(dir: string, root: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, root, out);
    else if (/\.(parquet)$/.test(e.name)) out.push(relative(root, p));
  }
}

function compareTables(file: string, a: Profiles, b: Profiles, rtol: number): TableComparison {
  const problems: string[] = [];
  if (a.X.rows !== b.X.rows) problems.push(`${a.X.rows} vs ${b.X.rows} rows`);
  if (a.features.join('\u0000') !== b.features.join('\u0000')) problems.push(`features differ (${a.features.length} vs ${b.features.length})`);
  const metaA = a.meta.map((m) => m.name), metaB = b.meta.map((m) => m.name);
  if (metaA.join('\u0000') !== metaB.join('\u0000')) problems.push(`metadata columns differ (${metaA.join(', ')} vs ${metaB.join(', ')})`);
  let maxRel = 0, identical = true;
  if (!problems.length) {
    for (const m of a.meta) {
      const n = b.meta.find((x) => x.name === m.name)!;
      for (let i = 0; i < a.X.rows; i++) {
        if (cellString(m, i) !== cellString(n, i)) {
          problems.push(`${m.name} differs at row ${i} (${cellString(m, i)} vs ${cellString(n, i)})`);
          break;
        }
      }
    }
    const x = a.X.data, y = b.X.data;
    let worst = -1;
    for (let t = 0; t < x.length; t++) {
      const u = x[t]!, v = y[t]!;
      if (Object.is(u, v)) continue;
      identical = false;
      if (u !== u || v !== v) {
        if (u === u || v === v) {
          maxRel = Infinity;
          worst = t;
        }
        continue;
      }
      const rel = Math.abs(u - v) / Math.max(Math.abs(u), Math.abs(v));
      if (rel > maxRel) (maxRel = rel), (worst = t);
    }
    if (maxRel > rtol) {
      const d = a.features.length;
      problems.push(`largest relative difference ${maxRel.toExponential(2)} > ${rtol} (row ${Math.floor(worst / d)}, ${a.features[worst % d]}: ${x[worst]} vs ${y[worst]})`);
    }
  }
  return { file, rows: a.X.rows, features: a.features.length, maxRel, identical: identical && !problems.length, problems };
}

function parseCsv(path: string): string[][] {
  return readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => l.split(','));
}

/** Compare two runs' outputs (see the module comment). */
export async function compareRuns(a: string, b: string, opts: { rtol?: number } = {}): Promise<RunComparison> {
  const rtol = opts.rtol ?? 1e-12;
  for (const d of [a, b]) if (!existsSync(d) || !statSync(d).isDirectory()) throw new InputError(`${d}: no such run folder`);
  const fa: string[] = [], fb: string[] = [];
  walk(a, a, fa);
  walk(b, b, fb);
  const problems: string[] = [];
  const sb = new Set(fb), sa = new Set(fa);
  for (const f of fa) if (!sb.has(f)) problems.push(`${f} only in ${a}`);
  for (const f of fb) if (!sa.has(f)) problems.push(`${f} only in ${b}`);
  if (!fa.length) problems.push(`${a}: no tables (.parquet) to compare`);
  const tables: TableComparison[] = [];
  for (const f of fa.filter((x) => sb.has(x)).sort()) {
    const [x, y] = await Promise.all([readProfiles(join(a, f), { metadata: ['Metadata_*'] }), readProfiles(join(b, f), { metadata: ['Metadata_*'] })]);
    tables.push(compareTables(f, x.profiles as Profiles, y.profiles as Profiles, rtol));
  }
  const selA = join(a, 'selection.json'), selB = join(b, 'selection.json');
  if (existsSync(selA) || existsSync(selB)) {
    if (!existsSync(selA) || !existsSync(selB)) problems.push('selection.json in one run only');
    else {
      const x = JSON.parse(readFileSync(selA, 'utf8')).features as string[], y = JSON.parse(readFileSync(selB, 'utf8')).features as string[];
      if (x.join('\u0000') !== y.join('\u0000')) problems.push(`the selected features differ (${x.length} vs ${y.length})`);
    }
  }
  const cA = join(a, 'clusters.csv'), cB = join(b, 'clusters.csv');
  if (existsSync(cA) || existsSync(cB)) {
    if (!existsSync(cA) || !existsSync(cB)) problems.push('clusters.csv in one run only');
    else {
      const x = parseCsv(cA), y = parseCsv(cB);
      const col = x[0]!.indexOf('Metadata_Cluster');
      const diff = x.length !== y.length ? -1 : x.findIndex((r, i) => r.join(',') !== y[i]!.join(','));
      if (diff !== -1 || col < 0) problems.push(diff === -1 && col < 0 ? 'clusters.csv has no Metadata_Cluster column' : `clusters differ${diff > 0 ? ` at row ${diff}` : ` (${x.length - 1} vs ${y.length - 1} rows)`}`);
    }
  }
  const same = !problems.length && tables.every((t) => !t.problems.length);
  return { a, b, rtol, tables, problems, same };
}
