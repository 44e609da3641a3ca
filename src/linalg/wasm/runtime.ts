/**
 * Loader for the hand-written WebAssembly kernels (kernels.wat → kernels.generated.ts).
 *
 * The module is compiled and instantiated synchronously at import time (it is < 4 KB), so the
 * linalg API stays synchronous. One growable memory serves every call: callers copy operands in,
 * run a kernel and copy results out (O(n²) copies around O(n³) work). The memory is shared
 * (SharedArrayBuffer-backed) so worker threads can run the same kernels on it.
 *
 * `PHENOMAP_NO_WASM=1` disables the module (pure-JS kernels, bit-identical by construction); so does
 * any failure to compile or instantiate it (old engine without SIMD), silently.
 */
import { kernelsWasmBase64 } from './kernels.generated.js';

// The project's lib (ES2022, no DOM) does not declare the WebAssembly JS API; the few members
// used here are declared locally (module scope, so no clash if a lib adds them later).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    constructor(desc: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(pages: number): number;
  }
}

export interface WasmExports {
  nt_tile(ap: number, bp: number, cp: number, ib0: number, ib1: number, nb: number, k: number,
    ldc: number, sym: number, kc: number, pb: number, acc: number): void;
  chol(a: number, n: number, scratch: number): number;
  tred_symv(w: number, d: number, e: number, n: number, i: number): void;
  tred_rank2(w: number, d: number, e: number, n: number, i: number): void;
  house_apply(house: number, h: number, n: number, x: number): void;
  rotate_rows(z: number, n: number, l: number, m: number, cs: number): void;
  ap_rows(S: number, R: number, A: number, cs: number, ncs: number, E: number, run: number, n: number,
    d: number, omd: number, flags: number, r0: number, r1: number): number;
  ap_colsum(R: number, ncs: number, n: number, r0: number, r1: number, c0: number, c1: number): void;
  col_sum_varies(x: number, n: number, d: number, sum: number, first: number, varies: number): void;
  col_moments(x: number, n: number, d: number, m0: number, res: number, ss: number): void;
  col_standardize(x: number, n: number, d: number, mean: number, std: number): void;
}

/** Upper bound on the wasm memory (virtual reservation of a shared memory): 2 GiB. */
const MAX_PAGES = 32768;
const PAGE = 65536;

interface WasmState {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: WasmExports;
}

function load(): WasmState | null {
  if (process.env.PHENOMAP_NO_WASM === '1') return null;
  try {
    const bytes = Buffer.from(kernelsWasmBase64, 'base64');
    const module = new WebAssembly.Module(bytes);
    const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return { module, memory, exports: instance.exports as unknown as WasmExports };
  } catch {
    return null;
  }
}

const state = load();

/** The kernels, or null when WebAssembly is unavailable or disabled. */
export const wasm: WasmExports | null = state?.exports ?? null;
export const wasmModule: WebAssembly.Module | null = state?.module ?? null;
export const wasmMemory: WebAssembly.Memory | null = state?.memory ?? null;

let f64View: Float64Array = state ? new Float64Array(state.memory.buffer) : new Float64Array(0);

/**
 * Make the memory at least `bytes` long. Returns false when that exceeds the maximum (the caller
 * falls back to JS). Views obtained earlier stay valid (shared memory never moves) but do not
 * cover the new pages — call wasmF64() again after reserving.
 */
export function wasmReserve(bytes: number): boolean {
  if (!state) return false;
  const have = state.memory.buffer.byteLength;
  if (bytes <= have) return true;
  const pages = Math.ceil((bytes - have) / PAGE);
  if (have / PAGE + pages > MAX_PAGES) return false;
  try {
    state.memory.grow(pages);
  } catch {
    return false;
  }
  f64View = new Float64Array(state.memory.buffer);
  return true;
}

/** Float64 view of the whole wasm memory (index = byte address / 8). */
export function wasmF64(): Float64Array {
  if (state && f64View.byteLength !== state.memory.buffer.byteLength) f64View = new Float64Array(state.memory.buffer);
  return f64View;
}

/**
 * A separate instance of the kernels on its own memory of `bytes` (rounded up to 64 KiB pages, at
 * most 4 GiB), or null when wasm is unavailable or the memory cannot be allocated. Unlike the
 * shared scratch memory, which never shrinks, this one is freed by the garbage collector once the
 * returned object is unreachable — for large one-off workspaces (affinity propagation at n ≈ 10⁴).
 */
export function wasmPrivateInstance(bytes: number): { exports: WasmExports; buffer: SharedArrayBuffer } | null {
  if (!state) return null;
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  if (pages > 65536) return null;
  try {
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const instance = new WebAssembly.Instance(state.module, { env: { memory } });
    return { exports: instance.exports as unknown as WasmExports, buffer: memory.buffer as SharedArrayBuffer };
  } catch {
    return null;
  }
}
