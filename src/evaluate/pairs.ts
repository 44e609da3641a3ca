/**
 * Pairing rules in copairs' vocabulary (cytomining/copairs `matching.py`, `Matcher` of v0.4):
 * two profiles form a pair when they share the values of every `sameby` column, at least one of
 * the `sameby.any` columns, differ in every `diffby` column, and in at least one of the
 * `diffby.any` columns. A rule for positives and one for negatives together define each
 * profile's rank list. Pairs are unordered and never join a profile to itself.
 *
 * One column may be multilabel (`A|B|C`, copairs' `multilabel_col`): in a `sameby` list it means
 * "share a label" — for positives one rank list per shared label, as copairs' multilabel AP —
 * and in a `diffby` list "share no label".
 *
 * Nothing here materialises pairs: a rule is compiled to integer codes per column and answers
 * "is (i, j) a pair?" and "which rows can pair with i?" on demand, so memory stays O(n).
 */
import type { MetaColumn } from '../io/profiles.js';
import { InputError, UsageError } from '../util/errors.js';

/** Columns of a rule: a plain list means `all`; `any` needs two or more columns (as copairs). */
export type ColumnSpec = readonly string[] | { readonly all?: readonly string[]; readonly any?: readonly string[] };

export interface PairRule {
  readonly sameby?: ColumnSpec;
  readonly diffby?: ColumnSpec;
}

/** A metadata column as integer codes (equal value ⇔ equal code). */
export interface CodedColumn {
  readonly name: string;
  readonly codes: Int32Array;
  readonly levels: string[];
}

/** Per-row sorted label ids of the multilabel column, CSR. */
export interface LabelSets {
  readonly name: string;
  readonly sep: string;
  readonly offsets: Int32Array;
  readonly ids: Int32Array;
  readonly levels: string[];
}

export interface CompiledRule {
  readonly sameAll: Int32Array;
  readonly sameAny: Int32Array;
  readonly diffAll: Int32Array;
  readonly diffAny: Int32Array;
  /** The multilabel column is in sameby (share a label) / diffby (share none). */
  readonly labelSame: boolean;
  readonly labelDiff: boolean;
}

export function specColumns(spec: ColumnSpec | undefined): { all: string[]; any: string[] } {
  if (!spec) return { all: [], any: [] };
  if (Array.isArray(spec)) return { all: [...(spec as string[])], any: [] };
  const s = spec as { all?: readonly string[]; any?: readonly string[] };
  return { all: [...(s.all ?? [])], any: [...(s.any ?? [])] };
}

/** Every column a rule names. */
export function ruleColumns(...rules: PairRule[]): string[] {
  const out = new Set<string>();
  for (const r of rules) {
    for (const s of [r.sameby, r.diffby]) {
      const c = specColumns(s);
      for (const n of [...c.all, ...c.any]) out.add(n);
    }
  }
  return [...out];
}

/** Integer codes of a metadata column; a missing value is an error naming the column (copairs refuses nulls too). */
export function codeColumn(col: MetaColumn, source: string): CodedColumn {
  const n = col.values.length;
  const codes = new Int32Array(n);
  const levels: string[] = [];
  const index = new Map<string | number, number>();
  let missing = 0, firstMissing = -1;
  for (let i = 0; i < n; i++) {
    const v = col.values[i];
    const key = col.kind === 'number' ? (v as number) : (v as string | null);
    if (key === null || key === undefined || (typeof key === 'number' && Number.isNaN(key))) {
      if (missing++ === 0) firstMissing = i;
      continue;
    }
    let c = index.get(key);
    if (c === undefined) {
      c = levels.length;
      index.set(key, c);
      levels.push(String(key));
    }
    codes[i] = c;
  }
  if (missing) {
    throw new InputError(
      `${source}: column "${col.name}" of a pairing rule has ${missing} missing value(s) (first in row ${firstMissing}); ` +
        'fill them or leave those rows out (--filter)',
    );
  }
  return { name: col.name, codes, levels };
}

/** Split a multilabel column ("A|B") into sorted label-id sets; an empty label is an error naming the row. */
export function labelSets(col: MetaColumn, sep: string, source: string): { sets: LabelSets; duplicates: number } {
  if (sep === '') throw new UsageError('--sep: the multilabel separator must not be empty');
  const n = col.values.length;
  const offsets = new Int32Array(n + 1);
  const ids: number[] = [];
  const levels: string[] = [];
  const index = new Map<string, number>();
  let duplicates = 0;
  for (let i = 0; i < n; i++) {
    const raw = col.values[i];
    const text = raw === null || raw === undefined || (typeof raw === 'number' && Number.isNaN(raw)) ? null : String(raw);
    if (text === null || text === '') throw new InputError(`${source}: multilabel column "${col.name}" is empty in row ${i}`);
    const parts = text.split(sep);
    const mine: number[] = [];
    for (const p of parts) {
      if (p === '') throw new InputError(`${source}: multilabel column "${col.name}" has an empty label in row ${i} ("${text}", separator "${sep}")`);
      let c = index.get(p);
      if (c === undefined) {
        c = levels.length;
        index.set(p, c);
        levels.push(p);
      }
      if (mine.includes(c)) duplicates++;
      else mine.push(c);
    }
    mine.sort((a, b) => a - b);
    ids.push(...mine);
    offsets[i + 1] = ids.length;
  }
  return { sets: { name: col.name, sep, offsets, ids: Int32Array.from(ids), levels }, duplicates };
}

