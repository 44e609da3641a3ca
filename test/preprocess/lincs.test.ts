/**
 * Preprocessing on the real LINCS plate SQ00015054 (bundled in examples/): z-score parity with
 * the reference fixture, mad_robustize against DMSO per plate, default feature selection.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readProfiles } from '../../src/io/read.js';
import { readNpyMatrix } from '../../src/io/npy.js';
import { metaStrings, subsetRows, type Profiles } from '../../src/io/profiles.js';
import { takeCols } from '../../src/linalg/matrix.js';
import { zscore, zscoreProfiles } from '../../src/preprocess/zscore.js';
import { normalize } from '../../src/preprocess/normalize.js';
import { featureSelect } from '../../src/preprocess/featureSelect.js';
import { columnCorrelation } from '../../src/preprocess/correlation.js';
import { aggregate } from '../../src/preprocess/aggregate.js';
import { consensus } from '../../src/preprocess/consensus.js';
import { InputError } from '../../src/util/errors.js';
import { examplePath, repoRoot } from '../helpers/shared.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'lincs_SQ00015054');
let plate: Profiles;

beforeAll(async () => {
  plate = (await readProfiles(examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz'))).profiles;
});

describe('LINCS plate SQ00015054', () => {
  it('z-score of the 342 labelled rows matches X_zscored.npy to 1e-12 relative', () => {
    const moa = metaStrings(plate, 'Metadata_moa');
    const labelled = moa.flatMap((m, i) => (m !== null && m !== '' ? [i] : []));
    expect(labelled.length).toBe(342);
    const features = readFileSync(join(fixtures, 'features.txt'), 'utf8').trim().split('\n');
    const fi = features.map((f) => plate.features.indexOf(f));
    expect(fi.every((j) => j >= 0)).toBe(true);
    const sub = subsetRows(plate, labelled);
    const r = zscore(takeCols(sub.X, fi));
    expect(r.dropped).toEqual([]);
    const R = readNpyMatrix(join(fixtures, 'X_zscored.npy'));
    expect([R.rows, R.cols]).toEqual([342, 454]);
    let worst = 0;
    for (let t = 0; t < R.data.length; t++) {
      worst = Math.max(worst, Math.abs(r.Z.data[t]! - R.data[t]!) / Math.max(1, Math.abs(R.data[t]!)));
    }
    expect(worst).toBeLessThan(1e-12);
    // the Profiles wrapper keeps metadata and names
    const zp = zscoreProfiles({ ...sub, X: takeCols(sub.X, fi), features });
    expect(zp.profiles.features).toEqual(features);
    expect(zp.report.dropped).toEqual([]);
  });

  it('zscore drops (and names) non-finite and constant features', () => {
    const X = takeCols(plate.X, [0, 1, 2]);
    X.data[5 * 3 + 1] = NaN;
    for (let i = 0; i < X.rows; i++) X.data[i * 3 + 2] = 7;
    const r = zscoreProfiles({ ...plate, X, features: plate.features.slice(0, 3) });
    expect(r.profiles.features).toEqual([plate.features[0]]);
    expect(r.report.dropped.map((d) => d.reason)).toEqual(['has a missing or infinite value', 'zero variance (all values equal)']);
  });

  it('mad_robustize against DMSO per plate: DMSO medians 0 and 1.4826·MAD = 1 afterwards', () => {
    const r = normalize(plate, { method: 'mad_robustize', samples: 'Metadata_broad_sample == DMSO', strata: ['Metadata_Plate'] });
    expect(r.report.strata).toEqual([{ label: 'Metadata_Plate=SQ00015054', nRows: 384, nReference: 24 }]);
    expect(r.profiles.features.length + r.report.droppedFeatures.length).toBe(454);
    expect(r.report.missingCells).toBe(0);
    const dmso = metaStrings(plate, 'Metadata_broad_sample').flatMap((s, i) => (s === 'DMSO' ? [i] : []));
    const { X } = r.profiles;
    const d = X.cols;
    const zero = new Set(r.report.zeroScale.map((z) => z.feature));
    for (let j = 0; j < d; j++) {
      const v = dmso.map((i) => X.data[i * d + j]!).sort((a, b) => a - b);
      const med = (v[11]! + v[12]!) / 2;
      expect(Math.abs(med)).toBeLessThan(1e-12);
      if (zero.has(r.profiles.features[j]!)) continue;
      const dev = v.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
      expect(1.4826 * ((dev[11]! + dev[12]!) / 2)).toBeCloseTo(1, 10);
    }
    expect(r.profiles.meta).toBe(plate.meta);
  });

  it('a control query that matches nothing names the real values', () => {
    expect(() => normalize(plate, { method: 'mad_robustize', samples: 'Metadata_pert_type == DMSO' })).toThrow(InputError);
    expect(() => normalize(plate, { method: 'mad_robustize', samples: 'Metadata_pert_type == DMSO' })).toThrow(/"trt", "control"|"control", "trt"/);
  });

  it('featureSelect with the default operations: counts consistent, no kept pair above 0.9', () => {
    // The bundled plate was already feature-selected at 0.9, so the defaults keep everything.
    const r = featureSelect(plate);
    expect(r.report.kept).toBe(454);
    expect(r.report.operations.map((o) => o.featuresIn)).toEqual([454, 454, 454, 454]);
  });

  it('featureSelect at correlation 0.7 removes features with reasons; counts consistent; no kept pair above 0.7', () => {
    const r = featureSelect(plate, { corrThreshold: 0.7 });
    const { report } = r;
    expect(report.featuresIn).toBe(454);
    expect(report.kept + report.removed.length).toBe(454);
    expect(report.kept).toBe(r.profiles.features.length);
    expect(report.operations.reduce((s, o) => s + o.removed, 0)).toBe(report.removed.length);
    for (const d of report.removed) expect(d.reason).toMatch(/^(drop_na_columns|frequency_threshold|correlation_threshold|drop_outliers): /);
    const C = columnCorrelation(r.profiles.X).data;
    const k = r.profiles.features.length;
    let maxKept = -1;
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) maxKept = Math.max(maxKept, C[a * k + b]!);
    expect(maxKept).toBeLessThanOrEqual(0.7);
    expect(report.removed.length).toBeGreaterThan(100);
    expect(report.removed[0]!.reason).toMatch(/^correlation_threshold: pearson correlation 0\.\d+ > 0\.7 with (Cells|Cytoplasm|Nuclei)_/);
  });

  it('aggregate by compound and MODZ consensus by compound run on the plate', () => {
    const a = aggregate(plate, { strata: ['Metadata_broad_sample'], operation: 'mean' });
    expect(a.report.nGroups).toBe(59);
    const n = a.profiles.meta.find((m) => m.name === 'Metadata_Object_Count')!.values as Float64Array;
    expect(n.reduce((s, v) => s + v, 0)).toBe(384);
    const c = consensus(plate, { strata: ['Metadata_broad_sample'], method: 'modz' });
    expect(c.report.nGroups).toBe(59);
    for (const g of c.report.groups) {
      const s = g.weights!.reduce((x, y) => x + y, 0);
      expect(Math.abs(s - 1)).toBeLessThan(1e-3); // rounded to 4 decimals, as pycytominer
    }
    expect(c.report.missingCells).toBe(0);
  });
});
