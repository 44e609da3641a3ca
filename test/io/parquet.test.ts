import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { readProfiles, writeProfiles } from '../../src/io/read.js';
import { readParquetMeta, parquetUnsupported, snappyDecompress } from '../../src/io/parquet.js';
import { withDuck, lit } from '../../src/io/duck.js';
import { getMeta, type MetaColumn } from '../../src/io/profiles.js';
import { zeros } from '../../src/linalg/index.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
const CODECS = ['uncompressed', 'snappy', 'gzip', 'zstd'] as const;

/** A DuckDB-written table with every column kind profile files carry, nulls, dictionaries, several row groups. */
async function writeVariants(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await withDuck(async (con) => {
    await con.run(`CREATE TABLE t AS SELECT
      CASE WHEN i % 7 = 0 THEN NULL ELSE 'plate_' || (i % 5)::VARCHAR END AS Metadata_plate,
      (i * 3)::INTEGER AS Metadata_site,
      (i % 2 = 0) AS Metadata_flag,
      (i::BIGINT * 1000000007) AS Metadata_big,
      (i / 8.0)::DECIMAL(10, 3) AS Metadata_dose,
      CASE WHEN i % 11 = 0 THEN NULL ELSE sin(i) * 1e3 END AS Cells_x,
      (i / 3.0)::FLOAT AS Cells_f,
      (i % 13)::INTEGER AS Cells_count,
      (i % 4)::DOUBLE / 3 AS Nuclei_level,
      'é' || (i % 3)::VARCHAR AS Metadata_utf8
      FROM range(10000) r(i) ORDER BY i`);
    for (const c of CODECS) {
      const f = join(dir, `v_${c}.parquet`);
      await con.run(`COPY t TO ${lit(f)} (FORMAT parquet, COMPRESSION ${c}, ROW_GROUP_SIZE 2048)`);
      out[c] = f;
    }
  });
  return out;
}

function metaValues(c: MetaColumn): unknown[] {
  return c.kind === 'number' ? Array.from(c.values) : c.values;
}

describe('Parquet: phenomap’s reader equals DuckDB’s on every column kind', () => {
  let files: Record<string, string>;
  beforeAll(async () => {
    files = await writeVariants();
  });

  it('uncompressed / snappy / gzip files take phenomap’s reader, zstd takes DuckDB; the same profiles', async () => {
    expect(parquetUnsupported(readParquetMeta(files.zstd!))).toBe('codec 6');
    const ref = (await readProfiles(files.zstd!)).profiles;
    expect(ref.X.rows).toBe(10000);
    expect(readParquetMeta(files.snappy!).rowGroups.length).toBeGreaterThan(1);
    expect(ref.features).toEqual(['Cells_x', 'Cells_f', 'Cells_count', 'Nuclei_level']);
    for (const c of ['uncompressed', 'snappy', 'gzip'] as const) {
      expect(parquetUnsupported(readParquetMeta(files[c]!))).toBeNull();
      const { profiles, report } = await readProfiles(files[c]!);
      expect(profiles.features).toEqual(ref.features);
      expect(Array.from(profiles.X.data)).toEqual(Array.from(ref.X.data));
      expect(report.nanCounts.perFeature).toEqual({ Cells_x: 910 });
      expect(profiles.meta.map((m) => [m.name, m.kind])).toEqual(ref.meta.map((m) => [m.name, m.kind]));
      for (const m of ref.meta) expect([c, m.name, metaValues(getMeta(profiles, m.name))]).toEqual([c, m.name, metaValues(m)]);
    }
    const p = (await readProfiles(files.snappy!)).profiles;
    expect(getMeta(p, 'Metadata_flag').kind).toBe('string');
    expect(metaValues(getMeta(p, 'Metadata_dose')).slice(0, 3)).toEqual([0, 0.125, 0.25]);
    expect(metaValues(getMeta(p, 'Metadata_utf8'))[4]).toBe('é1');
  });

  it('float32 storage from Parquet', async () => {
    const { profiles } = await readProfiles(files.snappy!, { precision: 'float32' });
    expect(profiles.X.data).toBeInstanceOf(Float32Array);
    expect(profiles.X.data[4 * 4 + 1]).toBe(Math.fround(4 / 3));
  });

  it('a table larger than the memory limit: the size needed and the flag', async () => {
    await expect(readProfiles(files.gzip!, { memoryLimit: 50_000 })).rejects.toThrow(/v_gzip\.parquet: the table \(10,000 rows × 4 features, float64\) needs about 320 kB \(half with --float32\), and the memory limit is 50 kB \(memoryLimit option\); raise it with --memory/);
  });
});

describe('Parquet: phenomap’s writer', () => {
  it('writes files DuckDB reads back exactly (values, nulls for NaN, text, exact names), in row groups', async () => {
    const rows = 2500, cols = 7;
    const X = zeros(rows, cols);
    for (let t = 0; t < X.data.length; t++) X.data[t] = t % 17 === 0 ? NaN : Math.cos(t) * 10 ** (t % 9 - 4);
    const names = ['Cells_a', 'Cells_A ', 'Nuclei_[b]', 'Cytoplasm_c"q', 'Cells_é', 'Cells_f', 'Cells_g'];
    const meta: MetaColumn[] = [
      { name: 'Metadata_well', kind: 'string', values: Array.from({ length: rows }, (_, i) => (i % 9 === 0 ? null : `w,${i}`)) },
      { name: 'Metadata_conc', kind: 'number', values: Float64Array.from({ length: rows }, (_, i) => (i % 5 === 0 ? NaN : i / 7)) },
    ];
    const f = join(dir, 'ours.parquet');
    await writeProfiles(f, { features: names, X, meta });
    expect(readParquetMeta(f).rowGroups.length).toBe(1);
    const back = await withDuck(async (con) => {
      const r = await con.runAndReadAll(`SELECT * FROM read_parquet(${lit(f)})`);
      return { names: r.columnNames(), rows: r.getRowsJS() };
    });
    expect(back.rows.length).toBe(rows);
    expect(back.names[2]).toBe('Cells_a');
    for (let i = 0; i < rows; i += 97) {
      const r = back.rows[i]!;
      expect(r[0]).toBe(meta[0]!.values[i] as string | null);
      const conc = (meta[1]!.values as Float64Array)[i]!;
      expect(r[1]).toBe(Number.isNaN(conc) ? null : conc);
      for (let j = 0; j < cols; j++) {
        const v = X.data[i * cols + j]!;
        expect(r[2 + j]).toBe(Number.isNaN(v) ? null : v);
      }
    }
    // and phenomap reads its own file back exactly, with the exact names
    const { profiles } = await readProfiles(f);
    expect(profiles.features).toEqual(names);
    expect(Array.from(profiles.X.data)).toEqual(Array.from(X.data));
    expect(getMeta(profiles, 'Metadata_well').kind).toBe('string');
  });

  it('snappy: literals and overlapping copies', () => {
    // "abcabcabcabcX": literal "abc", copy (offset 3, length 9) overlapping itself, literal "X"
    const src = Buffer.from([13, 2 << 2, 0x61, 0x62, 0x63, ((9 - 4) << 2) | 1, 3, 0 << 2, 0x58]);
    expect(snappyDecompress(src).toString('latin1')).toBe('abcabcabcabcX');
  });
});
