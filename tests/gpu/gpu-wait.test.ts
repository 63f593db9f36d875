// Waiting on Dawn without its busy wait (src/gpu/device.ts gpuWait): Dawn's Node binding ticks
// ProcessEvents from a re-queued setImmediate until its promise settles; gpuWait sleeps between those
// ticks after a short spin. Checked by counting ticks and sleeps (a sleep never returns early), never
// by how long anything took.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { gpuWait, gpuWaitSleeps, gpuWaitThrottled, setGpuWaitThrottle, WAIT_SLEEP_MS, WAIT_SPIN_MS, type Gpu } from '../../src/gpu/device.js';
import { Allocator, readTensor } from '../../src/gpu/tensor.js';
import { waitIdle } from '../../src/gpu/plan.js';
import { gemmWorkload } from '../../src/profile/workloads.js';
import { compileKernels } from '../../src/gpu/kernel.js';
import { attentionKernel, attentionVariant } from '../../src/ops/attention.js';
import { DispatchTimer } from '../../src/profile/profiler.js';

const node = { runtime: 'node', isCpu: true } as Gpu;
const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * A promise settled after `ms` by a timer, waited for through gpuWait while a Dawn-like spinner
 * (a setImmediate chain that re-queues itself until the promise settles) counts its ticks inside
 * [from, to] ms after the start.
 */
async function spinnerTicks(ms: number, from: number, to: number): Promise<number> {
  let settled = false;
  let ticks = 0;
  const t0 = performance.now();
  const p = new Promise<void>((r) => setTimeout(r, ms)).then(() => void (settled = true));
  const spin = () => {
    if (settled) return;
    const t = performance.now() - t0;
    if (t >= from && t <= to) ticks++;
    setImmediate(spin);
  };
  setImmediate(spin);
  await gpuWait(node, p);
  return ticks;
}

describe('gpuWait', () => {
  it('resolves and rejects as the promise it waits for', async () => {
    await expect(gpuWait(node, Promise.resolve(7))).resolves.toBe(7);
    await expect(gpuWait(node, Promise.reject(new Error('lost')))).rejects.toThrow('lost');
  });

  it('sleeps between the ticks of a long wait: at most one tick per WAIT_SLEEP_MS after the spin', async () => {
    // 180 ms well past the spin: every turn of the event loop sleeps WAIT_SLEEP_MS, so at most 180 / 0.5 + 1
    // ticks (a busy loop, as without gpuWait, ticks thousands of times in that window even on a loaded machine)
    const window = 180;
    const from = 10 * WAIT_SPIN_MS;
    const ticks = await spinnerTicks(from + window + 20, from, from + window);
    expect(ticks).toBeGreaterThan(0);
    expect(ticks).toBeLessThanOrEqual(window / WAIT_SLEEP_MS + 1);
  });

  it('stops polling once nothing is waited for', async () => {
    await gpuWait(node, new Promise((r) => setTimeout(r, 20)));
    for (let i = 0; i < 3; i++) await turn();
    const before = gpuWaitSleeps();
    for (let i = 0; i < 20; i++) await turn();
    expect(gpuWaitSleeps()).toBe(before);
  });

  it('is the promise itself on a GPU adapter, in a browser (no busy wait there) and when turned off', async () => {
    const p = Promise.resolve(1);
    expect(gpuWait({ runtime: 'node', isCpu: false } as Gpu, p)).toBe(p);
    expect(gpuWait({ runtime: 'browser', isCpu: true } as Gpu, p)).toBe(p);
    setGpuWaitThrottle(false);
    try {
      expect(gpuWait(node, p)).toBe(p);
    } finally {
      setGpuWaitThrottle(true);
    }
  });
});

