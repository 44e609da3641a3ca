/**
 * "What acts like chloroquine?" answered at compound level from a finished run:
 *
 *  1. is the compound active at all — replicate retrieval against the negative controls
 *     (activity.ts), with a plain verdict that comes first; when it is indistinguishable from the
 *     controls, everything after it is marked unreliable;
 *  2. its ranked neighbours — distinct compounds, by the cosine similarity of treatment consensus
 *     profiles (similarity.ts), each with its rank percentile and empirical p-value against the
 *     null of all compound pairs, a BH q-value over the query's candidates, its own activity call,
 *     the MoA / target annotations it shares with the query and whether it sits in the query's
 *     community;
 *  3. the query's community in the run (the cluster most of its wells are in), at compound level:
 *     which compounds, how many control wells, and the community's MoA enrichment.
 *
 * `openCompoundIndex` does the work shared by all queries once (activity of every compound, the
 * pair null); `answerCompound` then answers one name; `queryCompounds` does both.
 */
import { readRunDir, type RunData } from '../io/runDir.js';
import { benjaminiHochberg } from '../enrich/bh.js';
import type { ConsensusMethod } from '../preprocess/consensus.js';
import { InputError, UsageError } from '../util/errors.js';
import { compoundActivity, doseOrder, type ActivityCall, type ActivityOptions, type ActivityTable, type DoseActivity } from './activity.js';
import { CompoundNames } from './names.js';
import { compoundRow, nullPosition, pairNull, rowMean, treatmentSpace, type PairNull, type TreatmentSpace } from './similarity.js';
import { loadWellProfiles, type WellOptions, type WellProfiles } from './wells.js';

export interface CompoundQueryOptions extends WellOptions, ActivityOptions {
  /** Representation whose coordinates rank the neighbours and whose communities are reported (default raw). */
  representation?: string;
  /** Neighbours listed (default 10). */
  k?: number;
  /** How replicate wells are combined into a treatment profile (default median). */
  consensus?: ConsensusMethod;
  /**
   * 'best-dose' (default): one consensus per dose, two compounds as similar as their best-matching
   * doses; 'pooled': one consensus over all of a compound's wells.
   */
  compoundProfile?: CompoundProfile;
  /** Compound pairs in the neighbour null: all of them up to this many, else this many sampled (default 1,000,000). */
  maxNullPairs?: number;
}

export type CompoundProfile = 'best-dose' | 'pooled';
export const COMPOUND_PROFILES: readonly CompoundProfile[] = ['best-dose', 'pooled'];

export type AnswerStatus = 'ok' | 'not-found' | 'ambiguous' | 'control' | 'not-in-run';

export interface ActivitySummary {
  status: ActivityCall['status'];
  active: boolean | null;
  map: number | null;
  p: number | null;
  q: number | null;
}

export interface Annotations {
  /** Values of the run's label column (MoA, injury type, …), split on the label separator. */
  label: string[];
  /** Values of a target column, when the run has one. */
  target: string[];
}

export interface NeighbourAnswer {
  rank: number;
  compound: string;
  /** Cosine similarity of the best-matching treatments (change from control where centred). */
  similarity: number;
  /** Share (%) of null compound pairs less similar. */
  percentile: number;
  /** (#{null pairs ≥ similarity} + 1) / (#null + 1). */
  p: number;
  /** Benjamini–Hochberg over the query's candidates. */
  q: number;
  /** Doses of the best-matching treatments. */
  doses: { query: string | null; neighbour: string | null };
  activity: ActivitySummary;
  sharedAnnotations: Annotations;
  annotations: Annotations;
  /** Whether any of the neighbour's wells is in the query's community; null without communities. */
  sameCommunity: boolean | null;
  /** How many of the neighbour's wells are in the query's community (of its wells in the run). */
  communityWells: number;
  wells: number;
}

export interface CommunityEnrichment {
  label: string;
  k: number;
  n: number;
  p: number;
  q: number;
  significant: boolean;
}

