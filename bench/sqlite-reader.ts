/**
 * The SQLite plate reader's two row decoders side by side (issue 15): phenomap's direct record
 * reader (phenomap_rows, native/sqlite_records.c) against SQLite's own (phenomap_f64 over
 * `rowid BETWEEN`), on one plate, in one process, alternating, several repeats, medians.
 *
 *   npx tsx bench/sqlite-reader.ts PLATE.sqlite [--repeats 3] [--compartments Cells,Cytoplasm,Nuclei]
 *
 * Times the key scan (open + keys) and reading every well's rows (no aggregation), one thread,
 * and checks that both decoders gave the same numbers.
 */
import { loadavg } from 'node:os';
import { openSqlitePlate } from '../src/cells/sqliteSource.js';
import { arg } from './common.js';

const path = process.argv[2];
if (!path || path.startsWith('--')) {
  console.error('usage: npx tsx bench/sqlite-reader.ts PLATE.sqlite [--repeats 3] [--compartments Cells,Cytoplasm,Nuclei]');
  process.exit(2);
}
const repeats = Number(arg('--repeats', '3'));
const compartments = arg('--compartments', 'Cells,Cytoplasm,Nuclei').split(',');

async function once(direct: boolean): Promise<{ keys: number; rows: number; cells: number; sum: number; readers: string[] }> {
  const t0 = performance.now();
  const plate = openSqlitePlate(path!, { compartments, strata: ['Metadata_Plate', 'Metadata_Well'], directRows: direct });
  const t1 = performance.now();
  let cells = 0;
  let sum = 0;
  try {
    for await (const w of plate.wells()) {
      cells += w.compartments[0]!.n;
      for (const c of w.compartments) for (let i = 0; i < c.X.length; i += 97) if (!Number.isNaN(c.X[i]!)) sum += c.X[i]!;
    }
  } finally {
    plate.close();
  }
  return { keys: (t1 - t0) / 1000, rows: (performance.now() - t1) / 1000, cells, sum, readers: [...new Set(Object.values(plate.counts.rowReaders))] };
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const runs: Record<'direct' | 'sqlite', { keys: number; rows: number }[]> = { direct: [], sqlite: [] };
const load0 = loadavg()[0]!;
let check: number | null = null;
for (let r = 0; r < repeats; r++) {
  for (const direct of r % 2 ? [false, true] : [true, false]) {
    const x = await once(direct);
    if (check === null) check = x.sum;
    else if (x.sum !== check) throw new Error(`the two readers disagree (${x.sum} vs ${check})`);
    runs[direct ? 'direct' : 'sqlite'].push({ keys: x.keys, rows: x.rows });
    console.error(`${direct ? 'direct' : 'sqlite'}: keys ${x.keys.toFixed(2)} s, rows ${x.rows.toFixed(2)} s, ${x.cells} cells (${x.readers.join('; ')})`);
  }
}
const m = (k: 'direct' | 'sqlite', f: 'keys' | 'rows') => median(runs[k].map((x) => x[f]));
console.log(`reader   keys s   rows s   (median of ${repeats}, load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)})`);
for (const k of ['direct', 'sqlite'] as const) console.log(`${k.padEnd(8)} ${m(k, 'keys').toFixed(2).padStart(6)} ${m(k, 'rows').toFixed(2).padStart(8)}`);
console.log(`rows: direct ${(m('sqlite', 'rows') / m('direct', 'rows')).toFixed(1)}× faster`);
