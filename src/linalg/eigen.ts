/**
 * Symmetric eigendecomposition: Householder reduction to tridiagonal form, then implicit QL.
 * Algorithms after Wilkinson & Reinsch's tred2/tql2 (Handbook for Automatic Computation, 1971),
 * adapted to row-major storage: Householder vectors are kept as rows so every O(n³) loop runs
 * along contiguous memory.
 *
 * When only the leading k eigenvectors are wanted (PCA with 50 of 454 components, spherize on a
 * few controls), eigenvalues come from the root-free QL without vectors (O(n²), tqlValues), eigenvectors of the
 * tridiagonal from inverse iteration (O(n) each, Gram–Schmidt within clusters of close
 * eigenvalues, as LAPACK's dstein), and only those k vectors are transformed back (O(n²k)).
 *
 * Speed: for n ≥ 32 the O(n³) loops — tred2's symmetric product and rank-2 update, the QL
 * rotations of the vectors, the Householder back-transformation — run as f64x2 wasm kernels
 * (wasm/kernels.wat) on arrays kept in wasm memory. Each kernel has a JS twin here with exactly
 * the same operations in the same order (dot products as four interleaved partial sums), so
 * PHENOMAP_NO_WASM=1 gives bit-identical results. With the native addon (native.ts) the whole
 * tridiagonalisation, QL (with its rotations) and the inverse iteration run natively, scalar steps
 * included, and the back-transformation takes all wanted vectors in one call — again the same
 * operations in the same order (the inverse iteration's start vector, which needs Math.sin, is
 * computed here and passed in). The native tridiagonalisation fuses each step's rank-2 update
 * with the next step's symmetric product (one pass over the matrix instead of three), keeping
 * every operation and its order, so its bits are still those of the loops here.
 */
import { type Matrix, zeros } from './matrix.js';
import { wasm, wasmF64, wasmReserve } from './wasm/runtime.js';
import { native } from './native.js';

/** Below this order the JS loops are as fast as the wasm calls (and need no copies). */
const WASM_MIN_N = 32;

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
  /**
   * A's storage is scratch the solver may overwrite (it then works in place: no n² workspace to
   * allocate or copy into). A holds no meaningful values afterwards.
   */
  overwrite?: boolean;
  /** The caller has established that every entry is finite (skips that pass over A). */
  finite?: boolean;
  /**
   * symmetricEigenRows only: where the k × n rows of eigenvectors are written (at least k·n values,
   * any contents: every one is overwritten) — the caller's scratch instead of a fresh array.
   */
  rowsOut?: Float64Array;
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
  /** Byte addresses of house and h when they live in wasm memory (see Workspace). */
  houseAddr?: number;
  hAddr?: number;
}

/**
 * Where symmetricEigen keeps its O(n²) arrays: plain JS arrays, or views of the wasm memory
 * (laid out [w n² | z n² | d | e | h | x | cs 2n]) so the kernels can work on them in place.
 * Shared wasm memory never moves, so the views stay valid for the whole call.
 */
interface Workspace {
  w: Float64Array; d: Float64Array; e: Float64Array; h: Float64Array;
  z: Float64Array; x: Float64Array; cs: Float64Array;
  /** Element offsets of each array in wasm memory, or undefined for the JS workspace. */
  at?: { w: number; d: number; e: number; h: number; z: number; x: number; cs: number };
  /** Views of the kept workspace (released when symmetricEigen returns). */
  kept?: boolean;
}