export interface CommunityAnswer {
  representation: string;
  cluster: number;
  /** The query's wells, and how many of them are in this community. */
  queryWells: number;
  queryWellsInCommunity: number;
  /** Every community the query's wells are in, with their number of wells (most first). */
  queryCommunities: { cluster: number; wells: number }[];
  profiles: number;
  controlProfiles: number;
  /** Other compounds in the community with their number of wells, most first. */
  compounds: { compound: string; profiles: number }[];
  /** More than half of the community's profiles are negative controls. */
  dominatedByControls: boolean;
  /** The community's MoA enrichment from the run (enrichment.csv), by p. */
  enrichment: CommunityEnrichment[];
}

export interface CompoundAnswer {
  query: string;
  status: AnswerStatus;
  /** The answer's first sentence: the activity verdict, or why there is no answer. */
  verdict: string;
  compound: string | null;
  matchedBy?: string;
  candidates?: string[];
  suggestions?: string[];
  /** false when the compound is indistinguishable from controls: neighbours and community are noise. */
  reliable: boolean | null;
  /** Wells of the compound in the run, and its treatments there. */
  wells: number;
  treatments: { dose: string | null; wells: number }[];
  annotations: Annotations;
  activity: ActivityCall | null;
  activityByDose: DoseActivity[];
  representation: string;
  neighbours: NeighbourAnswer[];
  community: CommunityAnswer | null;
  notes: string[];
}

export interface QueryContext {
  runDir: string;
  compoundColumn: string;
  labelColumn: string;
  targetColumn: string | null;
  doseColumn: string | null;
  representation: string;
  /** Where the wells of the activity call came from. */
  wellsFrom: string;
  controls: ActivityTable['controls'];
  noControlsReason: string | null;
  compoundsCalled: number;
  activeCompounds: number;
  nullSize: number;
  threshold: number;
  consensus: ConsensusMethod;
  compoundProfile: CompoundProfile;
  /** Whether treatment profiles are changes from the control centroid. */
  centredOnControls: boolean;
  compounds: number;
  nullPairs: number;
  nullExact: boolean;
  wellsWithMissingValues: number;
}

interface RepresentationIndex {
  space: TreatmentSpace;
  nul: PairNull;
  clusters: Int32Array | null;
  /** Modal cluster of each compound (space order) and its well count there. */
  modal: { cluster: number; inCluster: number; wells: number }[];
  isControlRun: Uint8Array;
}

export interface CompoundIndex {
  readonly run: RunData;
  readonly wells: WellProfiles;
  readonly activity: ActivityTable;
  readonly names: CompoundNames;
  readonly options: CompoundQueryOptions;
  /** Run rows of each compound, and whether a run row is a negative control. */
  readonly runRowsOf: Map<string, number[]>;
  readonly isControlRun: Uint8Array;
  readonly labelSep: string;
  readonly targetColumn: string | null;
  /** Lower-cased compound names of the negative-control wells. */
  readonly controlNames: Set<string>;
  /** Representation-specific structures, built on first use. */
  space(rep: string): RepresentationIndex;
  context(rep?: string): QueryContext;
}

const TARGET_COLUMN = /^(metadata_)?target$/i;
const ID_COLUMN = /pert_iname|^compound name$|^metadata_compound$|broad_(sample|id)$|^compound brd( \(short\))?$|inchikey|pert_id$/i;

function splitLabels(v: string | null | undefined, sep: string): string[] {
  if (!v) return [];
  return v.split(sep).map((s) => s.trim()).filter(Boolean);
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)].sort((a, b) => a.localeCompare(b));
}

function summary(a: ActivityCall): ActivitySummary {
  return { status: a.status, active: a.active, map: a.map, p: a.p, q: a.q };
}

