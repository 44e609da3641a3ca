/**
 * One Adam step (Kingma & Ba 2015) with decoupled weight decay, the bias correction folded into
 * the step size lrT by the caller: per element
 *   m ← b1·m + (1 − b1)·g,  v ← b2·v + (1 − b2)·g·g,  w ← w − (lrT·m / (√v + eps) + decay·w).
 * The native kernel (native/kernels.c adam_step) does the same correctly rounded operations in the
 * same order, eight elements per AVX-512 vector, so the backend never changes a bit; in JavaScript
 * the square root and the division of every element run one at a time, which made the optimiser
 * the largest part of a small network's training step after the products.
 */
import { native } from './native.js';

/** Below this many parameters the call into the addon costs more than the loop. */
const NATIVE_MIN = 64;

export function adamStep(
  w: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, lrT: number, decay: number, b1: number, b2: number, eps: number,
): void {
  const n = w.length;
  if (g.length !== n || m.length !== n || v.length !== n) throw new RangeError(`adamStep: parameter, gradient and moment lengths differ (${n}, ${g.length}, ${m.length}, ${v.length})`);
  const nat = n >= NATIVE_MIN ? native() : null;
  if (nat) {
    nat.adamStep(w, g, m, v, lrT, decay, b1, b2, eps);
    return;
  }
  adamStepJs(w, g, m, v, lrT, decay, b1, b2, eps);
}

/** The JavaScript twin of the native kernel (also the path for short vectors and without the addon). */
export function adamStepJs(
  w: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, lrT: number, decay: number, b1: number, b2: number, eps: number,
): void {
  for (let t = 0; t < w.length; t++) {
    const gt = g[t]!;
    const mt = b1 * m[t]! + (1 - b1) * gt;
    const vt = b2 * v[t]! + (1 - b2) * gt * gt;
    m[t] = mt;
    v[t] = vt;
    w[t] -= lrT * mt / (Math.sqrt(vt) + eps) + decay * w[t]!;
  }
}
