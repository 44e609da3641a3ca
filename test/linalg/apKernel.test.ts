/**
 * The wasm and native affinity-propagation passes (src/linalg/apKernel.ts) against the pure-JS
 * fused pass they mirror: R, A, E, the run-length counters and K must agree entry for entry after every pass
 * (compared with ===, i.e. up to the sign of exact zeros, which no comparison or sum can see), on
 * odd and even n, with exact ties in A + S (integer similarities, no noise) so maxima tied across
 * SIMD lanes occur (then y2 = y1 and every column gets the same update, so which tied index is the
 * argmax cannot show; the merged y1, y2 must still be exact), with the two-thread split (dynamic
 * and forced; wasm worker or the addon's POSIX thread) and the wasm private and streamed modes (S
 * in blocks of 3 rows, a partial last block).
 */
import { describe, it, expect } from 'vitest';
import { apWorkspace } from '../../src/linalg/apKernel.js';
import { fusedPass } from '../../src/cluster/affinityPropagation.js';
import { wasm } from '../../src/linalg/wasm/runtime.js';
import { native } from '../../src/linalg/native.js';
import { Rng } from '../../src/linalg/rng.js';

function similarity(n: number, seed: number, ties: boolean): Float64Array {
  const rng = new Rng(seed);
  const S = new Float64Array(n * n);
  for (let i = 0; i < S.length; i++) S[i] = ties ? -rng.int(4) : -Math.abs(rng.normal()) * 10;
  for (let i = 0; i < n; i++) S[i * n + i] = ties ? -2 : -5;
  return S;
}

function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const modes = [
  ...(wasm ? ([[1, 'resident'], [2, 'resident'], [2, 'split'], [1, 'private'], [1, 'streamed']] as const) : []),
  ...(native() ? ([[1, 'native'], [2, 'native'], [2, 'native-split']] as const) : []),
];
if (!native()) console.warn('[skip] native AP pass: the native kernels are not built or are disabled');

describe.skipIf(modes.length === 0)('wasm and native AP passes = JS fusedPass', () => {
  const cases: [number, boolean, number, string][] = [];
  for (const n of [2, 3, 5, 8, 9, 33, 64, 101, 131])
    for (const ties of [false, true])
      for (const [threads, mode] of modes)
        cases.push([n, ties, threads, mode]);
  it.each(cases)('n = %i, ties %s, %i thread(s), %s', (n, ties, threads, mode) => {
    const damping = ties ? 0.5 : 0.7;
    const S0 = similarity(n, n * 7 + (ties ? 1 : 0), ties);
    // streamed: blocks of 3 rows (and a partial last block) through the wasm buffer
    // split: the calling thread stops after 1/3 of the row chunks, so the worker's rows and the
    // column-sum phase over them always run (otherwise timing decides who takes which chunk)
    const split = mode === 'split' || mode === 'native-split';
    const ws = apWorkspace(n, {
      threads,
      mode: mode === 'split' ? 'resident' : mode === 'native-split' ? 'native' : (mode as 'native' | 'resident' | 'private' | 'streamed'),
      blockRows: 3,
      maxMainChunks: split ? Math.floor(Math.ceil(n / Math.ceil(n / 64)) / 3) : undefined,
    })!;
    if (split && n >= 8) expect(ws.threads).toBe(2);
    expect(ws).not.toBeNull();
    ws.S.set(S0);
    ws.reset();
    const S = S0.slice(), R = new Float64Array(n * n), A = new Float64Array(n * n);
    let cs = new Float64Array(n), ncs = new Float64Array(n);
    const E = new Uint8Array(n), run = new Int32Array(n);
    const d = damping, omd = 1 - damping;
    const schedule: [boolean, boolean][] = [[false, true]];
    for (let t = 0; t < 25; t++) schedule.push([true, true]);
    schedule.push([true, false]);
    let sawTieArgmax = false;
    for (const [doAvail, doResp] of schedule) {
      if (doResp) ncs.fill(0);
      const kJs = fusedPass(S, R, A, cs, ncs, E, run, n, d, omd, doAvail, doResp);
      if (doResp) [cs, ncs] = [ncs, cs];
      const kWasm = ws.pass(doAvail, doResp, damping);
      expect(kWasm).toBe(kJs);
      expect(firstMismatch(ws.R, R)).toBe(-1);
      expect(firstMismatch(ws.A, A)).toBe(-1);
      expect(firstMismatch(ws.E, E)).toBe(-1);
      expect(firstMismatch(ws.run, run)).toBe(-1);
      expect(firstMismatch(ws.S, S0)).toBe(-1); // S is restored after the diagonal trick
      if (ties && !sawTieArgmax) {
        for (let i = 0; i < n && !sawTieArgmax; i++) {
          let best = -Infinity, count = 0;
          for (let j = 0; j < n; j++) {
            const v = A[i * n + j]! + S[i * n + j]!;
            if (v > best) [best, count] = [v, 1];
            else if (v === best) count++;
          }
          sawTieArgmax = count > 1;
        }
      }
    }
    if (ties && n > 3) expect(sawTieArgmax).toBe(true);
  });

  it.skipIf(!wasm)('resident beyond the wasm memory cap: null (auto mode then streams); n < 2: null', () => {
    expect(apWorkspace(20000, { mode: 'resident' })).toBeNull();
    expect(apWorkspace(1)).toBeNull();
  });
});
