/** An addon left from an older build is recognised (and then not used) instead of failing mid-run. */
import { describe, expect, it } from 'vitest';
import { staleAddon } from '../../src/linalg/native.js';

describe('native addon version', () => {
  it('names the entry points an older build lacks; a complete one passes', () => {
    const fn = () => 0;
    const complete = Object.fromEntries(
      ['nt', 'ntF32', 'sqdist', 'colMoments', 'colMeanM2', 'colStandardize', 'centerRows', 'inverseVectors', 'tql', 'houseApply', 'apPass',
        'fillNormal', 'logInPlace', 'subsetStats', 'simd', 'candDistances', 'sparseApPass', 'adviseHuge', 'softAssignRows', 'expInPlace', 'addRowMasses', 'adamStep', 'lowerInverse'].map((k) => [k, fn]),
    );
    expect(staleAddon(complete)).toBeNull();
    const { sparseApPass: _a, candDistances: _b, ...old } = complete;
    const why = staleAddon(old);
    expect(why).toMatch(/lacks candDistances, sparseApPass/);
    expect(why).toMatch(/npm run build:native/);
    // A build from before the float32 products (PCA's range finder) is stale too.
    const { ntF32: _c, ...beforeF32 } = complete;
    expect(staleAddon(beforeF32)).toMatch(/lacks ntF32/);
    // So is one from before the one-pass column moments (and the root-free QL that came with them:
    // an older tql would give other eigenvalue bits than the JavaScript twin).
    const { colMeanM2: _d, ...beforeWelford } = complete;
    expect(staleAddon(beforeWelford)).toMatch(/lacks colMeanM2/);
    // And one from before the native Adam step (the contrastive MLP's optimiser).
    const { adamStep: _e, ...beforeAdam } = complete;
    expect(staleAddon(beforeAdam)).toMatch(/lacks adamStep/);
  });
});
