import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decimalValue, parseDecimalText } from '../../src/io/decimal.js';
import { readProfiles } from '../../src/io/read.js';
import { withDuck, lit } from '../../src/io/duck.js';
import { Rng } from '../../src/linalg/rng.js';
import { tempDir } from './helpers.js';

/** Split a decimal string the way the reader does: first 15 significant digits, up to 4 more, power of ten. */
function parts(text: string): { hi: number; lo: number; nLo: number; exp: number; neg: boolean } | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return null;
  let hi = 0, lo = 0, nHi = 0, nLo = 0, exp = Number(m[4] ?? 0);
  const intDigits = m[2] ?? '', frac = m[3] ?? '';
  for (const [ds, isFrac] of [[intDigits, false], [frac, true]] as const) {
    for (const ch of ds) {
      const d = ch.charCodeAt(0) - 48;
      if (nHi < 15) {
        if (nHi > 0 || d > 0) {
          hi = hi * 10 + d;
          nHi++;
        }
        if (isFrac) exp--;
      } else if (nLo < 4) {
        lo = lo * 10 + d;
        nLo++;
        if (isFrac) exp--;
      } else return null;
    }
  }
  return { hi, lo, nLo, exp, neg: m[1] === '-' };
}

function viaFastPath(text: string): number {
  const p = parts(text);
  if (!p) return NaN;
  const v = decimalValue(p.hi, p.lo, p.nLo, p.exp);
  return p.neg ? -v : v;
}

function randomDecimal(rng: Rng): string {
  const nd = 1 + rng.int(19);
  let digits = String(1 + rng.int(9));
  for (let i = 1; i < nd; i++) digits += String(rng.int(10));
  const point = rng.int(nd + 1);
  const lead = rng.int(4) === 0 ? '0.' + '0'.repeat(rng.int(6)) : '';
  let s = lead ? lead + digits : digits.slice(0, point) + (point < nd ? '.' + digits.slice(point) : '');
  if (s.startsWith('.')) s = '0' + s;
  if (rng.int(3) === 0) s += `e${rng.int(2) ? '-' : ''}${rng.int(12)}`;
  return (rng.int(2) ? '-' : '') + s;
}

describe('decimal → float64, correctly rounded', () => {
  it('equals Number() on 100,000 random decimals of 1–19 significant digits (exact ties excepted: NaN hands them back)', () => {
    const rng = new Rng(7);
    let fast = 0;
    for (let t = 0; t < 100_000; t++) {
      const s = randomDecimal(rng);
      const v = viaFastPath(s);
      if (Number.isNaN(v)) continue; // the text path decides
      fast++;
      expect(Object.is(v, Number(s)) ? s : `${s}: ${v} vs ${Number(s)}`).toBe(s);
    }
    expect(fast).toBeGreaterThan(75_000);
  });

  it('pandas-style 17-digit values and near-halfway cases', () => {
    for (const s of [
      '104.12726939299468', '0.0013541666666666667', '-0.2037935476052527', '6.4031242374328485', '0.1', '0.3',
      '9007199254740993', '9007199254740995', '1.0000000000000002', '0.30000000000000004', '123456789012345678',
      '5e-324', '1.7976931348623157e308', '2.2250738585072014e-308',
    ]) {
      const v = viaFastPath(s);
      if (!Number.isNaN(v)) expect(Object.is(v, Number(s))).toBe(true);
    }
    // 2⁵³ + 1 is an exact tie: the fast path must hand it to the text path.
    expect(Number.isNaN(viaFastPath('9007199254740993'))).toBe(true);
  });

  it('the text path follows DuckDB’s DOUBLE grammar in CSV files', async () => {
    const texts = ['1', '+1', '1.', '.5', '-.5', '1e5', '1E+5', ' 1 ', '\t2', '1_000', 'inf', '-Infinity', 'NaN', 'nan', '-nan', 'NA', '', '1e400', '-0', '00012',
      '1.5e', 'e5', '.', '-', '1__0', '_1', 'na', 'N/A', 'NULL', '1.2.3', '1d5', '0.1f', '0x10', '1.5 x'];
    const dir = tempDir();
    await withDuck(async (con) => {
      for (const t of texts) {
        const f = join(dir, 'g.csv');
        writeFileSync(f, `Metadata_a,Cells_x,Cells_y\nu,${t},1\n`);
        let duck: number | undefined;
        try {
          const r = await con.runAndReadAll(
            `SELECT coalesce(Cells_x, 'NaN'::DOUBLE) FROM read_csv(${lit(f)}, header=true, auto_detect=false, columns={'Metadata_a': 'VARCHAR', 'Cells_x': 'DOUBLE', 'Cells_y': 'DOUBLE'}, ` +
              `nullstr=['', 'NA', 'NaN', 'nan'])`,
          );
          duck = r.getRowsJS()[0]![0] as number;
        } catch {
          duck = undefined;
        }
        const ours = parseDecimalText(t);
        expect([t, ours]).toEqual([t, duck]);
        // and through the reader
        if (duck === undefined) await expect(readProfiles(f)).rejects.toThrow(/feature column "Cells_x" has non-numeric value/);
        else {
          const { profiles } = await readProfiles(f);
          const v = profiles.features[0] === 'Cells_x' ? profiles.X.data[0]! : NaN; // an all-missing column is dropped
          expect([t, v]).toEqual([t, duck]);
        }
      }
    });
  });
});
