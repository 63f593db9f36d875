// The tuner reads each candidate's output back through a staging buffer of its own allocator (freed at
// once). It did so with a bare mapAsync: a device lost while a first run's autotuning read back hung
// forward() instead of raising GpuError 'lost'. It now goes through readTensor's { staging } option, which
// keeps readBuffer's checks (checkAlive, mapAsync raced against device loss, the buffer freed in finally).
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { acquireGpu, GpuError, type Gpu } from '../../src/gpu/device.js';
import { Plan, type Dispatch, type TuneRequest } from '../../src/gpu/plan.js';
import { Allocator, readTensor } from '../../src/gpu/tensor.js';
import { tuneRequest } from '../../src/gpu/tune.js';
import { gemm } from '../../src/ops/gemm.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

class Capture extends Plan {
  req: TuneRequest | null = null;
  override recordTuned(r: TuneRequest): Dispatch {
    this.req = r;
    return {} as Dispatch;
  }
}

const hung = <T>(p: Promise<T>, ms: number): Promise<T> => Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`hung for ${ms} ms`)), ms))]);

describe.skipIf(!hasGpu)('tuning read-back', () => {
  it('readTensor { staging }: a one-off buffer of that allocator, counted and freed; f16 decoded', async () => {
    const al = new Allocator(gpu!);
    try {
      const t = al.upload([1, -2, 0.5, 3, 4, 5], [6], 'f16', 'x');
      const held = al.liveBytes;
      expect(Array.from(await readTensor(gpu!, t, { staging: al }))).toEqual([1, -2, 0.5, 3, 4, 5]);
      expect(al.peakBytes).toBe(held + 16);
      expect(al.liveBytes).toBe(held);
    } finally {
      al.destroyAll();
    }
  });

  it('the device lost during a candidate read-back: GpuError lost, not a hang', async () => {
    const g: Gpu = await acquireGpu();
    try {
      const al = new Allocator(g);
      const p = new Capture(g, al);
      gemm(p, { x: al.tensor([64, 256], 'f32', 'x'), w: al.tensor([128, 256], 'f32', 'w'), out: al.tensor([64, 128], 'f32', 'y') });
      const dev = g.device;
      const create = dev.createBuffer.bind(dev);
      // a read-back whose map never completes, the device lost meanwhile
      dev.createBuffer = (desc: GPUBufferDescriptor) => {
        const b = create(desc);
        if (desc.usage & GPUBufferUsage.MAP_READ) {
          b.mapAsync = () => {
            dev.destroy();
            return new Promise<undefined>(() => {});
          };
        }
        return b;
      };
      const e = await hung(tuneRequest(g, p.req!), 20_000).then(() => new Error('tuned'), (x: Error) => x);
      expect(e).toBeInstanceOf(GpuError);
      expect((e as GpuError).kind).toBe('lost');
      expect(e.message).toMatch(/^GPU device lost \(destroyed\) while reading tune:out/);
    } finally {
      g.destroy();
    }
  }, 40_000);
});
