/**
 * Louvain modularity communities (Blondel, Guillaume, Lambiotte & Lefebvre, J. Stat. Mech. 2008)
 * with a resolution parameter γ (Reichardt & Bornholdt 2006):
 *   Q = 1/(2m) Σ_ij [A_ij − γ·k_i·k_j/(2m)] δ(c_i, c_j).
 * Local moving visits nodes in a seeded random order and moves each to the neighbouring community
 * with the largest gain k_i,c − γ·Σ_tot(c)·k_i/(2m) (staying on ties); then communities are
 * aggregated into nodes and the two phases repeat until no node moves. Deterministic given the
 * seed. O(edges) per sweep, so it runs on the k-NN graph of 100,000 rows in seconds.
 *
 * `knnAffinityGraph` turns a k-NN graph into the weighted undirected graph: w = exp(−d²/σ²) with
 * σ² the median k-NN squared distance (default), or 1/(1 + d).
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../linalg/rng.js';
import { medianNoCopy } from '../linalg/select.js';
import { type KnnGraph, toUndirected } from './knnGraph.js';

/** Symmetric weighted graph in CSR (both directions stored; self-loops allowed). */
export interface WeightedGraph {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  weights: Float64Array;
}

export interface LouvainOptions {
  /** γ: larger → more, smaller communities. Default 1. */
  resolution?: number;
  seed?: number;
  /** Maximum aggregation levels. Default 20. */
  maxLevels?: number;
  /** Maximum local-moving sweeps per level. Default 50. */
  maxSweeps?: number;
  /** Minimum modularity gain that counts as a move. Default 1e-12 (relative to 2m). */
  tol?: number;
}

export interface LouvainResult {
  /** Community per node, numbered 0..K−1 by first appearance in row order. */
  labels: Int32Array;
  communities: number;
  modularity: number;
  levels: number;
}

export interface AffinityOptions {
  weighting?: 'gaussian' | 'inverse';
  /** σ² of the gaussian weighting; default the median k-NN squared distance. */
  sigma2?: number;
}

/** Undirected weighted graph of a k-NN graph (union of both directions). */
export function knnAffinityGraph(G: KnnGraph, opts: AffinityOptions = {}): WeightedGraph {
  const weighting = opts.weighting ?? 'gaussian';
  let f: (d2: number) => number;
  if (weighting === 'inverse') f = (d2) => 1 / (1 + Math.sqrt(d2));
  else {
    let s2 = opts.sigma2 ?? medianNoCopy(G.distances);
    if (!(s2 > 0)) s2 = 1;
    f = (d2) => Math.exp(-d2 / s2);
  }
  const u = toUndirected(G, true, f);
  return { n: G.n, indptr: u.indptr, indices: u.indices, weights: u.values };
}

/** Modularity of a partition (resolution γ). */
export function modularity(g: WeightedGraph, labels: ArrayLike<number>, resolution = 1): number {
  const { n, indptr, indices, weights } = g;
  let m2 = 0, inside = 0;
  const tot = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    let ki = 0;
    for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
      ki += weights[p]!;
      if (labels[indices[p]!] === labels[i]) inside += weights[p]!;
    }
    m2 += ki;
    tot.set(labels[i]!, (tot.get(labels[i]!) ?? 0) + ki);
  }
  if (m2 === 0) return 0;
  let sq = 0;
  for (const t of tot.values()) sq += t * t;
  return inside / m2 - (resolution * sq) / (m2 * m2);
}

function validate(g: WeightedGraph): void {
  if (g.indptr.length !== g.n + 1) throw new InputError(`louvain: indptr has ${g.indptr.length} entries, expected ${g.n + 1}`);
  for (let p = 0; p < g.weights.length; p++) {
    const w = g.weights[p]!;
    if (!(w >= 0) || !Number.isFinite(w)) throw new InputError(`louvain: edge weights must be finite and ≥ 0 (entry ${p} is ${w})`);
    const j = g.indices[p]!;
    if (!(j >= 0 && j < g.n)) throw new InputError(`louvain: column ${j} outside 0..${g.n - 1}`);
  }
}

/** One level of local moving. Returns the community per node and whether anything moved. */
function localMoving(g: WeightedGraph, gamma: number, rng: Rng, maxSweeps: number, tol: number): { comm: Int32Array; moved: boolean } {
  const { n, indptr, indices, weights } = g;
  const k = new Float64Array(n);
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
      s += weights[p]!;
    }
    k[i] = s;
    m2 += s;
  }
  const comm = new Int32Array(n);
  const tot = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    comm[i] = i;
    tot[i] = k[i]!;
  }
  if (m2 === 0) return { comm, moved: false };
  const order = rng.permutation(n);
  const wTo = new Float64Array(n);
  const touched = new Int32Array(n);
  let moved = false;
  const eps = tol * m2;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let moves = 0;
    for (let t = 0; t < n; t++) {
      const i = order[t]!;
      const ci = comm[i]!, ki = k[i]!;
      let nt = 0;
      for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
        const j = indices[p]!;
        if (j === i) continue;
        const c = comm[j]!;
        if (wTo[c] === 0) touched[nt++] = c;
        wTo[c] = wTo[c]! + weights[p]!;
      }
      tot[ci] = tot[ci]! - ki;
      const f = (gamma * ki) / m2;
      // Gains are relative to being alone: ΔQ·m2 = w_i,c − γ·tot_c·k_i/m2 (both counted twice).
      let best = ci, bestGain = wTo[ci]! - tot[ci]! * f;
      for (let q = 0; q < nt; q++) {
        const c = touched[q]!;
        const gain = wTo[c]! - tot[c]! * f;
        if (gain > bestGain + eps) {
          bestGain = gain;
          best = c;
        }
      }
      tot[best] = tot[best]! + ki;
      if (best !== ci) {
        comm[i] = best;
        moves++;
      }
      for (let q = 0; q < nt; q++) wTo[touched[q]!] = 0;
    }
    if (moves === 0) break;
    moved = true;
  }
  return { comm, moved };
}

