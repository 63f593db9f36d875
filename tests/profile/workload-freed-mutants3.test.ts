// Mutation test (round 3) for profilePlan's liveness check inside its timed loop (src/profile/profiler.ts): a
// plan freed between two timed repeats (the `between` hook destroys the workload) is a DisposedError naming
// profilePlan. The existing case frees the plan before the warmup, which plan.run refuses; without the check in
// the loop, the next timed submit bound destroyed buffers (WebGPU's "used in submit while destroyed").
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { DisposedError } from '../../src/gpu/serial.js';
import { profilePlan } from '../../src/profile/profiler.js';
import { gemmWorkload } from '../../src/profile/workloads.js';

describe.skipIf(!hasGpu)('a plan freed between timed repeats', () => {
  for (const forceWallClock of [false, true]) {
    it(`forceWallClock ${forceWallClock}: DisposedError naming profilePlan at the next repeat`, async () => {
      const w = gemmWorkload(gpu!, { m: 16, k: 16, n: 16, dtype: 'f32' });
      let betweens = 0;
      const e = await profilePlan(w.plan, { repeats: 3, forceWallClock, between: async () => { betweens++; w.destroy(); } }).then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(DisposedError);
      expect((e as Error).message).toMatch(/^profile.*was freed/);
      expect(betweens).toBe(1);
    });
  }
});
