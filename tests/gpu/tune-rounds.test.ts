// How the tuner times and decides (src/gpu/tune.ts raceCandidates), with injected timings (nothing here
// asserts on a real time): rounds come in blocks in which every candidate still racing takes each place
// once; after each block a challenger is ruled 'faster' (than the heuristic, the first candidate, by more
// than TUNE_MARGIN) or 'not faster' when a confidence interval of its mean log time ratio to the heuristic
// in the same rounds lies wholly on one side of ln(1 − TUNE_MARGIN), and leaves the race; one whose
// interval straddles the bar races on, and at the cap (TUNE_ROUNDS) the heuristic is kept. Session 15's
// fixed 5 rounds decided by the median ratio picked the same GEMM over itself in half of 30 tunings under load.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Pace, Plan } from '../../src/gpu/plan.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import { judgeChallenger, pairedLogRatios, raceCandidates, roundOrder, studentTQuantile, tuneRequest, TUNE_ERROR, TUNE_MARGIN, TUNE_ROUNDS } from '../../src/gpu/tune.js';
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

/** A ±3 % wiggle, different in every round: a quiet machine's spread. */
const WIGGLE = [1, 1.02, 0.98, 1.01, 0.99, 1.03, 0.97, 1, 1.02, 0.98, 1.01, 0.99];
const quiet = (ms: number, shift = 0) => Array.from({ length: 12 }, (_, i) => ms * WIGGLE[(i + shift) % WIGGLE.length]!);
/** The heuristic at 10 ms against a challenger 0.7, 1.4, 0.8, 1.3, 0.9, … of it: near-equal (geometric mean 0.98), the median of the first 5 rounds 0.9. */
const NOISY = [0.7, 1.4, 0.8, 1.3, 0.9, 1.2, 0.75, 1.35, 0.85, 1.25, 0.7, 1.4];

/** raceCandidates over `times` (candidate → its time in each round), with the calls in the order made. */
async function race(times: Record<string, readonly number[]>, maxRounds = TUNE_ROUNDS) {
  const names = Object.keys(times);
  const calls: string[] = [];
  const r = await raceCandidates(names, maxRounds, async (name, round) => {
    calls.push(`${name}${round}`);
    return times[name]![round]!;
  });
  return { ...r, calls };
}

/** Per candidate, how many of `calls`' rounds it ran first in. */
function firsts(calls: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  const seen = new Set<string>();
  for (const c of calls) {
    const round = c.slice(1);
    if (seen.has(round)) continue;
    seen.add(round);
    out[c[0]!] = (out[c[0]!] ?? 0) + 1;
  }
  return out;
}

describe('the statistics', () => {
  it("studentTQuantile: Student's t quantiles as tabulated", () => {
    expect(studentTQuantile(0.025, 1)).toBeCloseTo(12.706, 3);
    expect(studentTQuantile(0.025, 2)).toBeCloseTo(4.303, 3);
    expect(studentTQuantile(0.005, 4)).toBeCloseTo(4.604, 3);
    expect(studentTQuantile(0.025, 10)).toBeCloseTo(2.228, 3);
    expect(studentTQuantile(0.05, 30)).toBeCloseTo(1.697, 3);
    expect(() => studentTQuantile(0.5, 3)).toThrow(RangeError);
    expect(() => studentTQuantile(0.01, 0)).toThrow(RangeError);
  });

  it('pairedLogRatios: ln(time / heuristic) round by round, rounds where either read 0 ms or no number left out', () => {
    expect(pairedLogRatios([10, 20, 40], [5, 20, 80])).toEqual([Math.log(0.5), 0, Math.log(2)]);
    expect(pairedLogRatios([10, 0, 10, NaN, 10, 10], [0, 10, 10, 10, Infinity, 12])).toEqual([0, Math.log(1.2)]);
    // a challenger that left the race: only the rounds it ran
    expect(pairedLogRatios([10, 10, 10, 10], [5, 5])).toEqual([Math.log(0.5), Math.log(0.5)]);
  });

  it('judgeChallenger: a t-interval of the mean log ratio against ln(1 − TUNE_MARGIN), at level TUNE_ERROR / looks', () => {
    expect(TUNE_MARGIN).toBe(0.05);
    expect(TUNE_ERROR).toBe(0.2);
    const logs = (r: number[]) => r.map(Math.log);
    expect(judgeChallenger(logs([0.7, 0.7]), 1)).toBe('undecided'); // fewer than 3 pairs
    expect(judgeChallenger(logs([0.7, 0.72, 0.69]), 8)).toBe('faster');
    expect(judgeChallenger(logs([1.3, 1.28, 1.31]), 8)).toBe('not faster');
    // without spread the margin alone decides: 0.96 is within it, 0.94 beyond
    expect(judgeChallenger(logs([0.96, 0.96, 0.96]), 8)).toBe('not faster');
    expect(judgeChallenger(logs([0.94, 0.94, 0.94]), 8)).toBe('faster');
    expect(judgeChallenger(logs(NOISY.slice(0, 10)), 8)).toBe('undecided');
    // mean ln 0.85 = −0.163, sd 0.092, n 4: half-width t(0.2 / L, 3)·0.046 is 0.045 at 1 look (faster: below
    // ln 0.95 = −0.051), 0.147 at 8 (undecided)
    const d = [Math.log(0.85) - 0.08, Math.log(0.85) + 0.08, Math.log(0.85) - 0.08, Math.log(0.85) + 0.08];
    const sd = Math.sqrt(d.reduce((a, x) => a + (x - Math.log(0.85)) ** 2, 0) / 3);
    expect(sd).toBeCloseTo(0.0924, 3);
    expect(judgeChallenger(d, 1)).toBe('faster');
    expect(judgeChallenger(d, 8)).toBe('undecided');
  });
});

