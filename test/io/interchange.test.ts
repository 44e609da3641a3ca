/**
 * GCT 1.3 and AnnData .h5ad: write → read round trips, `--format` on a command, the files as
 * h5py sees them (skipped visibly when Debian's python3-h5py is absent), and the bad files.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProfiles } from '../../src/io/read.js';
import { writeProfiles } from '../../src/io/write.js';
import { readGct, writeH5ad } from '../../src/io/interchange.js';
import { main } from '../../src/cli/main.js';
import { repoRoot } from '../helpers/shared.js';

const plate = join(repoRoot, 'examples/lincs/SQ00015054_normalized_feature_select.csv.gz');
const dir = mkdtempSync(join(tmpdir(), 'phenomap-interchange-'));
const h5py = spawnSync('/usr/bin/python3', ['-c', 'import h5py'], { encoding: 'utf8' }).status === 0;
if (!h5py) console.warn('[skip] h5ad checked with h5py: /usr/bin/python3 has no h5py (apt-get install python3-h5py)');

describe('GCT 1.3 and h5ad', () => {
  it('GCT: features as rows, profiles as columns, metadata block; reads back exactly', async () => {
    const { profiles } = await readProfiles(plate);
    const out = join(dir, 'plate.gct');
    await writeProfiles(out, profiles);
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines[0]).toBe('#1.3');
    expect(lines[1]).toBe(`${profiles.features.length}\t384\t1\t${profiles.meta.length}`);
    expect(lines[2]!.split('\t').slice(0, 3)).toEqual(['id', 'cp_feature_name', 'SAMPLE_0']);
    const back = (await readProfiles(out)).profiles;
    expect(back.features).toEqual(profiles.features);
    expect(Array.from(back.X.data)).toEqual(Array.from(profiles.X.data));
    const moa = back.meta.find((m) => m.name === 'Metadata_moa')!;
    expect(moa.values).toEqual(profiles.meta.find((m) => m.name === 'Metadata_moa')!.values);
  });

  it('h5ad: X float32, obs = metadata, var = feature names; reads back to float32 precision', async () => {
    const { profiles } = await readProfiles(plate);
    const out = join(dir, 'plate.h5ad');
    await writeProfiles(out, profiles);
    const back = (await readProfiles(out)).profiles;
    expect(back.features).toEqual(profiles.features);
    expect(back.meta.map((m) => m.name)).toEqual(profiles.meta.map((m) => m.name));
    expect(back.X.data[7]).toBe(Math.fround(profiles.X.data[7]!));
    const moa = back.meta.find((m) => m.name === 'Metadata_moa')!;
    expect(moa.values).toEqual(profiles.meta.find((m) => m.name === 'Metadata_moa')!.values);
  });

  it.skipIf(!h5py)('h5ad as h5py reads it: AnnData encoding, X (384, 454) float32, obs and var', async () => {
    const { profiles } = await readProfiles(plate);
    const out = join(dir, 'h5py.h5ad');
    await writeH5ad(out, profiles);
    const py = `
import h5py, json, sys
f = h5py.File(sys.argv[1], 'r')
print(json.dumps({
  'enc': f.attrs['encoding-type'], 'X': [str(f['X'].dtype), list(f['X'].shape)], 'x7': float(f['X'][0, 7]),
  'var0': f['var']['_index'][0].decode(), 'obs_enc': f['obs'].attrs['encoding-type'],
  'moa5': f['obs']['Metadata_moa'][5].decode(), 'order': list(f['obs'].attrs['column-order'])[:2]}))`;
    const r = spawnSync('/usr/bin/python3', ['-c', py, out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.enc).toBe('anndata');
    expect(j.X).toEqual(['float32', [384, profiles.features.length]]);
    expect(j.x7).toBe(Math.fround(profiles.X.data[7]!));
    expect(j.var0).toBe(profiles.features[0]);
    expect(j.obs_enc).toBe('dataframe');
    expect(j.moa5).toBe(profiles.meta.find((m) => m.name === 'Metadata_moa')!.values[5] ?? '');
    expect(j.order).toEqual(profiles.meta.slice(0, 2).map((m) => m.name));
  });

  it('--format on a command that writes profiles (normalize → gct)', async () => {
    const out = join(dir, 'norm.out');
    const code = await main(['node', 'phenomap', 'normalize', plate, '--method', 'inverse_normal', '--format', 'gct', '-o', out, '-q']);
    expect(code).toBe(0);
    expect(readFileSync(out, 'utf8').startsWith('#1.3\n')).toBe(true);
  });

  it('--format on cells aggregate (single cells → h5ad whatever the name), read back as the same wells', async () => {
    const out = join(dir, 'cells.out');
    const sqlite = join(repoRoot, 'examples/singlecell/data_b.sqlite');
    expect(await main(['node', 'phenomap', 'cells', 'aggregate', sqlite, '--format', 'h5ad', '-o', out, '-q'])).toBe(0);
    expect(readFileSync(out).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]));
    const csv = join(dir, 'cells.csv');
    expect(await main(['node', 'phenomap', 'cells', 'aggregate', sqlite, '-o', csv, '-q'])).toBe(0);
    copyFileSync(out, join(dir, 'cells.h5ad'));
    const [a, b] = [(await readProfiles(join(dir, 'cells.h5ad'))).profiles, (await readProfiles(csv)).profiles];
    expect(a.features).toEqual(b.features);
    expect(a.X.rows).toBe(b.X.rows);
    expect(a.X.data[3]).toBe(Math.fround(b.X.data[3]!));
  });

  it('bad files: GCT with mismatched dimensions, h5ad without X', async () => {
    const gct = join(dir, 'bad.gct');
    writeFileSync(gct, '#1.3\n2\t2\t1\t0\nid\tname\tS0\tS1\nf1\tf1\t1\t2\n');
    expect(() => readGct(gct)).toThrow(/1 data line\(s\) after the column metadata, but the dimensions line says 2 rows/);
    writeFileSync(gct, '#1.3\n1\t3\t1\t0\nid\tname\tS0\tS1\nf1\tf1\t1\t2\n');
    expect(() => readGct(gct)).toThrow(/header line has 4 fields, but the dimensions line says 1 \+ 1 row-metadata \+ 3 data columns = 5/);
    const h5 = await import('h5wasm/node');
    await h5.ready;
    const noX = join(dir, 'nox.h5ad');
    const f = new h5.File(noX, 'w');
    f.create_group('obs');
    f.close();
    await expect(readProfiles(noX)).rejects.toThrow(/no X matrix in this \.h5ad \(it has: obs\)/);
  });
});
