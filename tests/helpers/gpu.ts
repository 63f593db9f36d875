// Shared GPU test fixture: one Dawn device per test process. vitest.config.ts runs the unit files
// without isolation (isolate: false), so the files one worker runs share this module, the device and
// its compiled pipelines (each file used to make its own device and translate its kernels again);
// the integration files each get a process, so a device, of their own. Never destroyed here: an
// afterAll in this module would be registered by the first file that imports it only, and would
// leave the files after it a destroyed device; the process's end frees it. Files that break a device
// on purpose (tests/hardening/device.test.ts, tests/lifecycle/) acquire their own.
// GPU tests skip loudly (not silently pass) when no adapter exists; CI always has one.
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