describe('raceCandidates', () => {
  it('a clear win switches early: after the first look with 3 pairs (4 rounds of 2 candidates), not the cap', async () => {
    const r = await race({ h: quiet(10), b: quiet(7, 3) });
    expect(r.calls).toEqual(['h0', 'b0', 'b1', 'h1', 'h2', 'b2', 'b3', 'h3']);
    expect(r.verdict).toEqual({ b: 'faster' });
    expect(r.choice).toBe('b');
    expect(r.ratio.b).toBeCloseTo(0.7, 1);
  });

  it('rounds 3 (and 1, 2) with 2 candidates: a second block still runs, so a 2× faster challenger is ruled faster', async () => {
    // the first block is 2 rounds (2 pairs, fewer than the 3 a verdict needs); the cap applies only after 3
    // pairs, so the race times 4 rounds (it stopped at 2, undecided, and `force` cached the heuristic)
    for (const maxRounds of [3, 2, 1]) {
      const r = await race({ h: quiet(10), b: quiet(5, 3) }, maxRounds);
      expect(r.verdict, `maxRounds ${maxRounds}`).toEqual({ b: 'faster' });
      expect(r.choice).toBe('b');
      expect(r.samples.get('b')).toHaveLength(4);
    }
    // and no further once ruled on, or past the cap once 3 pairs are in: near-equal noise at 3 stops at 4 rounds
    const noisy = await race({ h: quiet(10), b: NOISY.map((x) => 10 * x) }, 3);
    expect(noisy.samples.get('h')).toHaveLength(4);
    expect(noisy.choice).toBe('h');
  });

  it('a clear loss keeps the heuristic as early', async () => {
    const r = await race({ h: quiet(10), b: quiet(13, 3) });
    expect(r.calls.length).toBe(8);
    expect(r.verdict).toEqual({ b: 'not faster' });
    expect(r.choice).toBe('h');
  });

  it('near-equal and noisy: rounds are added up to the cap, and the heuristic is kept', async () => {
    const r = await race({ h: quiet(10), b: NOISY.map((x) => 10 * x) });
    expect(r.calls.length).toBe(2 * TUNE_ROUNDS);
    expect(r.verdict).toEqual({ b: 'undecided' });
    expect(r.choice).toBe('h');
    expect(r.samples.get('h')!.length).toBe(TUNE_ROUNDS);
  });

  it('a challenger ruled on leaves the race; the others race on with the heuristic, in blocks of their own', async () => {
    const r = await race({ h: quiet(10), slow: quiet(20, 1), noisy: NOISY.map((x) => 10 * x), fast: quiet(6, 2) });
    // block 1: 4 rounds of 4; slow and fast ruled; then blocks of 2 (h, noisy) up to 10 rounds
    expect(r.verdict).toEqual({ slow: 'not faster', noisy: 'undecided', fast: 'faster' });
    expect(r.choice).toBe('fast');
    expect([...r.samples].map(([n, s]) => [n, s.length])).toEqual([['h', 10], ['slow', 4], ['noisy', 10], ['fast', 4]]);
    expect(r.calls.slice(0, 16)).toEqual(['h0', 'slow0', 'noisy0', 'fast0', 'slow1', 'noisy1', 'fast1', 'h1', 'noisy2', 'fast2', 'h2', 'slow2', 'fast3', 'h3', 'slow3', 'noisy3']);
    expect(r.calls.slice(16)).toEqual(['h4', 'noisy4', 'noisy5', 'h5', 'h6', 'noisy6', 'noisy7', 'h7', 'h8', 'noisy8', 'noisy9', 'h9']);
  });

  it('among several clearly faster, the lowest ratio wins', async () => {
    expect((await race({ h: quiet(10), b: quiet(9, 1), c: quiet(8, 2) })).choice).toBe('c');
  });

  it('rounds read as 0 ms or no number are left out of the pairs, not read as infinitely fast', async () => {
    // b read 0 in every other round (quantized timestamps), once NaN; where both read a time, b is h's equal
    const b = [0, 10, 0, 10.1, NaN, 9.9, 0, 10, 0, 10.2, 0, 10];
    const r = await race({ h: Array(12).fill(10), b });
    expect(r.verdict).toEqual({ b: 'not faster' });
    expect(r.choice).toBe('h');
    expect(r.calls.length).toBe(2 * 6); // 3 usable pairs (rounds 1, 3, 5) first after the block ending at round 6
    // the heuristic read 0: those rounds say nothing either; none usable: no evidence, undecided, kept
    const none = await race({ h: Array(12).fill(0), b: Array(12).fill(5) });
    expect(none.verdict).toEqual({ b: 'undecided' });
    expect(none.ratio).toEqual({ h: 1, b: 1 });
    expect(none.choice).toBe('h');
  });

  it('the rotation is fair: every candidate first in as many rounds as the others at every stop, also with an odd cap', async () => {
    expect([0, 1, 2, 3].map((i) => roundOrder(['a', 'b', 'c'], i).join(''))).toEqual(['abc', 'bca', 'cab', 'abc']);
    // 2 candidates, cap 5: whole blocks only, so 4 rounds (a fixed 5 put the heuristic first 3 times of 5)
    const two = await race({ h: quiet(10), b: NOISY.map((x) => 10 * x) }, 5);
    expect(two.calls).toEqual(['h0', 'b0', 'b1', 'h1', 'h2', 'b2', 'b3', 'h3']);
    expect(firsts(two.calls)).toEqual({ h: 2, b: 2 });
    const three = await race({ h: quiet(10), b: NOISY.map((x) => 10 * x), c: NOISY.map((x) => 10 / x) });
    expect(three.samples.get('h')!.length).toBe(9);
    expect(firsts(three.calls)).toEqual({ h: 3, b: 3, c: 3 });
    // more candidates than the cap: one block, each first once
    const wide = await race({ h: quiet(10), b: quiet(10, 1), c: quiet(10, 2) }, 2);
    expect(firsts(wide.calls)).toEqual({ h: 1, b: 1, c: 1 });
  });

  it('a lone candidate is timed once (its ms); no candidate is refused', async () => {
    const r = await race({ h: [4, 5] });
    expect(r.calls).toEqual(['h0']);
    expect(r.choice).toBe('h');
    await expect(raceCandidates([], 5, async () => 1)).rejects.toThrow(/no candidate/);
  });
});

