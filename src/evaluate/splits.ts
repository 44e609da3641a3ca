/**
 * Compound-grouped train/test splits for held-out evaluation (spec evaluation.md, "Held-out
 * protocol"). A group (compound) is never split: all of its wells and doses are on one side.
 *
 * - `loco`: leave-one-compound-out, one fold per held-out group.
 * - `kfold`: k folds over groups, stratified by label where possible — groups are shuffled
 *   (seeded) within each label and dealt round-robin to the folds, continuing the dealer across
 *   labels, so every label is spread over as many folds as it has groups (as sklearn's
 *   StratifiedGroupKFold aims for, with a simpler and deterministic assignment).
 * - `leave-moa-out`: one fold per label; every group carrying that label is held out
 *   ("does the metric generalise to mechanisms it never saw").
 * - `leave-batch-out`: one fold per batch (plate, week, source, microscope): every row of that
 *   batch — controls included — is held out, so nothing learned (a metric, a correction's reference)
 *   sees the batch; and the groups (compounds) of the batch are held out as well: their rows in
 *   other batches are on neither side (`excludedFromTraining` counts them), so a held-out compound
 *   is never learned from either. Rows without a batch always train. Batches without any
 *   eligible group give no fold (`batchesWithoutQueries`). ("Does what was learned on some
 *   batches transfer to a batch it never saw?")
 *
 * Control groups (e.g. DMSO) and rows without a group are never held out (except with their whole
 * batch in leave-batch-out): they stay on the training side, where only label-free steps
 * (normalisation) or nothing at all use them.
 */
import { InputError, UsageError } from '../util/errors.js';
import { Rng } from '../linalg/rng.js';

export type SplitKind = 'loco' | 'kfold' | 'leave-moa-out' | 'leave-batch-out';
export const SPLIT_KINDS: readonly SplitKind[] = ['loco', 'kfold', 'leave-moa-out', 'leave-batch-out'];

export interface Fold {
  /** "loco:taxol", "kfold:2/5", "leave-moa-out:Actin disruptors". */
  readonly name: string;
  /** Row indices on the training side, ascending. */
  readonly train: Int32Array;
  /** Row indices held out, ascending. */
  readonly test: Int32Array;
  /** Groups (compounds) held out in this fold. */
  readonly heldOutGroups: string[];
  /** leave-batch-out: the batch held out. */
  readonly heldOutBatch?: string;
  /** leave-batch-out: rows of held-out groups in other batches, on neither side. */
  readonly excludedFromTraining?: number;
}

export interface SplitOptions {
  kind: SplitKind;
  /** Group (compound) of every row; null = no group (always training side). */
  groups: readonly (string | null)[];
  /** Label (MoA) of every row; needed for stratified k-fold and leave-MoA-out. */
  labels?: readonly (string | null)[];
  /** Groups never held out (controls). */
  controlGroups?: readonly string[];
  /** Number of folds for `kfold` (default 5; capped at the number of groups). */
  folds?: number;
  seed?: number;
  /** Batch of every row; needed for `leave-batch-out`. */
  batches?: readonly (string | null)[];
}

/**
 * What a k-fold split could not do as asked, in words: fewer folds than requested (capped at the
 * number of groups), and labels with fewer groups than folds (they cannot appear in every fold).
 */
export function kfoldNotes(opts: SplitOptions): string[] {
  const controls = new Set(opts.controlGroups ?? []);
  const asked = opts.folds ?? 5;
  const groupLabel = new Map<string, string | null>();
  opts.groups.forEach((g, i) => {
    if (g === null || g === undefined || controls.has(g)) return;
    if (!groupLabel.has(g)) groupLabel.set(g, opts.labels?.[i] ?? null);
  });
  const notes: string[] = [];
  const k = Math.min(asked, groupLabel.size);
  if (k < asked) notes.push(`kfold: --folds ${asked} capped at ${k}, the number of compounds that can be held out`);
  const perLabel = new Map<string, number>();
  for (const l of groupLabel.values()) if (l !== null) perLabel.set(l, (perLabel.get(l) ?? 0) + 1);
  const small = [...perLabel].filter(([, c]) => c < k).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  if (small.length) {
    notes.push(`kfold: ${small.length} label(s) have fewer compounds than the ${k} folds, so they are missing from some folds (smallest: ${small.slice(0, 3).map(([l, c]) => `"${l}" ${c}`).join(', ')})`);
  }
  return notes;
}

