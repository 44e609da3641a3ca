import { describe, it, expect } from 'vitest';
import { normalize } from '../../src/preprocess/normalize.js';
import { fitSpherize, applySpherize } from '../../src/preprocess/spherize.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/linalg/rng.js';
import { zeros, type Matrix } from '../../src/linalg/matrix.js';
import { makeProfiles, col } from './make.js';

const x5 = [1, 2, 3, 4, 100];
const one = (vals: number[]) => makeProfiles(vals.map((v) => [v]), ['Cells_f']);

describe('normalize: element-wise methods on hand-computed cases', () => {
  it('mad_robustize: MAD of [1,2,3,4,100] is 1, scale 1.4826 + 1e-18', () => {
    const { profiles, report } = normalize(one(x5), { method: 'mad_robustize' });
    const want = x5.map((v) => (v - 3) / 1.4826);
    col(profiles, 'Cells_f').forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 14));
    expect(report.droppedFeatures).toEqual([]);
    expect(report.strata).toEqual([{ label: 'all rows', nRows: 5, nReference: 5 }]);
  });
  it('robustize: (x − median) / IQR with numpy linear quantiles', () => {
    // q25 = 2, q75 = 4 → IQR 2
    expect(col(normalize(one(x5), { method: 'robustize' }).profiles, 'Cells_f')).toEqual([-1, -0.5, 0, 0.5, 48.5]);
    // [1,2,3,4]: q25 = 1.75, q75 = 3.25 → IQR 1.5, median 2.5
    const r = col(normalize(one([4, 1, 3, 2]), { method: 'robustize' }).profiles, 'Cells_f');
    [1, -1, 1 / 3, -1 / 3].forEach((w, i) => expect(r[i]).toBeCloseTo(w, 14));
  });
  it('standardize: population std (ddof 0)', () => {
    const std = Math.sqrt(7610 / 5);
    const r = col(normalize(one(x5), { method: 'standardize' }).profiles, 'Cells_f');
    x5.forEach((v, i) => expect(r[i]).toBeCloseTo((v - 22) / std, 14));
  });
  it('zero scale: standardize/robustize leave the feature unscaled (sklearn); mad divides by ε; all reported', () => {
    const p = makeProfiles([[5, 1], [5, 2], [5, 3], [6, 4]], ['Cells_c', 'Cells_v']);
    const s = normalize(makeProfiles([[5, 1], [5, 2], [5, 4]], ['Cells_c', 'Cells_v']), { method: 'standardize' });
    expect(col(s.profiles, 'Cells_c')).toEqual([0, 0, 0]);
    expect(s.report.zeroScale).toEqual([{ feature: 'Cells_c', stratum: 'all rows' }]);
    const m = normalize(p, { method: 'mad_robustize' });
    // median 5, MAD 0 → (6 − 5) / 1e-18
    const c = col(m.profiles, 'Cells_c');
    expect(c.slice(0, 3)).toEqual([0, 0, 0]);
    expect(c[3]! / 1e18).toBeCloseTo(1, 12);
    expect(m.report.zeroScale.map((z) => z.feature)).toEqual(['Cells_c']);
    expect(m.report.warnings.join(' ')).toMatch(/MAD 0/);
  });
  it('missing values are skipped when fitting, stay missing, and are counted', () => {
    const r = normalize(one([1, NaN, 2, 3, 4, 100]), { method: 'mad_robustize' });
    const v = col(r.profiles, 'Cells_f');
    expect(Number.isNaN(v[1]!)).toBe(true);
    expect(v[0]).toBeCloseTo(-2 / 1.4826, 14);
    expect(r.report.missingCells).toBe(1);
    expect(r.report.warnings.join(' ')).toMatch(/1 missing/);
  });
  it('drops (and reports) a feature with no reference value, or an infinite value', () => {
    const p = makeProfiles(
      [[NaN, 1, 1], [NaN, 2, Infinity], [3, 3, 2], [4, 4, 3]],
      ['Cells_a', 'Cells_b', 'Cells_inf'],
      { Metadata_pert_type: ['control', 'control', 'trt', 'trt'] },
    );
    const r = normalize(p, { method: 'standardize', samples: 'Metadata_pert_type == control' });
    expect(r.profiles.features).toEqual(['Cells_b']);
    expect(r.report.droppedFeatures.map((d) => d.name)).toEqual(['Cells_a', 'Cells_inf']);
    expect(r.report.droppedFeatures[0]!.reason).toMatch(/no value among the 2 reference row/);
    expect(r.report.droppedFeatures[1]!.reason).toMatch(/infinite/);
  });
});