describe("tessera tune's note on a kept heuristic", () => {
  it('names the candidates faster within the margin, and those left undecided at the cap', () => {
    expect(keptNote({ choice: 'a', ms: { a: 10, b: 9 }, ratio: { a: 1, b: 1.02 } })).toBe('');
    expect(keptNote({ choice: 'a', ms: { a: 10, b: 11 }, ratio: { a: 1, b: 0.97 }, verdict: { b: 'not faster' } })).toBe('; a kept: b faster by at most 5 %, within the run-to-run spread');
    expect(keptNote({ choice: 'a', ms: { a: 10, b: 9.8 } })).toBe('; a kept: b faster by at most 5 %, within the run-to-run spread'); // an entry cached before ratios
    expect(keptNote({ choice: 'a', ms: { a: 10, b: 7, c: 9 }, ratio: { a: 1, b: 0.9, c: 0.98 }, verdict: { b: 'undecided', c: 'not faster' }, rounds: { a: 10, b: 10, c: 4 } })).toBe(
      '; a kept: c faster by at most 5 %, within the run-to-run spread; b undecided after 10 rounds (too wide a spread between rounds to tell whether faster by 5 %)',
    );
  });
});

const [M, K, N] = [12, 36, 40];

/**
 * tuneRequest on candidates that all run the same GEMM, their timed rounds answered from `times`
 * (candidate → its time in each round); `log` lists the check runs and the timed runs in order.
 */
async function tuneWith(times: Record<string, readonly number[]>, rounds?: number): Promise<{ entry: Awaited<ReturnType<typeof tuneRequest>>; log: string[]; paces: Map<string, Set<unknown>> }> {
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
  const entry = await tuneRequest(gpu!, { family: 'test', bucket: 'b', candidates, heuristic: candidates[0]!, flops: 2 * M * N * K, args: () => { throw new Error('unused'); }, bench }, rounds === undefined ? {} : { rounds });
  return { entry, log, paces };
}

