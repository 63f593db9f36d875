// Mutation round 5 (session 18) on Plan.runsInFlight (fc4fb1a) and TuneEntry.interval (f8b0dd7), on a small GEMM
// workload's plan:
// - a run that fails settles too: counted only on success, one failed run (a compile error, a lost device, an abort)
//   left tunePlan refusing the plan for good ('has a run in flight') though nothing ran;
// - the entry a tuning stores carries the interval each challenger's verdict was read from (tessera info shows it):
//   the tests read it from raceCandidates and from entries written by hand, so the entry tuneRequest builds could drop
//   it. Real times: only the entry's shape is asserted, never which candidate won (on lavapipe at 256³, 4 candidates,
//   2 or 3 verdicts decided a run).
import { afterEach, describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { setTuneMode, TUNE_MARGIN, tunePlan } from '../../src/gpu/tune.js';
import { gemmWorkload } from '../../src/profile/workloads.js';

describe.skipIf(!hasGpu)('a GEMM plan', () => {
  afterEach(() => setTuneMode(gpu!, 'off'));

  it('runsInFlight is 0 again after a run that failed, as after one that succeeded', async () => {
    const w = gemmWorkload(gpu!, { m: 64, k: 64, n: 64, dtype: 'f32' });
    try {
      await w.plan.run('good run');
      expect(w.plan.runsInFlight).toBe(0);
      const compile = w.plan.compile.bind(w.plan);
      w.plan.compile = async () => {
        throw new Error('compile failed (test)');
      };
      await expect(w.plan.run('failing run')).rejects.toThrow('compile failed (test)');
      expect(w.plan.runsInFlight).toBe(0);
      w.plan.compile = compile;
      await w.plan.run('run after it');
      expect(w.plan.runsInFlight).toBe(0);
    } finally {
      w.destroy();
    }
  });

  it("a tuning's entry holds the interval each decided verdict was read from, around the challenger's ratio", async () => {
    setTuneMode(gpu!, 'auto');
    const w = gemmWorkload(gpu!, { m: 256, k: 256, n: 256, dtype: 'f32' });
    try {
      const [r] = await tunePlan(w.plan, { force: true, save: false });
      expect(r!.measured).toBe(true);
      const e = r!.entry;
      const challengers = Object.keys(e.ratio!).slice(1);
      expect(challengers.length).toBeGreaterThan(0);
      // a verdict other than undecided needs 3 usable rounds, so its interval is there; an undecided challenger's may be
      // missing (rounds read as 0 ms are not usable), one that is there brackets its ratio all the same
      const decided = challengers.filter((n) => e.verdict![n] !== 'undecided');
      for (const n of decided) expect(e.interval?.[n], n).toBeDefined();
      const bar = 1 - TUNE_MARGIN;
      for (const [n, [lo, hi]] of Object.entries(e.interval ?? {})) {
        expect(challengers).toContain(n);
        expect(lo).toBeLessThanOrEqual(e.ratio![n]!);
        expect(hi).toBeGreaterThanOrEqual(e.ratio![n]!);
        expect(e.verdict![n]).toBe(hi < bar ? 'faster' : lo > bar ? 'not faster' : 'undecided');
      }
    } finally {
      w.destroy();
    }
  }, 300_000);
});