describe.skipIf(!hasGpu)('gpuWait on the device', () => {
  // A GEMM of ~1 GFLOP: tens of ms on lavapipe, past the spin. gpuWait sleeps only on a CPU adapter, so
  // the count of sleeps is asserted only there.
  it('waitIdle and readTensor wait through it (they sleep while a long run goes on)', async () => {
    const g = gpu!;
    const w = gemmWorkload(g, { m: 1024, k: 384, n: 1536, dtype: 'f32' });
    try {
      await w.plan.run('warm-up'); // compiles
      for (const wait of [() => waitIdle(g, 'gpuWait test'), () => readTensor(g, w.out)]) {
        const before = gpuWaitSleeps();
        const enc = g.device.createCommandEncoder();
        w.plan.encode(enc);
        g.device.queue.submit([enc.finish()]);
        await wait();
        if (g.isCpu) expect(gpuWaitSleeps()).toBeGreaterThan(before);
      }
      expect(w.checkOutput(await readTensor(g, w.out)).ok).toBe(true);
    } finally {
      w.destroy();
    }
  });

  // session 18: the other waits on Dawn's queue. compileKernels' warm-up dispatch is where lavapipe generates a
  // pipeline's machine code; createComputePipelineAsync before it does not go through gpuWait, so the throttled
  // waits counted here are the warm-up's. Counted as calls, not sleeps: a warm-up that ends within gpuWait's 1 ms
  // spin sleeps in none (it did so in one cold suite run), yet went through it.
  it("compileKernels' warm-up dispatches wait through it", async () => {
    const g = gpu!;
    const before = gpuWaitThrottled();
    await compileKernels(g, [{ spec: attentionKernel, variant: attentionVariant(g, { lq: 40, dtype: 'f32', relBias: true, keyMask: true }).variant }]);
    if (g.isCpu) expect(gpuWaitThrottled()).toBeGreaterThan(before);
  });

  it("DispatchTimer.read (the timestamps' read-back) waits through it: read right after the submit, it waits the whole run", async () => {
    const g = gpu!;
    if (!g.timestamps) return; // DispatchTimer needs timestamp-query (lavapipe has it)
    const w = gemmWorkload(g, { m: 1024, k: 384, n: 1536, dtype: 'f32' });
    try {
      await w.plan.run('warm-up'); // compiles
      const timer = new DispatchTimer(g, w.plan.dispatches);
      const enc = g.device.createCommandEncoder();
      timer.encode(enc);
      g.device.queue.submit([enc.finish()]);
      const before = gpuWaitSleeps();
      const run = await timer.read('gpuWait test', { wallMs: 0, peakBytes: 0, residentBytes: 0 });
      if (g.isCpu) expect(gpuWaitSleeps()).toBeGreaterThan(before);
      expect(run.timing).toBe('gpu-timestamps');
      // Every dispatch's begin/end pair was read: timed (ms > 0), or, where a quantized clock (a real GPU's)
      // gives begin = end for a short dispatch, untimed (ms null) and counted in dropped; never NaN or negative.
      const n = w.plan.dispatches.length;
      expect(run.dispatches).toHaveLength(n);
      const timed = run.dispatches.filter((d) => d.ms !== null);
      expect(timed.every((d) => Number.isFinite(d.ms) && d.ms! > 0 && Number.isFinite(d.runMs) && d.startMs! >= 0)).toBe(true);
      expect(timed.length + run.dropped).toBe(n);
      expect(Number.isFinite(run.totalMs) && run.totalMs >= 0).toBe(true);
      // lavapipe's clock is not quantized and each dispatch of this GEMM runs for milliseconds there: all timed
      if (g.isCpu) expect(timed.length).toBe(n);
    } finally {
      w.destroy();
    }
  });

  it('a small read-back right after idle reads its values', async () => {
    const g = gpu!;
    const alloc = new Allocator(g);
    try {
      const t = alloc.upload(new Float32Array([1, 2, 3, 4]), [4], 'f32', 'small');
      await waitIdle(g, 'gpuWait test');
      expect(Array.from(await readTensor(g, t))).toEqual([1, 2, 3, 4]);
    } finally {
      alloc.destroyAll();
    }
  });
});