describe.skipIf(!hasGpu)('tuneRequest', () => {
  afterEach(() => {
    hook.timing = null;
    vi.restoreAllMocks();
  });

  it('checks every candidate before timing any, times them in rotated rounds (one Pace each), and stops at the first look that rules on all', async () => {
    // h: the heuristic; q is 1.3 of it, s 0.7: both ruled on after one block of 3 rounds (a fixed rule timed TUNE_ROUNDS)
    const { entry, log, paces } = await tuneWith({ h: quiet(10), q: quiet(13, 1), s: quiet(7, 2) });
    expect(log).toEqual(['check h', 'check q', 'check s', 'h0', 'q0', 's0', 'q1', 's1', 'h1', 's2', 'h2', 'q2']);
    expect([...paces.keys()].sort()).toEqual(['h', 'q', 's']);
    for (const [name, ps] of paces) {
      expect(ps.size, name).toBe(1);
      expect([...ps][0], name).toBeInstanceOf(Pace);
    }
    expect(entry.choice).toBe('s');
    expect(entry.verdict).toEqual({ q: 'not faster', s: 'faster' });
    expect(entry.rounds).toEqual({ h: 3, q: 3, s: 3 });
    expect(entry.ratio!.s).toBeCloseTo(0.7, 1);
    // the fastest rounds, kept for the record
    for (const [n, ms] of Object.entries({ h: 9.8, q: 12.74, s: 6.86 })) expect(entry.ms[n], n).toBeCloseTo(ms, 9);
  }, 300_000);

  it('a clear win of 2 candidates switches after 4 rounds; a clear loss keeps the heuristic as early', async () => {
    const win = await tuneWith({ h: quiet(10), b: quiet(7, 3) });
    expect(win.log.filter((l) => !l.startsWith('check'))).toEqual(['h0', 'b0', 'b1', 'h1', 'h2', 'b2', 'b3', 'h3']);
    expect(win.entry.choice).toBe('b');
    vi.restoreAllMocks();
    const loss = await tuneWith({ h: quiet(10), b: quiet(13, 3) });
    expect(loss.log.filter((l) => !l.startsWith('check')).length).toBe(8);
    expect(loss.entry.choice).toBe('h');
    expect(loss.entry.verdict).toEqual({ b: 'not faster' });
  }, 300_000);

  it('near-equal under noise: timed up to the cap and the heuristic kept (the median of 5 rounds, 0.9, switched)', async () => {
    const { entry, log } = await tuneWith({ h: quiet(10), b: NOISY.map((x) => 10 * x) });
    expect(log.filter((l) => !l.startsWith('check')).length).toBe(2 * TUNE_ROUNDS);
    expect(entry.choice).toBe('h');
    expect(entry.verdict).toEqual({ b: 'undecided' });
    expect(entry.rounds).toEqual({ h: TUNE_ROUNDS, b: TUNE_ROUNDS });
  }, 300_000);

  it('a challenger that read 0 ms in some rounds (and no number in one) is judged on the other rounds, not picked', async () => {
    const { entry } = await tuneWith({ h: Array(12).fill(10), b: [0, 10, 0, 10.1, NaN, 9.9, 0, 10, 0, 10.2, 0, 10] });
    expect(entry.choice).toBe('h');
    expect(entry.verdict).toEqual({ b: 'not faster' });
    expect(entry.ratio!.b).toBeCloseTo(1, 2);
  }, 300_000);

  it('rounds: 5 with 2 candidates times 4 rounds, the heuristic first in 2 of them', async () => {
    const { log } = await tuneWith({ h: quiet(10), b: NOISY.map((x) => 10 * x) }, 5);
    const timed = log.filter((l) => !l.startsWith('check'));
    expect(timed).toEqual(['h0', 'b0', 'b1', 'h1', 'h2', 'b2', 'b3', 'h3']);
    expect(firsts(timed)).toEqual({ h: 2, b: 2 });
  }, 300_000);

  it('rounds: 3 with 2 candidates and a 2× faster challenger: 4 rounds, ruled faster and chosen', async () => {
    const { entry } = await tuneWith({ h: quiet(10), b: quiet(5, 3) }, 3);
    expect(entry.verdict).toEqual({ b: 'faster' });
    expect(entry.choice).toBe('b');
    expect(entry.rounds).toEqual({ h: 4, b: 4 });
  }, 300_000);

  it('the same kernel entered twice, one lucky run: the heuristic is kept', async () => {
    const { entry } = await tuneWith({ a: [20, 20, 21, 20, 20, 20, 21, 20, 20, 20], b: [20, 12, 21, 20, 21, 20, 20, 21, 20, 20] });
    expect(entry.choice).toBe('a'); // by the fastest round, b: 12 against 20
  }, 300_000);
});
