/**
 * Ingest benchmark: throughput and peak memory of readProfiles on a generated
 * rows × cols table (default 100,000 × 1,000 features plus 4 Metadata_ columns), as CSV.gz and
 * Parquet. Each file is read in a FRESH child process so that its peak RSS
 * (process.resourceUsage().maxRSS) belongs to that read alone.
 *
 *   npx tsx bench/ingest.ts [--rows 100000] [--cols 1000] [--dir DIR] [--json-only]
 *
 * Files are cached in os.tmpdir() (by size) and re-used on later runs.
 */
import { createWriteStream, existsSync, renameSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { finished } from 'node:stream/promises';
import { Rng } from '../src/linalg/rng.js';
import { readProfiles } from '../src/io/read.js';
import { lit, withDuck } from '../src/io/duck.js';

interface ChildResult {
  file: string;
  rows: number;
  features: number;
  meta: number;
  seconds: number;
  /** User + system CPU time of the whole child (all DuckDB threads included). */
  cpuSeconds: number;
  maxRssMB: number;
  textBytes?: number;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

async function child(file: string): Promise<void> {
  const c0 = process.cpuUsage();
  const { report } = await readProfiles(file);
  const cpu = process.cpuUsage(c0);
  const out: ChildResult = {
    file,
    rows: report.rows,
    features: report.features,
    meta: report.metadataColumns.length,
    seconds: report.seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    textBytes: report.textBytes,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

/** CellProfiler-like values: per-feature location and scale, 6 significant digits. */
async function generateCsvGz(path: string, rows: number, cols: number): Promise<void> {
  const rng = new Rng(20240601);
  const loc = Float64Array.from({ length: cols }, () => rng.normal() * 100);
  const scale = Float64Array.from({ length: cols }, () => Math.exp(rng.normal()));
  const tmp = `${path}.partial`;
  const file = createWriteStream(tmp);
  const gz = createGzip({ level: 1 });
  gz.pipe(file);
  const header = ['Metadata_Plate', 'Metadata_Well', 'Metadata_compound', 'Metadata_dose'];
  for (let j = 0; j < cols; j++) header.push(`${['Cells', 'Cytoplasm', 'Nuclei'][j % 3]}_Feature_${j}`);
  gz.write(header.join(',') + '\n');
  const row = new Float64Array(cols);
  for (let i = 0; i < rows; i += 200) {
    const lines: string[] = [];
    for (let r = i; r < Math.min(rows, i + 200); r++) {
      rng.fillNormal(row);
      const cells = [`P${Math.floor(r / 384)}`, `W${r % 384}`, `cpd${r % 977}`, String((r % 6) * 0.5)];
      for (let j = 0; j < cols; j++) cells.push((loc[j]! + scale[j]! * row[j]!).toPrecision(6));
      lines.push(cells.join(','));
    }
    if (!gz.write(lines.join('\n') + '\n')) await once(gz, 'drain');
  }
  gz.end();
  await finished(file);
  renameSync(tmp, path);
}

/** Parquet with the same content; explicit column types (no sniffing), row groups of 10,000. */
async function csvToParquet(csv: string, parquet: string, cols: number): Promise<void> {
  const tmp = `${parquet}.partial.parquet`;
  const types = [`'Metadata_Plate': 'VARCHAR'`, `'Metadata_Well': 'VARCHAR'`, `'Metadata_compound': 'VARCHAR'`, `'Metadata_dose': 'DOUBLE'`];
  for (let j = 0; j < cols; j++) types.push(`'${['Cells', 'Cytoplasm', 'Nuclei'][j % 3]}_Feature_${j}': 'DOUBLE'`);
  await withDuck(async (con) => {
    await con.run(
      `COPY (SELECT * FROM read_csv(${lit(csv)}, header=true, auto_detect=false, delim=',', columns={${types.join(', ')}})) ` +
        // snappy (pyarrow's and DuckDB's default codec): what phenomap's own Parquet reader reads
        `TO ${lit(tmp)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 10000)`,
    );
  });
  renameSync(tmp, parquet);
}

function runChild(file: string): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', file], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`child failed on ${file}: ${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as ChildResult;
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) return child(arg('child', ''));
  const rows = Number(arg('rows', '100000'));
  const cols = Number(arg('cols', '1000'));
  const dir = arg('dir', tmpdir());
  const jsonOnly = process.argv.includes('--json-only');
  const csv = join(dir, `phenomap-bench-${rows}x${cols}.csv.gz`);
  const parquet = join(dir, `phenomap-bench-${rows}x${cols}.snappy.parquet`);
  if (!existsSync(csv)) {
    process.stderr.write(`generating ${csv} …\n`);
    await generateCsvGz(csv, rows, cols);
  }
  if (!existsSync(parquet)) {
    process.stderr.write(`generating ${parquet} …\n`);
    await csvToParquet(csv, parquet, cols);
  }
  const rawMB = (rows * cols * 8) / 1e6;
  let csvTextBytes = 0;
  const results = [csv, parquet].map((file) => {
    const c = runChild(file);
    if (c.textBytes) csvTextBytes = c.textBytes;
    const fileBytes = statSync(file).size;
    return {
      file,
      format: file.endsWith('.parquet') ? 'parquet' : 'csv.gz',
      rows: c.rows,
      features: c.features,
      metadataColumns: c.meta,
      fileMB: fileBytes / 1e6,
      seconds: c.seconds,
      cpuSeconds: c.cpuSeconds,
      fileMBps: fileBytes / 1e6 / c.seconds,
      csvMBps: 0,
      rowsPerSecond: c.rows / c.seconds,
      peakRssMB: c.maxRssMB,
      rawFloat64MB: rawMB,
      peakOverRaw: c.maxRssMB / rawMB,
    };
  });
  for (const r of results) r.csvMBps = csvTextBytes / 1e6 / r.seconds;
  const out = { rows, cols, uncompressedCsvMB: csvTextBytes / 1e6, node: process.version, cpus: cpus().length, loadAverage: loadavg(), results };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  if (jsonOnly) return;
  const f = (x: number, d = 1): string => x.toFixed(d);
  process.stdout.write(
    `\n${'format'.padEnd(8)} ${'file MB'.padStart(8)} ${'s'.padStart(6)} ${'cpu s'.padStart(6)} ${'file MB/s'.padStart(9)} ${'CSV MB/s'.padStart(9)} ${'rows/s'.padStart(9)} ${'peak RSS MB'.padStart(11)} ${'peak/raw'.padStart(8)}\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.format.padEnd(8)} ${f(r.fileMB).padStart(8)} ${f(r.seconds, 2).padStart(6)} ${f(r.cpuSeconds, 2).padStart(6)} ${f(r.fileMBps).padStart(9)} ${f(r.csvMBps).padStart(9)} ${f(r.rowsPerSecond, 0).padStart(9)} ${f(r.peakRssMB, 0).padStart(11)} ${f(r.peakOverRaw, 2).padStart(8)}\n`,
    );
  }
  process.stdout.write(`raw float64 size ${f(rawMB, 0)} MB; budget 2× = ${f(2 * rawMB, 0)} MB; uncompressed CSV ${f(csvTextBytes / 1e6, 0)} MB\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
