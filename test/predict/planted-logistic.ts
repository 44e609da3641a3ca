/** A planted multitask logistic problem shared by the baseline and MLP tests. */
import { type Matrix, zeros, takeRows } from '../../src/linalg/index.js';
import { ActivityMatrix } from '../../src/predict/sparse.js';
import { Rng } from '../../src/linalg/rng.js';

export interface PlantedLogistic {
  X: Matrix;
  Y: ActivityMatrix;
  /** True logit of cell (i, j). */
  logit(i: number, j: number): number;
}

/**
 * X ~ N(0, 1) (n×d); assay j's logit = 3·(x · w_j) / ‖w_j‖ + b_j with w_j drawn from a few shared
 * directions (so tasks are related), b_j ≈ −1 (≈ 30 % actives); a `density` share of cells observed.
 */
export function plantedLogistic(n: number, d: number, m: number, density: number, seed: number): PlantedLogistic {
  const rng = new Rng(seed);
  const X = zeros(n, d);
  rng.fillNormal(X.data);
  const basis = zeros(3, d);
  rng.fillNormal(basis.data);
  const W = zeros(m, d);
  const b = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const c = [rng.normal(), rng.normal(), rng.normal()];
    let norm = 0;
    for (let f = 0; f < d; f++) {
      const v = c[0]! * basis.data[f]! + c[1]! * basis.data[d + f]! + c[2]! * basis.data[2 * d + f]! + 0.3 * rng.normal();
      W.data[j * d + f] = v;
      norm += v * v;
    }
    for (let f = 0; f < d; f++) W.data[j * d + f] *= 3 / Math.sqrt(norm);
    b[j] = -1 + 0.3 * rng.normal();
  }
  const logit = (i: number, j: number) => {
    let s = b[j]!;
    for (let f = 0; f < d; f++) s += X.data[i * d + f]! * W.data[j * d + f]!;
    return s;
  };
  const r: number[] = [], c: number[] = [], v: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    if (rng.uniform() >= density) continue;
    r.push(i); c.push(j); v.push(rng.uniform() < 1 / (1 + Math.exp(-logit(i, j))) ? 1 : 0);
  }
  return { X, Y: ActivityMatrix.fromCOO(n, m, r, c, v), logit };
}

/** Mean per-assay AUC of score matrix S (rows = test compounds) against the test activity matrix. */
export function heldOutAucs(S: Matrix, Yte: ActivityMatrix, auc: (s: number[], y: number[]) => number): number[] {
  const out: number[] = [];
  for (let j = 0; j < Yte.cols; j++) {
    const s: number[] = [], y: number[] = [];
    for (let k = Yte.colPtr[j]!; k < Yte.colPtr[j + 1]!; k++) { s.push(S.data[Yte.colRow[k]! * S.cols + j]!); y.push(Yte.colVal[k]!); }
    const a = auc(s, y);
    if (Number.isFinite(a)) out.push(a);
  }
  return out;
}

/** The planted problem both baseline and net tests use: 500 compounds, every 5th held out. */
export function plantedSplit() {
  const data = plantedLogistic(500, 20, 12, 0.5, 1);
  const trainRows = Array.from({ length: 500 }, (_, i) => i).filter((i) => i % 5 !== 0);
  const testRows = Array.from({ length: 500 }, (_, i) => i).filter((i) => i % 5 === 0);
  return {
    data, trainRows, testRows,
    Xtr: takeRows(data.X, trainRows), Xte: takeRows(data.X, testRows),
    Ytr: data.Y.subsetRows(trainRows), Yte: data.Y.subsetRows(testRows),
  };
}

export const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
