// tunePlan on a plan that already ran (a model keeps one plan per input shape, so planFor after a
// forward() returns a plan whose first run settled its tuning): its tuned calls are settled again, the
// dispatches re-recorded with the choices, and the next run uses them; a freed plan is refused in one
// line saying to record it again. Timings injected (nothing here asserts on a real time).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Plan } from '../../src/gpu/plan.js';
import { Allocator, readTensor, type Tensor } from '../../src/gpu/tensor.js';
import { copyKernel } from '../../src/profile/ceiling.js';
import { setTuneMode, setTuneStore, tuneKey, tunePlan, type TuneEntry } from '../../src/gpu/tune.js';

// profilePlan replaced by injected timings: `timing(plan)` answers each call's totalMs
const hook = vi.hoisted(() => ({ timing: null as null | ((plan: unknown) => number) }));
vi.mock('../../src/profile/profiler.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/profile/profiler.js')>();
  return {
    ...real,
    profilePlan: async (plan: Parameters<typeof real.profilePlan>[0], opts: Parameters<typeof real.profilePlan>[1] = {}) =>
      hook.timing ? { totalMs: hook.timing(plan) } : real.profilePlan(plan, opts),
  };
});

const copyArgs = (src: Tensor, dst: Tensor, wg: number) => ({
  spec: copyKernel,
  variant: { overrides: { WG: wg } },
  uniforms: [['n4', 'u32', 1], ['_pad0', 'u32', 0], ['_pad1', 'u32', 0], ['_pad2', 'u32', 0]] as [string, 'u32', number][],
  buffers: [src, dst],
  workgroups: [1, 1, 1] as [number, number, number],
  shapes: '',
  flops: 0,
  bytes: 32,
});
const WG: Record<string, number> = { a: 64, b: 128 };

/**
 * A plan of one tuned call of a test family (candidates a, the heuristic, and b: the same copy at another
 * workgroup size), its scratch plans' timings answered by `ms` (candidate → ms in every round).
 */
function tunedCopy(alloc: Allocator, ms: Record<string, number>) {
  const src = alloc.upload([1, 2, 3, 4], [4], 'f32', 'src');
  const dst = alloc.tensor([4], 'f32', 'dst');
  const names = new Map<unknown, string>();
  hook.timing = (p) => ms[names.get(p)!]!;
  const plan = new Plan(gpu!, alloc);
  plan.recordTuned({
    family: 'ranplan',
    bucket: 'b',
    candidates: ['a', 'b'],
    heuristic: 'a',
    flops: 2 ** 30,
    args: (name) => copyArgs(src, dst, WG[name]!),
    bench: (p, name) => {
      names.set(p, name);
      const s = p.alloc.upload([5, 6, 7, 8], [4], 'f32', 's');
      const d = p.alloc.tensor([4], 'f32', 'd');
      p.record(copyArgs(s, d, WG[name]!));
      return d;
    },
  });
  return { plan, dst, ms };
}

describe.skipIf(!hasGpu)('tunePlan on a plan that already ran', () => {
  const saved: Record<string, TuneEntry>[] = [];
  afterEach(() => {
    hook.timing = null;
    setTuneStore(null);
    setTuneMode(gpu!, 'off');
  });
  const useStore = () => setTuneStore({ where: 'memory (test)', load: async () => ({}), save: async (e) => void saved.push(structuredClone(e)) });

  it('tunes: with force the bucket is re-timed, the dispatch re-recorded, and the next run uses the new choice', async () => {
    useStore();
    setTuneMode(gpu!, 'auto');
    const alloc = new Allocator(gpu!);
    try {
      const { plan, dst, ms } = tunedCopy(alloc, { a: 10, b: 10 });
      await plan.run('first run'); // its own tuning: b no faster, a kept
      expect(plan.dispatches[0]!.choice).toBe('a');
      const key = tuneKey(gpu!, 'ranplan', 'b');
      expect(saved.at(-1)?.[key]?.choice).toBe('a');
      // the cached choice applied as is (nothing timed), as on a fresh plan
      ms.b = 5;
      const [cached] = await tunePlan(plan);
      expect(cached).toMatchObject({ key, measured: false, entry: { choice: 'a' } });
      // re-timed: b is now twice as fast
      const [forced] = await tunePlan(plan, { force: true });
      expect(forced).toMatchObject({ key, measured: true, entry: { choice: 'b', verdict: { b: 'faster' } } });
      expect(plan.dispatches[0]!.choice).toBe('b');
      expect(saved.at(-1)?.[key]?.choice).toBe('b');
      await plan.run('after tunePlan');
      expect([...(await readTensor(gpu!, dst))]).toEqual([1, 2, 3, 4]);
      // and back: the choice the dispatch runs is tracked across re-recordings
      ms.b = 20;
      const [back] = await tunePlan(plan, { force: true, save: false });
      expect(back!.entry.choice).toBe('a');
      expect(plan.dispatches[0]!.choice).toBe('a');
    } finally {
      alloc.destroyAll();
    }
  }, 300_000);

  it("a plan first run with tuning off is tuned by tunePlan once the mode is 'auto'", async () => {
    useStore();
    setTuneMode(gpu!, 'off');
    const alloc = new Allocator(gpu!);
    try {
      const { plan } = tunedCopy(alloc, { a: 10, b: 5 });
      await plan.run('untuned run');
      expect(await tunePlan(plan)).toEqual([]); // 'off': nothing
      setTuneMode(gpu!, 'auto');
      const [r] = await tunePlan(plan);
      expect(r).toMatchObject({ measured: true, entry: { choice: 'b' } });
      expect(plan.dispatches[0]!.choice).toBe('b');
    } finally {
      alloc.destroyAll();
    }
  }, 300_000);

  it('during a run of the plan: refused in one line (an InputError), and tuned once the run has settled', async () => {
    useStore();
    setTuneMode(gpu!, 'auto');
    const alloc = new Allocator(gpu!);
    try {
      const { plan } = tunedCopy(alloc, { a: 10, b: 5 });
      plan.name = 'copy test';
      const running = plan.run('first run'); // its own tuning, compile and submit: in flight until it settles
      const e = await tunePlan(plan, { force: true }).then(() => null, (x: Error) => x);
      expect(e?.name).toBe('InputError');
      expect(e?.message).toBe('tunePlan: plan "copy test" has a run in flight (plan.run() not settled): await it, then tune');
      await running;
      expect(plan.runsInFlight).toBe(0);
      const [r] = await tunePlan(plan, { force: true, save: false });
      expect(r).toMatchObject({ measured: true, entry: { choice: 'b' } });
    } finally {
      alloc.destroyAll();
    }
  }, 300_000);

  it('a freed plan is refused in one line naming it and saying to record it again', async () => {
    setTuneMode(gpu!, 'auto');
    const alloc = new Allocator(gpu!);
    const { plan } = tunedCopy(alloc, { a: 10, b: 10 });
    plan.name = 'copy test';
    await plan.run('first run');
    alloc.destroyAll();
    await expect(tunePlan(plan, { force: true })).rejects.toThrow(/^tunePlan: plan "copy test" was freed \(.*\): record it again \(model\.planFor\(…\), a new workload\)$/);
  }, 300_000);
});
