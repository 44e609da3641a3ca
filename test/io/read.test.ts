import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { readProfiles, nameMatcher } from '../../src/io/read.js';
import { getMeta } from '../../src/io/profiles.js';
import { examplePath, sharedPath } from '../helpers/shared.js';
import { describeShared } from '../helpers/shared.js';
import { tempDir, tempFile } from './helpers.js';

const LINCS = examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz');

describe('readProfiles on the bundled LINCS plate', () => {
  it('loads 384 rows × 454 features with 26 metadata columns', async () => {
    const { profiles, report } = await readProfiles(LINCS);
    expect(profiles.X.rows).toBe(384);
    expect(profiles.X.cols).toBe(454);
    expect(profiles.X.data.length).toBe(384 * 454);
    expect(profiles.features.length).toBe(454);
    expect(profiles.meta.length).toBe(26);
    expect(report.rows).toBe(384);
    expect(report.features).toBe(454);
    expect(report.metadataColumns).toHaveLength(26);
    expect(report.metadataColumns.every((n) => n.startsWith('Metadata_'))).toBe(true);
    expect(profiles.features.every((f) => /^(Cells|Cytoplasm|Nuclei)_/.test(f))).toBe(true);
    expect(report.format).toBe('csv');
    expect(report.gzip).toBe(true);
    expect(report.nanCounts.total).toBe(0);
    expect(report.droppedFeatures).toEqual([]);
    // Names differing only by case both survive (DuckDB identifiers are case-insensitive).
    expect(report.metadataColumns).toContain('Metadata_plate_map_name');
    expect(report.metadataColumns).toContain('Metadata_Plate_Map_Name');
    // First data row, first feature (Cells_AreaShape_Compactness) from the file: 0.40025.
    expect(profiles.X.data[0]).toBe(0.40025);
    expect(profiles.X.data[1]).toBe(0.01869);
    const well = getMeta(profiles, 'Metadata_Well');
    expect(well.kind).toBe('string');
    if (well.kind === 'string') expect(well.values.slice(0, 2)).toEqual(['A01', 'A02']);
    const dose = getMeta(profiles, 'Metadata_mmoles_per_liter');
    expect(dose.kind).toBe('number');
    const moa = getMeta(profiles, 'Metadata_moa');
    if (moa.kind === 'string') expect(moa.values.filter((v) => v === null).length).toBe(42);
  });

  it('honours --features / --metadata globs and extra prefixes', async () => {
    const a = await readProfiles(LINCS, { features: ['Nuclei_*'] });
    expect(a.profiles.features.every((f) => f.startsWith('Nuclei_'))).toBe(true);
    expect(a.profiles.features.length).toBeGreaterThan(0);
    expect(a.profiles.meta.length).toBe(26 + 454 - a.profiles.features.length);
    const b = await readProfiles(LINCS, { metadata: ['Cells_AreaShape_*'] });
    expect(b.profiles.features.some((f) => f.startsWith('Cells_AreaShape_'))).toBe(false);
    expect(b.profiles.features.length + b.profiles.meta.length).toBe(480);
    const dir = tempDir();
    const f = tempFile(dir, 'p.csv', 'id,Image_x,Other_y\na,1,2\nb,3,4\n');
    const c = await readProfiles(f, { featurePrefixes: ['Image_'] });
    expect(c.profiles.features).toEqual(['Image_x']);
    expect(c.profiles.meta.map((m) => m.name)).toEqual(['id', 'Other_y']);
    expect(getMeta(c.profiles, 'Other_y').kind).toBe('number');
  });

  it('exact names with brackets are not taken as globs', () => {
    const m = nameMatcher(['Characteristics [Organism]'], ['Characteristics [Organism]', 'Characteristics O']);
    expect(m('Characteristics [Organism]')).toBe(true);
    expect(m('Characteristics O')).toBe(false);
    // Without such a column the pattern is a glob.
    expect(nameMatcher(['Cells_*'], ['Cells_a'])('Cells_b')).toBe(true);
  });
});

describe('readProfiles on small files', () => {
  it('reads TSV, tab-sniffed TXT(.gz) and keeps NaN counts', async () => {
    const dir = tempDir();
    const body = 'Metadata_a\tCells_x\tNuclei_y\nu\t1.5\t\nv\tNaN\t2\nw\t3\t4\n';
    for (const name of ['t.tsv', 't.txt', 't.txt.gz', 't.tsv.gz']) {
      const { profiles, report } = await readProfiles(tempFile(dir, name, body));
      expect(profiles.features).toEqual(['Cells_x', 'Nuclei_y']);
      expect(Array.from(profiles.X.data)).toEqual([1.5, NaN, NaN, 2, 3, 4]);
      expect(report.nanCounts).toEqual({ perFeature: { Cells_x: 1, Nuclei_y: 1 }, total: 2, rowsWithNaN: 2 });
    }
  });

  it('quoted fields, CRLF line ends and a trailing blank line', async () => {
    const dir = tempDir();
    const f = tempFile(dir, 'q.csv', '"Metadata_name","Cells_x"\r\n"a, b",1\r\n"say ""hi""",2\r\n\r\n');
    const { profiles } = await readProfiles(f);
    expect(profiles.X.rows).toBe(2);
    expect(Array.from(profiles.X.data)).toEqual([1, 2]);
    const m = getMeta(profiles, 'Metadata_name');
    if (m.kind === 'string') expect(m.values).toEqual(['a, b', 'say "hi"']);
  });

  it('drops an all-NaN feature with a reason and counts it', async () => {
    const dir = tempDir();
    const f = tempFile(dir, 'n.csv', 'Metadata_a,Cells_x,Cells_empty,Nuclei_y\nu,1,,5\nv,2,NaN,6\n');
    const { profiles, report } = await readProfiles(f);
    expect(profiles.features).toEqual(['Cells_x', 'Nuclei_y']);
    expect(Array.from(profiles.X.data)).toEqual([1, 5, 2, 6]);
    expect(report.droppedFeatures).toEqual([{ kind: 'feature', name: 'Cells_empty', reason: 'all values missing (NaN)' }]);
    expect(report.nanCounts.total).toBe(0);
  });
});

describeShared('cell-injury files load with bracketed names', ['data/cell-injury/fs_well_holdout.csv.gz', 'data/cell-injury/fs_plate_holdout.csv.gz'], () => {
  for (const [file, rows] of [['fs_well_holdout.csv.gz', 1125], ['fs_plate_holdout.csv.gz', 1948]] as const) {
    it(`${file}: ${rows} rows × 352 features, 33 metadata columns`, async () => {
      const { profiles } = await readProfiles(sharedPath(join('data/cell-injury', file))!);
      expect(profiles.X.rows).toBe(rows);
      expect(profiles.features.length).toBe(352);
      expect(profiles.meta.length).toBe(33);
      const names = profiles.meta.map((m) => m.name);
      expect(names).toContain('Characteristics [Organism]');
      expect(names).toContain('Compound Concentration (microMolar)');
      expect(names).toContain('injury_type');
      const org = getMeta(profiles, 'Characteristics [Organism]');
      if (org.kind === 'string') expect(org.values[0]).toBe('Homo sapiens');
      const conc = getMeta(profiles, 'Compound Concentration (microMolar)');
      expect(conc.kind).toBe('number');
    });
  }
});
