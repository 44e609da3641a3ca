/**
 * A worker thread's share of one SQLite plate (parallel.ts): it opens its own connection, reads
 * and aggregates the wells it was given, and sends the rows back (the matrix transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { aggregatePlate, type AggregateCellsOptions } from './aggregate.js';
import { openSqlitePlate, type SqliteOptions } from './sqliteSource.js';

interface Job {
  path: string;
  source: SqliteOptions;
  aggregate: Omit<AggregateCellsOptions, 'reporter'>;
  wells: number[];
}

const job = workerData as Job;
try {
  const source = openSqlitePlate(job.path, job.source);
  try {
    const p = await aggregatePlate(source, { ...job.aggregate, wells: job.wells });
    const { schema: _schema, ...part } = p;
    parentPort!.postMessage({ ok: true, part, textNumbers: source.counts.textNumbers, rowReaders: source.counts.rowReaders }, [p.X.buffer as ArrayBuffer]);
  } finally {
    source.close();
  }
} catch (e) {
  const err = e as Error;
  parentPort!.postMessage({ ok: false, name: err.name, message: err.message });
}
