// Waiting for repeated work without Dawn's busy wait (src/gpu/plan.ts Pace) and the llvmpipe
// thread count tessera sets on Node (src/gpu/node.ts). The clock and the timer are injected, so
// these check what is asked for, never how long anything took.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Pace, PACE_ESTIMATE_FRACTION, PACE_FRACTION, PACE_MIN_MS } from '../../src/gpu/plan.js';
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

/** A Node Gpu whose queue is idle at once: Pace's estimates need no device, and each one is a device of its own. */
function fakeGpu(runtime: 'node' | 'browser' = 'node'): Gpu {
  const device = { lost: new Promise(() => {}), queue: { onSubmittedWorkDone: () => Promise.resolve() } };
  return { device, runtime, lost: null } as unknown as Gpu;
}

/** Runs of fresh Paces (one per run, as fresh plans get) on a fake clock: each [FLOPs, ms]; returns the sleep each asked for (0: none). */
async function firstRunSleeps(g: Gpu, runs: [number, number][]): Promise<number[]> {
  const out: number[] = [];
  let clock = 0;
  for (const [work, d] of runs) {
    let slept = 0;
    const pace = new Pace(async (ms) => void (slept = ms), () => clock);
    const since = clock;
    clock += d;
    await pace.idle(g, 'pace test', since, work);
    out.push(slept);
  }
  return out;
}

describe('Pace, first runs (FLOPs over the device rate)', () => {
  it('sleeps PACE_ESTIMATE_FRACTION of the FLOPs over the best rate the device has run at', async () => {
    // 1e9 FLOPs in 100 ms (1e7/ms), then 4e8 in 20 ms (2e7/ms: the best), then 1e9: 1e9 / 2e7 = 50 ms estimated
    expect(await firstRunSleeps(fakeGpu(), [[1e9, 100], [4e8, 20], [1e9, 60], [1e8, 50]])).toEqual([0, 40 * PACE_ESTIMATE_FRACTION, 50 * PACE_ESTIMATE_FRACTION, 5 * PACE_ESTIMATE_FRACTION]);
  });

  it('does not sleep without a known rate, without FLOPs, or for an estimate under PACE_MIN_MS', async () => {
    const g = fakeGpu();
    // no rate yet; then no FLOPs given (a copy-only plan); then 1e7 FLOPs at 1e7/ms: 1 ms
    expect(await firstRunSleeps(g, [[1e9, 100], [0, 30], [1e7, 5]])).toEqual([0, 0, 0]);
  });

  it('learns no rate from runs under PACE_MIN_MS, and each device has its own', async () => {
    const g = fakeGpu();
    expect(await firstRunSleeps(g, [[1e9, PACE_MIN_MS - 1], [1e9, 100]])).toEqual([0, 0]);
    expect(await firstRunSleeps(fakeGpu(), [[1e9, 100]])).toEqual([0]);
    expect(await firstRunSleeps(g, [[1e9, 100]])).toEqual([100 * PACE_ESTIMATE_FRACTION]);
  });

  it('follows its own last run once it has one, and never sleeps in a browser', async () => {
    const g = fakeGpu();
    await firstRunSleeps(g, [[1e9, 10]]); // 1e8 FLOPs/ms known
    const sleeps: number[] = [];
    let clock = 0;
    const pace = new Pace(async (ms) => void sleeps.push(ms), () => clock);
    for (const d of [30, 50]) {
      const since = clock;
      clock += d;
      await pace.idle(g, 'pace test', since, 1e9);
    }
    expect(sleeps).toEqual([10 * PACE_ESTIMATE_FRACTION, 30 * PACE_FRACTION]);
    const web = fakeGpu('browser');
    expect(await firstRunSleeps(web, [[1e9, 100], [1e9, 100]])).toEqual([0, 0]);
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
