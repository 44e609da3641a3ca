/**
 * `phenomap map` end to end: copairs' README activity example (assign_reference_index, pairing by
 * compound + reference index, null 1,000,000) on the bundled LINCS plate gives copairs' numbers
 * (test/fixtures/copairs/lincs_examples.json); bad rules and inputs give one clear line, exit 2.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readTable } from '../../src/io/read.js';
import { repoRoot } from '../helpers/shared.js';

const plate = join(repoRoot, 'examples/lincs/SQ00015054_normalized_feature_select.csv.gz');
const fixture = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/copairs/lincs_examples.json'), 'utf8'));

async function run(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const code = await main(['node', 'phenomap', ...args]);
    return { code, err };
  } finally {
    spy.mockRestore();
    out.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('phenomap map', () => {
  it("copairs' README activity example: the same mAP and p-values (within Monte-Carlo error)", async () => {
    const out = mkdtempSync(join(tmpdir(), 'phenomap-map-'));
    const rule = 'Metadata_broad_sample,Metadata_reference_index';
    const { code, err } = await run(['map', plate, '--reference', 'Metadata_broad_sample == DMSO', '--reference-col', 'Metadata_reference_index',
      '--pos-sameby', rule, '--neg-diffby', rule, '--null-size', '1000000', '--seed', '0', '-o', out]);
    expect(err).toContain('24 of 384 profile(s) have no positive pair');
    expect(code).toBe(0);
    const t = await readTable(join(out, 'map.csv'));
    const col = (n: string) => t.values.get(n)!;
    const fm = fixture.activity.map;
    expect(t.rows).toBe(fm.Metadata_broad_sample.length);
    const at = new Map(col('Metadata_broad_sample').map((s, i) => [s, i]));
    fm.Metadata_broad_sample.forEach((s: string, k: number) => {
      const i = at.get(s)!;
      expect(Math.abs(Number(col('mean_average_precision')[i]) - fm.mean_average_precision[k])).toBeLessThanOrEqual(1e-12);
      const p = fm.p_value[k];
      expect(Math.abs(Number(col('p_value')[i]) - p)).toBeLessThanOrEqual(5 * Math.sqrt((2 * p * (1 - p)) / 1e6) + 2e-6);
    });
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.noPositive.count).toBe(24);
    expect(s.options.nullRule).toBe('unsorted');
    const ap = await readTable(join(out, 'ap.csv'));
    expect(ap.rows).toBe(360);
    expect(ap.columns.slice(-4)).toEqual(['average_precision', 'n_pos_pairs', 'n_total_pairs', 'p_value']);
  }, 60_000);

  it('bad rules and inputs: one line naming the problem, exit 2', async () => {
    const out = mkdtempSync(join(tmpdir(), 'phenomap-map-bad-'));
    const cases: [string[], RegExp][] = [
      [['--pos-sameby', 'Metadata_nope', '--neg-diffby', 'Metadata_broad_sample'], /pairing rule column "Metadata_nope" not found/],
      [['--pos-sameby', 'Metadata_broad_sample', '--neg-diffby', 'Metadata_broad_sample', '--pos-diffby', 'Metadata_broad_sample'], /in both sameby and diffby/],
      [['--pos-sameby', 'Metadata_Well', '--neg-diffby', 'Metadata_Well'], /positive-pair rule yields no pair/],
      [['--pos-sameby', 'Metadata_broad_sample'], /negative-pair rule/],
      [['--pos-sameby-any', 'Metadata_broad_sample', '--neg-diffby', 'Metadata_Well'], /"any" needs two or more columns/],
      [['--pos-sameby', 'Metadata_target', '--neg-diffby', 'Metadata_target', '--multilabel', 'Metadata_target'], /Metadata_target" (is empty|has .*missing)/],
    ];
    for (const [args, re] of cases) {
      const { code, err } = await run(['map', plate, ...args, '-o', out, '-q']);
      expect(code, args.join(' ')).toBe(2);
      expect(err, args.join(' ')).toMatch(re);
      expect(err).not.toMatch(/\n\s+at /);
    }
    // A multilabel column with an empty label.
    const csv = join(out, 'ml.csv');
    writeFileSync(csv, 'Metadata_t,Cells_a,Cells_b\nA|B,1,2\nA||C,2,1\nB,1,1\nC,3,1\n');
    const r = await run(['map', csv, '--pos-sameby', 'Metadata_t', '--neg-diffby', 'Metadata_t', '--multilabel', 'Metadata_t', '-o', join(out, 'ml'), '-q']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/empty label in row 1 \("A\|\|C"/);
  }, 60_000);
});
