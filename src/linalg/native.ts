/**
 * Loader for the native kernels (native/kernels.c, built by node-gyp at `npm ci` into
 * build/Release/phenomap_kernels.node).
 *
 * The addon is optional: when it was not built (no compiler on the machine, or a build failure,
 * which the install step reports and tolerates) or `PHENOMAP_NO_NATIVE=1`, `native` is null and
 * the kernels run as WebAssembly or JavaScript. Each native kernel performs its JavaScript twin's
 * floating-point operations in the same order, so the backend never changes a result.
 *
 * Native kernels work on the caller's Float64Arrays in place (no copies into a wasm memory) with
 * 512-bit vectors where the CPU has AVX-512 (256-bit with AVX2; chosen at load), and split large
 * products across a parked pool of POSIX threads.
 */
import { createRequire } from 'node:module';

export interface NativeKernels {
  /** C = A·Bᵀ (see blas.ts ntProduct); false when scratch memory could not be allocated. */
  nt(a: Float64Array | Float32Array, b: Float64Array | Float32Array, c: Float64Array,
    m: number, n: number, k: number, ldc: number, sym: number, aT: number, bT: number, threads: number): boolean;
  /**
   * C = A·Bᵀ in float32 arithmetic (blas.ts ntKernelF32): operand values (float)(stored − shift[storage
   * column]), products and sums rounded to float32, each entry summed in p order; C widened to double
   * (cT = 1: stored transposed, entry (i, j) at c[j·ldc + i]).
   */
  ntF32(a: Float64Array | Float32Array, b: Float64Array | Float32Array, c: Float64Array,
    m: number, n: number, k: number, ldc: number, aT: number, bT: number, threads: number,
    shiftA: Float64Array | null, shiftB: Float64Array | null, cT: number): boolean;
  /** distance.ts's squaredDistances into out (n × n), fused with the Gram product; false as nt. */
  sqdist(x: Float64Array | Float32Array, n: number, k: number, out: Float64Array, threads: number): boolean;
  /** Float32 storage is widened on load; every sum is double (columnStats.ts's JS loops). */
  colMoments(x: Float64Array | Float32Array, n: number, d: number, sum: Float64Array, varies: Uint8Array,
    mean0: Float64Array, res: Float64Array, ss: Float64Array): void;
  /** columnStats.ts columnMeanM2's loops (Welford's one pass), float32 widened on load. */
  colMeanM2(x: Float64Array | Float32Array, n: number, d: number, mean: Float64Array, m2: Float64Array): void;
  /** out has x's element type; float32 output is the double quotient rounded once. */
  colStandardize<T extends Float64Array | Float32Array>(x: T, n: number, d: number, kept: Int32Array, mean: Float64Array,
    std: Float64Array, out: T): void;
  /** svd.ts's centring: out = x − 1·meanᵀ, returning Σ out² in storage order. */
  centerRows(x: Float64Array, n: number, d: number, mean: Float64Array, out: Float64Array): number;
  tred2(w: Float64Array, d: Float64Array, e: Float64Array, n: number): void;
  /**
   * eigen.ts's tridiagInverseIteration for every eigenvalue in lam (descending) into the rows of
   * out, clusters within gap orthogonalised nearest first, from the start vector; −1: no memory.
   */
  inverseVectors(diag: Float64Array, off: Float64Array, lam: Float64Array, out: Float64Array, n: number,
    tnorm: number, gap: number, start: Float64Array): number;
  /** eigen.ts's tql (e: its shifted copy, overwritten); −1 when QL did not converge, else 0. */
  tql(d: Float64Array, e: Float64Array, z: Float64Array | null, n: number, cs: Float64Array): number;
  houseApply(house: Float64Array, h: Float64Array, n: number, X: Float64Array, nv: number): void;
  /**
   * One affinity-propagation sweep over all rows (apKernel.ts's flags: 1 availabilities, 2
   * responsibilities, 4 their column sums into ncs), the twin of cluster/affinityPropagation.ts's
   * fusedPass, on 1 or 2 threads; frontCap ≥ 0 caps the calling thread's row chunks (tests).
   * Returns the number of exemplar candidates.
   */
  apPass(S: Float64Array, R: Float64Array, A: Float64Array, cs: Float64Array, ncs: Float64Array, E: Uint8Array,
    run: Int32Array, n: number, d: number, omd: number, flags: number, threads: number, frontCap: number): number;
  /**
   * linalg/rng.ts's fillNormal over out[start, end) from the xoshiro128** state (advanced in place);
   * returns the spare variate when the count is odd, else NaN. Its logarithm is V8's own
   * (fdlibm's algorithm), so the draws equal JavaScript's bit for bit.
   */
  fillNormal(state: Uint32Array, out: Float64Array, start: number, end: number): number;
  /** x ← log(x) by that logarithm, for the tests that hold it to Math.log. */
  logInPlace(x: Float64Array): void;
  /** groupStats.ts's subsetColumnStats (op 0 median, 1 mean), bit-identical to it. */
  subsetStats(x: Float64Array, cols: number, rows: Int32Array, op: number, out: Float64Array, outOffset: number, scratch: Float64Array): void;
  /** The vector width chosen at load: 'avx512', 'avx2', 'sse2' or 'generic'. */
  simd(): string;
  /**
   * cluster/knnGraph.ts's candidate distances: out[i·stride + t] = Σ_c (x_i[c] − x_j[c])² for
   * j = cand[i·stride + t] ≥ 0 (other slots untouched), in c order, on `threads` threads.
   */
  candDistances(x: Float64Array | Float32Array, n: number, d: number, cand: Int32Array, stride: number, out: Float64Array, threads: number): void;
  /**
   * cluster/knnGraph.ts's exact candidate search: out (n × M) gets each row's M nearest other rows
   * under (squared distance, index) — the set exactKnn's heaps keep — fused with the symmetric
   * Gram product on `threads` threads (heaps per thread, merged); false when memory could not be had.
   */
  knnTopM(x: Float64Array | Float32Array, n: number, d: number, M: number, out: Int32Array, threads: number): boolean;
  /**
   * One sweep of cluster/sparseAffinityPropagation.ts's message passing over the stored entries
   * (CSR with the diagonal at diag[i]), its JavaScript pass operation for operation; doAvail /
   * doResp 0 or 1. Returns the number of exemplar candidates (0 without doAvail).
   */
  sparseApPass(indptr: Int32Array, indices: Int32Array, diag: Int32Array, S: Float64Array, R: Float64Array, A: Float64Array,
    cs: Float64Array, ncs: Float64Array, E: Uint8Array, run: Int32Array, n: number, d: number, omd: number, doAvail: number, doResp: number): number;
  /**
   * softAssign.ts's penalisedSoftmaxRows over rows[t0, t1) on `threads` threads (rows are
   * independent), with V8's exp and log (fdlibm's algorithms), so R, ent and km equal the twin's
   * bit for bit.
   */
  softAssignRows(D: Float64Array, R: Float64Array, P: Float64Array, logP: Float64Array, codes: Int32Array, rows: Int32Array,
    t0: number, t1: number, K: number, c: number, ent: Float64Array, km: Float64Array, threads: number): void;
  /** softAssign.ts's addRowMasses, the columns split over `threads` threads (each sum keeps its row order). */
  addRowMasses(R: Float64Array, codes: Int32Array, rows: Int32Array, t0: number, t1: number, K: number, sub: number,
    sum: Float64Array, O: Float64Array, F: Float64Array | null, threads: number): void;
  /** linalg/adam.ts's adamStep over w, g, m, v (equal lengths), in place. */
  adamStep(w: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, lrT: number, decay: number, b1: number, b2: number, eps: number): void;
  /** blockedCholesky.ts's lowerInverse: M ← L⁻¹ (t × t row-major, M zeroed), its twin's operations in its order. */
  lowerInverse(L: Float64Array, M: Float64Array, t: number): void;
  /** x ← exp(x) by that exponential, for the tests that hold it to Math.exp. */
  expInPlace(x: Float64Array): void;
  /**
   * madvise(MADV_HUGEPAGE) over the 2 MiB-aligned interior of a typed array (a hint only); returns
   * the index of the array's first element on a 2 MiB boundary (its length when there is none).
   */
  adviseHuge(x: Float64Array | Float32Array | Int32Array | Uint8Array): number | undefined;
}

