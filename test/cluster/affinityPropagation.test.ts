import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy, readNpyMatrix } from '../../src/io/npy.js';
import { affinityPropagation, affinityPropagationWithRetry, fusedPass } from '../../src/cluster/affinityPropagation.js';
import { fromRows, zeros, type Matrix } from '../../src/linalg/matrix.js';
import { medianNoCopy as median, kthSmallest } from '../../src/linalg/select.js';
import { Rng } from '../../src/linalg/rng.js';
import { repoRoot } from '../helpers/shared.js';

const FIX = join(repoRoot, 'test', 'fixtures', 'lincs_SQ00015054');

function negSqDist(points: number[][]): Matrix {
  const n = points.length;
  const S = zeros(n, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < points[i]!.length; k++) s += (points[i]![k]! - points[j]![k]!) ** 2;
      S.data[i * n + j] = -s;
    }
  return S;
}

/** Relabel by first appearance so partitions can be compared. */
function canonical(labels: ArrayLike<number>): number[] {
  const m = new Map<number, number>();
  return Array.from(labels, (l) => {
    if (!m.has(l)) m.set(l, m.size);
    return m.get(l)!;
  });
}

describe('affinityPropagation — sklearn 1.2 parity on the LINCS fixture', () => {
  const noise = readNpyMatrix(join(FIX, 'ap_noise_seed0.npy'));
  const expected = { raw: [69, 33], pca: [68, 29], itml: [69, 71] } as const;
  for (const rep of ['raw', 'pca', 'itml'] as const) {
    it(`${rep}: identical labels, n_iter and convergence`, () => {
      const S = readNpyMatrix(join(FIX, `ap_S_${rep}.npy`));
      const before = S.data.slice(0, 10);
      const res = affinityPropagation(S, { noise });
      const ref = readNpy(join(FIX, `labels_${rep}.npy`)).data;
      expect(Array.from(res.labels)).toEqual(Array.from(ref));
      expect(res.exemplars.length).toBe(expected[rep][0]);
      expect(res.nIter).toBe(expected[rep][1]);
      expect(res.converged).toBe(true);
      expect(res.warnings).toEqual([]);
      expect(res.exemplarTrace.length).toBe(res.nIter);
      expect(res.exemplarTrace[res.nIter - 1]).toBe(expected[rep][0]);
      // copy = true leaves the input alone
      expect(Array.from(S.data.slice(0, 10))).toEqual(Array.from(before));
      // every exemplar labels itself, exemplars ascending
      res.exemplars.forEach((e, k) => expect(res.labels[e]).toBe(k));
      for (let k = 1; k < res.exemplars.length; k++) expect(res.exemplars[k]!).toBeGreaterThan(res.exemplars[k - 1]!);
    });
  }
  it('itml with 2 and 3 threads: bit-identical to the single-threaded run and to sklearn', () => {
    const S = readNpyMatrix(join(FIX, 'ap_S_itml.npy'));
    const ref = Array.from(readNpy(join(FIX, 'labels_itml.npy')).data);
    for (const threads of [2, 3]) {
      const res = affinityPropagation(S, { noise, threads });
      expect(Array.from(res.labels)).toEqual(ref);
      expect(res.nIter).toBe(71);
    }
  });
  it('raw: the preference is the numpy median of S', () => {
    const S = readNpyMatrix(join(FIX, 'ap_S_raw.npy'));
    const res = affinityPropagation(S, { noise: 'none' });
    expect(res.preference).toBe(-295.57902029019397);
    // without noise the partition is unchanged (the reference reports ARI 1 and 33 iterations)
    const ref = readNpy(join(FIX, 'labels_raw.npy')).data;
    expect(canonical(res.labels)).toEqual(canonical(ref));
    expect(res.nIter).toBe(33);
  });
});

