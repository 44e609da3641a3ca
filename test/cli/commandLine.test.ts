/** One command line (issue 21, part 8; seed and fold parts of part 3). */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../io/helpers.js';
import { syntheticCsv } from '../helpers/cli.js';
import { kfoldNotes } from '../../src/evaluate/splits.js';
import { buildProgram } from '../../src/cli/main.js';
import type { Command } from 'commander';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'phenomap-cmd-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('-q: nothing on stderr but errors', () => {
  it('normalize -q stays silent where it warns without -q (a constant feature)', async () => {
    const file = join(dir, 'const.csv');
    writeFileSync(file, 'Metadata_a,Cells_x,Cells_c\nu,1,5\nv,2,5\nw,4,5\n');
    const loud = await runCli(['normalize', file, '-o', join(dir, 'n1.csv')]);
    expect(loud.code).toBe(0);
    expect(loud.stderr).toMatch(/warning/);
    const quiet = await runCli(['normalize', file, '-o', join(dir, 'n2.csv'), '-q']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('every command that has options has -q/--quiet', () => {
    const missing: string[] = [];
    const visit = (cmd: Command, path: string) => {
      const leaf = cmd.commands.length === 0;
      if (leaf && path && !cmd.options.some((o) => o.long === '--quiet')) missing.push(path);
      for (const c of cmd.commands) visit(c, `${path} ${c.name()}`.trim());
    };
    visit(buildProgram(), '');
    expect(missing).toEqual([]);
  });
});

describe('join --on', () => {
  it('one flag when both tables call the key the same; the key kind is guessed and said', async () => {
    const profiles = join(dir, 'p.csv');
    writeFileSync(profiles, 'Metadata_broad_sample,Cells_x\nBRD-K12345678-001-01-1,1\nBRD-K87654321-001-01-1,2\nDMSO,3\n');
    const annot = join(dir, 'a.tsv');
    writeFileSync(annot, 'Metadata_broad_sample\tmoa\nBRD-K12345678\tfoo inhibitor\nBRD-K87654321\tbar agonist\n');
    const r = await runCli(['join', profiles, annot, '--on', 'Metadata_broad_sample', '-o', join(dir, 'j.csv')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/matched: 2\/3 rows \(broad_id key Metadata_broad_sample ↔ Metadata_broad_sample, key kind guessed/);
    const r2 = await runCli(['join', profiles, annot, '--on', 'Metadata_broad_sample', '--key-kind', 'name', '-o', join(dir, 'j2.csv')]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/matched: 0\/3 rows \(name key/);
    expect(readFileSync(join(dir, 'j.csv'), 'utf8')).toMatch(/foo inhibitor/);
    const bad = await runCli(['join', profiles, annot, '-o', join(dir, 'j3.csv')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--on K/);
  });
});

describe('exit codes and numbers', () => {
  it('--help documents the exit codes', async () => {
    const r = await runCli(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit codes:[\s\S]*0 +success[\s\S]*1 +failure[\s\S]*2 +bad usage or bad input[\s\S]*130 +interrupted/);
  });

  it('a seed above 2^53 − 1 is refused, not rounded', async () => {
    const file = join(dir, 's.csv');
    writeFileSync(file, syntheticCsv(20, 4, 2));
    const r = await runCli(['run', file, '-o', join(dir, 'seed'), '--seed', '9007199254740993', '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--seed must be at most 2\^53 − 1 = 9007199254740991, got "9007199254740993"/);
  });

  it('k-fold says when --folds is capped and which labels cannot be in every fold', () => {
    const groups = ['a', 'a', 'b', 'c', 'd', 'e', 'f'];
    const labels = ['x', 'x', 'x', 'x', 'y', 'y', 'z'];
    expect(kfoldNotes({ kind: 'kfold', groups, labels, folds: 10 })).toEqual([
      'kfold: --folds 10 capped at 6, the number of compounds that can be held out',
      'kfold: 3 label(s) have fewer compounds than the 6 folds, so they are missing from some folds (smallest: "z" 1, "y" 2, "x" 3)',
    ]);
    expect(kfoldNotes({ kind: 'kfold', groups, labels, folds: 2 })).toEqual(['kfold: 1 label(s) have fewer compounds than the 2 folds, so they are missing from some folds (smallest: "z" 1)']);
  });
});