/** Renumber 0..K−1 by first appearance. */
function renumber(c: Int32Array): { labels: Int32Array; K: number } {
  const map = new Int32Array(c.length).fill(-1);
  const labels = new Int32Array(c.length);
  let K = 0;
  for (let i = 0; i < c.length; i++) {
    const v = c[i]!;
    if (map[v] === -1) map[v] = K++;
    labels[i] = map[v]!;
  }
  return { labels, K };
}

/** Aggregate: one node per community, edge weights summed (internal weight becomes a self-loop). */
function aggregate(g: WeightedGraph, labels: Int32Array, K: number): WeightedGraph {
  const { n, indptr, indices, weights } = g;
  // Group nodes by community, then merge each community's rows with a dense accumulator.
  const start = new Int32Array(K + 1);
  for (let i = 0; i < n; i++) start[labels[i]! + 1]!++;
  for (let c = 0; c < K; c++) start[c + 1]! += start[c]!;
  const members = new Int32Array(n);
  const fill = start.slice(0, K);
  for (let i = 0; i < n; i++) members[fill[labels[i]!]!++] = i;
  const acc = new Float64Array(K);
  const touched = new Int32Array(K);
  const outPtr = new Int32Array(K + 1);
  const outIdx: number[] = [];
  const outW: number[] = [];
  for (let c = 0; c < K; c++) {
    let nt = 0;
    for (let t = start[c]!; t < start[c + 1]!; t++) {
      const i = members[t]!;
      for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
        const d = labels[indices[p]!]!;
        if (acc[d] === 0) touched[nt++] = d;
        acc[d] = acc[d]! + weights[p]!;
      }
    }
    const ts = Array.from(touched.subarray(0, nt)).sort((a, b) => a - b);
    for (const d of ts) {
      if (acc[d]! > 0) {
        outIdx.push(d);
        outW.push(acc[d]!);
      }
      acc[d] = 0;
    }
    outPtr[c + 1] = outIdx.length;
  }
  return { n: K, indptr: outPtr, indices: Int32Array.from(outIdx), weights: Float64Array.from(outW) };
}

/** Louvain communities of a symmetric weighted graph. */
export function louvain(g: WeightedGraph, opts: LouvainOptions = {}): LouvainResult {
  validate(g);
  const gamma = opts.resolution ?? 1;
  if (!(gamma > 0) || !Number.isFinite(gamma)) throw new InputError(`louvain: resolution must be > 0, got ${gamma}`);
  const rng = new Rng(opts.seed ?? 0);
  const maxLevels = opts.maxLevels ?? 20, maxSweeps = opts.maxSweeps ?? 50, tol = opts.tol ?? 1e-12;
  const labels = new Int32Array(g.n);
  for (let i = 0; i < g.n; i++) labels[i] = i;
  let cur = g;
  let levels = 0;
  for (; levels < maxLevels; levels++) {
    const { comm, moved } = localMoving(cur, gamma, rng, maxSweeps, tol);
    if (!moved) break;
    const { labels: lvl, K } = renumber(comm);
    for (let i = 0; i < g.n; i++) labels[i] = lvl[labels[i]!]!;
    if (K === cur.n) break;
    cur = aggregate(cur, lvl, K);
  }
  const r = renumber(labels);
  return { labels: r.labels, communities: r.K, modularity: modularity(g, r.labels, gamma), levels };
}

/**
 * Relabel communities so that each has a representative row (the member with the largest
 * within-community weighted degree, first on ties) and clusters are numbered by ascending
 * representative — the exemplar convention of affinity propagation, so downstream code treats
 * both alike.
 */
export function withRepresentatives(g: WeightedGraph, labels: Int32Array): { labels: Int32Array; exemplars: Int32Array } {
  const n = g.n;
  let K = 0;
  for (let i = 0; i < n; i++) if (labels[i]! + 1 > K) K = labels[i]! + 1;
  const best = new Float64Array(K).fill(-Infinity);
  const rep = new Int32Array(K).fill(-1);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    let s = 0;
    for (let p = g.indptr[i]!; p < g.indptr[i + 1]!; p++) if (labels[g.indices[p]!] === c) s += g.weights[p]!;
    if (s > best[c]!) {
      best[c] = s;
      rep[c] = i;
    }
  }
  const exemplars = Int32Array.from(rep).sort();
  const pos = new Int32Array(n).fill(-1);
  for (let k = 0; k < K; k++) pos[exemplars[k]!] = k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = pos[rep[labels[i]!]!]!;
  return { labels: out, exemplars };
}
