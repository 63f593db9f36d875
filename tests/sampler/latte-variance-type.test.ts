// Latte-1's shipped scheduler config (maxin-cn/Latte-1/scheduler/scheduler_config.json) is a DDIMScheduler with
// variance_type "learned_range". DDIMScheduler does not define the key; diffusers' from_config still keeps it in
// scheduler.config (a compatible class, DPMSolverMultistepScheduler, defines it), and LattePipeline reads it
// there: it skips dropping the learned-sigma half and DDIMScheduler.step fails (4 vs 8 channels). tessera drops
// the half and samples; its warning must say so, not that diffusers ignores the key (audit 13 K defect 4).
import { describe, expect, it } from 'vitest';
import { schedulerFromConfig } from '../../src/sampler/config.js';

const F = 'Latte-1/scheduler/scheduler_config.json';
const LATTE_1 = {
  _class_name: 'DDIMScheduler', _diffusers_version: '0.28.0.dev0', beta_end: 0.02, beta_schedule: 'linear', beta_start: 0.0001,
  clip_sample: false, clip_sample_range: 1.0, dynamic_thresholding_ratio: 0.995, num_train_timesteps: 1000, prediction_type: 'epsilon',
  rescale_betas_zero_snr: false, sample_max_value: 1.0, set_alpha_to_one: true, steps_offset: 0, thresholding: false,
  timestep_spacing: 'leading', trained_betas: null, variance_type: 'learned_range',
};

describe("Latte-1's variance_type learned_range", () => {
  it('one warning: ignored, the sigma half dropped, and where diffusers departs', () => {
    const warn: string[] = [];
    const s = schedulerFromConfig(LATTE_1, { file: F, warn: (l) => warn.push(l) });
    expect(s.ignoredKeys).toEqual(['variance_type']);
    expect(s.setTimesteps(4).timesteps).toEqual([750, 500, 250, 0]);
    expect(warn).toEqual([
      `warning: ${F}: variance_type is not a DDIMScheduler config key: ignored; the transformer's learned-sigma channels are dropped before the scheduler, as diffusers' DiTPipeline does (its LattePipeline instead reads variance_type "learned_range" from scheduler.config, where from_config keeps it, skips that drop and fails in DDIMScheduler.step on twice the latent channels)`,
    ]);
  });

  it('"learned" likewise; another value, or another ignored key, keeps the plain from_config note', () => {
    const lines = (cfg: Record<string, unknown>) => {
      const warn: string[] = [];
      schedulerFromConfig({ ...LATTE_1, ...cfg }, { file: F, warn: (l) => warn.push(l) });
      return warn;
    };
    expect(lines({ variance_type: 'learned' })[0]).toMatch(/: variance_type is not a DDIMScheduler config key: ignored; .*LattePipeline instead reads variance_type "learned" from scheduler\.config/);
    expect(lines({ variance_type: 'fixed_small' })).toEqual([`warning: ${F}: variance_type is not a DDIMScheduler config key: ignored (as diffusers' from_config does)`]);
    const { variance_type: _, ...noVariance } = LATTE_1;
    expect(schedulerFromConfig(noVariance, { file: F, warn: () => {} }).ignoredKeys).toEqual([]);
    const warn: string[] = [];
    schedulerFromConfig({ ...noVariance, skip_prk_steps: true }, { file: F, warn: (l) => warn.push(l) });
    expect(warn).toEqual([`warning: ${F}: skip_prk_steps is not a DDIMScheduler config key: ignored (as diffusers' from_config does)`]);
  });
});
