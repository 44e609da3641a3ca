/** Small helpers for the io tests: temp files and capturing CLI output. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { main } from '../../src/cli/main.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'phenomap-io-'));
}

/** Write `content` to dir/name (gzipped when the name ends in .gz) and return the path. */
export function tempFile(dir: string, name: string, content: string | Buffer): string {
  const p = join(dir, name);
  const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  writeFileSync(p, name.endsWith('.gz') ? gzipSync(buf) : buf);
  return p;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in-process, capturing what it writes. */
export async function runCli(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => {
    out.push(typeof s === 'string' ? s : Buffer.from(s).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => {
    err.push(typeof s === 'string' ? s : Buffer.from(s).toString('utf8'));
    return true;
  }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['node', 'phenomap', ...args]);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}
