/**
 * A tiny metadata query language for choosing reference (control) rows, in the spirit of the
 * `pandas.DataFrame.query` strings pycytominer takes for `samples=`:
 *
 *   Metadata_pert_type == control
 *   Metadata_broad_sample == "DMSO"
 *   Metadata_Well in [A01, A02] and Metadata_Plate != 'P1'
 *
 * Grammar: condition (`and` condition)*; a condition is `COLUMN OP VALUE` with OP one of
 * `==`, `!=`, `in`, `not in`. Values are quoted ('…' or "…") or bare words (several bare words
 * are joined with one space, so `Metadata_moa == ATPase inhibitor` works); a list is `[v, v, …]`.
 * Column names may be wrapped in backticks (pandas style) when they contain spaces.
 * Numeric metadata columns compare numerically (`Metadata_dose == 1` matches 1.0).
 * Deliberately no `or`, parentheses or arithmetic: a control definition never needs them.
 */
import type { MetaColumn, Profiles } from '../io/profiles.js';
import { cellString, findMeta } from '../io/profiles.js';
import { InputError, UsageError } from '../util/errors.js';

export type QueryOp = '==' | '!=' | 'in' | 'not in';

export interface Condition {
  readonly column: string;
  readonly op: QueryOp;
  /** One value for == and !=, one or more for in / not in. */
  readonly values: string[];
}

export interface Query {
  /** The text the query was parsed from (used in messages). */
  readonly text: string;
  /** All must hold (conjunction). */
  readonly conditions: Condition[];
}

