/**
 * Dense matrix products on row-major Float64Array — the kernels everything else calls.
 *
 * All products funnel into one register-blocked kernel, C = A·Bᵀ ("NT"): in row-major storage both
 * operands are then read along contiguous rows, and a 4×4 block of C reuses each loaded value four
 * times. B is walked in panels that fit in L2 so its rows stay cached while A streams past.
 * Other shapes (A·B, Aᵀ·B, XᵀX) call the same kernel on transposed operands: the wasm path packs
 * them straight from their storage; the pure-JS path transposes once (O(n²)).
 *
 * The wasm path (wasm/kernels.wat, `nt_tile`) packs A and B into 4-row panels and runs an f64x2
 * 4×4 micro-kernel; every C entry is still the sequential sum over p, so both paths are
 * bit-identical. The native addon (native.ts), when built, takes precedence: the same per-entry
 * sums from an 8×8 AVX-512 (or 4×8 AVX2) micro-kernel on the caller's arrays, large products split
 * over a parked pool of POSIX threads, symmetric ones written mirrored as each tile finishes. PHENOMAP_NO_NATIVE=1 / PHENOMAP_NO_WASM=1 turn those paths off; PHENOMAP_THREADS=n lets
 * large products use n threads (wasm/threads.ts's threadCount).
 */
import { type FeatureArray, type Matrix, type StoredMatrix, zeros, transpose } from './matrix.js';
import { wasm, wasmF64, wasmReserve } from './wasm/runtime.js';
import { ntTileParallel, parallelThreads, threadCount } from './wasm/threads.js';
import { native } from './native.js';

const PANEL = 64; // rows of B per panel: 64 × d × 8 bytes stays in L2 for d up to a few thousand

/** Below this many multiply-adds the packing and call overhead of the wasm path is not worth it. */
const WASM_MIN_WORK = 32 * 32 * 32;
/** In-wasm k slice (a 4×KC micro-panel of A, 8 KB, stays in L1) and B panel width in 4-column blocks. */
const WASM_KC = 256;
const WASM_PB = 32;
/**
 * Products with at least this many multiply-adds are split across worker threads (~1.5 ms of work:
 * a pooled worker answers in ~0.1 ms, so even the 342-profile Gram matrix gains 2.4× on 2 cores).
 */
const PARALLEL_MIN_WORK = 1e7;

/** Threads a native product of `work` multiply-adds is split over (1 below PARALLEL_MIN_WORK). */
export function nativeThreads(work: number): number {
  return work >= PARALLEL_MIN_WORK ? threadCount() : 1;
}

function checkInner(a: number, b: number, what: string): void {
  if (a !== b) throw new RangeError(`${what}: inner dimensions differ (${a} vs ${b})`);
}

/**
 * C[i0..i1, j0..j1] = A[i]·B[j] over k. Shared by gemmNT and the symmetric variant.
 * `symmetric` computes only j ≥ i blocks (the caller mirrors).
 */
function ntKernel(
  a: FeatureArray, b: FeatureArray, c: Float64Array,
  m: number, n: number, k: number, ldc: number, symmetric: boolean,
  iStart = 0, iEnd = m,
): void {
  for (let jp = 0; jp < n; jp += PANEL) {
    const jpEnd = Math.min(n, jp + PANEL);
    let i = iStart;
    for (; i + 3 < iEnd; i += 4) {
      if (symmetric && jpEnd <= i) continue;
      const a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
      let j = symmetric ? Math.max(jp, i - (i % 4)) : jp;
      for (; j + 3 < jpEnd; j += 4) {
        const b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let p = 0; p < k; p++) {
          const x0 = a[a0 + p]!, x1 = a[a1 + p]!, x2 = a[a2 + p]!, x3 = a[a3 + p]!;
          const y0 = b[b0 + p]!, y1 = b[b1 + p]!, y2 = b[b2 + p]!, y3 = b[b3 + p]!;
          c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
          c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
          c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
          c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
        }
        let o = i * ldc + j;
        c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; o += ldc;
        c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13; o += ldc;
        c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23; o += ldc;
        c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33;
      }
      for (; j < jpEnd; j++) {
        const b0 = j * k;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let p = 0; p < k; p++) {
          const y = b[b0 + p]!;
          s0 += a[a0 + p]! * y; s1 += a[a1 + p]! * y; s2 += a[a2 + p]! * y; s3 += a[a3 + p]! * y;
        }
        c[i * ldc + j] = s0; c[(i + 1) * ldc + j] = s1; c[(i + 2) * ldc + j] = s2; c[(i + 3) * ldc + j] = s3;
      }
    }
    for (; i < iEnd; i++) {
      const a0 = i * k;
      for (let j = symmetric ? Math.max(jp, i) : jp; j < jpEnd; j++) {
        const b0 = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[a0 + p]! * b[b0 + p]!;
        c[i * ldc + j] = s;
      }
    }
  }
}

