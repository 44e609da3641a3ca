/**
 * Joining profiles with annotation tables by an explicit key. Keys are not uniform across
 * sources (LINCS broad_sample carries a batch suffix, JUMP uses InChIKeys, others only the
 * first InChIKey block or a compound name), so the caller names the kind of key and phenomap
 * compares normalised keys. A left join: every profile row is kept; rows without a match get
 * null annotations and are counted, never dropped.
 */
import type { MetaColumn, Profiles } from './profiles.js';
import { findMeta, metaStrings, withMeta } from './profiles.js';
import { tableColumn, type Table } from './read.js';
import { InputError, UsageError } from '../util/errors.js';

export type KeyKind = 'broad_id' | 'inchikey' | 'inchikey14' | 'name' | 'well';

export const KEY_KINDS: readonly KeyKind[] = ['broad_id', 'inchikey', 'inchikey14', 'name', 'well'];

export interface JoinOptions {
  /** Metadata column of the profiles holding the key. */
  profileKey: string;
  /** Column of the annotation table holding the key. */
  tableKey: string;
  keyKind: KeyKind;
  /** Table columns to add (default: all but the key). */
  columns?: string[];
  /** Prefix for added column names unless they already carry it (default "Metadata_"). */
  prefix?: string;
}

export interface JoinResult {
  readonly profiles: Profiles;
  /** Profile rows whose key found an annotation row. */
  readonly matched: number;
  /** Profile rows without a match (kept, with null annotations), including rows with no key. */
  readonly unmatched: number;
  /** The first few distinct unmatched keys, as written in the profiles. */
  readonly unmatchedKeys: string[];
  /** Matched profile rows whose key has several annotation rows that disagree (first one used). */
  readonly ambiguous: number;
  readonly ambiguousKeys: string[];
  /** Names of the metadata columns added. */
  readonly addedColumns: string[];
}

const BROAD_ID = /^BRD-[A-Z]\d{8}/;

/**
 * The comparable form of a key, or null when missing.
 * - broad_id: the first 13 characters `BRD-K12345678` (LINCS broad_sample adds `-001-01-1`);
 *   values that are not Broad ids are compared whole (e.g. DMSO).
 * - inchikey: the full key, upper case. inchikey14: its first block (14 characters).
 * - name: trimmed, inner whitespace collapsed, case-insensitive.
 * - well: row letters and column number, `a1`, `A1` and `A01` alike (`A01`); other text as written.
 */
export function normalizeKey(v: string | null | undefined, kind: KeyKind): string | null {
  if (v === null || v === undefined) return null;
  const t = v.trim();
  if (t === '') return null;
  switch (kind) {
    case 'broad_id': {
      const u = t.toUpperCase();
      return BROAD_ID.test(u) ? u.slice(0, 13) : u;
    }
    case 'inchikey':
      return t.toUpperCase();
    case 'inchikey14':
      return t.toUpperCase().slice(0, 14);
    case 'name':
      return t.replace(/\s+/g, ' ').toLowerCase();
    case 'well': {
      const m = /^([A-Za-z]+)0*(\d+)$/.exec(t);
      return m ? `${m[1]!.toUpperCase()}${m[2]!.padStart(2, '0')}` : t;
    }
  }
}

const INCHIKEY = /^[A-Z]{14}-[A-Z]{10}-[A-Z]$/i;
const WELL = /^[A-Za-z]{1,2}0*\d{1,2}$/;

/**
 * The key kind the values look like (for `join --on` without --key-kind): Broad ids or InChIKeys
 * when most distinct values are (controls such as DMSO are compared whole either way), wells when
 * all are, else names (case-insensitive).
 */
export function guessKeyKind(values: readonly (string | null | undefined)[]): KeyKind {
  const seen = [...new Set(values.map((v) => v?.trim()).filter((v): v is string => !!v))].slice(0, 1000);
  if (seen.length === 0) return 'name';
  const most = (re: RegExp) => seen.filter((v) => re.test(v.toUpperCase())).length * 2 > seen.length;
  if (most(BROAD_ID)) return 'broad_id';
  if (most(INCHIKEY)) return 'inchikey';
  if (seen.every((v) => WELL.test(v))) return 'well';
  return 'name';
}

/** Left-join annotation columns onto the profiles by a normalised key. */
export function joinAnnotations(profiles: Profiles, table: Table, opts: JoinOptions): JoinResult {
  if (!KEY_KINDS.includes(opts.keyKind)) {
    throw new UsageError(`unknown key kind "${opts.keyKind}" (use ${KEY_KINDS.join(', ')})`);
  }
  const pKeys = metaStrings(profiles, opts.profileKey); // InputError naming the file if absent
  const tKeys = tableColumn(table, opts.tableKey);
  const columns = opts.columns ?? table.columns.filter((c) => c !== opts.tableKey);
  const tCols = columns.map((c) => tableColumn(table, c));
  const prefix = opts.prefix ?? 'Metadata_';
  const outNames = columns.map((c) => (c.startsWith(prefix) ? c : prefix + c));
  const clash = outNames.filter((n) => findMeta(profiles, n));
  if (clash.length) {
    throw new InputError(
      `${profiles.source ?? 'profiles'}: joined column(s) ${clash.map((c) => `"${c}"`).join(', ')} already exist; choose other columns or another prefix`,
    );
  }

  // key → first table row, and whether other rows with the same key disagree.
  const first = new Map<string, number>();
  const conflicting = new Set<string>();
  for (let r = 0; r < table.rows; r++) {
    const k = normalizeKey(tKeys[r], opts.keyKind);
    if (k === null) continue;
    const f = first.get(k);
    if (f === undefined) first.set(k, r);
    else if (!conflicting.has(k) && tCols.some((col) => col[r] !== col[f])) conflicting.add(k);
  }

  const n = profiles.X.rows;
  const added = tCols.map(() => new Array<string | null>(n).fill(null));
  let matched = 0;
  let ambiguous = 0;
  const unmatchedKeys: string[] = [];
  const seenUnmatched = new Set<string>();
  const ambiguousKeys: string[] = [];
  for (let i = 0; i < n; i++) {
    const raw = pKeys[i];
    const k = normalizeKey(raw, opts.keyKind);
    const r = k === null ? undefined : first.get(k);
    if (r === undefined) {
      const shown = raw ?? '(missing)';
      if (!seenUnmatched.has(shown)) {
        seenUnmatched.add(shown);
        if (unmatchedKeys.length < 10) unmatchedKeys.push(shown);
      }
      continue;
    }
    matched++;
    if (conflicting.has(k!)) {
      ambiguous++;
      if (ambiguousKeys.length < 10 && !ambiguousKeys.includes(raw!)) ambiguousKeys.push(raw!);
    }
    for (let c = 0; c < tCols.length; c++) added[c]![i] = tCols[c]![r] ?? null;
  }
  let out = profiles;
  outNames.forEach((name, c) => {
    const col: MetaColumn = { name, kind: 'string', values: added[c]! };
    out = withMeta(out, col);
  });
  return { profiles: out, matched, unmatched: n - matched, unmatchedKeys, ambiguous, ambiguousKeys, addedColumns: outNames };
}
