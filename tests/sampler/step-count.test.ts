// A step count the scheduler cannot run is num_inference_steps' problem (StepCountError), not the
// config file's: Wan's UniPC config repeats its first timestep from 334 steps up, which the message
// says with a few timesteps (not all of them) and the most that work; the CLI words it as --steps,
// a UsageError (exit 2). And a UniPC update that is not finite onto a final sigma of 0 is told what
// to change from what the config has (it said "keep lower_order_final true" when it was true).
import { describe, expect, it } from 'vitest';
import { SchedulerConfigError, schedulerFromConfig, StepCountError } from '../../src/sampler/config.js';
import { checkStepsFlag } from '../../src/cli/cmd-generate.js';
import { UsageError } from '../../src/cli/args.js';
import { thrown } from '../helpers/errors.js';

const F = 'wan/scheduler/scheduler_config.json';
// Wan2.1's UniPC config (as in wan_sampler_unipc_small)
const WAN = { _class_name: 'UniPCMultistepScheduler', flow_shift: 3.0, prediction_type: 'flow_prediction', solver_order: 2, solver_type: 'bh2', use_flow_sigmas: true, lower_order_final: true, final_sigmas_type: 'zero', num_train_timesteps: 1000 };
const tooMany = (third: number) => `is too many for UniPCMultistepScheduler with ${F}: its timesteps start 999, 999, ${third}, … (the first one twice: diffusers would start at the second and run past the end of its tables): use at most 333`;

describe('num_inference_steps that repeat the first timestep', () => {
  it('333 steps run; 334 and 500 are a StepCountError naming the count, a few timesteps and the most that work', () => {
    expect(schedulerFromConfig(WAN, { file: F }).setTimesteps(333).timesteps).toHaveLength(333);
    for (const [steps, third] of [[334, 997], [500, 998]] as const) {
      const e = thrown(() => schedulerFromConfig(WAN, { file: F }).setTimesteps(steps), StepCountError);
      expect(e).toBeInstanceOf(SchedulerConfigError); // the kind library callers catch
      expect(e.message).toBe(`num_inference_steps ${steps} ${tooMany(third)}`);
      expect((e as StepCountError).maxSteps).toBe(333);
    }
  });

  it('out of range: StepCountError too', () => {
    const e = thrown(() => schedulerFromConfig(WAN, { file: F }).setTimesteps(1001), StepCountError);
    expect(e.message).toBe('num_inference_steps must be an integer in [1, 1000] (num_train_timesteps), got 1001');
  });

  it('the CLI: UsageError naming --steps', () => {
    const e = thrown(() => checkStepsFlag(schedulerFromConfig(WAN, { file: F }), 500), UsageError);
    expect(e.message).toBe(`--steps 500 ${tooMany(998)}`);
    expect(() => checkStepsFlag(schedulerFromConfig(WAN, { file: F }), 5)).not.toThrow();
  });
});

describe('UniPC onto a final sigma of 0: the advice follows the config', () => {
  const step5 = `${F}: UniPCMultistepScheduler step 5/5 (unipc.predictor, timestep 429): coefficient`;
  it.each([
    [{ solver_type: 'bh1' }, 'NaN', 'solver_type "bh1" onto the final sigma 0 (even at order 1); set solver_type "bh2", or final_sigmas_type "sigma_min"'],
    [{ solver_type: 'bh1', lower_order_final: false }, '-Infinity', 'solver_type "bh1" at order > 1 onto the final sigma 0 (lower_order_final false); set solver_type "bh2" with lower_order_final true, or final_sigmas_type "sigma_min"'],
    [{ lower_order_final: false }, '-Infinity', 'order > 1 onto the final sigma 0 (lower_order_final false); set lower_order_final true, or final_sigmas_type "sigma_min"'],
  ])('%j', (over, coef, advice) => {
    const e = thrown(() => schedulerFromConfig({ ...WAN, ...over }, { file: F }).setTimesteps(5), SchedulerConfigError);
    expect(e.message).toBe(`${step5} ${coef} (diffusers computes a non-finite update here too): ${advice}`);
    // and each fix runs
    const fixes = advice.includes('solver_type "bh2"') ? [{ solver_type: 'bh2', lower_order_final: true }] : [{ lower_order_final: true }];
    for (const fix of [...fixes, { final_sigmas_type: 'sigma_min' }]) expect(() => schedulerFromConfig({ ...WAN, ...over, ...fix }, { file: F }).setTimesteps(5)).not.toThrow();
  });
});
