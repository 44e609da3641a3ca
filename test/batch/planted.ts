/**
 * Small planted data sets for the batch tests: rows of a few classes and negative controls spread
 * over batches, each batch adding its own per-feature shift and scale to the biology.
 */
import { zeros, type Matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/rng.js';
import type { Profiles } from '../../src/io/profiles.js';

export interface Planted {
  X: Matrix;
  batch: string[];
  isControl: Uint8Array;
  label: (string | null)[];
  compound: string[];
}

export function planted(opts: { batches?: number; perBatch?: number; features?: number; controls?: number; classes?: number; shift?: number; seed?: number } = {}): Planted {
  const B = opts.batches ?? 3, per = opts.perBatch ?? 40, d = opts.features ?? 10, nc = opts.controls ?? 12, K = opts.classes ?? 4;
  const shiftSize = opts.shift ?? 2;
  const rng = new Rng(opts.seed ?? 1);
  const classMean = Array.from({ length: K }, () => Float64Array.from({ length: d }, () => 2 * rng.normal()));
  const n = B * per;
  const X = zeros(n, d);
  const batch: string[] = [], label: (string | null)[] = [], compound: string[] = [];
  const isControl = new Uint8Array(n);
  for (let b = 0; b < B; b++) {
    const shift = Float64Array.from({ length: d }, () => shiftSize * rng.normal());
    const scale = Float64Array.from({ length: d }, () => Math.exp(0.3 * rng.normal()));
    for (let t = 0; t < per; t++) {
      const i = b * per + t;
      const ctl = t < nc;
      const k = ctl ? -1 : t % K;
      for (let j = 0; j < d; j++) {
        const bio = k >= 0 ? classMean[k]![j]! : 0;
        X.data[i * d + j] = shift[j]! + scale[j]! * (bio + rng.normal());
      }
      batch.push(`B${b + 1}`);
      isControl[i] = ctl ? 1 : 0;
      label.push(ctl ? 'DMSO' : `class${k}`);
      compound.push(ctl ? 'DMSO' : `c${k}_${b}`);
    }
  }
  return { X, batch, isControl, label, compound };
}

/** The planted set as a profile table (MoA, compound and batch columns), as evaluate's tests read it. */
export function plantedProfiles(): Profiles {
  const P = planted({ batches: 3, perBatch: 30, features: 6, controls: 8, classes: 3, seed: 5 });
  return {
    features: Array.from({ length: P.X.cols }, (_, j) => `f${j}`), X: P.X, source: 'planted',
    meta: [
      { name: 'Metadata_moa', kind: 'string', values: P.label },
      { name: 'Metadata_compound', kind: 'string', values: P.compound },
      { name: 'Metadata_batch', kind: 'string', values: P.batch },
    ],
  };
}