function makeWorkspace(n: number, needZ: boolean, scratchW?: Float64Array): Workspace {
  if (wasm && n >= WASM_MIN_N && !native()) {
    const zn = needZ ? n * n : 0;
    const at = { w: 0, z: n * n, d: n * n + zn, e: n * n + zn + n, h: n * n + zn + 2 * n, x: n * n + zn + 3 * n, cs: n * n + zn + 4 * n };
    if (wasmReserve((at.cs + 2 * n) * 8)) {
      const mem = wasmF64();
      const view = (o: number, len: number) => {
        const v = mem.subarray(o, o + len);
        v.fill(0);
        return v;
      };
      return {
        w: view(at.w, n * n), z: view(at.z, zn), d: view(at.d, n), e: view(at.e, n), h: view(at.h, n),
        x: view(at.x, n), cs: view(at.cs, 2 * n), at,
      };
    }
  }
  if (n >= KEPT_MIN_N && n <= KEPT_MAX_N && !keptBusy) {
    // Zeroed as a fresh workspace would be: the algorithm relies on it (z's identity, skipped steps).
    const zn = needZ ? n * n : 0;
    if (!kept || kept.w.length < n * n || kept.z.length < zn) {
      const cap = Math.max(n, kept ? Math.sqrt(kept.w.length) : 0);
      kept = { w: new Float64Array(cap * cap), z: new Float64Array(needZ ? cap * cap : kept?.z.length ?? 0), v: new Float64Array(6 * cap) };
    }
    keptBusy = true;
    const part = (o: number, len: number) => kept!.v.subarray(o * n, o * n + len).fill(0);
    return {
      w: scratchW ?? kept.w.subarray(0, n * n).fill(0), z: kept.z.subarray(0, zn).fill(0), d: part(0, n), e: part(1, n), h: part(2, n), x: part(3, n),
      cs: part(4, 2 * n), kept: true,
    };
  }
  return {
    w: scratchW ?? new Float64Array(n * n), z: new Float64Array(needZ ? n * n : 0), d: new Float64Array(n), e: new Float64Array(n),
    h: new Float64Array(n), x: new Float64Array(n), cs: new Float64Array(2 * n),
  };
}

/**
 * The JavaScript-array workspace of orders KEPT_MIN_N … KEPT_MAX_N is kept between calls: fresh
 * pages cost ≈ 13 µs each on this VM, ≈ 4 ms for a 384² matrix — as much as the tridiagonalisation.
 */
const KEPT_MIN_N = 64;
const KEPT_MAX_N = 1024;
let kept: { w: Float64Array; z: Float64Array; v: Float64Array } | null = null;
let keptBusy = false;

/**
 * tred2's symmetric product for step i (JS twin of the wasm `tred_symv`, same operation order):
 * e[0..i) += W[0..i, 0..i)·d with W's upper triangle, four interleaved partial sums per row
 * (independent add chains; the wasm kernel keeps them in two f64x2 accumulators).
 */
function tredSymvJs(w: Float64Array, d: Float64Array, e: Float64Array, n: number, i: number): void {
  for (let j = 0; j < i; j++) {
    const f = d[j]!;
    const rj = j * n;
    const g = e[j]! + w[rj + j]! * f;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    let k = j + 1;
    for (; k + 3 < i; k += 4) {
      const v0 = w[rj + k]!, v1 = w[rj + k + 1]!, v2 = w[rj + k + 2]!, v3 = w[rj + k + 3]!;
      a0 += v0 * d[k]!;
      a1 += v1 * d[k + 1]!;
      a2 += v2 * d[k + 2]!;
      a3 += v3 * d[k + 3]!;
      e[k] += v0 * f;
      e[k + 1] += v1 * f;
      e[k + 2] += v2 * f;
      e[k + 3] += v3 * f;
    }
    if (k + 1 < i) {
      const v0 = w[rj + k]!, v1 = w[rj + k + 1]!;
      a0 += v0 * d[k]!;
      a1 += v1 * d[k + 1]!;
      e[k] += v0 * f;
      e[k + 1] += v1 * f;
      k += 2;
    }
    let t = (a0 + a2) + (a1 + a3);
    if (k < i) {
      const v = w[rj + k]!;
      t += v * d[k]!;
      e[k] += v * f;
    }
    e[j] = g + t;
  }
}

/** tred2's rank-2 update for step i (JS twin of the wasm `tred_rank2`). */
function tredRank2Js(w: Float64Array, d: Float64Array, e: Float64Array, n: number, i: number): void {
  for (let j = 0; j < i; j++) {
    const f = d[j]!;
    const g = e[j]!;
    const rj = j * n;
    for (let k = j; k <= i - 1; k++) w[rj + k] -= f * e[k]! + g * d[k]!;
    d[j] = w[rj + (i - 1)]!;
    w[rj + i] = 0;
  }
}

