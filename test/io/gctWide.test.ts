/**
 * GCT at width: the writer streams its lines (a full-width table's text is larger than a
 * JavaScript string may be), and `run` leaves communities.gct out above its value limit, saying so.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gctText, readGct, writeGct } from '../../src/io/interchange.js';
import type { Profiles } from '../../src/io/profiles.js';
import { readProfiles } from '../../src/io/read.js';
import { runWorkflow } from '../../src/pipeline/run.js';
import { presetParameters } from '../../src/pipeline/params.js';
import { Rng } from '../../src/linalg/rng.js';
import { examplePath } from '../helpers/shared.js';

describe('GCT written line by line', () => {
  it('equals the whole text across 4 MB chunks and reads back', async () => {
    const n = 150, d = 1600;
    const rng = new Rng(3);
    const data = Float64Array.from({ length: n * d }, () => rng.normal());
    data[7] = NaN;
    const p: Profiles = {
      features: Array.from({ length: d }, (_, j) => `Cells_F${j}`),
      X: { rows: n, cols: d, data },
      meta: [{ name: 'Metadata_compound', kind: 'string', values: Array.from({ length: n }, (_, i) => (i % 5 ? `c\t${i % 7}` : null)) }],
    };
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-gct-'));
    await writeGct(join(dir, 'w.gct'), p);
    const text = readFileSync(join(dir, 'w.gct'), 'utf8');
    expect(text.length).toBeGreaterThan(1 << 22); // one 4 MB write and the rest
    expect(text).toBe(gctText(p));
    const back = readGct(join(dir, 'w.gct'));
    expect(back.X.data[7]).toBeNaN();
    expect(Array.from(back.X.data.subarray(8))).toEqual(Array.from(data.subarray(8)));
  });
});

describe('run: communities.gct above the value limit', () => {
  it('is left out with a warning; below it, written', async () => {
    const table = examplePath('lincs/SQ00015054_normalized_feature_select.csv.gz');
    const { profiles } = await readProfiles(table);
    const params = presetParameters('default', 'Metadata_moa');
    params.representations = ['raw'];
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-gct-run-'));
    const small = await runWorkflow(profiles, join(dir, 'small'), params, { gctMaxValues: 1000 });
    expect(existsSync(join(dir, 'small', 'communities.gct'))).toBe(false);
    expect(small.summary.warnings.find((w) => w.startsWith('communities.gct not written'))).toMatch(/above 0\.001 M .*repr_raw\.npy, clusters\.csv/);
    const full = await runWorkflow(profiles, join(dir, 'full'), params);
    expect(existsSync(join(dir, 'full', 'communities.gct'))).toBe(true);
    expect(full.summary.warnings.some((w) => w.startsWith('communities.gct'))).toBe(false);
  });
});