/**
 * Copy rows [r0, r1) × columns [p0, p0 + kl) of the logical operand into the packed layout of the
 * wasm micro-kernel: blocks of 4 rows, each kl steps of 4 consecutive doubles (row r of the block
 * at step p → dst[off + 4p + r]); rows past r1 are zero padding. The operand is row-major `src`
 * with rows of length ld, or, when `trans`, stored transposed (element (row, p) at src[p·ld + row],
 * ld = its number of logical rows) — then a packed step is 4 contiguous values and A·B or Aᵀ·B
 * need no transposed copy.
 */
function packRows(
  src: FeatureArray, ld: number, trans: boolean, r0: number, r1: number, p0: number, kl: number,
  dst: Float64Array, off: number,
): void {
  const blocks = (r1 - r0 + 3) >> 2;
  for (let blk = 0; blk < blocks; blk++) {
    const base = off + blk * kl * 4;
    const rb = r0 + blk * 4, valid = Math.min(4, r1 - rb);
    if (trans) {
      let o = base, srow = p0 * ld + rb;
      if (valid === 4) {
        for (let p = 0; p < kl; p++, o += 4, srow += ld) {
          dst[o] = src[srow]!; dst[o + 1] = src[srow + 1]!; dst[o + 2] = src[srow + 2]!; dst[o + 3] = src[srow + 3]!;
        }
      } else {
        for (let p = 0; p < kl; p++, o += 4, srow += ld) {
          for (let r = 0; r < 4; r++) dst[o + r] = r < valid ? src[srow + r]! : 0;
        }
      }
      continue;
    }
    for (let r = 0; r < 4; r++) {
      let o = base + r;
      if (r < valid) {
        const s = (rb + r) * ld + p0;
        for (let p = 0; p < kl; p++, o += 4) dst[o] = src[s + p]!;
      } else {
        for (let p = 0; p < kl; p++, o += 4) dst[o] = 0;
      }
    }
  }
}

/**
 * The wasm path of ntKernel (full rows, iStart = 0, iEnd = m). C is computed in tiles of at most
 * MC×NC with k in chunks of at most KCH, so the wasm memory stays under ~64 MB whatever the
 * operand sizes: packed A chunk ≤ 2²¹ doubles, packed B chunk ≤ 2²¹, C tile ≤ 2²² (+ padding).
 * Each entry is still summed over p = 0…k−1 in order, as in ntKernel. Returns false (nothing
 * written) when the memory cannot be grown.
 */
function ntWasm(
  a: FeatureArray, b: FeatureArray, c: Float64Array,
  m: number, n: number, k: number, ldc: number, symmetric: boolean, aT: boolean, bT: boolean,
): boolean {
  const W = wasm!;
  const floor4 = (x: number) => Math.max(64, Math.floor(x / 4) * 4);
  const kch = Math.min(k, 4096);
  const n4 = (n + 3) & ~3, m4 = (m + 3) & ~3;
  const nc = Math.min(n4, 2048, floor4(2 ** 21 / kch));
  // Symmetric: equal row and column tiles, so diagonal tiles pack one operand and skip j < i blocks.
  const mc = symmetric ? nc : Math.min(m4, floor4(2 ** 22 / nc), floor4(2 ** 21 / kch));
  const apOff = 0, bpOff = mc * kch, cpOff = bpOff + nc * kch;
  if (!wasmReserve((cpOff + mc * nc) * 8)) return false;
  const mem = wasmF64();
  const singleK = kch === k;
  const threads = m * n * k >= PARALLEL_MIN_WORK ? parallelThreads() : 1;
  for (let j0 = 0; j0 < n; j0 += nc) {
    const j1 = Math.min(n, j0 + nc), jn = j1 - j0, nb = (jn + 3) >> 2, ldt = nb * 4;
    let bPacked = false;
    for (let i0 = 0; i0 < m; i0 += mc) {
      if (symmetric && i0 > j0) break; // tiles below the diagonal are mirrored by the caller
      const i1 = Math.min(m, i0 + mc), mb = (i1 - i0 + 3) >> 2;
      const diag = symmetric && i0 === j0;
      for (let p0 = 0; p0 < k; p0 += kch) {
        const kl = Math.min(kch, k - p0);
        if (!(singleK && bPacked)) {
          packRows(b, bT ? n : k, bT, j0, j1, p0, kl, mem, bpOff);
          bPacked = true;
        }
        if (!diag) packRows(a, aT ? m : k, aT, i0, i1, p0, kl, mem, apOff);
        const ap = (diag ? bpOff : apOff) * 8;
        const acc = p0 > 0 ? 1 : 0; // the first k chunk overwrites the tile: no zero fill needed
        if (threads > 1) {
          ntTileParallel(mb, ap, bpOff * 8, cpOff * 8, nb, kl, ldt, diag ? 1 : 0, WASM_KC, WASM_PB, acc);
        } else {
          W.nt_tile(ap, bpOff * 8, cpOff * 8, 0, mb, nb, kl, ldt, diag ? 1 : 0, WASM_KC, WASM_PB, acc);
        }
      }
      // Diagonal tiles: only j ≥ i (4×4 blocks left of the diagonal were not computed and hold
      // stale memory); the caller mirrors the lower triangle.
      for (let i = i0; i < i1; i++) {
        const from = diag ? i - i0 : 0;
        const src = cpOff + (i - i0) * ldt;
        c.set(mem.subarray(src + from, src + jn), i * ldc + j0 + from);
      }
    }
  }
  return true;
}