describe('affinityPropagation — hand cases', () => {
  const line = negSqDist([[0], [1], [10], [11], [12]]);
  it('two groups on a line: {0,1} and {10,11,12}, centre refined to the middle point', () => {
    // median of the 25 entries of S is −4
    const res = affinityPropagation(line, { noise: { seed: 3 } });
    expect(res.preference).toBe(-4);
    expect(Array.from(res.labels)).toEqual([0, 0, 1, 1, 1]);
    expect(res.exemplars[1]).toBe(3);
    expect([0, 1]).toContain(res.exemplars[0]);
    expect(res.converged).toBe(true);
  });
  it('exact ties without noise behave as sklearn with zero noise (one cluster, 66 iterations)', () => {
    const res = affinityPropagation(line, { noise: 'none' });
    expect(Array.from(res.labels)).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(res.exemplars)).toEqual([2]);
    expect(res.nIter).toBe(66);
  });
  it('per-point preference (sklearn zero-noise reference: centres 0 and 3 after 19 iterations)', () => {
    const res = affinityPropagation(line, { noise: 'none', preference: Float64Array.from([-1, -100, -100, -100, -100]) });
    expect(Array.from(res.exemplars)).toEqual([0, 3]);
    expect(Array.from(res.labels)).toEqual([0, 0, 1, 1, 1]);
    expect(res.nIter).toBe(19);
  });
  it('non-convergence: labels still returned, a warning, converged = false, nIter = maxIter', () => {
    const res = affinityPropagation(line, { noise: 'none', maxIter: 10 });
    expect(res.converged).toBe(false);
    expect(res.nIter).toBe(10);
    expect(Array.from(res.labels)).toEqual([0, 0, 0, 0, 0]);
    expect(res.warnings.join(' ')).toMatch(/did not converge with damping 0.5 in 10 iterations/);
  });
  it('no exemplars: every label −1 with a warning (symmetric square, no noise)', () => {
    const sq = negSqDist([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const res = affinityPropagation(sq, { noise: 'none', preference: -1 });
    expect(Array.from(res.labels)).toEqual([-1, -1, -1, -1]);
    expect(res.exemplars.length).toBe(0);
    expect(res.nIter).toBe(200);
    expect(res.converged).toBe(false);
    expect(res.warnings.join(' ')).toMatch(/no exemplars/);
    const own = affinityPropagation(sq, { noise: 'none', preference: -0.5 });
    expect(Array.from(own.labels)).toEqual([0, 1, 2, 3]);
    expect(own.nIter).toBe(16);
  });
  it('degenerate inputs follow sklearn with a clear message', () => {
    const one = affinityPropagation(fromRows([[0]]));
    expect(Array.from(one.labels)).toEqual([0]);
    expect(one.nIter).toBe(0);
    expect(one.warnings[0]).toMatch(/only one sample/);
    const eq = fromRows([[0, -1, -1], [-1, 0, -1], [-1, -1, 0]]);
    // median of S is −1 = every similarity → preference ≥ similarity → each point its own cluster
    const a = affinityPropagation(eq);
    expect(Array.from(a.labels)).toEqual([0, 1, 2]);
    expect(a.warnings[0]).toMatch(/equal similarities/);
    const b = affinityPropagation(eq, { preference: -5 });
    expect(Array.from(b.labels)).toEqual([0, 0, 0]);
    expect(Array.from(b.exemplars)).toEqual([0]);
  });
  it('rejects bad input clearly', () => {
    expect(() => affinityPropagation(zeros(2, 3))).toThrow(/square/);
    expect(() => affinityPropagation(fromRows([[0, NaN], [1, 0]]))).toThrow(/non-finite value at row 0, column 1/);
    expect(() => affinityPropagation(line, { damping: 1 })).toThrow(/damping/);
  });
  it('copy = false works in place on S', () => {
    const S = negSqDist([[0], [1], [10], [11], [12]]);
    const res = affinityPropagation(S, { noise: 'none', copy: false });
    expect(S.data[0]).toBe(-4); // the diagonal now holds the preference
    expect(res.exemplars.length).toBe(1);
  });
});

/**
 * The message passing written out with the JS reference pass: `schedule` lists (damping,
 * iterations) stages, each continuing from the previous one's messages; sklearn's convergence rule
 * over the whole run. Returns the exemplar-count trace.
 */
function referenceSchedule(Sp: Float64Array, n: number, schedule: [number, number][], convIter = 15) {
  const R = new Float64Array(n * n), A = new Float64Array(n * n);
  let cs = new Float64Array(n), ncs = new Float64Array(n);
  const E = new Uint8Array(n), run = new Int32Array(n);
  const pass = (d: number, doAvail: boolean) => {
    ncs.fill(0);
    const K = fusedPass(Sp, R, A, cs, ncs, E, run, n, d, 1 - d, doAvail, true);
    [cs, ncs] = [ncs, cs];
    return K;
  };
  const trace: number[] = [];
  pass(schedule[0]![0], false);
  let it = 0;
  for (const [d, iters] of schedule) {
    for (let s = 0; s < iters; s++, it++) {
      const K = pass(d, true);
      trace.push(K);
      if (it >= convIter && K > 0 && run.every((r) => r >= convIter)) return { trace, nIter: it + 1, converged: true };
    }
  }
  return { trace, nIter: it, converged: false };
}

describe('affinityPropagationWithRetry (adaptive damping)', () => {
  const S = readNpyMatrix(join(FIX, 'ap_S_pca.npy'));
  const noise = readNpyMatrix(join(FIX, 'ap_noise_seed0.npy'));
  // S with sklearn's preference and noise applied (copy: false leaves the prepared S in place).
  const Sp = { ...S, data: S.data.slice() };
  affinityPropagation(Sp, { noise, copy: false, maxIter: 1 });

  it('a first attempt converging before the oscillation check is exactly the plain (sklearn) call', () => {
    const res = affinityPropagationWithRetry(S, { noise });
    const direct = affinityPropagation(S, { noise });
    expect(res.attempts).toEqual([{ damping: 0.5, converged: true, nIter: 29, clusters: 68, startIteration: 0, ended: 'converged' }]);
    expect(res.nIter).toBe(29);
    expect(Array.from(res.labels)).toEqual(Array.from(direct.labels));
    expect(Array.from(res.exemplarTrace)).toEqual(Array.from(direct.exemplarTrace));
    expect(res.warnings).toEqual([]);
  });
  it('after maxIter without convergence, continues from the current messages with the next damping', () => {
    const res = affinityPropagationWithRetry(S, { noise, maxIter: 20, dampings: [0.5, 0.7] });
    const ref = referenceSchedule(Sp.data, S.rows, [[0.5, 20], [0.7, 20]]);
    expect(res.attempts.map((a) => [a.damping, a.nIter, a.startIteration, a.ended])).toEqual([[0.5, 20, 0, 'max-iter'], [0.7, ref.nIter - 20, 20, 'converged']]);
    expect(Array.from(res.exemplarTrace)).toEqual(ref.trace);
    expect(res.converged).toBe(true);
    expect(res.damping).toBe(0.7);
    expect(res.warnings[0]).toBe('AP did not converge with damping 0.5 in 20 iterations; continuing from the current messages with damping 0.7');
    expect(res.warnings[1]).toMatch(/^AP converged with damping 0\.7 after \d+ iterations in all \(20 at 0\.5, \d+ at 0\.7\)$/);
  });
  it('detects oscillation (exemplar set still changing) after the check and switches early', () => {
    const res = affinityPropagationWithRetry(S, { noise, oscillationCheck: 10, window: 10 });
    const first = res.attempts[0]!;
    expect(first.ended).toBe('oscillating');
    expect(first.nIter).toBe(10);
    const lo = Math.min(...Array.from(res.exemplarTrace.subarray(0, 10))), hi = Math.max(...Array.from(res.exemplarTrace.subarray(0, 10)));
    expect(first.exemplarRange).toEqual([lo, hi]);
    const ref = referenceSchedule(Sp.data, S.rows, [[0.5, 10], [0.7, 200]]);
    expect(Array.from(res.exemplarTrace)).toEqual(ref.trace);
    expect(res.nIter).toBe(ref.nIter);
    expect(res.warnings[0]).toBe(`AP oscillated with damping 0.5 (not converged after 10 iterations, exemplar count between ${lo} and ${hi} over the last 10); continuing from the current messages with damping 0.7`);
  });
  it('gives up after the last damping, reporting every stage', () => {
    const sq = negSqDist([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const res = affinityPropagationWithRetry(sq, { noise: 'none', preference: -1, maxIter: 30 });
    expect(res.attempts.map((a) => [a.damping, a.startIteration, a.ended])).toEqual([[0.5, 0, 'max-iter'], [0.7, 30, 'max-iter'], [0.9, 60, 'max-iter']]);
    expect(res.converged).toBe(false);
    expect(res.nIter).toBe(90);
    expect(res.damping).toBe(0.9);
    expect(res.warnings[0]).toBe('AP did not converge with damping 0.5 in 30 iterations; continuing from the current messages with damping 0.7');
  });
  it('one damping (no retry) is the plain call', () => {
    const res = affinityPropagationWithRetry(S, { noise, maxIter: 20, dampings: [0.5] });
    const direct = affinityPropagation(S, { noise, maxIter: 20 });
    expect(Array.from(res.labels)).toEqual(Array.from(direct.labels));
    expect(res.attempts).toHaveLength(1);
  });
});

describe('affinityPropagation — properties', () => {
  it('labels are invariant (as a partition) to a row permutation of well-separated blobs, no noise', () => {
    const rng = new Rng(7);
    const pts: number[][] = [];
    const centres = [[0, 0], [50, 0], [0, 50], [50, 50]];
    for (const c of centres) for (let i = 0; i < 6; i++) pts.push([c[0]! + rng.normal(), c[1]! + rng.normal()]);
    const base = affinityPropagation(negSqDist(pts), { noise: 'none', preference: -200 });
    expect(base.converged).toBe(true);
    expect(base.exemplars.length).toBe(4);
    const perm = rng.permutation(pts.length);
    const permuted = affinityPropagation(negSqDist(Array.from(perm, (i) => pts[i]!)), { noise: 'none', preference: -200 });
    const back = new Int32Array(pts.length);
    perm.forEach((src, dst) => (back[src] = permuted.labels[dst]!));
    expect(canonical(back)).toEqual(canonical(base.labels));
    // exemplars map to the same points
    const exA = Array.from(base.exemplars).sort((a, b) => a - b);
    const exB = Array.from(permuted.exemplars, (e) => perm[e]!).sort((a, b) => a - b);
    expect(exB).toEqual(exA);
  });
  it('a seeded noise run is reproducible', () => {
    const S = readNpyMatrix(join(FIX, 'ap_S_pca.npy'));
    const a = affinityPropagation(S, { noise: { seed: 11 } });
    const b = affinityPropagation(S, { noise: { seed: 11 } });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(a.exemplars.length).toBe(68);
  });
});

describe('median / kthSmallest (numpy semantics, histogram path for large arrays)', () => {
  it('matches sorting, even and odd lengths, with heavy duplicates', () => {
    const rng = new Rng(1);
    for (const n of [1, 2, 7, 10, 2_200_001, 2_200_000]) {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = i % 3 === 0 ? 5 : Math.round(rng.normal() * 1000) / 10;
      const s = a.slice().sort();
      const h = n >> 1;
      expect(median(a)).toBe(n % 2 ? s[h] : (s[h - 1]! + s[h]!) / 2);
      if (n > 100) expect(kthSmallest(a, 12345)).toBe(s[12345]);
    }
    expect(median(Float64Array.from([1, NaN]))).toBeNaN();
    // skewed values (most mass in one histogram bucket → a second narrowing level)
    const sk = new Float64Array(200_000);
    for (let i = 0; i < sk.length; i++) sk[i] = -Math.exp(rng.normal() * 6);
    const ss = sk.slice().sort();
    expect(median(sk)).toBe((ss[99_999]! + ss[100_000]!) / 2);
    expect(kthSmallest(sk, 199_999)).toBe(ss[199_999]);
    expect(kthSmallest(sk, 0)).toBe(ss[0]);
  });
  it('the default preference is the exact median of S (single-pass histogram path): odd/even n², ties, skew', () => {
    const rng = new Rng(5);
    const gens: ((i: number) => number)[] = [
      () => -Math.abs(rng.normal()) * 50,
      () => -rng.int(7), // a few values: the middle ranks sit in crowded buckets
      () => -Math.exp(rng.normal() * 8), // heavy skew: most values in the top bucket
      (i) => (i % 5 === 0 ? -1e6 : -rng.uniform()), // an outlier stretching the range
    ];
    for (const n of [65, 66, 151]) {
      for (const g of gens) {
        const S = zeros(n, n);
        for (let i = 0; i < S.data.length; i++) S.data[i] = g(i);
        const sorted = S.data.slice().sort();
        const h = sorted.length >> 1;
        const expected = sorted.length % 2 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
        const res = affinityPropagation(S, { noise: 'none', maxIter: 1, convergenceIter: 1 });
        expect(res.preference).toBe(expected);
      }
    }
  });
});
