// The float64 host math of the multistep schedulers (and DDIM's step program) against the real
// diffusers: tests/fixtures/sampler/multistep.json (make_multistep.py) holds, for 86 configs (5 of
// them X.from_config of a config another class saved), the
// timesteps, the sigmas and every step's sample of diffusers' own step() loop on a stand-in model.
// Configs where diffusers' update is not finite, or where it fails, must be refused up front.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schedulerFromConfig, SchedulerConfigError } from '../../src/sampler/config.js';
import { runProgramCpu } from '../../src/sampler/program.js';
import { parsePythonJson } from '../../src/io/json.js';
import { SCHEDULER_TOL } from '../tolerances.js';

interface Case {
  class: string;
  config: Record<string, unknown>;
  steps: number;
  timesteps?: number[];
  sigmas?: number[] | null;
  finite?: boolean;
  samples?: number[][] | null;
  error?: string;
  /** X.from_config(a config another class saved): X, and the saved file. */
  override?: string;
  source?: string;
}
// Python's json writes -Infinity (DPM-Solver's lambda_min_clipped)
const fx = parsePythonJson(readFileSync(new URL('../fixtures/sampler/multistep.json', import.meta.url), 'utf8')) as { initial: number[]; cases: Case[] };

const name = (c: Case) => (c.override ? `${c.override}.from_config(${c.source})` : `${c.class.replace('Scheduler', '')} ${JSON.stringify(c.config)}`) + ` × ${c.steps}`;
const model = (t: number, x: Float64Array) => Float64Array.from(x, (v, j) => 0.6 * v + 0.3 * Math.sin(t / 97 + j));

describe('multistep schedulers vs diffusers (float64 host math)', () => {
  it('the fixture covers orders 1–3, bh1/bh2, DPM variants, karras and the failure cases', () => {
    const u = fx.cases.filter((c) => c.class === 'UniPCMultistepScheduler' && c.finite);
    const d = fx.cases.filter((c) => c.class === 'DPMSolverMultistepScheduler' && c.finite);
    for (const k of [1, 2, 3]) {
      expect(u.some((c) => (c.config.solver_order ?? 2) === k)).toBe(true);
      expect(d.some((c) => (c.config.solver_order ?? 2) === k)).toBe(true);
    }
    for (const st of ['bh1', 'bh2']) expect(u.some((c) => (c.config.solver_type ?? 'bh2') === st)).toBe(true);
    for (const a of ['dpmsolver++', 'dpmsolver']) expect(d.some((c) => c.config.algorithm_type === a)).toBe(true);
    expect(u.some((c) => c.config.use_karras_sigmas) && d.some((c) => c.config.use_karras_sigmas)).toBe(true);
    expect(fx.cases.filter((c) => c.error || c.finite === false).length).toBeGreaterThanOrEqual(5);
    expect(fx.cases.filter((c) => c.override && c.config._class_name !== c.override).length).toBeGreaterThanOrEqual(5);
  });

  for (const c of fx.cases) {
    it(name(c), async () => {
      const build = () =>
        c.override
          ? schedulerFromConfig(c.config, { file: c.source, override: c.override, warn: () => {} })
          : schedulerFromConfig({ _class_name: c.class, ...c.config }, { file: 'multistep.json', warn: () => {} });
      if (c.error || !c.finite) {
        // diffusers raises (in __init__ or set_timesteps / step), or its update goes NaN/inf: refused before any GPU work
        expect(() => build().setTimesteps(c.steps)).toThrow(SchedulerConfigError);
        return;
      }
      const spec = build();
      const p = spec.setTimesteps(c.steps);
      expect(p.timesteps).toEqual(c.timesteps);
      if (c.sigmas) {
        expect(p.sigmas).toHaveLength(c.sigmas.length);
        p.sigmas!.forEach((s, i) => expect(Math.abs(s - c.sigmas![i]!)).toBeLessThanOrEqual(SCHEDULER_TOL.sigma * Math.max(1, Math.abs(c.sigmas![i]!))));
      }
      const traj: Float64Array[] = [];
      const last = await runProgramCpu(p, Float64Array.from(fx.initial), (i, x) => {
        if (i > 0) traj.push(x);
        return model(p.timesteps[i]!, x);
      });
      traj.push(last);
      expect(traj).toHaveLength(c.samples!.length);
      const scale = Math.max(...c.samples!.flat().map(Math.abs));
      let worst = 0;
      traj.forEach((x, i) => x.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - c.samples![i]![j]!) / scale))));
      expect(worst).toBeLessThanOrEqual(SCHEDULER_TOL.trajectory);
    });
  }
});