function tridiagonalize(A: Matrix, ws: Workspace): Tridiagonal {
  const n = A.rows;
  // W plays the role of the transposed working matrix; A is symmetric so W starts as A.
  const { w, d, e, h: hs, at } = ws;
  if (w !== A.data && w.buffer !== A.data.buffer) w.set(A.data.subarray(0, n * n));
  const nat = n >= WASM_MIN_N ? native() : null;
  if (nat) nat.tred2(w, d, e, n); // the loop below, natively
  else for (let j = 0; j < n; j++) d[j] = w[j * n + (n - 1)]!;
  for (let i = nat ? 0 : n - 1; i > 0; i--) {
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
      for (let j = 0; j < i; j++) w[i * n + j] = d[j]!;
      if (at) wasm!.tred_symv(at.w * 8, at.d * 8, at.e * 8, n, i);
      else tredSymvJs(w, d, e, n, i);
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j]!;
      if (at) wasm!.tred_rank2(at.w * 8, at.d * 8, at.e * 8, n, i);
      else tredRank2Js(w, d, e, n, i);
    }
    d[i] = h;
  }
  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    diag[i] = w[i * n + i]!;
    hs[i] = i === 0 ? 0 : d[i]!;
  }
  // The last row's diagonal was never overwritten by a reflector; rows store u_s in [0, s).
  const off = e.slice();
  off[0] = 0;
  return { n, diag, off, house: w, h: hs, houseAddr: at ? at.w * 8 : undefined, hAddr: at ? at.h * 8 : undefined };
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
function tql(d: Float64Array, eIn: Float64Array, z: Float64Array | null, ws?: Workspace): void {
  // A sweep's rotations do not feed back into its scalar recurrence, so they are recorded in cs
  // (c, s per i) and applied to z afterwards in the same order — in wasm when z lives there.
  const cs = ws?.cs ?? new Float64Array(2 * d.length);
  const n = d.length;
  const e = new Float64Array(n);
  for (let i = 1; i < n; i++) e[i - 1] = eIn[i]!;
  e[n - 1] = 0;
  const nat = n >= WASM_MIN_N ? native() : null;
  if (nat) {
    // The loop below (tqlValues without z), natively (its rotations of z too).
    if (nat.tql(d, e, z, n, cs) < 0) throw new Error('symmetricEigen: QL iteration did not converge');
    return;
  }
  if (!z) {
    if (!tqlValues(d, e)) throw new Error('symmetricEigen: QL iteration did not converge');
    return;
  }
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
          cs[2 * i] = c;
          cs[2 * i + 1] = s;
        }
        if (z) {
          if (ws?.at) wasm!.rotate_rows(ws.at.z * 8, n, l, m, ws.at.cs * 8);
          else rotateRowsJs(z, n, l, m, cs);
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

/**
 * The eigenvalues alone (into d, unordered) by the root-free QL of Pal, Walker and Kahan —
 * EISPACK's tqlrat — on the squared couplings: no square root and three divisions a step where
 * tql's rotations take a hypot and two, on a chain of dependent operations (PCA's top-k path
 * wants no vectors from QL). e: tql's shifted copy (e[i] couples i and i + 1, e[n − 1] = 0), left
 * holding squares. False after 60 iterations on one value. Native twin: kernels.c tql_values.
 */
function tqlValues(d: Float64Array, e: Float64Array): boolean {
  const n = d.length;
  for (let i = 0; i < n; i++) e[i] = e[i]! * e[i]!;
  const eps = 2 ** -52;
  let f = 0, t = 0, b = 0, c = 0;
  for (let l = 0; l < n; l++) {
    let h = Math.abs(d[l]!) + Math.sqrt(e[l]!);
    if (t <= h) {
      t = h;
      b = eps * t;
      c = b * b;
    }
    let m = l;
    while (e[m]! > c) m++; // e[n − 1] = 0
    if (m > l) {
      let iter = 0;
      for (;;) {
        if (++iter > 60) return false;
        let s = Math.sqrt(e[l]!);
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * s);
        let r = hypot(p, 1);
        d[l] = s / (p + (p < 0 ? -r : r));
        h = g - d[l]!;
        for (let i = l + 1; i < n; i++) d[i] -= h;
        f += h;
        g = d[m]!;
        if (g === 0) g = b;
        h = g;
        s = 0;
        for (let i = m - 1; i >= l; i--) {
          p = g * h;
          r = p + e[i]!;
          e[i + 1] = s * r;
          s = e[i]! / r;
          d[i + 1] = h + s * (h + d[i]!);
          g = d[i]! - e[i]! / g;
          if (g === 0) g = b;
          h = (g * p) / r;
        }
        e[l] = s * g;
        d[l] = h;
        // The convergence test guarded against underflow, as tqlrat does.
        if (h === 0 || Math.abs(e[l]!) <= Math.abs(c / h)) break;
        e[l] = h * e[l]!;
        if (e[l] === 0) break;
      }
    }
    d[l] = d[l]! + f;
  }
  return true;
}

