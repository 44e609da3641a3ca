/** The LINCS parity fixtures (scikit-learn 1.2.1 / metric-learn 0.7.0), bundled in test/fixtures. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpyMatrix, readNpy } from '../../src/io/npy.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import type { PairConstraint } from '../../src/represent/itml.js';
import { repoRoot } from './shared.js';
import { splitLine } from '../../src/io/text.js';

export const fixtureDir = join(repoRoot, 'test', 'fixtures', 'lincs_SQ00015054');

export function fixtureMatrix(name: string): Matrix {
  return readNpyMatrix(join(fixtureDir, name));
}

export function fixtureArray(name: string): Float64Array {
  return readNpy(join(fixtureDir, name)).data;
}

export function fixtureConstraints(): PairConstraint[] {
  return readFileSync(join(fixtureDir, 'itml_constraints.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number))
    .sort((x, y) => x[0]! - y[0]!)
    .map(([, s, i, j]) => ({ a: i!, b: j!, sign: s === 1 ? 1 : -1 }) as PairConstraint);
}

export function fixtureSummary(): any {
  return JSON.parse(readFileSync(join(fixtureDir, 'summary.json'), 'utf8'));
}

/** Max |a − b| / max |b|. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

/** Metadata_moa of the fixture rows, in row order (rows_and_clusters.csv; quoted fields may hold commas). */
export function fixtureMoaLabels(): string[] {
  const lines = readFileSync(join(fixtureDir, 'rows_and_clusters.csv'), 'utf8').trim().split('\n');
  const col = splitLine(lines[0]!, ',').indexOf('Metadata_moa');
  return lines.slice(1).map((l) => splitLine(l, ',')[col]!);
}
