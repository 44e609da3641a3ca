/**
 * Output files are written under a temporary name and renamed when complete, so a failed
 * run never leaves a partial file where a finished one is expected.
 */
import { writeFileSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Run `write(tmpPath)` (which may be async and may produce the file by other means, e.g. DuckDB
 * COPY), then rename into place; remove the temporary file on failure.
 */
export async function withAtomicPath<T>(path: string, write: (tmp: string) => Promise<T> | T): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const ext = basename(path).match(/(\.[A-Za-z0-9]+)+$/)?.[0] ?? '';
  // Keep the real extension at the end: engines such as DuckDB choose a format from it.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp${ext}`);
  try {
    const r = await write(tmp);
    renameSync(tmp, path);
    return r;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