/** Batches of a leave-batch-out split that hold no eligible group (so no queries): not folds. */
export function batchesWithoutQueries(opts: SplitOptions): string[] {
  const controls = new Set(opts.controlGroups ?? []);
  const all = new Set<string>(), withGroups = new Set<string>();
  opts.batches?.forEach((b, i) => {
    if (b === null || b === undefined) return;
    all.add(b);
    const g = opts.groups[i];
    if (g !== null && g !== undefined && !controls.has(g)) withGroups.add(b);
  });
  return [...all].filter((b) => !withGroups.has(b)).sort();
}

/** The label of a group: its most frequent non-null label (ties: first seen). */
function groupLabels(groups: readonly (string | null)[], labels: readonly (string | null)[]): Map<string, string | null> {
  const counts = new Map<string, Map<string, number>>();
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (g === null || g === undefined) continue;
    let m = counts.get(g);
    if (!m) counts.set(g, (m = new Map()));
    const l = labels[i];
    if (l !== null && l !== undefined && l !== '') m.set(l, (m.get(l) ?? 0) + 1);
  }
  const out = new Map<string, string | null>();
  for (const [g, m] of counts) {
    let best: string | null = null, bn = 0;
    for (const [l, c] of m) if (c > bn) [best, bn] = [l, c];
    out.set(g, best);
  }
  return out;
}

export function makeSplits(opts: SplitOptions): Fold[] {
  const { kind, groups } = opts;
  if (!SPLIT_KINDS.includes(kind)) throw new UsageError(`unknown split "${kind}" (choose ${SPLIT_KINDS.join(', ')})`);
  const n = groups.length;
  if (opts.labels && opts.labels.length !== n) throw new InputError(`splits: ${opts.labels.length} labels for ${n} rows`);
  const controls = new Set(opts.controlGroups ?? []);
  const rowsOf = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups[i];
    if (g === null || g === undefined || controls.has(g)) continue;
    let r = rowsOf.get(g);
    if (!r) rowsOf.set(g, (r = []));
    r.push(i);
  }
  const eligible = [...rowsOf.keys()];
  if (eligible.length < 2) throw new InputError(`splits: need at least 2 non-control groups to hold out, found ${eligible.length}`);

  const foldFrom = (name: string, held: string[]): Fold => {
    const mask = new Uint8Array(n);
    for (const g of held) for (const i of rowsOf.get(g)!) mask[i] = 1;
    const train: number[] = [], test: number[] = [];
    for (let i = 0; i < n; i++) (mask[i] ? test : train).push(i);
    return { name, train: Int32Array.from(train), test: Int32Array.from(test), heldOutGroups: held };
  };

  if (kind === 'loco') return eligible.map((g) => foldFrom(`loco:${g}`, [g]));
  if (kind === 'leave-batch-out') return leaveBatchOut(opts, rowsOf);

  if (!opts.labels) throw new UsageError(`split "${kind}" needs labels`);
  const gl = groupLabels(groups, opts.labels);
  if (kind === 'leave-moa-out') {
    const byLabel = new Map<string, string[]>();
    for (const g of eligible) {
      const l = gl.get(g);
      if (l === null || l === undefined) continue;
      let a = byLabel.get(l);
      if (!a) byLabel.set(l, (a = []));
      a.push(g);
    }
    if (byLabel.size < 2) throw new InputError(`leave-moa-out needs at least 2 labels among the groups, found ${byLabel.size}`);
    return [...byLabel].map(([l, gs]) => foldFrom(`leave-moa-out:${l}`, gs));
  }

  // kfold, stratified by label
  const k = Math.min(opts.folds ?? 5, eligible.length);
  if (!(k >= 2)) throw new UsageError(`kfold needs at least 2 folds, got ${opts.folds}`);
  const rng = new Rng(opts.seed ?? 0);
  const byLabel = new Map<string, string[]>();
  for (const g of eligible) {
    const l = gl.get(g) ?? '\u0000unlabelled';
    let a = byLabel.get(l);
    if (!a) byLabel.set(l, (a = []));
    a.push(g);
  }
  // Labels in a seeded order too, so the dealer's start varies with the seed.
  const labelOrder = rng.shuffle([...byLabel.keys()].sort()) as string[];
  const assign: string[][] = Array.from({ length: k }, () => []);
  let dealer = rng.int(k);
  for (const l of labelOrder) {
    const gs = rng.shuffle(byLabel.get(l)!.slice().sort()) as string[];
    for (const g of gs) {
      assign[dealer]!.push(g);
      dealer = (dealer + 1) % k;
    }
  }
  return assign.map((held, f) => foldFrom(`kfold:${f + 1}/${k}`, held.sort()));
}

