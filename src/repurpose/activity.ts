/**
 * Is a compound active at all? Phenotypic activity as copairs defines it (Kalinin et al. 2025):
 * each replicate well of the compound ranks the compound's other wells (positives) against the
 * negative-control wells (negatives) by cosine similarity; AP per well, mAP per compound, a
 * permutation p-value from random rankings of the same shape and Benjamini–Hochberg q-values over
 * every compound that can be called. The AP, null and BH are src/evaluate/map.ts's
 * (`activityQueries`, `meanAveragePrecision`); this module only chooses the wells.
 *
 * All doses of a compound are its replicates (the compound-level call the question needs; on the
 * LINCS plate, one well per dose, there is no other choice). Where a dose column exists the same
 * call is also made per dose, with its own BH over all (compound, dose) treatments, so an answer
 * can say "active at 20 µM, not at 5 µM".
 *
 * A compound with one well has no positive to retrieve: it gets no call (said so), and is left
 * out of the BH family. Wells with a missing value are left out and counted.
 */
import { type Matrix, takeRows } from '../linalg/index.js';
import { activityQueries, meanAveragePrecision, type ApQuery, type MapGroup } from '../evaluate/map.js';
import { Rng } from '../linalg/rng.js';
import type { WellProfiles } from './wells.js';

export type ActivityStatus = 'active' | 'inactive' | 'not-called';

export interface ActivityCall {
  status: ActivityStatus;
  /** true = distinguishable from the negative controls (q < threshold); null when not called. */
  active: boolean | null;
  map: number | null;
  p: number | null;
  q: number | null;
  /** mAP expected from a random ranking (mean of positives / candidates). */
  baseline: number | null;
  /** Replicate wells used. */
  replicates: number;
  /** Negative-control wells ranked against. */
  controls: number;
  /** Why there is no call (status 'not-called'). */
  reason?: string;
}

export interface DoseActivity extends ActivityCall {
  dose: string | null;
}

export interface ActivityOptions {
  /** Null samples per (positives, candidates) shape (default 10,000). */
  nullSize?: number;
  /** q below which a compound is active (default 0.05). */
  threshold?: number;
  seed?: number;
  /** At most this many control wells are ranked against (a seeded sample above; default 5,000). */
  maxControls?: number;
}

export interface ActivityTable {
  byCompound: Map<string, ActivityCall>;
  /** Per compound, per dose (only where the wells carry doses). */
  byDose: Map<string, DoseActivity[]>;
  /** Compounds with a call (the BH family). */
  called: number;
  activeCompounds: number;
  controls: { rule: string; wells: number; used: number } | null;
  /** Wells left out for a missing value. */
  wellsWithMissingValues: number;
  nullSize: number;
  threshold: number;
  noControlsReason?: string;
}

function finiteRow(X: Matrix, i: number): boolean {
  const o = i * X.cols;
  for (let j = 0; j < X.cols; j++) if (!Number.isFinite(X.data[o + j]!)) return false;
  return true;
}

function notCalled(replicates: number, controls: number, reason: string): ActivityCall {
  return { status: 'not-called', active: null, map: null, p: null, q: null, baseline: null, replicates, controls, reason };
}

function fromGroup(g: MapGroup, replicates: number, controls: number, threshold: number): ActivityCall {
  const active = g.qValue < threshold;
  return { status: active ? 'active' : 'inactive', active, map: g.mAP, p: g.pValue, q: g.qValue, baseline: g.baseline, replicates, controls };
}

/** AP queries of every well of every group (≥ 2 wells) against the control wells (map.ts's activity preset). */
function groupQueries(X: Matrix, groups: Map<string, number[]>, ctrl: number[]): ApQuery[] {
  const rows: number[] = [];
  const group: (string | null)[] = [];
  const isControl: boolean[] = [];
  for (const [g, rs] of groups) {
    if (rs.length < 2) continue;
    for (const r of rs) {
      rows.push(r);
      group.push(g);
      isControl.push(false);
    }
  }
  if (!rows.length) return [];
  for (const c of ctrl) {
    rows.push(c);
    group.push(null);
    isControl.push(true);
  }
  return activityQueries(takeRows(X, rows), group, isControl).map((q) => ({ ...q, query: String(rows[Number(q.query)]) }));
}

