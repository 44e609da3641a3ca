/**
 * The accelerated kernels against their pure-JS twins: same operations in the same order, so
 * results must be bit-identical (not merely close). Each backend is loaded as its own module
 * instance with the environment a user would set: PHENOMAP_NO_WASM=1 + PHENOMAP_NO_NATIVE=1 (pure
 * JS, the reference), PHENOMAP_NO_NATIVE=1 (wasm) and neither (native, when the addon was built).
 */
import { describe, it, expect, vi, beforeAll } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as fast from '../../src/linalg/index.js';
import { native, nativeAvailable, useNative } from '../../src/linalg/native.js';
import { Rng } from '../../src/linalg/rng.js';

type Linalg = typeof fast;
const instances: Record<'js' | 'wasm' | 'native', Linalg | null> = { js: null, wasm: null, native: null };

async function loadWith(env: Record<string, string>): Promise<Linalg> {
  const prev = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  vi.resetModules();
  const lib = await import('../../src/linalg/index.js');
  for (const [k, v] of Object.entries(prev)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return lib;
}

beforeAll(async () => {
  instances.js = await loadWith({ PHENOMAP_NO_WASM: '1', PHENOMAP_NO_NATIVE: '1' });
  instances.wasm = await loadWith({ PHENOMAP_NO_NATIVE: '1' });
  instances.native = nativeAvailable ? fast : null;
});

if (!nativeAvailable) {
  console.warn('[skip] native kernels: build/Release/phenomap_kernels.node was not built (npm ci builds it with node-gyp; needs a C compiler)');
}

function randomMatrix(rows: number, cols: number, seed: number): fast.Matrix {
  const m = fast.zeros(rows, cols);
  new Rng(seed).fillNormal(m.data);
  return m;
}

/** Run `body` (ESM, with linalg's exports and Rng in scope) in a child Node process with extra env. */
function runLinalgScript(body: string, env: Record<string, string>): SpawnSyncReturns<string> {
  const linalg = fileURLToPath(new URL('../../src/linalg/index.ts', import.meta.url));
  const rng = fileURLToPath(new URL('../../src/linalg/rng.ts', import.meta.url));
  const script = `import * as L from ${JSON.stringify(linalg)};
    import { Rng } from ${JSON.stringify(rng)};
    const { tcrossprod, gemmNT, squaredDistances, zeros, linalgBackend } = L;
    ${body}`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 28, env: { ...process.env, ...env },
  });
}

function expectIdentical(a: Float64Array, b: Float64Array): void {
  expect(a.length).toBe(b.length);
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) diff++;
  expect(diff).toBe(0);
}

describe('backend selection', () => {
  it('each instance runs on the engine its environment asks for', () => {
    expect(instances.js!.linalgBackend()).toEqual({ engine: 'js', threads: 1 });
    if (process.env.PHENOMAP_NO_WASM !== '1') expect(instances.wasm!.linalgBackend().engine).toBe('wasm-simd');
    if (nativeAvailable && process.env.PHENOMAP_NO_NATIVE !== '1') {
      const b = fast.linalgBackend();
      expect(b.engine).toBe('native');
      expect(['avx512', 'avx2', 'sse2', 'generic']).toContain(b.simd);
    }
  });

  it.skipIf(!nativeAvailable)('useNative(false) falls back to wasm in the same process, and back', () => {
    expect(fast.useNative(false)).toBe(false);
    expect(fast.linalgBackend().engine).not.toBe('native');
    expect(fast.useNative(true)).toBe(true);
    expect(fast.linalgBackend().engine).toBe('native');
  });
});

