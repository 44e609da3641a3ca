/**
 * Thin SVD X = U·diag(s)·Vt through the symmetric eigendecomposition of the smaller Gram matrix
 * (X·Xᵀ when rows ≤ cols, else Xᵀ·X). Accurate for the leading singular values that PCA and
 * whitening use; singular values below ~1e-8·s_max lose relative accuracy (squared condition
 * number), so callers treat those as zero.
 */
import { type Matrix, type StoredMatrix, zeros } from './matrix.js';
import { tcrossprod, crossprod, gemm, gemmTN, gemmRounded, tcrossprodRounded } from './blas.js';
import { symmetricEigen, symmetricEigenRows } from './eigen.js';
import { centeredCrossprod, centeredProduct } from './centered.js';
import { native, hugeAlignedFloat64 } from './native.js';
import { flipColumnSigns } from './signs.js';

export interface SvdResult {
  U: Matrix; // m × k
  s: Float64Array; // k, descending
  Vt: Matrix; // k × n
}

export function thinSvd(X: Matrix, k?: number): SvdResult {
  const m = X.rows, n = X.cols;
  const r = Math.min(m, n, k ?? Math.min(m, n));
  const wide = m <= n;
  return fromGram(wide ? tcrossprod(X) : crossprod(X), r, wide, (V) => (wide ? gemmTN(X, V) : gemm(X, V)));
}

/** Values up to which a scratch matrix is kept between calls (see Kept). */
const SCRATCH_MAX = 1 << 25;

/**
 * A scratch matrix kept between calls (up to SCRATCH_MAX values) so that repeated fits do not pay
 * for fresh pages each time — first-touch page faults (≈ 13 µs a page on this VM) cost as much as
 * the Gram product itself on a 384 × 5,792 table. A nested or oversized request gets a fresh one.
 */
class Kept {
  private buf: Float64Array | null = null;
  private busy = false;
  constructor(private readonly alloc: (len: number) => Float64Array) {}
  take(len: number): Float64Array {
    if (this.busy || len > SCRATCH_MAX) return new Float64Array(len);
    if (!this.buf || this.buf.length < len) this.buf = this.alloc(len);
    this.busy = true;
    return this.buf.subarray(0, len);
  }
  release(a: Float64Array): void {
    if (a.buffer === this.buf?.buffer) this.busy = false;
  }
}
/** The centred copy of a wide X (thinSvdCentered). */
const keptCentred = new Kept((len) => new Float64Array(len));
/** The n × n Gram matrix of the float32 Gram solver, overwritten by every call (the eigensolver works in it). */
const keptGram = new Kept(hugeAlignedFloat64);
/** The Gram solver's k × n leading eigenvectors, used for W and U and then dropped. */
const keptRows = new Kept((len) => new Float64Array(len));

/**
 * Thin SVD of the column-centred X − 1·μᵀ, plus its total sum of squares. Tall matrices (the
 * large case) never form the centred copy: the Gram matrix and U come from centred row blocks
 * (linalg/centered.ts), so X may be a 100,000-row float32 table held once. Wide ones centre a
 * float64 copy (n ≤ d keeps it no larger than the d × d work of the tall case).
 */
export function thinSvdCentered(X: StoredMatrix, mean: ArrayLike<number>, k?: number): SvdResult & { sumSquares: number } {
  const m = X.rows, n = X.cols;
  const r = Math.min(m, n, k ?? Math.min(m, n));
  if (m <= n) {
    const Xc: Matrix = { rows: m, cols: n, data: keptCentred.take(m * n) };
    try {
      const nat = native();
      let ss = 0;
      if (nat && X.data instanceof Float64Array && mean instanceof Float64Array) {
        ss = nat.centerRows(X.data, m, n, mean, Xc.data); // the loops below, natively
      } else {
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) Xc.data[i * n + j] = X.data[i * n + j]! - mean[j]!;
        for (let t = 0; t < Xc.data.length; t++) ss += Xc.data[t]! * Xc.data[t]!;
      }
      return { ...thinSvd(Xc, r), sumSquares: ss };
    } finally {
      keptCentred.release(Xc.data);
    }
  }
  const G = centeredCrossprod(X, mean);
  let ss = 0;
  for (let j = 0; j < n; j++) ss += G.data[j * n + j]!;
  return { ...fromGram(G, r, false, (V) => centeredProduct(X, mean, V)), sumSquares: ss };
}

/**
 * The SVD from the eigenpairs of the Gram matrix G (X·Xᵀ when `wide`, else Xᵀ·X); `project(V)`
 * returns Xᵀ·V (wide) or X·V (tall).
 */
