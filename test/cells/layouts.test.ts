/**
 * The same cells in every layout give the same well profiles (style.md's cross-layout test), the
 * profiles equal a plain sort-based median of the merged cells, merge → Parquet → aggregate
 * round-trips exactly, and several plates stack in one call. Plates come from the generator.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregateCells, mergeCells, writeSingleCellPlate, type LayoutName } from '../../src/cells/index.js';
import { readProfiles } from '../../src/io/read.js';
import { cellString, getMeta } from '../../src/io/profiles.js';
import { runCli } from '../io/helpers.js';

const LAYOUTS: { layout: LayoutName; name: string }[] = [
  { layout: 'spreadsheet', name: 'plate_csv' },
  { layout: 'cellprofiler-sqlite', name: 'plate_cp.sqlite' },
  { layout: 'cytominer-sqlite', name: 'plate_cm.sqlite' },
  { layout: 'parquet', name: 'plate.parquet' },
];

let dir: string;
const plate = { cells: 1500, features: 12, wells: 12, sites: 3, seed: 7, extraNuclei: 0.05 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'phenomap-cells-'));
  for (const l of LAYOUTS) await writeSingleCellPlate(join(dir, l.name), { layout: l.layout, ...plate });
});

describe('the same cells in every layout', () => {
  for (const op of ['median', 'mean'] as const) {
    it(`give identical ${op} well profiles`, async () => {
      const results = [];
      for (const l of LAYOUTS) results.push(await aggregateCells([join(dir, l.name)], { operation: op }));
      const first = results[0]!.profiles;
      expect(first.X.rows).toBe(12);
      expect(first.features.length).toBe(3 * 12 + 1); // + Cells_Parent_Nuclei, a feature as in pycytominer
      for (const r of results.slice(1)) {
        expect(r.profiles.features).toEqual(first.features);
        expect(Array.from(r.profiles.X.data)).toEqual(Array.from(first.X.data));
        expect(r.profiles.meta.find((m) => m.name === 'Metadata_Object_Count')!.values).toEqual(first.meta.find((m) => m.name === 'Metadata_Object_Count')!.values);
      }
      const counts = first.meta.find((m) => m.name === 'Metadata_Object_Count')!.values as Float64Array;
      expect(counts.reduce((a, b) => a + b, 0)).toBe(plate.cells);
      expect(Array.from(first.meta.find((m) => m.name === 'Metadata_Site_Count')!.values as Float64Array)).toEqual(new Array(12).fill(3));
      expect(results[1]!.report.sources[0]!.links.unlinked.Nuclei).toBeGreaterThan(0);
    });
  }

  it('per compartment: the unlinked nuclei count, in all three object layouts alike', async () => {
    const r = [];
    for (const l of LAYOUTS.slice(0, 3)) r.push((await aggregateCells([join(dir, l.name)], { perCompartment: true })).profiles);
    expect(Array.from(r[1]!.X.data)).toEqual(Array.from(r[0]!.X.data));
    expect(Array.from(r[2]!.X.data)).toEqual(Array.from(r[0]!.X.data));
    const linked = (await aggregateCells([join(dir, 'plate_cm.sqlite')])).profiles;
    const j = linked.features.indexOf('Nuclei_AreaShape_Area');
    let differs = 0;
    for (let i = 0; i < 12; i++) if (linked.X.data[i * linked.features.length + j] !== r[0]!.X.data[i * r[0]!.features.length + j]) differs++;
    expect(differs).toBeGreaterThan(0);
    await expect(aggregateCells([join(dir, 'plate.parquet')], { perCompartment: true })).rejects.toThrow(/per.compartment|link/i);
  });
});

describe('merged cells', () => {
  it('equal a plain sort-based median per well, and round-trip through Parquet exactly', async () => {
    const out = join(dir, 'merged.csv');
    const report = await mergeCells([join(dir, 'plate_cm.sqlite')], out);
    expect(report.cells).toBe(plate.cells);
    const { profiles: cells } = await readProfiles(out);
    expect(cells.X.rows).toBe(plate.cells);
    // An independent median: group rows by well, sort each column.
    const well = getMeta(cells, 'Metadata_Well');
    const groups = new Map<string, number[]>();
    for (let i = 0; i < cells.X.rows; i++) {
      const w = cellString(well, i)!;
      groups.set(w, [...(groups.get(w) ?? []), i]);
    }
    const { profiles: agg } = await aggregateCells([join(dir, 'plate_cm.sqlite')]);
    const d = cells.features.length;
    expect(agg.features).toEqual(cells.features);
    const aggWell = getMeta(agg, 'Metadata_Well');
    for (let g = 0; g < agg.X.rows; g++) {
      const rows = groups.get(cellString(aggWell, g)!)!;
      for (const j of [0, 5, d - 1]) {
        const v = rows.map((i) => cells.X.data[i * d + j]!).sort((a, b) => a - b);
        const h = v.length >> 1;
        const med = v.length % 2 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
        expect(agg.X.data[g * d + j]).toBe(med);
      }
    }
    const pq = join(dir, 'merged.parquet');
    await mergeCells([join(dir, 'plate_cm.sqlite')], pq);
    const again = await aggregateCells([pq]);
    expect(Array.from(again.profiles.X.data)).toEqual(Array.from(agg.X.data));
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

describe('several plates in one call', () => {
  it('stack sorted by plate and well; a well in two sources is refused', async () => {
    const a = join(dir, 'A.sqlite'), b = join(dir, 'B.sqlite');
    await writeSingleCellPlate(a, { layout: 'cytominer-sqlite', cells: 200, features: 4, wells: 4, sites: 1, plate: 'P2', seed: 1 });
    await writeSingleCellPlate(b, { layout: 'cytominer-sqlite', cells: 200, features: 4, wells: 4, sites: 1, plate: 'P1', seed: 2 });
    const { profiles, report } = await aggregateCells([a, b]);
    expect(report.sources.map((s) => s.source)).toEqual([a, b]);
    const plates = getMeta(profiles, 'Metadata_Plate').values as string[];
    expect(plates).toEqual(['P1', 'P1', 'P1', 'P1', 'P2', 'P2', 'P2', 'P2']);
    await expect(aggregateCells([a, join(dir, 'plate_cm.sqlite'), a])).rejects.toThrow(/different features|appears in both/);
    // a glob and a folder name the same plates
    const viaGlob = await aggregateCells([join(dir, '[AB].sqlite')]);
    expect(Array.from(viaGlob.profiles.X.data)).toEqual(Array.from(profiles.X.data));
  });

  it('the CLI writes the table and a JSON report; the generator is deterministic', async () => {
    const out = join(dir, 'wells.csv');
    const r = await runCli(['cells', 'aggregate', join(dir, 'plate_csv'), '-o', out, '--json', '-q']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.profiles).toBe(12);
    expect(report.sources[0].layout).toBe('spreadsheet');
    const again = join(dir, 'again.sqlite');
    await writeSingleCellPlate(again, { layout: 'cytominer-sqlite', ...plate });
    const x = await aggregateCells([again]);
    const y = await aggregateCells([join(dir, 'plate_cm.sqlite')]);
    expect(Array.from(x.profiles.X.data)).toEqual(Array.from(y.profiles.X.data));
    expect(readFileSync(out, 'utf8').split('\n')[0]).toMatch(/^Metadata_Plate,Metadata_Well,Metadata_Object_Count,Metadata_Site_Count,Cells_/);
  });
});

describe('a SQLite plate on several threads', () => {
  it('gives the numbers of one thread (wells shared out between worker threads)', async () => {
    const p = join(dir, 'threads.sqlite');
    await writeSingleCellPlate(p, { layout: 'cellprofiler-sqlite', cells: 2400, features: 10, wells: 48, sites: 2, seed: 5 });
    const one = await aggregateCells([p], { threads: 1 });
    const two = await aggregateCells([p], { threads: 2 });
    const three = await aggregateCells([p], { threads: 3, perCompartment: true });
    const oneP = await aggregateCells([p], { threads: 1, perCompartment: true });
    expect(two.profiles.X.rows).toBe(48);
    expect(Array.from(two.profiles.X.data)).toEqual(Array.from(one.profiles.X.data));
    expect(Array.from(three.profiles.X.data)).toEqual(Array.from(oneP.profiles.X.data));
    expect(two.report.sources[0]!.objects).toEqual(one.report.sources[0]!.objects);
    expect(two.report.sources[0]!.links).toEqual(one.report.sources[0]!.links);
  });
});
