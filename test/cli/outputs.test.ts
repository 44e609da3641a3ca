/**
 * Output folders are fresh, whole, or untouched (issue 21, parts 1 and 2), tried as a user would:
 * the built CLI in its own process, signalled and killed mid-run.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, phenomap, syntheticCsv, type Spawned } from '../helpers/cli.js';
import { runCli } from '../io/helpers.js';
import { COMPLETION_RECORD, requireComplete } from '../../src/util/outputDir.js';

let dir: string;
let small: string;
let medium: string;
const quick = ['--representations', 'raw', '-q'];

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'phenomap-out-'));
  small = join(dir, 'small.csv');
  writeFileSync(small, syntheticCsv(80, 8, 4));
  medium = join(dir, 'medium.csv');
  // Large enough that a run lasts seconds past its staging folder's creation even on an idle machine:
  // at 3,000 rows it could finish before the signal came (a flaky pass or fail, never a test).
  writeFileSync(medium, syntheticCsv(12000, 40, 10));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One line on stderr, no stack trace. */
function oneLine(r: { stderr: string }): string {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  return lines[0]!;
}

/** Entries of `parent` left by a write into `name` (staging, swap, lock, temporary files). */
function leftovers(parent: string, name: string): string[] {
  return readdirSync(parent).filter((f) => f.startsWith(`.${name}.`));
}

describe('--out is checked before any work', () => {
  it.each([
    ['/proc/x', /--out \/proc\/x: \/proc is on the kernel's proc file system/],
    ['FILE', /is an existing file; --out takes a folder/],
    ['FILE/sub', /is a file, so no folder can be made under it/],
  ])('run -o %s: one line, exit 2, nothing written', async (out, message) => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const t0 = performance.now();
    const r = await runCli(['run', small, '-o', out.replace('FILE', file), ...quick]);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(message);
    // Before any work (the table is not even read): /proc/x used to hang for minutes, a file
    // ended in EEXIST after the whole run.
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('the built CLI answers -o /proc/x as quickly as it starts', async () => {
    const [version, proc] = [await phenomap(['--version']), await phenomap(['run', small, '-o', '/proc/x', ...quick])];
    expect(proc.code).toBe(2);
    expect(oneLine(proc)).toMatch(/proc file system/);
    // The whole process: its start (≈ 1 s, more on a loaded machine) and one check.
    expect(proc.seconds).toBeLessThan(version.seconds + 3);
  });

  it('file outputs too: normalize -o /proc/x.csv and -o an existing folder', async () => {
    let r = await runCli(['normalize', small, '-o', '/proc/x.csv', '-q']);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/proc file system/);
    r = await runCli(['normalize', small, '-o', dir, '-q']);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/is an existing folder; --out takes a file name/);
  });

  it('an unwritable parent folder: one line naming it, exit 2', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    // root may write anywhere: try it as nobody then.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    chmodSync(dir, 0o755);
    chmodSync(small, 0o644);
    const r = await phenomap(['run', small, '-o', join(locked, 'out'), ...quick], { ...asNobody, cwd: '/' });
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(new RegExp(`cannot write in ${locked} \\(permission denied\\)`));
    expect(readdirSync(locked)).toEqual([]);
  });
});

describe('a rerun into the same --out', () => {
  it('is refused when the folder is not empty, and with --overwrite replaces it whole (no file of the earlier run kept)', async () => {
    const out = join(dir, 'rerun');
    let r = await runCli(['run', small, '-o', out, '--representations', 'raw,pca', '--pca', '3', '--save-distances', '-q']);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['repr_pca.npy', 'distances_raw.npy', 'distances_pca.npy', COMPLETION_RECORD]) expect(existsSync(join(out, f)), f).toBe(true);
    const before = readFileSync(join(out, 'summary.json'), 'utf8');

    r = await runCli(['run', small, '-o', out, ...quick]);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/already exists and is not empty .*add --overwrite/);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe(before);

    r = await runCli(['run', small, '-o', out, ...quick, '--overwrite']);
    expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(out).sort();
    for (const f of ['repr_pca.npy', 'distances_raw.npy', 'distances_pca.npy']) expect(files).not.toContain(f);
    const record = requireComplete(out);
    expect(Object.keys(record.files).sort()).toEqual(files.filter((f) => f !== COMPLETION_RECORD));
    expect(leftovers(dir, 'rerun')).toEqual([]);
  });

  it('report and query refuse a run folder without its completion record, naming what is missing', async () => {
    const out = join(dir, 'incomplete');
    expect((await runCli(['run', small, '-o', out, ...quick])).code).toBe(0);
    const record = readFileSync(join(out, COMPLETION_RECORD));
    rmSync(join(out, COMPLETION_RECORD));
    let r = await runCli(['report', '--run', out, '-q']);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/not a complete phenomap run folder: complete\.json is missing/);
    expect(existsSync(join(out, 'report.html'))).toBe(false);
    writeFileSync(join(out, COMPLETION_RECORD), record);
    truncateSync(join(out, 'clusters.csv'), 100);
    r = await runCli(['query', 'drug1', '--run', out, '-q']);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/clusters\.csv has 100 bytes, \d+ were written/);
  });
});

describe('evaluate refuses an input from an unfinished output folder', () => {
  it('a table inside a folder with summary.json but no complete.json: exit 2, naming it', async () => {
    const run = join(dir, 'unfinished');
    mkdirSync(run);
    writeFileSync(join(run, 'summary.json'), '{}');
    writeFileSync(join(run, 'corrected.csv'), readFileSync(small));
    const r = await runCli(['evaluate', join(run, 'corrected.csv'), '--group-col', 'Metadata_pert_iname', '-o', join(dir, 'ev'), '-q']);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/unfinished: not a complete phenomap output folder: complete\.json is missing/);
    expect(existsSync(join(dir, 'ev'))).toBe(false);
  });
});

