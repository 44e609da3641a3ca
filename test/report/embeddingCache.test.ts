/** The report's cached embeddings are reused only for the same matrix, rows and parameters. */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeEmbeddings } from '../../src/report/embeddings.js';
import type { RunData } from '../../src/io/runDir.js';
import type { Matrix } from '../../src/linalg/matrix.js';

function fakeRun(dir: string, X: Matrix): RunData {
  return { dir, n: X.rows, moa: Array.from({ length: X.rows }, (_, i) => `m${i % 3}`), repr: (name: string) => (name === 'raw' ? X : undefined) } as unknown as RunData;
}

function matrix(rows: number, cols: number, shift: number): Matrix {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37 + shift) + (i % cols) * 0.1;
  return { rows, cols, data };
}

describe('embedding cache key', () => {
  it('reuses an embedding of the same data and seed; recomputes for other data of the same size', () => {
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-emb-'));
    try {
      const opts = { methods: ['umap' as const], spaces: ['raw'] };
      const a = fakeRun(dir, matrix(40, 5, 0));
      expect(computeEmbeddings(a, { ...opts, seed: 1 })[0]!.cached).toBe(false);
      const again = computeEmbeddings(a, { ...opts, seed: 1 })[0]!;
      expect(again.cached).toBe(true);
      // Same row count and seed, other values: the old cache used to be taken.
      const b = fakeRun(dir, matrix(40, 5, 1));
      const other = computeEmbeddings(b, { ...opts, seed: 1 })[0]!;
      expect(other.cached).toBe(false);
      expect(Array.from(other.coords.data)).not.toEqual(Array.from(again.coords.data));
      expect(computeEmbeddings(b, { ...opts, seed: 1 })[0]!.cached).toBe(true);
      expect(computeEmbeddings(a, { ...opts, seed: 1 })[0]!.cached).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
