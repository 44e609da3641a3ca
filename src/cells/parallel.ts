/**
 * One SQLite plate aggregated on several threads: SQLite decodes a row on the thread that reads
 * it, so the wells are shared out — contiguous runs, balanced by their object counts from the
 * key scan — between this thread and worker threads, each with its own connection. Each worker
 * scans the keys again (a fraction of a second: the keys come from a covering index where the
 * file has one). The shares are merged in well order; the numbers equal one thread's.
 */
import { Worker } from 'node:worker_threads';
import { threadCount } from '../linalg/wasm/threads.js';
import { InputError, UsageError } from '../util/errors.js';
import { aggregatePlate, mergePlateProfiles, type AggregateCellsOptions, type PlateProfiles } from './aggregate.js';
import type { PlateSource, ReadCounts } from './schema.js';
import { openSqlitePlate, type SqliteOptions } from './sqliteSource.js';

/** Wells below which extra threads cost more (their own key scans) than they save. */
const MIN_WELLS_PER_THREAD = 8;

/** Contiguous runs of wells with about equal weight. */
export function shareWells(weights: Float64Array, parts: number): number[][] {
  const total = weights.reduce((a, b) => a + b, 0);
  const shares: number[][] = [[]];
  let acc = 0;
  for (let w = 0; w < weights.length; w++) {
    if (acc >= (total * shares.length) / parts && shares.length < parts) shares.push([]);
    shares[shares.length - 1]!.push(w);
    acc += weights[w]!;
  }
  return shares.filter((s) => s.length > 0);
}

/**
 * The worker: compiled JavaScript beside this module, or — under tsx / vitest, where this module
 * is TypeScript — a small script that registers tsx's loader in the worker and imports the .ts.
 */
function spawnWorker(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./plateWorker.js', import.meta.url), { workerData });
  const target = new URL('./plateWorker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

function runWorker(path: string, source: SqliteOptions, aggregate: Omit<AggregateCellsOptions, 'reporter'>, wells: number[]): Promise<{ part: Omit<PlateProfiles, 'schema'>; textNumbers: Record<string, number>; rowReaders: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const w = spawnWorker({ path, source, aggregate, wells });
    w.once('message', (m: { ok: boolean; part?: Omit<PlateProfiles, 'schema'>; textNumbers?: Record<string, number>; rowReaders?: Record<string, string>; name?: string; message?: string }) => {
      if (m.ok) resolve({ part: m.part!, textNumbers: m.textNumbers!, rowReaders: m.rowReaders! });
      else reject(m.name === 'InputError' ? new InputError(m.message!) : m.name === 'UsageError' ? new UsageError(m.message!) : new Error(m.message));
    });
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`cells worker exited with code ${code}`)));
  });
}

/** Aggregate a SQLite plate on `threads` threads (default: the machine's, PHENOMAP_THREADS). */
export async function aggregateSqlitePlate(
  path: string,
  source: SqliteOptions,
  opts: AggregateCellsOptions,
  threads = threadCount(),
): Promise<{ agg: PlateProfiles; counts: ReadCounts; plate: PlateSource }> {
  const main = openSqlitePlate(path, source);
  try {
    const nw = main.schema.wells.keys.length;
    const t = Math.max(1, Math.min(threads, Math.floor(nw / MIN_WELLS_PER_THREAD)));
    if (t === 1 || !main.wellWeights) return { agg: await aggregatePlate(main, opts), counts: main.counts, plate: main };
    const shares = shareWells(main.wellWeights(), t);
    const { reporter: _r, ...plain } = opts;
    const others = shares.slice(1).map((wells) => runWorker(path, source, plain, wells));
    const mine = await aggregatePlate(main, { ...opts, wells: shares[0]! });
    const done = await Promise.all(others);
    const counts: ReadCounts = { ...main.counts, textNumbers: { ...main.counts.textNumbers }, rowReaders: { ...main.counts.rowReaders } };
    for (const d of done) {
      for (const [k, v] of Object.entries(d.textNumbers)) counts.textNumbers[k] = (counts.textNumbers[k] ?? 0) + v;
      // Threads that ended up with different readers (one fell back) are all named.
      for (const [k, v] of Object.entries(d.rowReaders)) {
        const have = counts.rowReaders[k];
        counts.rowReaders[k] = have === undefined || have === v ? v : `${have}; ${v}`;
      }
    }
    const agg = mergePlateProfiles([mine, ...done.map((d) => ({ ...d.part, schema: main.schema }))]);
    return { agg, counts, plate: main };
  } finally {
    main.close();
  }
}
