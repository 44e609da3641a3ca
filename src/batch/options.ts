/**
 * Options are checked once, at the door (scikit-learn's `_validate_params` habit, style.md): each
 * correction declares a constraints table next to its options interface, and `checkOptions` is the
 * first line of its `fit`. A bad option is a UsageError naming the option as the caller spelt it
 * (`where` carries the prefix, e.g. "harmony" or "--correct-opt").
 */
import { UsageError } from '../util/errors.js';

export type Constraint =
  | { kind: 'number'; min?: number; max?: number; minExclusive?: boolean; integer?: boolean; also?: readonly string[] }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'boolean' };

export type Constraints<T> = { readonly [K in keyof T]-?: Constraint };

function describe(c: Constraint): string {
  if (c.kind === 'boolean') return 'true or false';
  if (c.kind === 'enum') return `one of ${c.values.map((v) => `"${v}"`).join(', ')}`;
  const parts: string[] = [c.integer ? 'an integer' : 'a number'];
  if (c.min !== undefined) parts.push(`${c.minExclusive ? '>' : '≥'} ${c.min}`);
  if (c.max !== undefined) parts.push(`${c.min !== undefined ? 'and ' : ''}≤ ${c.max}`);
  const s = parts.join(' ');
  return c.also?.length ? `${s}, or ${c.also.map((v) => `"${v}"`).join(' / ')}` : s;
}

/** Throws a UsageError for the first option that breaks its constraint or is unknown. */
export function checkOptions<T extends object>(opts: T, constraints: Constraints<T>, where: string): void {
  const known = constraints as Record<string, Constraint>;
  for (const [key, value] of Object.entries(opts as Record<string, unknown>)) {
    if (value === undefined) continue;
    const c = known[key];
    if (!c) throw new UsageError(`${where}: unknown option "${key}" (options: ${Object.keys(known).join(', ')})`);
    const bad = () => new UsageError(`${where}: ${key} must be ${describe(c)}, got ${JSON.stringify(value)}`);
    if (c.kind === 'boolean') {
      if (typeof value !== 'boolean') throw bad();
      continue;
    }
    if (c.kind === 'enum') {
      if (typeof value !== 'string' || !c.values.includes(value)) throw bad();
      continue;
    }
    if (typeof value === 'string' && c.also?.includes(value)) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw bad();
    if (c.integer && !Number.isInteger(value)) throw bad();
    if (c.min !== undefined && (c.minExclusive ? !(value > c.min) : !(value >= c.min))) throw bad();
    if (c.max !== undefined && !(value <= c.max)) throw bad();
  }
}

/**
 * `key=value` pairs from the command line (`--correct-opt theta=1,nClusters=50`) typed by the
 * constraints table: numbers where a number is expected, strings otherwise; checked afterwards by
 * the estimator's own `checkOptions`.
 */
export function parseOptionPairs<T extends object>(pairs: readonly string[], constraints: Constraints<T>, where: string): Partial<T> {
  const out: Record<string, unknown> = {};
  const known = constraints as Record<string, Constraint>;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${where}: "${pair}" is not key=value`);
    const key = pair.slice(0, eq).trim(), raw = pair.slice(eq + 1).trim();
    const c = known[key];
    if (!c) throw new UsageError(`${where}: unknown option "${key}" (options: ${Object.keys(known).join(', ')})`);
    if (c.kind === 'boolean') {
      if (raw !== 'true' && raw !== 'false') throw new UsageError(`${where}: ${key} must be true or false, got "${raw}"`);
      out[key] = raw === 'true';
    } else if (c.kind === 'number' && !c.also?.includes(raw)) {
      const v = Number(raw);
      if (raw === '' || !Number.isFinite(v)) throw new UsageError(`${where}: ${key} must be ${describe(c)}, got "${raw}"`);
      out[key] = v;
    } else out[key] = raw;
  }
  return out as Partial<T>;
}