describe('two runs into one --out', () => {
  it('the second fails at once naming the first; a lock left by a dead process is taken over', async () => {
    const out = join(dir, 'locked-run');
    const lock = join(dir, '.locked-run.lock');
    // A live owner: a process that sleeps meanwhile.
    const owner = spawn('sleep', ['60']);
    try {
      writeFileSync(lock, `${owner.pid}\n`);
      const t0 = performance.now();
      const r = await runCli(['run', small, '-o', out, ...quick]);
      expect(r.code).toBe(2);
      expect(oneLine(r)).toMatch(new RegExp(`being written by another phenomap \\(pid ${owner.pid}\\)`));
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(readFileSync(lock, 'utf8')).toBe(`${owner.pid}\n`);
      expect(existsSync(out)).toBe(false);
    } finally {
      owner.kill();
    }
    // A dead owner: a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(lock, `${dead}\n`);
    const r = await runCli(['run', small, '-o', out, ...quick]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
    requireComplete(out);
  });

  it('two real runs started together: one writes the folder, the other fails with the lock message', async () => {
    const out = join(dir, 'race');
    const [a, b] = await Promise.all([phenomap(['run', small, '-o', out, ...quick]), phenomap(['run', small, '-o', out, ...quick])]);
    const codes = [a.code, b.code].sort();
    expect(codes).toEqual([0, 2]);
    const loser = a.code === 2 ? a : b;
    // The loser either met the lock or, if it came after the winner finished, the finished folder.
    expect(oneLine(loser)).toMatch(/being written by another phenomap|already exists and is not empty/);
    requireComplete(out);
    expect(leftovers(dir, 'race')).toEqual([]);
  });
});

describe('interrupts leave nothing behind', () => {
  /** Start a rerun of the medium table over a finished `name`, and send `signal` once it is under way. */
  async function interruptedRerun(name: string, signal: NodeJS.Signals): Promise<{ r: Spawned; out: string; temp: string; before: string }> {
    const out = join(dir, name);
    expect((await runCli(['run', small, '-o', out, ...quick])).code).toBe(0);
    const before = readFileSync(join(out, 'summary.json'), 'utf8');
    const temp = join(dir, `${name}-tmp`);
    mkdirSync(temp);
    const r = await phenomap(['run', medium, '-o', out, '--overwrite', '--representations', 'raw', '--clustering', 'louvain', '--knn-method', 'hnsw', '-q'], {
      env: { TMPDIR: temp },
      onStart: (child) => {
        // Wait until the run has its staging folder and has been working in it for a moment.
        const poll = setInterval(() => {
          if (leftovers(dir, name).some((f) => f.includes('staging'))) {
            clearInterval(poll);
            setTimeout(() => child.kill(signal), 300);
          }
        }, 20);
        child.on('exit', () => clearInterval(poll));
      },
    });
    return { r, out, temp, before };
  }

  it.each(['SIGINT', 'SIGTERM', 'SIGKILL'] as const)('%s during a rerun: the old folder stays whole, no staging folder, lock or temporary file', async (signal) => {
    const name = `killed-${signal}`;
    const { r, out, temp, before } = await interruptedRerun(name, signal);
    // Stopped by the signal (the shell shows 128 + its number: 130 for SIGINT), not finished.
    expect(r.signal).toBe(signal);
    expect(r.stderr).toMatch(/phenomap: stopped before finishing; removed its unfinished output \(.* is as it was before\)/);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe(before);
    requireComplete(out);
    expect(leftovers(dir, name)).toEqual([]);
    expect(readdirSync(temp)).toEqual([]);
  });

  it('synth killed while writing its table leaves no temporary file and no lock', async () => {
    const out = join(dir, 'synth-killed.csv.gz');
    const r = await phenomap(['synth', '--rows', '40000', '--features', '300', '-o', out, '-q'], {
      onStart: (child) => {
        const poll = setInterval(() => {
          if (leftovers(dir, 'synth-killed.csv.gz').some((f) => f.endsWith('.tmp.csv.gz'))) {
            clearInterval(poll);
            setTimeout(() => child.kill('SIGTERM'), 200);
          }
        }, 20);
        child.on('exit', () => clearInterval(poll));
      },
    });
    expect(r.signal).toBe('SIGTERM');
    expect(r.stderr).toMatch(/stopped before finishing.*was not written/);
    expect(existsSync(out)).toBe(false);
    expect(leftovers(dir, 'synth-killed.csv.gz')).toEqual([]);
  });

  it('a first run killed leaves no folder at all', async () => {
    const out = join(dir, 'never');
    const r = await phenomap(['run', medium, '-o', out, '--representations', 'raw', '--clustering', 'louvain', '--knn-method', 'hnsw', '-q'], {
      onStart: (child) => {
        const poll = setInterval(() => {
          if (leftovers(dir, 'never').some((f) => f.includes('staging'))) {
            clearInterval(poll);
            setTimeout(() => child.kill('SIGKILL'), 300);
          }
        }, 20);
        child.on('exit', () => clearInterval(poll));
      },
    });
    expect(r.signal).toBe('SIGKILL');
    expect(r.stderr).toMatch(/stopped before finishing.*was not written/);
    expect(existsSync(out)).toBe(false);
    expect(leftovers(dir, 'never')).toEqual([]);
  });
});