function fromGram(G: Matrix, r: number, wide: boolean, project: (V: Matrix) => Matrix): SvdResult {
  const { values, vectors } = symmetricEigen(G, { k: r });
  const s = new Float64Array(r);
  const smax = Math.sqrt(Math.max(values[0] ?? 0, 0));
  for (let c = 0; c < r; c++) s[c] = Math.sqrt(Math.max(values[c]!, 0));
  const cutoff = smax * 1e-12;
  if (wide) {
    // vectors = U (m × r); V = Xᵀ U / s.
    const U = vectors;
    const XtU = project(U); // n × r
    const n = XtU.rows;
    const Vt = zeros(r, n);
    for (let c = 0; c < r; c++) {
      const inv = s[c]! > cutoff ? 1 / s[c]! : 0;
      for (let j = 0; j < n; j++) Vt.data[c * n + j] = XtU.data[j * r + c]! * inv;
    }
    return { U, s, Vt };
  }
  const V = vectors; // n × r
  const n = V.rows;
  const XV = project(V); // m × r
  const m = XV.rows;
  const U = zeros(m, r);
  for (let c = 0; c < r; c++) {
    const inv = s[c]! > cutoff ? 1 / s[c]! : 0;
    for (let i = 0; i < m; i++) U.data[i * r + c] = XV.data[i * r + c]! * inv;
  }
  const Vt = zeros(r, n);
  for (let c = 0; c < r; c++) for (let j = 0; j < n; j++) Vt.data[c * n + j] = V.data[j * r + c]!;
  return { U, s, Vt };
}

/**
 * A float32 Gram matrix is trusted for the eigenvalues above this multiple of its rounding noise,
 * estimated as √d·2⁻²⁴·trace (each entry a float32 sum over d products, in p order): below it an
 * eigenvector may be mostly noise, and thinSvdCenteredRounded declines the problem.
 */
export const ROUNDED_GRAM_MARGIN = 10;

/**
 * The leading k singular triplets of the column-centred X − 1·μᵀ for a wide X (rows ≤ cols), the
 * Gram matrix formed in float32: (1) G = Xc·Xcᵀ by the float32 kernel, X centred as it is
 * rounded (blas.ts tcrossprodRounded: 16 float lanes per AVX-512 register where the double product
 * has 8, one triangle);
 * (2) the leading k eigenvectors U₀ of G (eigen.ts: tridiagonalisation, inverse iteration for
 * the k wanted vectors only); (3) W = U₀ᵀ·Xc in float32 (k × d); (4) a Rayleigh–Ritz step in
 * double on W: W·Wᵀ = R·diag(s²)·Rᵀ, Vt = diag(s)⁻¹·Rᵀ·W, U = U₀·R. Step 4 makes the components
 * orthonormal to double precision and the singular values Ritz values of the exact Gram matrix
 * (errors second order in the eigenvectors' rounding error) rather than eigenvalues of the
 * rounded one. Signs follow scikit-learn's svd_flip (the largest-|U| entry of each column positive).
 *
 * `sumSquares` is ‖Xc‖²_F (computed in double by the caller): the scale of the Gram matrix's
 * rounding noise. Returns null — the caller then runs the exact solver — when the k-th singular
 * value squared is within ROUNDED_GRAM_MARGIN of that noise (rank-deficient input, k at or beyond
 * the rank, or components too small for float32 to resolve).
 */
export function thinSvdCenteredRounded(X: StoredMatrix, mean: Float64Array, k: number, sumSquares: number): SvdResult | null {
  const m = X.rows, n = X.cols;
  if (m > n) throw new RangeError(`thinSvdCenteredRounded: for wide tables (rows ≤ columns), got ${m} × ${n}`);
  if (!(Number.isInteger(k) && k >= 1 && k <= m)) throw new RangeError(`thinSvdCenteredRounded: k = ${k} outside 1…${m}`);
  // A non-finite entry of X makes ‖Xc‖² non-finite: declined, the exact solver reports it; so is
  // a table whose Gram entries could overflow float32 (|G_ij| ≤ ‖Xc‖² < 10³⁶ < 3.4·10³⁸).
  if (!(sumSquares < 1e36)) return null;
  const noise = Math.sqrt(n) * 2 ** -24 * sumSquares;
  const G: Matrix = { rows: m, cols: m, data: keptGram.take(m * m) };
  const rows = keptRows.take(k * m);
  try {
    return roundedGramSvd(X, mean, k, noise, G, rows);
  } finally {
    keptGram.release(G.data);
    keptRows.release(rows);
  }
}

