// Mutation tests (round 3) for schedulerConfigFor (src/pipeline/pipeline.ts): switching a folder's scheduler to
// another class passes the folder's own class default of timestep_spacing on (DDIM "leading", the multistep ones
// "linspace") only when the file does not set it: a timestep_spacing the file sets is kept.
import { describe, expect, it } from 'vitest';
import { schedulerConfigFor } from '../../src/pipeline/pipeline.js';

describe('schedulerConfigFor: timestep_spacing when the class changes', () => {
  const base = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };
  it("the file's own value is kept", () => {
    for (const spacing of ['trailing', 'linspace', 'leading']) {
      expect(schedulerConfigFor({ ...base, timestep_spacing: spacing }, 'DDIMScheduler', 'UniPCMultistepScheduler')['timestep_spacing']).toBe(spacing);
      expect(schedulerConfigFor({ ...base, timestep_spacing: spacing }, 'UniPCMultistepScheduler', 'DDIMScheduler')['timestep_spacing']).toBe(spacing);
    }
  });
  it("without one: the folder's class default (DDIM leading, multistep linspace)", () => {
    expect(schedulerConfigFor(base, 'DDIMScheduler', 'UniPCMultistepScheduler')['timestep_spacing']).toBe('leading');
    expect(schedulerConfigFor(base, 'UniPCMultistepScheduler', 'DDIMScheduler')['timestep_spacing']).toBe('linspace');
  });
  it('the same class: the file as it is', () => {
    expect(schedulerConfigFor(base, 'DDIMScheduler', 'DDIMScheduler')).toBe(base);
  });
});
