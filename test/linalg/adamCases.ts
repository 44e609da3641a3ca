/** The cases of adam.test.ts, importable by its child process too. */
import type { adamStep } from '../../src/linalg/adam.js';
import { Rng } from '../../src/linalg/rng.js';

/** Parameters, gradients and moments of length n; a tenth of the gradients extreme or zero. */
export function state(n: number, seed: number) {
  const r = new Rng(seed);
  const w = new Float64Array(n), g = new Float64Array(n), m = new Float64Array(n), v = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    w[t] = r.normal();
    const u = r.uniform();
    g[t] = u < 0.03 ? 0 : u < 0.06 ? r.normal() * 1e-300 : u < 0.1 ? r.normal() * 1e150 : r.normal() * 1e-3;
    m[t] = r.normal() * 1e-3;
    v[t] = Math.abs(r.normal()) * 1e-6;
  }
  return { w, g, m, v };
}

/** Ten steps with either entry point; returns the final state as bytes. */
export function run(n: number, seed: number, step: typeof adamStep): string {
  const s = state(n, seed);
  for (let k = 1; k <= 10; k++) {
    const lrT = 1e-3 * Math.sqrt(1 - 0.999 ** k) / (1 - 0.9 ** k);
    step(s.w, s.g, s.m, s.v, lrT, k % 2 ? 1e-7 : 0, 0.9, 0.999, 1e-8);
  }
  return [s.w, s.m, s.v].map((a) => Buffer.from(a.buffer).toString('hex')).join('|');
}

export const LENGTHS = [1, 7, 8, 9, 63, 64, 65, 71, 100, 4096, 66_048 + 3];

