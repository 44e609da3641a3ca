/**
 * Consensus profiles: one per group of replicates, as pycytominer's `consensus`.
 *
 * - median: the per-feature median of the replicates (see aggregate.ts).
 * - modz: pycytominer's `modz_base` (after cmapPy's MODZ): Spearman correlations between the
 *   replicates (ranks averaged on ties, computed across features, pandas' pairwise-complete rule
 *   when values are missing); diagonal ignored; negative correlations set to 0; each replicate's
 *   raw weight is the mean of its correlations to the others (pycytominer takes the mean; the
 *   normalisation below makes it proportional to the sum), clipped below at `minWeight` (0.01);
 *   weights normalised to sum 1 and rounded to `precision` decimals (4, as pycytominer; null
 *   keeps full precision); consensus = Σ weightᵣ · replicateᵣ. A one-replicate group returns the
 *   replicate itself.
 *   `modzFeatures` restricts the features the correlations are computed on (e.g. landmark
 *   features); the weighted sum always covers every feature.
 *
 * Where phenomap differs from pycytominer: a missing value in one replicate is skipped and the
 * remaining weights rescaled to the same total (pandas' `sum` would count it as 0); a feature no
 * replicate has stays missing and is counted; a replicate whose correlations are all undefined
 * (constant profile) gets `minWeight` (pandas would turn every weight of the group into NaN).
 * `modzMissing: 'pycytominer'` gives pycytominer's numbers instead (test/fixtures/pycytominer/
 * modz_missing.json): a missing value adds 0 to the weighted sum, a feature no replicate has is 0,
 * and a replicate with no defined correlation gets no weight (the others are normalised without it).
 */
import type { Profiles } from '../io/profiles.js';
import { takeCols, takeRows, transpose, zeros } from '../linalg/matrix.js';
import { InputError, UsageError } from '../util/errors.js';
import type { Reporter } from '../util/log.js';
import { silentReporter } from '../util/log.js';
import { aggregate, groupMetadata } from './aggregate.js';
import { columnCorrelation } from './correlation.js';
import { groupLabel, groupRows } from './stats.js';

export type ConsensusMethod = 'median' | 'modz';
export type ModzMissing = 'rescale' | 'pycytominer';
export const MODZ_MISSING: readonly ModzMissing[] = ['rescale', 'pycytominer'];

export interface ConsensusOptions {
  strata: string[];
  method?: ConsensusMethod;
  minWeight?: number;
  /** Decimals the MODZ weights are rounded to (pycytominer: 4); null = no rounding. */
  precision?: number | null;
  /** Features the MODZ correlations use (default: all). */
  modzFeatures?: string[];
  /** Missing values in MODZ: rescale the present weights (default), or exactly as pycytominer. */
  modzMissing?: ModzMissing;
  /** Name of the added replicate-count column (default 'Metadata_n_replicates'). */
  countColumn?: string;
  reporter?: Reporter;
}

export interface ConsensusGroupReport {
  readonly label: string;
  readonly nReplicates: number;
  /** MODZ weights of the replicates in row order (absent for median). */
  readonly weights?: number[];
}

export interface ConsensusReport {
  readonly method: ConsensusMethod;
  readonly strata: string[];
  readonly nRowsIn: number;
  readonly nGroups: number;
  readonly groups: ConsensusGroupReport[];
  readonly metadataKept: string[];
  readonly metadataDropped: string[];
  readonly missingCells: number;
  readonly warnings: string[];
}