/**
 * The native kernel packs all of B (column blocks of 2²⁰ / k rows, up to 8 MB, in L3) and A in
 * L2-sized blocks. With a short A and a long B — a 60-row Krylov block times a 7,360 × 5,792 table,
 * PCA's products — the long operand is better packed as A: measured on one core, 10.2 → 13.3
 * GMAC/s for block · tableᵀ and 11.6 → 15.1 for block · table (OpenBLAS: 16.2–16.5). The swap
 * costs a transpose of C and a scratch of C's size, so it is taken only for short results
 * (m ≤ SWAP_MAX_ROWS) with enough work per entry (k ≥ SWAP_MIN_K).
 */
const SWAP_MAX_ROWS = 256;
const SWAP_MIN_K = 64;
/** Kept between calls up to this many values (32 MB): fresh pages cost ≈ 13 µs each on this VM. */
const SWAP_SCRATCH_MAX = 1 << 22;
let swapBuffer: Float64Array | null = null;

function swapPays(m: number, n: number, k: number): boolean {
  return m < n && m <= SWAP_MAX_ROWS && k >= SWAP_MIN_K;
}

function swapScratch(len: number): Float64Array {
  if (len > SWAP_SCRATCH_MAX) return new Float64Array(len);
  if (!swapBuffer || swapBuffer.length < len) swapBuffer = new Float64Array(Math.max(len, 1 << 16));
  return swapBuffer.subarray(0, len);
}

/** c[i·ldc + j] = t[j·m + i] for the n × m row-major t, in 32 × 32 tiles. */
function transposeInto(t: Float64Array, n: number, m: number, c: Float64Array, ldc: number): void {
  const T = 32;
  for (let j0 = 0; j0 < n; j0 += T) {
    const j1 = Math.min(n, j0 + T);
    for (let i0 = 0; i0 < m; i0 += T) {
      const i1 = Math.min(m, i0 + T);
      for (let i = i0; i < i1; i++) {
        const ro = i * ldc;
        for (let j = j0; j < j1; j++) c[ro + j] = t[j * m + i]!;
      }
    }
  }
}

/**
 * C = A·Bᵀ through the native or wasm kernel when available and worthwhile, else the JS kernel. aT / bT:
 * the operand is stored transposed (A as k×m, B as k×n); the JS kernel then gets transposed
 * copies, the wasm path packs straight from the transposed storage. Same values, same order.
 */
