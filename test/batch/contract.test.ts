/**
 * The contract every batch correction passes (style.md "a shared contract"): options checked at
 * the door, data checks with actionable messages, transform-before-fit impossible, fitTransform =
 * fit then apply where the method promises it, same seed → same output, per-batch partials that
 * merge into the whole, and models that survive a save and load.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORRECTIONS, CORRECTION_NAMES, correctionByName, type CorrectionInput } from '../../src/batch/registry.js';
import { mergeBatchMoments } from '../../src/batch/moments.js';
import { correctProfiles } from '../../src/batch/profiles.js';
import { loadModel, saveModel } from '../../src/batch/persist.js';
import { takeCols, takeRows, type Matrix } from '../../src/linalg/matrix.js';
import { InputError, UsageError } from '../../src/util/errors.js';
import type { Profiles } from '../../src/io/profiles.js';
import { planted } from './planted.js';

const P = planted();
const input = (over: Partial<CorrectionInput> = {}): CorrectionInput => ({ X: P.X, batch: P.batch, isControl: P.isControl, ...over });
// Small data: Harmony with 4 clusters so that each has rows from every batch.
const OPTS: Record<string, Record<string, unknown>> = { sphere: {}, combat: {}, harmony: { nClusters: 4, nComponents: 5 } };

function maxDiff(a: Matrix, b: Matrix): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

describe.each(CORRECTION_NAMES)('batch correction contract: %s', (name) => {
  const c = correctionByName(name);
  const opts = OPTS[name]!;

  it('rejects unknown options and out-of-range values with a UsageError naming the option', () => {
    expect(() => c.fitTransform(input(), { ...opts, bogus: 1 })).toThrow(UsageError);
    expect(() => c.fitTransform(input(), { ...opts, bogus: 1 })).toThrow(/unknown option "bogus"/);
    const [key, con] = Object.entries(c.constraints as Record<string, { kind: string }>).find(([, v]) => v.kind === 'number')!;
    expect(() => c.fitTransform(input(), { ...opts, [key]: -1.5 })).toThrow(new RegExp(`${name}: ${key} must be`));
    expect(con.kind).toBe('number');
  });

  it('a model is needed before apply (compile-time) and its feature count is checked', () => {
    const { model } = c.fitTransform(input(), opts);
    // @ts-expect-error apply takes a fitted model; there is no model-less transform
    expect(() => c.apply(undefined, input())).toThrow();
    const fewer = takeCols(P.X, [0, 1, 2]);
    expect(() => c.apply(model, input({ X: fewer }))).toThrow(InputError);
    expect(() => c.apply(model, input({ X: fewer }))).toThrow(/3 features, the model was fitted on 10/);
  });

  it('refuses rows of an unseen batch unless asked to estimate it', () => {
    const { model } = c.fitTransform(input(), opts);
    const renamed = P.batch.map((b) => (b === 'B2' ? 'B9' : b));
    expect(() => c.apply(model, input({ batch: renamed }))).toThrow(/"B9" .*was not in the fit/);
    const mapped = c.apply(model, input({ batch: renamed }), { unseen: 'estimate' });
    expect(mapped.data.every(Number.isFinite)).toBe(true);
  });

  it(c.applyReproducesFit ? 'fitTransform equals fit then apply' : 'apply is a mapping, documented as different from fitTransform', () => {
    const { model, corrected } = c.fitTransform(input(), opts);
    const again = c.apply(model, input());
    if (c.applyReproducesFit) expect(maxDiff(corrected, again)).toBeLessThan(1e-12);
    else expect(maxDiff(corrected, again)).toBeGreaterThan(1e-9);
  });

  it('same options and seed give bit-identical output', () => {
    const a = c.fitTransform(input(), opts).corrected;
    const b = c.fitTransform(input(), opts).corrected;
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
  });

  it('bad input: one batch, a batch of one row, an empty batch value, a NaN — each a clear InputError', () => {
    expect(() => c.fitTransform(input({ batch: P.batch.map(() => 'P1') }), opts)).toThrow(/single value \("P1"\).*nothing to correct across/);
    const lonely = P.batch.slice();
    lonely[P.isControl.indexOf(1)] = 'B_alone';
    expect(() => c.fitTransform(input({ batch: lonely }), opts)).toThrow(/"B_alone" \(1\)|"B_alone" .*has fewer than 2/);
    const holes: (string | null)[] = P.batch.slice();
    holes[5] = null;
    expect(() => c.fitTransform(input({ batch: holes }), opts)).toThrow(/empty in 1 row\(s\) \(row 6\)/);
    const X = { ...P.X, data: P.X.data.slice() };
    X.data[7 * 10 + 3] = NaN;
    expect(() => c.fitTransform(input({ X }), opts)).toThrow(/missing or infinite value in feature #4 \(row 8\)/);
    if (c.needsControls) {
      const ctl = P.isControl.slice();
      for (let i = 0; i < ctl.length; i++) if (P.batch[i] === 'B3') ctl[i] = 0;
      expect(() => c.fitTransform(input({ isControl: ctl }), opts)).toThrow(/batch "B3" of column "batch" has no control rows/);
    }
  });

  it('the model survives saveModel / loadModel', () => {
    const { model } = c.fitTransform(input(), opts);
    const dir = mkdtempSync(join(tmpdir(), 'phenomap-batch-model-'));
    try {
      saveModel(join(dir, `${name}.json`), model);
      const back = loadModel<typeof model>(join(dir, `${name}.json`));
      expect(maxDiff(c.apply(model, input()), c.apply(back, input()))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  if (c.partial) {
    it('per-batch statistics of two partials merge into the whole (either order, to 1e-12)', () => {
      // Split every batch across two "plates", and leave batch B3 out of the second one.
      const a: number[] = [], b: number[] = [];
      P.batch.forEach((bt, i) => ((i % 3 === 0 && bt !== 'B3') ? b : a).push(i));
      const part = (rows: number[]) => c.partial!.statistics({
        X: takeRows(P.X, rows), batch: rows.map((i) => P.batch[i]!), isControl: Uint8Array.from(rows, (i) => P.isControl[i]!),
      });
      const whole = c.fitTransform(input(), opts).corrected;
      for (const merged of [mergeBatchMoments(part(a), part(b)), mergeBatchMoments(part(b), part(a))]) {
        const model = c.partial!.fit(merged, opts);
        expect(maxDiff(c.apply(model, input()), whole)).toBeLessThan(1e-12);
      }
    });
  }
});

describe('correctProfiles (the library call behind --correct)', () => {
  const profiles: Profiles = {
    features: Array.from({ length: 10 }, (_, j) => `f${j}`),
    X: P.X,
    meta: [
      { name: 'Metadata_batch', kind: 'string', values: P.batch },
      { name: 'Metadata_compound', kind: 'string', values: P.compound },
    ],
    source: 'planted.csv',
  };

  it('names the missing batch column and lists what exists', () => {
    expect(() => correctProfiles(profiles, { method: 'combat', batchCol: 'Metadata_plate' })).toThrow(
      /planted.csv: batch column "Metadata_plate" not found; give --batch-col one of the metadata columns \(Metadata_batch, Metadata_compound\)/,
    );
  });

  it('sphering without controls is a usage error; with a control column it corrects every row and reports per batch', () => {
    expect(() => correctProfiles(profiles, { method: 'sphere', batchCol: 'Metadata_batch' })).toThrow(UsageError);
    const r = correctProfiles(profiles, { method: 'sphere', batchCol: 'Metadata_batch', controls: { column: 'Metadata_compound', values: ['dmso'] } });
    expect(r.profiles.X.rows).toBe(120);
    expect(r.report.batches).toEqual([
      { batch: 'B1', rows: 40, controls: 12 }, { batch: 'B2', rows: 40, controls: 12 }, { batch: 'B3', rows: 40, controls: 12 },
    ]);
    expect(r.profiles.meta).toBe(profiles.meta);
  });

  it('fitRows: the fitted rows keep their fitted correction, the others are placed (a held-out batch is estimated)', () => {
    const fitRows = Int32Array.from({ length: 80 }, (_, i) => i); // batches B1, B2
    for (const method of ['combat', 'sphere', 'harmony'] as const) {
      const r = correctProfiles(profiles, {
        method, batchCol: 'Metadata_batch', controls: { column: 'Metadata_compound', values: ['DMSO'] }, fitRows, options: OPTS[method],
      });
      const sub = correctProfiles({ ...profiles, X: takeRows(P.X, fitRows), meta: profiles.meta.map((m) => ({ ...m, values: (m.values as string[]).slice(0, 80) })) as Profiles['meta'] }, {
        method, batchCol: 'Metadata_batch', controls: { column: 'Metadata_compound', values: ['DMSO'] }, options: OPTS[method],
      });
      expect(maxDiff(takeRows(r.profiles.X, fitRows), sub.profiles.X)).toBeLessThan(1e-12);
      expect(r.profiles.X.data.every(Number.isFinite)).toBe(true);
    }
  });
});

it('rows outside fitRows never influence the fitted rows (what leave-batch-out relies on)', () => {
  const profiles: Profiles = {
    features: Array.from({ length: 10 }, (_, j) => `f${j}`), X: P.X,
    meta: [{ name: 'b', kind: 'string', values: P.batch }, { name: 'c', kind: 'string', values: P.compound }],
  };
  const fitRows = Int32Array.from({ length: 80 }, (_, i) => i);
  const X2 = { ...P.X, data: P.X.data.slice() };
  for (let t = 80 * 10; t < X2.data.length; t++) X2.data[t] = X2.data[t]! * 3 + 1; // batch B3 changed
  for (const method of CORRECTION_NAMES) {
    const run = (X: Matrix) => correctProfiles({ ...profiles, X }, {
      method, batchCol: 'b', controls: { column: 'c', values: ['DMSO'] }, fitRows, options: OPTS[method],
    }).profiles.X;
    const a = run(P.X), b = run(X2);
    expect(Buffer.from(a.data.buffer, 0, 80 * 10 * 8).equals(Buffer.from(b.data.buffer, 0, 80 * 10 * 8))).toBe(true);
  }
});

it('fitRows: the other rows are placed as placing the whole table places them, bit for bit (seen and unseen batches)', () => {
  const profiles: Profiles = {
    features: Array.from({ length: 10 }, (_, j) => `f${j}`), X: P.X,
    meta: [{ name: 'b', kind: 'string', values: P.batch }, { name: 'c', kind: 'string', values: P.compound }],
  };
  const isCtl = Uint8Array.from(P.compound, (x) => (x === 'DMSO' ? 1 : 0));
  // Rows 0-79 (batches B1, B2) less every fifth row: some placed rows are of fitted batches, all of B3 is unseen.
  const fitRows = Int32Array.from({ length: 80 }, (_, i) => i).filter((i) => i % 5 !== 2);
  for (const method of CORRECTION_NAMES) {
    const c = correctionByName(method);
    const r = correctProfiles(profiles, { method, batchCol: 'b', controls: isCtl, fitRows, options: OPTS[method] });
    const fitted = c.fitTransform({ X: takeRows(P.X, fitRows), batch: Array.from(fitRows, (i) => P.batch[i]!), isControl: takeIdx(isCtl, fitRows) }, OPTS[method]);
    const whole = c.apply(fitted.model, { X: P.X, batch: P.batch, isControl: isCtl }, { unseen: 'estimate' });
    const inFit = new Set(fitRows);
    const d = whole.cols;
    for (let i = 0; i < P.X.rows; i++) {
      const got = r.profiles.X.data.subarray(i * d, (i + 1) * d);
      const want = inFit.has(i) ? fitted.corrected.data.subarray(fitRows.indexOf(i) * d, (fitRows.indexOf(i) + 1) * d) : whole.data.subarray(i * d, (i + 1) * d);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  }
});

function takeIdx(a: Uint8Array, idx: Int32Array): Uint8Array {
  return Uint8Array.from(idx, (i) => a[i]!);
}

it('the registry is the one list of names', () => {
  expect(CORRECTION_NAMES).toEqual(['sphere', 'combat', 'harmony']);
  for (const n of CORRECTION_NAMES) expect(CORRECTIONS[n].name).toBe(n);
});
