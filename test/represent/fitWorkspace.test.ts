/**
 * FitWorkspace (issue 24, time target): LDA and the batch-aware LDA fitted with kept work arrays
 * give the same model, bit for bit, as without — one workspace serving fit after fit of different
 * sizes and solver forms — on a small generated case and on a BBBC021 slice.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Lda, ledoitWolfScaled } from '../../src/represent/lda.js';
import { FitWorkspace } from '../../src/represent/workspace.js';
import { BatchAwareLda } from '../../src/represent/batchLda.js';
import { fromRows, takeRows, type Matrix, type StoredMatrix } from '../../src/linalg/index.js';
import { Rng } from '../../src/linalg/rng.js';
import { metaStrings, type Profiles } from '../../src/io/profiles.js';
import { normaliseForEvaluation } from '../../src/evaluate/protocol.js';
import { bbbc021Recipe, BBBC021_FILES } from '../../src/io/recipes.js';
import { describeShared, sharedRoot } from '../helpers/shared.js';

/** n rows in `classes` classes (class c shifted along feature c), `groups` compounds per class on two batches. */
function data(n: number, d: number, seed: number) {
  const rng = new Rng(seed);
  const rows: number[][] = [], labels: (string | null)[] = [], groups: (string | null)[] = [], batches: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 4, b = (i >> 2) % 2;
    const x = Array.from({ length: d }, () => rng.normal());
    x[c] += 2;
    x[d - 1] += b ? 1.5 : -1.5;
    rows.push(x);
    labels.push(i % 11 === 10 ? null : `m${c}`);
    groups.push(i % 11 === 10 ? 'ctl' : `m${c}g${(i >> 3) % 3}`);
    batches.push(`b${b}`);
  }
  return { X: fromRows(rows), labels, groups, batches };
}

const bits = (m: Matrix) => Array.from(m.data);

describe('FitWorkspace: the same fits as without one', () => {
  it('hand-checked: the Ledoit–Wolf shrinkage of a residual table is the same with a workspace', () => {
    // Two rows ±(1, 1, 0): scaled columns (1, 1, 1 for the zero column), n = 2 < d = 3.
    const R = fromRows([[1, 1, 0], [-1, -1, 0]]);
    // By hand: Z = R, Σ_i (Σ_j z²)² = 8, Gram [[2, −2], [−2, 2]] so δ_ = 16 / 4 = 4, β = (8 / 2 − 4) / 6 = 0: no shrinkage.
    const ws = new FitWorkspace();
    expect(ledoitWolfScaled(R)).toBe(0);
    expect(ledoitWolfScaled(R, ws)).toBe(ledoitWolfScaled(R));
    // A second call on a larger table grows the kept arrays and still agrees.
    const R2 = fromRows([[1, 2, 0, 1], [-1, -2, 1, 0], [0, 0, -1, -1]]);
    expect(ledoitWolfScaled(R2, ws)).toBe(ledoitWolfScaled(R2));
    expect(ledoitWolfScaled(R, ws)).toBe(ledoitWolfScaled(R));
  });

  it('LDA and batch-aware LDA, span and direct forms, fit after fit on one workspace', () => {
    const ws = new FitWorkspace();
    // Wide (span form), then narrow (direct form), then wide again with more rows: the arrays are reused and grown.
    for (const [n, d, seed] of [[60, 90, 1], [80, 12, 2], [100, 150, 3], [40, 90, 4]] as const) {
      const { X, labels, groups, batches } = data(n, d, seed);
      for (const nComponents of [3, undefined]) {
        const a = new Lda({ nComponents }).fit(X, labels), b = new Lda({ nComponents }).fit(X, labels, ws);
        expect(b.shrinkage).toBe(a.shrinkage);
        expect(bits(b.transform(X)), `LDA ${n}×${d} k=${nComponents}`).toEqual(bits(a.transform(X)));
      }
      const p = new BatchAwareLda({ nComponents: 3 }).fit(X, { labels, groups, batches });
      const q = new BatchAwareLda({ nComponents: 3 }).fit(X, { labels, groups, batches, workspace: ws });
      expect(q.shrinkage).toBe(p.shrinkage);
      expect(bits(q.transform(X)), `batch-aware LDA ${n}×${d}`).toEqual(bits(p.transform(X)));
    }
  });
});

describeShared('FitWorkspace on BBBC021', Object.values(BBBC021_FILES).map((f) => `data/${f}`), () => {
  let p: Profiles<StoredMatrix>;
  beforeAll(async () => {
    p = normaliseForEvaluation((await bbbc021Recipe(join(sharedRoot, 'data'))).profiles, 'zscore').profiles;
  });

  it('three training slices fitted on one workspace equal their fits without', () => {
    const moa = metaStrings(p, 'Metadata_moa'), comp = metaStrings(p, 'Metadata_compound'), week = metaStrings(p, 'Metadata_batch');
    const ws = new FitWorkspace();
    for (const keep of [(i: number) => i % 3 !== 0, (i: number) => i % 4 !== 1, () => true]) {
      const rows = Array.from({ length: p.X.rows }, (_, i) => i).filter(keep);
      const X = takeRows(p.X, rows);
      const labels = rows.map((i) => (comp[i] === 'DMSO' ? null : moa[i] ?? null));
      const a = new Lda({ nComponents: 5 }).fit(X, labels), b = new Lda({ nComponents: 5 }).fit(X, labels, ws);
      expect(bits(b.transform(X))).toEqual(bits(a.transform(X)));
      const input = { labels, groups: rows.map((i) => comp[i] ?? null), batches: rows.map((i) => week[i] ?? null) };
      const c = new BatchAwareLda({ nComponents: 5 }).fit(X, input), e = new BatchAwareLda({ nComponents: 5 }).fit(X, { ...input, workspace: ws });
      expect(bits(e.transform(X))).toEqual(bits(c.transform(X)));
    }
  }, 60_000);
});