/** numpy's round: half to even at the given number of decimals. */
function roundHalfEven(x: number, decimals: number): number {
  const f = 10 ** decimals;
  const y = x * f;
  const r = Math.round(y);
  const rounded = Math.abs(y % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return rounded / f;
}

/**
 * MODZ weights of k replicate profiles (rows of R, k × f). Exposed for tests and for users who
 * want the weights themselves.
 */
export function modzWeights(
  R: { rows: number; cols: number; data: Float64Array }, minWeight = 0.01, precision: number | null = 4, undefinedWeight: 'min' | 'none' = 'min',
): { weights: Float64Array; undefinedRows: number } {
  const k = R.rows;
  const w = new Float64Array(k);
  if (k === 1) {
    w[0] = 1;
    return { weights: w, undefinedRows: 0 };
  }
  const C = columnCorrelation(transpose(R), 'spearman').data;
  let undefinedRows = 0;
  for (let a = 0; a < k; a++) {
    let s = 0, c = 0;
    for (let b = 0; b < k; b++) {
      if (a === b) continue;
      const r = C[a * k + b]!;
      if (r !== r) continue;
      s += r > 0 ? r : 0;
      c++;
    }
    let raw = c > 0 ? s / c : NaN;
    if (raw !== raw) {
      undefinedRows++;
      // pycytominer: NaN, skipped by the normalising sum and by the weighted sum (weight 0).
      raw = undefinedWeight === 'none' ? 0 : minWeight;
      w[a] = raw;
      continue;
    }
    w[a] = raw < minWeight ? minWeight : raw;
  }
  let tot = 0;
  for (let a = 0; a < k; a++) tot += w[a]!;
  // Every replicate undefined (pycytominer: equal weights).
  if (tot === 0) for (let a = 0; a < k; a++) (w[a] = 1), (tot += 1);
  for (let a = 0; a < k; a++) {
    const v = w[a]! / tot;
    w[a] = precision === null ? v : roundHalfEven(v, precision);
  }
  return { weights: w, undefinedRows };
}

export function consensus(profiles: Profiles, opts: ConsensusOptions): { profiles: Profiles; report: ConsensusReport } {
  const method = opts.method ?? 'median';
  if (method !== 'median' && method !== 'modz') throw new UsageError(`consensus: method must be median or modz, got "${String(method)}"`);
  if (!opts.strata || opts.strata.length === 0) throw new UsageError('consensus: give at least one strata column (e.g. Metadata_broad_sample, Metadata_mmoles_per_liter)');
  const reporter = opts.reporter ?? silentReporter;
  const countColumn = opts.countColumn ?? 'Metadata_n_replicates';
  const src = profiles.source ?? 'profiles';
  const minWeight = opts.minWeight ?? 0.01;
  if (!(minWeight >= 0 && minWeight <= 1)) throw new UsageError(`consensus: minWeight must be between 0 and 1, got ${minWeight}`);

  if (method === 'median') {
    const r = aggregate(profiles, { strata: opts.strata, operation: 'median', countColumn, reporter });
    const groups = groupRows(profiles, opts.strata);
    return {
      profiles: r.profiles,
      report: {
        method,
        strata: [...opts.strata],
        nRowsIn: profiles.X.rows,
        nGroups: r.report.nGroups,
        groups: groups.rows.map((rows, g) => ({ label: groupLabel(groups, g), nReplicates: rows.length })),
        metadataKept: r.report.metadataKept,
        metadataDropped: r.report.metadataDropped,
        missingCells: r.report.missingCells,
        warnings: r.report.warnings,
      },
    };
  }

  const { rows: n, cols: d, data } = profiles.X;
  if (n === 0) throw new InputError(`${src}: no rows for consensus`);
  let corrCols: number[] | undefined;
  if (opts.modzFeatures) {
    const index = new Map(profiles.features.map((f, j) => [f, j]));
    const unknown = opts.modzFeatures.filter((f) => !index.has(f));
    if (unknown.length) throw new InputError(`${src}: MODZ features not in the table: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`);
    corrCols = opts.modzFeatures.map((f) => index.get(f)!);
  }
  const groups = groupRows(profiles, opts.strata);
  const G = groups.rows.length;
  const out = zeros(G, d);
  const od = out.data;
  const groupReports: ConsensusGroupReport[] = [];
  const warnings: string[] = [];
  let missingCells = 0;
  let undefinedTotal = 0;
  for (let g = 0; g < G; g++) {
    const rows = groups.rows[g]!;
    const R = takeRows(profiles.X, rows);
    const asPycytominer = opts.modzMissing === 'pycytominer';
    const { weights, undefinedRows } = modzWeights(corrCols ? takeCols(R, corrCols) : R, minWeight, opts.precision === undefined ? 4 : opts.precision, asPycytominer ? 'none' : 'min');
    undefinedTotal += undefinedRows;
    groupReports.push({ label: groupLabel(groups, g), nReplicates: rows.length, weights: Array.from(weights) });
    let wAll = 0;
    for (let r = 0; r < rows.length; r++) wAll += weights[r]!;
    const o = g * d;
    for (let j = 0; j < d; j++) {
      let s = 0, wp = 0;
      for (let r = 0; r < rows.length; r++) {
        const v = data[rows[r]! * d + j]!;
        if (v === v) {
          s += weights[r]! * v;
          wp += weights[r]!;
        }
      }
      if (asPycytominer) od[o + j] = s; // pandas' sum: missing values add 0, none at all gives 0
      else if (wp === 0) {
        od[o + j] = NaN;
        missingCells++;
      } else od[o + j] = wp === wAll ? s : (s * wAll) / wp;
    }
  }
  if (undefinedTotal) {
    warnings.push(`${undefinedTotal} replicate(s) had no defined correlation to the others (constant profile) and got ${opts.modzMissing === 'pycytominer' ? 'no weight (as pycytominer)' : `the minimum weight ${minWeight}`}`);
  }
  if (missingCells) warnings.push(`${missingCells} consensus value(s) are missing because no replicate had the feature`);
  if (groups.missingKeyGroups) warnings.push(`${groups.missingKeyGroups} group(s) have a missing ${opts.strata.join('/')} value and are kept as their own group`);
  for (const w of warnings) reporter.warn(w);
  const { meta, kept, dropped } = groupMetadata(profiles, groups, countColumn);
  return {
    profiles: { features: profiles.features, X: out, meta, source: profiles.source },
    report: { method, strata: [...opts.strata], nRowsIn: n, nGroups: G, groups: groupReports, metadataKept: kept, metadataDropped: dropped, missingCells, warnings },
  };
}