/** Every entry point this code calls: an addon without one of them is from an older build. */
const ENTRY_POINTS = [
  'nt', 'ntF32', 'sqdist', 'colMoments', 'colMeanM2', 'colStandardize', 'centerRows', 'inverseVectors', 'tql', 'houseApply', 'apPass',
  'fillNormal', 'logInPlace', 'subsetStats', 'simd', 'candDistances', 'sparseApPass', 'adviseHuge',
  'softAssignRows', 'expInPlace', 'addRowMasses', 'adamStep', 'lowerInverse',
] as const satisfies readonly (keyof NativeKernels)[];

let stale: string | null = null;

function load(): NativeKernels | null {
  if (process.env.PHENOMAP_NO_NATIVE === '1') return null;
  let addon: NativeKernels;
  try {
    // src/linalg and dist/linalg are both two levels below the package root.
    addon = createRequire(import.meta.url)('../../build/Release/phenomap_kernels.node') as NativeKernels;
  } catch {
    return null;
  }
  // A clone updated without reinstalling keeps its old build: use none of it rather than fail mid-run.
  stale = staleAddon(addon);
  return stale ? null : addon;
}

/** Why an addon cannot serve this code (entry points it lacks), or null when it has them all. */
export function staleAddon(addon: object): string | null {
  const missing = ENTRY_POINTS.filter((f) => typeof (addon as Record<string, unknown>)[f] !== 'function');
  return missing.length
    ? `build/Release/phenomap_kernels.node is older than this code (it lacks ${missing.join(', ')}); the WebAssembly kernels run instead — rebuild it with \`npm run build:native\``
    : null;
}

