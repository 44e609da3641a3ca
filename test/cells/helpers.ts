/** Comparing phenomap's well profiles and merged cells with pycytominer's, by name and key. */
import { expect } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Profiles } from '../../src/io/profiles.js';
import { cellString, getMeta } from '../../src/io/profiles.js';
import { readProfiles } from '../../src/io/read.js';
import type { StoredMatrix } from '../../src/linalg/matrix.js';
import { repoRoot, sharedPath } from '../helpers/shared.js';

export const fixtures = join(repoRoot, 'examples', 'singlecell');

/** A pycytominer reference: bundled in test/fixtures/singlecell, else from ../shared/reference/singlecell. */
export function reference(name: string): string | undefined {
  const bundled = join(fixtures, name);
  return existsSync(bundled) ? bundled : sharedPath(`reference/singlecell/${name}`);
}

export async function readReference(path: string): Promise<Profiles> {
  // pycytominer's merged single cells of a JUMP plate are 5,800 columns wide.
  process.env.PHENOMAP_DUCKDB_MEMORY ??= '3GB';
  const { profiles } = await readProfiles(path);
  return profiles as Profiles;
}

function key(p: Profiles<StoredMatrix>, cols: readonly string[], i: number): string {
  return cols.map((c) => {
    const v = cellString(getMeta(p, c), i);
    return v === null ? '' : String(Number.isNaN(Number(v)) ? v : Number(v));
  }).join('|');
}

export interface Comparison {
  readonly rows: number;
  readonly features: number;
  readonly maxRel: number;
  readonly worst: string;
}

/**
 * Every reference feature value against ours (rows matched by `keys`, features by name):
 * the largest relative difference; NaN must meet NaN.
 */
export function compareByName(mine: Profiles<StoredMatrix>, ref: Profiles<StoredMatrix>, keys: readonly string[], refKeys: readonly string[] = keys): Comparison {
  expect(mine.X.rows).toBe(ref.X.rows);
  expect([...mine.features].sort()).toEqual([...ref.features].sort());
  const rowOf = new Map<string, number>();
  for (let i = 0; i < mine.X.rows; i++) rowOf.set(key(mine, keys, i), i);
  const colOf = new Map(mine.features.map((f, j) => [f, j]));
  let maxRel = 0;
  let worst = '';
  const nm = mine.features.length, nr = ref.features.length;
  for (let i = 0; i < ref.X.rows; i++) {
    const r = rowOf.get(key(ref, refKeys, i));
    expect(r, `reference row ${key(ref, refKeys, i)} missing`).toBeDefined();
    for (let j = 0; j < nr; j++) {
      const a = ref.X.data[i * nr + j]!;
      const b = mine.X.data[r! * nm + colOf.get(ref.features[j]!)!]!;
      if (Number.isNaN(a) || Number.isNaN(b)) {
        if (!(Number.isNaN(a) && Number.isNaN(b))) {
          maxRel = Infinity;
          worst = `${ref.features[j]} row ${i}: reference ${a}, phenomap ${b}`;
        }
        continue;
      }
      const rel = a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
      if (rel > maxRel) {
        maxRel = rel;
        worst = `${ref.features[j]} row ${i}: reference ${a}, phenomap ${b}`;
      }
    }
  }
  return { rows: ref.X.rows, features: nr, maxRel, worst };
}
