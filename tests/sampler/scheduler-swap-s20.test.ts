// Scheduler swaps that cannot work (session 20, user finding 4): a class refused for the config's
// prediction_type is refused before the ignored-keys warning (a refused call gets one line, no warning),
// and FlowMatchEulerDiscreteScheduler on an epsilon / v-prediction config is refused naming prediction_type
// (diffusers' class has no prediction_type: from_config drops it and the run gives noise).
import { describe, expect, it } from 'vitest';
import { SchedulerConfigError, schedulerFromConfig } from '../../src/sampler/config.js';

const F = 'pipe/scheduler/scheduler_config.json';
// Wan's UniPC config (flow_prediction) and DiT's DPM-Solver config (epsilon), as their folders have them
const UNIPC_FLOW = { _class_name: 'UniPCMultistepScheduler', flow_shift: 3, use_flow_sigmas: true, prediction_type: 'flow_prediction', solver_order: 2, beta_schedule: 'linear' };
const DPM_EPS = { _class_name: 'DPMSolverMultistepScheduler', beta_schedule: 'linear', num_train_timesteps: 1000, prediction_type: 'epsilon', solver_order: 2, algorithm_type: 'dpmsolver++' };

const attempt = (config: Record<string, unknown>, override: string) => {
  const warned: string[] = [];
  try {
    schedulerFromConfig(config, { override, overrideName: 'scheduler', file: F, warn: (l) => warned.push(l) });
  } catch (e) {
    return { e: e as Error, warned };
  }
  return { e: undefined, warned };
};

describe('scheduler swaps that cannot work', () => {
  it('ddim on a flow_prediction config: refused in one line, with no ignored-keys warning first', () => {
    const { e, warned } = attempt(UNIPC_FLOW, 'ddim');
    expect(e).toBeInstanceOf(SchedulerConfigError);
    expect(e!.message).toMatch(/prediction_type "flow_prediction"/);
    expect(warned).toEqual([]);
  });

  it('flow-match-euler on an epsilon or v_prediction config: refused naming prediction_type, no warning', () => {
    for (const pt of ['epsilon', 'v_prediction']) {
      const { e, warned } = attempt({ ...DPM_EPS, prediction_type: pt }, 'flow-match-euler');
      expect(e, pt).toBeInstanceOf(SchedulerConfigError);
      expect(e!.message).toBe(
        `${F}: prediction_type "${pt}": FlowMatchEulerDiscreteScheduler samples flow-prediction models only (diffusers' class has no prediction_type: its step reads the model output as the flow velocity, x + (σ_next − σ)·v, and from_config ignores the key, so the output would be noise); choose a scheduler that reads prediction_type: unipc, dpm-solver, dpmpp or ddim`,
      );
      expect(e!.message.split('\n')).toHaveLength(1);
      expect(warned).toEqual([]);
    }
  });

  it('flow-match-euler still runs on a flow_prediction config, and on one without prediction_type, with the warning', () => {
    const flow = attempt(UNIPC_FLOW, 'flow-match-euler');
    expect(flow.e).toBeUndefined();
    expect(flow.warned).toHaveLength(1);
    expect(flow.warned[0]).toMatch(/are not FlowMatchEulerDiscreteScheduler config keys: ignored/);
    const none = attempt({ _class_name: 'DDIMScheduler', beta_start: 0.0001 }, 'flow-match-euler');
    expect(none.e).toBeUndefined();
    expect(none.warned).toHaveLength(1);
    // a config that runs still warns once (the warning moved after the build, not away)
    expect(attempt(DPM_EPS, 'unipc')).toEqual({ e: undefined, warned: [`warning: ${F}: algorithm_type is not a UniPCMultistepScheduler config key: ignored (as diffusers' from_config does)`] });
  });
});
