/**
 * Which engine the dense kernels run on, for logs and benchmark reports (linalgBackend does not
 * start workers; prestartThreads starts them ahead of the first large product).
 */
import { wasm } from './wasm/runtime.js';
import { threadCount } from './wasm/threads.js';

export interface LinalgBackend {
  /** 'wasm-simd' (hand-written f64x2 kernels) or 'js' (PHENOMAP_NO_WASM=1, or no WebAssembly SIMD). */
  engine: 'wasm-simd' | 'js';
  /** Threads large matrix products may use (PHENOMAP_THREADS, default: all cores up to 8). */
  threads: number;
}

export function linalgBackend(): LinalgBackend {
  return wasm ? { engine: 'wasm-simd', threads: threadCount() } : { engine: 'js', threads: 1 };
}

export { prestartThreads } from './wasm/threads.js';
