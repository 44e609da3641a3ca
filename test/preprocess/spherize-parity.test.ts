/**
 * Sphering against pycytominer's Spherize (issue 21, part 9): PCA, ZCA, PCA-cor, ZCA-cor with
 * ε = 1e-6 and 0.1, on full-rank, rank-deficient (fewer reference rows than features; a dependent
 * feature) and badly scaled references (features over ten orders of magnitude, where a rank from
 * the Gram matrix is wrong). Fixture: test/fixtures/pycytominer/make_spherize.py (pycytominer
 * db0c469c fitted on the centred reference rows — the centred form; see src/preprocess/spherize.ts).
 *
 * PCA components are compared up to their sign (pycytominer keeps LAPACK's signs, phenomap
 * scikit-learn's svd_flip); on the directions a rank-deficient reference does not span, where
 * pycytominer's PCA basis is LAPACK's arbitrary completion, what is compared is basis-free: the
 * reference rows are 0 there and every query row has the same length there.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { applySpherize, fitSpherize, type SpherizeMethod } from '../../src/preprocess/spherize.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { recordParity } from '../helpers/parity.js';

interface Fit {
  method: SpherizeMethod;
  epsilon: number;
  reference_out: number[][];
  query_out: number[][];
}
interface Case {
  name: string;
  reference: number[][];
  query: number[][];
  rank: number;
  fits: Fit[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/pycytominer/spherize.json', import.meta.url), 'utf8')) as { cases: Case[] };
const mat = (rows: number[][]): Matrix => ({ rows: rows.length, cols: rows[0]!.length, data: Float64Array.from(rows.flat()) });

/** Largest |a − b| / max(1, |b|) over rows × the given columns, with column c of `ours` multiplied by sign[c]. */
function worstScaled(ours: Matrix, theirs: number[][], cols: number[], sign: number[]): number {
  let w = 0;
  theirs.forEach((row, i) => {
    for (const c of cols) w = Math.max(w, Math.abs(sign[c]! * ours.data[i * ours.cols + c]! - row[c]!) / Math.max(1, Math.abs(row[c]!)));
  });
  return w;
}

describe('spherize equals pycytominer Spherize (centred form)', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: numpy's rank, and every method and ε`, () => {
      const R = mat(c.reference), Q = mat(c.query);
      const d = R.cols, n = R.rows;
      // The bound follows the conditioning. Badly scaled features: singular values near ε carry
      // LAPACK's (and our) absolute error of ε_mach·s_max, amplified by 1/(s + ε). A dependent
      // feature with n > d: its direction keeps a singular value of ~1e-15 (+ ε = 1e-6), so the
      // rounding noise of the query rows there is multiplied by √(n−1)/ε ≈ 6e6 on both sides.
      const tol = c.name.startsWith('features over') ? 1e-3 : c.name.startsWith('tall with') ? 1e-6 : 1e-8;
      let worst = 0;
      for (const f of c.fits) {
        const model = fitSpherize(R, { method: f.method, epsilon: f.epsilon });
        expect(model.rank, `${f.method}: rank`).toBe(c.rank);
        const outR = applySpherize(model, { rows: f.reference_out.length, cols: d, data: R.data.slice(0, f.reference_out.length * d) });
        const outQ = applySpherize(model, Q);
        const pca = f.method.startsWith('PCA');
        // Directions the reference spans: all of them when n > d, the first `rank` otherwise.
        const spanned = n > d ? d : c.rank;
        const cols = Array.from({ length: spanned }, (_, j) => j);
        const sign = Array.from({ length: d }, (_, j) => {
          if (!pca) return 1;
          let dot = 0;
          f.query_out.forEach((row, i) => (dot += row[j]! * outQ.data[i * d + j]!));
          return dot < 0 ? -1 : 1;
        });
        const w = Math.max(worstScaled(outQ, f.query_out, cols, sign), worstScaled(outR, f.reference_out, cols, sign));
        expect(w, `${f.method} ε=${f.epsilon}`).toBeLessThan(tol);
        worst = Math.max(worst, w);
        if (spanned < d) {
          const rest = Array.from({ length: d - spanned }, (_, j) => spanned + j);
          if (pca) {
            // Basis-free on the unspanned directions: reference rows 0, query rows of the same length.
            for (let i = 0; i < f.reference_out.length; i++) for (const j of rest) expect(Math.abs(outR.data[i * d + j]!)).toBeLessThan(1e-6);
            f.query_out.forEach((row, i) => {
              const theirs = Math.hypot(...rest.map((j) => row[j]!)), ours = Math.hypot(...rest.map((j) => outQ.data[i * d + j]!));
              expect(Math.abs(ours - theirs) / Math.max(1, theirs)).toBeLessThan(tol);
            });
          } else {
            const w2 = Math.max(worstScaled(outQ, f.query_out, rest, sign), worstScaled(outR, f.reference_out, rest, sign));
            expect(w2, `${f.method} ε=${f.epsilon}, unspanned directions`).toBeLessThan(tol);
            worst = Math.max(worst, w2);
          }
        }
      }
      recordParity({ what: `spherize ${c.name}`, kind: 'scaled', max: worst, n: c.fits.length * (c.query.length + 6) * c.reference[0]!.length });
    });
  }

  it('PCA signs follow svd_flip: each component\'s largest loading is positive', () => {
    const c = fixture.cases[0]!;
    const model = fitSpherize(mat(c.reference), { method: 'PCA' });
    const { rows: d, data } = model.W;
    for (let j = 0; j < d; j++) {
      let big = 0;
      for (let i = 0; i < d; i++) if (Math.abs(data[i * d + j]!) > Math.abs(big)) big = data[i * d + j]!;
      expect(big).toBeGreaterThan(0);
    }
  });
});
