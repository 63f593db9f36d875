// Shared GPU test fixture: one Dawn device per test file, destroyed afterwards.
// GPU tests skip loudly (not silently pass) when no adapter exists; CI always has one.
import { afterAll } from 'vitest';
import '../../src/gpu/node.js';
import { acquireGpu, type Gpu } from '../../src/gpu/device.js';
import { Allocator, readTensor, type DType, type Tensor } from '../../src/gpu/tensor.js';
import { Plan } from '../../src/gpu/plan.js';

let gpuPromise: Promise<Gpu | null> | null = null;

export function testGpu(): Promise<Gpu | null> {
  if (!gpuPromise) {
    gpuPromise = acquireGpu().catch((e) => {
      if (process.env.CI) throw e; // CI must have an adapter: never skip there
      console.warn(`\n*** NO WEBGPU ADAPTER — GPU tests are SKIPPED: ${(e as Error).message}\n`);
      return null;
    });
  }
  return gpuPromise;
}

/** Resolved at module load (top-level await in test files): null when no adapter. */
export const gpu: Gpu | null = await testGpu();
export const hasGpu = gpu !== null;
export const dtypes: DType[] = gpu?.f16 ? ['f32', 'f16'] : ['f32'];

afterAll(() => {
  gpu?.destroy();
});

/** Record with `fn` into a fresh plan, run it, read back `out()`, free everything. */
export async function runOnce(fn: (plan: Plan, alloc: Allocator) => Tensor, where = 'test'): Promise<Float32Array> {
  if (!gpu) throw new Error('no GPU');
  const alloc = new Allocator(gpu);
  try {
    const plan = new Plan(gpu, alloc);
    const out = fn(plan, alloc);
    await plan.run(where);
    return await readTensor(gpu, out);
  } finally {
    alloc.destroyAll();
  }
}
