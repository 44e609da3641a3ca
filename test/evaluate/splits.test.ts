import { describe, it, expect } from 'vitest';
import { makeSplits } from '../../src/evaluate/splits.js';
import { fitRepresentation, BUILTIN_REPRESENTATIONS } from '../../src/evaluate/protocol.js';
import { Lda } from '../../src/represent/lda.js';
import { clone, fromRows, takeRows, type Matrix } from '../../src/linalg/index.js';
import { Rng } from '../../src/linalg/rng.js';

function toyGroups() {
  const groups: (string | null)[] = [], labels: (string | null)[] = [];
  for (let c = 0; c < 12; c++) {
    for (let w = 0; w < 3 + (c % 2); w++) {
      groups.push(`c${c}`);
      labels.push(`m${c % 4}`);
    }
  }
  for (let w = 0; w < 5; w++) {
    groups.push('DMSO');
    labels.push('DMSO');
  }
  groups.push(null);
  labels.push(null);
  return { groups, labels };
}

describe('compound-grouped splits', () => {
  const { groups, labels } = toyGroups();
  for (const kind of ['loco', 'kfold', 'leave-moa-out'] as const) {
    it(`${kind}: no held-out group ever has a row on the training side; folds cover each compound once`, () => {
      for (const seed of [0, 1, 2]) {
        const folds = makeSplits({ kind, groups, labels, folds: 5, seed, controlGroups: ['DMSO'] });
        const seen = new Map<string, number>();
        for (const f of folds) {
          const trainGroups = new Set(Array.from(f.train, (i) => groups[i]));
          for (const i of f.test) {
            expect(trainGroups.has(groups[i]!)).toBe(false);
            expect(f.heldOutGroups).toContain(groups[i]);
          }
          expect(f.train.length + f.test.length).toBe(groups.length);
          for (const g of f.heldOutGroups) seen.set(g, (seen.get(g) ?? 0) + 1);
          // Controls and group-less rows always train.
          for (let i = groups.length - 6; i < groups.length; i++) expect(Array.from(f.train)).toContain(i);
        }
        expect(seen.size).toBe(12);
        for (const v of seen.values()) expect(v).toBe(1);
        if (kind === 'loco') expect(folds.length).toBe(12);
        if (kind === 'leave-moa-out') {
          expect(folds.length).toBe(4);
          for (const f of folds) expect(new Set(Array.from(f.test, (i) => labels[i])).size).toBe(1);
        }
        if (kind === 'kfold') {
          expect(folds.length).toBe(5);
          // Stratified: each label (3 compounds) spread over 3 different folds.
          for (let m = 0; m < 4; m++) {
            const foldsOf = folds.filter((f) => Array.from(f.test).some((i) => labels[i] === `m${m}`));
            expect(foldsOf.length).toBe(3);
          }
        }
      }
    });
  }

  it('kfold is seeded', () => {
    const a = makeSplits({ kind: 'kfold', groups, labels, folds: 4, seed: 7 });
    const b = makeSplits({ kind: 'kfold', groups, labels, folds: 4, seed: 7 });
    const c = makeSplits({ kind: 'kfold', groups, labels, folds: 4, seed: 8 });
    expect(a.map((f) => f.heldOutGroups)).toEqual(b.map((f) => f.heldOutGroups));
    expect(a.map((f) => f.heldOutGroups)).not.toEqual(c.map((f) => f.heldOutGroups));
  });
});

describe('learners see only training rows', () => {
  const rng = new Rng(11);
  const n = 60, d = 8;
  const rows: number[][] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 3;
    rows.push(Array.from({ length: d }, (_, j) => (j === cls ? 2 : 0) + rng.normal()));
    labels.push(`m${cls}`);
  }
  const X = fromRows(rows);
  const trainRows = Array.from({ length: 45 }, (_, i) => i);
  const probe = fromRows([rows[50]!, rows[3]!]);

  const specs = [
    BUILTIN_REPRESENTATIONS.pca && { ...BUILTIN_REPRESENTATIONS.pca, pca: 4 },
    BUILTIN_REPRESENTATIONS.itml,
    { ...BUILTIN_REPRESENTATIONS['itml-squared']!, pca: 4, itml: { ...BUILTIN_REPRESENTATIONS['itml-squared']!.itml!, numConstraints: 30 } },
    BUILTIN_REPRESENTATIONS.lda,
    BUILTIN_REPRESENTATIONS['lda-proj'],
  ];
  for (const spec of specs) {
    it(`${spec!.name}: changing a held-out row does not change the fitted model`, () => {
      const fitLabels = trainRows.map((i) => labels[i]!);
      const a = fitRepresentation(spec!, X, trainRows, fitLabels, 0).transform(probe);
      const X2: Matrix = clone(X);
      for (let i = 45; i < n; i++) for (let j = 0; j < d; j++) X2.data[i * d + j] = 100 * rng.normal();
      const b = fitRepresentation(spec!, X2, trainRows, fitLabels, 0).transform(probe);
      expect(Array.from(b.data)).toEqual(Array.from(a.data));
      // ...while changing a training row does.
      const X3: Matrix = clone(X);
      for (let j = 0; j < d; j++) X3.data[5 * d + j] += 3;
      const c = fitRepresentation(spec!, X3, trainRows, fitLabels, 0).transform(probe);
      expect(Array.from(c.data)).not.toEqual(Array.from(a.data));
    });
  }

  it('LDA whitening makes the within-class covariance the identity (no shrinkage)', () => {
    const lda = new Lda({ shrinkage: 0 }).fit(X, labels);
    const Y = lda.transform(X);
    // Within-class scatter of Y / (n − K) ≈ I.
    const K = 3;
    const means = new Float64Array(K * d);
    const cnt = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      const c = i % 3;
      cnt[c]++;
      for (let j = 0; j < d; j++) means[c * d + j] += Y.data[i * d + j]!;
    }
    for (let c = 0; c < K; c++) for (let j = 0; j < d; j++) means[c * d + j] /= cnt[c]!;
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += (Y.data[i * d + a]! - means[(i % 3) * d + a]!) * (Y.data[i * d + b]! - means[(i % 3) * d + b]!);
        expect(s / (n - K)).toBeCloseTo(a === b ? 1 : 0, 8);
      }
    }
    expect(lda.shrinkage).toBe(0);
    const auto = new Lda().fit(X, labels);
    expect(auto.shrinkage).toBeGreaterThanOrEqual(0);
    expect(auto.shrinkage).toBeLessThanOrEqual(1);
    const proj = new Lda({ nComponents: 2 }).fit(X, labels).transform(takeRows(X, [0, 1]));
    expect(proj.cols).toBe(2);
  });
});

