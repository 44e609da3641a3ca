/**
 * `phenomap map`: copairs' whole workflow on a profile table — optional row filter and reference
 * index (copairs' `assign_reference_index`), per-profile AP under any pairing rule
 * (averagePrecision.ts), per-profile p-values, and per-group mAP with p, BH-corrected p,
 * below_p / below_corrected_p and the random baseline (map.ts). Returns the two tables copairs
 * returns (one row per AP, one per group) as metadata-only Profiles, plus a summary.
 */
import type { MetaColumn, Profiles } from '../io/profiles.js';
import { cellString, subsetRows } from '../io/profiles.js';
import { zeros } from '../linalg/matrix.js';
import { parseQuery, queryRows } from '../preprocess/query.js';
import { InputError, UsageError } from '../util/errors.js';
import { type Reporter, silentReporter } from '../util/log.js';
import { averagePrecision, referenceIndexColumn, type SimilarityName } from './averagePrecision.js';
import { ApNulls, meanAveragePrecision, type MapNullRule } from './map.js';
import { type ColumnSpec, specColumns } from './pairs.js';

export interface MapProfilesOptions {
  posSameby?: ColumnSpec;
  posDiffby?: ColumnSpec;
  negSameby?: ColumnSpec;
  negDiffby?: ColumnSpec;
  /** Columns whose values form the mAP groups (default: the positive sameby columns). */
  groupBy?: string[];
  distance?: SimilarityName;
  multilabel?: { column: string; sep?: string };
  /** Null samples per (positives, candidates) shape (default 1000). */
  nullSize?: number;
  seed?: number;
  /** below_p / below_corrected_p threshold (default 0.05). */
  threshold?: number;
  nullRule?: MapNullRule;
  similarityPrecision?: 'float32' | 'float64';
  /** Keep only the rows matching this metadata query (counted in the summary). */
  filter?: string;
  /** copairs' assign_reference_index: rows matching `query` get their index in `column`, others −1. */
  reference?: { query: string; column?: string };
  /** Only rows matching this query get an AP (all rows still serve as candidates). */
  queries?: string;
  reporter?: Reporter;
}

export interface MapProfilesSummary {
  rows: number;
  rowsFiltered: number;
  queries: number;
  aps: number;
  groups: number;
  significant: number;
  meanMap: number;
  meanBaseline: number;
  noPositive: { count: number; rows: number[] };
  noNegative: number;
  entries: { positive: number; negative: number };
  nullShapes: number;
  options: {
    posSameby: ColumnSpec; posDiffby: ColumnSpec; negSameby: ColumnSpec; negDiffby: ColumnSpec; groupBy: string[];
    distance: SimilarityName; multilabel?: { column: string; sep: string }; nullSize: number; seed: number;
    threshold: number; nullRule: MapNullRule; similarityPrecision: 'float32' | 'float64';
    filter?: string; reference?: { query: string; column: string }; queries?: string;
  };
  warnings: string[];
}

export interface MapProfilesResult {
  /** One row per AP: `row` (input row), the metadata, average_precision, n_pos_pairs, n_total_pairs, p_value. */
  ap: Profiles;
  /** One row per group: the group-by columns, n_queries, mean_average_precision, random_baseline, null_mean, p_value, corrected_p_value, below_p, below_corrected_p. */
  map: Profiles;
  summary: MapProfilesSummary;
}

const table = (meta: MetaColumn[], rows: number): Profiles => ({ features: [], X: zeros(rows, 0), meta });
const num = (name: string, v: ArrayLike<number>): MetaColumn => ({ name, kind: 'number', values: Float64Array.from(v) });
const bool = (name: string, v: boolean[]): MetaColumn => ({ name, kind: 'string', values: v.map((b) => (b ? 'True' : 'False')) });

