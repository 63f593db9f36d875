// A dispatch binds only the bytes of the tensors it reads and writes, never the rest of their buffer
// (src/gpu/plan.ts bindRange). The scratch activations of a recorded model share buffers by liveness
// ("shared.N", src/gpu/memory-plan.ts PooledActivations), sized for the largest activation of each; a
// tensor at the start of one has no offset, and its bind group used to bind the whole buffer while the
// plan's limit check (Dispatch.bound) saw the tensor's own size. On the wan-1.3b f32 latent
// [2,16,8,60,104] the text embedder's output bound all 146 MiB of shared.0 on lavapipe's 128 MiB limit:
// Dawn refused the bind groups outside every error scope ('[tessera] uncaptured WebGPU error: Binding size
// (153354240) of [Buffer "shared.0"] …') and the prepare plan's submit was dropped, while the test passed.
// tests/hardening/planner-presets.test.ts checks every real bind group of every preset's plans.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { GpuError, type Gpu } from '../../src/gpu/device.js';
import { defineKernel } from '../../src/gpu/kernel.js';
import { Plan } from '../../src/gpu/plan.js';
import { setKernelSource } from '../../src/gpu/shader.js';
import { Allocator, readTensor, writeTensor, type Tensor } from '../../src/gpu/tensor.js';
import { thrown } from '../helpers/errors.js';

setKernelSource(
  'test_bind_range',
  `struct P { n: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
// y = 2·x, plus 1000 × the elements the shader sees bound of x (arrayLength: the binding's size, not the tensor's)
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x < p.n) { y[g.x] = x[g.x] * 2.0 + 1000.0 * f32(arrayLength(&x)); }
}
`,
);
const spec = defineKernel({ name: 'test_bind_range', flags: {}, overrides: {}, bindings: ['uniform', 'read', 'rw'] });

/** `gpu` with a binding limit of `limit` bytes and its device wrapped: each bind group's entry sizes, buffers made and writes are noted. */
function watched(limit: number) {
  const seen = { groups: [] as number[][], buffers: 0, writes: 0 };
  const real = gpu!.device;
  const queue = new Proxy(real.queue, {
    get(t, k) {
      if (k === 'writeBuffer') return (...a: Parameters<GPUQueue['writeBuffer']>) => (seen.writes++, t.writeBuffer(...a));
      const v = Reflect.get(t, k, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  const device = new Proxy(real, {
    get(t, k) {
      if (k === 'queue') return queue;
      if (k === 'createBuffer') return (d: GPUBufferDescriptor) => (seen.buffers++, t.createBuffer(d));
      if (k === 'createBindGroup')
        return (d: GPUBindGroupDescriptor) => {
          seen.groups.push([...d.entries].map((e) => {
            const r = e.resource as GPUBufferBinding;
            return r.size ?? r.buffer.size - (r.offset ?? 0);
          }));
          return t.createBindGroup(d);
        };
      const v = Reflect.get(t, k, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  const g: Gpu = Object.assign(Object.create(gpu!) as Gpu, { device, limits: { ...gpu!.limits, maxStorageBufferBindingSize: limit } });
  return { gpu: g, seen };
}

/** `n` f32 elements at the start of `buffer`, with no offset: as PooledActivations hands out a shared buffer's activation. */
const inShared = (buffer: GPUBuffer, n: number, label: string): Tensor => ({ buffer, shape: [n], dtype: 'f32', size: n, label });

describe.skipIf(!hasGpu)('a dispatch binds its tensors, not their buffers', () => {
  it('a tensor at the start of a larger shared buffer is bound as its own bytes, and the shader sees only those', async () => {
    // 4 KiB buffers under a 1 KiB binding limit: binding them whole would pass the limit
    const { gpu: g, seen } = watched(1024);
    const alloc = new Allocator(g);
    try {
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
      const n = 37;
      const x = inShared(alloc.buffer(4096, usage, 'shared.0'), n, 'x');
      const y = inShared(alloc.buffer(4096, usage, 'shared.1'), n, 'y');
      const data = Float32Array.from({ length: n }, (_, i) => i - 5);
      writeTensor(g, x, data);
      const plan = new Plan(g, alloc);
      const d = plan.record({ spec, uniforms: [['n', 'u32', n]], buffers: [x, y], workgroups: [1, 1, 1], shapes: `x[${n}]`, flops: n, bytes: 8 * n });
      // the uniform (16 B), then x and y: 148 bytes each, rounded up to 16 as a buffer of their own would be
      expect(seen.groups).toEqual([[16, 160, 160]]);
      expect(d.bound.map((b) => [b.buffer.label, b.offset, b.size])).toEqual([['shared.0', 0, 160], ['shared.1', 0, 160]]);
      await plan.run('binding-ranges');
      // the shader sees 40 elements of x bound (160 bytes), not the buffer's 1024
      expect([...(await readTensor(g, y))]).toEqual([...data].map((v) => v * 2 + 40_000));
    } finally {
      alloc.destroyAll();
    }
  });

  it('a tensor over the binding limit is refused before any GPU work, naming it, its buffer and the sizes', () => {
    const { gpu: g, seen } = watched(1024);
    const alloc = new Allocator(g);
    try {
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
      const x = inShared(alloc.buffer(4096, usage, 'shared.0'), 512, 'text_emb'); // 2 KiB of a 4 KiB buffer
      const y = inShared(alloc.buffer(4096, usage, 'shared.1'), 16, 'y');
      const plan = new Plan(g, alloc);
      const before = { ...seen, groups: seen.groups.length };
      const e = thrown(() => plan.record({ spec, uniforms: [['n', 'u32', 512]], buffers: [x, y], workgroups: [8, 1, 1], shapes: 'x[512]', flops: 0, bytes: 0, layer: 'condition_embedder' }), GpuError);
      expect(e.message).toBe("test_bind_range@condition_embedder: binds 2.0 KiB of text_emb (in buffer shared.0), above the adapter's maxStorageBufferBindingSize of 1.0 KiB: use fewer frames, a smaller resolution or dtype: 'f16'");
      expect(e.kind).toBe('out-of-memory');
      // no uniform buffer made or written, no bind group, nothing recorded
      expect({ ...seen, groups: seen.groups.length }).toEqual(before);
      expect(plan.dispatches).toHaveLength(0);
    } finally {
      alloc.destroyAll();
    }
  });
});
