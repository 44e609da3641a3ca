/**
 * "Who shares a phenotype with this drug?" — read a finished run and report, per representation,
 * the drug's community (other members with their MoAs), its k nearest neighbours with
 * distances, and for each neighbour an empirical p-value of its closeness: the share of all
 * profile pairs (not involving the query row) that are at least as close, (#{null ≤ d} + 1) /
 * (nullSize + 1). This is how the study found chloroquine, hydroxychloroquine and clomiphene together.
 */
import { tableColumn, type Table } from '../io/read.js';
import { readRunDir } from '../io/runDir.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../linalg/rng.js';
import { editDistance } from '../util/editDistance.js';
import { REPRESENTATIONS, type Representation } from './params.js';
import type { Matrix } from '../linalg/index.js';

export interface QueryOptions {
  k?: number;
  /** Pairs sampled for the null when the exact one (all pairs) would exceed this many. */
  maxNullPairs?: number;
  seed?: number;
}

export interface Neighbour {
  row: number;
  name: string;
  moa: string;
  dose: string | null;
  distance: number;
  p: number;
  sameCommunity: boolean;
}

export interface QueryHit {
  /** Row of the run (0-based index into clusters.csv) and of the input file. */
  runRow: number;
  inputRow: number;
  name: string;
  moa: string;
  dose: string | null;
  byRepresentation: Partial<Record<Representation, {
    cluster: number;
    exemplar: string;
    members: { row: number; name: string; moa: string; dose: string | null }[];
    neighbours: Neighbour[];
  }>>;
}

export interface QueryResult {
  drug: string;
  idCol: string;
  matchedColumn: string;
  hits: QueryHit[];
  /** Size of the closeness null (profile pairs) per representation. */
  nullPairs: Partial<Record<Representation, number>>;
}

function norm(s: string | null | undefined): string {
  return (s ?? '').trim().toLowerCase();
}

function matchRows(table: Table, columns: string[], drug: string): { column: string; rows: number[] } | null {
  const q = norm(drug);
  for (const c of columns) {
    const vals = tableColumn(table, c);
    const rows: number[] = [];
    vals.forEach((v, i) => {
      const s = norm(v);
      // Broad ids carry batch suffixes (BRD-K12345678-001-05-5): a 13-character prefix names the compound.
      if (s === q || (q.startsWith('brd-') && q.length >= 13 && s.startsWith(q.slice(0, 13)))) rows.push(i);
    });
    if (rows.length) return { column: c, rows };
  }
  return null;
}

function suggestions(table: Table, columns: string[], drug: string): string[] {
  const q = norm(drug);
  const seen = new Map<string, number>();
  for (const c of columns) {
    for (const v of tableColumn(table, c)) {
      if (!v) continue;
      const s = v.trim();
      if (seen.has(s)) continue;
      const n = norm(s);
      const d = n.includes(q) || q.includes(n) ? 0.5 : editDistance(q, n);
      seen.set(s, d);
    }
  }
  return [...seen.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).slice(0, 5).map(([s]) => s);
}

function rowDistances(X: Matrix, i: number, out: Float64Array): void {
  const d = X.cols, x = X.data, oi = i * d;
  for (let r = 0; r < X.rows; r++) {
    const or = r * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = x[oi + j]! - x[or + j]!;
      s += t * t;
    }
    out[r] = Math.sqrt(s);
  }
}

