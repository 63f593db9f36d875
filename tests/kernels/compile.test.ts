// Every declared variant of every kernel compiles on this device with no error message:
// each valid flag combination with default knobs, plus each override value one at a time.
// Catches the variant nobody runs. Variants needing a missing feature (shader-f16, subgroups)
// are skipped only when the adapter lacks it.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { compileCheck, declaredVariants, kernelRegistry, variantKey, variantUsable } from '../../src/gpu/kernel.js';
import '../../src/ops/all.js';
import '../../src/profile/ceiling.js';

describe.skipIf(!hasGpu)('every declared kernel variant compiles', () => {
  it('the registry holds every kernel family', () => {
    for (const k of ['norm', 'gemm_tiled', 'gemm_subgroup', 'gemm_gemv', 'attention', 'patchify', 'rope', 'timestep', 'elementwise', 'adaln']) expect(kernelRegistry.has(k), k).toBe(true);
  });
  for (const spec of kernelRegistry.values()) {
    it(`${spec.name}`, async () => {
      let usable = declaredVariants(spec).filter((v) => variantUsable(gpu!, spec, v));
      // Kernels of a family with several files (gemm_tiled/_subgroup/_gemv) share their flags'
      // code (a common prelude): each compiles every variant with at most two flags on and every
      // one with five or more, not all 2^flags (each variant costs seconds of lavapipe compile).
      if (spec.family && spec.family !== spec.name) {
        const on = (v: (typeof usable)[number]) => Object.values(v.flags).filter(Boolean).length;
        usable = usable.filter((v) => on(v) <= 2 || on(v) >= 5);
      }
      // A kernel that requires a feature the adapter lacks has none (e.g. gemm_subgroup without subgroups).
      if ((spec.requires ?? []).some((f) => (f === 'shader-f16' ? !gpu!.f16 : !gpu!.subgroups))) return;
      expect(usable.length).toBeGreaterThan(0);
      const errors: string[] = [];
      for (const v of usable) {
        const r = await compileCheck(gpu!, spec, v);
        errors.push(...r.errors);
      }
      expect(errors, `${spec.name}: ${usable.length} variants, e.g. ${variantKey(spec, usable[0])}`).toEqual([]);
    }, 900_000);
  }
});
