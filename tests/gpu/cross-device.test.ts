// A tensor used with another device than the one that allocated it (two acquireGpu() in one process).
// readTensor(gpu2, tensorOfGpu1) resolved to zeros and threw nothing: Dawn's validation error went only to
// stderr, as "[Buffer "y"] is associated with [Device "tessera"], and cannot be used with [Device "tessera"]"
// (every device had the same label). Now each device has its own label, every entry point that takes a Gpu
// and a tensor (readTensor, writeTensor, Plan recording, new Plan with another device's Allocator) refuses
// one of another device in one line before any GPU work, and a copy WebGPU refuses in a read (a buffer no
// Allocator made) is a GpuError, not zeros.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { acquireGpu, GpuError, type Gpu } from '../../src/gpu/device.js';
import { Plan } from '../../src/gpu/plan.js';
import { Allocator, readBuffer, readTensor, subTensor, writeTensor } from '../../src/gpu/tensor.js';
import { add } from '../../src/ops/elementwise.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

describe.skipIf(!hasGpu)('tensors used on another device', () => {
  const g1 = gpu!;
  let g2: Gpu;
  let a1: Allocator;
  let a2: Allocator;
  let errors: ReturnType<typeof vi.spyOn>;
  beforeAll(async () => {
    g2 = await acquireGpu();
  });
  afterAll(() => g2?.destroy());
  beforeEach(() => {
    a1 = new Allocator(g1);
    a2 = new Allocator(g2);
    // the uncaptured-error handler's line: a refusal before any GPU work leaves none
    errors = vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => {
    errors.mockRestore();
    a1.destroyAll();
    a2.destroyAll();
  });
  const l1 = () => g1.device.label;
  const l2 = () => g2.device.label;
  const refusal = (call: string, tensor: string) => `${call} on device "${l2()}": ${tensor} belongs to device "${l1()}" (a tensor is used only on the device that allocated it: use that Gpu, or upload its values to this one)`;

  it('each device has its own label, tessera#N', () => {
    expect(l1()).toMatch(/^tessera#\d+$/);
    expect(l2()).toMatch(/^tessera#\d+$/);
    expect(l2()).not.toBe(l1());
  });

  it('readTensor: refused in one line naming the tensor and both devices (it resolved to zeros); the owner still reads it', async () => {
    const y = a1.upload([1, 2, 3, 4], [4], 'f32', 'y');
    const err = await readTensor(g2, y).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect((err as GpuError).kind).toBe('validation');
    expect((err as GpuError).message).toBe(refusal('readTensor y', 'tensor y'));
    // a part of it (subTensor: the same buffer) too
    await expect(readTensor(g2, subTensor(y, 2, [2], 'y_tail'))).rejects.toThrow(refusal('readTensor y_tail', 'tensor y_tail'));
    expect(Array.from(await readTensor(g1, y))).toEqual([1, 2, 3, 4]);
    expect(errors).not.toHaveBeenCalled();
  });

  it('writeTensor and readBuffer: refused the same way, nothing written', async () => {
    const y = a1.upload([1, 2, 3, 4], [4], 'f32', 'y');
    expect(() => writeTensor(g2, y, [9, 9, 9, 9])).toThrow(refusal('writeTensor y', 'tensor y'));
    await expect(readBuffer(g2, y.buffer, 16, 'y')).rejects.toThrow(refusal('reading y', 'buffer y'));
    expect(Array.from(await readTensor(g1, y))).toEqual([1, 2, 3, 4]);
    expect(errors).not.toHaveBeenCalled();
  });

  it('Plan.record: an op given a tensor of another device is refused, naming the kernel; nothing recorded or allocated', async () => {
    const plan = new Plan(g2, a2);
    const a = a2.upload([1, 2, 3, 4], [4], 'f32', 'a');
    const b = a1.upload([10, 20, 30, 40], [4], 'f32', 'b');
    const out = a2.tensor([4], 'f32', 'out');
    const live = a2.liveBytes;
    const err = (() => {
      try {
        add(plan, { a, b, out, layer: 'blocks.0' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(GpuError);
    expect((err as GpuError).kind).toBe('validation');
    expect((err as GpuError).message).toBe(refusal('elementwise@blocks.0', 'tensor b'));
    expect(plan.dispatches).toHaveLength(0);
    expect(a2.liveBytes).toBe(live); // no uniform buffer
    // the plan goes on with this device's own tensors
    add(plan, { a, b: a2.upload([10, 20, 30, 40], [4], 'f32', 'b2'), out });
    await plan.run('cross-device test');
    expect(Array.from(await readTensor(g2, out))).toEqual([11, 22, 33, 44]);
    expect(errors).not.toHaveBeenCalled();
  });

  it('new Plan with an Allocator of another device: refused', () => {
    expect(() => new Plan(g2, a1)).toThrow(`new Plan on device "${l2()}": its Allocator allocates on device "${l1()}" (a plan and its allocator share one Gpu: new Plan(gpu, new Allocator(gpu)))`);
    expect(errors).not.toHaveBeenCalled();
  });

  it('a buffer no Allocator made, read on another device: the copy WebGPU refuses is a GpuError naming the read, not zeros', async () => {
    const raw = g1.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label: 'raw' });
    try {
      g1.device.queue.writeBuffer(raw, 0, new Float32Array([5, 6, 7, 8]));
      const err = await readTensor(g2, { buffer: raw, shape: [4], dtype: 'f32', size: 4, label: 'raw' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GpuError);
      expect((err as GpuError).kind).toBe('validation');
      expect((err as GpuError).message).toMatch(/^WebGPU validation error while reading raw: /);
      expect((err as GpuError).message).toContain(`"${l1()}"`);
      expect((err as GpuError).message).toContain(`"${l2()}"`);
      expect((err as GpuError).message).not.toContain('\n');
      expect(errors).not.toHaveBeenCalled(); // caught in the read's scope, not uncaptured
      // the device is fine afterwards, and concurrent reads each get their own values
      const t = [a2.upload([1, 2], [2], 'f32', 'p'), a2.upload([3, 4], [2], 'f32', 'q')];
      expect((await Promise.all(t.map((x) => readTensor(g2, x)))).map((x) => Array.from(x))).toEqual([[1, 2], [3, 4]]);
    } finally {
      raw.destroy();
    }
  });
});