describe.skipIf(!nativeAvailable || process.env.PHENOMAP_NO_NATIVE === '1')('native micro-kernels', () => {
  it('the AVX2 / plain-C kernel (PHENOMAP_NO_AVX512=1, in a child process) gives the JS results too', async () => {
    const r = runLinalgScript(`
      const X = zeros(203, 131); new Rng(21).fillNormal(X.data);
      const Y = zeros(77, 131); new Rng(22).fillNormal(Y.data);
      const Z = zeros(40, 2100); new Rng(23).fillNormal(Z.data);
      const out = [tcrossprod(X), gemmNT(X, Y), squaredDistances(X), L.gemmNTRounded(X, Y), L.gemmNTRounded(Y, X), L.tcrossprodRounded(X), L.tcrossprodRounded(Z)].map((m) => Array.from(m.data));
      console.log(JSON.stringify({ simd: linalgBackend().simd, out }));`, { PHENOMAP_NO_AVX512: '1' });
    expect(r.status).toBe(0);
    const { simd, out } = JSON.parse(r.stdout) as { simd: string; out: number[][] };
    expect(simd).not.toBe('avx512');
    const js = instances.js!;
    const X = randomMatrix(203, 131, 21), Y = randomMatrix(77, 131, 22), Z = randomMatrix(40, 2100, 23);
    const want = [js.tcrossprod(X), js.gemmNT(X, Y), js.squaredDistances(X), js.gemmNTRounded(X, Y), js.gemmNTRounded(Y, X), js.tcrossprodRounded(X), js.tcrossprodRounded(Z)];
    for (let t = 0; t < 7; t++) expectIdentical(Float64Array.from(out[t]!), want[t]!.data);
  });

  it('the normal generator draws the JS normals, spare and state included, bit for bit', () => {
    // Odd and even counts, counts below the native threshold, a spare carried between calls, an
    // offset start, and a long run (≈ 1.1 M logarithms over the polar method's s ∈ (0, 1)).
    const cuts = [0, 1, 2, 33, 64, 97, 98, 1000, 1031, 1_500_000, 1_500_010, 2_250_001];
    const draw = (nativeOn: boolean) => {
      useNative(nativeOn);
      try {
        const r = new Rng(2024);
        const out = new Float64Array(cuts.at(-1)!);
        for (let c = 1; c < cuts.length; c++) r.fillNormal(out, cuts[c - 1], cuts[c]);
        return { out, next: [r.normal(), r.normal(), r.uniform()] };
      } finally {
        useNative(true);
      }
    };
    const nat = draw(true), js = draw(false);
    expectIdentical(nat.out, js.out);
    expect(nat.next).toEqual(js.next);
  });

  it("the kernels' logarithm is Math.log bit for bit across the whole double range", () => {
    const rng = new Rng(5);
    const bits = new DataView(new ArrayBuffer(8));
    const x = new Float64Array(400_000);
    for (let i = 0; i < x.length; i++) {
      switch (i % 4) {
        case 0: // any positive double, NaN and ∞ included
          bits.setUint32(0, rng.nextUint32() & 0x7fffffff);
          bits.setUint32(4, rng.nextUint32());
          x[i] = bits.getFloat64(0);
          break;
        case 1: // near 1, where fdlibm takes its |f| < 2⁻²⁰ branch
          x[i] = 1 + (rng.uniform() - 0.5) * 2 ** -rng.int(60);
          break;
        case 2: // subnormals to overflow
          x[i] = rng.uniform() * 2 ** (rng.int(2100) - 1075);
          break;
        default: // the generator's own range
          x[i] = rng.uniform();
      }
    }
    const edge = [0, -0, -1, -Infinity, Infinity, NaN, 1, 2, 0.5, Math.SQRT2, Math.SQRT1_2, Number.MIN_VALUE,
      2 ** -1022, 2 ** -1022 - Number.MIN_VALUE, Number.MAX_VALUE, 1 + 2 ** -52, 1 - 2 ** -53, 1 + 2 ** -20, 1 - 2 ** -20];
    const y = Float64Array.from([...x, ...edge]);
    const want = y.map(Math.log);
    native()!.logInPlace(y);
    expectIdentical(y, want);
  });
});

