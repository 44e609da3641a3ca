/**
 * Several profile tables as one: the inputs a user names (files, glob patterns, folders — a
 * folder is searched for tables, including Parquet datasets partitioned Hive-style as
 * `Metadata_Plate=P1/…`) are read one by one and stacked, rows in input order.
 *
 * Features must agree by name across tables (their order may differ); with `featureJoin:
 * 'intersection'` only the shared ones are kept, with 'union' every one is kept and missing cells
 * are NaN — either way every feature left out is listed with its reason. Metadata columns are
 * united by name; a table lacking one has it empty. A partition folder's `key=value` becomes a
 * metadata column when the table does not carry it.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import type { Dropped, MetaColumn, Profiles } from './profiles.js';
import type { FeatureArray, Matrix, StoredMatrix } from '../linalg/matrix.js';
import { allocFeatures, precisionOf } from '../linalg/matrix.js';
import { InputError, UsageError } from '../util/errors.js';
import { readProfiles, type IngestReport, type ReadOptions, type ReadResult } from './read.js';

export type FeatureJoin = 'same' | 'intersection' | 'union';

export interface ReadManyOptions extends ReadOptions {
  /** How tables with different features combine (default 'same': an error naming the difference). */
  featureJoin?: FeatureJoin;
}

export interface ProfileInput {
  readonly path: string;
  /** `key=value` folders between the searched folder and the file. */
  readonly partition: Record<string, string>;
}

const TABLE = /\.(parquet|pq|csv|csv\.gz|tsv|tsv\.gz|txt|txt\.gz|gct|h5ad)$/i;
const GLOB = /[*?[\]{}]/;

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function partitionOf(root: string, file: string): Record<string, string> {
  const parts = relative(root, file).split(sep).slice(0, -1);
  const out: Record<string, string> = {};
  for (const p of parts) {
    const m = /^([^=]+)=(.*)$/.exec(p);
    if (m) out[m[1]!] = decodeURIComponent(m[2]!);
  }
  return out;
}

function walk(dir: string, root: string, out: ProfileInput[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue; // temporary files of atomic writes, hidden files
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, root, out);
    else if (e.isFile() && TABLE.test(e.name)) out.push({ path: p, partition: partitionOf(root, p) });
  }
}

/** The tables the arguments name, in argument order (folders and globs in path order). */
export function expandProfileInputs(args: readonly string[]): ProfileInput[] {
  if (!args.length) throw new UsageError('no profile table given');
  const out: ProfileInput[] = [];
  const seen = new Set<string>();
  for (const arg of args) {
    let found: ProfileInput[] = [];
    if (isDir(arg)) walk(arg, arg, found);
    else if (exists(arg) || !GLOB.test(arg)) found = [{ path: arg, partition: {} }];
    else {
      const base = picomatch.scan(arg).base || '.';
      const match = picomatch(resolve(arg));
      const all: ProfileInput[] = [];
      if (isDir(base)) walk(base, base, all);
      found = all.filter((f) => match(resolve(f.path)));
    }
    if (!found.length) throw new InputError(`${arg}: no profile table there (.parquet, .csv, .csv.gz, .tsv)`);
    for (const f of found) {
      const k = resolve(f.path);
      if (!seen.has(k)) {
        seen.add(k);
        out.push(f);
      }
    }
  }
  return out;
}

export type ManyResult<M extends StoredMatrix> = ReadResult<M> & { readonly tables: IngestReport[] };

