// Waits on the queue and on buffer maps reject when the device is lost (untilLost, src/gpu/device.ts) through one
// device.lost reaction per device. Before, each wait raced a fresh `device.lost.then(…)`; device.lost stays pending
// for the device's life, so every wait's reaction was kept: ~30 KB of heap per generate() call in a long-running
// process (session 23's library review). Counted here by a getter on the device's `lost`: a wait that reads it again
// fails the first test.
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/gpu/node.js';
import { acquireGpu, GpuError, lostWaitCount, untilLost, type Gpu } from '../../src/gpu/device.js';
import { Allocator, readTensor } from '../../src/gpu/tensor.js';
import { Plan, submitParts, waitIdle } from '../../src/gpu/plan.js';
import { silu } from '../../src/ops/elementwise.js';
import { hasGpu } from '../helpers/gpu.js';

const own: Gpu[] = [];
afterAll(() => own.forEach((g) => g.destroy()));
const fresh = async () => {
  const g = await acquireGpu();
  own.push(g);
  return g;
};
const lostError = (i: GPUDeviceLostInfo) => new GpuError(`lost: ${i.reason}`, 'lost', 'test');

describe.skipIf(!hasGpu)('untilLost: waits that a lost device rejects, one device.lost reaction per device', () => {
  it('plan runs, read-backs, waitIdle and submitParts never touch device.lost again, and leave no wait behind', async () => {
    const gpu = await fresh();
    const real = gpu.device.lost;
    let reads = 0;
    Object.defineProperty(gpu.device, 'lost', { configurable: true, get: () => (reads++, real) });
    const alloc = new Allocator(gpu);
    try {
      const x = alloc.upload(Float32Array.from({ length: 37 }, (_, i) => i / 7 - 2), [37], 'f32', 'x');
      for (let r = 0; r < 20; r++) {
        const plan = new Plan(gpu, alloc);
        const y = silu(plan, { x, out: alloc.tensor([37], 'f32', 'y') });
        await plan.run('lost-waits');
        const got = await readTensor(gpu, y);
        expect(got[36]).toBeCloseTo((36 / 7 - 2) / (1 + Math.exp(-(36 / 7 - 2))), 5);
        await waitIdle(gpu, 'lost-waits idle');
        const done: number[] = [];
        await submitParts(gpu, 'lost-waits parts', [() => {}, () => {}], (d) => void done.push(d));
        expect(done).toEqual([1, 2]);
      }
      expect(reads).toBe(0);
      expect(lostWaitCount(gpu)).toBe(0);
    } finally {
      alloc.destroyAll();
      delete (gpu.device as unknown as Record<string, unknown>).lost;
    }
  });

  it('settles with the wait: its value, its rejection; the set empties either way', async () => {
    const gpu = await fresh();
    await expect(untilLost(gpu, Promise.resolve(42), lostError)).resolves.toBe(42);
    await expect(untilLost(gpu, Promise.reject(new Error('map failed')), lostError)).rejects.toThrow('map failed');
    let resolve!: (v: number) => void;
    const pending = untilLost(gpu, new Promise<number>((r) => (resolve = r)), lostError);
    expect(lostWaitCount(gpu)).toBe(1);
    resolve(7);
    await expect(pending).resolves.toBe(7);
    expect(lostWaitCount(gpu)).toBe(0);
  });

  it('a wait in flight when the device is lost rejects with the caller\'s error (never hangs); later waits reject at once', async () => {
    const gpu = await fresh();
    const never = new Promise<void>(() => {});
    const inFlight = untilLost(gpu, never, lostError);
    gpu.destroy();
    await expect(inFlight).rejects.toThrow(/^lost: destroyed$/);
    expect(lostWaitCount(gpu)).toBe(0);
    await expect(untilLost(gpu, never, lostError)).rejects.toThrow(/^lost: destroyed$/);
    await expect(waitIdle(gpu, 'after loss')).rejects.toBeInstanceOf(GpuError);
  });
});