describe('normalize: reference rows and strata', () => {
  // Two plates; plate P2 is plate P1 shifted by +10 and scaled ×2.
  const base = [1, 2, 3, 10, 20, 30];
  const rows: number[][] = [];
  const plate: string[] = [];
  const type: string[] = [];
  for (const [pl, a, b] of [['P1', 0, 1], ['P2', 10, 2]] as const) {
    base.forEach((v, i) => {
      rows.push([a + b * v]);
      plate.push(pl);
      type.push(i < 3 ? 'control' : 'trt');
    });
  }
  const p = makeProfiles(rows, ['Cells_f'], { Metadata_Plate: plate, Metadata_pert_type: type });

  it('fits on the control rows of each plate and transforms the whole plate', () => {
    const r = normalize(p, { method: 'mad_robustize', samples: 'Metadata_pert_type == control', strata: ['Metadata_Plate'] });
    // controls [1,2,3]: median 2, MAD 1 → same numbers on both plates
    const want = base.map((v) => (v - 2) / 1.4826);
    const got = col(r.profiles, 'Cells_f');
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i % 6]!, 12));
    expect(r.report.strata).toEqual([
      { label: 'Metadata_Plate=P1', nRows: 6, nReference: 3 },
      { label: 'Metadata_Plate=P2', nRows: 6, nReference: 3 },
    ]);
    expect(r.report.samples).toBe('Metadata_pert_type == control');
    expect(r.profiles.meta).toBe(p.meta);
  });
  it('without strata the plates are pooled (different numbers)', () => {
    const r = normalize(p, { method: 'mad_robustize', samples: 'Metadata_pert_type == control' });
    expect(col(r.profiles, 'Cells_f')[0]).not.toBeCloseTo(-1 / 1.4826, 6);
  });
  it('a control query matching nothing is an InputError naming the query and values', () => {
    expect(() => normalize(p, { method: 'standardize', samples: 'Metadata_pert_type == DMSO' })).toThrow(InputError);
    expect(() => normalize(p, { method: 'standardize', samples: 'Metadata_pert_type == DMSO' })).toThrow(/"control", "trt"/);
  });
  it('a stratum without reference rows is an InputError naming it', () => {
    const q = makeProfiles([[1], [2], [3]], ['Cells_f'], { Metadata_Plate: ['P1', 'P1', 'P2'], Metadata_pert_type: ['control', 'trt', 'trt'] });
    expect(() => normalize(q, { method: 'standardize', samples: 'Metadata_pert_type == control', strata: ['Metadata_Plate'] })).toThrow(/Metadata_Plate=P2/);
  });
});

function covariance(X: Matrix, rows?: number[]): number[][] {
  const d = X.cols;
  const idx = rows ?? Array.from({ length: X.rows }, (_, i) => i);
  const n = idx.length;
  const m = new Array(d).fill(0);
  for (const i of idx) for (let j = 0; j < d; j++) m[j] += X.data[i * d + j]! / n;
  const C = Array.from({ length: d }, () => new Array(d).fill(0));
  for (const i of idx) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) C[a]![b] += ((X.data[i * d + a]! - m[a]) * (X.data[i * d + b]! - m[b])) / (n - 1);
  return C;
}

/** n × d correlated data: independent normals mixed by a random matrix, plus per-feature offsets. */
function correlated(rng: Rng, n: number, d: number): Matrix {
  const A = Array.from({ length: d }, () => Array.from({ length: d }, () => rng.normal()));
  const X = zeros(n, d);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: d }, () => rng.normal());
    for (let j = 0; j < d; j++) {
      let s = 5 * j;
      for (let k = 0; k < d; k++) s += A[j]![k]! * z[k]! * (k + 1);
      X.data[i * d + j] = s;
    }
  }
  return X;
}

