import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSynthetic, syntheticFeatureNames, writeSynthetic } from '../../src/io/synthetic.js';
import { readProfiles } from '../../src/io/read.js';
import { metaStrings } from '../../src/io/profiles.js';

const dir = mkdtempSync(join(tmpdir(), 'phenomap-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts = { rows: 600, features: 120, moas: 8, plates: 4, seed: 3 };

describe('synthetic profile tables', () => {
  it('deterministic by seed, different for another seed', () => {
    const a = generateSynthetic(opts), b = generateSynthetic(opts), c = generateSynthetic({ ...opts, seed: 4 });
    expect(Array.from(a.X)).toEqual(Array.from(b.X));
    expect(a.meta).toEqual(b.meta);
    expect(Array.from(a.X.subarray(0, 50))).not.toEqual(Array.from(c.X.subarray(0, 50)));
  });
  it('requested shape, controls on every plate, multi-MoA labels, distinct CellProfiler-style names', () => {
    const a = generateSynthetic({ ...opts, multiMoaFraction: 0.3 });
    expect(a.X.length).toBe(600 * 120);
    expect(a.features.length).toBe(120);
    expect(new Set(a.features).size).toBe(120);
    expect(a.features.every((f) => /^(Cells|Cytoplasm|Nuclei)_/.test(f))).toBe(true);
    const plates = new Set(a.meta.Metadata_plate);
    expect(plates.size).toBe(4);
    for (const p of plates) {
      const ctl = a.meta.Metadata_plate.filter((q, i) => q === p && a.meta.Metadata_pert_type[i] === 'control').length;
      expect(ctl).toBeGreaterThan(0);
    }
    a.meta.Metadata_pert_type.forEach((t, i) => expect(t === 'control').toBe(a.meta.Metadata_moa[i] === null));
    expect(a.meta.Metadata_moa.some((m) => m?.includes('|'))).toBe(true);
    expect(new Set(a.meta.Metadata_moa.filter((m) => m && !m.includes('|'))).size).toBe(8);
    expect(a.X.every(Number.isFinite)).toBe(true);
    // names extend past the base catalogue without duplicates
    const big = syntheticFeatureNames(3000).names;
    expect(new Set(big).size).toBe(3000);
  });
  it('replicates of a compound are closer than compounds of different MoAs (structure is there)', () => {
    const a = generateSynthetic(opts);
    const D = opts.features;
    const cpd = a.meta.Metadata_compound, moa = a.meta.Metadata_moa;
    const dist = (i: number, j: number) => {
      let s = 0;
      for (let c = 0; c < D; c++) {
        // compare on a log scale for the positive skewed features so none dominates
        const x = a.X[i * D + c]!, y = a.X[j * D + c]!;
        s += (x > 0 && y > 0 ? Math.log(x) - Math.log(y) : x - y) ** 2;
      }
      return s;
    };
    let same = 0, ns = 0, diff = 0, nd = 0;
    for (let i = 0; i < 600; i += 3)
      for (let j = i + 1; j < 600; j += 2) {
        if (!moa[i] || !moa[j]) continue;
        if (cpd[i] === cpd[j]) (same += dist(i, j)), ns++;
        else if (moa[i] !== moa[j]) (diff += dist(i, j)), nd++;
      }
    expect(ns).toBeGreaterThan(5);
    expect(same / ns).toBeLessThan(0.6 * (diff / nd));
  });
  it('streams CSV.gz and Parquet that readProfiles reads back with the same values', async () => {
    const small = { ...opts, rows: 300, features: 40 };
    const mem = generateSynthetic(small);
    for (const ext of ['csv.gz', 'parquet']) {
      const path = join(dir, `t.${ext}`);
      const info = await writeSynthetic(path, small);
      expect(info.rows).toBe(300);
      const { profiles, report } = await readProfiles(path);
      expect(report.rows).toBe(300);
      expect(profiles.features).toEqual(mem.features);
      expect(metaStrings(profiles, 'Metadata_moa')).toEqual(mem.meta.Metadata_moa);
      expect(metaStrings(profiles, 'Metadata_well').slice(0, 3)).toEqual(['A01', 'A02', 'A03']);
      for (let t = 0; t < 200; t++) {
        const v = mem.X[t * 37]!;
        expect(Math.abs(profiles.X.data[t * 37]! - v)).toBeLessThanOrEqual(Math.abs(v) * 1e-5 + 1e-12);
      }
    }
    // the same seed writes the same bytes
    await writeSynthetic(join(dir, 'u.csv.gz'), small);
    expect(readFileSync(join(dir, 'u.csv.gz')).equals(readFileSync(join(dir, 't.csv.gz')))).toBe(true);
  });
  it('rejects bad sizes', () => {
    expect(() => generateSynthetic({ ...opts, rows: 0 })).toThrow(/rows/);
    expect(() => generateSynthetic({ ...opts, multiMoaFraction: 2 })).toThrow(/multiMoaFraction/);
  });
});
