/** `phenomap query` on the planted table: several names, --file, --json, --csv, --wells, exit codes. */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runWorkflow } from '../../src/pipeline/run.js';
import { presetParameters } from '../../src/pipeline/params.js';
import { runCli, tempDir, tempFile } from '../io/helpers.js';
import { syntheticTable } from './synthetic.js';

let dir: string, run: string;

beforeAll(async () => {
  dir = tempDir();
  run = join(dir, 'run');
  const p = presetParameters('default', 'Metadata_label');
  p.representations = ['raw'];
  p.idCols = ['Metadata_compound'];
  await runWorkflow(syntheticTable(dir, 'plate.csv', { unlabelledControls: true }), run, p);
}, 60_000);

describe('phenomap query', () => {
  it('answers several names from the arguments and a file, as JSON with the documented fields', async () => {
    const list = tempFile(dir, 'names.txt', '# compounds to ask about\nC\n\nD\n');
    const r = await runCli(['query', 'A', '--file', list, '--run', run, '-k', '3', '--null-size', '300', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.context.controls.wells).toBe(24);
    expect(j.answers.map((a: { compound: string }) => a.compound)).toEqual(['A', 'C', 'D']);
    const a = j.answers[0];
    expect(Object.keys(a.activity)).toEqual(expect.arrayContaining(['active', 'map', 'p', 'q']));
    expect(a.activity.active).toBe(true);
    expect(a.neighbours).toHaveLength(3);
    expect(Object.keys(a.neighbours[0])).toEqual(expect.arrayContaining(['compound', 'similarity', 'p', 'percentile', 'q', 'activity', 'sharedAnnotations', 'sameCommunity']));
    expect(a.neighbours[0].compound).toBe('B');
    expect(a.community.cluster).toBeGreaterThanOrEqual(0);
    expect(j.answers[2].activity.active).toBe(false);
    expect(j.answers[2].reliable).toBe(false);
  });

  it('prints the verdict first, writes CSV, and exits 2 when a name has no answer', async () => {
    const csv = join(dir, 'answers.csv');
    const r = await runCli(['query', 'D', 'Alpha', '--run', run, '--csv', csv, '--null-size', '300', '-q']);
    expect(r.code).toBe(2);
    const blocks = r.stdout.split('\n== ');
    expect(blocks[1]!.split('\n')[1]).toMatch(/^ {2}D is INDISTINGUISHABLE FROM NEGATIVE CONTROLS/);
    expect(r.stdout).toMatch(/UNRELIABLE — nearest compounds/);
    expect(r.stdout).toMatch(/"Alpha" matches 2 compounds \(by part of the name\): Alpha-1, Alpha-2/);
    expect(r.stderr).toMatch(/1 of 2 queries had no answer: "Alpha" \(ambiguous\)/);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]!.startsWith('query,status,compound,active,activity_status,map,p,q')).toBe(true);
    expect(lines.length).toBe(1 + 7 + 1); // D has 7 other compounds; Alpha one row without neighbours
  });

  it('one unknown name: one line on stderr with the closest names, exit 2; --wells keeps the per-well listing', async () => {
    const r = await runCli(['query', 'Alfa-2', '--run', run, '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"Alfa-2" is not a compound of this run; closest names: Alpha-2/);
    expect(r.stdout).toBe('');
    const w = await runCli(['query', 'B', '--run', run, '--wells', '-k', '2']);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/^B: 4 profile\(s\) matched in Metadata_compound/);
    const bad = await runCli(['query', '--run', run]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/give compound names or --file/);
    expect(existsSync(join(dir, 'never.csv'))).toBe(false);
  });
});