/** Givens rotations of one QL sweep on rows of z (JS twin of the wasm `rotate_rows`). */
function rotateRowsJs(z: Float64Array, n: number, l: number, m: number, cs: Float64Array): void {
  for (let i = m - 1; i >= l; i--) {
    const c = cs[2 * i]!, s = cs[2 * i + 1]!;
    const ri = i * n, ri1 = ri + n;
    for (let k = 0; k < n; k++) {
      const zh = z[ri1 + k]!;
      const zi = z[ri + k]!;
      z[ri1 + k] = s * zi + c * zh;
      z[ri + k] = c * zi - s * zh;
    }
  }
}

/**
 * backTransform on each of the `count` rows of Y (length n each): natively in one call (the house
 * rows are read once for all vectors), else one vector at a time through the workspace's x.
 */
function backTransformRows(t: Tridiagonal, Y: Float64Array, count: number, ws: Workspace): void {
  const nat = t.n >= WASM_MIN_N ? native() : null;
  if (nat) {
    nat.houseApply(t.house, t.h, t.n, Y, count);
    return;
  }
  const n = t.n, vec = ws.x;
  for (let c = 0; c < count; c++) {
    vec.set(Y.subarray(c * n, c * n + n));
    backTransform(t, vec, ws);
    Y.set(vec, c * n);
  }
}

/**
 * Apply P_1 … P_{n−1} (in that order) to x in place: x ← Q·x. x must be the workspace's x when
 * the workspace is in wasm memory. Dot products as four interleaved partial sums (as in
 * tredSymvJs), identical to the wasm `house_apply`.
 */
function backTransform(t: Tridiagonal, x: Float64Array, ws: Workspace): void {
  if (ws.at && t.houseAddr !== undefined && t.hAddr !== undefined) {
    wasm!.house_apply(t.houseAddr, t.hAddr, t.n, ws.at.x * 8);
    return;
  }
  const { n, house, h } = t;
  for (let s = 1; s < n; s++) {
    const hs = h[s]!;
    if (hs === 0) continue;
    const rs = s * n;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    let k = 0;
    for (; k + 3 < s; k += 4) {
      a0 += house[rs + k]! * x[k]!;
      a1 += house[rs + k + 1]! * x[k + 1]!;
      a2 += house[rs + k + 2]! * x[k + 2]!;
      a3 += house[rs + k + 3]! * x[k + 3]!;
    }
    if (k + 1 < s) {
      a0 += house[rs + k]! * x[k]!;
      a1 += house[rs + k + 1]! * x[k + 1]!;
      k += 2;
    }
    let g = (a0 + a2) + (a1 + a3);
    if (k < s) g += house[rs + k]! * x[k]!;
    g /= hs;
    for (k = 0; k < s; k++) x[k] -= g * house[rs + k]!;
  }
}

/** Inverse iteration's start: deterministic, not orthogonal to any eigenvector in practice. */
function startVector(n: number): Float64Array {
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) b[i] = 1 + 0.5 * Math.sin(1.7 * i + 0.3);
  return b;
}

