/** Arrays asked to be backed by 2 MiB pages: whole pages from an aligned start, contents as a plain array's. */
import { describe, expect, it } from 'vitest';
import { hugeAlignedFloat64, native, nativeAvailable } from '../../src/linalg/native.js';

const MiB2 = 1 << 21;

describe.skipIf(!nativeAvailable || process.env.PHENOMAP_NO_NATIVE === '1')('hugeAlignedFloat64', () => {
  it.each([[50 * 5792], [65536], [400000], [1 << 19]])('%i doubles: zeroed, writable, whole 2 MiB pages inside the buffer from its first boundary', (length) => {
    const a = hugeAlignedFloat64(length);
    expect(a.length).toBe(length);
    expect(a.every((v) => v === 0)).toBe(true);
    a[length - 1] = 3;
    expect(a[length - 1]).toBe(3);
    // The first 2 MiB boundary of the buffer, as the addon reports it for the whole buffer.
    const at = native()!.adviseHuge(new Float64Array(a.buffer));
    expect(a.byteOffset).toBe((at as number) * 8);
    const pages = Math.ceil((length * 8) / MiB2);
    expect(a.buffer.byteLength).toBeGreaterThanOrEqual(a.byteOffset + pages * MiB2);
  });

  it('unzeroed: the same placement, every entry writable', () => {
    const length = 50 * 5792;
    const a = hugeAlignedFloat64(length, { zeroed: false });
    expect(a.length).toBe(length);
    expect(a.byteOffset).toBe((native()!.adviseHuge(new Float64Array(a.buffer)) as number) * 8);
    expect(a.buffer.byteLength).toBeGreaterThanOrEqual(a.byteOffset + 2 * MiB2);
    a.fill(1.5);
    expect(a.every((v) => v === 1.5)).toBe(true);
  });

  it('small or large requests are plain arrays', () => {
    expect(hugeAlignedFloat64(1000).byteOffset).toBe(0);
    expect(hugeAlignedFloat64((1 << 19) + 1).byteOffset).toBe(0);
  });
});
