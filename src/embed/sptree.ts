/**
 * Barnes–Hut space-partitioning tree (quadtree for 2-D, octree for 3-D) in flat typed arrays.
 *
 * Reference: scikit-learn 1.2 `sklearn/neighbors/_quad_tree.pyx` (`_QuadTree.build_tree`,
 * `insert_point`, `summarize`). Same cell semantics: a leaf holds one point (or several exact
 * duplicates, |Δ| ≤ 1e-6 on every axis), an inner cell stores the barycentre and the count of
 * its points, and `summarize` accepts a cell when it is a leaf or when
 * max_width² / dist² < θ². Differences: float64 throughout, and no object per cell — the tree is
 * rebuilt every iteration, so allocation-free rebuilding matters more than anything else.
 */

const EPSILON = 1e-6;

export class SpTree {
  readonly dim: number;
  readonly nChild: number;
  /** Number of cells in use. */
  size = 0;
  private capacity = 0;
  // Per-cell fields, cell c at offset c*dim (vectors) or c (scalars) or c*nChild (children).
  center = new Float64Array(0);
  halfWidth = new Float64Array(0);
  barycenter = new Float64Array(0);
  sqMaxWidth = new Float64Array(0);
  count = new Float64Array(0);
  isLeaf = new Uint8Array(0);
  children = new Int32Array(0);
  private stack = new Int32Array(64);

  constructor(dim: number) {
    if (dim < 1 || dim > 3) throw new RangeError(`SpTree supports 1–3 dimensions, got ${dim}`);
    this.dim = dim;
    this.nChild = 1 << dim;
    this.grow(64);
  }

  private grow(minCap: number): void {
    const cap = Math.max(this.capacity * 2, minCap);
    const d = this.dim, nc = this.nChild;
    const f = (a: Float64Array, w: number) => {
      const b = new Float64Array(cap * w);
      b.set(a);
      return b;
    };
    this.center = f(this.center, d);
    this.halfWidth = f(this.halfWidth, d);
    this.barycenter = f(this.barycenter, d);
    this.sqMaxWidth = f(this.sqMaxWidth, 1);
    this.count = f(this.count, 1);
    const leaf = new Uint8Array(cap);
    leaf.set(this.isLeaf);
    this.isLeaf = leaf;
    const ch = new Int32Array(cap * nc);
    ch.set(this.children);
    this.children = ch;
    this.capacity = cap;
  }

  private newCell(): number {
    if (this.size >= this.capacity) this.grow(this.size + 1);
    const c = this.size++;
    this.count[c] = 0;
    this.isLeaf[c] = 1;
    this.children.fill(-1, c * this.nChild, (c + 1) * this.nChild);
    return c;
  }

  /** Rebuild the tree from n points (row-major n × dim). */
  build(Y: Float64Array, n: number): void {
    const d = this.dim;
    this.size = 0;
    if (this.capacity < 2 * n + 16) this.grow(2 * n + 16);
    const root = this.newCell();
    for (let a = 0; a < d; a++) {
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = Y[i * d + a]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (n === 0) lo = hi = 0;
      // As sklearn: make the upper boundary strictly greater than every point.
      hi = Math.max(hi * (1 + 1e-3 * Math.sign(hi)), hi + 1e-3);
      this.center[root * d + a] = (lo + hi) / 2;
      this.halfWidth[root * d + a] = (hi - lo) / 2;
    }
    this.setSqMaxWidth(root);
    for (let i = 0; i < n; i++) this.insert(Y, i * d);
    if (d === 2) this.pack2();
  }

  // 2-D traversal data packed per cell for locality: [bx, by, sqMaxWidth, count] and
  // [c0, c1, c2, c3] with leaves marked by c0 = -2 (the hot loop reads nothing else).
  private p2 = new Float64Array(0);
  private ch2 = new Int32Array(0);

  private pack2(): void {
    const m = this.size;
    if (this.p2.length < m * 4) {
      this.p2 = new Float64Array(this.capacity * 4);
      this.ch2 = new Int32Array(this.capacity * 4);
    }
    const p = this.p2, ch = this.ch2, bary = this.barycenter, sq = this.sqMaxWidth, cnt = this.count, leaf = this.isLeaf, kids = this.children;
    for (let c = 0; c < m; c++) {
      const o = c * 4;
      p[o] = bary[c * 2]!;
      p[o + 1] = bary[c * 2 + 1]!;
      p[o + 2] = sq[c]!;
      p[o + 3] = cnt[c]!;
      if (leaf[c]) {
        ch[o] = -2;
      } else {
        ch[o] = kids[o]!;
        ch[o + 1] = kids[o + 1]!;
        ch[o + 2] = kids[o + 2]!;
        ch[o + 3] = kids[o + 3]!;
      }
    }
  }

  /** `negativeForce` specialised for 2-D and dof = 1 (the t-SNE default), same arithmetic. */
  negativeForce2(y0: number, y1: number, sqTheta: number, out: Float64Array, outOff: number): number {
    const p = this.p2, ch = this.ch2;
    let stack = this.stack;
    let f0 = 0, f1 = 0, sumQ = 0;
    let sp = 0;
    stack[sp++] = 0;
    while (sp > 0) {
      const o = stack[--sp]! * 4;
      const size = p[o + 3]!;
      if (size === 0) continue;
      const dx0 = y0 - p[o]!;
      const dx1 = y1 - p[o + 1]!;
      const dist2 = dx0 * dx0 + dx1 * dx1;
      const c0 = ch[o]!;
      if (c0 === -2) {
        if (Math.abs(dx0) <= EPSILON && Math.abs(dx1) <= EPSILON) continue; // the point itself
      } else if (p[o + 2]! >= sqTheta * dist2) {
        if (sp + 4 > stack.length) {
          const s2 = new Int32Array(stack.length * 2);
          s2.set(stack);
          this.stack = stack = s2;
        }
        const c3 = ch[o + 3]!, c2 = ch[o + 2]!, c1 = ch[o + 1]!;
        if (c3 !== -1) stack[sp++] = c3;
        if (c2 !== -1) stack[sp++] = c2;
        if (c1 !== -1) stack[sp++] = c1;
        if (c0 !== -1) stack[sp++] = c0;
        continue;
      }
      const q = 1 / (1 + dist2);
      sumQ += size * q;
      const mult = size * q * q;
      f0 += mult * dx0;
      f1 += mult * dx1;
    }
    out[outOff] = f0;
    out[outOff + 1] = f1;
    return sumQ;
  }

