/**
 * Symmetric eigendecomposition: Householder reduction to tridiagonal form, then implicit QL.
 * Algorithms after Wilkinson & Reinsch's tred2/tql2 (Handbook for Automatic Computation, 1971),
 * adapted to row-major storage: Householder vectors are kept as rows so every O(n³) loop runs
 * along contiguous memory.
 *
 * When only the leading k eigenvectors are wanted (PCA with 50 of 454 components, spherize on a
 * few controls), eigenvalues come from QL without vectors (O(n²)), eigenvectors of the
 * tridiagonal from inverse iteration (O(n) each, Gram–Schmidt within clusters of close
 * eigenvalues, as LAPACK's dstein), and only those k vectors are transformed back (O(n²k)).
 */
import { type Matrix, zeros } from './matrix.js';

export interface EigenResult {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** n × k: column c is the eigenvector of values[c] (unit length). */
  vectors: Matrix;
}

export interface EigenOptions {
  /** Number of leading (largest) eigenpairs to return; default all. */
  k?: number;
  /** Skip eigenvectors (values only). */
  valuesOnly?: boolean;
}

interface Tridiagonal {
  n: number;
  diag: Float64Array;
  /** off[i] couples i−1 and i (off[0] = 0). */
  off: Float64Array;
  /** Row s holds the Householder vector u_s in its first s entries. */
  house: Float64Array;
  /** h_s of reflector s (P_s = I − u uᵀ / h_s), 0 when the step was skipped. */
  h: Float64Array;
}

function tridiagonalize(A: Matrix): Tridiagonal {
  const n = A.rows;
  // W plays the role of the transposed working matrix; A is symmetric so W starts as A.
  const w = A.data.slice();
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const hs = new Float64Array(n);
  for (let j = 0; j < n; j++) d[j] = w[j * n + (n - 1)]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + (i - 1)]!;
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        w[i * n + j] = f;
        const rj = j * n;
        g = e[j]! + w[rj + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const v = w[rj + k]!;
          g += v * d[k]!;
          e[k] += v * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        const rj = j * n;
        for (let k = j; k <= i - 1; k++) w[rj + k] -= f * e[k]! + g * d[k]!;
        d[j] = w[rj + (i - 1)]!;
        w[rj + i] = 0;
      }
    }
    d[i] = h;
  }
  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    diag[i] = w[i * n + i]!;
    hs[i] = i === 0 ? 0 : d[i]!;
  }
  // The last row's diagonal was never overwritten by a reflector; rows store u_s in [0, s).
  e[0] = 0;
  return { n, diag, off: e, house: w, h: hs };
}

