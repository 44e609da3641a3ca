/**
 * Truncated SVD of the column-centred X − 1·μᵀ by a randomized block Krylov method: the range
 * finder of Halko, Martinsson & Tropp (SIAM Review 2011, Alg. 4.4 — what scikit-learn's
 * `randomized_svd` runs), except that every power-iteration block is kept and the Rayleigh–Ritz
 * step uses their union (Musco & Musco, "Randomized block Krylov methods for stronger and faster
 * approximate singular value decomposition", NeurIPS 2015). With q iterations and l = k + p
 * columns this costs the 2q + 2 products with X that q subspace iterations cost, and the
 * Ritz vectors come from a space of dimension l·(q + 1) instead of l: two iterations here are
 * as accurate as scikit-learn's seven on the profile tables we measured (docs: principal angles in
 * bench/wide.ts and the tests).
 *
 * Layout: all blocks are kept as rows (l × n and l × d), so both products read X in its own
 * row-major storage (float32 tables widen on load), no transposed or centred copy of X is ever
 * made, and orthonormalisation runs along contiguous rows. Centring enters as a rank-one
 * correction of each product.
 */
import { type Matrix, type StoredMatrix, zeros } from './matrix.js';
import { gemm, gemmNT, gemmNTRounded, gemmRounded, tcrossprod } from './blas.js';
import { cholesky, NotPositiveDefiniteError } from './cholesky.js';
import { lowerInverse } from './blockedCholesky.js';
import { symmetricEigen } from './eigen.js';
import { Rng } from '../linalg/rng.js';

export interface TruncatedSvdOptions {
  /** Extra columns beyond k in each block (scikit-learn's n_oversamples). Default 10. */
  oversamples?: number;
  /** Power (Krylov) iterations q; default 2. */
  iterations?: number;
  /** Seed of the Gaussian start block. Default 0. */
  seed?: number;
  /**
   * Arithmetic of the range finder's products with X (the sketch, the Krylov blocks and the
   * Rayleigh–Ritz rows): 'float32' (default) runs them in float32 (blas.ts gemmNTRounded /
   * gemmRounded, the table centred as it is rounded), about twice as fast with 16-lane vectors;
   * 'float64' in double. The basis is orthonormalised and the Ritz step solved in double either way.
   */
  precision?: 'float32' | 'float64';
}

export interface TruncatedSvd {
  /** n × k left singular vectors (orthonormal columns). */
  U: Matrix;
  /** k singular values, descending. */
  s: Float64Array;
  /** k × d right singular vectors (orthonormal rows). */
  Vt: Matrix;
  /** Dimension of the Krylov space the Ritz vectors were taken from. */
  krylovDim: number;
}

/**
 * In float32 products a direction that depends on the earlier ones leaves rounding noise of up to
 * ≈ d·2⁻²⁴ of its norm (a few 1e-4 at d = 5,792) rather than zero: rows keeping less than this
 * share are taken as dependent. (Double products: 1e-10.)
 */
const F32_DEPENDENT = 1e-3;

/**
 * Orthonormalise rows r0 … r1−1 of A (rows of length m) against rows 0 … r0−1 (already
 * orthonormal) and among themselves. The projection on the earlier rows is block Gram–Schmidt
 * through the gemm kernels, run twice ("twice is enough", Giraud et al. 2005); within the block,
 * Cholesky QR twice, or modified Gram–Schmidt (twice) when the block is ill-conditioned. A row
 * left with at most `tol` of its norm is dependent and dropped; the kept rows are moved up.
 * Returns the new row count.
 */
