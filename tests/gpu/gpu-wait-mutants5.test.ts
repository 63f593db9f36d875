// Mutation round 5 (session 18) on gpuWait (src/gpu/device.ts): gpuWait returns the promise itself in every case
// (the sleeping poll is a side effect), so "is the promise itself on a GPU adapter" held with the GPU test dropped
// (the poll then slept beside every GPU wait, up to WAIT_SLEEP_MS of latency each). Checked by counting sleeps.
import { describe, expect, it } from 'vitest';
import { gpuWait, gpuWaitSleeps, WAIT_SPIN_MS, type Gpu } from '../../src/gpu/device.js';

const turn = () => new Promise<void>((r) => setImmediate(r));
/** Settles after `ms` by a timer, well past the spin. */
const later = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('gpuWait sleeps only where Dawn spins a CPU adapter', () => {
  it('a long wait on a GPU adapter (or in a browser) never sleeps; the same wait on a CPU adapter does', async () => {
    for (const g of [{ runtime: 'node', isCpu: false }, { runtime: 'browser', isCpu: true }] as Gpu[]) {
      const before = gpuWaitSleeps();
      await gpuWait(g, later(20 * WAIT_SPIN_MS));
      for (let i = 0; i < 5; i++) await turn();
      expect(gpuWaitSleeps(), `${g.runtime} isCpu ${g.isCpu}`).toBe(before);
    }
    const before = gpuWaitSleeps();
    await gpuWait({ runtime: 'node', isCpu: true } as Gpu, later(20 * WAIT_SPIN_MS));
    expect(gpuWaitSleeps()).toBeGreaterThan(before);
  });
});

describe('gpuWait spins first', () => {
  it('a wait settled within the spin (one event-loop turn) sleeps in none', async () => {
    // each try: the poll's first tick runs before the promise settles (both queued with setImmediate, the poll
    // first), WAIT_SPIN_MS after the call at most; without the spin that tick sleeps. A loaded machine may stall a
    // try past the spin, so one try of ten without a sleep is enough (with no spin, every try sleeps).
    const cpu = { runtime: 'node', isCpu: true } as Gpu;
    let unslept = 0;
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 3; j++) await turn(); // the last wait's poll has stopped
      const before = gpuWaitSleeps();
      let settle!: () => void;
      const p = gpuWait(cpu, new Promise<void>((r) => (settle = r)));
      setImmediate(settle);
      await p;
      if (gpuWaitSleeps() === before) unslept++;
    }
    expect(unslept).toBeGreaterThan(0);
  });
});