function hypot(a: number, b: number): number {
  const x = Math.abs(a), y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

/**
 * Implicit QL on the tridiagonal (d, e) — e[i] couples i−1 and i on entry. Eigenvalues land in d.
 * With z (n×n row-major, rows = vectors being rotated), the rotations are applied to its rows.
 */
function tql(d: Float64Array, eIn: Float64Array, z: Float64Array | null): void {
  const n = d.length;
  const e = new Float64Array(n);
  for (let i = 1; i < n; i++) e[i - 1] = eIn[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('symmetricEigen: QL iteration did not converge');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m]!;
        let c = 1, c2 = 1, c3 = 1;
        const el1 = e[l + 1]!;
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (z) {
            const ri = i * n, ri1 = ri + n;
            for (let k = 0; k < n; k++) {
              const zh = z[ri1 + k]!;
              const zi = z[ri + k]!;
              z[ri1 + k] = s * zi + c * zh;
              z[ri + k] = c * zi - s * zh;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/** Apply P_1 … P_{n−1} (in that order) to vector x in place: x ← Q·x. */
function backTransform(t: Tridiagonal, x: Float64Array, xOff: number): void {
  const { n, house, h } = t;
  for (let s = 1; s < n; s++) {
    const hs = h[s]!;
    if (hs === 0) continue;
    const rs = s * n;
    let g = 0;
    for (let k = 0; k < s; k++) g += house[rs + k]! * x[xOff + k]!;
    g /= hs;
    for (let k = 0; k < s; k++) x[xOff + k] -= g * house[rs + k]!;
  }
}

/**
 * Eigenvector of the tridiagonal for eigenvalue lambda by inverse iteration with partial pivoting
 * (Gaussian elimination on T − λI). Writes a unit vector into out.
 */
function tridiagInverseIteration(
  diag: Float64Array, off: Float64Array, lambda: number, out: Float64Array,
  ortho: Float64Array[], tnorm: number, work: Float64Array[],
): void {
  const n = diag.length;
  const [u0, u1, u2, l, b] = work as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const piv = new Uint8Array(n);
  const tiny = Math.max(tnorm, Number.MIN_VALUE) * 2 ** -52;
  // Factor (T − λI) = P L U with U having two superdiagonals.
  for (let i = 0; i < n; i++) {
    u0[i] = diag[i]! - lambda;
    u1[i] = i + 1 < n ? off[i + 1]! : 0;
    u2[i] = 0;
  }
  let sub = n > 1 ? off[1]! : 0; // element (i+1, i) to eliminate
  for (let i = 0; i < n - 1; i++) {
    const nextSub = i + 2 < n ? off[i + 2]! : 0;
    if (Math.abs(u0[i]!) >= Math.abs(sub)) {
      piv[i] = 0;
      if (u0[i] === 0) u0[i] = tiny;
      const m = sub / u0[i]!;
      l[i] = m;
      u0[i + 1] -= m * u1[i]!;
      // u1[i+1] unchanged minus m·u2[i] (which is 0)
    } else {
      // Swap rows i and i+1.
      piv[i] = 1;
      const m = u0[i]! / sub;
      l[i] = m;
      const a0 = sub, a1 = u0[i + 1]!, a2 = u1[i + 1]!;
      const b1 = u1[i]!, b2 = u2[i]!;
      u0[i] = a0;
      u1[i] = a1;
      u2[i] = a2;
      u0[i + 1] = b1 - m * a1;
      u1[i + 1] = b2 - m * a2;
    }
    sub = nextSub;
  }
  if (u0[n - 1] === 0) u0[n - 1] = tiny;
  // Start vector: deterministic, not orthogonal to any eigenvector in practice.
  for (let i = 0; i < n; i++) b[i] = 1 + 0.5 * Math.sin(1.7 * i + 0.3);
  for (let it = 0; it < 4; it++) {
    // Forward: apply L⁻¹ with the recorded swaps.
    for (let i = 0; i < n - 1; i++) {
      if (piv[i]) {
        const t = b[i]!;
        b[i] = b[i + 1]!;
        b[i + 1] = t - l[i]! * b[i]!;
      } else {
        b[i + 1] -= l[i]! * b[i]!;
      }
    }
    // Back: U x = b.
    for (let i = n - 1; i >= 0; i--) {
      let s = b[i]!;
      if (i + 1 < n) s -= u1[i]! * b[i + 1]!;
      if (i + 2 < n) s -= u2[i]! * b[i + 2]!;
      b[i] = s / u0[i]!;
    }
    for (const q of ortho) {
      let g = 0;
      for (let i = 0; i < n; i++) g += q[i]! * b[i]!;
      for (let i = 0; i < n; i++) b[i] -= g * q[i]!;
    }
    let nrm = 0;
    for (let i = 0; i < n; i++) nrm += b[i]! * b[i]!;
    nrm = Math.sqrt(nrm);
    if (!(nrm > 0)) {
      for (let i = 0; i < n; i++) b[i] = ((i * 7919) % 13) - 6;
      continue;
    }
    for (let i = 0; i < n; i++) b[i] /= nrm;
  }
  out.set(b);
}

/** Eigenvalues (descending) and, unless valuesOnly, the leading k eigenvectors of a symmetric matrix. */
export function symmetricEigen(A: Matrix, opts: EigenOptions = {}): EigenResult {
  const n = A.rows;
  if (A.cols !== n) throw new RangeError(`symmetricEigen: matrix is ${A.rows}×${A.cols}, not square`);
  const k = Math.min(n, opts.k ?? n);
  if (n === 0) return { values: new Float64Array(0), vectors: zeros(0, 0) };
  for (let i = 0; i < A.data.length; i++) {
    if (!Number.isFinite(A.data[i]!)) throw new RangeError('symmetricEigen: matrix has non-finite entries');
  }
  const t = tridiagonalize(A);
  const values = t.diag.slice();
  const full = !opts.valuesOnly && k > n / 4;
  let z: Float64Array | null = null;
  if (full) {
    z = new Float64Array(n * n);
    for (let i = 0; i < n; i++) z[i * n + i] = 1;
  }
  tql(values, t.off, z);
  // Order descending.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) sorted[i] = values[order[i]!]!;
  if (opts.valuesOnly) return { values: sorted, vectors: zeros(n, 0) };
  const V = zeros(n, k);
  const vec = new Float64Array(n);
  if (full) {
    // Rows of z are eigenvectors of T (z was rotated as rows).
    for (let c = 0; c < k; c++) {
      const src = order[c]!;
      for (let i = 0; i < n; i++) vec[i] = z![src * n + i]!;
      backTransform(t, vec, 0);
      for (let i = 0; i < n; i++) V.data[i * k + c] = vec[i]!;
    }
  } else {
    let tnorm = 0;
    for (let i = 0; i < n; i++) tnorm = Math.max(tnorm, Math.abs(t.diag[i]!) + Math.abs(t.off[i]!) + (i + 1 < n ? Math.abs(t.off[i + 1]!) : 0));
    const work = [0, 1, 2, 3, 4].map(() => new Float64Array(n));
    const tvecs: Float64Array[] = [];
    const gap = 1e-3 * tnorm;
    for (let c = 0; c < k; c++) {
      const lam = sorted[c]!;
      // Orthogonalise against already computed vectors of nearby eigenvalues (a cluster).
      const ortho: Float64Array[] = [];
      for (let p = c - 1; p >= 0 && sorted[p]! - lam <= gap; p--) ortho.push(tvecs[p]!);
      const tv = new Float64Array(n);
      tridiagInverseIteration(t.diag, t.off, lam, tv, ortho, tnorm, work);
      tvecs.push(tv);
      vec.set(tv);
      backTransform(t, vec, 0);
      for (let i = 0; i < n; i++) V.data[i * k + c] = vec[i]!;
    }
  }
  return { values: sorted.subarray(0, opts.valuesOnly ? n : n) as Float64Array, vectors: V };
}
