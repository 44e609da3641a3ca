/**
 * Class labels as people type them: surrounding whitespace trimmed, the usual missing-value tokens
 * ("NA", "None", "null", "nan", "", …) read as missing, and spellings that differ only in case,
 * spacing or punctuation ("DNA synthesis inhibitor" / "dna synthesis inhibitor ") found so the
 * user hears about them (they are not merged: that is the user's call).
 */

/** Tokens that mean "no value" in the tables people export (pandas, R, Excel, SQL). Compared case-insensitively. */
export const NA_TOKENS: readonly string[] = ['', 'na', 'n/a', 'nan', 'none', 'null', 'nil', '<na>', '#n/a', '-', '--', '?'];

export interface CleanLabelsOptions {
  /** Read these (case-insensitive) as missing; default NA_TOKENS. An empty list keeps every non-blank value. */
  naTokens?: readonly string[];
}

export interface LabelSpellings {
  /** The variants' common form (lower case, letters and digits only). */
  key: string;
  /** Each spelling with its row count, most frequent first. */
  spellings: { label: string; rows: number }[];
}

export interface CleanLabels {
  /** Trimmed label of every row, null when missing. */
  labels: (string | null)[];
  /** Rows read as missing by the token found there (trimmed as written), e.g. { NA: 3, None: 1 }. */
  missingTokens: Record<string, number>;
  /** Rows with no value at all (null, or blank). */
  missingBlank: number;
  /** Groups of two or more spellings that differ only in case, spacing or punctuation. */
  nearDuplicates: LabelSpellings[];
}

function spellingKey(label: string): string {
  return label.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}

export function cleanLabels(raw: readonly (string | null | undefined)[], opts: CleanLabelsOptions = {}): CleanLabels {
  const na = new Set((opts.naTokens ?? NA_TOKENS).map((t) => t.trim().toLowerCase()));
  const labels: (string | null)[] = new Array(raw.length);
  const missingTokens: Record<string, number> = {};
  let missingBlank = 0;
  const counts = new Map<string, number>();
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    const t = v === null || v === undefined ? '' : v.trim();
    if (t === '') {
      missingBlank++;
      labels[i] = null;
    } else if (na.has(t.toLowerCase())) {
      missingTokens[t] = (missingTokens[t] ?? 0) + 1;
      labels[i] = null;
    } else {
      labels[i] = t;
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
  }
  const byKey = new Map<string, { label: string; rows: number }[]>();
  for (const [label, rows] of counts) {
    const k = spellingKey(label);
    if (!k) continue;
    let a = byKey.get(k);
    if (!a) byKey.set(k, (a = []));
    a.push({ label, rows });
  }
  const nearDuplicates: LabelSpellings[] = [];
  for (const [key, spellings] of byKey) {
    if (spellings.length < 2) continue;
    spellings.sort((a, b) => b.rows - a.rows || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    nearDuplicates.push({ key, spellings });
  }
  nearDuplicates.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { labels, missingTokens, missingBlank, nearDuplicates };
}

/** One line about near-duplicate spellings, e.g. `"DNA synthesis inhibitor" (12) / "dna synthesis inhibitor" (3)`. */
export function describeNearDuplicates(groups: readonly LabelSpellings[], limit = 5): string {
  const parts = groups.slice(0, limit).map((g) => g.spellings.map((s) => `${JSON.stringify(s.label)} (${s.rows})`).join(' / '));
  return parts.join('; ') + (groups.length > limit ? `; and ${groups.length - limit} more` : '');
}