/** n × k matrix whose column c is row c of Y (k × n). */
function fromRows(Y: Float64Array, k: number, n: number): Matrix {
  const V = zeros(n, k);
  for (let c = 0; c < k; c++) for (let i = 0; i < n; i++) V.data[i * k + c] = Y[c * n + i]!;
  return V;
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
  b.set(startVector(n));
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
    // Gram–Schmidt against the cluster; the dot uses four partial sums (independent add chains).
    for (const q of ortho) {
      let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
      let i = 0;
      for (; i + 3 < n; i += 4) {
        g0 += q[i]! * b[i]!;
        g1 += q[i + 1]! * b[i + 1]!;
        g2 += q[i + 2]! * b[i + 2]!;
        g3 += q[i + 3]! * b[i + 3]!;
      }
      for (; i < n; i++) g0 += q[i]! * b[i]!;
      const g = (g0 + g2) + (g1 + g3);
      for (i = 0; i < n; i++) b[i] -= g * q[i]!;
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
  const { values, rows } = symmetricEigenRows(A, opts);
  return { values, vectors: opts.valuesOnly ? zeros(A.rows, 0) : fromRows(rows.data, rows.rows, A.rows) };
}

/**
 * symmetricEigen with the eigenvectors as the rows of a k × n matrix (the layout they are
 * computed in: no transposed copy), for callers that use them as rows anyway.
 */
export function symmetricEigenRows(A: Matrix, opts: EigenOptions = {}): { values: Float64Array; rows: Matrix } {
  const n = A.rows;
  if (A.cols !== n) throw new RangeError(`symmetricEigen: matrix is ${A.rows}×${A.cols}, not square`);
  const k = Math.min(n, opts.k ?? n);
  if (n === 0) return { values: new Float64Array(0), rows: zeros(0, 0) };
  // x·0 is ±0 for every finite x and NaN otherwise: one branch-free pass, one test.
  let probe = 0;
  if (!opts.finite) for (let i = 0; i < A.data.length; i++) probe += A.data[i]! * 0;
  if (probe !== 0) throw new RangeError('symmetricEigen: matrix has non-finite entries');
  const full = !opts.valuesOnly && k > n / 4;
  const ws = makeWorkspace(n, full, opts.overwrite ? A.data.subarray(0, n * n) : undefined);
  try {
    return eigenIn(A, k, full, opts.valuesOnly === true, ws, opts.rowsOut);
  } finally {
    if (ws.kept) keptBusy = false;
  }
}

function eigenIn(A: Matrix, k: number, full: boolean, valuesOnly: boolean, ws: Workspace, rowsOut?: Float64Array): { values: Float64Array; rows: Matrix } {
  const n = A.rows;
  const t = tridiagonalize(A, ws);
  const values = t.diag.slice();
  let z: Float64Array | null = null;
  if (full) {
    z = ws.z;
    for (let i = 0; i < n; i++) z[i * n + i] = 1;
  }
  tql(values, t.off, z, ws);
  // Order descending.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) sorted[i] = values[order[i]!]!;
  if (valuesOnly) return { values: sorted, rows: zeros(0, n) };
  // Y: row c = the c-th wanted eigenvector of T, then (backTransformRows) of A.
  if (rowsOut && rowsOut.length < k * n) throw new RangeError(`symmetricEigenRows: rowsOut holds ${rowsOut.length} values, ${k}×${n} needed`);
  const Y = rowsOut ? rowsOut.subarray(0, k * n) : new Float64Array(k * n);
  if (full) {
    // Rows of z are eigenvectors of T (z was rotated as rows).
    for (let c = 0; c < k; c++) Y.set(z!.subarray(order[c]! * n, order[c]! * n + n), c * n);
  } else {
    let tnorm = 0;
    for (let i = 0; i < n; i++) tnorm = Math.max(tnorm, Math.abs(t.diag[i]!) + Math.abs(t.off[i]!) + (i + 1 < n ? Math.abs(t.off[i + 1]!) : 0));
    const gap = 1e-3 * tnorm;
    const nat = n >= WASM_MIN_N ? native() : null;
    // Natively: the loop below, every vector in one call.
    if (!nat || nat.inverseVectors(t.diag, t.off, sorted.subarray(0, k), Y, n, tnorm, gap, startVector(n)) !== 0) {
      const work = [0, 1, 2, 3, 4].map(() => new Float64Array(n));
      const tvecs: Float64Array[] = [];
      for (let c = 0; c < k; c++) {
        const lam = sorted[c]!;
        // Orthogonalise against already computed vectors of nearby eigenvalues (a cluster).
        const ortho: Float64Array[] = [];
        for (let p = c - 1; p >= 0 && sorted[p]! - lam <= gap; p--) ortho.push(tvecs[p]!);
        const tv = new Float64Array(n);
        tridiagInverseIteration(t.diag, t.off, lam, tv, ortho, tnorm, work);
        tvecs.push(tv);
        Y.set(tv, c * n);
      }
    }
  }
  backTransformRows(t, Y, k, ws);
  return { values: sorted, rows: { rows: k, cols: n, data: Y } };
}