const accelerated = [
  ['wasm', process.env.PHENOMAP_NO_WASM === '1'],
  ['native', !nativeAvailable || process.env.PHENOMAP_NO_NATIVE === '1'],
] as const;

for (const [name, skip] of accelerated) describe.skipIf(skip)(`${name} kernels = pure-JS kernels, bit for bit`, () => {
  let quick!: Linalg, slow!: Linalg;
  beforeAll(() => {
    quick = instances[name]!;
    slow = instances.js!;
  });
  it.each([
    [5, 7, 33], [66, 130, 67], [129, 3, 70], [342, 342, 454],
    [37, 41, 4100], // k split into two chunks (> 4096)
    [60, 600, 4100], // native: B in three column blocks (2²⁰ / k columns each)
    [2100, 9, 12], // rows and columns cross the 2048 tile boundary
    [520, 430, 454], // above the worker-thread threshold (1e8 multiply-adds)
    [60, 3000, 700], // native: a short A and a long B are swapped (Cᵀ = B·Aᵀ), threaded
    [256, 257, 64], [257, 300, 64], [40, 300, 63], // at the swap's limits (m ≤ 256, k ≥ 64) and past them
  ])('gemmNT, gemm, gemmTN (%i×%i, k=%i)', (m, n, k) => {
    const A = randomMatrix(m, k, m + k), B = randomMatrix(n, k, n + 2 * k);
    expectIdentical(quick.gemmNT(A, B).data, slow.gemmNT(A, B).data);
    const Bt = quick.transpose(B);
    expectIdentical(quick.gemm(A, Bt).data, slow.gemm(A, Bt).data);
    const At = quick.transpose(A);
    expectIdentical(quick.gemmTN(At, Bt).data, slow.gemmTN(At, Bt).data);
  });

  it.each([[3, 5], [61, 454], [342, 454], [2061, 20], [30, 4500]])('tcrossprod, crossprod, squaredDistances (%i×%i)', (m, k) => {
    const X = randomMatrix(m, k, 7 * m + k);
    const T = quick.tcrossprod(X);
    expectIdentical(T.data, slow.tcrossprod(X).data);
    // Symmetric to the bit: the mirrored triangle, and diagonal-tile blocks computed both ways.
    let asym = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) if (!Object.is(T.data[i * m + j], T.data[j * m + i])) asym++;
    expect(asym).toBe(0);
    expectIdentical(quick.crossprod(X).data, slow.crossprod(X).data);
    expectIdentical(quick.squaredDistances(X).data, slow.squaredDistances(X).data);
  });

  it('symmetric products and distances whose packed rows span several column blocks (260×4500)', () => {
    const X = randomMatrix(260, 4500, 17); // native: 2²⁰ / 4500 → blocks of 232 columns
    expectIdentical(quick.tcrossprod(X).data, slow.tcrossprod(X).data);
    expectIdentical(quick.squaredDistances(X).data, slow.squaredDistances(X).data);
  });

  it.each([24, 25, 57, 454])('cholesky (n=%i) and its failure report', (n) => {
    const X = randomMatrix(n + 10, n, n);
    const A = quick.crossprod(X);
    const L = quick.cholesky(A);
    expectIdentical(L.data, slow.cholesky(A).data);
    const LLt = quick.tcrossprod(L);
    let worst = 0;
    for (let i = 0; i < A.data.length; i++) worst = Math.max(worst, Math.abs(LLt.data[i]! - A.data[i]!));
    expect(worst).toBeLessThan(1e-9 * n);
    // Break positive definiteness at a known pivot: both paths report the same pivot and value.
    const B = quick.clone(A);
    const p = n - 3;
    B.data[p * n + p] = -1;
    const fail = (lib: Linalg) => {
      try {
        lib.cholesky(B);
      } catch (e) {
        return e as InstanceType<Linalg['NotPositiveDefiniteError']>;
      }
      throw new Error('no error');
    };
    const ef = fail(quick), es = fail(slow);
    expect(ef).toBeInstanceOf(quick.NotPositiveDefiniteError);
    expect(ef.pivot).toBe(p);
    expect(es.pivot).toBe(p);
    expect(Object.is(ef.value, es.value)).toBe(true);
  });

  it.each([[150, 10], [150, 150], [333, 50], [64, 64]])('symmetricEigen (n=%i, k=%i)', (n, k) => {
    const A = quick.tcrossprod(randomMatrix(n, n + 3, n + k));
    const ef = quick.symmetricEigen(A, { k }), es = slow.symmetricEigen(A, { k });
    expectIdentical(ef.values, es.values);
    expectIdentical(ef.vectors.data, es.vectors.data);
  });

  it.each([[384, 517], [97, 61]])('one-pass column means and centred sum of squares (%i × %i), float64 and float32 storage', (n, d) => {
    const X = randomMatrix(n, d, 3 * n + d);
    for (let i = 0; i < n; i++) X.data[i * d + 3] = 1e6 + i; // |mean| ≫ std: Welford's update keeps the digits
    for (const M of [X, { rows: n, cols: d, data: Float32Array.from(X.data) }]) {
      const f = quick.columnMeanM2(M), s = slow.columnMeanM2(M);
      expectIdentical(f.mean, s.mean);
      expect(Object.is(f.sumSquares, s.sumSquares)).toBe(true);
      // The two-pass moments (shifted by the first-pass mean) agree to rounding.
      const m = slow.columnMoments(M);
      let ss = 0;
      for (let j = 0; j < d; j++) {
        expect(Math.abs(f.mean[j]! - (m.mean0[j]! + m.res[j]! / n))).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(m.mean0[j]!)));
        ss += m.ss[j]! - (m.res[j]! * m.res[j]!) / n;
      }
      expect(Math.abs(f.sumSquares - ss)).toBeLessThan(1e-11 * ss);
    }
    X.data[5 * d + 4] = NaN;
    expect(Number.isFinite(quick.columnMeanM2(X).sumSquares)).toBe(false);
    expect(Number.isFinite(slow.columnMeanM2(X).sumSquares)).toBe(false);
  });

  it.each([[342, 454], [97, 61], [64, 64]])('z-score column passes (%i × %i; odd widths take the scalar tail)', (n, d) => {
    const X = randomMatrix(n, d, n * d);
    for (let i = 0; i < n; i++) {
      X.data[i * d + 2] = 7; // a constant column
      X.data[i * d + 3] = 1e6 + i; // |mean| ≫ std
    }
    X.data[5 * d + 4] = NaN;
    for (const M of [X, { rows: n, cols: d, data: Float32Array.from(X.data) }]) {
      const mf = quick.columnMoments(M), ms = slow.columnMoments(M);
      expect(Array.from(mf.varies)).toEqual(Array.from(ms.varies));
      expect(mf.varies[2]).toBe(0);
      for (const key of ['sum', 'mean0', 'res', 'ss'] as const) expectIdentical(mf[key], ms[key]);
      const kept = Int32Array.from({ length: d }, (_, j) => j);
      const mean = mf.mean0, std = Float64Array.from(mf.ss, (v) => Math.sqrt(v / n) || 1);
      const zf = new Float64Array(n * d), zs = new Float64Array(n * d);
      quick.standardizeColumns(M, kept, mean, std, zf);
      slow.standardizeColumns(M, kept, mean, std, zs);
      expectIdentical(zf, zs);
      if (M.data instanceof Float32Array) {
        // Float32 in, float32 out (the --float32 tables' z-score): the double quotient rounded once.
        const f = new Float32Array(n * d), s = new Float32Array(n * d);
        quick.standardizeColumns(M, kept, mean, std, f);
        slow.standardizeColumns(M, kept, mean, std, s);
        expectIdentical(Float64Array.from(f), Float64Array.from(s));
        expect(f[7 * d + 9]).toBe(Math.fround(zs[7 * d + 9]!));
      }
    }
  });

  it('float32 operands, transposed storage, and sizes off the 4×8 tile grid', () => {
    for (const [m, n, k] of [[33, 17, 300], [5, 342, 454], [301, 299, 513]] as const) {
      const A = randomMatrix(m, k, m), B = randomMatrix(n, k, n + 1);
      const A32 = { ...A, data: Float32Array.from(A.data) }, B32 = { ...B, data: Float32Array.from(B.data) };
      expectIdentical(quick.gemmNT(A32, B32).data, slow.gemmNT(A32, B32).data);
      expectIdentical(quick.gemmNT(A32, B).data, slow.gemmNT(A32, B).data);
      expectIdentical(quick.tcrossprod(A32).data, slow.tcrossprod(A32).data);
      expectIdentical(quick.crossprod(B32).data, slow.crossprod(B32).data);
    }
  });

  it('float32-arithmetic products (range finder): shifts, transposed B, float32 storage, the short-A swap, k chunks', () => {
    // [m, n, k]: off the tile grid; a short A with k ≥ 64 (native computes Cᵀ); k over one 1,024-step
    // chunk; n over one packed column block (2²¹ / min(k, 1,024) columns natively), threads, a tall A.
    for (const [m, n, k] of [[33, 17, 300], [5, 342, 454], [60, 700, 1100], [40, 40, 40000], [24, 2100, 2500], [290, 70, 700]] as const) {
      const A = randomMatrix(m, k, m + 7), B = randomMatrix(n, k, n + 8);
      const shiftA = Float64Array.from({ length: k }, (_, j) => 0.1 * j - 3);
      const shiftB = Float64Array.from({ length: k }, (_, j) => 1000 + j); // |mean| ≫ spread
      for (let i = 0; i < B.data.length; i++) B.data[i] += shiftB[i % k]!;
      const B32 = { ...B, data: Float32Array.from(B.data) };
      const got = quick.gemmNTRounded(A, B, { shiftA, shiftB });
      expectIdentical(got.data, slow.gemmNTRounded(A, B, { shiftA, shiftB }).data);
      if (k > 10000) continue; // the column-block case: the rest is covered by the smaller shapes
      expectIdentical(quick.gemmNTRounded(A, B32, { shiftB }).data, slow.gemmNTRounded(A, B32, { shiftB }).data);
      expectIdentical(quick.gemmNTRounded(B, A).data, slow.gemmNTRounded(B, A).data);
      // A·B with B stored k × n (transposed storage); its shift runs along B's stored columns.
      const Bt = quick.transpose(A); // k × m
      const G = randomMatrix(n, k, 3);
      const shiftBt = Float64Array.from({ length: m }, (_, j) => j / 7);
      expectIdentical(quick.gemmRounded(G, Bt, { shiftB: shiftBt }).data, slow.gemmRounded(G, Bt, { shiftB: shiftBt }).data);
      const Bt32 = { ...Bt, data: Float32Array.from(Bt.data) };
      expectIdentical(quick.gemmRounded(G, Bt32, { shiftB: shiftBt }).data, slow.gemmRounded(G, Bt32, { shiftB: shiftBt }).data);
      expectIdentical(quick.gemmRounded(G, Bt32).data, slow.gemmRounded(G, Bt32).data);
      // Every entry is a float32 and close to the float64 product of the centred operands.
      const Ac = quick.zeros(m, k), Bc = quick.zeros(n, k);
      for (let i = 0; i < m * k; i++) Ac.data[i] = A.data[i]! - shiftA[i % k]!;
      for (let i = 0; i < n * k; i++) Bc.data[i] = B.data[i]! - shiftB[i % k]!;
      const exact = slow.gemmNT(Ac, Bc);
      const scale = slow.gemmNT({ ...Ac, data: Ac.data.map(Math.abs) }, { ...Bc, data: Bc.data.map(Math.abs) });
      let worst = 0;
      for (let i = 0; i < exact.data.length; i++) {
        expect(Math.fround(got.data[i]!)).toBe(got.data[i]);
        worst = Math.max(worst, Math.abs(got.data[i]! - exact.data[i]!) / scale.data[i]!);
      }
      expect(worst).toBeLessThan((k + 2) * 2 ** -24); // the textbook bound of a float32 dot product
    }
  });

  it('the symmetric float32 Gram product (PCA’s Gram solver): = the full float32 product, threads, column blocks, float32 storage', () => {
    // [n, k]: off the tile grid; over one 1,024-step chunk; n over one packed column block
    // (2²¹ / k rows natively: 384 × 5,792 is PCA's case); threads; a |mean| ≫ spread shift.
    for (const [n, k] of [[33, 300], [97, 1100], [384, 5792], [130, 40000]] as const) {
      const X = randomMatrix(n, k, n + k);
      const shift = Float64Array.from({ length: k }, (_, j) => 1000 + j);
      for (let i = 0; i < X.data.length; i++) X.data[i] += shift[i % k]!;
      const got = quick.tcrossprodRounded(X, shift);
      if (n * k < 1e6) expectIdentical(got.data, slow.tcrossprodRounded(X, shift).data);
      expectIdentical(got.data, quick.gemmNTRounded(X, X, { shiftA: shift, shiftB: shift }).data);
      if (n * k > 1e6) continue;
      const X32 = { ...X, data: Float32Array.from(X.data) };
      expectIdentical(quick.tcrossprodRounded(X32, shift).data, slow.tcrossprodRounded(X32, shift).data);
      expectIdentical(quick.tcrossprodRounded(X).data, slow.tcrossprodRounded(X).data);
    }
    const X = randomMatrix(200, 700, 4);
    const two = runLinalgScript(`const X = zeros(200, 700); new Rng(4).fillNormal(X.data);
      process.stdout.write(JSON.stringify(Array.from(L.tcrossprodRounded(X).data)));`, { PHENOMAP_THREADS: '2' });
    expect(two.status).toBe(0);
    expectIdentical(Float64Array.from(JSON.parse(two.stdout) as number[]), slow.tcrossprodRounded(X).data);
  });

  it('squared distances with non-finite and duplicate rows clip and zero exactly as JS', () => {
    const X = randomMatrix(70, 40, 3);
    X.data[5 * 40 + 1] = NaN;
    X.data[9 * 40 + 2] = Infinity;
    X.data.copyWithin(20 * 40, 21 * 40, 22 * 40); // rows 20 and 21 equal: distance exactly 0
    expectIdentical(quick.squaredDistances(X).data, slow.squaredDistances(X).data);
  });

  it('standardizeColumns compacting kept columns in place', () => {
    const n = 90, d = 51;
    const X = randomMatrix(n, d, 8);
    const kept = Int32Array.from([0, 2, 3, 10, 11, 12, 40, 50]);
    const mean = Float64Array.from(kept, (j) => j / 10), std = Float64Array.from(kept, (j) => 1 + j / 7);
    const a = X.data.slice(), b = X.data.slice();
    quick.standardizeColumns({ rows: n, cols: d, data: a }, kept, mean, std, a);
    slow.standardizeColumns({ rows: n, cols: d, data: b }, kept, mean, std, b);
    expectIdentical(a.subarray(0, n * kept.length), b.subarray(0, n * kept.length));
    const a32 = Float32Array.from(X.data), b32 = Float32Array.from(X.data);
    quick.standardizeColumns({ rows: n, cols: d, data: a32 }, kept, mean, std, a32);
    slow.standardizeColumns({ rows: n, cols: d, data: b32 }, kept, mean, std, b32);
    expectIdentical(Float64Array.from(a32.subarray(0, n * kept.length)), Float64Array.from(b32.subarray(0, n * kept.length)));
    const all = Int32Array.from({ length: d }, (_, j) => j);
    const meanAll = Float64Array.from(all, (j) => j / 10), stdAll = Float64Array.from(all, (j) => 1 + j / 7);
    const c32 = Float32Array.from(X.data), e32 = Float32Array.from(X.data);
    quick.standardizeColumns({ rows: n, cols: d, data: c32 }, all, meanAll, stdAll, c32);
    slow.standardizeColumns({ rows: n, cols: d, data: e32 }, all, meanAll, stdAll, e32);
    expectIdentical(Float64Array.from(c32), Float64Array.from(e32));
  });

  it.each([[97, 130, 20], [130, 97, 20], [342, 454, 50]])('columnMeans and the centred thin SVD behind PCA (%i×%i, k=%i)', (m, n, k) => {
    const X = randomMatrix(m, n, m + n);
    for (let i = 0; i < m; i++) X.data[i * n + 1] = 1e4 + X.data[i * n + 1]!; // |mean| ≫ std
    const mf = quick.columnMeans(X), ms = slow.columnMeans(X);
    expectIdentical(mf, ms);
    const a = quick.thinSvdCentered(X, mf, k), b = slow.thinSvdCentered(X, ms, k);
    expect(Object.is(a.sumSquares, b.sumSquares)).toBe(true);
    expectIdentical(a.s, b.s);
    expectIdentical(a.U.data, b.U.data);
    expectIdentical(a.Vt.data, b.Vt.data);
  });

  // The last row zero: the first reflector is skipped. Rows zero in the middle: reflectors skipped
  // after a step whose rank-2 update the native path fuses with the next step's product.
  it.each([[[79]], [[40]], [[40, 41, 70]], [[1, 2]]])('symmetricEigen on a rank-deficient matrix with skipped reflectors (zero rows %j)', (zeroRows) => {
    const n = 80;
    const X = randomMatrix(n, 20, 5);
    for (const r of zeroRows) for (let j = 0; j < 20; j++) X.data[r * 20 + j] = 0;
    const A = quick.tcrossprod(X);
    for (const k of [n, 5]) {
      const ef = quick.symmetricEigen(A, { k }), es = slow.symmetricEigen(A, { k });
      expectIdentical(ef.values, es.values);
      expectIdentical(ef.vectors.data, es.vectors.data);
    }
  });
});