/** Sorted null distribution of Euclidean distances between pairs of rows not involving `exclude`. */
function nullDistances(X: Matrix, exclude: Set<number>, maxPairs: number, rng: Rng): Float64Array {
  const n = X.rows, d = X.cols, x = X.data;
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (!exclude.has(i)) keep.push(i);
  const m = keep.length;
  const all = (m * (m - 1)) / 2;
  const dist = (a: number, b: number) => {
    let s = 0;
    const oa = a * d, ob = b * d;
    for (let j = 0; j < d; j++) {
      const t = x[oa + j]! - x[ob + j]!;
      s += t * t;
    }
    return Math.sqrt(s);
  };
  let out: Float64Array;
  if (all <= maxPairs) {
    out = new Float64Array(all);
    let t = 0;
    for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) out[t++] = dist(keep[a]!, keep[b]!);
  } else {
    out = new Float64Array(maxPairs);
    for (let t = 0; t < maxPairs; t++) {
      const a = rng.int(m);
      let b = rng.int(m - 1);
      if (b >= a) b++;
      out[t] = dist(keep[a]!, keep[b]!);
    }
  }
  return out.sort();
}

function countLessOrEqual(sorted: Float64Array, v: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export async function queryDrug(runDir: string, drug: string, opts: QueryOptions = {}): Promise<QueryResult> {
  const k = opts.k ?? 10;
  const run = await readRunDir(runDir);
  const { table, summary } = run;
  const idCols = [...new Set([run.drugCol, ...(summary.inputs?.idCols ?? []), ...table.columns.filter((c) => /pert_iname|^compound name$|^Metadata_compound$|broad_(sample|id)$/i.test(c))])]
    .filter((c) => table.columns.includes(c));
  if (!idCols.length) throw new InputError(`${runDir}/clusters.csv: no column names the drugs`);
  const match = matchRows(table, idCols, drug);
  if (!match) {
    const s = suggestions(table, idCols, drug);
    throw new InputError(`drug "${drug}" not found in ${idCols.join(', ')}${s.length ? `; did you mean: ${s.join(', ')}?` : ''}`);
  }
  const names = run.drug;
  const moas = run.moa;
  const doses = run.doseCol ? run.dose : null;
  const inputRows = tableColumn(table, 'row');
  const reps = REPRESENTATIONS.filter((r) => run.clusters[r] && run.repr(r));
  const hits: QueryHit[] = match.rows.map((i) => ({
    runRow: i, inputRow: Number(inputRows[i]), name: names[i] ?? '', moa: moas[i] ?? '', dose: doses?.[i] ?? null, byRepresentation: {},
  }));
  const nullPairs: QueryResult['nullPairs'] = {};
  const exclude = new Set(match.rows);
  for (const rep of reps) {
    const X = run.repr(rep)!;
    const clusters = run.clusters[rep]!;
    const exemplarFlags = run.exemplar[rep]!;
    const nul = nullDistances(X, exclude, opts.maxNullPairs ?? 2_000_000, new Rng(opts.seed ?? 0));
    nullPairs[rep] = nul.length;
    const dist = new Float64Array(X.rows);
    for (const hit of hits) {
      const i = hit.runRow;
      const c = clusters[i]!;
      rowDistances(X, i, dist);
      const order = Array.from({ length: X.rows }, (_, r) => r).filter((r) => r !== i).sort((a, b) => dist[a]! - dist[b]! || a - b);
      const members: number[] = [];
      let ex = -1;
      for (let r = 0; r < X.rows; r++) {
        if (clusters[r] !== c) continue;
        if (exemplarFlags[r]) ex = r;
        if (r !== i) members.push(r);
      }
      hit.byRepresentation[rep] = {
        cluster: c,
        exemplar: ex >= 0 ? names[ex] ?? '' : '',
        members: members.map((r) => ({ row: r, name: names[r] ?? '', moa: moas[r] ?? '', dose: doses?.[r] ?? null })),
        neighbours: order.slice(0, k).map((r) => ({
          row: r, name: names[r] ?? '', moa: moas[r] ?? '', dose: doses?.[r] ?? null, distance: dist[r]!,
          p: (countLessOrEqual(nul, dist[r]!) + 1) / (nul.length + 1),
          sameCommunity: clusters[r] === c,
        })),
      };
    }
  }
  return { drug, idCol: run.drugCol, matchedColumn: match.column, hits, nullPairs };
}
