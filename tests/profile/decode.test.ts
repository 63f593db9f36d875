// Profiling a VAE decode: every dispatch of every piece timed, the pieces joined into one run,
// and the decode's numbers unchanged by being profiled; a per-plan profiler handed to profileDecode (every piece through it).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import type { Plan } from '../../src/gpu/plan.js';
import { joinRuns, profileDecode, profileWarm } from '../../src/profile/decode.js';
import { profilePlan, type ProfileRun, type ProfiledDispatch } from '../../src/profile/profiler.js';
import { randn } from '../../src/random.js';
import { loadVae } from '../../src/vae/vae.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const disp = (kernel: string, startMs: number, runMs: number): ProfiledDispatch => ({ kernel, family: kernel, layer: kernel, shapes: '', flops: 1, bytes: 1, workgroups: [1, 1, 1], ms: runMs, startMs, runMs, samples: [runMs] });
const run = (ds: ProfiledDispatch[], totalMs: number, peak: number): ProfileRun => ({ timing: 'gpu-timestamps', adapter: 'a', repeats: 1, warmup: 0, dispatches: ds, totalMs, stepMs: [totalMs], wallMs: [totalMs + 1], dropped: 1, peakBytes: peak, residentBytes: 0, date: 'd' });

describe('joinRuns', () => {
  it('concatenates dispatches, shifts each piece after the previous one, sums totals', () => {
    const j = joinRuns([run([disp('a', 0, 2), disp('b', 2.5, 1)], 3, 10), run([disp('c', 0, 4)], 4, 30)]);
    expect(j.dispatches.map((d) => [d.kernel, d.startMs])).toEqual([['a', 0], ['b', 2.5], ['c', 3.5]]);
    expect([j.totalMs, j.stepMs, j.wallMs, j.dropped, j.peakBytes, j.repeats, j.timing]).toEqual([7, [7], [9], 2, 30, 1, 'gpu-timestamps']);
    expect(joinRuns([run([], 1, 0), { ...run([disp('x', 0, 1)], 1, 0), timing: 'wall-clock' }]).timing).toBe('wall-clock');
    expect(() => joinRuns([])).toThrow(/no runs/);
  });
});

describe('profileWarm', () => {
  it('profiles the second run only: the first (which compiles each kernel at its first dispatch) runs plain and gives the result and the wall time', async () => {
    const log: string[] = [];
    // stand-in plans: `run` is the plain run; the profiler below is the timed one
    const plan = (name: string) => ({ layer: name, run: async (where: string) => void log.push(`run ${name} (${where})`) }) as unknown as Plan;
    const plans = [plan('a'), plan('b')];
    let calls = 0;
    const profiled: ProfileRun[] = [];
    const w = await profileWarm(
      async (runPlan) => {
        const n = ++calls;
        for (const p of plans) await runPlan(p, `pass ${n}`);
        return `output of pass ${n}`;
      },
      {
        profile: async (p) => {
          log.push(`profile ${p.layer}`);
          // the first run's cost (a 2 s compile) would show here if the profile were taken on it
          const r = run([disp(`${p.layer}-kernel`, 0, 1)], 1, 0);
          profiled.push(r);
          return r;
        },
      },
    );
    expect(log).toEqual(['run a (pass 1)', 'run b (pass 1)', 'profile a', 'profile b']);
    expect(w.result).toBe('output of pass 1');
    expect(w.run.dispatches.map((d) => d.kernel)).toEqual(['a-kernel', 'b-kernel']);
    expect(w.run.totalMs).toBe(2);
    expect(w.wallMs).toBeGreaterThanOrEqual(0);
    expect(w.profileMs).toBeGreaterThanOrEqual(0);
    await expect(profileWarm(async () => 0, { profile: async () => profiled[0]! })).rejects.toThrow(/no runs/);
  });
});

describe.skipIf(!hasGpu)('profileDecode', () => {
  it('times every dispatch of a Wan decode and leaves the sample bit-identical', async () => {
    const vae = await loadVae(join(FIXTURES, 'wan_pipeline_embeds', 'pipeline', 'vae'), { gpu: gpu! });
    try {
      const latents = { data: randn(4 * 2 * 4 * 6, 3), shape: [1, 4, 2, 4, 6] };
      const plain = await vae.decode(latents);
      const { sample, run: r } = await profileDecode(vae, latents);
      expect(sample.shape).toEqual([1, 3, 5, 32, 48]);
      expect(Array.from(sample.data)).toEqual(Array.from(plain.data));
      expect(r.dispatches.length).toBe(vae.lastStats!.dispatches);
      for (const f of ['conv', 'vae_norm', 'vae_attention']) expect(r.dispatches.some((d) => d.family === f), f).toBe(true);
      expect(r.peakBytes).toBe(vae.lastStats!.peakBytes + vae.lastStats!.weightBytes);
      // warm: the sample of a plain decode, the profile of a second one (the same dispatches)
      const warm = await profileDecode(vae, latents, { warm: true });
      expect(Array.from(warm.sample.data)).toEqual(Array.from(plain.data));
      expect(warm.run.dispatches.map((d) => d.kernel)).toEqual(r.dispatches.map((d) => d.kernel));
      expect(warm.wallMs).toBeGreaterThan(0);
      if (r.timing === 'gpu-timestamps') {
        const starts = r.dispatches.map((d) => d.startMs!);
        for (let i = 1; i < starts.length; i++) expect(starts[i]).toBeGreaterThanOrEqual(starts[i - 1]! - 1e-9);
        expect(r.totalMs).toBeGreaterThan(0);
        expect(r.dispatches.filter((d) => d.ms !== null).length).toBeGreaterThan(r.dispatches.length / 2);
      }
    } finally {
      vae.dispose();
    }
  });
});

describe.skipIf(!hasGpu)("profileDecode's per-plan profiler", () => {
  it('takes one, as profileWarm does: every piece of every profiled decode goes through it (the warm first decode not)', async () => {
    const vae = await loadVae(join(FIXTURES, 'wan_pipeline_embeds', 'pipeline', 'vae'), { gpu: gpu! });
    try {
      const latents = { data: randn(4 * 2 * 4 * 6, 5), shape: [1, 4, 2, 4, 6] };
      const seen: Plan[] = [];
      const profile = async (plan: Plan) => {
        seen.push(plan);
        return profilePlan(plan, { repeats: 1, warmup: 0 });
      };
      const r = await profileDecode(vae, latents, { profile });
      const pieces = seen.length;
      expect(pieces).toBeGreaterThan(1);
      expect(r.run.dispatches.length).toBe(seen.reduce((a, p) => a + p.dispatches.length, 0));
      const warm = await profileDecode(vae, latents, { profile, warm: true, repeats: 2 });
      expect(seen.length, 'the warm decode: its two profiled decodes through it').toBe(3 * pieces);
      expect(warm.run.dispatches.map((d) => d.kernel)).toEqual(r.run.dispatches.map((d) => d.kernel));
    } finally {
      vae.dispose();
    }
  });
});