/** Read every table the arguments name and stack them (see the module comment). */
export async function readProfileTables(args: readonly string[], opts?: ReadManyOptions & { precision?: 'float64' }): Promise<ManyResult<Matrix>>;
export async function readProfileTables(args: readonly string[], opts: ReadManyOptions): Promise<ManyResult<StoredMatrix>>;
export async function readProfileTables(args: readonly string[], opts: ReadManyOptions = {}): Promise<ManyResult<StoredMatrix>> {
  const inputs = expandProfileInputs(args);
  const join_ = opts.featureJoin ?? 'same';
  if (!['same', 'intersection', 'union'].includes(join_)) throw new UsageError(`--feature-join must be same, intersection or union, got "${join_}"`);
  if (inputs.length === 1) {
    const r = await readProfiles(inputs[0]!.path, opts);
    return { ...r, profiles: withPartition(r.profiles, inputs[0]!.partition), tables: [r.report] };
  }
  const t0 = performance.now();
  const parts: { p: Profiles<StoredMatrix>; report: IngestReport }[] = [];
  for (const inp of inputs) {
    const r = await readProfiles(inp.path, opts);
    parts.push({ p: withPartition(r.profiles, inp.partition), report: r.report });
  }
  const features = combineFeatures(parts.map((x) => x.p), inputs.map((i) => i.path), join_);
  const rows = parts.reduce((a, x) => a + x.p.X.rows, 0);
  const nf = features.names.length;
  const precision = precisionOf(parts[0]!.p.X);
  const X: FeatureArray = allocFeatures(precision, rows * nf);
  let r0 = 0;
  for (const { p } of parts) {
    const colOf = features.names.map((f) => p.features.indexOf(f));
    const src = p.X.data;
    const d = p.features.length;
    const same = d === nf && colOf.every((c, j) => c === j);
    if (same) X.set(src.subarray(0, p.X.rows * d), r0 * nf);
    else {
      for (let i = 0; i < p.X.rows; i++) {
        for (let j = 0; j < nf; j++) X[(r0 + i) * nf + j] = colOf[j]! < 0 ? NaN : src[i * d + colOf[j]!]!;
      }
    }
    r0 += p.X.rows;
  }
  const meta = combineMeta(parts.map((x) => x.p));
  const reports = parts.map((x) => x.report);
  const source = inputs.length > 3 ? `${inputs[0]!.path} (+ ${inputs.length - 1} more tables)` : inputs.map((i) => i.path).join(', ');
  const report: IngestReport = {
    ...reports[0]!,
    file: source,
    rows,
    features: nf,
    metadataColumns: meta.map((m) => m.name),
    nanCounts: {
      perFeature: Object.fromEntries(features.names.map((f) => [f, reports.reduce((a, r) => a + (r.nanCounts.perFeature[f] ?? 0), 0)]).filter(([, n]) => (n as number) > 0)),
      total: reports.reduce((a, r) => a + r.nanCounts.total, 0),
      rowsWithNaN: reports.reduce((a, r) => a + r.nanCounts.rowsWithNaN, 0),
    },
    droppedRows: reports.flatMap((r) => r.droppedRows),
    droppedFeatures: [...reports.flatMap((r) => r.droppedFeatures), ...features.dropped],
    bytes: reports.reduce((a, r) => a + r.bytes, 0),
    textBytes: reports.every((r) => r.textBytes !== undefined) ? reports.reduce((a, r) => a + r.textBytes!, 0) : undefined,
    seconds: (performance.now() - t0) / 1000,
  };
  return { profiles: { features: features.names, X: { rows, cols: nf, data: X }, meta, source }, report, tables: reports };
}

function withPartition<M extends StoredMatrix>(p: Profiles<M>, partition: Record<string, string>): Profiles<M> {
  const extra: MetaColumn[] = Object.entries(partition)
    .filter(([k]) => !p.meta.some((m) => m.name === k))
    .map(([k, v]) => ({ name: k, kind: 'string', values: new Array<string | null>(p.X.rows).fill(v) }));
  return extra.length ? { ...p, meta: [...p.meta, ...extra] } : p;
}

function combineFeatures(ps: Profiles<StoredMatrix>[], files: string[], how: FeatureJoin): { names: string[]; dropped: Dropped[] } {
  const first = ps[0]!.features;
  const sets = ps.map((p) => new Set(p.features));
  if (how === 'same') {
    for (let t = 1; t < ps.length; t++) {
      const onlyHere = ps[t]!.features.filter((f) => !sets[0]!.has(f));
      const missing = first.filter((f) => !sets[t]!.has(f));
      if (onlyHere.length || missing.length) {
        throw new InputError(
          `${files[t]} and ${files[0]} have different features (${missing.length} of the first missing, e.g. ${missing.slice(0, 3).join(', ') || '—'}; ` +
            `${onlyHere.length} extra, e.g. ${onlyHere.slice(0, 3).join(', ') || '—'}); combine them with --feature-join intersection or union`,
        );
      }
    }
    return { names: [...first], dropped: [] };
  }
  const all: string[] = [];
  const seen = new Set<string>();
  for (const p of ps) for (const f of p.features) if (!seen.has(f)) (seen.add(f), all.push(f));
  if (how === 'union') return { names: all, dropped: [] };
  const names = all.filter((f) => sets.every((s) => s.has(f)));
  const dropped: Dropped[] = all
    .filter((f) => !sets.every((s) => s.has(f)))
    .map((f) => ({ kind: 'feature', name: f, reason: `not in every table (missing from ${files.filter((_, t) => !sets[t]!.has(f)).map((x) => basename(x)).slice(0, 3).join(', ')}…)` }));
  if (!names.length) throw new InputError(`${files.join(', ')}: no feature is in every table`);
  return { names, dropped };
}

function combineMeta(ps: Profiles<StoredMatrix>[]): MetaColumn[] {
  const names: string[] = [];
  for (const p of ps) for (const m of p.meta) if (!names.includes(m.name)) names.push(m.name);
  return names.map((name) => {
    const cols = ps.map((p) => p.meta.find((m) => m.name === name));
    const numeric = cols.every((c) => !c || c.kind === 'number');
    if (numeric) {
      const v = new Float64Array(ps.reduce((a, p) => a + p.X.rows, 0)).fill(NaN);
      let o = 0;
      ps.forEach((p, t) => {
        const c = cols[t];
        if (c && c.kind === 'number') v.set(c.values, o);
        o += p.X.rows;
      });
      return { name, kind: 'number', values: v };
    }
    const v: (string | null)[] = [];
    ps.forEach((p, t) => {
      const c = cols[t];
      for (let i = 0; i < p.X.rows; i++) {
        if (!c) v.push(null);
        else if (c.kind === 'string') v.push(c.values[i] ?? null);
        else v.push(Number.isNaN(c.values[i]!) ? null : String(c.values[i]));
      }
    });
    return { name, kind: 'string', values: v };
  });
}