function ntProduct(
  a: FeatureArray, b: FeatureArray, c: Float64Array,
  m: number, n: number, k: number, ldc: number, symmetric: boolean, aT = false, bT = false,
): void {
  if (m * n * k >= WASM_MIN_WORK) {
    const nat = native();
    if (nat && !symmetric && swapPays(m, n, k)) {
      // Cᵀ = B·Aᵀ, then transposed into C: every entry is the same products (x·y = y·x exactly)
      // summed in the same p order, so C is bit for bit what the direct call gives.
      const t = swapScratch(m * n);
      if (nat.nt(b, a, t, n, m, k, m, 0, bT ? 1 : 0, aT ? 1 : 0, nativeThreads(m * n * k))) {
        transposeInto(t, n, m, c, ldc);
        return;
      }
    }
    if (nat && nat.nt(a, b, c, m, n, k, ldc, symmetric ? 1 : 0, aT ? 1 : 0, bT ? 1 : 0, nativeThreads(m * n * k))) return;
  }
  if (wasm && m * n * k >= WASM_MIN_WORK && ntWasm(a, b, c, m, n, k, ldc, symmetric, aT, bT)) return;
  const a2 = aT ? transpose({ rows: k, cols: m, data: a }).data : a;
  const b2 = bT ? (symmetric && b === a ? a2 : transpose({ rows: k, cols: n, data: b }).data) : b;
  ntKernel(a2, b2, c, m, n, k, ldc, symmetric);
}

/** C = A·Bᵀ (A: m×k, B: n×k). Operands may be float32 storage; C is float64. */
export function gemmNT(A: StoredMatrix, B: StoredMatrix, out?: Matrix): Matrix {
  checkInner(A.cols, B.cols, 'gemmNT');
  const C = out ?? zeros(A.rows, B.rows);
  ntProduct(A.data, B.data, C.data, A.rows, B.rows, A.cols, B.rows, false);
  return C;
}

/** C = A·B (A: m×k, B: k×n). */
export function gemm(A: StoredMatrix, B: StoredMatrix, out?: Matrix): Matrix {
  checkInner(A.cols, B.rows, 'gemm');
  const C = out ?? zeros(A.rows, B.cols);
  ntProduct(A.data, B.data, C.data, A.rows, B.cols, A.cols, B.cols, false, false, true);
  return C;
}

/** C = Aᵀ·B (A: k×m, B: k×n). */
export function gemmTN(A: StoredMatrix, B: StoredMatrix, out?: Matrix): Matrix {
  checkInner(A.rows, B.rows, 'gemmTN');
  const C = out ?? zeros(A.cols, B.cols);
  ntProduct(A.data, B.data, C.data, A.cols, B.cols, A.rows, B.cols, false, true, true);
  return C;
}

/**
 * Float32 products, for steps that need only a subspace (the randomized PCA's range finder): on
 * AVX-512 a register holds 16 floats instead of 8 doubles, so a product costs about half. Every
 * operand value is rounded to float32 after subtracting `shift` (indexed by the operand's stored
 * column — a column-mean vector centres the operand on the fly, without the cancellation of a
 * rank-one correction afterwards), every product and partial sum is rounded to float32, and each
 * entry is the sum over p in p order from +0; C holds those float32 values as doubles. The native
 * kernel does exactly these operations with float vectors, so the result does not depend on the
 * backend. (The wasm backend has no float32 kernel: without the native addon these products run
 * here, in JavaScript.)
 */
export interface RoundedOperands {
  /** Subtracted from A's stored columns before rounding (length: A's stored column count). */
  shiftA?: Float64Array;
  /** Subtracted from B's stored columns before rounding. */
  shiftB?: Float64Array;
}

/** (x − shift[col]) rounded to float32, as a row-major Float32Array of the logical rows × k (transposed storage read as such). */
function roundedRows(x: FeatureArray, rows: number, k: number, trans: boolean, shift: Float64Array | undefined): Float32Array {
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < k; p++) {
      const v = trans ? x[p * rows + r]! : x[r * k + p]!;
      out[r * k + p] = shift ? v - shift[trans ? r : p]! : v;
    }
  }
  return out;
}

/** The JavaScript twin of the native float32 product: C[i·ldc + j] = Σₚ a[i][p]·b[j][p] in float32, p in order. */
function ntKernelF32(a: Float32Array, b: Float32Array, c: Float64Array, m: number, n: number, k: number, ldc: number): void {
  const f = Math.fround;
  for (let i = 0; i < m; i++) {
    const a0 = i * k;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      const b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const x = a[a0 + p]!;
        s0 = f(s0 + f(x * b[b0 + p]!));
        s1 = f(s1 + f(x * b[b1 + p]!));
        s2 = f(s2 + f(x * b[b2 + p]!));
        s3 = f(s3 + f(x * b[b3 + p]!));
      }
      const o = i * ldc + j;
      c[o] = s0; c[o + 1] = s1; c[o + 2] = s2; c[o + 3] = s3;
    }
    for (; j < n; j++) {
      const b0 = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s = f(s + f(a[a0 + p]! * b[b0 + p]!));
      c[i * ldc + j] = s;
    }
  }
}

