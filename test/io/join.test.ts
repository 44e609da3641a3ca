import { describe, it, expect } from 'vitest';
import { joinAnnotations, normalizeKey } from '../../src/io/join.js';
import type { Profiles } from '../../src/io/profiles.js';
import { getMeta } from '../../src/io/profiles.js';
import type { Table } from '../../src/io/read.js';
import { readTable } from '../../src/io/read.js';
import { InputError } from '../../src/util/errors.js';
import { tempDir, tempFile } from './helpers.js';

function profiles(keys: (string | null)[]): Profiles {
  return {
    features: ['Cells_x'],
    X: { rows: keys.length, cols: 1, data: Float64Array.from(keys, (_, i) => i) },
    meta: [{ name: 'Metadata_key', kind: 'string', values: keys }],
    source: 'p.csv',
  };
}

function table(cols: Record<string, (string | null)[]>): Table {
  const columns = Object.keys(cols);
  return { source: 't.tsv', columns, rows: cols[columns[0]!]!.length, values: new Map(Object.entries(cols)) };
}

describe('normalizeKey', () => {
  it('broad_id keeps BRD-X + 8 digits, others whole', () => {
    expect(normalizeKey('BRD-K92301463-001-05-5', 'broad_id')).toBe('BRD-K92301463');
    expect(normalizeKey(' brd-k92301463 ', 'broad_id')).toBe('BRD-K92301463');
    expect(normalizeKey('DMSO', 'broad_id')).toBe('DMSO');
    expect(normalizeKey('', 'broad_id')).toBeNull();
    expect(normalizeKey(null, 'name')).toBeNull();
  });
  it('inchikey, inchikey14, name', () => {
    const k = 'WHTVZRBIWZFKQO-AWEZNQCLSA-N';
    expect(normalizeKey(k.toLowerCase(), 'inchikey')).toBe(k);
    expect(normalizeKey(k, 'inchikey14')).toBe('WHTVZRBIWZFKQO');
    expect(normalizeKey('  Hydroxy  Chloroquine ', 'name')).toBe('hydroxy chloroquine');
  });
});

describe('joinAnnotations', () => {
  it('counts matched / unmatched, keeps every row, reports ambiguity', () => {
    const p = profiles(['BRD-K00000001-001-01-1', 'BRD-K00000002-003-02-7', 'DMSO', null, 'BRD-K00000003-001-01-1', 'BRD-K00000001-002-01-1']);
    const t = table({
      broad_id: ['BRD-K00000001', 'BRD-K00000002', 'BRD-K00000003', 'BRD-K00000003', 'BRD-K00000002'],
      pert_iname: ['alpha', 'beta', 'gamma', 'gamma-2', 'beta'],
      moa: ['m1', null, 'm3', 'm3', null],
    });
    const j = joinAnnotations(p, t, { profileKey: 'Metadata_key', tableKey: 'broad_id', keyKind: 'broad_id' });
    expect(j.matched).toBe(4);
    expect(j.unmatched).toBe(2);
    expect(j.unmatchedKeys).toEqual(['DMSO', '(missing)']);
    // BRD-K00000003 has two rows that disagree; BRD-K00000002's duplicates agree.
    expect(j.ambiguous).toBe(1);
    expect(j.ambiguousKeys).toEqual(['BRD-K00000003-001-01-1']);
    expect(j.addedColumns).toEqual(['Metadata_pert_iname', 'Metadata_moa']);
    expect(j.profiles.X.rows).toBe(6);
    const name = getMeta(j.profiles, 'Metadata_pert_iname');
    expect(name.values).toEqual(['alpha', 'beta', null, null, 'gamma', 'alpha']);
    expect(getMeta(j.profiles, 'Metadata_moa').values).toEqual(['m1', null, null, null, 'm3', 'm1']);
    // The input is untouched.
    expect(p.meta).toHaveLength(1);
  });

  it('inchikey14 against full keys, name case-insensitively, chosen columns and prefix', () => {
    const p = profiles(['WHTVZRBIWZFKQO', 'XXXXXXXXXXXXXX']);
    const t = table({ InChIKey: ['WHTVZRBIWZFKQO-AWEZNQCLSA-N'], moa: ['autophagy inhibitor'], phase: ['Launched'] });
    const j = joinAnnotations(p, t, { profileKey: 'Metadata_key', tableKey: 'InChIKey', keyKind: 'inchikey14', columns: ['moa'], prefix: 'Hub_' });
    expect(j.matched).toBe(1);
    expect(j.addedColumns).toEqual(['Hub_moa']);
    expect(getMeta(j.profiles, 'Hub_moa').values).toEqual(['autophagy inhibitor', null]);
    const q = profiles(['Chloroquine ', 'clomiphene']);
    const t2 = table({ name: ['chloroquine', 'CLOMIPHENE'], moa: ['a', 'b'] });
    const k = joinAnnotations(q, t2, { profileKey: 'Metadata_key', tableKey: 'name', keyKind: 'name' });
    expect(k.matched).toBe(2);
    expect(getMeta(k.profiles, 'Metadata_moa').values).toEqual(['a', 'b']);
  });

  it('refuses to overwrite an existing column, and names missing columns', () => {
    const p = profiles(['a']);
    const t = table({ key: ['a'] , Metadata_key: ['z'] });
    expect(() => joinAnnotations(p, t, { profileKey: 'Metadata_key', tableKey: 'key', keyKind: 'name' })).toThrow(InputError);
    expect(() => joinAnnotations(p, t, { profileKey: 'nope', tableKey: 'key', keyKind: 'name' })).toThrow(/no metadata column "nope"/);
    expect(() => joinAnnotations(p, t, { profileKey: 'Metadata_key', tableKey: 'nope', keyKind: 'name' })).toThrow(/t\.tsv: no column "nope"/);
  });

  it('readTable reads every column as text', async () => {
    const dir = tempDir();
    const t = await readTable(tempFile(dir, 'a.csv', 'id,dose,"Name [x]"\n007,1.50,"a, b"\n8,,c\n'));
    expect(t.columns).toEqual(['id', 'dose', 'Name [x]']);
    expect(t.rows).toBe(2);
    expect(t.values.get('id')).toEqual(['007', '8']);
    expect(t.values.get('dose')).toEqual(['1.50', null]);
    expect(t.values.get('Name [x]')).toEqual(['a, b', 'c']);
  });
});
