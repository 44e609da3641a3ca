/**
 * Standard normal helpers for the probit model: Φ, Φ⁻¹ and one-sided truncated normal draws.
 *
 * Φ is computed to near double precision from its Taylor series (|x| < 3) and the Laplace
 * continued fraction for the tails (evaluated with the modified Lentz method), so calibration
 * tables and tail probabilities do not suffer from the 1e-7 error of the usual rational fits.
 * Truncated draws follow Robert (1995), "Simulation of truncated normal variables",
 * Statistics and Computing 5:121–125 (exponential proposal beyond the mean).
 */
import type { Rng } from '../linalg/rng.js';

const INV_SQRT_2PI = 0.3989422804014327;

export function normalPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** Φ(x) = P(Z ≤ x). */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return 1;
  if (x === -Infinity) return 0;
  const ax = Math.abs(x);
  if (ax < 3) {
    // Φ(x) = ½ + φ(x) Σ x^(2n+1) / (2n+1)!!
    let term = x, sum = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= x2 / (2 * n + 1);
      sum += term;
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return 0.5 + normalPdf(x) * sum;
  }
  // Upper tail Q(ax) = φ(ax) / (ax + 1/(ax + 2/(ax + 3/(ax + …)))) via modified Lentz.
  const tiny = 1e-300;
  let f = ax, C = ax, D = 0;
  for (let k = 1; k < 500; k++) {
    D = ax + k * D;
    D = Math.abs(D) < tiny ? tiny : D;
    C = ax + k / C;
    C = Math.abs(C) < tiny ? tiny : C;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const q = normalPdf(ax) / f;
  return x > 0 ? 1 - q : q;
}

/** Φ⁻¹(p) for p in (0, 1): bisection to bracket, then Newton steps on the accurate Φ. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  let lo = -40, hi = 40;
  for (let it = 0; it < 60; it++) {
    const mid = 0.5 * (lo + hi);
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  let x = 0.5 * (lo + hi);
  for (let it = 0; it < 3; it++) {
    const d = normalPdf(x);
    if (d < 1e-300) break;
    x -= (normalCdf(x) - p) / d;
  }
  return x;
}

/**
 * Draw x ~ N(mean, 1) conditioned on x > 0. For the probit auxiliaries of an inactive cell,
 * use −truncatedNormalPositive(rng, −mean) (x < 0).
 */
export function truncatedNormalPositive(rng: Rng, mean: number): number {
  const a = -mean; // lower bound of the standardised variable
  if (a <= 0) {
    // Acceptance ≥ ½: plain rejection from the untruncated normal.
    for (;;) {
      const t = rng.normal();
      if (t > a) return mean + t;
    }
  }
  const lambda = 0.5 * (a + Math.sqrt(a * a + 4));
  for (;;) {
    const z = a - Math.log(1 - rng.uniform()) / lambda;
    const r = z - lambda;
    if (rng.uniform() <= Math.exp(-0.5 * r * r)) return mean + z;
  }
}
