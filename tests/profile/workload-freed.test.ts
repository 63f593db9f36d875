// A plan whose buffers were freed (a workload's destroy(), a model's maxPlans eviction or dispose()) is
// refused with a DisposedError naming the plan (Plan.checkLive), where a fresh user (/tmp/userF evict.mjs,
// misuse1.mjs, misuse3.mjs) got WebGPU's raw "used in submit while destroyed" validation error.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { DisposedError } from '../../src/gpu/serial.js';
import { getPreset, loadRandomModel } from '../../src/model/presets.js';
import type { ForwardInputs } from '../../src/model/model.js';
import { profilePlan } from '../../src/profile/profiler.js';
import { gemmWorkload } from '../../src/profile/workloads.js';

const rejection = (p: Promise<unknown>): Promise<unknown> => p.then(() => null, (e: unknown) => e);
const FREED = "was freed (its buffers destroyed by dispose(), resetPlans(), maxPlans eviction or the workload's destroy()): record it again (model.planFor(…), a new workload)";

describe.skipIf(!hasGpu)('a freed plan: DisposedError naming it', () => {
  const workload = () => gemmWorkload(gpu!, { m: 64, k: 64, n: 64, dtype: 'f32' });

  it("profilePlan and check() after the workload's destroy()", async () => {
    const w = workload();
    w.destroy();
    for (const forceWallClock of [false, true]) {
      const e = await rejection(profilePlan(w.plan, { repeats: 2, forceWallClock }));
      expect(e).toBeInstanceOf(DisposedError);
      expect((e as Error).message).toBe(`profilePlan: plan "gemm m×k×n 64×64×64 f32" ${FREED}`);
    }
    const e = await rejection(w.check());
    expect(e).toBeInstanceOf(DisposedError);
    expect((e as Error).message).toBe(`gemm m×k×n 64×64×64 f32: plan "gemm m×k×n 64×64×64 f32" ${FREED}`);
  });

  it('destroy() while profilePlan is in flight', async () => {
    const w = workload();
    const p = rejection(profilePlan(w.plan, { repeats: 3 }));
    w.destroy();
    expect(await p).toBeInstanceOf(DisposedError);
  });

  it("a model's plan evicted by maxPlans, and one of a disposed model", async () => {
    const m = await loadRandomModel(getPreset('dit-tiny').config, { gpu: gpu! });
    const inputs = (s: number): ForwardInputs => ({ hidden_states: { data: new Float32Array(4 * s * s).fill(0.1), shape: [1, 4, s, s] }, timestep: [500], class_labels: [1] });
    try {
      m.maxPlans = 1;
      const p16 = m.planFor(inputs(16));
      const p8 = m.planFor(inputs(8)); // evicts p16
      const e = await rejection(profilePlan(p16, { repeats: 1 }));
      expect(e).toBeInstanceOf(DisposedError);
      expect((e as Error).message).toMatch(/^profilePlan: the plan of \d+ dispatches from .+ was freed \(/);
      expect((await profilePlan(p8, { repeats: 1 })).repeats).toBe(1);
      m.dispose();
      await expect(profilePlan(p8, { repeats: 1 })).rejects.toThrow(DisposedError);
    } finally {
      m.dispose();
    }
  });
});