describe('spherize', () => {
  for (const method of ['ZCA', 'ZCA-cor', 'PCA', 'PCA-cor'] as const) {
    it(`${method}: the reference rows come out with identity covariance (property, 5 seeds)`, () => {
      for (let seed = 1; seed <= 5; seed++) {
        const rng = new Rng(seed);
        const d = 6, nCtrl = 40, nTrt = 25;
        const X = correlated(rng, nCtrl + nTrt, d);
        const type = Array.from({ length: nCtrl + nTrt }, (_, i) => (i < nCtrl ? 'control' : 'trt'));
        const names = Array.from({ length: d }, (_, j) => `Cells_f${j}`);
        const rowsArr = Array.from({ length: X.rows }, (_, i) => Array.from(X.data.subarray(i * d, (i + 1) * d)));
        const p = makeProfiles(rowsArr, names, { Metadata_pert_type: type });
        // ε = 0: exactly white (to rounding); default ε = 1e-6 shrinks each direction by s/(s+ε).
        const r0 = normalize(p, { method: 'spherize', spherizeMethod: method, samples: 'Metadata_pert_type == control', spherizeEpsilon: 0 });
        const C0 = covariance(r0.profiles.X, Array.from({ length: nCtrl }, (_, i) => i));
        for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) expect(Math.abs(C0[a]![b]! - (a === b ? 1 : 0))).toBeLessThan(1e-9);
        const r = normalize(p, { method: 'spherize', spherizeMethod: method, samples: 'Metadata_pert_type == control' });
        const C = covariance(r.profiles.X, Array.from({ length: nCtrl }, (_, i) => i));
        for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) expect(Math.abs(C[a]![b]! - (a === b ? 1 : 0))).toBeLessThan(1e-3);
        expect(r.profiles.features[0]).toBe(method.startsWith('PCA') ? 'PC1' : 'Cells_f0');
        // treated rows are transformed too, but are not white
        const Ct = covariance(r.profiles.X, Array.from({ length: nTrt }, (_, i) => nCtrl + i));
        expect(Ct.some((row, a) => row.some((v, b) => Math.abs(v - (a === b ? 1 : 0)) > 0.05))).toBe(true);
      }
    });
  }
  it('ZCA weights are symmetric and ε enters as pycytominer: √(n−1)/(s + ε)', () => {
    // Orthogonal columns: centred XᵀX = diag(s²), so W = diag(√(n−1)/(s+ε)).
    const R = { rows: 4, cols: 2, data: Float64Array.from([1, 1, -1, 1, 1, -1, -1, -1]) };
    const m = fitSpherize(R, { method: 'ZCA', epsilon: 0.5 });
    // s = 2 for both columns
    expect(m.W.data[0]).toBeCloseTo(Math.sqrt(3) / 2.5, 14);
    expect(m.W.data[1]).toBeCloseTo(0, 14);
    expect(m.W.data[3]).toBeCloseTo(Math.sqrt(3) / 2.5, 14);
    const T = applySpherize(m, R);
    expect(T.data[0]).toBeCloseTo(Math.sqrt(3) / 2.5, 14);
  });
  it('ZCA with fewer reference rows than features is fitted as pycytominer fits it (rank said in a warning); missing values are an InputError', () => {
    const rng = new Rng(3);
    const rows = Array.from({ length: 4 }, () => Array.from({ length: 6 }, () => rng.normal()));
    const r = normalize(makeProfiles(rows, ['a', 'b', 'c', 'd', 'e', 'f'].map((s) => `Cells_${s}`)), { method: 'spherize' });
    expect(r.report.warnings.join('\n')).toMatch(/rank 3 < 6/);
    // The reference rows come out with unit variance on the 3 directions they span (ZCA keeps no others).
    expect(Array.from(r.profiles.X.data).every(Number.isFinite)).toBe(true);
    rows[2]![1] = NaN;
    const rows2 = [...rows, ...Array.from({ length: 10 }, () => Array.from({ length: 6 }, () => rng.normal()))];
    expect(() => normalize(makeProfiles(rows2, ['a', 'b', 'c', 'd', 'e', 'f'].map((s) => `Cells_${s}`)), { method: 'spherize' })).toThrow(InputError);
  });
});