function ntProductF32(
  a: FeatureArray, b: FeatureArray, c: Float64Array, m: number, n: number, k: number, ldc: number,
  aT: boolean, bT: boolean, shiftA: Float64Array | undefined, shiftB: Float64Array | undefined,
): void {
  const nat = native();
  if (nat && m * n * k >= WASM_MIN_WORK) {
    const threads = nativeThreads(m * n * k);
    // A short A is better packed as the long operand: Cᵀ = B·Aᵀ, the same float32 products
    // (x·y = y·x exactly) summed in the same p order, written back transposed by the kernel.
    if (swapPays(m, n, k) && nat.ntF32(b, a, c, n, m, k, ldc, bT ? 1 : 0, aT ? 1 : 0, threads, shiftB ?? null, shiftA ?? null, 1)) return;
    if (nat.ntF32(a, b, c, m, n, k, ldc, aT ? 1 : 0, bT ? 1 : 0, threads, shiftA ?? null, shiftB ?? null, 0)) return;
  }
  ntKernelF32(roundedRows(a, m, k, aT, shiftA), roundedRows(b, n, k, bT, shiftB), c, m, n, k, ldc);
}

function checkShift(s: Float64Array | undefined, len: number, what: string): void {
  if (s && s.length !== len) throw new RangeError(`${what}: shift has ${s.length} values, the operand ${len} columns`);
}

/** The two rounded products: B stored n × k (`bT` false: A·Bᵀ) or k × n (`bT`: A·B). */
function roundedProduct(what: string, A: StoredMatrix, B: StoredMatrix, opts: RoundedOperands, out: Matrix | undefined, bT: boolean): Matrix {
  checkInner(A.cols, bT ? B.rows : B.cols, what);
  checkShift(opts.shiftA, A.cols, what);
  checkShift(opts.shiftB, B.cols, what);
  const n = bT ? B.cols : B.rows;
  const C = out ?? zeros(A.rows, n);
  ntProductF32(A.data, B.data, C.data, A.rows, n, A.cols, n, false, bT, opts.shiftA, opts.shiftB);
  return C;
}

/** C = (A − 1·shiftAᵀ)·(B − 1·shiftBᵀ)ᵀ in float32 arithmetic (see RoundedOperands); A: m×k, B: n×k. */
export function gemmNTRounded(A: StoredMatrix, B: StoredMatrix, opts: RoundedOperands = {}, out?: Matrix): Matrix {
  return roundedProduct('gemmNTRounded', A, B, opts, out, false);
}

/** C = (A − 1·shiftAᵀ)·(B − 1·shiftBᵀ) in float32 arithmetic; A: m×k, B: k×n. */
export function gemmRounded(A: StoredMatrix, B: StoredMatrix, opts: RoundedOperands = {}, out?: Matrix): Matrix {
  return roundedProduct('gemmRounded', A, B, opts, out, true);
}

/**
 * (X − 1·shiftᵀ)·(X − 1·shiftᵀ)ᵀ in float32 arithmetic (see RoundedOperands): the Gram matrix of
 * the float32 Gram PCA solver (linalg/svd.ts). Natively only the tiles on and above the diagonal
 * are computed and each is written mirrored too; every entry is the value the full product
 * gemmNTRounded(X, X, {shiftA: shift, shiftB: shift}) gives (float32 products commute, sums run
 * in the same p order). `out` (rows × rows) is overwritten.
 */
export function tcrossprodRounded(X: StoredMatrix, shift?: Float64Array, out?: Matrix): Matrix {
  checkShift(shift, X.cols, 'tcrossprodRounded');
  const n = X.rows, k = X.cols;
  const C = out ?? zeros(n, n);
  if (C.rows !== n || C.cols !== n) throw new RangeError(`tcrossprodRounded: out is ${C.rows}×${C.cols}, not ${n}×${n}`);
  const c = C.data;
  const nat = native();
  if (nat && n * n * k >= WASM_MIN_WORK && nat.ntF32(X.data, X.data, c, n, n, k, n, 0, 0, nativeThreads((n * n * k) / 2), shift ?? null, shift ?? null, 2)) return C;
  const x = roundedRows(X.data, n, k, false, shift);
  const f = Math.fround;
  for (let i = 0; i < n; i++) {
    const a0 = i * k;
    for (let j = i; j < n; j++) {
      const b0 = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s = f(s + f(x[a0 + p]! * x[b0 + p]!));
      c[i * n + j] = s;
      c[j * n + i] = s;
    }
  }
  return C;
}

