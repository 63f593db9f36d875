// How the tuner times and decides (src/gpu/tune.ts), with injected timings (nothing here asserts on a
// real time): every round times each candidate once, the order rotated per round, and a challenger
// replaces the heuristic (the first candidate) only when the median over the rounds of its time over
// the heuristic's in the same round is below 1 − TUNE_MARGIN. On a shared machine the load changes
// between one run and the next; the fastest round of each (the previous rule) compared one
// candidate's quiet moment with another's busy one.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Pace, Plan } from '../../src/gpu/plan.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import { pairedRatios, pickChoice, roundOrder, timeRounds, tuneRequest, TUNE_MARGIN } from '../../src/gpu/tune.js';
import { gemm, gemmHeuristic } from '../../src/ops/gemm.js';
import { keptNote } from '../../src/cli/cmd-tune.js';
import { randn } from '../../src/random.js';

// profilePlan replaced by injected timings: `timing(plan, pace)` answers each call's totalMs
const hook = vi.hoisted(() => ({ timing: null as null | ((plan: unknown, pace: unknown) => number) }));
vi.mock('../../src/profile/profiler.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/profile/profiler.js')>();
  return {
    ...real,
    profilePlan: async (plan: Parameters<typeof real.profilePlan>[0], opts: Parameters<typeof real.profilePlan>[1] = {}) =>
      hook.timing ? { totalMs: hook.timing(plan, opts.pace) } : real.profilePlan(plan, opts),
  };
});

/** timeRounds over `times` (candidate → its time in each round), with the calls in the order made. */
async function timed(times: Record<string, number[]>): Promise<{ samples: Map<string, number[]>; calls: string[] }> {
  const names = Object.keys(times);
  const calls: string[] = [];
  const samples = await timeRounds(names, times[names[0]!]!.length, async (name, round) => {
    calls.push(`${name}${round}`);
    return times[name]![round]!;
  });
  return { samples, calls };
}

/** What tuneRequest decides from these per-round times: pickChoice over pairedRatios. */
async function decide(times: Record<string, number[]>): Promise<string> {
  const names = Object.keys(times);
  return pickChoice(names, pairedRatios(names, (await timed(times)).samples));
}

describe('interleaved rounds', () => {
  it('round r times every candidate once, the order rotated by r (each takes each place once in n rounds)', async () => {
    expect([0, 1, 2, 3].map((i) => roundOrder(['a', 'b', 'c'], i).join(''))).toEqual(['abc', 'bca', 'cab', 'abc']);
    expect([0, 1, 2].map((i) => roundOrder(['a', 'b'], i).join(''))).toEqual(['ab', 'ba', 'ab']);
    expect(roundOrder(['a'], 7)).toEqual(['a']);
    const { samples, calls } = await timed({ a: [1, 2, 3], b: [4, 5, 6], c: [7, 8, 9] });
    expect(calls).toEqual(['a0', 'b0', 'c0', 'b1', 'c1', 'a1', 'c2', 'a2', 'b2']);
    // each candidate's times indexed by round, whatever its place in the round
    expect([...samples]).toEqual([['a', [1, 2, 3]], ['b', [4, 5, 6]], ['c', [7, 8, 9]]]);
  });
});

describe('the decision: median over rounds of the time ratio to the heuristic in the same round', () => {
  it('pairedRatios: per candidate, the median of its round-by-round ratios to the first (the heuristic: 1)', async () => {
    const { samples } = await timed({ a: [10, 20, 40, 10, 20], b: [9, 22, 30, 10, 17], c: [20, 40, 80, 20, 40] });
    // b/a per round: 0.9, 1.1, 0.75, 1, 0.85 → median 0.9; c is twice a in every round
    expect(pairedRatios(['a', 'b', 'c'], samples)).toEqual({ a: 1, b: 0.9, c: 2 });
    // an even count of rounds: the mean of the middle two (0.8 and 1 → 0.9), not either one
    expect(pairedRatios(['a', 'b'], (await timed({ a: [10, 10, 10, 10], b: [8, 10, 7, 12] })).samples).b).toBeCloseTo(0.9, 12);
  });

  it('rounds read as 0 ms (coarse timestamps on small work) are left out, not turned into NaN or Infinity', () => {
    // rounds 0 and 2 count (the reference read 0.1): b/a 0 and 0 → b, which read 0 in every round, is faster
    expect(pairedRatios(['a', 'b'], new Map([['a', [0.1, 0, 0.1]], ['b', [0, 0, 0]]]))).toEqual({ a: 1, b: 0 });
    // no round where the reference read more than 0: no evidence, the reference is kept (1, not NaN)
    const none = pairedRatios(['a', 'b'], new Map([['a', [0, 0, 0]], ['b', [0, 0.2, 0]]]));
    expect(none).toEqual({ a: 1, b: 1 });
    expect(pickChoice(['a', 'b'], none)).toBe('a');
  });

  it('a load change between two candidates of one round does not decide: the same kernel twice keeps the heuristic', async () => {
    // b ran once in a quiet moment (round 1), a never did: by the fastest round b looks 40 % faster (12 vs 20)
    expect(await decide({ a: [20, 20, 21, 20, 20], b: [20, 12, 21, 20, 21] })).toBe('a');
  });

  it('a faster challenger wins though the heuristic had the one quiet moment (its fastest round the lowest)', async () => {
    // a's round 0 ran before the load rose, b's after: fastest rounds 10 vs 16 would keep a; b is 0.8 of a in 4 of 5 rounds
    expect(await decide({ a: [10, 20, 20, 20, 20], b: [16, 16, 16, 16, 16] })).toBe('b');
  });

  it('a burst that hits one candidate in fewer than half of the rounds does not flip the choice', async () => {
    expect(await decide({ a: [14, 6, 15, 6, 6], b: [8, 8, 8, 8, 8] })).toBe('a');
  });

  it('TUNE_MARGIN applies to the median ratio: within it the heuristic is kept; among several the lowest ratio wins', async () => {
    expect(TUNE_MARGIN).toBe(0.05);
    expect(await decide({ a: [100, 200, 100], b: [96, 192, 96] })).toBe('a'); // 0.96: noise
    expect(await decide({ a: [100, 200, 100], b: [94, 188, 94] })).toBe('b'); // 0.94
    expect(await decide({ a: [100, 200, 100], b: [90, 180, 90], c: [80, 160, 80] })).toBe('c');
    expect(await decide({ a: [100, 200, 100], b: [120, 240, 120] })).toBe('a');
  });

  it('refuses samples that do not pair: a candidate without rounds, or with another count than the heuristic', () => {
    expect(() => pairedRatios(['a', 'b'], new Map([['a', []], ['b', []]]))).toThrow(/candidate a has no timed round/);
    expect(() => pairedRatios(['a', 'b'], new Map([['a', [1, 2]], ['b', [1]]]))).toThrow(/candidate b has 1 timed rounds, the reference 2/);
  });
});

