/** Small hand-built Profiles for the preprocessing tests. */
import type { MetaColumn, Profiles } from '../../src/io/profiles.js';
import { fromRows } from '../../src/linalg/matrix.js';

export function makeProfiles(
  rows: number[][],
  features: string[],
  meta: Record<string, (string | null)[] | number[]> = {},
): Profiles {
  const cols: MetaColumn[] = Object.entries(meta).map(([name, values]) =>
    typeof values[0] === 'number'
      ? { name, kind: 'number' as const, values: Float64Array.from(values as number[]) }
      : { name, kind: 'string' as const, values: values as (string | null)[] },
  );
  return { features, X: fromRows(rows), meta: cols, source: 'test.csv' };
}

/** Column j of a row-major matrix as a plain array. */
export function col(p: Profiles, name: string): number[] {
  const j = p.features.indexOf(name);
  if (j < 0) throw new Error(`no feature ${name}`);
  const out: number[] = [];
  for (let i = 0; i < p.X.rows; i++) out.push(p.X.data[i * p.X.cols + j]!);
  return out;
}
