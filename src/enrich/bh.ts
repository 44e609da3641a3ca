/**
 * Benjamini–Hochberg false-discovery-rate q-values, as statsmodels
 * `multipletests(p, method='fdr_bh')[1]`: q_(i) = p_(i) / (i/m) over ascending p, made monotone
 * by a running minimum from the largest p down, capped at 1. Returned in the input order.
 */
export function benjaminiHochberg(p: ArrayLike<number>): Float64Array {
  const m = p.length;
  const q = new Float64Array(m);
  if (m === 0) return q;
  for (let i = 0; i < m; i++) {
    const v = p[i]!;
    if (!(v >= 0 && v <= 1)) throw new RangeError(`benjaminiHochberg: p[${i}] = ${v} is not a probability`);
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b);
  let running = Infinity;
  for (let r = m - 1; r >= 0; r--) {
    const idx = order[r]!;
    // Divide by the ECDF factor (rank/m) exactly as statsmodels does, for bit-equal values.
    const raw = p[idx]! / ((r + 1) / m);
    if (raw < running) running = raw;
    q[idx] = running > 1 ? 1 : running;
  }
  return q;
}