describe("tessera tune's note on a kept heuristic", () => {
  it('names the candidates whose median ratio is below 1 (not those whose fastest round was lower)', () => {
    expect(keptNote({ choice: 'a', ms: { a: 10, b: 9 }, ratio: { a: 1, b: 1.02 } })).toBe('');
    expect(keptNote({ choice: 'a', ms: { a: 10, b: 11 }, ratio: { a: 1, b: 0.97 } })).toBe('; a kept: b faster by at most 5 %, within the run-to-run spread');
    expect(keptNote({ choice: 'a', ms: { a: 10, b: 9.8 } })).toBe('; a kept: b faster by at most 5 %, within the run-to-run spread'); // an entry cached before ratios
  });
});

const [M, K, N] = [12, 36, 40];

/**
 * tuneRequest on candidates that all run the same GEMM, their timed rounds answered from `times`
 * (candidate → its time in each round); `log` lists the check runs and the timed runs in order.
 */
async function tuneWith(times: Record<string, number[]>): Promise<{ entry: Awaited<ReturnType<typeof tuneRequest>>; log: string[]; paces: Map<string, Set<unknown>> }> {
  const names = new Map<unknown, string>();
  const bench = (p: Plan, name: string): Tensor => {
    names.set(p, name);
    const a = p.alloc;
    const out = a.tensor([M, N], 'f32', 'y');
    gemm(p, { x: a.upload(randn(M * K, 3), [M, K], 'f32', 'x'), w: a.upload(randn(N * K, 4, 1 / 6), [N, K], 'f32', 'w'), out, strategy: gemmHeuristic(gpu!, M, N) });
    return out;
  };
  const log: string[] = [];
  const paces = new Map<string, Set<unknown>>();
  const round = new Map<string, number>();
  const run = Plan.prototype.run;
  vi.spyOn(Plan.prototype, 'run').mockImplementation(function (this: Plan, ...args: Parameters<Plan['run']>) {
    log.push(`check ${names.get(this)}`);
    return run.apply(this, args);
  });
  hook.timing = (plan, pace) => {
    const name = names.get(plan)!;
    const r = round.get(name) ?? 0;
    round.set(name, r + 1);
    log.push(`${name}${r}`);
    paces.set(name, (paces.get(name) ?? new Set()).add(pace));
    return times[name]![r]!;
  };
  const candidates = Object.keys(times);
  const entry = await tuneRequest(gpu!, { family: 'test', bucket: 'b', candidates, heuristic: candidates[0]!, flops: 2 * M * N * K, args: () => { throw new Error('unused'); }, bench }, { rounds: times[candidates[0]!]!.length });
  return { entry, log, paces };
}

describe.skipIf(!hasGpu)('tuneRequest', () => {
  afterEach(() => {
    hook.timing = null;
    vi.restoreAllMocks();
  });

  it('checks every candidate before timing any, times them in rotated rounds (one Pace each), and decides by the paired median', async () => {
    // h: the heuristic; q had a quiet moment (its fastest round, 7, the lowest of all), s is 0.85 of h in every round
    const { entry, log, paces } = await tuneWith({ h: [10, 20, 20, 20, 20], q: [20, 7, 20, 24, 21], s: [8.5, 17, 17, 17, 17] });
    expect(log).toEqual(['check h', 'check q', 'check s', 'h0', 'q0', 's0', 'q1', 's1', 'h1', 's2', 'h2', 'q2', 'h3', 'q3', 's3', 'q4', 's4', 'h4']);
    expect([...paces.keys()].sort()).toEqual(['h', 'q', 's']);
    for (const [name, ps] of paces) {
      expect(ps.size, name).toBe(1);
      expect([...ps][0], name).toBeInstanceOf(Pace);
    }
    // q/h per round: 2, 0.35, 1, 1.2, 1.05 → 1.05
    expect(entry.ratio).toEqual({ h: 1, q: 1.05, s: 0.85 });
    expect(entry.choice).toBe('s');
    expect(entry.ms).toEqual({ h: 10, q: 7, s: 8.5 }); // the fastest rounds, kept for the record
  }, 300_000);

  it('the same kernel entered twice, one lucky run: the heuristic is kept', async () => {
    const { entry } = await tuneWith({ a: [20, 20, 21, 20, 20], b: [20, 12, 21, 20, 21] });
    expect(entry.choice).toBe('a'); // by the fastest round, b: 12 against 20
    expect(entry.ratio).toEqual({ a: 1, b: 1 });
  }, 300_000);
});
