/** Lists of feature names in a text file (blocklists, landmark features). */
import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors.js';

/**
 * One feature name per line (blank lines and `#` comments skipped); a first line "blocklist"
 * (pycytominer's CSV header) is skipped too.
 */
export function readFeatureList(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${path}: cannot read the feature list (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const names = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (names[0]?.toLowerCase() === 'blocklist') names.shift();
  if (names.length === 0) throw new InputError(`${path}: the feature list is empty`);
  return names;
}
