/**
 * linalg/adam.ts: the native Adam step (AVX-512, AVX2 or scalar C) equals its JavaScript twin bit
 * for bit — moments and weights, over lengths that leave every vector tail, with zero, tiny, huge
 * and negative gradients, and with and without weight decay — and a hand-checked step.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { adamStep, adamStepJs } from '../../src/linalg/adam.js';
import { nativeAvailable, useNative } from '../../src/linalg/native.js';
import { LENGTHS, run } from './adamCases.js';

describe('adamStep', () => {
  it('one step by hand', () => {
    const w = Float64Array.of(1), g = Float64Array.of(0.5), m = Float64Array.of(0), v = Float64Array.of(0);
    adamStepJs(w, g, m, v, 0.1, 0.01, 0.9, 0.999, 1e-8);
    expect(m[0]).toBe(0.9 * 0 + (1 - 0.9) * 0.5);
    expect(v[0]).toBe(0.999 * 0 + (1 - 0.999) * 0.5 * 0.5);
    expect(w[0]).toBe(1 - (0.1 * m[0]! / (Math.sqrt(v[0]!) + 1e-8) + 0.01 * 1));
  });
  it('rejects arrays of different lengths', () => {
    expect(() => adamStep(new Float64Array(3), new Float64Array(2), new Float64Array(3), new Float64Array(3), 1, 0, 0.9, 0.999, 1e-8)).toThrow(/lengths differ/);
  });
  it.skipIf(!nativeAvailable)('the native kernel equals the JavaScript twin bit for bit', () => {
    for (const n of LENGTHS) expect(run(n, n, adamStep)).toBe(run(n, n, adamStepJs));
    const was = useNative(false);
    try {
      expect(run(1000, 3, adamStep)).toBe(run(1000, 3, adamStepJs));
    } finally {
      useNative(was);
    }
  });
  it.skipIf(!nativeAvailable)('so does the AVX2 / scalar C kernel (PHENOMAP_NO_AVX512=1, in a child process)', () => {
    const src = fileURLToPath(new URL('./adam.test.ts', import.meta.url));
    const script = `import { adamStep } from ${JSON.stringify(fileURLToPath(new URL('../../src/linalg/adam.ts', import.meta.url)))};
      import { linalgBackend } from ${JSON.stringify(fileURLToPath(new URL('../../src/linalg/index.ts', import.meta.url)))};
      import { LENGTHS, run } from ${JSON.stringify(fileURLToPath(new URL('./adamCases.ts', import.meta.url)))};
      console.log(JSON.stringify({ simd: linalgBackend().simd, out: LENGTHS.map((n) => run(n, n, adamStep)) }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 26, env: { ...process.env, PHENOMAP_NO_AVX512: '1' },
    });
    expect(r.status, `${src}: ${r.stderr}`).toBe(0);
    const { simd, out } = JSON.parse(r.stdout) as { simd: string; out: string[] };
    expect(simd).not.toBe('avx512');
    LENGTHS.forEach((n, i) => expect(out[i]).toBe(run(n, n, adamStepJs)));
  });
});
