/** Memory before it is spent (issue 21, part 7). */
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../io/helpers.js';
import { syntheticCsv } from '../helpers/cli.js';
import { denseApBytes } from '../../src/pipeline/clustering.js';

const dir = mkdtempSync(join(tmpdir(), 'phenomap-mem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dense clustering that does not fit', () => {
  const table = join(dir, 't.csv');
  writeFileSync(table, syntheticCsv(2000, 6, 5));

  it('--clustering dense stops at once with the estimate and the alternative', async () => {
    expect(denseApBytes(2000)).toBe(96e6);
    expect(denseApBytes(20000)).toBe(9.6e9);
    const t0 = performance.now();
    const r = await runCli(['run', table, '-o', join(dir, 'dense'), '--clustering', 'dense', '--memory', '64MB', '--representations', 'raw', '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--clustering dense on 2000 rows needs about 96(\.0)? MB .*more than the memory limit is 64(\.0)? MB.*--clustering sparse-ap/);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(existsSync(join(dir, 'dense'))).toBe(false);
  });

  it('auto takes the sparse path when dense would not fit, and says why', async () => {
    const r = await runCli(['run', table, '-o', join(dir, 'auto'), '--memory', '64MB', '--representations', 'raw', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'auto', 'summary.json'), 'utf8'));
    expect(summary.representations.raw.clustering.method).toBe('sparse-ap');
    expect(summary.representations.raw.clustering.reason).toMatch(/auto: dense would need about 96(\.0)? MB, more than the memory limit 64(\.0)? MB/);
  });
});
