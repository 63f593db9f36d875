// Every declared variant of every kernel compiles on this device with no error message:
// each valid flag combination with default knobs, plus each override value one at a time.
// Catches the variant nobody runs. Variants needing a missing feature (shader-f16, subgroups)
// are skipped only when the adapter lacks it.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { compileCheck, declaredVariants, kernelRegistry, variantKey } from '../../src/gpu/kernel.js';
import '../../src/ops/all.js';
import '../../src/profile/ceiling.js';

describe.skipIf(!hasGpu)('every declared kernel variant compiles', () => {
  it('the registry holds every kernel family', () => {
    for (const k of ['norm', 'gemm', 'attention', 'patchify', 'rope', 'timestep', 'elementwise', 'adaln']) expect(kernelRegistry.has(k), k).toBe(true);
  });
  for (const spec of kernelRegistry.values()) {
    it(`${spec.name}`, async () => {
      const usable = declaredVariants(spec).filter((v) =>
        Object.entries(spec.needs ?? {}).every(([flag, feat]) => !v.flags[flag] || (feat === 'shader-f16' ? gpu!.f16 : gpu!.subgroups)),
      );
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
