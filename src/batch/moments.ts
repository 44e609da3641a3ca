/**
 * Per-batch moment statistics that combine exactly (architecture.md "partial results merge"): a
 * count, the mean and the centred second moments M2 (per feature, or the full d × d cross-product),
 * merged with the pairwise update of Chan, Golub & LeVeque (1979). Sphering's Ledoit–Wolf
 * shrinkage also needs the fourth moment q4 = Σ‖x − μ‖⁴ and t3 = Σ‖x − μ‖²(x − μ); both are
 * shifted to the merged mean with the binomial expansion, so merging two plates' partials in any
 * order gives the statistics of the pooled rows (to rounding).
 */
import { type Matrix, type StoredMatrix, crossprod } from '../linalg/index.js';

export interface Moments {
  readonly n: number;
  readonly mean: Float64Array;
  /** Σ (x − mean)² per feature (length d), or Σ (x − mean)(x − mean)ᵀ row-major (d × d) when full. */
  readonly m2: Float64Array;
  readonly full: boolean;
  /** Σ ‖x − mean‖⁴ (full only, else 0). */
  readonly q4: number;
  /** Σ ‖x − mean‖² (x − mean) (full only, else empty). */
  readonly t3: Float64Array;
}

const BLOCK = 1024;

/** Moments of the given rows of X (all rows when `rows` is omitted). */
export function momentsOf(X: StoredMatrix, rows: ArrayLike<number> | undefined, full: boolean): Moments {
  const d = X.cols, x = X.data;
  const n = rows ? rows.length : X.rows;
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const o = (rows ? rows[r]! : r) * d;
    for (let j = 0; j < d; j++) mean[j] += x[o + j]!;
  }
  if (n) for (let j = 0; j < d; j++) mean[j] /= n;
  if (!full) {
    const m2 = new Float64Array(d);
    for (let r = 0; r < n; r++) {
      const o = (rows ? rows[r]! : r) * d;
      for (let j = 0; j < d; j++) {
        const c = x[o + j]! - mean[j]!;
        m2[j] += c * c;
      }
    }
    return { n, mean, m2, full, q4: 0, t3: new Float64Array(0) };
  }
  const m2 = new Float64Array(d * d);
  const t3 = new Float64Array(d);
  let q4 = 0;
  const scratch = new Float64Array(Math.min(Math.max(n, 1), BLOCK) * d);
  for (let r0 = 0; r0 < n; r0 += BLOCK) {
    const r1 = Math.min(n, r0 + BLOCK);
    for (let r = r0; r < r1; r++) {
      const o = (rows ? rows[r]! : r) * d, so = (r - r0) * d;
      let s2 = 0;
      for (let j = 0; j < d; j++) {
        const c = x[o + j]! - mean[j]!;
        scratch[so + j] = c;
        s2 += c * c;
      }
      q4 += s2 * s2;
      for (let j = 0; j < d; j++) t3[j] += s2 * scratch[so + j]!;
    }
    const G = crossprod({ rows: r1 - r0, cols: d, data: scratch.subarray(0, (r1 - r0) * d) });
    for (let t = 0; t < m2.length; t++) m2[t] += G.data[t]!;
  }
  return { n, mean, m2, full, q4, t3 };
}

/** The moments of the union of two disjoint row sets. */
export function mergeMoments(a: Moments, b: Moments): Moments {
  if (a.full !== b.full || a.mean.length !== b.mean.length) throw new RangeError('mergeMoments: partials of different shapes');
  if (a.n === 0) return b;
  if (b.n === 0) return a;
  const d = a.mean.length, n = a.n + b.n;
  const mean = new Float64Array(d);
  for (let j = 0; j < d; j++) mean[j] = (a.n * a.mean[j]! + b.n * b.mean[j]!) / n;
  const m2 = new Float64Array(a.m2.length);
  const t3 = new Float64Array(a.t3.length);
  let q4 = 0;
  for (const p of [a, b]) {
    const delta = new Float64Array(d);
    let dd = 0;
    for (let j = 0; j < d; j++) {
      delta[j] = p.mean[j]! - mean[j]!;
      dd += delta[j]! * delta[j]!;
    }
    if (!a.full) {
      for (let j = 0; j < d; j++) m2[j] += p.m2[j]! + p.n * delta[j]! * delta[j]!;
      continue;
    }
    // M2·δ, δᵀM2δ and tr M2 of the partial before its shift.
    const m2d = new Float64Array(d);
    let tr = 0, dm2d = 0, t3d = 0;
    for (let i = 0; i < d; i++) {
      let s = 0;
      const o = i * d;
      for (let j = 0; j < d; j++) s += p.m2[o + j]! * delta[j]!;
      m2d[i] = s;
      dm2d += delta[i]! * s;
      tr += p.m2[o + i]!;
      t3d += p.t3[i]! * delta[i]!;
    }
    q4 += p.q4 + 4 * t3d + 4 * dm2d + 2 * dd * tr + p.n * dd * dd;
    for (let i = 0; i < d; i++) {
      t3[i] += p.t3[i]! + tr * delta[i]! + 2 * m2d[i]! + p.n * dd * delta[i]!;
      const o = i * d;
      for (let j = 0; j < d; j++) m2[o + j] += p.m2[o + j]! + p.n * delta[i]! * delta[j]!;
    }
  }
  return { n, mean, m2, full: a.full, q4, t3 };
}

/** Per-batch moments keyed by batch value; merging two maps merges the batches they share. */
export type BatchMoments = ReadonlyMap<string, Moments>;

export function mergeBatchMoments(a: BatchMoments, b: BatchMoments): Map<string, Moments> {
  const out = new Map(a);
  for (const [k, m] of b) out.set(k, out.has(k) ? mergeMoments(out.get(k)!, m) : m);
  return out;
}

/** Moments of each batch's rows (optionally only rows flagged in `keep`). */
export function batchMomentsOf(
  X: StoredMatrix, codes: Int32Array, levels: readonly string[], full: boolean, keep?: ArrayLike<number | boolean>,
): Map<string, Moments> {
  const rows: number[][] = levels.map(() => []);
  for (let i = 0; i < codes.length; i++) if (!keep || keep[i]) rows[codes[i]!]!.push(i);
  const out = new Map<string, Moments>();
  levels.forEach((l, k) => {
    if (rows[k]!.length) out.set(l, momentsOf(X, rows[k]!, full));
  });
  return out;
}

/** The d × d full M2 of a partial as a Matrix view. */
export function scatterMatrix(m: Moments): Matrix {
  const d = m.mean.length;
  if (!m.full) throw new RangeError('scatterMatrix: diagonal moments');
  return { rows: d, cols: d, data: m.m2 };
}
