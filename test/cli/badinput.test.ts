/**
 * The bad-input suite (issue 21, part 10): classes of bad input and faults a new user meets, each
 * through the CLI, asserting the exit code, one line in the user's words naming what is wrong, no
 * stack trace, and no output (nor staging folder, lock or temporary file) left behind. Inputs that
 * are odd but clear are read, with a note where something was changed. Signals, locks, caches and
 * determinism have their own files (outputs, determinism); docs/reliability.md lists every class.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runCli } from '../io/helpers.js';
import { syntheticCsv } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'phenomap-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const good = syntheticCsv(40, 6, 4);
const lines = good.trim().split('\n');
const file = (name: string, content: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
let goodFile: string;
beforeAll(() => {
  goodFile = file('good.csv', good);
});

/** [class, make the arguments (given a fresh output path), expected message]. */
type Case = [string, (out: string) => string[], RegExp];

const withLabels = (f: (l: string, i: number) => string) => lines.map((l, i) => (i === 0 ? l : f(l, i))).join('\n') + '\n';
const latin1File = () => file('latin1.csv', Buffer.from(withLabels((l, i) => (i === 2 ? l.replace(/^drug\d+/, 'café') : l)), 'latin1'));
const run = (input: () => string, ...extra: string[]) => (out: string) => ['run', input(), '-o', out, '--representations', 'raw', '-q', ...extra];