type Token =
  | { t: 'word'; v: string }
  | { t: 'quoted'; v: string }
  | { t: 'column'; v: string } // backtick-quoted
  | { t: 'op'; v: '==' | '!=' }
  | { t: 'punct'; v: '[' | ']' | ',' };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '=' || c === '!') {
      if (text[i + 1] !== '=') throw new UsageError(`query "${text}": expected "==" or "!=" at position ${i + 1}`);
      out.push({ t: 'op', v: c === '=' ? '==' : '!=' });
      i += 2;
    } else if (c === '[' || c === ']' || c === ',') {
      out.push({ t: 'punct', v: c });
      i++;
    } else if (c === '"' || c === "'" || c === '`') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new UsageError(`query "${text}": unterminated ${c} quote at position ${i + 1}`);
      const v = text.slice(i + 1, end);
      out.push(c === '`' ? { t: 'column', v } : { t: 'quoted', v });
      i = end + 1;
    } else {
      let j = i;
      while (j < n && !' \t\n\r=![],"\'`'.includes(text[j]!)) j++;
      out.push({ t: 'word', v: text.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** Parse a query string; syntax errors are UsageErrors naming the query. */
export function parseQuery(text: string): Query {
  const toks = tokenize(text);
  let p = 0;
  const fail = (what: string): never => {
    throw new UsageError(`query "${text}": ${what} (syntax: COLUMN == VALUE, COLUMN != VALUE, COLUMN in [A, B], joined with "and")`);
  };
  const isAnd = (tk: Token | undefined): boolean => tk?.t === 'word' && tk.v.toLowerCase() === 'and';

  // A scalar value: one quoted string, or a run of bare words (stops at "and", "," or "]").
  const scalar = (): string => {
    const tk = toks[p];
    if (!tk) return fail('missing value at the end');
    if (tk.t === 'quoted') {
      p++;
      return tk.v;
    }
    if (tk.t !== 'word' || isAnd(tk)) return fail(`expected a value, found "${tk.v}"`);
    const words: string[] = [];
    while (toks[p]?.t === 'word' && !isAnd(toks[p])) words.push((toks[p++] as { v: string }).v);
    return words.join(' ');
  };

  const conditions: Condition[] = [];
  for (;;) {
    const colTok = toks[p++];
    if (!colTok) return fail('empty condition');
    if (colTok.t !== 'word' && colTok.t !== 'column') return fail(`expected a column name, found "${colTok.v}"`);
    if (isAnd(colTok)) return fail('"and" where a column name was expected');
    const column = colTok.v;
    const opTok = toks[p++];
    let op: QueryOp;
    if (opTok?.t === 'op') op = opTok.v;
    else if (opTok?.t === 'word' && opTok.v.toLowerCase() === 'in') op = 'in';
    else if (opTok?.t === 'word' && opTok.v.toLowerCase() === 'not' && toks[p]?.t === 'word' && toks[p]!.v.toLowerCase() === 'in') {
      p++;
      op = 'not in';
    } else return fail(`expected ==, !=, in or not in after "${column}"`);

    let values: string[];
    if (op === 'in' || op === 'not in') {
      if (!(toks[p]?.t === 'punct' && toks[p]!.v === '[')) return fail(`expected "[" after "${op}"`);
      p++;
      values = [];
      if (toks[p]?.t === 'punct' && toks[p]!.v === ']') return fail('empty list');
      for (;;) {
        values.push(scalar());
        const sep = toks[p++];
        if (sep?.t === 'punct' && sep.v === ']') break;
        if (!(sep?.t === 'punct' && sep.v === ',')) return fail('expected "," or "]" in list');
      }
    } else {
      values = [scalar()];
    }
    conditions.push({ column, op, values });
    if (p >= toks.length) break;
    if (!isAnd(toks[p])) return fail(`expected "and" or the end, found "${toks[p]!.v}"`);
    p++;
  }
  return { text, conditions };
}

function numberEq(a: number, s: string): boolean {
  const t = s.trim();
  if (t === '') return false;
  const v = Number(t);
  return Number.isNaN(v) ? false : v === a;
}

function conditionMask(col: MetaColumn, cond: Condition, n: number): Uint8Array {
  const m = new Uint8Array(n);
  const negate = cond.op === '!=' || cond.op === 'not in';
  if (col.kind === 'string') {
    const set = new Set(cond.values);
    const vals = col.values;
    for (let i = 0; i < n; i++) {
      const v = vals[i];
      // Missing never equals anything, and (as in pandas) is "not equal" to everything.
      const hit = v != null && set.has(v);
      m[i] = (negate ? !hit : hit) ? 1 : 0;
    }
  } else {
    const vals = col.values;
    for (let i = 0; i < n; i++) {
      const v = vals[i]!;
      let hit = false;
      if (!Number.isNaN(v)) for (const s of cond.values) if (numberEq(v, s)) hit = true;
      m[i] = (negate ? !hit : hit) ? 1 : 0;
    }
  }
  return m;
}

/** The first few distinct values of a metadata column, for error messages. */
export function distinctPreview(col: MetaColumn, limit = 8): string {
  const seen = new Map<string, number>();
  const n = col.values.length;
  for (let i = 0; i < n; i++) {
    const s = cellString(col, i) ?? '(missing)';
    seen.set(s, (seen.get(s) ?? 0) + 1);
  }
  const keys = [...seen.keys()];
  const shown = keys.slice(0, limit).map((k) => JSON.stringify(k));
  return shown.join(', ') + (keys.length > limit ? `, … (${keys.length} distinct)` : '');
}

/**
 * Row indices (ascending) matching the query. Unknown column → InputError listing the columns;
 * no matching row → InputError naming the query and showing the values the columns do hold
 * (unless `allowEmpty`: one part of the rows, such as a plate, may hold none of them).
 */
export function queryRows(profiles: Profiles, query: Query | string, opts: { allowEmpty?: boolean } = {}): Int32Array {
  const q = typeof query === 'string' ? parseQuery(query) : query;
  const n = profiles.X.rows;
  const src = profiles.source ?? 'profiles';
  const all = new Uint8Array(n).fill(1);
  for (const cond of q.conditions) {
    const col = findMeta(profiles, cond.column);
    if (!col) {
      const names = profiles.meta.map((c) => c.name);
      const shown = names.slice(0, 12).join(', ') + (names.length > 12 ? `, … (${names.length} in all)` : '');
      throw new InputError(`${src}: query "${q.text}": no metadata column "${cond.column}" (have: ${shown || 'none'})`);
    }
    const m = conditionMask(col, cond, n);
    for (let i = 0; i < n; i++) all[i] &= m[i]!;
  }
  let count = 0;
  for (let i = 0; i < n; i++) count += all[i]!;
  if (count === 0 && !opts.allowEmpty) {
    const hints = q.conditions.map((c) => `${c.column} has ${distinctPreview(findMeta(profiles, c.column)!)}`);
    throw new InputError(`${src}: query "${q.text}" matches no row of ${n} (${hints.join('; ')})`);
  }
  const out = new Int32Array(count);
  for (let i = 0, k = 0; i < n; i++) if (all[i]) out[k++] = i;
  return out;
}

/** Normalise a `samples` option: 'all' (or undefined) → every row; otherwise the query's rows. */
export function sampleRows(profiles: Profiles, samples: 'all' | Query | string | undefined, opts: { allowEmpty?: boolean } = {}): Int32Array {
  if (samples === undefined || samples === 'all') {
    const out = new Int32Array(profiles.X.rows);
    for (let i = 0; i < out.length; i++) out[i] = i;
    return out;
  }
  return queryRows(profiles, samples, opts);
}
