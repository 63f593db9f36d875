// How the tuner decides (src/gpu/tune.ts): a candidate replaces the heuristic only when it is faster
// by more than TUNE_MARGIN (near-equal ones are noise); each candidate's timed rounds wait through one
// Pace, as Plan.run's runs do (a Pace per round never slept: Dawn's busy wait took a core from
// lavapipe's threads while it was timed); a damaged cached entry is re-timed, not reported as is.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Pace, Plan } from '../../src/gpu/plan.js';
import { Allocator, type Tensor } from '../../src/gpu/tensor.js';
import { raceCandidates, setTuneMode, setTuneStore, tuneKey, tunePlan, tuneRequest, TUNE_MARGIN, type TuneEntry } from '../../src/gpu/tune.js';
import { gemm, gemmBucket, gemmCandidates, gemmHeuristic } from '../../src/ops/gemm.js';
import { randn } from '../../src/random.js';

// every profilePlan call the tuner makes, with the Pace it passed
const calls = vi.hoisted(() => [] as { plan: unknown; pace: unknown }[]);
vi.mock('../../src/profile/profiler.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/profile/profiler.js')>();
  return {
    ...real,
    profilePlan: (plan: Parameters<typeof real.profilePlan>[0], opts: Parameters<typeof real.profilePlan>[1] = {}) => {
      calls.push({ plan, pace: opts.pace });
      return real.profilePlan(plan, opts);
    },
  };
});

describe('the margin', () => {
  it('keeps the reference (the heuristic, first) unless a candidate beats it by more than TUNE_MARGIN in every round', async () => {
    expect(TUNE_MARGIN).toBe(0.05);
    // steady times (no spread): the margin alone decides (the spread's part: tune-rounds.test.ts)
    const choose = async (ms: Record<string, number>) => (await raceCandidates(Object.keys(ms), 10, async (n) => ms[n]!)).choice;
    expect(await choose({ ref: 10, b: 9.6 })).toBe('ref'); // 4 % faster: noise
    expect(await choose({ ref: 10, b: 9.4 })).toBe('b');
    expect(await choose({ ref: 10, b: 9, c: 8 })).toBe('c');
    expect(await choose({ ref: 8, b: 10 })).toBe('ref');
    expect(await choose({ ref: 8 })).toBe('ref');
  });
});

const [M, K, N] = [12, 36, 40];

describe.skipIf(!hasGpu)('the timed rounds', () => {
  it("wait through one Pace per candidate, the same for all of that candidate's rounds", async () => {
    const bench = (p: Plan, _name: string): Tensor => {
      const a = p.alloc;
      const out = a.tensor([M, N], 'f32', 'y');
      gemm(p, { x: a.upload(randn(M * K, 3), [M, K], 'f32', 'x'), w: a.upload(randn(N * K, 4, 1 / 6), [N, K], 'f32', 'w'), out, strategy: gemmHeuristic(gpu!, M, N) });
      return out;
    };
    calls.length = 0;
    await tuneRequest(gpu!, { family: 'test', bucket: 'b', candidates: ['a', 'b'], heuristic: 'a', flops: 2 * M * N * K, args: () => { throw new Error('unused'); }, bench }, { rounds: 4 });
    expect(calls.length).toBe(8);
    const plans = [...new Set(calls.map((c) => c.plan))];
    expect(plans.length).toBe(2);
    const paces = plans.map((p) => [...new Set(calls.filter((c) => c.plan === p).map((c) => c.pace))]);
    for (const ps of paces) {
      expect(ps.length).toBe(1);
      expect(ps[0]).toBeInstanceOf(Pace);
    }
    expect(paces[0]![0]).not.toBe(paces[1]![0]);
  }, 300_000);
});

describe.skipIf(!hasGpu)('a damaged cached entry', () => {
  afterAll(() => {
    setTuneStore(null);
    setTuneMode(gpu!, 'off');
  });
  it('(no timings) is re-timed and replaced, not reported as the choice', async () => {
    const key = tuneKey(gpu!, 'gemm', gemmBucket('f32', M, N, K));
    const saved: Record<string, TuneEntry>[] = [];
    const damaged = { choice: gemmHeuristic(gpu!, M, N), shapes: 'x', date: '2026-12-01' };
    setTuneStore({ where: 'memory (test)', load: async () => ({ [key]: damaged }) as unknown as Record<string, TuneEntry>, save: async (e) => void saved.push(structuredClone(e)) });
    setTuneMode(gpu!, 'auto');
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      gemm(plan, { x: alloc.tensor([M, K], 'f32', 'x'), w: alloc.tensor([N, K], 'f32', 'w'), out: alloc.tensor([M, N], 'f32', 'y') });
      const [r] = await tunePlan(plan, { rounds: 1 });
      expect(r?.measured).toBe(true);
      expect(Object.keys(r!.entry.ms).sort()).toEqual([...gemmCandidates(gpu!, M, N, K)].sort());
      expect(saved.at(-1)?.[key]?.ms).toEqual(r!.entry.ms);
    } finally {
      alloc.destroyAll();
    }
  }, 300_000);
});
