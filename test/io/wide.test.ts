import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readProfiles, readTable, writeProfiles } from '../../src/io/read.js';
import { lit, memoryLimit, openDuck, parseMemorySize, setMemoryLimit, withDuck } from '../../src/io/duck.js';
import { InputError, UsageError } from '../../src/util/errors.js';
import { zeros } from '../../src/linalg/index.js';
import { describeShared, sharedPath } from '../helpers/shared.js';
import { runCli, tempDir, tempFile } from './helpers.js';

const SC = 'reference/singlecell/jump_target2_BR00121431';
const dir = tempDir();

async function inputError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describeShared('full-width CellProfiler tables read every time (JUMP plate BR00121431)', [`${SC}_single_cells.csv.gz`, `${SC}_cells_median.csv.gz`], () => {
  it('125 single cells × 5,800 columns, under the 512 MB that DuckDB failed in, every value correctly rounded', async () => {
    const f = sharedPath(`${SC}_single_cells.csv.gz`)!;
    const { profiles, report } = await readProfiles(f, { memoryLimit: '512MB' });
    expect(profiles.X.rows).toBe(125);
    expect(profiles.features.length + report.droppedFeatures.length + profiles.meta.length).toBe(5799);
    // Every value against the correctly rounded parse of its text (Number(), which DuckDB's
    // fast_float parse equals: test/io/decimal.test.ts), all 125 × 5,790 of them.
    const lines = gunzipSync(readFileSync(f)).toString('utf8').trim().split('\n');
    const head = lines[0]!.split(',');
    const at = profiles.features.map((c) => head.indexOf(c));
    const d = profiles.X.cols;
    let differ = 0, long = 0;
    for (let i = 0; i < 125; i++) {
      const fields = lines[i + 1]!.split(',');
      for (let j = 0; j < d; j++) {
        const t = fields[at[j]!]!;
        if (t.replace(/^-?0?\.?0*/, '').replace('.', '').length > 15) long++;
        const b = t === '' ? NaN : Number(t);
        const a = profiles.X.data[i * d + j]!;
        if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) differ++;
      }
    }
    // Most of these values carry 16–17 significant digits: the double-double path, not Clinger's.
    expect(long).toBeGreaterThan(125 * d * 0.5);
    expect(differ).toBe(0);
  }, 60_000);

  it('the 2-well median profile reads identically six times in a row', async () => {
    const f = sharedPath(`${SC}_cells_median.csv.gz`)!;
    const first = (await readProfiles(f)).profiles;
    expect(first.X.rows).toBe(2);
    expect(first.features.length).toBeGreaterThan(5700);
    for (let t = 0; t < 5; t++) {
      const again = (await readProfiles(f)).profiles;
      expect(Array.from(again.X.data)).toEqual(Array.from(first.X.data));
    }
  });
});