  private setSqMaxWidth(c: number): void {
    const d = this.dim;
    let m = 0;
    for (let a = 0; a < d; a++) {
      const w = 2 * this.halfWidth[c * d + a]!;
      if (w * w > m) m = w * w;
    }
    this.sqMaxWidth[c] = m;
  }

  private insert(Y: Float64Array, off: number): void {
    const d = this.dim;
    let c = 0;
    for (;;) {
      const cnt = this.count[c]!;
      if (cnt === 0) {
        this.count[c] = 1;
        for (let a = 0; a < d; a++) this.barycenter[c * d + a] = Y[off + a]!;
        return;
      }
      if (this.isLeaf[c]) {
        let dup = true;
        for (let a = 0; a < d; a++) {
          if (Math.abs(Y[off + a]! - this.barycenter[c * d + a]!) > EPSILON) {
            dup = false;
            break;
          }
        }
        if (dup) {
          this.count[c] = cnt + 1;
          return;
        }
        // Split: move the resident point(s) into a child, then insert again into this cell.
        const child = this.childFor(c, this.barycenter, c * d);
        this.count[child] = cnt;
        for (let a = 0; a < d; a++) this.barycenter[child * d + a] = this.barycenter[c * d + a]!;
        this.isLeaf[c] = 0;
        continue;
      }
      for (let a = 0; a < d; a++) {
        const k = c * d + a;
        this.barycenter[k] = (cnt * this.barycenter[k]! + Y[off + a]!) / (cnt + 1);
      }
      this.count[c] = cnt + 1;
      c = this.childFor(c, Y, off);
    }
  }

  /** The child of c containing point p (created empty if missing). */
  private childFor(c: number, p: Float64Array, off: number): number {
    const d = this.dim;
    let q = 0;
    for (let a = 0; a < d; a++) if (p[off + a]! >= this.center[c * d + a]!) q |= 1 << a;
    const slot = c * this.nChild + q;
    let child = this.children[slot]!;
    if (child === -1) {
      child = this.newCell(); // may reallocate the arrays: index them afresh below
      this.children[slot] = child;
      for (let a = 0; a < d; a++) {
        const hw = this.halfWidth[c * d + a]! / 2;
        this.halfWidth[child * d + a] = hw;
        this.center[child * d + a] = this.center[c * d + a]! + ((q >> a) & 1 ? hw : -hw);
      }
      this.setSqMaxWidth(child);
    }
    return child;
  }

  /**
   * Repulsive part of the t-SNE gradient for the point at Y[off..] (dof = 1 Student-t):
   * adds Σ_cells size·q²·(y − barycentre) into out[outOff..] and returns Σ size·q (its share of Z).
   */
  negativeForce(Y: Float64Array, off: number, sqTheta: number, out: Float64Array, outOff: number, dof: number): number {
    const d = this.dim, nc = this.nChild;
    const bary = this.barycenter, sqw = this.sqMaxWidth, cnt = this.count, leaf = this.isLeaf, ch = this.children;
    const y0 = Y[off]!, y1 = d > 1 ? Y[off + 1]! : 0, y2 = d > 2 ? Y[off + 2]! : 0;
    let f0 = 0, f1 = 0, f2 = 0, sumQ = 0;
    let stack = this.stack;
    let sp = 0;
    stack[sp++] = 0;
    const exponent = (dof + 1) / 2;
    while (sp > 0) {
      const c = stack[--sp]!;
      const size = cnt[c]!;
      if (size === 0) continue;
      const b = c * d;
      const dx0 = y0 - bary[b]!;
      const dx1 = d > 1 ? y1 - bary[b + 1]! : 0;
      const dx2 = d > 2 ? y2 - bary[b + 2]! : 0;
      const dist2 = dx0 * dx0 + dx1 * dx1 + dx2 * dx2;
      const isLeaf = leaf[c] === 1;
      if (isLeaf && Math.abs(dx0) <= EPSILON && Math.abs(dx1) <= EPSILON && Math.abs(dx2) <= EPSILON) continue; // the point itself
      if (isLeaf || sqw[c]! / dist2 < sqTheta) {
        let q = dof / (dof + dist2);
        if (dof !== 1) q = Math.pow(q, exponent);
        sumQ += size * q;
        const mult = size * q * q;
        f0 += mult * dx0;
        f1 += mult * dx1;
        f2 += mult * dx2;
      } else {
        if (sp + nc > stack.length) {
          const s = new Int32Array(stack.length * 2);
          s.set(stack);
          this.stack = stack = s;
        }
        // Push in reverse so children are visited in index order, like sklearn's recursion.
        for (let k = nc - 1; k >= 0; k--) {
          const child = ch[c * nc + k]!;
          if (child !== -1) stack[sp++] = child;
        }
      }
    }
    out[outOff] = f0;
    if (d > 1) out[outOff + 1] = f1;
    if (d > 2) out[outOff + 2] = f2;
    return sumQ;
  }
}
