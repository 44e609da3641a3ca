/**
 * Which engine the dense kernels run on, for logs and benchmark reports (linalgBackend does not
 * start workers; prestartThreads starts them ahead of the first large product).
 */
import { wasm } from './wasm/runtime.js';
import { threadCount } from './wasm/threads.js';
import { native, nativeProblem } from './native.js';

export interface LinalgBackend {
  /**
   * 'native' (the C addon built at install: products, distances, z-score passes, the eigensolver),
   * 'wasm-simd' (hand-written f64x2 kernels; PHENOMAP_NO_NATIVE=1 or no addon) or 'js'
   * (PHENOMAP_NO_WASM=1 as well, or no WebAssembly SIMD). Kernels a backend lacks (affinity
   * propagation, Cholesky run as wasm under 'native') fall through to the next one.
   */
  engine: 'native' | 'wasm-simd' | 'js';
  /** The native kernels' vector width ('avx512', 'avx2', 'sse2', 'generic'), when engine is 'native'. */
  simd?: string;
  /** Threads large matrix products may use (PHENOMAP_THREADS, default: all cores up to 8). */
  threads: number;
  /** Set when a built addon is left unused because it is older than the code (see native.ts). */
  nativeProblem?: string;
}

export function linalgBackend(): LinalgBackend {
  const nat = native();
  if (nat) return { engine: 'native', simd: nat.simd(), threads: threadCount() };
  const problem = nativeProblem();
  const why = problem ? { nativeProblem: problem } : {};
  return wasm ? { engine: 'wasm-simd', threads: threadCount(), ...why } : { engine: 'js', threads: 1, ...why };
}

export { prestartThreads } from './wasm/threads.js';
export { useNative, nativeAvailable, nativeProblem } from './native.js';