export function orthonormalizeRows(A: Matrix, r0: number, r1: number, tol = 1e-10): number {
  const m = A.cols, a = A.data;
  let t = r1 - r0;
  const norm0 = new Float64Array(t);
  for (let r = 0; r < t; r++) {
    const ro = (r0 + r) * m;
    let s = 0;
    for (let j = 0; j < m; j++) s += a[ro + j]! * a[ro + j]!;
    norm0[r] = Math.sqrt(s);
  }
  if (r0 > 0) {
    const prev: Matrix = { rows: r0, cols: m, data: a.subarray(0, r0 * m) };
    const Y: Matrix = { rows: t, cols: m, data: a.subarray(r0 * m, r1 * m) };
    for (let pass = 0; pass < 2; pass++) {
      const C = gemmNT(Y, prev); // t × r0 coefficients
      const P = gemm(C, prev);
      for (let i = 0; i < t * m; i++) Y.data[i] -= P.data[i]!;
    }
  }
  // A row the projection left with at most `tol` of its norm depends on the earlier ones: dropped
  // here, the kept rows moved up (Gram–Schmidt below would drop it too, but would have to run for
  // the whole block: with float32 products, whose dependent rows keep ≈ 1e-4 of their norm, that
  // was the third Krylov block of every fit).
  const resid = new Float64Array(t);
  let kept = 0;
  for (let r = 0; r < t; r++) {
    const ro = (r0 + r) * m;
    let s = 0;
    for (let j = 0; j < m; j++) s += a[ro + j]! * a[ro + j]!;
    if (!(norm0[r]! > 0 && Math.sqrt(s) > tol * norm0[r]!)) continue;
    if (kept !== r) a.copyWithin((r0 + kept) * m, ro, ro + m);
    norm0[kept] = norm0[r]!;
    resid[kept] = Math.sqrt(s);
    kept++;
  }
  t = kept;
  r1 = r0 + t;
  // Within the block: Cholesky QR twice (Y ← L⁻¹·Y with L·Lᵀ = Y·Yᵀ, Yamamoto et al. 2015),
  // all in gemm-sized steps; if the block is too ill-conditioned for it, modified Gram–Schmidt.
  const Y: Matrix = { rows: t, cols: m, data: a.subarray(r0 * m, r1 * m) };
  // A row that lost most of its norm to the projection is nearly dependent: Gram–Schmidt below
  // decides whether to keep it. Otherwise the block is well conditioned enough for Cholesky QR.
  let cholOk = t > 0;
  for (let r = 0; r < t && cholOk; r++) if (!(resid[r]! > 1e-6 * norm0[r]!)) cholOk = false;
  for (let pass = 0; pass < 2 && cholOk; pass++) {
    const G = tcrossprod(Y);
    let L: Matrix;
    try {
      L = cholesky(G);
    } catch (e) {
      if (!(e instanceof NotPositiveDefiniteError)) throw e;
      cholOk = false;
      break;
    }
    // A pivot far below the diagonal scale means a nearly dependent row: let MGS drop it.
    for (let i = 0; i < t; i++) {
      const piv = L.data[i * t + i]!;
      if (!(piv > 1e-6 * Math.sqrt(G.data[i * t + i]!))) cholOk = false;
    }
    if (!cholOk) break;
    Y.data.set(gemm(lowerInverse(L), Y).data);
  }
  if (cholOk) return r1;
  let out = r0;
  for (let r = 0; r < t; r++) {
    const ro = (r0 + r) * m;
    if (!(norm0[r]! > 0)) continue;
    for (let pass = 0; pass < 2; pass++) {
      for (let q = r0; q < out; q++) {
        const qo = q * m;
        let dot = 0;
        for (let j = 0; j < m; j++) dot += a[qo + j]! * a[ro + j]!;
        if (dot === 0) continue;
        for (let j = 0; j < m; j++) a[ro + j] -= dot * a[qo + j]!;
      }
    }
    let norm = 0;
    for (let j = 0; j < m; j++) norm += a[ro + j]! * a[ro + j]!;
    norm = Math.sqrt(norm);
    if (!(norm > tol * norm0[r]!)) continue;
    const inv = 1 / norm, oo = out * m;
    for (let j = 0; j < m; j++) a[oo + j] = a[ro + j]! * inv;
    out++;
  }
  return out;
}

/**
 * The leading k singular triplets of X − 1·μᵀ. X may be float32 storage; `mean` is μ (length d).
 * Deterministic for a given seed. Signs are those of the Ritz vectors; callers fix their own
 * convention (PCA applies svd_flip).
 */
