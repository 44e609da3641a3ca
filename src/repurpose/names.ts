/**
 * From what a user types to one compound: exact name (case and surrounding spaces ignored), then
 * an exact identifier from another id column (Broad id, InChIKey, …), then a Broad id by its
 * 13-character compound prefix (BRD-K12345678 names every batch BRD-K12345678-001-05-5), then a
 * part of a name. Several compounds at one step make the match ambiguous (the candidates are
 * returned, never a silent pick); nothing at all gives the closest names by edit distance.
 */
import { editDistance } from '../util/editDistance.js';

export type NameMatch =
  | { status: 'found'; compound: string; how: string }
  | { status: 'ambiguous'; candidates: string[]; how: string }
  | { status: 'not-found'; suggestions: string[] };

const norm = (s: string) => s.trim().toLowerCase();

export class CompoundNames {
  private readonly byName = new Map<string, string>();
  /** Lower-cased identifier → compounds it names, and the column it came from. */
  private readonly aliases = new Map<string, { compounds: Set<string>; column: string }>();

  constructor(compounds: Iterable<string>) {
    for (const c of compounds) this.byName.set(norm(c), c);
  }

  /** Register identifiers of another column (value per row) for the compound of that row. */
  addAliases(column: string, values: readonly (string | null)[], compoundOfRow: readonly (string | null)[]): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i], c = compoundOfRow[i];
      if (!v || !c || !this.byName.has(norm(c))) continue;
      const key = norm(v);
      if (!key || this.byName.has(key)) continue;
      let a = this.aliases.get(key);
      if (!a) this.aliases.set(key, (a = { compounds: new Set(), column }));
      a.compounds.add(c);
    }
  }

  get size(): number {
    return this.byName.size;
  }

  match(query: string): NameMatch {
    const q = norm(query);
    if (!q) return { status: 'not-found', suggestions: [] };
    const exact = this.byName.get(q);
    if (exact !== undefined) return { status: 'found', compound: exact, how: 'name' };
    const alias = this.aliases.get(q);
    if (alias) return this.pick([...alias.compounds], `${alias.column}`);
    if (q.startsWith('brd-') && q.length >= 13) {
      const prefix = q.slice(0, 13);
      const hits = new Set<string>();
      for (const [n, c] of this.byName) if (n.startsWith(prefix)) hits.add(c);
      for (const [k, a] of this.aliases) if (k.startsWith(prefix)) for (const c of a.compounds) hits.add(c);
      if (hits.size) return this.pick([...hits], 'Broad id prefix');
    }
    if (q.length >= 3) {
      const hits = new Set<string>();
      for (const [n, c] of this.byName) if (n.includes(q)) hits.add(c);
      if (hits.size) return this.pick([...hits], 'part of the name');
    }
    return { status: 'not-found', suggestions: this.suggest(q) };
  }

  private pick(compounds: string[], how: string): NameMatch {
    if (compounds.length === 1) return { status: 'found', compound: compounds[0]!, how };
    return { status: 'ambiguous', candidates: compounds.sort((a, b) => a.localeCompare(b)), how };
  }

  /** The five closest names: containing / contained first, then by edit distance. */
  suggest(q: string, k = 5): string[] {
    const scored: [string, number][] = [];
    // Containment counts only for names of 3+ characters (every name contains "a").
    const contains = (x: string, y: string) => y.length >= 3 && x.includes(y);
    for (const [n, c] of this.byName) scored.push([c, contains(n, q) || contains(q, n) ? 0.5 : editDistance(q, n)]);
    return scored.sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).slice(0, k).map(([c]) => c);
  }
}