/** Activity calls for every compound of the wells (see the file header). */
export function compoundActivity(w: WellProfiles, opts: ActivityOptions = {}): ActivityTable {
  const nullSize = opts.nullSize ?? 10_000;
  const threshold = opts.threshold ?? 0.05;
  const seed = opts.seed ?? 0;
  const maxControls = opts.maxControls ?? 5000;
  const n = w.X.rows;
  let missing = 0;
  const ok = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    ok[i] = finiteRow(w.X, i) ? 1 : 0;
    if (!ok[i]) missing++;
  }
  const byCompound = new Map<string, number[]>();
  const byTreatment = new Map<string, number[]>();
  const doseOf = new Map<string, string | null>();
  let ctrl: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!ok[i]) continue;
    if (w.controls?.mask[i]) {
      ctrl.push(i);
      continue;
    }
    const c = w.compound[i];
    if (c === null || c === undefined || c.trim() === '') continue;
    let a = byCompound.get(c);
    if (!a) byCompound.set(c, (a = []));
    a.push(i);
    const t = `${c}\u0000${w.dose[i] ?? ''}`;
    let b = byTreatment.get(t);
    if (!b) {
      byTreatment.set(t, (b = []));
      doseOf.set(t, w.dose[i] ?? null);
    }
    b.push(i);
  }
  const totalControls = ctrl.length;
  if (ctrl.length > maxControls) {
    const rng = new Rng(seed);
    const perm = rng.permutation(ctrl.length);
    ctrl = Array.from(perm.subarray(0, maxControls), (t) => ctrl[t]!).sort((a, b) => a - b);
  }
  const calls = new Map<string, ActivityCall>();
  const doses = new Map<string, DoseActivity[]>();
  const hasDoses = w.dose.some((d) => d !== null && d !== undefined && d !== '');
  if (!w.controls || ctrl.length === 0) {
    const reason = w.noControlsReason ?? (w.controls ? 'every negative-control well has a missing value' : 'no negative-control wells');
    for (const [c, rows] of byCompound) calls.set(c, notCalled(rows.length, 0, `no activity call: ${reason}`));
    return {
      byCompound: calls, byDose: doses, called: 0, activeCompounds: 0, controls: null, wellsWithMissingValues: missing,
      nullSize, threshold, noControlsReason: reason,
    };
  }
  const mapOpts = { nullSize, seed, threshold };
  const compoundMap = meanAveragePrecision(groupQueries(w.X, byCompound, ctrl), mapOpts);
  const groupOf = new Map(compoundMap.groups.map((g) => [g.group, g]));
  let active = 0;
  for (const [c, rows] of byCompound) {
    const g = groupOf.get(c);
    if (g) {
      const call = fromGroup(g, rows.length, ctrl.length, threshold);
      if (call.active) active++;
      calls.set(c, call);
    } else {
      calls.set(c, notCalled(rows.length, ctrl.length, 'one replicate well: replicate retrieval needs at least 2 wells, so there is no activity call'));
    }
  }
  if (hasDoses) {
    const treatMap = meanAveragePrecision(groupQueries(w.X, byTreatment, ctrl), mapOpts);
    const tOf = new Map(treatMap.groups.map((g) => [g.group, g]));
    for (const [t, rows] of byTreatment) {
      const c = t.slice(0, t.indexOf('\u0000'));
      const g = tOf.get(t);
      const call = g ? fromGroup(g, rows.length, ctrl.length, threshold) : notCalled(rows.length, ctrl.length, 'one well at this dose');
      let a = doses.get(c);
      if (!a) doses.set(c, (a = []));
      a.push({ dose: doseOf.get(t) ?? null, ...call });
    }
    for (const a of doses.values()) a.sort((x, y) => doseOrder(x.dose, y.dose));
  }
  return {
    byCompound: calls, byDose: doses, called: compoundMap.groups.length, activeCompounds: active,
    controls: { rule: w.controls.rule, wells: totalControls, used: ctrl.length }, wellsWithMissingValues: missing, nullSize, threshold,
  };
}

/** Doses in numeric order where they are numbers, else as text. */
export function doseOrder(a: string | null, b: string | null): number {
  const x = Number(a), y = Number(b);
  if (a !== null && b !== null && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return String(a ?? '').localeCompare(String(b ?? ''));
}
