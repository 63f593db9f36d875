// Waiting for repeated work without Dawn's busy wait (src/gpu/plan.ts Pace) and the llvmpipe
// thread count tessera sets on Node (src/gpu/node.ts). The clock and the timer are injected, so
// these check what is asked for, never how long anything took.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Pace, PACE_FRACTION, PACE_MIN_MS } from '../../src/gpu/plan.js';
import { llvmpipeThreads, setLlvmpipeThreads } from '../../src/gpu/node.js';
import type { Gpu } from '../../src/gpu/device.js';
import { cli } from '../hardening/helpers.js';

/** A Pace on a fake clock: every idle() "takes" the next of `durations` (ms); returns the sleeps asked for. */
async function sleepsFor(g: Gpu, durations: number[]): Promise<number[]> {
  const sleeps: number[] = [];
  let clock = 1000;
  const pace = new Pace(async (ms) => void sleeps.push(ms), () => clock);
  for (const d of durations) {
    const since = clock;
    clock += d;
    await pace.idle(g, 'pace test', since);
  }
  return sleeps;
}

describe.skipIf(!hasGpu)('Pace', () => {
  it('sleeps PACE_FRACTION of the last duration, only from the second wait and only for runs of PACE_MIN_MS or more', async () => {
    const node = { ...gpu!, runtime: 'node' as const };
    // waits 2–4 sleep after runs of 50, 40, 100 ms; the fifth does not (the fourth run took 3 ms)
    expect(await sleepsFor(node, [50, 40, 100, 3, 10])).toEqual([50, 40, 100].map((d) => d * PACE_FRACTION));
    // a run under PACE_MIN_MS: the next wait does not sleep at all
    expect(await sleepsFor(node, [PACE_MIN_MS - 0.5, 20])).toEqual([]);
    expect(await sleepsFor(node, [PACE_MIN_MS, 20])).toEqual([PACE_MIN_MS * PACE_FRACTION]);
  });

  it('never sleeps in a browser, where waiting does not keep a core busy', async () => {
    expect(await sleepsFor({ ...gpu!, runtime: 'browser' as const }, [50, 50, 50])).toEqual([]);
  });
});

describe('llvmpipe threads', () => {
  it('is 8 per core, at least 1 and at most 32 (Mesa caps LP_NUM_THREADS at 32)', () => {
    expect([1, 2, 3, 4, 64, 0].map((c) => llvmpipeThreads(c))).toEqual([8, 16, 24, 32, 32, 1]);
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
  }, 60_000);
});