describe('wide tables: 50,000 columns, memory limits, the spill folder', () => {
  it('a header with 50,000 feature columns reads (3 rows), with its values in place', async () => {
    const cols = 50_000;
    const head = ['Metadata_id', ...Array.from({ length: cols }, (_, j) => `Cells_f${j}`)];
    const lines = [head.join(',')];
    for (let i = 0; i < 3; i++) lines.push([`r${i}`, ...Array.from({ length: cols }, (_, j) => ((i + 1) * (j + 1)) % 97)].join(','));
    const f = tempFile(dir, 'w50k.csv.gz', lines.join('\n') + '\n');
    const { profiles } = await readProfiles(f);
    expect(profiles.X.rows).toBe(3);
    expect(profiles.X.cols).toBe(cols);
    expect(profiles.X.data[2 * cols + 49_999]).toBe((3 * 50_000) % 97);
  });

  it('a table larger than the memory limit: the size needed and the flag, before reading it all', async () => {
    const rows = 400, cols = 1000;
    const lines = [['Metadata_id', ...Array.from({ length: cols }, (_, j) => `Cells_f${j}`)].join(',')];
    for (let i = 0; i < rows; i++) lines.push([`r${i}`, ...Array.from({ length: cols }, (_, j) => (i + j) / 8)].join(','));
    const f = tempFile(dir, 'big.csv', lines.join('\n') + '\n');
    const msg = await inputError(readProfiles(f, { memoryLimit: 1_000_000 }));
    expect(msg).toMatch(/big\.csv: the table \(about 4\d\d rows × 1,000 features, float64\) needs about 3\.\d MB \(half with --float32\), and the memory limit is 1\.0 MB \(memoryLimit option\); raise it with --memory 512MB/);
    // float32 halves what it needs
    const msg32 = await inputError(readProfiles(f, { memoryLimit: 1_000_000, precision: 'float32' }));
    expect(msg32).toMatch(/needs about 1\.\d MB/);
    // and with room it reads
    expect((await readProfiles(f, { memoryLimit: 64e6 })).profiles.X.rows).toBe(rows);
  });

  it('DuckDB out of memory on a wide Parquet file: the size needed and the flag, not DuckDB’s message', async () => {
    const rows = 50, cols = 2000;
    const X = zeros(rows, cols);
    for (let t = 0; t < X.data.length; t++) X.data[t] = Math.sin(t);
    const f = join(dir, 'wide.parquet');
    const f0 = join(dir, 'wide0.parquet');
    await writeProfiles(f0, { features: Array.from({ length: cols }, (_, j) => `Cells_f${j}`), X, meta: [{ name: 'Metadata_id', kind: 'string', values: Array.from({ length: rows }, (_, i) => `r${i}`) }] });
    // ZSTD (not in Node 20's zlib): this one goes through DuckDB.
    await withDuck((con) => con.run(`COPY (SELECT * FROM read_parquet(${lit(f0)})) TO ${lit(f)} (FORMAT parquet, COMPRESSION zstd)`), { memoryLimit: '1GB' });
    const msg = await inputError(readProfiles(f, { memoryLimit: 8e6 }));
    expect(msg).toMatch(/wide\.parquet: not enough memory for DuckDB to open this Parquet file: it needs about [\d.]+ MB, and the memory limit is 8\.0 MB/);
    expect(msg).toMatch(/--memory \d+MB/);
    expect(msg).not.toMatch(/Out of Memory Error|allocate/);
    const ok = await readProfiles(f, { memoryLimit: 256e6 });
    expect(ok.profiles.X.data[cols + 7]).toBe(Math.sin(cols + 7));
  }, 30_000);

  it('an annotation table too wide for DuckDB under 64 MB is read by phenomap\'s own reader (one record at a time)', async () => {
    const cols = 6000;
    const f = tempFile(dir, 'annot-wide.csv', `${Array.from({ length: cols }, (_, j) => `a${j}`).join(',')}\n${Array.from({ length: cols }, (_, j) => `v${j}`).join(',')}\n`);
    setMemoryLimit('64MB');
    try {
      const t = await readTable(f);
      expect(t.columns.length).toBe(cols);
      expect(t.rows).toBe(1);
      expect(t.values.get('a5999')).toEqual(['v5999']);
    } finally {
      setMemoryLimit(undefined);
    }
  }, 30_000);

  it('limits: flag over environment over the machine; sizes parsed or refused with the flag named', () => {
    expect(parseMemorySize('2GB', 'x')).toBe(2e9);
    expect(parseMemorySize('1.5 GiB', 'x')).toBe(1.5 * 2 ** 30);
    expect(parseMemorySize('800m', 'x')).toBe(800 * 2 ** 20);
    expect(() => parseMemorySize('lots', '--memory')).toThrow(UsageError);
    expect(() => parseMemorySize('10', '--memory')).toThrow(/--memory must be at least 64\.0 MB/);
    const saved = process.env.PHENOMAP_DUCKDB_MEMORY;
    try {
      delete process.env.PHENOMAP_DUCKDB_MEMORY;
      expect(memoryLimit().source).toBe('machine');
      expect(memoryLimit().bytes).toBeGreaterThanOrEqual(256 * 2 ** 20);
      process.env.PHENOMAP_DUCKDB_MEMORY = '3GB';
      expect(memoryLimit()).toEqual({ bytes: 3e9, source: 'env' });
      setMemoryLimit('5GB');
      expect(memoryLimit()).toEqual({ bytes: 5e9, source: 'flag' });
      expect(memoryLimit('1GB')).toEqual({ bytes: 1e9, source: 'option' });
      process.env.PHENOMAP_DUCKDB_MEMORY = 'plenty';
      setMemoryLimit(undefined);
      expect(() => memoryLimit()).toThrow(/PHENOMAP_DUCKDB_MEMORY must be a size/);
    } finally {
      setMemoryLimit(undefined);
      if (saved === undefined) delete process.env.PHENOMAP_DUCKDB_MEMORY;
      else process.env.PHENOMAP_DUCKDB_MEMORY = saved;
    }
  });

  it('DuckDB’s spill folder is private to the session and removed when it closes', async () => {
    const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('phenomap-duckdb-')));
    const s = await openDuck({ memoryLimit: 32e6, threads: 1 });
    const mine = readdirSync(tmpdir()).filter((n) => n.startsWith('phenomap-duckdb-') && !before.has(n));
    expect(mine).toHaveLength(1);
    // DuckDB may spill there: force a spill of a sort larger than its limit.
    await s.con.run(`CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS h FROM range(1000000)`);
    await s.con.runAndReadAll('SELECT h FROM t ORDER BY h LIMIT 1');
    s.close();
    expect(existsSync(join(tmpdir(), mine[0]!))).toBe(false);
  }, 60_000);

  it('CLI: --memory on the reading commands; a bad size is a usage error (exit 2)', async () => {
    const f = tempFile(dir, 'small.csv', 'Metadata_a,Cells_x\nu,1\nv,2\n');
    const ok = await runCli(['inspect', f, '--memory', '1GB']);
    expect(ok.code).toBe(0);
    const bad = await runCli(['inspect', f, '--memory', 'ten']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--memory must be a size such as 2GB/);
    writeFileSync(join(dir, 'unused'), '');
  });
});
