// generate()'s scheduler_config as the file's text (helper E, 16-scheduler-file): diffusers writes -Infinity in
// DPM-Solver configs (lambda_min_clipped), which JSON.parse refuses; the text is read as loadPipeline reads the
// file (Python's json), and gives the scheduler the parsed object gives; text that is not JSON is one line.
import { describe, expect, it } from 'vitest';
import { SchedulerConfigError } from '../../src/sampler/config.js';
import { InputError } from '../../src/model/model.js';
import { resolveScheduler, type GenerateOptions } from '../../src/sampler/generate.js';

const TEXT = `{
  "_class_name": "DPMSolverMultistepScheduler",
  "algorithm_type": "dpmsolver++",
  "beta_schedule": "linear",
  "lambda_min_clipped": -Infinity,
  "num_train_timesteps": 1000,
  "prediction_type": "flow_prediction",
  "use_flow_sigmas": true,
  "flow_shift": 3.0,
  "solver_order": 2
}`;

describe('GenerateOptions.scheduler_config as text', () => {
  it('-Infinity is read (Python json); the scheduler equals the parsed object’s', () => {
    expect(() => JSON.parse(TEXT)).toThrow();
    const fromText = resolveScheduler({ scheduler_config: TEXT });
    const fromObject = resolveScheduler({ scheduler_config: { ...JSON.parse(TEXT.replace('-Infinity', '0')), lambda_min_clipped: -Infinity } });
    expect(fromText.className).toBe('DPMSolverMultistepScheduler');
    expect(fromText.setTimesteps(6).timesteps).toEqual(fromObject.setTimesteps(6).timesteps);
    // the option's type takes the text (tsc checks this file)
    const o: GenerateOptions = { scheduler_config: TEXT, num_inference_steps: 6 };
    expect(resolveScheduler(o).className).toBe('DPMSolverMultistepScheduler');
  });

  it("the text's _class_name decides whether shift is refused, as the object's does", () => {
    const ddim = '{"_class_name": "DDIMScheduler", "beta_schedule": "linear"}';
    expect(() => resolveScheduler({ scheduler_config: JSON.parse(ddim), shift: 3 })).toThrow(InputError);
    expect(() => resolveScheduler({ scheduler_config: ddim, shift: 3 })).toThrow(InputError);
  });

  it('text that is not JSON: a SchedulerConfigError naming scheduler_config', () => {
    const e = (() => {
      try {
        resolveScheduler({ scheduler_config: '{"_class_name": ' });
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(SchedulerConfigError);
    expect((e as Error).message).toMatch(/^scheduler_config: not valid JSON \(/);
  });

  // final review M3: the text "null" parsed to null and ran the class defaults silently, where schedulerFromConfig
  // refuses a non-object
  it.each(['null', 'false', '0', '[]', '"DDIMScheduler"'])('text %s (not an object): the SchedulerConfigError schedulerFromConfig gives', (text) => {
    expect(() => resolveScheduler({ scheduler_config: text })).toThrow(SchedulerConfigError);
    expect(() => resolveScheduler({ scheduler_config: text })).toThrow(/^scheduler_config: must be a JSON object \(a diffusers scheduler_config\.json\)$/);
    expect(() => resolveScheduler({ scheduler_config: text, scheduler: 'ddim' })).toThrow(SchedulerConfigError);
    expect(() => resolveScheduler({ scheduler_config: text, shift: 3 })).toThrow(SchedulerConfigError);
  });
});