/** Do rows i and j share a label? (Sorted small lists: a merge.) */
export function shareLabel(L: LabelSets, i: number, j: number): boolean {
  let a = L.offsets[i]!, b = L.offsets[j]!;
  const ae = L.offsets[i + 1]!, be = L.offsets[j + 1]!;
  const ids = L.ids;
  while (a < ae && b < be) {
    const x = ids[a]!, y = ids[b]!;
    if (x === y) return true;
    if (x < y) a++;
    else b++;
  }
  return false;
}

/** Does row j carry label id `label`? */
export function hasLabel(L: LabelSets, j: number, label: number): boolean {
  for (let t = L.offsets[j]!; t < L.offsets[j + 1]!; t++) if (L.ids[t] === label) return true;
  return false;
}

/**
 * Check a rule against the columns (copairs' own checks: at least one column, sameby and diffby
 * disjoint, an `any` list of two or more) and compile it to column indices.
 */
export function compileRule(
  rule: PairRule, what: string, columnIndex: ReadonlyMap<string, number>, multilabel: string | undefined,
): CompiledRule {
  const same = specColumns(rule.sameby), diff = specColumns(rule.diffby);
  if (!same.all.length && !same.any.length && !diff.all.length && !diff.any.length) {
    throw new UsageError(`${what}: name at least one sameby or diffby column`);
  }
  if (same.any.length === 1) throw new UsageError(`${what}: sameby "any" needs two or more columns (got ${same.any[0]})`);
  if (diff.any.length === 1) throw new UsageError(`${what}: diffby "any" needs two or more columns (got ${diff.any[0]})`);
  const sameSet = new Set([...same.all, ...same.any]);
  for (const c of [...diff.all, ...diff.any]) {
    if (sameSet.has(c)) throw new UsageError(`${what}: column "${c}" is in both sameby and diffby`);
  }
  if (multilabel && (same.any.includes(multilabel) || diff.any.includes(multilabel))) {
    throw new UsageError(`${what}: the multilabel column "${multilabel}" can only be in a plain sameby or diffby list`);
  }
  const idx = (names: string[]) => Int32Array.from(names.filter((c) => c !== multilabel).map((c) => columnIndex.get(c)!));
  return {
    sameAll: idx(same.all),
    sameAny: idx(same.any),
    diffAll: idx(diff.all),
    diffAny: idx(diff.any),
    labelSame: !!multilabel && same.all.includes(multilabel),
    labelDiff: !!multilabel && diff.all.includes(multilabel),
  };
}

/**
 * Is (i, j) a pair under the rule? `labelSame` is tested as "share any label" here; the per-label
 * positives of multilabel AP test one label with hasLabel instead.
 */
export function isPair(r: CompiledRule, cols: readonly Int32Array[], labels: LabelSets | undefined, i: number, j: number, checkLabelSame = true): boolean {
  for (let t = 0; t < r.sameAll.length; t++) {
    const c = cols[r.sameAll[t]!]!;
    if (c[i] !== c[j]) return false;
  }
  if (r.sameAny.length) {
    let ok = false;
    for (let t = 0; t < r.sameAny.length && !ok; t++) {
      const c = cols[r.sameAny[t]!]!;
      if (c[i] === c[j]) ok = true;
    }
    if (!ok) return false;
  }
  for (let t = 0; t < r.diffAll.length; t++) {
    const c = cols[r.diffAll[t]!]!;
    if (c[i] === c[j]) return false;
  }
  if (r.diffAny.length) {
    let ok = false;
    for (let t = 0; t < r.diffAny.length && !ok; t++) {
      const c = cols[r.diffAny[t]!]!;
      if (c[i] !== c[j]) ok = true;
    }
    if (!ok) return false;
  }
  if (labels) {
    if (r.labelDiff && shareLabel(labels, i, j)) return false;
    if (checkLabelSame && r.labelSame && !shareLabel(labels, i, j)) return false;
  }
  return true;
}

/** Rows grouped by code, CSR (members in row order). */
export interface GroupIndex {
  readonly start: Int32Array;
  readonly members: Int32Array;
}

export function groupIndex(codes: Int32Array, levels: number, rows?: ArrayLike<number>): GroupIndex {
  const start = new Int32Array(levels + 1);
  const n = rows ? rows.length : codes.length;
  for (let t = 0; t < n; t++) start[codes[rows ? rows[t]! : t]! + 1]++;
  for (let v = 0; v < levels; v++) start[v + 1] += start[v]!;
  const fill = start.slice(0, levels);
  const members = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    const i = rows ? rows[t]! : t;
    members[fill[codes[i]!]!++] = i;
  }
  return { start, members };
}

/** Rows per label id, CSR. */
export function labelIndex(L: LabelSets): GroupIndex {
  const levels = L.levels.length;
  const start = new Int32Array(levels + 1);
  for (let t = 0; t < L.ids.length; t++) start[L.ids[t]! + 1]++;
  for (let v = 0; v < levels; v++) start[v + 1] += start[v]!;
  const fill = start.slice(0, levels);
  const members = new Int32Array(L.ids.length);
  const n = L.offsets.length - 1;
  for (let i = 0; i < n; i++) for (let t = L.offsets[i]!; t < L.offsets[i + 1]!; t++) members[fill[L.ids[t]!]!++] = i;
  return { start, members };
}