const cases: Case[] = [
  ['empty file', run(() => file('empty.csv', '')), /empty\.csv: empty file/],
  ['blank lines only', run(() => file('blank.csv', '\n\n\n')), /blank\.csv: empty file/],
  ['header only', run(() => file('header.csv', `${lines[0]}\n`)), /header\.csv: no data rows \(header only\)/],
  ['a row with too few fields', run(() => file('short.csv', `${lines.slice(0, 5).join('\n')}\ndrugX,moa1,1\n`)), /short\.csv: data row 5 has 3 fields, the header has 8/],
  ['a row with too many fields', run(() => file('long.csv', `${lines.slice(0, 3).join('\n')}\n${lines[3]},9\n`)), /long\.csv: data row 3 has 9 fields, the header has 8/],
  ['text in a feature column', run(() => file('text.csv', withLabels((l, i) => (i === 7 ? l.replace(/,[^,]*$/, ',oops') : l)))), /text\.csv: feature column "Cells_f5" has non-numeric value "oops" in data row 7/],
  ['duplicate column names', run(() => file('dup.csv', `Metadata_moa,Cells_x,Cells_x\na,1,2\nb,3,4\n`)), /dup\.csv: duplicate column name "Cells_x" \(columns 2 and 3\)/],
  ['no feature columns', run(() => file('nofeat.csv', 'Metadata_moa,width\na,1\nb,2\n')), /nofeat\.csv: no feature columns/],
  ['an unterminated quoted field', run(() => file('quote.csv', `${lines.slice(0, 3).join('\n')}\n"drugQ,moa1,1,2,3,4,5,6\n`)), /quote\.csv: .*(unterminated quoted field|data row 3)/],
  ['text after a closing quote', run(() => file('after.csv', `${lines.slice(0, 3).join('\n')}\n"drugQ"x,moa1,1,2,3,4,5,6\n`)), /after\.csv: data row 3.*text after a closing quote/],
  ['a .gz that is not gzip', run(() => file('bad.csv.gz', 'not gzip at all')), /bad\.csv\.gz: unreadable gzip file/],
  ['a truncated gzip', run(() => file('trunc.csv.gz', gzipSync(good).subarray(0, 200))), /trunc\.csv\.gz: truncated gzip file/],
  ['a corrupt Parquet file', run(() => file('corrupt.parquet', 'PAR1 this is not really parquet PAR1')), /corrupt\.parquet: /],
  ['a missing file', run(() => join(dir, 'nope.csv')), /nope\.csv: file not found/],
  ['an unsupported file type', run(() => file('table.json', '{}')), /table\.json: unsupported file type/],
  ['an Excel workbook', run(() => file('book.xlsx', 'PK\x03\x04')), /book\.xlsx is an Excel workbook .*save the sheet as CSV UTF-8/],
  ['a zip archive named .csv', run(() => file('zip.csv', Buffer.from('PK\x03\x04xx', 'latin1'))), /zip\.csv is a zip archive/],
  ['a missing label column', run(() => goodFile, '--label-col', 'Metadata_nope'), /no metadata column "Metadata_nope"|Metadata_nope/],
  ['fewer than two labelled rows', run(() => file('onelabel.csv', withLabels((l, i) => (i === 1 ? l : l.replace(/,moa\d+,/, ',NA,'))))), /only 1 row\(s\) have a Metadata_moa label; at least 2 are needed/],
  ['every row its own class', run(() => file('ids.csv', withLabels((l, i) => l.replace(/,moa\d+,/, `,id${i},`)))), /every labelled row has its own Metadata_moa value \(40 classes for 40 rows\)/],
  ['every feature constant', run(() => file('const.csv', withLabels((l) => l.replace(/(,[^,]*){6}$/, ',1,1,1,1,1,1')))), /every feature has a missing value or zero variance/],
  ['identical rows', run(() => file('same.csv', withLabels((l) => l.replace(/(,[^,]*){6}$/, ',1,2,3,4,5,6')))), /every feature has a missing value or zero variance/],
  ['every feature missing', run(() => file('nan.csv', withLabels((l) => l.replace(/(,[^,]*){6}$/, ',,,,,,')))), /every feature column is entirely missing|no feature columns/],
  ['--features matching nothing', run(() => goodFile, '--features', 'Zzz_*'), /Zzz_\*/],
  ['--pca 0', run(() => goodFile, '--pca', '0'), /--pca must be > 0/],
  ['a seed above 2^53 − 1', run(() => goodFile, '--seed', '9007199254740993'), /--seed must be at most 2\^53 − 1/],
  ['a negative seed', run(() => goodFile, '--seed', '-1'), /--seed must be an integer ≥ 0/],
  ['--alpha outside [0, 1]', run(() => goodFile, '--alpha', '2'), /--alpha must be a number in \[0, 1\]/],
  ['an unknown representation', run(() => goodFile, '--representations', 'raw,bogus'), /bogus/],
  ['an unknown --clustering', run(() => goodFile, '--clustering', 'fast'), /--clustering.*fast.*(choices|Allowed)/i],
  ['an unknown option', run(() => goodFile, '--frobnicate'), /unknown option '--frobnicate'/],
  ['--out under /proc', (out) => ['run', goodFile, '-o', '/proc/phenomap-x', '-q'], /\/proc is on the kernel's proc file system/],
  ['--out an existing file', (out) => ['run', goodFile, '-o', file('afile', 'x'), '-q'], /is an existing file; --out takes a folder/],
  ['--out below a file', (out) => ['run', goodFile, '-o', join(file('bfile', 'x'), 'sub'), '-q'], /is a file, so no folder can be made under it/],
  ['--out a folder that is not empty', (out) => {
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'mine');
    return ['run', goodFile, '-o', out, '-q'];
  }, /already exists and is not empty \(keep\.txt\); add --overwrite/],
  ['dense clustering beyond the memory limit', run(() => file('big.csv', syntheticCsv(3000, 4, 5)), '--clustering', 'dense', '--memory', '100MB'), /--clustering dense on 3000 rows needs about 216 MB/],
  ['--correct without --batch-col', run(() => goodFile, '--correct', 'combat'), /--correct needs --batch-col/],
  ['--batch-col without --correct', run(() => goodFile, '--batch-col', 'Metadata_moa'), /--batch-col, --controls and --correct-opt go with --correct/],
  ['normalize: a --samples query naming no column', (out) => ['normalize', goodFile, '-o', `${out}.csv`, '--samples', 'Metadata_nope == x', '-q'], /Metadata_nope/],
  ['feature-select: an unknown operation', (out) => ['feature-select', goodFile, '-o', `${out}.csv`, '--operations', 'magic', '-q'], /unknown operation "magic"/],
  ['join: a key column missing from the table', (out) => ['join', goodFile, file('annot.tsv', 'key\tx\na\t1\n'), '--on', 'Metadata_pert_iname', '-o', `${out}.csv`, '-q'], /annot\.tsv: no column "Metadata_pert_iname"/],
  ['join: no key named', (out) => ['join', goodFile, file('annot2.tsv', 'key\tx\na\t1\n'), '-o', `${out}.csv`, '-q'], /join needs the key column: --on K/],
  ['report on a folder that is not a run', (out) => ['report', '--run', dir, '-q'], /not a phenomap run directory \(no summary\.json\)/],
  ['report on a folder that does not exist', (out) => ['report', '--run', join(dir, 'missing-run'), '-q'], /no such run folder/],
  ['evaluate without a compound column', (out) => ['evaluate', goodFile, '-o', out, '-q'], /--group-col <compound column> is required/],
  ['evaluate: candidates relative to the batch without a batch column', (out) => ['evaluate', goodFile, '--group-col', 'Metadata_pert_iname', '--candidate-batch', 'same', '-o', out, '-q'], /candidates on the same batch need --batch-col/],
  ['evaluate: candidates relative to the batch when there is one plate', (out) => ['evaluate', file('oneplate.csv', lines.map((l, i) => `${l},${i ? 'P1' : 'Metadata_plate'}`).join('\n') + '\n'),
    '--group-col', 'Metadata_pert_iname', '--batch-col', 'Metadata_plate', '--candidate-batch', 'others', '-o', out, '-q'], /candidate rule "others": column Metadata_plate has 1 batch value\(s\) \("P1"\)/],
  ['map without a pairing rule', (out) => ['map', goodFile, '-o', out, '-q'], /give the positive-pair rule/],
  ['Latin-1 text without --encoding latin-1', run(() => latin1File()), /latin1\.csv: line 3, byte [\d,]+: found byte 0xE9 after "caf", which is not UTF-8 \(in Latin-1 it is "é"\); if the file is Latin-1 \(ISO-8859-1\) text, add --encoding latin-1/],
  ['a Latin-1 byte far down a file (beyond the first 64 KB)', run(() => file('late.csv', Buffer.concat([Buffer.from(syntheticCsv(3000, 6, 4)), Buffer.from('drugZ,moa1,1,2,3,4,5,6\ncaf\xe9,moa2,1,2,3,4,5,6\n', 'latin1')]))), /late\.csv: line 3003, byte [\d,]+: found byte 0xE9 after "caf".*add --encoding latin-1/],
  ['an unknown --encoding', run(() => goodFile, '--encoding', 'ebcdic'), /--encoding must be utf-8 or latin-1, got "ebcdic"/],
  ['a --delimiter of two characters', run(() => goodFile, '--delimiter', '::'), /--delimiter must be one ASCII character/],
];