/** thinSvdCenteredRounded with its scratch: G (m × m) and the k × m rows of the eigenvectors. */
function roundedGramSvd(X: StoredMatrix, mean: Float64Array, k: number, noise: number, G: Matrix, rows: Float64Array): SvdResult | null {
  const n = X.cols;
  tcrossprodRounded(X, mean, G);
  // Finite: float32 sums of products of finite values, bounded by ‖Xc‖² < 10³⁶.
  const eig = symmetricEigenRows(G, { k, overwrite: true, finite: true, rowsOut: rows });
  if (!(eig.values[k - 1]! > ROUNDED_GRAM_MARGIN * noise)) return null;
  const Y = eig.rows; // k × m: the leading eigenvectors as rows
  // W = Y·Xc, computed where the components will be returned and rotated there in place. The
  // product writes every entry: the buffer is not zeroed first (zeroing memory the allocator
  // reuses faults its pages in 4 KiB at a time before the huge-page hint can apply — ≈ 500 faults,
  // ≈ 6 ms, in each of a process's first calls at 384 × 5,792).
  const W = gemmRounded(Y, X, { shiftB: mean }, { rows: k, cols: n, data: hugeAlignedFloat64(k * n, { zeroed: false }) });
  const H = zeros(k, k);
  forColumnBlocks(W, (B) => {
    const Hb = tcrossprod(B);
    for (let t = 0; t < k * k; t++) H.data[t] += Hb.data[t]!;
  });
  const { values, vectors: R } = symmetricEigen(H);
  if (!(values[k - 1]! > ROUNDED_GRAM_MARGIN * noise)) return null;
  const s = new Float64Array(k);
  for (let c = 0; c < k; c++) s[c] = Math.sqrt(values[c]!);
  // U = Yᵀ·R. Its columns' signs are set here as scikit-learn's svd_flip sets them (the entry of
  // largest |U| positive), folded into R with the 1/s scaling: Vt = (diag(±1/s)·Rᵀ)·W comes out
  // final, with no pass over its k × d entries.
  const U = gemmTN(Y, R);
  const Rt = flippedScaledTranspose(U, R, s);
  if (blockBuffer.out.length < k * COLUMN_BLOCK) blockBuffer.out = new Float64Array(k * COLUMN_BLOCK);
  forColumnBlocks(W, (B) => gemm(Rt, B, { rows: k, cols: B.cols, data: blockBuffer.out.subarray(0, k * B.cols) }).data);
  return { U, s, Vt: W };
}

/**
 * Flip the sign of each column of U (m × k) whose largest-|entry| is negative (svd_flip's rule) and
 * return diag(±1/s)·Rᵀ with the same signs.
 */
function flippedScaledTranspose(U: Matrix, R: Matrix, s: Float64Array): Matrix {
  const k = U.cols;
  const flipped = flipColumnSigns(U);
  const Rt = zeros(k, k);
  for (let c = 0; c < k; c++) {
    const f = (flipped[c] ? -1 : 1) / s[c]!;
    for (let a = 0; a < k; a++) Rt.data[c * k + a] = R.data[a * k + c]! * f;
  }
  return Rt;
}

/** Columns per block in forColumnBlocks. */
const COLUMN_BLOCK = 1024;
/** forColumnBlocks' copies of a block and the rotated block, kept between calls (fresh pages are slow). */
const blockBuffer = { in: new Float64Array(0), out: new Float64Array(0) };

/**
 * Visit W (r × d) in blocks of COLUMN_BLOCK columns, each copied into a contiguous r × b matrix;
 * when `visit` returns an array, it is copied back as the block's new columns. The products on the
 * blocks pack a few hundred KB instead of W whole (megabytes of fresh pages on a first call).
 */
function forColumnBlocks(W: Matrix, visit: (B: Matrix) => Float64Array | void): void {
  const r = W.rows, d = W.cols, w = W.data;
  if (blockBuffer.in.length < r * COLUMN_BLOCK) blockBuffer.in = new Float64Array(r * COLUMN_BLOCK);
  for (let j0 = 0; j0 < d; j0 += COLUMN_BLOCK) {
    const b = Math.min(COLUMN_BLOCK, d - j0);
    const B: Matrix = { rows: r, cols: b, data: blockBuffer.in.subarray(0, r * b) };
    for (let i = 0; i < r; i++) B.data.set(w.subarray(i * d + j0, i * d + j0 + b), i * b);
    const back = visit(B);
    if (back) for (let i = 0; i < r; i++) w.set(back.subarray(i * b, i * b + b), i * d + j0);
  }
}