function leaveBatchOut(opts: SplitOptions, rowsOf: Map<string, number[]>): Fold[] {
  const { batches, groups } = opts;
  if (!batches) throw new UsageError('split "leave-batch-out" needs a batch column (--batch-col)');
  const n = groups.length;
  if (batches.length !== n) throw new InputError(`splits: ${batches.length} batch values for ${n} rows`);
  const byBatch = new Map<string, Set<string>>();
  for (const [g, rows] of rowsOf) {
    for (const i of rows) {
      const b = batches[i];
      if (b === null || b === undefined) continue;
      let s = byBatch.get(b);
      if (!s) byBatch.set(b, (s = new Set()));
      s.add(g);
    }
  }
  const levels = [...new Set(batches.filter((b): b is string => b !== null && b !== undefined))].sort();
  if (levels.length < 2) throw new InputError(`leave-batch-out needs at least 2 batches, found ${levels.length}${levels.length ? ` ("${levels[0]}")` : ''}`);
  if (byBatch.size < 1) throw new InputError('leave-batch-out: no batch holds a non-control group to hold out');
  return levels.filter((b) => byBatch.has(b)).map((b) => {
    const held = [...byBatch.get(b)!].sort();
    const heldSet = new Set(held);
    const train: number[] = [], test: number[] = [];
    let excluded = 0;
    for (let i = 0; i < n; i++) {
      if (batches[i] === b) test.push(i);
      else if (groups[i] !== null && groups[i] !== undefined && heldSet.has(groups[i]!)) excluded++;
      else train.push(i);
    }
    return { name: `leave-batch-out:${b}`, train: Int32Array.from(train), test: Int32Array.from(test), heldOutGroups: held, heldOutBatch: b, excludedFromTraining: excluded };
  });
}

/**
 * Which candidates a query on one batch is scored against (`evaluate`'s `candidateBatch`):
 * treatments on the query's own batch (`same`), on the other batches (`others`) or on any (`all`).
 * Under leave-batch-out `others` is the default protocol (the held-out batch against the training
 * batches) and `same` scores the held-out batch's compounds against each other, none of them seen
 * in training; under a compound split the same rule makes the within-batch figure comparable.
 */
export type CandidateBatchRule = 'same' | 'others' | 'all';
export const CANDIDATE_BATCH_RULES: readonly CandidateBatchRule[] = ['same', 'others', 'all'];

/**
 * The rows that may form the candidates of queries on batch `batch` under `rule`: rows of either
 * side of the fold (training rows and the held-out rows; rows on neither side never). `same`: the
 * rows on that batch. `others`: the rows on other batches of compounds that have no row on that
 * batch — a compound of the query's batch is represented by its rows there only, as under
 * leave-batch-out, where its rows elsewhere are on neither side; so for a representation that
 * learns nothing every rule gives the same candidates under a compound split and under
 * leave-batch-out. `all`: both. A row without a batch counts as a batch of its own (null); rows
 * with a null group (controls, unlabelled rows: never candidates) are never left out for their
 * group. Ascending. The query's own compound is left out later, by the scorers, as in every split.
 */
export function candidateRows(
  fold: Fold, batches: readonly (string | null)[], groups: readonly (string | null)[], batch: string | null, rule: CandidateBatchRule,
): Int32Array {
  if (!CANDIDATE_BATCH_RULES.includes(rule)) throw new UsageError(`unknown candidate rule "${rule}" (choose ${CANDIDATE_BATCH_RULES.join(', ')})`);
  if (groups.length !== batches.length) throw new InputError(`candidates: ${groups.length} groups for ${batches.length} batch values`);
  const onBatch = new Set<string>();
  for (let i = 0; i < batches.length; i++) {
    const g = groups[i];
    if ((batches[i] ?? null) === batch && g !== null && g !== undefined) onBatch.add(g);
  }
  const keep = (i: number) => {
    if ((batches[i] ?? null) === batch) return rule !== 'others';
    if (rule === 'same') return false;
    const g = groups[i];
    return g === null || g === undefined || !onBatch.has(g);
  };
  const out: number[] = [];
  let a = 0, b = 0;
  const tr = fold.train, te = fold.test;
  // Merge of the two ascending index lists.
  while (a < tr.length || b < te.length) {
    const i = b >= te.length || (a < tr.length && tr[a]! < te[b]!) ? tr[a++]! : te[b++]!;
    if (keep(i)) out.push(i);
  }
  return Int32Array.from(out);
}
