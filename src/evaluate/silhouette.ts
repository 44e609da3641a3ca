/**
 * Mean silhouette coefficient (Rousseeuw 1987; scikit-learn `silhouette_score` semantics): for
 * row i, a = mean distance to the other members of its cluster, b = smallest mean distance to
 * another cluster, s = (b − a) / max(a, b); s = 0 for a row alone in its cluster. Needs
 * 2 ≤ #labels ≤ n − 1. Distances are Euclidean (default) or cosine (1 − cos, scikit-learn's
 * metric='cosine', as the batch-silhouette of scib / Arevalo et al. 2024 uses); computed in row
 * blocks.
 */
import type { Matrix } from '../linalg/matrix.js';
import { normalizeRows, squaredDistancesBetween } from '../linalg/index.js';
import { InputError } from '../util/errors.js';

export interface SilhouetteOptions {
  metric?: 'euclidean' | 'cosine';
}

export function silhouetteSamples(Xin: Matrix, labels: ArrayLike<number | string>, opts: SilhouetteOptions = {}): Float64Array {
  const cosine = opts.metric === 'cosine';
  // ‖x̂ − ŷ‖² = 2(1 − cos): on unit rows the cosine distance is half the squared distance.
  const X = cosine ? normalizeRows(Xin) : Xin;
  const n = X.rows;
  if (labels.length !== n) throw new InputError(`silhouette: ${labels.length} labels for ${n} rows`);
  const codes = new Int32Array(n);
  const index = new Map<number | string, number>();
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    let c = index.get(l);
    if (c === undefined) index.set(l, (c = index.size));
    codes[i] = c;
  }
  const k = index.size;
  if (k < 2 || k > n - 1) throw new InputError(`silhouette: needs 2 to n−1 distinct labels, got ${k} for ${n} rows`);
  const sizes = new Float64Array(k);
  for (let i = 0; i < n; i++) sizes[codes[i]!]! += 1;
  const out = new Float64Array(n);
  const sums = new Float64Array(k);
  const block = Math.max(1, Math.min(n, Math.floor(2_000_000 / Math.max(n, 1))));
  for (let r0 = 0; r0 < n; r0 += block) {
    const r1 = Math.min(n, r0 + block);
    const sub: Matrix = { rows: r1 - r0, cols: X.cols, data: X.data.subarray(r0 * X.cols, r1 * X.cols) };
    const D = squaredDistancesBetween(sub, X).data;
    for (let i = r0; i < r1; i++) {
      sums.fill(0);
      const off = (i - r0) * n;
      for (let j = 0; j < n; j++) {
        const v = D[off + j]!;
        sums[codes[j]!]! += v > 0 && j !== i ? (cosine ? v / 2 : Math.sqrt(v)) : 0;
      }
      const ci = codes[i]!;
      if (sizes[ci]! <= 1) {
        out[i] = 0;
        continue;
      }
      const a = sums[ci]! / (sizes[ci]! - 1);
      let b = Infinity;
      for (let c = 0; c < k; c++) if (c !== ci && sizes[c]! > 0) b = Math.min(b, sums[c]! / sizes[c]!);
      const m = Math.max(a, b);
      out[i] = m > 0 ? (b - a) / m : 0;
    }
  }
  return out;
}

export function silhouette(X: Matrix, labels: ArrayLike<number | string>, opts: SilhouetteOptions = {}): number {
  const s = silhouetteSamples(X, labels, opts);
  let t = 0;
  for (let i = 0; i < s.length; i++) t += s[i]!;
  return t / s.length;
}