/** X·Xᵀ (rows × rows), symmetric: computes one triangle and mirrors it. `out`: a zeroed rows × rows matrix to write it in. */
export function tcrossprod(X: StoredMatrix, out?: Matrix): Matrix {
  return symmetricProduct(X.data, X.rows, X.cols, false, out);
}

/**
 * The upper triangle (j ≥ i) of X·Xᵀ; entries below the diagonal are unspecified. For callers
 * that transform the entries anyway (squared distances) and can write both halves in one pass.
 */
export function tcrossprodUpper(X: StoredMatrix): Matrix {
  const C = zeros(X.rows, X.rows);
  ntProduct(X.data, X.data, C.data, X.rows, X.rows, X.cols, X.rows, true);
  return C;
}

/** n×n Gram matrix of the n logical rows (length k) of x, stored transposed when `trans`. */
function symmetricProduct(x: FeatureArray, n: number, k: number, trans: boolean, out?: Matrix): Matrix {
  if (out && (out.rows !== n || out.cols !== n)) throw new RangeError(`symmetric product: out is ${out.rows}×${out.cols}, not ${n}×${n}`);
  const C = out ?? zeros(n, n);
  const c = C.data;
  const nat = n * n * k >= WASM_MIN_WORK ? native() : null;
  // Natively each finished tile is also written mirrored (sym = 2): no second pass over C.
  if (nat && nat.nt(x, x, c, n, n, k, n, 2, trans ? 1 : 0, trans ? 1 : 0, nativeThreads(n * n * k))) return C;
  ntProduct(x, x, c, n, n, k, n, true, trans, trans);
  // Mirror the upper triangle in 32×32 tiles (a plain column walk misses the cache on every read).
  const T = 32;
  for (let i0 = 0; i0 < n; i0 += T) {
    const i1 = Math.min(n, i0 + T);
    for (let j0 = 0; j0 <= i0; j0 += T) {
      for (let i = i0; i < i1; i++) {
        const ri = i * n, j1 = Math.min(i, j0 + T);
        for (let j = j0; j < j1; j++) c[ri + j] = c[j * n + i]!;
      }
    }
  }
  return C;
}

/** Xᵀ·X (cols × cols), symmetric. `out`: a zeroed cols × cols matrix to write it in. */
export function crossprod(X: StoredMatrix, out?: Matrix): Matrix {
  return symmetricProduct(X.data, X.cols, X.rows, true, out);
}

/** y = A·x. */
export function matvec(A: Matrix, x: ArrayLike<number>, out?: Float64Array): Float64Array {
  if (x.length !== A.cols) throw new RangeError(`matvec: vector has ${x.length} values, matrix has ${A.cols} columns`);
  const y = out ?? new Float64Array(A.rows);
  const a = A.data, k = A.cols;
  for (let i = 0; i < A.rows; i++) {
    const o = i * k;
    let s = 0;
    for (let p = 0; p < k; p++) s += a[o + p]! * x[p]!;
    y[i] = s;
  }
  return y;
}

/** y = Aᵀ·x (without forming Aᵀ). */
export function matvecT(A: Matrix, x: ArrayLike<number>, out?: Float64Array): Float64Array {
  if (x.length !== A.rows) throw new RangeError(`matvecT: vector has ${x.length} values, matrix has ${A.rows} rows`);
  const y = out ?? new Float64Array(A.cols);
  y.fill(0);
  const a = A.data, k = A.cols;
  for (let i = 0; i < A.rows; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const o = i * k;
    for (let p = 0; p < k; p++) y[p] += a[o + p]! * xi;
  }
  return y;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** In-place y += alpha·x. */
export function axpy(alpha: number, x: ArrayLike<number>, y: Float64Array): Float64Array {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i]!;
  return y;
}

/** A + alpha·B as a new matrix. */
export function addScaled(A: Matrix, B: Matrix, alpha = 1): Matrix {
  if (A.rows !== B.rows || A.cols !== B.cols) throw new RangeError('addScaled: shapes differ');
  const out = zeros(A.rows, A.cols);
  const o = out.data, a = A.data, b = B.data;
  for (let i = 0; i < o.length; i++) o[i] = a[i]! + alpha * b[i]!;
  return out;
}
