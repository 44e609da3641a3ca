/**
 * Exact parity with pycytominer (db0c469c) on real CellProfiler output in all three layouts:
 * the well profiles of `cells aggregate` (linked cells, and per compartment; median and mean) and
 * the rows of `cells merge`, against `../shared/reference/singlecell` (two of the four data sets
 * are bundled in test/fixtures/singlecell, so a fresh clone still checks the SQLite layout).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregateCells, mergeCells } from '../../src/cells/index.js';
import { readProfiles } from '../../src/io/read.js';
import { describeShared, sharedPath } from '../helpers/shared.js';
import { compareByName, fixtures, readReference, reference } from './helpers.js';
import { recordParity } from '../helpers/parity.js';

const TOL = 1e-9;
const STRATA = ['Metadata_Plate', 'Metadata_Well'];

async function checkAggregate(source: string, ref: string, opts: { operation: 'median' | 'mean'; perCompartment?: boolean }, objectCounts?: number[]) {
  const { profiles, report } = await aggregateCells([source], opts);
  const expected = await readReference(reference(ref)!);
  const c = compareByName(profiles, expected, STRATA, expected.meta.some((m) => m.name === 'Image_Metadata_Plate') ? ['Image_Metadata_Plate', 'Image_Metadata_Well'] : STRATA);
  recordParity({ what: `cells aggregate ${ref}`, kind: 'rel', max: c.maxRel, n: c.rows * c.features, worst: c.worst });
  expect(c.maxRel, c.worst).toBeLessThanOrEqual(TOL);
  if (objectCounts) expect(Array.from(profiles.meta.find((m) => m.name === 'Metadata_Object_Count')!.values as Float64Array)).toEqual(objectCounts);
  return report;
}

describe('cells aggregate: bundled cytominer-database SQLite equals pycytominer', () => {
  const dataB = join(fixtures, 'data_b.sqlite');
  const health = join(fixtures, 'cell-health-SQ00014613.sqlite');
  for (const op of ['median', 'mean'] as const) {
    it(`data_b linked cells, ${op}`, async () => {
      const r = await checkAggregate(dataB, `cytominer_database_data_b_cells_${op}.csv.gz`, { operation: op }, [20, 20]);
      expect(r.sources[0]!.layout).toBe('cytominer-sqlite');
      expect(r.sources[0]!.cells).toBe(40);
    });
    it(`data_b per compartment, ${op}`, async () => {
      await checkAggregate(dataB, `cytominer_database_data_b_compartments_${op}.csv.gz`, { operation: op, perCompartment: true }, [20, 20]);
    });
    it(`Cell Health linked cells, ${op} (one "nan" stored as text is read as NaN and counted)`, async () => {
      const r = await checkAggregate(health, `cell_health_SQ00014613_cells_${op}.csv.gz`, { operation: op }, [6, 6]);
      expect(r.sources[0]!.textNumbers).toEqual({ Nuclei: 1 });
      expect(r.warnings.some((w) => /1 numeric value\(s\) were stored as text/.test(w))).toBe(true);
    });
  }

  it('merged cells of Cell Health equal merge_single_cells(), row by row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-merge-'));
    try {
      const out = join(dir, 'cells.parquet');
      const report = await mergeCells([health], out);
      expect(report.cells).toBe(12);
      const { profiles } = await readProfiles(out);
      const ref = await readReference(reference('cell_health_SQ00014613_single_cells.csv.gz')!);
      const c = compareByName(profiles, ref, ['Metadata_ImageNumber', 'Metadata_ObjectNumber_cytoplasm'], ['Metadata_ImageNumber', 'Metadata_ObjectNumber_cytoplasm']);
      recordParity({ what: 'cells merge cell_health_SQ00014613_single_cells.csv.gz', kind: 'rel', max: c.maxRel, n: c.rows * c.features, worst: c.worst });
      expect(c.maxRel, c.worst).toBeLessThanOrEqual(TOL);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const S = 'data/singlecell';
describeShared('cells aggregate: ExportToDatabase SQLite (NF1) equals pycytominer', [`${S}/cellprofiler/nf1-schwann/all_cellprofiler.sqlite`, 'reference/singlecell/nf1_schwann_cells_median.csv.gz'], () => {
  const nf1 = () => sharedPath(`${S}/cellprofiler/nf1-schwann/all_cellprofiler.sqlite`)!;
  const counts = [25, 21, 7, 29, 14, 56, 23, 67];
  for (const op of ['median', 'mean'] as const) {
    it(`linked cells, ${op}: 433 nuclei but 242 cells`, async () => {
      const r = await checkAggregate(nf1(), `nf1_schwann_cells_${op}.csv.gz`, { operation: op }, counts);
      expect(r.sources[0]!.layout).toBe('cellprofiler-sqlite');
      expect(r.sources[0]!.objects).toEqual({ Cells: 242, Cytoplasm: 242, Nuclei: 433 });
      expect(r.sources[0]!.links.unlinked).toEqual({ Nuclei: 191 });
    });
    it(`per compartment, ${op}: nuclei over all 433`, async () => {
      await checkAggregate(nf1(), `nf1_schwann_compartments_${op}.csv.gz`, { operation: op, perCompartment: true }, counts);
    });
  }
  it('merged cells equal merge_single_cells()', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-merge-'));
    try {
      const out = join(dir, 'cells.csv.gz');
      await mergeCells([nf1()], out);
      const { profiles } = await readProfiles(out);
      const ref = await readReference(sharedPath('reference/singlecell/nf1_schwann_single_cells.csv.gz')!);
      const c = compareByName(profiles, ref, ['Metadata_ImageNumber', 'Metadata_ObjectNumber_cytoplasm'], ['Metadata_ImageNumber', 'Metadata_ObjectNumber_cytoplasm']);
      recordParity({ what: 'cells merge nf1_schwann_single_cells.csv.gz', kind: 'rel', max: c.maxRel, n: c.rows * c.features, worst: c.worst });
      expect(c.maxRel, c.worst).toBeLessThanOrEqual(TOL);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeShared('cells aggregate: ExportToSpreadsheet folders (JUMP, 5,790 features) equal pycytominer', [`${S}/cellprofiler/jump-target2-BR00121431`, 'reference/singlecell/jump_target2_BR00121431_cells_median.csv.gz'], () => {
  const jump = () => sharedPath(`${S}/cellprofiler/jump-target2-BR00121431`)!;
  it('linked cells, median and mean; per compartment, median', async () => {
    await checkAggregate(jump(), 'jump_target2_BR00121431_cells_median.csv.gz', { operation: 'median' }, [89, 36]);
    await checkAggregate(jump(), 'jump_target2_BR00121431_cells_mean.csv.gz', { operation: 'mean' }, [89, 36]);
    await checkAggregate(jump(), 'jump_target2_BR00121431_compartments_median.csv.gz', { operation: 'median', perCompartment: true }, [89, 36]);
  });
  it('cpg0043: a 2,052-column Cells.csv (past SQLite\'s limit) aggregates', async () => {
    const { profiles } = await aggregateCells([sharedPath(`${S}/cellprofiler/cpg0043-BR00116991`)!]);
    expect(profiles.X.rows).toBe(1);
    expect(profiles.features.length).toBe(2050 + 2033 + 1943);
    expect(profiles.meta.find((m) => m.name === 'Metadata_Object_Count')!.values[0]).toBe(109);
  });
});

describe('cells aggregate: several sources in one call', () => {
  it('plates of different pipelines are refused, naming both', async () => {
    await expect(aggregateCells([join(fixtures, 'data_b.sqlite'), join(fixtures, 'cell-health-SQ00014613.sqlite')])).rejects.toThrow(
      /cell-health-SQ00014613\.sqlite and .*data_b\.sqlite measure different features \(\d+ only in the first/,
    );
  });
});
