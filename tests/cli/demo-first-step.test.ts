// The demo's transformer line: how much longer the first denoising step took than a later one. Its
// "compiling kernels" figure is pipeline creation only; on a CPU driver (lavapipe) most of a first
// run is each shader's compile at its first dispatch, inside the first step (a fresh user's report:
// "87.30 s without compiling kernels 1.72 s" of an 89 s run that was mostly that).
import { describe, expect, it } from 'vitest';
import { firstStepExcess } from '../../src/cli/cmd-demo.js';

describe('firstStepExcess: the first step minus the median of the later ones', () => {
  it('odd and even counts of later steps; never below 0', () => {
    // steps of 10, 2, 3, 4 (ms): median of 2, 3, 4 is 3
    expect(firstStepExcess([0, 10, 12, 15, 19], 4)).toBe(7);
    // steps of 10, 2, 4 (ms): median of 2, 4 is 3
    expect(firstStepExcess([100, 110, 112, 116], 3)).toBe(7);
    // one later step; a first step faster than it is an excess of 0
    expect(firstStepExcess([0, 5, 15], 2)).toBe(0);
  });
  it('undefined with one step, or a step not timed', () => {
    expect(firstStepExcess([0, 10], 1)).toBeUndefined();
    expect(firstStepExcess([0, 10, undefined, 15], 3)).toBeUndefined();
  });
});
