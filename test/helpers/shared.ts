/**
 * Tests that need the larger real files in ../shared skip visibly when it is absent
 * (a user's fresh clone has no ../shared); the bundled examples/ cover the rest.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedRoot = process.env.PHENOMAP_SHARED ?? join(repoRoot, '..', 'shared');

/** Absolute path of a file under ../shared, or undefined when it is not there. */
export function sharedPath(rel: string): string | undefined {
  const p = join(sharedRoot, rel);
  return existsSync(p) ? p : undefined;
}

/** Like describe(), but skipped with a printed reason when any needed shared file is missing. */
export function describeShared(name: string, files: string[], fn: () => void): void {
  const missing = files.filter((f) => !sharedPath(f));
  if (missing.length) {
    console.warn(`[skip] ${name}: ../shared/${missing[0]} not found (tests needing ../shared are skipped)`);
    describe.skip(name, fn);
  } else {
    describe(name, fn);
  }
}

/** Path of a bundled example file (always present in the repo). */
export function examplePath(rel: string): string {
  return join(repoRoot, 'examples', rel);
}
