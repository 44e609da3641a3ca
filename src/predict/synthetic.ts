/**
 * Data drawn from Macau's own generative model, for correctness tests and benchmarks (the spec's
 * protocol (a): no public image-profile table is joined to a large assay matrix).
 *
 *   F ~ N(0, 1)  (n×d);  β ~ N(0, 1/d) (d×K);  u_i = βᵀ f_i · √s + N(0, 1 − s)  (so Var(u) ≈ 1,
 *   share s of it explained by the features);  v_j ~ N(0, 1/K)  (so Var(uᵀv) ≈ 1);
 *   y_ij = mean + u_iᵀ v_j + N(0, noiseSd²) on a random `density` share of cells.
 * With `binary`, y_ij = 1[u_iᵀ v_j + N(0, 1)·noiseSd > threshold latent] instead (probit).
 */
import { type Matrix, zeros } from '../linalg/index.js';
import { Rng } from '../linalg/rng.js';
import { ActivityMatrix } from './sparse.js';

export interface PlantedOptions {
  compounds: number;
  features: number;
  assays: number;
  rank: number;
  /** Share of observed cells (each cell independently). */
  density: number;
  noiseSd: number;
  /** Share of the latent variance explained by the side features (default 0.9). */
  sideInfoShare?: number;
  mean?: number;
  /** Probit data: y = 1 when u·v + bias + noiseSd·ε > 0 (default bias 0). */
  binary?: boolean;
  bias?: number;
  seed: number;
}

export interface PlantedData {
  F: Matrix;
  U: Matrix;
  V: Matrix;
  beta: Matrix;
  Y: ActivityMatrix;
  /** Noise-free value of cell (i, j): mean + u_iᵀv_j (+ bias for binary). */
  truth(i: number, j: number): number;
}

export function plantedMacau(o: PlantedOptions): PlantedData {
  const rng = new Rng(o.seed);
  const n = o.compounds, d = o.features, m = o.assays, K = o.rank;
  const s = o.sideInfoShare ?? 0.9;
  const mean = o.mean ?? 0;
  const bias = o.bias ?? 0;
  const F = zeros(n, d), beta = zeros(d, K), U = zeros(n, K), V = zeros(m, K);
  rng.fillNormal(F.data);
  for (let t = 0; t < beta.data.length; t++) beta.data[t] = rng.normal() / Math.sqrt(Math.max(d, 1));
  const sq = Math.sqrt(s), rs = Math.sqrt(1 - s);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < K; q++) {
      let v = 0;
      for (let f = 0; f < d; f++) v += F.data[i * d + f]! * beta.data[f * K + q]!;
      U.data[i * K + q] = sq * v + rs * rng.normal();
    }
  }
  for (let t = 0; t < V.data.length; t++) V.data[t] = rng.normal() / Math.sqrt(K);
  const latent = (i: number, j: number): number => {
    let v = 0;
    for (let q = 0; q < K; q++) v += U.data[i * K + q]! * V.data[j * K + q]!;
    return v;
  };
  const rows: number[] = [], cols: number[] = [], vals: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      if (rng.uniform() >= o.density) continue;
      rows.push(i); cols.push(j);
      if (o.binary) vals.push(latent(i, j) + bias + o.noiseSd * rng.normal() > 0 ? 1 : 0);
      else vals.push(mean + latent(i, j) + o.noiseSd * rng.normal());
    }
  }
  const Y = ActivityMatrix.fromCOO(n, m, rows, cols, vals);
  const truth = o.binary ? (i: number, j: number) => latent(i, j) + bias : (i: number, j: number) => mean + latent(i, j);
  return { F, U, V, beta, Y, truth };
}
