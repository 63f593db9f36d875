// Pipelines are created asynchronously at record time (issue 13 item 7): recording a dispatch
// needs only the bind group layout; Plan.compile / compilePlans create every missing pipeline at
// once with createComputePipelineAsync and report progress; a failing variant is named by kernel
// and variant with the compiler's line numbers; a plan encoded without compile() still works
// (each missing pipeline created synchronously at the first encode).
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { compilePlans, Plan } from '../../src/gpu/plan.js';
import { defineKernel, kernelCached, watchAllKernels } from '../../src/gpu/kernel.js';
import { setKernelSource, ShaderError } from '../../src/gpu/shader.js';
import { Allocator, readTensor } from '../../src/gpu/tensor.js';

// A test-only kernel: y = x · MUL; BAD inserts a syntax error (a variant that cannot compile).
setKernelSource(
  'test_async',
  `struct P { n: u32, _a: u32, _b: u32, _c: u32 }
override WG: u32 = 64;
override MUL: f32 = 2.0;
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= p.n) { return; }
#if BAD
  y[g.x] = x[g.x] * MUL +;
#else
  y[g.x] = x[g.x] * MUL;
#endif
}
`,
);
const spec = defineKernel({ name: 'test_async', flags: { BAD: [false, true] }, overrides: { WG: [64, 32], MUL: [2, 3, 5, 7] }, bindings: ['uniform', 'read', 'rw'] });

function record(plan: Plan, alloc: Allocator, mul: number, bad = false, n = 37) {
  const x = alloc.upload(Float32Array.from({ length: n }, (_, i) => i - 5), [n], 'f32', 'x');
  const y = alloc.tensor([n], 'f32', 'y');
  plan.record({ spec, variant: { flags: { BAD: bad }, overrides: { MUL: mul } }, uniforms: [['n', 'u32', n]], buffers: [x, y], workgroups: [1, 1, 1], shapes: `x[${n}]`, flops: n, bytes: 8 * n });
  return y;
}

describe.skipIf(!hasGpu)('pipelines compiled asynchronously at record time', () => {
  it('recording creates no pipeline; compile() creates each distinct variant once, reporting i/N; the plan then computes', async () => {
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      const ys = [record(plan, alloc, 3), record(plan, alloc, 5), record(plan, alloc, 3)];
      expect(kernelCached(gpu!, spec, { overrides: { MUL: 3 } })).toBe(false);
      expect(kernelCached(gpu!, spec, { overrides: { MUL: 5 } })).toBe(false);
      const seen: [number, number][] = [];
      await plan.compile((d, t) => seen.push([d, t]));
      expect(seen).toEqual([[0, 2], [1, 2], [2, 2]]);
      expect(kernelCached(gpu!, spec, { overrides: { MUL: 3 } })).toBe(true);
      await plan.compile((d, t) => seen.push([d, t])); // nothing left: no report
      expect(seen).toHaveLength(3);
      await plan.run('async compile');
      const got = await Promise.all(ys.map((y) => readTensor(gpu!, y)));
      [3, 5, 3].forEach((m, j) => expect(Array.from(got[j]!)).toEqual(Array.from({ length: 37 }, (_, i) => (i - 5) * m)));
    } finally {
      alloc.destroyAll();
    }
  });

  // final review M2: compilePipelines called onProgress without awaiting it, so an async one ran past the compile
  // and its rejection went unhandled; now it keeps the callback contract (src/hook.ts)
  it('an async onProgress is awaited before compile() resolves; one that rejects fails compile() naming it', async () => {
    const alloc = new Allocator(gpu!);
    try {
      const variant = (mul: number) => ({ flags: { BAD: false }, overrides: { WG: 32, MUL: mul } });
      const recordWg = (plan: Plan, mul: number) => {
        const x = alloc.upload(new Float32Array(8), [8], 'f32', 'x');
        const y = alloc.tensor([8], 'f32', 'y');
        plan.record({ spec, variant: variant(mul), uniforms: [['n', 'u32', 8]], buffers: [x, y], workgroups: [1, 1, 1], shapes: 'x[8]', flops: 8, bytes: 64 });
      };
      const a = new Plan(gpu!, alloc);
      recordWg(a, 3);
      recordWg(a, 7); // (WG 32 with MUL 5: the last test's, uncompiled)
      let calls = 0;
      let ended = 0;
      await a.compile(async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 20));
        ended++;
      });
      expect(calls).toBe(3);
      expect(ended).toBe(calls);
      const b = new Plan(gpu!, alloc);
      recordWg(b, 2);
      const e = (await b.compile(async (d) => {
        if (d === 1) throw new Error('progress sink closed');
      }).catch((x: unknown) => x)) as Error;
      expect(e.message).toBe('Plan.compile: onProgress failed: progress sink closed');
      expect((e.cause as Error).message).toBe('progress sink closed');
    } finally {
      alloc.destroyAll();
    }
  });

  it('run() reports to the watchers of every device (the CLI progress line) and compilePlans batches several plans', async () => {
    const alloc = new Allocator(gpu!);
    const seen: [number, number][] = [];
    const unwatch = watchAllKernels((e) => e.type === 'compile' && seen.push([e.done, e.total]));
    try {
      const a = new Plan(gpu!, alloc);
      const b = new Plan(gpu!, alloc);
      record(a, alloc, 7);
      record(b, alloc, 7, false, 5);
      const y = record(b, alloc, 2, false, 5); // MUL 2: the default, maybe cached by now
      await compilePlans([a, b]);
      expect(seen.at(-1)![0]).toBe(seen.at(-1)![1]);
      expect(seen[0]).toEqual([0, seen.at(-1)![1]]);
      await b.run('batched');
      expect(Array.from(await readTensor(gpu!, y))).toEqual([-10, -8, -6, -4, -2]);
    } finally {
      unwatch();
      alloc.destroyAll();
    }
  });

  it('a variant that fails is named by kernel and variant with line numbers; the others still compile', async () => {
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      record(plan, alloc, 3, true);
      record(plan, alloc, 7);
      const err = await plan.compile().catch((e) => e);
      expect(err).toBeInstanceOf(ShaderError);
      expect(err.message).toMatch(/^test_async\[BAD\]\{MUL=3,WG=64\}: pipeline creation failed: kernels\/test_async\.wgsl:11:\d+: /); // line 11 of the source, not of the preprocessed text
      expect(kernelCached(gpu!, spec, { overrides: { MUL: 7 } })).toBe(true);
    } finally {
      alloc.destroyAll();
    }
  });

  it('a plan encoded without compile() creates its pipelines at the first encode', async () => {
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      const y = record(plan, alloc, 5, false, 9);
      plan.record({ ...plan.dispatches[0]!, spec, variant: { overrides: { WG: 32, MUL: 5 } }, uniforms: [['n', 'u32', 9]], buffers: [alloc.upload(new Float32Array(9).fill(1), [9], 'f32', 'x1'), alloc.tensor([9], 'f32', 'y1')], shapes: '', flops: 0, bytes: 0 });
      expect(kernelCached(gpu!, spec, { overrides: { WG: 32, MUL: 5 } })).toBe(false);
      const enc = gpu!.device.createCommandEncoder();
      plan.encode(enc);
      gpu!.device.queue.submit([enc.finish()]);
      expect(kernelCached(gpu!, spec, { overrides: { WG: 32, MUL: 5 } })).toBe(true);
      expect(Array.from(await readTensor(gpu!, y))).toEqual(Array.from({ length: 9 }, (_, i) => (i - 5) * 5));
    } finally {
      alloc.destroyAll();
    }
  });
});