/** Why a built native addon is not used (an older build), or null. */
export function nativeProblem(): string | null {
  return stale;
}

const loaded = load();
let enabled = loaded !== null;

/** The native kernels, or null when not built, disabled by PHENOMAP_NO_NATIVE=1 or by useNative(false). */
export function native(): NativeKernels | null {
  return enabled ? loaded : null;
}

/**
 * Turn the native kernels off (or back on, if they loaded) for this process — for comparing
 * backends in tests and benchmarks. Returns whether they are now in use.
 */
export function useNative(on: boolean): boolean {
  enabled = on && loaded !== null;
  return enabled;
}

/** Arrays from this size on are backed by transparent huge pages where the kernel allows it. */
const HUGE_MIN_BYTES = 4 << 20;

/**
 * A zeroed Float64Array; from 4 MiB on its pages are asked to be transparent huge pages before
 * anything touches them (what numpy does for large arrays). On this VM faulting in a fresh 4 KiB
 * page costs ≈ 13 µs, so a 2,736² distance matrix spent ≈ 200 ms in page faults against ≈ 60 ms
 * of arithmetic; with 2 MiB pages ≈ 7 ms. The contents are the same either way.
 */
export function hugeFloat64(length: number): Float64Array {
  const a = new Float64Array(length);
  if (length * 8 >= HUGE_MIN_BYTES && enabled) loaded!.adviseHuge(a);
  return a;
}

/** Doubles in 2 MiB. */
const HUGE_PAGE_DOUBLES = 1 << 18;

/**
 * A zeroed Float64Array of `length` (0.5–4 MiB) starting on a 2 MiB boundary, inside a buffer that
 * holds whole 2 MiB pages from there to past its end plus 2 MiB of slack for the alignment, the
 * huge pages asked for (when the native kernels are in use; else a plain array). The first write
 * then costs a fault per 2 MiB instead of one per 4 KiB page: a fresh 2.3 MB array (PCA's 50 × 5,792
 * components) ≈ 0.7–1 ms instead of 6–20 ms on this VM — and ≈ 0.5 ms less than when its last
 * 0.3 MB, in a 2 MiB range the buffer did not wholly cover, took small pages. The slack is never
 * touched, so it takes address space, not memory; the view's `byteOffset` is not 0.
 * `zeroed: false` leaves the contents undefined (for an output a kernel writes whole): zeroing
 * memory the allocator hands back from its heap touches every page, 4 KiB at a time, before the
 * huge-page hint can apply.
 */
export function hugeAlignedFloat64(length: number, opts: { zeroed?: boolean } = {}): Float64Array {
  if (!enabled || length * 8 < 1 << 19 || length > HUGE_PAGE_DOUBLES * 2) return hugeFloat64(length);
  const span = Math.ceil(length / HUGE_PAGE_DOUBLES) * HUGE_PAGE_DOUBLES;
  const bytes = (span + HUGE_PAGE_DOUBLES) * 8;
  const buf = opts.zeroed === false ? new Float64Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, bytes / 8) : new Float64Array(bytes / 8);
  const at = loaded!.adviseHuge(buf);
  const off = typeof at === 'number' && at + span <= buf.length ? at : 0;
  return buf.subarray(off, off + length);
}

/** Whether the addon loaded at all (independent of useNative). */
export const nativeAvailable = loaded !== null;