describe('bad input: exit 2, one line naming what is wrong, no stack trace, nothing left behind', () => {
  it.each(cases)('%s', async (_name, args, message) => {
    const parent = mkdtempSync(join(dir, 'case-'));
    const out = join(parent, 'out');
    const argv = args(out);
    const r = await runCli(argv);
    expect(r.code, r.stderr).toBe(2);
    const err = r.stderr.trim().split('\n');
    expect(err, r.stderr).toHaveLength(1);
    expect(err[0]).toMatch(/^(phenomap: |error: )/);
    expect(err[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
    // Nothing written: the output does not exist (or holds only what the case put there), no staging, lock or temporary file.
    const left = readdirSync(parent).filter((f) => !(f === 'out' && existsSync(join(out, 'keep.txt'))));
    expect(left).toEqual([]);
    if (existsSync(out)) expect(readdirSync(out)).toEqual(['keep.txt']);
  });
});

describe('odd but clear input is read', () => {
  const ok = async (input: string, ...extra: string[]) => {
    const out = join(mkdtempSync(join(dir, 'ok-')), 'out');
    const r = await runCli(['run', input, '-o', out, '--representations', 'raw', ...extra]);
    expect(r.code, r.stderr).toBe(0);
    return { r, summary: JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) };
  };

  it.each([
    ['a UTF-8 byte-order mark', () => file('bom.csv', `\uFEFF${good}`)],
    ['Latin-1 text with --encoding latin-1', () => latin1File(), '--encoding', 'latin-1'],
    ['a "|"-separated .csv with --delimiter "|"', () => file('pipe.csv', good.replace(/,/g, '|')), '--delimiter', '|'],
    ['a ";"-separated .txt with --delimiter semicolon', () => file('semi.txt', good.replace(/,/g, ';')), '--delimiter', 'semicolon'],
    ['CRLF line ends', () => file('crlf.csv', good.replace(/\n/g, '\r\n'))],
    ['a gzip file named .csv', () => file('gz.csv', gzipSync(good))],
    ['a ";"-separated .csv', () => file('semi.csv', good.replace(/,/g, ';'))],
    ['a tab-separated .csv', () => file('tabs.csv', good.replace(/,/g, '\t'))],
  ] as [string, () => string, ...string[]][])('%s', async (_name, input, ...extra) => {
    const { summary } = await ok(input(), ...extra);
    expect(summary.n).toBe(40);
    expect(summary.d).toBe(6);
  });

  it('missing values and a constant feature: dropped by name, counted, the run goes on', async () => {
    const { summary, r } = await ok(file('holes.csv', withLabels((l, i) => {
      const c = l.split(',');
      c[3] = '5'; // Cells_f1 constant
      if (i === 4) c[5] = '';
      return c.join(',');
    })));
    expect(summary.dropped.details).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Cells_f1', reason: expect.stringMatching(/zero variance/) })]));
    expect(r.stderr).toMatch(/Cells_f1 \(zero variance/);
  });

  it('a live second run into the same --out fails at once (lock), exit 2, one line', async () => {
    const out = join(mkdtempSync(join(dir, 'lock-')), 'out');
    const owner = spawn('sleep', ['30']);
    try {
      writeFileSync(join(out, '..', '.out.lock'), `${owner.pid}\n`);
      const r = await runCli(['run', goodFile, '-o', out, '-q']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/being written by another phenomap \(pid \d+\)/);
    } finally {
      owner.kill();
    }
  });
});
