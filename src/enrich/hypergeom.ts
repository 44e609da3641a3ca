/**
 * Hypergeometric upper tail P(X ≥ k), X ~ Hypergeometric(N population, K successes, n draws),
 * computed in log space so that tiny p-values (1e-300 and below) neither underflow nor lose
 * relative accuracy. Reference semantics: scipy.stats.hypergeom.sf(k − 1, N, K, n).
 *
 * Accuracy: ln m! is exact to a few ulp — a table of ln of the (correctly rounded, ≤ 170
 * factors) double-precision factorial for m ≤ 170 and the Stirling series with five correction
 * terms above (truncation < 1e-25) — so each log-pmf term has absolute error ≈ 1e-16·N·ln N,
 * i.e. a relative p error far below 1e-9 for any population up to ~10⁵ rows. The tail is a sum
 * of positive terms (no cancellation), combined with log-sum-exp.
 */

const LN_FACT_TABLE: Float64Array = (() => {
  const t = new Float64Array(171);
  let f = 1;
  for (let m = 1; m <= 170; m++) {
    f *= m;
    t[m] = Math.log(f);
  }
  return t;
})();

const HALF_LN_2PI = 0.9189385332046727417803297;

/** ln(m!) for integer m ≥ 0. */
export function lnFactorial(m: number): number {
  if (!(m >= 0) || !Number.isInteger(m)) throw new RangeError(`lnFactorial: need an integer ≥ 0, got ${m}`);
  if (m <= 170) return LN_FACT_TABLE[m]!;
  return lnGamma(m + 1);
}

/**
 * ln Γ(x) for x > 0. Stirling series for x ≥ 15 (error < 1e-17 relative to the leading
 * terms); for smaller x the argument is shifted up with the recurrence Γ(x+1) = xΓ(x).
 */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma: need x > 0, got ${x}`);
  if (Number.isInteger(x) && x <= 171) return LN_FACT_TABLE[x - 1]!;
  let shift = 0;
  let prod = 1;
  while (x < 15) {
    prod *= x;
    x += 1;
    shift++;
  }
  const inv = 1 / x, inv2 = inv * inv;
  const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 * (1 / 1188)))));
  const lg = (x - 0.5) * Math.log(x) - x + HALF_LN_2PI + series;
  return shift ? lg - Math.log(prod) : lg;
}

/** ln C(a, b) for integers 0 ≤ b ≤ a. */
export function lnChoose(a: number, b: number): number {
  return lnFactorial(a) - lnFactorial(b) - lnFactorial(a - b);
}

function checkArgs(k: number, N: number, K: number, n: number): void {
  for (const [name, v] of [['k', k], ['N', N], ['K', K], ['n', n]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`hypergeometric: ${name} must be an integer ≥ 0, got ${v}`);
  }
  if (K > N || n > N) throw new RangeError(`hypergeometric: need K ≤ N and n ≤ N (N=${N}, K=${K}, n=${n})`);
}

/** ln P(X = x). −Infinity outside the support. */
export function hypergeomLogPmf(x: number, N: number, K: number, n: number): number {
  checkArgs(x, N, K, n);
  if (x > K || x > n || n - x > N - K) return -Infinity;
  return lnChoose(K, x) + lnChoose(N - K, n - x) - lnChoose(N, n);
}

/** ln P(X ≥ k). 0 when k ≤ max(0, n + K − N); −Infinity when k > min(n, K). */
export function hypergeomLogSf(k: number, N: number, K: number, n: number): number {
  checkArgs(k, N, K, n);
  const lo = Math.max(0, n + K - N);
  const hi = Math.min(n, K);
  if (k <= lo) return 0;
  if (k > hi) return -Infinity;
  const base = lnChoose(N, n);
  const terms = new Float64Array(hi - k + 1);
  let mx = -Infinity;
  for (let x = k; x <= hi; x++) {
    const l = lnChoose(K, x) + lnChoose(N - K, n - x) - base;
    terms[x - k] = l;
    if (l > mx) mx = l;
  }
  let s = 0;
  for (let i = 0; i < terms.length; i++) s += Math.exp(terms[i]! - mx);
  const r = mx + Math.log(s);
  return r > 0 ? 0 : r;
}

/** P(X ≥ k) = scipy.stats.hypergeom.sf(k − 1, N, K, n); 1 when k = 0. */
export function hypergeomSf(k: number, N: number, K: number, n: number): number {
  return Math.exp(hypergeomLogSf(k, N, K, n));
}