export function truncatedSvdCentered(X: StoredMatrix, mean: Float64Array, k: number, opts: TruncatedSvdOptions = {}): TruncatedSvd {
  const n = X.rows, d = X.cols;
  const p = opts.oversamples ?? 10;
  const q = opts.iterations ?? 2;
  const rank = Math.min(n, d);
  if (!(k >= 1 && k <= rank)) throw new RangeError(`truncatedSvdCentered: k = ${k} outside 1…${rank}`);
  const l = Math.min(rank, k + p);
  const L = Math.min(rank, l * (q + 1));
  // K: orthonormal rows spanning the Krylov space in Rⁿ; B = K·(X − 1μᵀ), the matching rows in Rᵈ.
  const K = zeros(L, n);
  const B = zeros(L, d);
  const rng = new Rng(opts.seed ?? 0);
  const Omega = zeros(l, d);
  rng.fillNormal(Omega.data);
  const f32 = (opts.precision ?? 'float32') === 'float32';
  // The float32 kernels centre X as they round it while packing (a centred float32 copy made
  // first would save ≈ 15 % of each pass but costs more than that to write on this VM).
  const centring = { shiftB: mean };
  // Block rows of Y = (X − 1μᵀ)·Gᵀ for G with rows g: in float32 centred as X is rounded; in
  // double X·g − (g·μ).
  const productRows = (G: Matrix, into: number, count: number): void => {
    const Kb: Matrix = { rows: count, cols: n, data: K.data.subarray(into * n, (into + count) * n) };
    if (f32) {
      gemmNTRounded(G, X, centring, Kb);
      return;
    }
    gemmNT(G, X, Kb); // count × n
    const kd = Kb.data;
    for (let r = 0; r < count; r++) {
      const go = r * d;
      let gm = 0;
      for (let j = 0; j < d; j++) gm += G.data[go + j]! * mean[j]!;
      const ko = r * n;
      for (let i = 0; i < n; i++) kd[ko + i] -= gm;
    }
  };
  let filled = 0;
  let block: Matrix = Omega;
  let blockRows = l;
  for (let it = 0; it <= q && filled < L; it++) {
    const take = Math.min(blockRows, L - filled);
    const G: Matrix = take === block.rows ? block : { rows: take, cols: d, data: block.data.subarray(0, take * d) };
    productRows(G, filled, take);
    const before = filled;
    filled = orthonormalizeRows(K, filled, filled + take, f32 ? F32_DEPENDENT : 1e-10);
    const added = filled - before;
    if (added === 0) break;
    // W = Q_new·(X − 1μᵀ): rows of B, and the next block's generator.
    const Q: Matrix = { rows: added, cols: n, data: K.data.subarray(before * n, filled * n) };
    const W: Matrix = { rows: added, cols: d, data: B.data.subarray(before * d, filled * d) };
    if (f32) {
      gemmRounded(Q, X, centring, W);
    } else {
      gemm(Q, X, W);
      const w = W.data;
      for (let r = 0; r < added; r++) {
        let qs = 0;
        const qo = r * n;
        for (let i = 0; i < n; i++) qs += Q.data[qo + i]!;
        const wo = r * d;
        for (let j = 0; j < d; j++) w[wo + j] -= qs * mean[j]!;
      }
    }
    block = { rows: added, cols: d, data: B.data.subarray(before * d, filled * d) };
    blockRows = added;
  }
  // Rayleigh–Ritz: B (filled × d) = K·Xc, its SVD through the small Gram matrix B·Bᵀ.
  const Bf: Matrix = { rows: filled, cols: d, data: B.data.subarray(0, filled * d) };
  const kk = Math.min(k, filled);
  const G = tcrossprod(Bf);
  const { values, vectors } = symmetricEigen(G, { k: kk });
  const s = new Float64Array(kk);
  for (let c = 0; c < kk; c++) s[c] = Math.sqrt(Math.max(values[c]!, 0));
  const cutoff = (s[0] ?? 0) * 1e-12;
  // Vt = Σ⁻¹·Ubᵀ·B (kk × d); U = Kᵀ·Ub (n × kk).
  const Ubt = zeros(kk, filled);
  for (let c = 0; c < kk; c++) for (let r = 0; r < filled; r++) Ubt.data[c * filled + r] = vectors.data[r * kk + c]!;
  const Vt = gemm(Ubt, Bf);
  for (let c = 0; c < kk; c++) {
    const inv = s[c]! > cutoff ? 1 / s[c]! : 0;
    for (let j = 0; j < d; j++) Vt.data[c * d + j] *= inv;
  }
  const Kf: Matrix = { rows: filled, cols: n, data: K.data.subarray(0, filled * n) };
  const Ut = gemm(Ubt, Kf); // kk × n
  const U = zeros(n, kk);
  for (let c = 0; c < kk; c++) for (let i = 0; i < n; i++) U.data[i * kk + c] = Ut.data[c * n + i]!;
  return { U, s, Vt, krylovDim: filled };
}