/** Everything the queries share: the run, the wells, every compound's activity call. */
export async function openCompoundIndex(runDir: string, opts: CompoundQueryOptions = {}): Promise<CompoundIndex> {
  if (opts.k !== undefined && !(Number.isInteger(opts.k) && opts.k >= 1)) throw new UsageError(`k (neighbours) must be a positive integer, got ${opts.k}`);
  if (opts.compoundProfile !== undefined && !COMPOUND_PROFILES.includes(opts.compoundProfile)) {
    throw new UsageError(`compoundProfile must be ${COMPOUND_PROFILES.join(' or ')}, got "${String(opts.compoundProfile)}"`);
  }
  const positiveInt = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new UsageError(`${name} must be a positive integer, got ${v}`);
  };
  positiveInt('nullSize', opts.nullSize);
  positiveInt('maxControls', opts.maxControls);
  positiveInt('maxNullPairs', opts.maxNullPairs);
  if (opts.threshold !== undefined && !(opts.threshold > 0 && opts.threshold < 1)) throw new UsageError(`threshold (q) must be in (0, 1), got ${opts.threshold}`);
  const run = await readRunDir(runDir);
  const rep = opts.representation ?? (run.reps.includes('raw') ? 'raw' : run.reps[0]!);
  if (!run.repr(rep)) {
    const have = run.reps.filter((r) => run.repr(r));
    throw new UsageError(`representation "${rep}" has no repr_${rep}.npy in ${runDir} (have: ${have.join(', ') || 'none'})`);
  }
  const wells = await loadWellProfiles(run, opts);
  const activity = compoundActivity(wells, opts);
  const isControlRun = new Uint8Array(run.n);
  if (wells.controls) {
    for (let i = 0; i < wells.runRow.length; i++) if (wells.controls.mask[i] && wells.runRow[i]! >= 0) isControlRun[wells.runRow[i]!] = 1;
  }
  const compoundCol = run.table.values.get(run.drugCol) ?? run.drug;
  const runRowsOf = new Map<string, number[]>();
  for (let r = 0; r < run.n; r++) {
    const c = compoundCol[r];
    if (isControlRun[r] || c === null || c === undefined || c.trim() === '') continue;
    let a = runRowsOf.get(c);
    if (!a) runRowsOf.set(c, (a = []));
    a.push(r);
  }
  const all = new Set<string>(runRowsOf.keys());
  for (const c of activity.byCompound.keys()) all.add(c);
  const names = new CompoundNames(all);
  for (const col of run.table.columns) {
    if (col === run.drugCol || !ID_COLUMN.test(col)) continue;
    names.addAliases(col, run.table.values.get(col)!, compoundCol);
  }
  const labelSep = typeof run.summary.parameters?.sep === 'string' ? (run.summary.parameters.sep as string) : '|';
  const targetColumn = run.table.columns.find((c) => TARGET_COLUMN.test(c) && c !== run.labelCol) ?? null;
  const controlNames = new Set<string>();
  if (wells.controls) wells.compound.forEach((c, i) => { if (wells.controls!.mask[i] && c) controlNames.add(c.trim().toLowerCase()); });
  const cache = new Map<string, RepresentationIndex>();
  const options = { ...opts, representation: rep };
  const index: CompoundIndex = {
    run, wells, activity, names, options, runRowsOf, isControlRun, labelSep, targetColumn, controlNames,
    space(r: string): RepresentationIndex {
      let s = cache.get(r);
      if (!s) {
        s = buildRepresentation(index, r);
        cache.set(r, s);
      }
      return s;
    },
    context(r = rep): QueryContext {
      const s = index.space(r);
      return {
        runDir: run.dir, compoundColumn: run.drugCol, labelColumn: run.labelCol, targetColumn, doseColumn: run.doseCol, representation: r,
        wellsFrom: wells.origin, controls: activity.controls, noControlsReason: activity.noControlsReason ?? null,
        compoundsCalled: activity.called, activeCompounds: activity.activeCompounds, nullSize: activity.nullSize, threshold: activity.threshold,
        consensus: opts.consensus ?? 'median', compoundProfile: opts.compoundProfile ?? 'best-dose', centredOnControls: s.space.centred, compounds: s.space.compounds.length,
        nullPairs: s.nul.all.length, nullExact: s.nul.exact, wellsWithMissingValues: activity.wellsWithMissingValues,
      };
    },
  };
  return index;
}

