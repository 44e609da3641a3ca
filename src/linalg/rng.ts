// The numeric core's generator: its bulk normal draws run in the native addon when it is built.
import { native, type NativeKernels } from './native.js';

// Below this many draws the call into the addon costs more than it saves.
const NATIVE_MIN_DRAWS = 32;
// fillNormalNative's hand-over of the generator state, shared (JavaScript runs one call at a time).
const stateScratch = new Uint32Array(4);

/**
 * Seeded pseudo-random generator (xoshiro128**, seeded through splitmix32).
 * Every random step in phenomap takes one of these; `Math.random` is never used,
 * so the same seed gives the same output on every machine.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = NaN;

  constructor(seed = 0) {
    let x = (seed >>> 0) ^ 0x9e3779b9;
    // Fold in the high part for seeds above 2^32 so nearby large seeds differ.
    x ^= Math.floor(seed / 4294967296) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n). Unbiased (rejection sampling). */
  int(n: number): number {
    if (!(n > 0) || n > 4294967296) throw new RangeError(`Rng.int: n must be in (0, 2^32], got ${n}`);
    if (n === 4294967296) return this.nextUint32();
    const limit = 4294967296 - (4294967296 % n);
    let x: number;
    do x = this.nextUint32();
    while (x >= limit);
    return x % n;
  }

  /** Standard normal (Marsaglia polar method, caching the second variate). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = NaN;
      return v;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return u * f;
  }

  /**
   * Fill out[start, end) with standard normals: exactly the values, and the generator state
   * afterwards, of calling normal() once per entry. The xoshiro state lives in locals here, which
   * makes this about 4× faster than the per-call path — it matters for the n² tie-breaking noise
   * of affinity propagation (7.5 M draws at n = 2,736).
   */
  fillNormal(out: Float64Array, start = 0, end = out.length): Float64Array {
    let i = start;
    if (i < end && !Number.isNaN(this.spare)) {
      out[i++] = this.spare;
      this.spare = NaN;
    }
    const nat = end - i >= NATIVE_MIN_DRAWS ? native() : null;
    if (nat) return this.fillNormalNative(nat, out, i, end);
    let s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    while (i < end) {
      let u: number, v: number, s: number;
      do {
        // Four xoshiro128** steps (as nextUint32) → two 53-bit uniforms (as uniform()).
        const r0 = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
        let t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
        const r1 = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
        t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
        const r2 = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
        t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
        const r3 = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
        t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
        u = 2 * (((r0 >>> 5) * 67108864 + (r1 >>> 6)) / 9007199254740992) - 1;
        v = 2 * (((r2 >>> 5) * 67108864 + (r3 >>> 6)) / 9007199254740992) - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      out[i++] = u * f;
      if (i < end) out[i++] = v * f;
      else this.spare = v * f;
    }
    this.s0 = s0; this.s1 = s1; this.s2 = s2; this.s3 = s3;
    return out;
  }

  /** fillNormal's loop in the native addon (about 3× faster): the same draws, state and spare. */
  private fillNormalNative(nat: NativeKernels, out: Float64Array, i: number, end: number): Float64Array {
    stateScratch[0] = this.s0; stateScratch[1] = this.s1; stateScratch[2] = this.s2; stateScratch[3] = this.s3;
    this.spare = nat.fillNormal(stateScratch, out, i, end);
    this.s0 = stateScratch[0]!; this.s1 = stateScratch[1]!; this.s2 = stateScratch[2]!; this.s3 = stateScratch[3]!;
    return out;
  }

  /** Gamma(shape, scale=1) variate (Marsaglia & Tsang 2000). */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new RangeError(`Rng.gamma: shape must be > 0, got ${shape}`);
    if (shape < 1) {
      // Boost: Gamma(a) = Gamma(a + 1) · U^(1/a)
      return this.gamma(shape + 1) * Math.pow(this.uniform() || Number.MIN_VALUE, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number, v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(a: T[] | Int32Array | Uint32Array | Float64Array): typeof a {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t as never;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }

  /** Derive an independent generator (for a sub-task) deterministically. */
  fork(): Rng {
    return new Rng(this.nextUint32() * 4096 + (this.nextUint32() & 4095));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
