// Mutation test (round 3) for new Plan's device check (src/gpu/plan.ts, sameDevice in src/gpu/tensor.ts): a Gpu
// whose device is wrapped (a Proxy over the device, as a test harness or the profiler page's edit check makes) is
// the same device as the unwrapped one: a plan on the wrapped Gpu with an Allocator of the plain one is taken and
// runs. A check by object identity refused it ("its Allocator allocates on device …" naming one device twice).
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.js';
import { Plan } from '../../src/gpu/plan.js';
import { Allocator, readTensor } from '../../src/gpu/tensor.js';
import { add } from '../../src/ops/elementwise.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

describe.skipIf(!hasGpu)('a wrapped device is the same device', () => {
  it('new Plan(wrapped gpu, Allocator of the plain gpu): taken, and it runs', async () => {
    const real = gpu!.device;
    const device = new Proxy(real, {
      get(t, k) {
        const v = Reflect.get(t, k, t) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const wrapped = Object.assign(Object.create(gpu!) as Gpu, { device });
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(wrapped, alloc);
      const out = alloc.tensor([4], 'f32', 'out');
      add(plan, { a: alloc.upload([1, 2, 3, 4], [4], 'f32', 'a'), b: alloc.upload([10, 20, 30, 40], [4], 'f32', 'b'), out });
      await plan.run('wrapped device');
      expect(Array.from(await readTensor(wrapped, out))).toEqual([11, 22, 33, 44]);
    } finally {
      alloc.destroyAll();
    }
  });
});