function buildRepresentation(index: CompoundIndex, rep: string): RepresentationIndex {
  const { run, wells, isControlRun } = index;
  const coords = run.repr(rep);
  if (!coords) throw new UsageError(`representation "${rep}" has no repr_${rep}.npy in ${run.dir}`);
  const compoundCol = run.table.values.get(run.drugCol) ?? run.drug;
  const compound = compoundCol.map((c, r) => (isControlRun[r] || c === null || c === undefined || c.trim() === '' ? null : c));
  // The control centroid in this space: from the run's control rows, or (raw only) from the wells.
  const ctrlRows: number[] = [];
  for (let r = 0; r < run.n; r++) if (isControlRun[r]) ctrlRows.push(r);
  let centroid: Float64Array | null = null;
  if (ctrlRows.length) centroid = rowMean(coords, ctrlRows);
  else if (rep === 'raw' && wells.controls && wells.origin !== 'run directory') {
    const rows: number[] = [];
    for (let i = 0; i < wells.X.rows; i++) if (wells.controls.mask[i]) rows.push(i);
    centroid = rowMean(wells.X, rows);
  }
  const dose = index.options.compoundProfile === 'pooled' ? run.dose.map(() => null) : run.dose;
  const space = treatmentSpace(coords, compound, dose, isControlRun, { method: index.options.consensus, controlCentroid: centroid });
  const nul = pairNull(space, { maxPairs: index.options.maxNullPairs, seed: index.options.seed });
  const clusters = run.clusters[rep] ?? null;
  const modal = space.compounds.map((c) => {
    const rows = index.runRowsOf.get(c) ?? [];
    if (!clusters) return { cluster: -1, inCluster: 0, wells: rows.length };
    const counts = new Map<number, number>();
    for (const r of rows) counts.set(clusters[r]!, (counts.get(clusters[r]!) ?? 0) + 1);
    let best = -1, bestN = 0;
    for (const [cl, n] of counts) if (n > bestN || (n === bestN && cl < best)) (best = cl), (bestN = n);
    return { cluster: best, inCluster: bestN, wells: rows.length };
  });
  return { space, nul, clusters, modal, isControlRun };
}

function annotationsOf(index: CompoundIndex, compound: string): Annotations {
  const rows = index.runRowsOf.get(compound) ?? [];
  const target = index.targetColumn ? index.run.table.values.get(index.targetColumn)! : null;
  const label: string[] = [], tgt: string[] = [];
  for (const r of rows) {
    label.push(...splitLabels(index.run.moa[r], index.labelSep));
    if (target) tgt.push(...splitLabels(target[r], index.labelSep));
  }
  return { label: unique(label), target: unique(tgt) };
}

function shared(a: Annotations, b: Annotations): Annotations {
  const inter = (x: string[], y: string[]) => x.filter((v) => y.includes(v));
  return { label: inter(a.label, b.label), target: inter(a.target, b.target) };
}

const f3 = (x: number | null) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(3));
const fp = (x: number | null) => (x === null || !Number.isFinite(x) ? '—' : x < 1e-3 ? x.toExponential(1) : x.toPrecision(2));

/** One sentence on the activity call (the answer's first line). */
export function activityVerdict(compound: string, a: ActivityCall | null, byDose: readonly DoseActivity[], threshold: number): string {
  if (!a) return `${compound}: no activity call.`;
  if (a.status === 'not-called') return `${compound}: NO ACTIVITY CALL — ${a.reason ?? 'not enough wells'}. The neighbours below are not backed by an activity call.`;
  const stats = `mAP ${f3(a.map)} vs ${f3(a.baseline)} by chance, p = ${fp(a.p)}, q = ${fp(a.q)}; ${a.replicates} replicate wells against ${a.controls} negative-control wells`;
  const calledDoses = byDose.filter((d) => d.status !== 'not-called');
  const doseNote = calledDoses.length > 1 || (calledDoses.length === 1 && byDose.length > 1)
    ? ` By dose: ${byDose.map((d) => `${d.dose ?? '?'} ${d.status === 'active' ? 'active' : d.status === 'inactive' ? 'inactive' : 'no call'}${d.q !== null ? ` (q = ${fp(d.q)})` : ''}`).join(', ')}.`
    : '';
  if (a.active) return `${compound} is ACTIVE: its replicate wells are told apart from the negative controls (${stats}).${doseNote}`;
  return `${compound} is INDISTINGUISHABLE FROM NEGATIVE CONTROLS (${stats}; active would need q < ${threshold}). Everything below is UNRELIABLE: its neighbours and community reflect noise, not a shared phenotype.${doseNote}`;
}

