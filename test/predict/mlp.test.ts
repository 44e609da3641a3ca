import { describe, it, expect } from 'vitest';
import { MultitaskNet } from '../../src/predict/mlp.js';
import { aucRoc } from '../../src/predict/metrics.js';
import { takeRows } from '../../src/linalg/index.js';
import { InputError } from '../../src/util/errors.js';
import { heldOutAucs, plantedSplit, mean } from './planted-logistic.js';

const { data, testRows, Xtr, Xte, Ytr, Yte } = plantedSplit();

describe('MultitaskNet', () => {
  const opts = { hidden: [64, 32], dropout: 0.2, lr: 3e-3, batchSize: 32, maxEpochs: 60, patience: 6, seed: 7 };

  it('learns a planted multitask logistic problem above chance on held-out compounds, with early stopping', () => {
    const net = new MultitaskNet(opts).fit(Xtr, Ytr);
    const P = net.predict(Xte);
    expect(P.rows).toBe(testRows.length);
    expect(P.cols).toBe(12);
    for (const v of P.data) { expect(v).toBeGreaterThan(0); expect(v).toBeLessThan(1); }
    expect(mean(heldOutAucs(P, Yte, aucRoc))).toBeGreaterThan(0.75);
    // Training loss falls; the restored epoch is the best validation epoch.
    const h = net.history;
    expect(h[h.length - 1]!.trainLoss).toBeLessThan(h[0]!.trainLoss);
    const bestVal = Math.min(...h.map((e) => e.valLoss));
    expect(h[net.bestEpoch]!.valLoss).toBe(bestVal);
    expect(h.length).toBeLessThanOrEqual(opts.maxEpochs);
  });

  it('is deterministic for a seed and round-trips through JSON', () => {
    const small = { ...opts, maxEpochs: 4 };
    const a = new MultitaskNet(small).fit(Xtr, Ytr).predict(Xte);
    const netB = new MultitaskNet(small).fit(Xtr, Ytr);
    expect(Array.from(netB.predict(Xte).data)).toEqual(Array.from(a.data));
    const back = MultitaskNet.fromJSON(JSON.parse(JSON.stringify(netB.toJSON())));
    expect(Array.from(back.predict(Xte).data)).toEqual(Array.from(a.data));
    const c = new MultitaskNet({ ...small, seed: 8 }).fit(Xtr, Ytr).predict(Xte);
    expect(Array.from(c.data)).not.toEqual(Array.from(a.data));
  });

  it('rejects mismatched inputs', () => {
    expect(() => new MultitaskNet(opts).fit(takeRows(Xtr, [0, 1]), Ytr)).toThrow(InputError);
    expect(() => new MultitaskNet({ dropout: 1 })).toThrow(RangeError);
  });
});
