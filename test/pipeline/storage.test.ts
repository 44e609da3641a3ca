/**
 * Float32 storage and the one-copy path (issue: scale). Float32 rounds the stored table only —
 * every kernel widens on load and sums in float64 — and a table `run` read itself is z-scored in
 * its own storage. Checked against the float64 / copying paths on the bundled LINCS plate and on
 * small hand-built cases.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readProfiles } from '../../src/io/read.js';
import { readNpy, writeNpy } from '../../src/io/npy.js';
import type { Profiles } from '../../src/io/profiles.js';
import {
  type Matrix, type StoredMatrix, asFloat64, compactRowsInPlace, compactColsInPlace, takeCols, takeRows, centeredCrossprod, centeredProduct,
  crossprod, gemm, zeros, squaredDistances, precisionOf,
} from '../../src/linalg/index.js';
import { zscore } from '../../src/preprocess/zscore.js';
import { normalize } from '../../src/preprocess/normalize.js';
import { featureSelect } from '../../src/preprocess/featureSelect.js';
import { PCA } from '../../src/represent/pca.js';
import { Itml } from '../../src/represent/itml.js';
import { exactKnn } from '../../src/cluster/knnGraph.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { presetParameters } from '../../src/pipeline/params.js';
import { metaStrings } from '../../src/io/profiles.js';
import { adjustedRandIndex } from '../../src/evaluate/ari.js';
import { main } from '../../src/cli/main.js';
import { Rng } from '../../src/linalg/rng.js';
import { examplePath } from '../helpers/shared.js';

const plate = examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz');

function randomMatrix(n: number, d: number, seed: number, shift = 0): Matrix {
  const rng = new Rng(seed);
  const m = zeros(n, d);
  for (let i = 0; i < m.data.length; i++) m.data[i] = shift + rng.normal() * (1 + (i % d));
  return m;
}

function to32(m: Matrix): StoredMatrix {
  return { rows: m.rows, cols: m.cols, data: Float32Array.from(m.data) };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('row compaction and in-place z-score', () => {
  it('compactRowsInPlace equals takeRows and reuses the buffer', () => {
    const X = randomMatrix(9, 4, 1);
    const idx = [0, 2, 3, 7, 8];
    const want = takeRows(X, idx);
    const got = compactRowsInPlace({ ...X, data: X.data.slice() }, idx);
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
    const buf = X.data;
    expect(compactRowsInPlace(X, idx).data.buffer).toBe(buf.buffer);
    expect(() => compactRowsInPlace(randomMatrix(4, 2, 2), [1, 0])).toThrow(/ascending/);
  });

  it('compactColsInPlace equals takeCols', () => {
    const X = randomMatrix(7, 6, 9);
    const want = takeCols(X, [1, 2, 5]);
    expect(Array.from(compactColsInPlace(X, [1, 2, 5]).data)).toEqual(Array.from(want.data));
    expect(() => compactColsInPlace(randomMatrix(2, 3, 1), [2, 1])).toThrow(/ascending/);
  });

  it('zscore in place gives the same Z bit for bit, also when columns are dropped', () => {
    const X = randomMatrix(50, 6, 3, 100);
    for (let i = 0; i < 50; i++) {
      X.data[i * 6 + 1] = 7; // zero variance
      if (i === 13) X.data[i * 6 + 4] = NaN; // non-finite
    }
    const ref = zscore(X);
    expect(ref.dropped).toEqual([1, 4]);
    const own = { ...X, data: X.data.slice() };
    const got = zscore(own, { inPlace: true });
    expect(got.Z.data.buffer).toBe(own.data.buffer);
    expect(got.Z.cols).toBe(4);
    expect(Array.from(got.Z.data)).toEqual(Array.from(ref.Z.data));
    expect(Array.from(got.std)).toEqual(Array.from(ref.std));
  });

  it('zscore detects non-finite columns through their sums (±Infinity pairs included)', () => {
    const X = randomMatrix(10, 3, 4);
    X.data[0] = Infinity;
    X.data[3] = -Infinity; // column 0 sums to NaN
    X.data[5] = Infinity; // column 2 sums to Infinity
    expect(zscore(X).dropped).toEqual([0, 2]);
    expect(zscore(X).droppedReason).toEqual(['non-finite', 'non-finite']);
  });

  it('float32 storage: Z is float32, stats are float64 of the stored values', () => {
    const X = randomMatrix(200, 5, 5, 1000);
    const X32 = to32(X);
    const r = zscore(X32);
    expect(r.Z.data).toBeInstanceOf(Float32Array);
    const wide = zscore(asFloat64(X32)); // the same stored values, float64 storage
    expect(maxAbsDiff(r.mean, wide.mean)).toBe(0);
    expect(maxAbsDiff(r.std, wide.std)).toBe(0);
    // Only the final store is rounded to float32.
    for (let i = 0; i < r.Z.data.length; i++) expect(r.Z.data[i]).toBe(Math.fround(wide.Z.data[i]!));
  });
});

describe('centred products never materialise X − 1μᵀ', () => {
  it('equal the explicit centred products for any block size', () => {
    const X = randomMatrix(37, 6, 6, 50);
    const mean = new Float64Array(6);
    for (let i = 0; i < 37; i++) for (let j = 0; j < 6; j++) mean[j] += X.data[i * 6 + j]! / 37;
    const Xc = zeros(37, 6);
    for (let t = 0; t < Xc.data.length; t++) Xc.data[t] = X.data[t]! - mean[t % 6]!;
    const G = crossprod(Xc);
    const V = randomMatrix(6, 3, 7);
    const P = gemm(Xc, V);
    for (const block of [1, 5, 37, 1000]) {
      const scale = Math.max(...G.data.map(Math.abs));
      expect(maxAbsDiff(centeredCrossprod(X, mean, block).data, G.data) / scale).toBeLessThan(1e-13);
      expect(maxAbsDiff(centeredProduct(X, mean, V, block).data, P.data)).toBeLessThan(1e-10);
    }
  });

  it('PCA on float32 storage equals PCA on the same values widened to float64', () => {
    const X32 = to32(randomMatrix(3000, 20, 8, 3));
    const a = new PCA({ nComponents: 5 }).fitTransform(X32);
    const b = new PCA({ nComponents: 5 }).fitTransform(asFloat64(X32));
    expect(maxAbsDiff(a.data, b.data)).toBe(0);
  });
});

describe('float32 tables through readProfiles, ITML, k-NN and the pipeline (LINCS plate)', () => {
  let p64: Profiles;
  let p32: Profiles<StoredMatrix>;
  beforeAll(async () => {
    p64 = (await readProfiles(plate)).profiles;
    p32 = (await readProfiles(plate, { precision: 'float32' })).profiles;
  });

  it('reads the same values rounded to float32', () => {
    expect(p32.X.data).toBeInstanceOf(Float32Array);
    expect(precisionOf(p32.X)).toBe('float32');
    expect([p32.X.rows, p32.X.cols]).toEqual([p64.X.rows, p64.X.cols]);
    for (let i = 0; i < p64.X.data.length; i += 97) expect(p32.X.data[i]).toBe(Math.fround(p64.X.data[i]!));
  });

  it('a value beyond float32 range is an error naming column and row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-f32-'));
    const f = join(dir, 'big.csv');
    writeFileSync(f, 'Metadata_id,Cells_a,Cells_b\nx,1,2\ny,3,4e39\n');
    await expect(readProfiles(f, { precision: 'float32' })).rejects.toThrow(/^[^:]*big\.csv: column Cells_b, data row 2: 4e\+39 does not fit float32/);
    expect((await readProfiles(f)).profiles.X.data[3]).toBe(4e39);
  });

  it('exact k-NN on float32 storage equals k-NN on the widened values', () => {
    const Z32 = zscore(p32.X).Z;
    const a = exactKnn(Z32, 10), b = exactKnn(asFloat64(Z32), 10);
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(maxAbsDiff(a.distances, b.distances)).toBe(0);
  });

  it('low-rank ITML keeps float32 storage and the distances of transform()', () => {
    const labels = metaStrings(p64, 'Metadata_moa');
    const rows = labels.flatMap((l, i) => (l ? [i] : []));
    const Z32 = zscore(takeRows(p32.X, rows)).Z;
    const itml = new Itml({ numConstraints: 20, seed: 0 }).fit(Z32, rows.map((i) => labels[i]!));
    const low = itml.transformLowRank(Z32);
    expect(low.data).toBeInstanceOf(Float32Array);
    const D1 = squaredDistances(low), D2 = squaredDistances(itml.transform(Z32));
    const scale = Math.max(...D2.data);
    expect(maxAbsDiff(D1.data, D2.data) / scale).toBeLessThan(1e-5);
  });

  it('analyse: float32 gives the float64 study counts for raw and PCA; consuming the input changes nothing else', () => {
    const params = presetParameters('paper');
    const copy = (p: Profiles<StoredMatrix>): Profiles<StoredMatrix> => ({ ...p, X: { ...p.X, data: p.X.data.slice() } });
    const ref = analyse(p64, params);
    const before = p64.X.data.slice();
    const again = analyse(p64, params);
    expect(Array.from(p64.X.data)).toEqual(Array.from(before)); // not consumed: untouched
    const consumed = copy(p64);
    const c = analyse(consumed, params, { consumeInput: true });
    for (const rep of ['raw', 'pca', 'itml'] as const) {
      expect(Array.from(c.representations[rep]!.ap.labels)).toEqual(Array.from(ref.representations[rep]!.ap.labels));
      expect(Array.from(again.representations[rep]!.ap.labels)).toEqual(Array.from(ref.representations[rep]!.ap.labels));
    }
    expect(c.profiles.X.data.buffer).toBe(consumed.X.data.buffer); // z-scored in the input's storage
    expect(maxAbsDiff(c.profiles.X.data, ref.profiles.X.data)).toBe(0);

    const f = analyse(copy(p32), params, { consumeInput: true });
    expect(f.precision).toBe('float32');
    expect(f.profiles.X.data).toBeInstanceOf(Float32Array);
    for (const rep of ['raw', 'pca'] as const) {
      const [a, b] = [f.representations[rep]!, ref.representations[rep]!];
      expect([a.ap.exemplars.length, a.enrichment.enrichedClusters.length]).toEqual([b.ap.exemplars.length, b.enrichment.enrichedClusters.length]);
      expect(adjustedRandIndex(a.ap.labels, b.ap.labels)).toBeGreaterThan(0.99);
    }
  });

  it('normalize in place (per plate, against DMSO, a dropped feature) equals the copying path', () => {
    const opts = { method: 'mad_robustize' as const, strata: ['Metadata_Plate'], samples: "Metadata_broad_sample == 'DMSO'" };
    const X = { ...p64.X, data: p64.X.data.slice() };
    for (let i = 0; i < X.rows; i++) X.data[i * X.cols + 3] = i === 5 ? Infinity : X.data[i * X.cols + 3]!; // dropped
    const base = { ...p64, X };
    const ref = normalize(base, opts);
    const own = { ...base, X: { ...X, data: X.data.slice() } };
    const got = normalize(own, { ...opts, inPlace: true });
    expect(got.report.droppedFeatures.map((f) => f.name)).toEqual([p64.features[3]]);
    expect(got.profiles.X.data.buffer).toBe(own.X.data.buffer);
    expect(got.profiles.features).toEqual(ref.profiles.features);
    expect(Array.from(got.profiles.X.data)).toEqual(Array.from(ref.profiles.X.data));
  });

  it('feature-select in place (all rows, and a control sample) equals the copying path', () => {
    const ops = { operations: ['frequency_threshold', 'correlation_threshold', 'drop_outliers'] as const };
    for (const samples of [undefined, 'Metadata_broad_sample == DMSO']) {
      const opts = { ...ops, operations: [...ops.operations], samples, corrThreshold: 0.6 };
      const ref = featureSelect(p64, opts);
      expect(ref.report.kept).toBeLessThan(p64.features.length); // something is removed
      const own = { ...p64, X: { ...p64.X, data: p64.X.data.slice() } };
      const got = featureSelect(own, { ...opts, inPlace: true });
      expect(got.profiles.features).toEqual(ref.profiles.features);
      expect(got.profiles.X.data.buffer).toBe(own.X.data.buffer);
      expect(Array.from(got.profiles.X.data)).toEqual(Array.from(ref.profiles.X.data));
    }
  });

  it("normalize-on 'all' with consumed input equals the copying path", () => {
    const params = { ...presetParameters('default'), normalizeOn: 'all' as const, representations: ['raw' as const] };
    const ref = analyse(p64, params);
    const own = { ...p64, X: { ...p64.X, data: p64.X.data.slice() } };
    const got = analyse(own, params, { consumeInput: true });
    expect(got.profiles.X.rows).toBe(342);
    expect(maxAbsDiff(got.profiles.X.data, ref.profiles.X.data)).toBe(0);
    expect(Array.from(got.representations.raw!.ap.labels)).toEqual(Array.from(ref.representations.raw!.ap.labels));
  });
});

describe('NPY output of float32 storage', () => {
  it('streams in chunks and writes float32 as <f4', () => {
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-npy-'));
    const n = (1 << 20) + 3; // crosses a write chunk
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.fround(Math.sin(i) * 1e3);
    writeNpy(join(dir, 'a.npy'), { rows: n, cols: 1, data });
    const a = readNpy(join(dir, 'a.npy'));
    expect(a.dtype).toBe('<f4');
    expect(a.shape).toEqual([n, 1]);
    expect(maxAbsDiff(a.data, data)).toBe(0);
    writeNpy(join(dir, 'b.npy'), { rows: 2, cols: 2, data: Float64Array.from([1.5, -2, 3, 1e300]) });
    const b = readNpy(join(dir, 'b.npy'));
    expect([b.dtype, ...b.data]).toEqual(['<f8', 1.5, -2, 3, 1e300]);
  });
});

describe('phenomap run --float32', () => {
  it('records float32 in summary.json and gives the float64 counts for raw and PCA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-run32-'));
    const out = join(dir, 'o');
    const code = await main(['node', 'phenomap', 'run', plate, '--preset', 'paper', '--representations', 'raw,pca', '--float32', '--out', out, '--quiet']);
    expect(code).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.inputs.precision).toBe('float32');
    expect([s.representations.raw.clusters, s.representations.raw.enrichedClusters]).toEqual([69, 18]);
    expect([s.representations.pca.clusters, s.representations.pca.enrichedClusters]).toEqual([68, 19]);
    expect(readNpy(join(out, 'repr_raw.npy')).dtype).toBe('<f4');
  });
});
