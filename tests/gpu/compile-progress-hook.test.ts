// Plan.compile's and compilePlans' onProgress is a Hook (src/hook.ts), as compilePipelines' is since commit 66af753,
// not its own `(done, total) => void` (session 18). A hook that throws fails the call naming it, as the contract says,
// without breaking the compilation: at the batch's start nothing is compiled and the plan keeps its variants (the
// next run compiles them as a batch, seen by the watchers); later, the pipelines in flight still land in the cache and
// the watchers still see every event. Types are checked by `npx tsc --noEmit -p .`.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { compilePlans, Plan } from '../../src/gpu/plan.js';
import { defineKernel, kernelCached, watchKernels, type KernelEvent } from '../../src/gpu/kernel.js';
import { setKernelSource } from '../../src/gpu/shader.js';
import { Allocator, readTensor } from '../../src/gpu/tensor.js';
import type { Hook } from '../../src/hook.js';

setKernelSource(
  'test_progress_hook',
  `struct P { n: u32, _a: u32, _b: u32, _c: u32 }
override MUL: f32 = 2.0;
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= p.n) { return; }
  y[g.x] = x[g.x] * MUL;
}
`,
);
const spec = defineKernel({ name: 'test_progress_hook', flags: {}, overrides: { MUL: [2, 3, 5, 7, 11, 13, 17, 19] }, bindings: ['uniform', 'read', 'rw'] });

/** A dispatch y = x · mul over 8 values; returns y. */
function record(plan: Plan, alloc: Allocator, mul: number) {
  const x = alloc.upload(Float32Array.from({ length: 8 }, (_, i) => i), [8], 'f32', 'x');
  const y = alloc.tensor([8], 'f32', 'y');
  plan.record({ spec, variant: { overrides: { MUL: mul } }, uniforms: [['n', 'u32', 8]], buffers: [x, y], workgroups: [1, 1, 1], shapes: 'x[8]', flops: 8, bytes: 64 });
  return y;
}

const cached = (mul: number) => kernelCached(gpu!, spec, { overrides: { MUL: mul } });
const failure = (p: Promise<unknown>) => p.then(() => null, (e: Error) => e);

describe('Plan.compile / compilePlans onProgress', () => {
  it('is Hook<[done, total]>, as compilePipelines takes it', () => {
    expectTypeOf<Parameters<Plan['compile']>[0]>().toEqualTypeOf<Hook<[done: number, total: number]> | null | undefined>();
    expectTypeOf<Parameters<typeof compilePlans>[1]>().toEqualTypeOf<Hook<[done: number, total: number]> | null | undefined>();
  });
});

describe.skipIf(!hasGpu)('a throwing onProgress does not break the compilation', () => {
  it('failing at the start (done 0): the call fails naming it, nothing is compiled, and the next run compiles the plan as a batch', async () => {
    const alloc = new Allocator(gpu!);
    const events: KernelEvent[] = [];
    const unwatch = watchKernels(gpu!, (e) => void events.push(e));
    try {
      const plan = new Plan(gpu!, alloc);
      const ys = [record(plan, alloc, 3), record(plan, alloc, 5)];
      const e = await failure(plan.compile(() => {
        throw new Error('progress sink closed');
      }));
      expect(e?.message).toBe('Plan.compile: onProgress failed: progress sink closed');
      expect((e?.cause as Error).message).toBe('progress sink closed');
      expect([cached(3), cached(5)]).toEqual([false, false]);
      expect(events).toEqual([]); // the batch did not start
      // the plan kept its two variants: run() compiles them (one batch the watchers see), not each at the first encode
      await plan.run('after a failed compile');
      expect(events).toEqual([{ type: 'compile', done: 0, total: 2 }, { type: 'compile', done: 1, total: 2 }, { type: 'compile', done: 2, total: 2 }]);
      expect(Array.from(await readTensor(gpu!, ys[1]!))).toEqual([0, 5, 10, 15, 20, 25, 30, 35]);
    } finally {
      unwatch();
      alloc.destroyAll();
    }
  });

  it('failing with pipelines in flight (compilePlans, at the last one): every pipeline lands in the cache and the watchers see every event', async () => {
    const alloc = new Allocator(gpu!);
    const events: [number, number][] = [];
    const unwatch = watchKernels(gpu!, (e) => void (e.type === 'compile' && events.push([e.done, e.total])));
    try {
      const a = new Plan(gpu!, alloc);
      const b = new Plan(gpu!, alloc);
      record(a, alloc, 7);
      record(a, alloc, 11);
      const y = record(b, alloc, 13);
      const seen: number[] = [];
      const e = await failure(compilePlans([a, b], async (done, total) => {
        seen.push(done);
        if (done === total) throw new Error('late boom');
      }));
      expect(e?.message).toBe('compilePlans: onProgress failed: late boom');
      expect(seen).toEqual([0, 1, 2, 3]);
      expect([cached(7), cached(11), cached(13)]).toEqual([true, true, true]);
      expect(events).toEqual([[0, 3], [1, 3], [2, 3], [3, 3]]);
      await b.run('after a failed hook');
      expect(events).toHaveLength(4); // nothing left to compile
      expect(Array.from(await readTensor(gpu!, y))).toEqual([0, 13, 26, 39, 52, 65, 78, 91]);
    } finally {
      unwatch();
      alloc.destroyAll();
    }
  });
});