export function mapProfiles(input: Profiles, opts: MapProfilesOptions): MapProfilesResult {
  const reporter = opts.reporter ?? silentReporter;
  const source = input.source ?? 'profiles';
  const nullSize = opts.nullSize ?? 1000;
  const seed = opts.seed ?? 0;
  const threshold = opts.threshold ?? 0.05;
  const nullRule = opts.nullRule ?? 'unsorted';
  const distance = opts.distance ?? 'cosine';
  const similarityPrecision = opts.similarityPrecision ?? 'float32';
  const warnings: string[] = [];

  let p = input;
  let inputRow: ArrayLike<number> | null = null;
  if (opts.filter) {
    const keep = queryRows(p, parseQuery(opts.filter));
    inputRow = keep;
    if (keep.length === 0) throw new InputError(`${source}: no row matches --filter "${opts.filter}"`);
    if (keep.length < p.X.rows) warnings.push(`--filter "${opts.filter}" kept ${keep.length} of ${p.X.rows} rows`);
    p = subsetRows(p, keep);
  }
  const refColumn = opts.reference ? opts.reference.column ?? 'Metadata_Reference_Index' : undefined;
  if (opts.reference) {
    const isRef = new Uint8Array(p.X.rows);
    const hits = queryRows(p, parseQuery(opts.reference.query));
    if (hits.length === 0) throw new InputError(`${source}: no row matches --reference "${opts.reference.query}"`);
    for (const i of hits) isRef[i] = 1;
    if (p.meta.some((c) => c.name === refColumn)) throw new UsageError(`--reference-col: ${source} already has a column "${refColumn}"`);
    p = { ...p, meta: [...p.meta, referenceIndexColumn(refColumn!, isRef)] };
  }
  let queryMask: Uint8Array | undefined;
  if (opts.queries) {
    queryMask = new Uint8Array(p.X.rows);
    for (const i of queryRows(p, parseQuery(opts.queries))) queryMask[i] = 1;
  }

  const posSameby = opts.posSameby ?? [], posDiffby = opts.posDiffby ?? [], negSameby = opts.negSameby ?? [], negDiffby = opts.negDiffby ?? [];
  const ps = specColumns(posSameby);
  const groupBy = opts.groupBy?.length ? opts.groupBy : [...ps.all, ...ps.any];
  if (!groupBy.length) throw new UsageError('--group-by: name the columns whose values form the mAP groups (the positive rule has no sameby column)');

  const r = averagePrecision(p.meta, p.X, {
    pos: { sameby: posSameby, diffby: posDiffby },
    neg: { sameby: negSameby, diffby: negDiffby },
    distance, multilabel: opts.multilabel, queries: queryMask, similarityPrecision, source, features: p.features, reporter,
  });
  warnings.push(...r.warnings);
  for (const c of groupBy) {
    if (!p.meta.some((m) => m.name === c)) throw new InputError(`${source}: --group-by column "${c}" not found`);
  }

  const ml = opts.multilabel?.column;
  const groupCols = groupBy.map((c) => p.meta.find((m) => m.name === c)!);
  const valueOf = (c: number, row: number, label: number): string =>
    groupCols[c]!.name === ml && label >= 0 ? r.labels![label]! : cellString(groupCols[c]!, row) ?? '';
  const keyOf = (row: number, label: number) => groupCols.map((_, c) => valueOf(c, row, label)).join('\u001f');

  const nulls = new ApNulls(nullSize, seed);
  const m = r.ap.length;
  const pAp = new Float64Array(m);
  for (let t = 0; t < m; t++) pAp[t] = nulls.pValue(r.ap[t]!, r.nPos[t]!, r.nTotal[t]!);
  const queries = Array.from({ length: m }, (_, t) => ({
    group: keyOf(r.row[t]!, r.label[t]!), query: String(r.row[t]), ap: r.ap[t]!, nPos: r.nPos[t]!, nTotal: r.nTotal[t]!,
  }));
  const res = meanAveragePrecision(queries, { nullSize, seed, threshold, nullRule, nulls });

  // Per-AP table: input row, metadata (the multilabel column holds the AP's label), AP columns.
  const rows = r.row;
  const apMeta: MetaColumn[] = [num('row', inputRow ? Array.from(rows, (i) => inputRow![i]!) : rows)];
  for (const c of p.meta) {
    if (c.name === 'row') continue;
    if (c.name === ml) apMeta.push({ name: c.name, kind: 'string', values: Array.from(r.label, (l) => r.labels![l]!) });
    else if (c.kind === 'string') apMeta.push({ name: c.name, kind: 'string', values: Array.from(rows, (i) => c.values[i] ?? null) });
    else apMeta.push(num(c.name, Array.from(rows, (i) => c.values[i]!)));
  }
  apMeta.push(num('average_precision', r.ap), num('n_pos_pairs', r.nPos), num('n_total_pairs', r.nTotal), num('p_value', pAp));

  const G = res.groups;
  const firstOf = new Map<string, number>();
  queries.forEach((q, t) => {
    if (!firstOf.has(q.group)) firstOf.set(q.group, t);
  });
  const mapMeta: MetaColumn[] = groupCols.map((col, c) => ({
    name: col.name, kind: 'string' as const,
    values: G.map((g) => {
      const t = firstOf.get(g.group)!;
      return valueOf(c, r.row[t]!, r.label[t]!);
    }),
  }));
  mapMeta.push(
    num('n_queries', G.map((g) => g.nQueries)),
    num('mean_average_precision', G.map((g) => g.mAP)),
    num('random_baseline', G.map((g) => g.baseline)),
    num('null_mean', G.map((g) => g.nullMean)),
    num('p_value', G.map((g) => g.pValue)),
    num('corrected_p_value', G.map((g) => g.qValue)),
    bool('below_p', G.map((g) => g.belowP)),
    bool('below_corrected_p', G.map((g) => g.retrieved)),
  );
  const noPos = Array.from(r.noPositive);
  const summary: MapProfilesSummary = {
    rows: input.X.rows,
    rowsFiltered: p.X.rows,
    queries: queryMask ? queryMask.reduce((s, v) => s + v, 0) : p.X.rows,
    aps: m,
    groups: G.length,
    significant: G.filter((g) => g.retrieved).length,
    meanMap: res.meanMap,
    meanBaseline: res.meanBaseline,
    noPositive: { count: noPos.length, rows: noPos.slice(0, 1000) },
    noNegative: r.noNegative,
    entries: r.entries,
    nullShapes: nulls.shapes,
    options: {
      posSameby, posDiffby, negSameby, negDiffby, groupBy, distance,
      multilabel: opts.multilabel ? { column: opts.multilabel.column, sep: opts.multilabel.sep ?? '|' } : undefined,
      nullSize, seed, threshold, nullRule, similarityPrecision,
      filter: opts.filter, reference: opts.reference ? { query: opts.reference.query, column: refColumn! } : undefined, queries: opts.queries,
    },
    warnings,
  };
  return { ap: table(apMeta, m), map: table(mapMeta, G.length), summary };
}
