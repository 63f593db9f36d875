// The f32 training tables against diffusers' own (torch 2.13 CPU, numpy 2.4 on the fixture host).
// Without rescale_betas_zero_snr betas and alphas_cumprod are equal bit for bit (torch's linspace,
// Python's cos in betas_for_alpha_bar, cumprod in double). What cannot be matched: torch's f32 sqrt
// (about 15 % of results 1 ulp from the correctly rounded value on that host) and numpy's f32 log
// (SIMD, about 20 %) follow the host's math library; tessera rounds correctly. Those bits reach
// rescale_zero_terminal_snr (sqrt of alphas_cumprod), the sigma / log-sigma / lambda tables, and
// from there: alphas_cumprod after the rescale within 5e-6, the sigma_min final sigma after it
// within 1.5e-3 (1 − alphas_cumprod[0] cancels), timesteps that truncate an interpolated sigma
// (exponential, Lu) within 1. These tests pin the matched bits and the documented bounds.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { schedulerFromConfig } from '../../src/sampler/config.js';
import { alphasCumprod, betasFor, rescaleZeroTerminalSnr, type BetaSchedule } from '../../src/sampler/scheduler.js';

const sha = (a: Float32Array) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex').slice(0, 16);
const SCHEDULES: [BetaSchedule, number, number][] = [['linear', 0.0001, 0.02], ['scaled_linear', 0.00085, 0.012], ['squaredcos_cap_v2', 0.0001, 0.02]];
// diffusers DPMSolverMultistepScheduler(beta_schedule=…).betas / .alphas_cumprod: sha256 of the f32 bytes (first 16 hex digits)
const DIFFUSERS_SHA: Record<BetaSchedule, [betas: string, alphasCumprod: string]> = {
  linear: ['a455de8584c2913e', 'b5555536933367c4'],
  scaled_linear: ['f19a556ef5f4eb08', 'b0c6833c866f3aae'],
  squaredcos_cap_v2: ['ee9cd3d5d1b98fa4', 'f32ff0b43921c312'],
};
// the same with rescale_betas_zero_snr: alphas_cumprod at 0, 500, 998 and the sigma_min final sigma
const DIFFUSERS_ZERO_SNR: Record<BetaSchedule, { ac: [number, number, number]; sigmaMin: number }> = {
  linear: { ac: [0.9998999834060669, 0.07524619996547699, 4.213273285813557e-9], sigmaMin: 0.010001329705119133 },
  scaled_linear: { ac: [0.9991499781608582, 0.2410186380147934, 1.9679633567193378e-7], sigmaMin: 0.029167532920837402 },
  squaredcos_cap_v2: { ac: [0.999958872795105, 0.4922650456428528, 2.277813791806693e-6], sigmaMin: 0.006413181312382221 },
};

describe('f32 tables vs diffusers', () => {
  for (const [schedule, b0, b1] of SCHEDULES) {
    it(`${schedule}: betas and alphas_cumprod bit for bit`, () => {
      const betas = betasFor(schedule, 1000, b0, b1);
      expect([sha(betas), sha(alphasCumprod(betas))]).toEqual(DIFFUSERS_SHA[schedule]);
    });
    it(`${schedule} + rescale_betas_zero_snr: within the bounds torch's sqrt leaves`, () => {
      const ac = alphasCumprod(rescaleZeroTerminalSnr(betasFor(schedule, 1000, b0, b1)));
      const want = DIFFUSERS_ZERO_SNR[schedule];
      [0, 500, 998].forEach((i, k) => expect(Math.abs(ac[i]! / want.ac[k] - 1)).toBeLessThanOrEqual(5e-6));
      const cfg = { _class_name: 'DPMSolverMultistepScheduler', beta_schedule: schedule, beta_start: b0, beta_end: b1, rescale_betas_zero_snr: true, final_sigmas_type: 'sigma_min', prediction_type: 'v_prediction' };
      const sigmas = schedulerFromConfig(cfg, { file: 'f', warn: () => {} }).setTimesteps(5).sigmas!;
      expect(Math.abs(sigmas[5]! / want.sigmaMin - 1)).toBeLessThanOrEqual(1.5e-3);
    });
  }
  it('timesteps from a truncated sigma → t move by at most 1 (UniPC exponential on squaredcos + rescale: 315 / 30 vs 314 / 29)', () => {
    const cfg = { _class_name: 'UniPCMultistepScheduler', beta_schedule: 'squaredcos_cap_v2', rescale_betas_zero_snr: true, use_exponential_sigmas: true, solver_order: 3, prediction_type: 'v_prediction' };
    const t = schedulerFromConfig(cfg, { file: 'f', warn: () => {} }).setTimesteps(7).timesteps;
    const diffusers = [998, 997, 985, 875, 314, 29, 0];
    t.forEach((v, i) => expect(Math.abs(v - diffusers[i]!)).toBeLessThanOrEqual(1));
  });
});