describe.skipIf(process.env.PHENOMAP_NO_WASM === '1')('worker threads for big products', () => {
  it('a process that ran a threaded product exits by itself, with the single-thread result', async () => {
    const { parallelThreads } = await import('../../src/linalg/wasm/threads.js');
    // 700² × 454 ≈ 2.2e8 and 700 × 330 × 454 ≈ 1.05e8 multiply-adds: above the threading threshold.
    const run = (threads: string) => runLinalgScript(`
      const X = zeros(700, 454); new Rng(11).fillNormal(X.data);
      const Y = zeros(330, 454); new Rng(12).fillNormal(Y.data);
      const T = tcrossprod(X), G = gemmNT(X, Y);
      let h = 0; for (const v of T.data) h = (h * 31 + v) % 1e9; for (const v of G.data) h = (h * 31 + v) % 1e9;
      console.log(String(h));`, { PHENOMAP_THREADS: threads });
    const multi = run('2'), single = run('1');
    expect(multi.status).toBe(0); // not killed by the timeout: unref'd workers did not hold it open
    expect(single.status).toBe(0);
    expect(multi.stdout.trim()).toBe(single.stdout.trim());
    expect(multi.stdout.trim()).toMatch(/^\d/);
    expect(parallelThreads()).toBeGreaterThanOrEqual(1);
  });
});
