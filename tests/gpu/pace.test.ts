// Waiting for repeated work without Dawn's busy wait (src/gpu/plan.ts Pace) and the llvmpipe
// thread count tessera sets on Node (src/gpu/node.ts). The clock and the timer are injected, so
// these check what is asked for, never how long anything took.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Pace, PACE_FRACTION, PACE_MIN_MS } from '../../src/gpu/plan.js';
import { llvmpipeThreads, llvmpipeThreadsInEffect, setLlvmpipeThreads } from '../../src/gpu/node.js';
import type { Gpu } from '../../src/gpu/device.js';
import { cli } from '../hardening/helpers.js';

/**
 * A Pace on a simulated clock: run i's work takes durations[i] ms from its submit, and its caller calls
 * idle late[i] ms after the submit (default 0: at once); the timer advances the clock by what is asked,
 * the queue wait to the work's end (at once when it is already done).
 * Returns the sleeps asked for.
 */
async function sleepsFor(g: Gpu, durations: number[], late: number[] = []): Promise<number[]> {
  const sleeps: number[] = [];
  let clock = 1000;
  let done = 0;
  const pace = new Pace(
    async (ms) => void (sleeps.push(ms), (clock += ms)),
    () => clock,
    async () => void (clock = Math.max(clock, done)),
  );
  for (const [i, d] of durations.entries()) {
    const since = clock;
    done = since + d;
    clock += late[i] ?? 0;
    await pace.idle(g, 'pace test', since);
  }
  return sleeps;
}

describe.skipIf(!hasGpu)('Pace', () => {
  const node = { ...gpu!, runtime: 'node' as const };
  const f = PACE_FRACTION;

  it('sleeps PACE_FRACTION of the last run, never learning from the first run (a CPU driver compiles at first dispatch)', async () => {
    // a first run of 9 s (compiling) sets nothing: the third run sleeps 0.8 of the second's 300 ms, not 7.2 s
    expect(await sleepsFor(node, [9000, 300, 300, 300])).toEqual([300 * f, 300 * f]);
    // runs 3–5 sleep after 40 and 100 ms; the fourth run (3 ms) is found done at wake-up: learned at half its bound
    expect(await sleepsFor(node, [50, 40, 100, 3, 10])).toEqual([40 * f, 100 * f, ((100 * f) / 2) * f]);
  });

  it('forgets a slow outlier within a few runs (an overslept run is learned at half)', async () => {
    const sleeps = await sleepsFor(node, [100, 100, 100, 1000, 100, 100, 100, 100, 100]);
    // 80, 80 before; 800 after the outlier, then halving while overslept (320, 128, 51.2), then 80 again
    expect(sleeps.map((x) => +x.toFixed(6))).toEqual([80, 80, 800, 320, 128, 51.2, 80]);
  });

  it('a wait under 1 ms after the sleep is overslept even where 2 % of the run is less (short runs)', async () => {
    const round = (xs: number[]) => xs.map((x) => +x.toFixed(6));
    // run 3 sleeps 16 ms of its 16.5: the wait after it is 0.5 ms, over 2 % of 16.5 ms (0.33) but under 1 ms (a
    // timer wakes about that late anyway), so 16.5 is only a bound: learned at half, and run 4 sleeps 0.8 × 8.25
    expect(round(await sleepsFor(node, [50, 20, 16.5, 20]))).toEqual(round([20 * f, 8.25 * f]));
    // a wait of 1.5 ms is not overslept: run 3's 17.5 ms is learned whole
    expect(round(await sleepsFor(node, [50, 20, 17.5, 20]))).toEqual(round([20 * f, 17.5 * f]));
  });

  it('a run that did not sleep is learned whole, even when it was done before the wait began', async () => {
    // run 2 (the first learned from) sleeps nothing; its caller calls idle 100 ms after the submit, when its
    // 100 ms of work are done: nothing was overslept, so run 3 sleeps 0.8 × 100, not 0.8 × 50
    expect(await sleepsFor(node, [100, 100, 100], [0, 100])).toEqual([100 * f]);
  });

  it('does not sleep after a run under PACE_MIN_MS', async () => {
    expect(await sleepsFor(node, [10, PACE_MIN_MS - 0.5, 20])).toEqual([]);
    expect(await sleepsFor(node, [10, PACE_MIN_MS, 20])).toEqual([PACE_MIN_MS * f]);
  });

  it('never sleeps in a browser, where waiting does not keep a core busy', async () => {
    expect(await sleepsFor({ ...gpu!, runtime: 'browser' as const }, [50, 50, 50, 50])).toEqual([]);
  });

  it('sleeps on the real timer even under a caller\'s fake timers (which would never fire)', async () => {
    const { vi } = await import('vitest');
    vi.useFakeTimers();
    try {
      const pace = new Pace(undefined, undefined, async () => {});
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) await pace.idle(node, 'pace test', t0 - 10); // each run "took" 10 ms
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('llvmpipe threads', () => {
  it('is 8 per core, at least 1 and at most 32 (Mesa caps LP_NUM_THREADS at 32)', () => {
    expect([1, 2, 3, 4, 64, 0].map((c) => llvmpipeThreads(c))).toEqual([8, 16, 24, 32, 32, 1]);
  });

  it('in effect: the integer Mesa parses, capped at 32; 0 is 0; unset or not a number is null', () => {
    expect(['16', '64', '0', '3x', ' 5', '', 'abc'].map(llvmpipeThreadsInEffect)).toEqual([16, 32, 0, 3, 5, null, null]);
    // Mesa's strtol(value, &end, 0): hex and octal, and an unsigned count (a negative one is the cap). Measured on
    // lavapipe (llvmpipe-N threads in /proc): 0x5 ran 5, 010 ran 8, -2 ran 32
    expect(['0x5', '0X1f', '010', '08', '0x', '+4', '-2', '-0'].map(llvmpipeThreadsInEffect)).toEqual([5, 31, 8, 0, 0, 4, 32, 0]);
    expect(llvmpipeThreadsInEffect(undefined)).toBeNull();
  });

  it('sets LP_NUM_THREADS only when the user has not', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(setLlvmpipeThreads(env)).toBe(String(llvmpipeThreads()));
    expect(env.LP_NUM_THREADS).toBe(String(llvmpipeThreads()));
    const own: NodeJS.ProcessEnv = { LP_NUM_THREADS: '3' };
    expect(setLlvmpipeThreads(own)).toBe('3');
    expect(own.LP_NUM_THREADS).toBe('3');
  });
});

describe.skipIf(!hasGpu || !/llvmpipe/i.test(gpu?.adapterInfo.description ?? ''))('tessera info on llvmpipe', () => {
  it('shows the thread count in effect: tessera’s default, or the user’s LP_NUM_THREADS', async () => {
    const threads = async (value: string) => {
      const r = await cli(['info', '--json'], { LP_NUM_THREADS: value });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { adapter_policy: { llvmpipe_threads: number | null } }).adapter_policy.llvmpipe_threads;
    };
    expect(await threads('')).toBe(llvmpipeThreads());
    expect(await threads('3')).toBe(3);
    expect(await threads('64')).toBe(32); // Mesa's cap: what it runs with
  }, 60_000);
});