describe('leave-batch-out', () => {
  // Compounds c0..c5 in batches: c0,c1 → b1; c2 → b1 and b2 (spans two); c3,c4 → b2; c5 → b3; DMSO everywhere.
  const rows: [string, string | null, string][] = [
    ['c0', 'm0', 'b1'], ['c0', 'm0', 'b1'], ['c1', 'm1', 'b1'], ['c2', 'm0', 'b1'], ['c2', 'm0', 'b2'],
    ['c3', 'm1', 'b2'], ['c4', 'm0', 'b2'], ['c5', 'm1', 'b3'], ['DMSO', 'DMSO', 'b1'], ['DMSO', 'DMSO', 'b2'], ['DMSO', 'DMSO', 'b3'],
    ['DMSO', 'DMSO', 'b4'],
  ];
  const groups = rows.map((r) => r[0]), labels = rows.map((r) => r[1]), batches = rows.map((r) => r[2]);

  it('holds out every row of one batch, and its compounds\' rows elsewhere sit on neither side', () => {
    const folds = makeSplits({ kind: 'leave-batch-out', groups, labels, batches, controlGroups: ['DMSO'] });
    expect(folds.map((f) => f.name)).toEqual(['leave-batch-out:b1', 'leave-batch-out:b2', 'leave-batch-out:b3']);
    const b1 = folds[0]!;
    expect(Array.from(b1.test)).toEqual([0, 1, 2, 3, 8]);
    expect(b1.heldOutGroups).toEqual(['c0', 'c1', 'c2']);
    // c2's row in b2 (row 4) is on neither side.
    expect(Array.from(b1.train)).toEqual([5, 6, 7, 9, 10, 11]);
    expect(b1.excludedFromTraining).toBe(1);
    for (const f of folds) {
      const trainBatches = new Set(Array.from(f.train, (i) => batches[i]));
      expect(trainBatches.has(f.heldOutBatch!)).toBe(false);
      const trainGroups = new Set(Array.from(f.train, (i) => groups[i]));
      for (const g of f.heldOutGroups) expect(trainGroups.has(g)).toBe(false);
    }
  });

  it('names what it cannot do: no batch column, a single batch', () => {
    expect(() => makeSplits({ kind: 'leave-batch-out', groups, labels, controlGroups: ['DMSO'] })).toThrow(/needs a batch column \(--batch-col\)/);
    expect(() => makeSplits({ kind: 'leave-batch-out', groups, labels, batches: batches.map(() => 'P1'), controlGroups: ['DMSO'] })).toThrow(/at least 2 batches, found 1 \("P1"\)/);
  });

  it('batches holding only controls are listed, not folds', async () => {
    const { batchesWithoutQueries } = await import('../../src/evaluate/splits.js');
    expect(batchesWithoutQueries({ kind: 'leave-batch-out', groups, labels, batches, controlGroups: ['DMSO'] })).toEqual(['b4']);
  });
});

describe('LDA fitted where the training rows are (no copy)', () => {
  // Training rows scattered among held-out ones: the fit reads them in place and must equal the
  // fit on their copy, in the span form (rows < features) and the direct one.
  for (const [n, d] of [[40, 90], [120, 12]] as const) {
    it(`${n} × ${d}: lda and lda-proj equal Lda on the copied rows, bit for bit`, () => {
      const rng = new Rng(5);
      const X = fromRows(Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => (j === i % 4 ? 1.5 : 0) + rng.normal())));
      const all = Array.from({ length: n }, (_, i) => `m${i % 4}`);
      const train = Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 1);
      const fitLabels = train.map((i) => all[i]!);
      for (const name of ['lda', 'lda-proj'] as const) {
        const spec = BUILTIN_REPRESENTATIONS[name]!;
        const got = fitRepresentation(spec, X, train, fitLabels, 0).transform(X);
        const opts = { ...spec.lda!, nComponents: spec.lda!.nComponents !== undefined && spec.lda!.nComponents < 0 ? 3 : spec.lda!.nComponents };
        const want = new Lda(opts).fit(takeRows(X, train), fitLabels).transform(X);
        expect(Array.from(got.data)).toEqual(Array.from(want.data));
      }
    });
  }
});