function community(index: CompoundIndex, s: RepresentationIndex, rep: string, c: number, compound: string): CommunityAnswer | null {
  const m = s.modal[c]!;
  if (!s.clusters || m.cluster < 0) return null;
  const lab = s.clusters;
  let profiles = 0, controls = 0;
  const counts = new Map<string, number>();
  const compoundCol = index.run.table.values.get(index.run.drugCol) ?? index.run.drug;
  for (let r = 0; r < lab.length; r++) {
    if (lab[r] !== m.cluster) continue;
    profiles++;
    if (s.isControlRun[r]) {
      controls++;
      continue;
    }
    const name = compoundCol[r];
    if (name && name !== compound) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const own = new Map<number, number>();
  for (const r of index.runRowsOf.get(compound) ?? []) own.set(lab[r]!, (own.get(lab[r]!) ?? 0) + 1);
  const queryCommunities = [...own.entries()].map(([cluster, wells]) => ({ cluster, wells })).sort((a, b) => b.wells - a.wells || a.cluster - b.cluster);
  const enrichment = index.run.enrichment
    .filter((e) => e.representation === rep && e.cluster === m.cluster)
    .sort((a, b) => a.p - b.p)
    .map((e) => ({ label: e.moa, k: e.k, n: e.n, p: e.p, q: e.q, significant: e.significant }));
  return {
    representation: rep, cluster: m.cluster, queryWells: m.wells, queryWellsInCommunity: m.inCluster, queryCommunities, profiles, controlProfiles: controls,
    compounds: [...counts.entries()].map(([compound, profiles]) => ({ compound, profiles })).sort((a, b) => b.profiles - a.profiles || a.compound.localeCompare(b.compound)),
    dominatedByControls: controls * 2 > profiles,
    enrichment,
  };
}

function emptyAnswer(query: string, status: AnswerStatus, verdict: string, rep: string, extra: Partial<CompoundAnswer> = {}): CompoundAnswer {
  return {
    query, status, verdict, compound: null, reliable: null, wells: 0, treatments: [], annotations: { label: [], target: [] }, activity: null,
    activityByDose: [], representation: rep, neighbours: [], community: null, notes: [], ...extra,
  };
}

/** The answer for one name (never throws for an unknown or ambiguous name: the status says it). */
export function answerCompound(index: CompoundIndex, query: string, opts: { representation?: string; k?: number } = {}): CompoundAnswer {
  const rep = opts.representation ?? index.options.representation!;
  const k = opts.k ?? index.options.k ?? 10;
  const { run, wells, activity } = index;
  const q = query.trim();
  if (index.controlNames.has(q.toLowerCase()) && !index.runRowsOf.has(q)) {
    return emptyAnswer(query, 'control', `"${q}" names the negative controls (${wells.controls!.count} wells, ${wells.controls!.rule}): they are the reference every activity call is made against, not a treatment.`, rep);
  }
  const m = index.names.match(q);
  if (m.status === 'not-found') {
    return emptyAnswer(query, 'not-found', `"${q}" is not a compound of this run${m.suggestions.length ? `; closest names: ${m.suggestions.join(', ')}` : ''}.`, rep, { suggestions: m.suggestions });
  }
  if (m.status === 'ambiguous') {
    return emptyAnswer(query, 'ambiguous', `"${q}" matches ${m.candidates.length} compounds (by ${m.how}): ${m.candidates.slice(0, 12).join(', ')}${m.candidates.length > 12 ? ', …' : ''} — ask for one of them.`, rep, { candidates: m.candidates, matchedBy: m.how });
  }
  const compound = m.compound;
  const call = activity.byCompound.get(compound) ?? null;
  const byDose = activity.byDose.get(compound) ?? [];
  const verdict = activityVerdict(compound, call, byDose, activity.threshold);
  const reliable = call && call.status !== 'not-called' ? call.active : null;
  const s = index.space(rep);
  const c = s.space.compounds.indexOf(compound);
  const notes: string[] = [];
  if (m.how !== 'name') notes.push(`"${q}" matched ${compound} by ${m.how}`);
  if (c < 0) {
    return emptyAnswer(query, 'not-in-run', `${verdict} ${compound} is in ${wells.origin} but not in the run (its wells have no ${run.labelCol || 'label'} value, so \`run\` left them out): no neighbours or community.`, rep, {
      compound, matchedBy: m.how, activity: call, activityByDose: byDose, reliable, notes,
    });
  }
  const row = compoundRow(s.space, c);
  const cand: number[] = [];
  for (let b = 0; b < row.length; b++) if (b !== c) cand.push(b);
  const pos = cand.map((b) => nullPosition(s.nul, c, row[b]!.similarity));
  const qv = benjaminiHochberg(pos.map((x) => x.p));
  const order = cand.map((b, t) => t).sort((x, y) => row[cand[y]!]!.similarity - row[cand[x]!]!.similarity || cand[x]! - cand[y]!);
  const ann = annotationsOf(index, compound);
  const myCluster = s.modal[c]!.cluster;
  const inCommunity = (b: number) => {
    if (!s.clusters) return 0;
    let n = 0;
    for (const r of index.runRowsOf.get(s.space.compounds[b]!) ?? []) if (s.clusters[r] === myCluster) n++;
    return n;
  };
  const neighbours: NeighbourAnswer[] = order.slice(0, k).map((t, i) => {
    const b = cand[t]!, pair = row[b]!, name = s.space.compounds[b]!;
    const other = annotationsOf(index, name);
    const act = activity.byCompound.get(name);
    return {
      rank: i + 1, compound: name, similarity: pair.similarity, percentile: pos[t]!.percentile, p: pos[t]!.p, q: qv[t]!,
      doses: { query: s.space.treatmentDose[pair.ta] ?? null, neighbour: s.space.treatmentDose[pair.tb] ?? null },
      activity: act ? summary(act) : { status: 'not-called', active: null, map: null, p: null, q: null },
      sharedAnnotations: shared(ann, other), annotations: other,
      sameCommunity: s.clusters ? inCommunity(b) > 0 : null, communityWells: inCommunity(b), wells: s.modal[b]!.wells,
    };
  });
  if (!s.space.centred) notes.push('no negative controls in this representation: similarities are between the profiles as they are, not their changes from control');
  if (!s.nul.exact) notes.push(`the null holds ${s.nul.all.length} sampled compound pairs (all pairs would exceed maxNullPairs)`);
  const treatments = s.space.treatmentsOf[c]!.map((t) => ({ dose: s.space.treatmentDose[t] ?? null, wells: s.space.treatmentWells[t]! }))
    .sort((a, b) => doseOrder(a.dose, b.dose));
  return {
    query, status: 'ok', verdict, compound, matchedBy: m.how, reliable, wells: s.modal[c]!.wells, treatments, annotations: ann,
    activity: call, activityByDose: byDose, representation: rep, neighbours, community: community(index, s, rep, c, compound), notes,
  };
}

/** Open the run and answer every query (names as typed). */
export async function queryCompounds(runDir: string, queries: readonly string[], opts: CompoundQueryOptions = {}): Promise<{ context: QueryContext; answers: CompoundAnswer[] }> {
  if (!queries.length) throw new UsageError('give at least one compound to query');
  const index = await openCompoundIndex(runDir, opts);
  return { context: index.context(), answers: queries.map((q) => answerCompound(index, q)) };
}

/** Compound names of a query list file: one per line; blank lines and lines starting with # skipped. */
export function parseQueryList(text: string, source = 'query list'): string[] {
  const out = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (!out.length) throw new InputError(`${source}: no compound names (one per line)`);
  return out;
}