describe('DDIM at a zero-terminal-SNR step (alpha_prod_t 0) with prediction_type epsilon', () => {
  const cfg = { _class_name: 'DDIMScheduler', rescale_betas_zero_snr: true, timestep_spacing: 'trailing' };
  it('clip_sample clamps the ±inf x0 to ±clip_sample_range, as diffusers does (no NaN from inf − inf)', async () => {
    const p = schedulerFromConfig({ ...cfg, clip_sample: true, clip_sample_range: 2 }, { file: 'f.json', warn: () => {} }).setTimesteps(4);
    expect(p.timesteps[0]).toBe(999);
    // x0 of the first step: sign(x − ε)·2 while |x − ε| ≥ 2^-63 (the documented bound), 0 where x = ε
    const x0 = await runProgramCpu({ ...p, ops: [p.ops[0]!.slice(0, 1).map((o) => ({ ...o, toModel: true }))], timesteps: [999], resultSlot: 2 }, Float64Array.from([0.5, -0.5, 1e-18, 0]), () => [0.25, 0.5, 0, 0]);
    expect(Array.from(x0)).toEqual([2, -2, 2, 0]);
  });
  it('unclipped, it is refused with what to change', () => {
    expect(() => schedulerFromConfig({ ...cfg, clip_sample: false }, { file: 'f.json', warn: () => {} }).setTimesteps(4)).toThrow(
      new SchedulerConfigError(
        'f.json: DDIMScheduler step 1/4 (ddim.step, timestep 999): coefficient Infinity (diffusers computes a non-finite update here too): rescale_betas_zero_snr makes alpha_prod_t 0 there and prediction_type "epsilon" divides by it; set prediction_type "v_prediction" (what zero-terminal-SNR schedules are trained with) or clip_sample true',
      ),
    );
  });
});

describe("diffusers' own f32 per-step scalars: the documented bound (src/sampler/multistep.ts header)", () => {
  // UniPC, predict_x0 false, squaredcos_cap_v2: the first sigma is 20291 and each update cancels terms ~1e4 × its result,
  // so diffusers' 0-dim f32 tensors (alpha_t, h, exp(h) …) move the result by 1.5e-3 of its max; with those scalars
  // in float64 (scheduler.sigmas = sigmas.double(), same values) diffusers lands on tessera's float64 host math.
  const cfg = { _class_name: 'UniPCMultistepScheduler', beta_schedule: 'squaredcos_cap_v2', timestep_spacing: 'linspace', steps_offset: 1, solver_order: 3, prediction_type: 'v_prediction', final_sigmas_type: 'sigma_min', solver_type: 'bh2', predict_x0: false };
  const diffusersF32 = [-53.11168631303458, -302.8218134820048, 96.63607735678032, 402.8276952072237, 114.26791562401661, -126.35842788422949];
  const diffusersF64 = [-53.42628253491681, -302.3672360683889, 96.49620952646296, 402.2332487860956, 114.33778090071726, -126.07871745323024];
  it('within 2e-3 of diffusers, and its float64-scalar run to 1e-12', async () => {
    const p = schedulerFromConfig(cfg, { file: 'f', warn: () => {} }).setTimesteps(5);
    expect(p.timesteps).toEqual([999, 799, 599, 400, 200]);
    const out = await runProgramCpu(p, Float64Array.from(fx.initial), (i, x) => model(p.timesteps[i]!, x));
    const off = (want: number[]) => Math.max(...want.map((w, j) => Math.abs(out[j]! - w))) / Math.max(...want.map(Math.abs));
    expect(off(diffusersF64)).toBeLessThanOrEqual(1e-12);
    expect(off(diffusersF32)).toBeGreaterThan(1e-3);
    expect(off(diffusersF32)).toBeLessThanOrEqual(2e-3);
  });
});
