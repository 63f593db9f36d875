import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DDIMScheduler,
  FlowMatchEulerScheduler,
  alphasCumprod,
  betasFor,
  cfgCombine,
  ddimTimesteps,
  flowMatchSigmas,
  npArange,
  npLinspace,
  rescaleZeroTerminalSnr,
  roundHalfEven,
} from '../../src/sampler/scheduler.js';
import { makeScheduler } from '../../src/sampler/config.js';

// tables.json is written by make_tables.py (diffusers' set-up code transcribed with numpy).
const tables = JSON.parse(readFileSync(new URL('./tables.json', import.meta.url), 'utf8')) as {
  flow: { steps: number; shift: number; timesteps: number[]; sigmas: number[] }[];
  ddim_timesteps: { steps: number; spacing: 'leading' | 'trailing' | 'linspace'; steps_offset: number; timesteps: number[] }[];
  alphas_cumprod: Record<string, number[]> & { index: number[] };
};

function expectRel(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs = 0): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = Math.max(abs, rel * Math.abs(expected[i]!));
    if (!(Math.abs(actual[i]! - expected[i]!) <= tol)) {
      throw new Error(`index ${i}: got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
    }
  }
}

// the golden cases' own scheduler_config.json, as copied into tests/fixtures (always there: no fallback)
function goldenScheduler(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}/scheduler/scheduler_config.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

describe('numpy helpers', () => {
  it('linspace: endpoint exact, num 1 gives start', () => {
    expect(npLinspace(0, 999, 3)).toEqual([0, 499.5, 999]);
    expect(npLinspace(1000, 2, 1)).toEqual([1000]);
    expect(npLinspace(0, 1, 11)[3]).toBe(3 * 0.1); // i*step, not i/div
  });
  it('round half to even', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 499.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 500, 2, 3]);
  });
  it('float arange length quirk', () => {
    expect(npArange(1000, 0, -1000 / 3)).toHaveLength(3);
    expect(npArange(1000, 0, -1000 / 61)).toHaveLength(62); // numpy gives 62 too
  });
});

describe('flow-match euler: tables', () => {
  it('golden wan_sampler_small: shift 2, 3 steps', () => {
    const r = flowMatchSigmas(3, 2);
    expectRel(r.timesteps, [1000, 667.554077, 3.98803592], 1e-8);
    expectRel(r.sigmas, [1, 0.66755408, 0.00398803595, 0], 1e-8);
  });
  it('golden scheduler_config.json through makeScheduler', () => {
    const cfg = goldenScheduler('wan_sampler_small');
    const s = makeScheduler('flow-match-euler', 3, cfg) as FlowMatchEulerScheduler;
    expectRel(s.timesteps, [1000, 667.554077, 3.98803592], 1e-8);
    expect(s.initNoiseSigma).toBe(1);
    // overrides.shift replaces the config shift (both in __init__ and set_timesteps)
    const s3 = makeScheduler('flow-match-euler', 3, cfg, { shift: 3 });
    expect(s3.timesteps).toEqual(flowMatchSigmas(3, 3).timesteps);
  });
  for (const c of tables.flow) {
    it(`steps ${c.steps}, shift ${c.shift} matches the numpy transcription exactly`, () => {
      const r = flowMatchSigmas(c.steps, c.shift);
      expect(r.timesteps).toEqual(c.timesteps);
      expect(r.sigmas).toEqual(c.sigmas);
    });
  }
  it('hand-derived: shift applied twice; shift 1 is a plain linspace', () => {
    // shift 1: sigma_min = 1/1000, linspace(1000, 1, 10)/1000
    const r1 = flowMatchSigmas(10, 1);
    const lin = npLinspace(1000, 1, 10).map((t) => Math.fround(t / 1000));
    expectRel(r1.sigmas.slice(0, 10), lin, 1e-7);
    // shift 5, 3 steps, in float64: s_min = 5e-3/(1+4e-3); middle = (1+s_min)/2, shifted again
    const sh = (s: number, k: number) => (k * s) / (1 + (k - 1) * s);
    const smin = sh(0.001, 5);
    const mid = (1 + smin) / 2;
    expectRel(flowMatchSigmas(3, 5).sigmas, [1, sh(mid, 5), sh(smin, 5), 0], 1e-6);
    // one step: just sigma_max = 1
    expect(flowMatchSigmas(1, 3)).toEqual({ timesteps: [1000], sigmas: [1, 0] });
  });
  it('shift_terminal and invert_sigmas', () => {
    const s = makeScheduler('flow-match-euler', 4, { shift: 3, shift_terminal: 0.1 }) as FlowMatchEulerScheduler;
    expect(s.sigmas[3]).toBeCloseTo(0.1, 6);
    expect(s.sigmas[0]).toBeCloseTo(1, 6);
    const inv = makeScheduler('flow-match-euler', 3, { shift: 2, invert_sigmas: true }) as FlowMatchEulerScheduler;
    const plain = flowMatchSigmas(3, 2);
    expectRel(inv.sigmas, [...plain.sigmas.slice(0, 3).map((x) => Math.fround(1 - x)), 1], 0);
    // diffusers feeds the model the inverted times ((1 − σ)·N), not the plain ones; values from
    // FlowMatchEulerDiscreteScheduler(shift=2, invert_sigmas=True).set_timesteps(3) (and shift 3, shift_terminal 0.1, 4 steps)
    expect(inv.timesteps).toEqual([0, 332.4459228515625, 996.011962890625]);
    const invT = makeScheduler('flow-match-euler', 4, { shift: 3, shift_terminal: 0.1, invert_sigmas: true }) as FlowMatchEulerScheduler;
    expect(invT.timesteps).toEqual([0, 129.23080444335938, 361.29034423828125, 900]);
    expect(invT.sigmas).toEqual([0, 0.129230797290802, 0.3612903356552124, 0.8999999761581421, 1]);
  });
});

describe('flow-match euler: step', () => {
  it('x + (sigma_next - sigma) * v, f32, every step', () => {
    const s = new FlowMatchEulerScheduler(3, 2);
    const n = 37;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) * 2);
    const v = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.7) * 1.5);
    for (let i = 0; i < 3; i++) {
      const out = s.step(i, v, x);
      const dt = s.sigmas[i + 1]! - s.sigmas[i]!;
      expectRel(out, Array.from(x, (xi, j) => xi + dt * v[j]!), 0, 1e-6);
    }
    // last step lands on sigma 0: x - sigma_last * v
    const last = s.step(2, v, x);
    expect(last[5]).toBeCloseTo(x[5]! - 0.00398803595 * v[5]!, 6);
  });
});

describe('ddim: tables', () => {
  it('golden dit_sampler_small: leading, 3 steps', () => {
    const cfg = goldenScheduler('dit_sampler_small');
    const s = makeScheduler('ddim', 3, cfg) as DDIMScheduler;
    expect(s.timesteps).toEqual([666, 333, 0]);
    // the case's table came from numpy's f64 linspace cast to f32 (its reference is numpy); diffusers
    // builds the betas with torch's f32 linspace, whose last bits differ: 1.7e-7 relative at t = 666
    expectRel(s.timesteps.map((t) => s.alphasCumprod[t]!), [0.0109842299, 0.318624794, 0.999899983], 3e-7);
    // torch 2.13's own values (torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000)))
    expect(s.timesteps.map((t) => s.alphasCumprod[t]!)).toEqual([0.010984227992594242, 0.3186247646808624, Math.fround(1 - Math.fround(0.0001))]);
    expect(s.finalAlphaCumprod).toBe(1);
    expect(s.clipSample).toBe(false);
  });
  for (const c of tables.ddim_timesteps) {
    it(`${c.spacing} ${c.steps} steps, offset ${c.steps_offset}`, () => {
      expect(ddimTimesteps(c.steps, 1000, c.spacing, c.steps_offset)).toEqual(c.timesteps);
    });
  }
  it('hand-derived spacings', () => {
    expect(ddimTimesteps(4, 1000, 'leading', 1)).toEqual([751, 501, 251, 1]);
    expect(ddimTimesteps(4, 1000, 'trailing')).toEqual([999, 749, 499, 249]);
    expect(ddimTimesteps(4, 1000, 'linspace')).toEqual([999, 666, 333, 0]);
    expect(ddimTimesteps(5, 10, 'leading')).toEqual([8, 6, 4, 2, 0]);
  });
  const idx = tables.alphas_cumprod.index;
  for (const schedule of ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const) {
    const [b0, b1] = schedule === 'scaled_linear' ? [0.00085, 0.012] : [0.0001, 0.02];
    it(`alphas_cumprod ${schedule}`, () => {
      const ac = alphasCumprod(betasFor(schedule, 1000, b0, b1));
      expectRel(idx.map((i) => ac[i]!), tables.alphas_cumprod[schedule]!, 1e-6);
    });
    it(`alphas_cumprod ${schedule} + rescale_betas_zero_snr`, () => {
      const ac = alphasCumprod(rescaleZeroTerminalSnr(betasFor(schedule, 1000, b0, b1)));
      // Near t = 999 the rescale subtracts two nearly equal square roots, so the last-bit
      // differences between torch's f32 linspace (ours) and numpy's f64 linspace cast to f32
      // (the table) show up as ~1e-11 absolute there; elsewhere they agree to 1e-6 relative.
      expectRel(idx.map((i) => ac[i]!), tables.alphas_cumprod[`${schedule}+zero_snr`]!, 1e-6, 1e-10);
      expect(ac[999]).toBe(0);
    });
  }
  it('betas: linear endpoints, scaled_linear is a squared linspace, cosine capped', () => {
    const b = betasFor('linear', 1000);
    expect(b[0]).toBe(Math.fround(0.0001));
    expect(b[999]).toBe(Math.fround(0.02));
    expect(b[500]).toBeCloseTo(0.0001 + (500 * (0.02 - 0.0001)) / 999, 8); // f32 ulp here ~1e-9
    const sl = betasFor('scaled_linear', 1000, 0.00085, 0.012);
    expect(sl[999]).toBe(Math.fround(Math.fround(Math.sqrt(0.012)) ** 2));
    expect(betasFor('squaredcos_cap_v2', 1000)[999]).toBe(Math.fround(0.999));
  });
  it('set_alpha_to_one false uses alphas_cumprod[0] at the last step', () => {
    const s = makeScheduler('ddim', 3, { set_alpha_to_one: false, steps_offset: 1, clip_sample: false }) as DDIMScheduler;
    expect(s.timesteps).toEqual([667, 334, 1]);
    expect(s.finalAlphaCumprod).toBe(Math.fround(1 - Math.fround(0.0001)));
    expect(s.alphasAt(2)).toEqual({ alphaProdT: s.alphasCumprod[1], alphaProdTPrev: s.finalAlphaCumprod });
    expect(s.alphasAt(0)).toEqual({ alphaProdT: s.alphasCumprod[667], alphaProdTPrev: s.alphasCumprod[334] });
  });
});

describe('ddim: step', () => {
  const n = 41;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.9) * 3);
  const m = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 1.7) * 1.2);

  // float64 DDIM, eta 0 (formulas (12) of the DDIM paper, as in diffusers' step)
  function ref(a: number, ap: number, pred: string, clip: number | null): number[] {
    return Array.from(x, (xi, j) => {
      const mj = m[j]!;
      let x0: number;
      let eps: number;
      if (pred === 'epsilon') {
        x0 = (xi - Math.sqrt(1 - a) * mj) / Math.sqrt(a);
        eps = mj;
      } else if (pred === 'sample') {
        x0 = mj;
        eps = (xi - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
      } else {
        x0 = Math.sqrt(a) * xi - Math.sqrt(1 - a) * mj;
        eps = Math.sqrt(a) * mj + Math.sqrt(1 - a) * xi;
      }
      if (clip !== null) x0 = Math.min(Math.max(x0, -clip), clip);
      return Math.sqrt(ap) * x0 + Math.sqrt(1 - ap) * eps;
    });
  }

  for (const pred of ['epsilon', 'v_prediction', 'sample'] as const) {
    for (const clip of [null, 1, 2.5]) {
      it(`${pred}, clip ${clip ?? 'off'}: every step vs float64`, () => {
        const cfg: Record<string, unknown> = { prediction_type: pred, clip_sample: clip !== null };
        if (clip !== null) cfg['clip_sample_range'] = clip;
        const s = makeScheduler('ddim', 3, cfg) as DDIMScheduler;
        for (let i = 0; i < 3; i++) {
          const { alphaProdT: a, alphaProdTPrev: ap } = s.alphasAt(i);
          const want = ref(a, ap, pred, clip);
          const scale = Math.max(...want.map(Math.abs));
          // f32 rounding relative to the output's scale (epsilon at t=666 divides by sqrt(0.011))
          expectRel(s.step(i, m, x), want, 0, 4e-7 * scale * (pred === 'epsilon' && clip === null ? 10 : 1));
        }
      });
    }
  }
  it('clip_sample bounds the predicted x0', () => {
    const s = makeScheduler('ddim', 3, { clip_sample: true, clip_sample_range: 0.5 }) as DDIMScheduler;
    // last step: a_prev = 1, so prev_sample is x0 itself
    const out = s.step(2, m, x);
    expect(Math.max(...out.map(Math.abs))).toBeLessThanOrEqual(0.5);
    expect(Math.max(...out.map(Math.abs))).toBe(0.5);
  });
  it('DDIM default clip_sample is true (diffusers), golden DiT config turns it off', () => {
    expect((makeScheduler('ddim', 3) as DDIMScheduler).clipSample).toBe(true);
  });
});

describe('cfgCombine', () => {
  it('uncond + g * (cond - uncond)', () => {
    const c = Float32Array.from([1, 2, -3, 0.5]);
    const u = Float32Array.from([0.5, 2, 1, -0.25]);
    expectRel(cfgCombine(c, u, 4), [2.5, 2, -15, 2.75], 0, 1e-7);
    expectRel(cfgCombine(c, u, 1), c, 0);
    expectRel(cfgCombine(c, u, 0), u, 0);
    expect(() => cfgCombine(c, u.subarray(1), 2)).toThrow(/cond has 4 values, uncond 3/);
  });
});

describe('validation', () => {
  it('steps', () => {
    expect(() => makeScheduler('ddim', 0)).toThrow(/steps must be an integer in \[1, 1000\]/);
    expect(() => makeScheduler('ddim', 1001)).toThrow(/steps/);
    expect(() => makeScheduler('flow-match-euler', 2.5)).toThrow(/steps/);
    expect(() => makeScheduler('flow-match-euler', 11, { num_train_timesteps: 10 })).toThrow(/\[1, 10\]/);
    expect(makeScheduler('ddim', 1000).timesteps).toHaveLength(1000);
  });
  it('unknown keys and unsupported values name the key', () => {
    expect(() => makeScheduler('ddim', 3, { thresholding: true })).toThrow(/thresholding = true is not supported/);
    expect(() => makeScheduler('ddim', 3, { beta_schedule: 'sigmoid' })).toThrow(/beta_schedule/);
    expect(() => makeScheduler('ddim', 3, { prediction_type: 'flow_prediction' })).toThrow(/prediction_type/);
    expect(() => makeScheduler('ddim', 3, { timestep_spacing: 'karras' })).toThrow(/timestep_spacing/);
    expect(() => makeScheduler('ddim', 3, { clip_sample: 'yes' })).toThrow(/clip_sample must be true or false/);
    expect(() => makeScheduler('ddim', 3, { steps_offset: 1.5 })).toThrow(/steps_offset/);
    expect(() => makeScheduler('ddim', 3, { steps_offset: 400 })).toThrow(/timestep 1066/);
    expect(() => makeScheduler('ddim', 61, { timestep_spacing: 'trailing' })).toThrow(/62 timesteps/);
    expect(() => makeScheduler('ddim', 3, {}, { shift: 2 })).toThrow(/shift/);
    expect(() => makeScheduler('flow-match-euler', 3, { use_dynamic_shifting: true })).toThrow(/use_dynamic_shifting/);
    expect(() => makeScheduler('flow-match-euler', 3, { use_karras_sigmas: true })).toThrow(/use_karras_sigmas/);
    expect(() => makeScheduler('flow-match-euler', 3, { stochastic_sampling: true })).toThrow(/stochastic_sampling/);
    expect(() => makeScheduler('flow-match-euler', 3, { shift: -1 })).toThrow(/shift must be/);
    expect(() => makeScheduler('flow-match-euler', 3, {}, { shift: 0 })).toThrow('shift: a number > 0, got 0');
    expect(() => makeScheduler('euler' as never, 3)).toThrow(/scheduler "euler" is not supported; supported: FlowMatchEulerDiscreteScheduler, DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler/);
    // _diffusers_version and friends are ignored
    expect(makeScheduler('flow-match-euler', 3, { _diffusers_version: '0.33.0', shift: 2 }).timesteps[1]).toBeCloseTo(667.554077, 4);
  });
  it('step arguments', () => {
    const s = makeScheduler('flow-match-euler', 3, { shift: 2 });
    const a = new Float32Array(4);
    expect(() => s.step(3, a, a)).toThrow(/step index 3/);
    expect(() => s.step(0, a, new Float32Array(5))).toThrow(/modelOutput has 4 values, sample 5/);
  });
});
