/** The same input and seed give byte-identical result files; only timings.json differs (issue 21, part 10). */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../io/helpers.js';
import { syntheticCsv } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'phenomap-det-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('determinism', () => {
  it('two runs with one seed (raw, PCA, ITML; sparse AP on a k-NN graph) write the same bytes apart from timings.json', async () => {
    const table = join(dir, 't.csv');
    writeFileSync(table, syntheticCsv(120, 10, 4, 7));
    const args = ['--representations', 'raw,pca,itml', '--pca', '4', '--seed', '3', '--save-distances', '-q'];
    expect((await runCli(['run', table, '-o', join(dir, 'a'), ...args])).code).toBe(0);
    expect((await runCli(['run', table, '-o', join(dir, 'b'), ...args])).code).toBe(0);
    expect((await runCli(['run', table, '-o', join(dir, 'c'), ...args, '--clustering', 'sparse-ap', '--knn', '10'])).code).toBe(0);
    expect((await runCli(['run', table, '-o', join(dir, 'd'), ...args, '--clustering', 'sparse-ap', '--knn', '10'])).code).toBe(0);
    for (const [x, y] of [['a', 'b'], ['c', 'd']] as const) {
      const files = readdirSync(join(dir, x)).sort();
      expect(files).toContain('timings.json');
      expect(readdirSync(join(dir, y)).sort()).toEqual(files);
      for (const f of files) {
        if (f === 'timings.json' || f === 'complete.json') continue;
        expect(readFileSync(join(dir, x, f)).equals(readFileSync(join(dir, y, f))), `${x}/${f} vs ${y}/${f}`).toBe(true);
      }
    }
    const summary = JSON.parse(readFileSync(join(dir, 'c', 'summary.json'), 'utf8'));
    expect(summary.timings).toBeUndefined();
    expect(summary.peakRssMB).toBeUndefined();
    expect(summary.representations.raw.clustering.knn.seconds).toBeUndefined();
    const timings = JSON.parse(readFileSync(join(dir, 'c', 'timings.json'), 'utf8'));
    expect(timings.seconds.total).toBeGreaterThan(0);
    expect(timings.knnSeconds.raw).toBeGreaterThanOrEqual(0);
  });
});
