// Reading scheduler configs as diffusers does (src/sampler/config.ts): the class from
// `_class_name` (from_pretrained) or from `--scheduler` (X.from_config: shared values kept, the
// rest X's defaults), foreign keys ignored with one warning line, class and short names, Python
// JSON, and every refusal naming the file. The numbers these configs give are checked against
// diffusers in multistep.test.ts; here, which values are taken and what is said.
import { describe, expect, it } from 'vitest';
import { errorLine } from '../../src/cli/errors.js';
import { parsePythonJson } from '../../src/io/json.js';
import { resolveSchedulerClass, SchedulerConfigError, schedulerFromConfig } from '../../src/sampler/config.js';
import type { DDIMScheduler } from '../../src/sampler/scheduler.js';

const F = 'pipe/scheduler/scheduler_config.json';
const PNDM = { _class_name: 'PNDMScheduler', _diffusers_version: '0.7.0', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000, set_alpha_to_one: false, skip_prk_steps: true, steps_offset: 1, trained_betas: null };
const caught = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
};

describe('scheduler configs, read as diffusers reads them', () => {
  it('without --scheduler the class is _class_name (from_pretrained)', () => {
    const warn: string[] = [];
    const s = schedulerFromConfig({ _class_name: 'UniPCMultistepScheduler', flow_shift: 3, use_flow_sigmas: true, prediction_type: 'flow_prediction' }, { file: F, warn: (l) => warn.push(l) });
    expect(s.className).toBe('UniPCMultistepScheduler');
    expect(s.setTimesteps(5).timesteps).toEqual([999, 923, 818, 667, 429]); // Wan's UniPC (the golden's timesteps)
    expect(warn).toEqual([]);
  });

  it('an unsupported or missing class is an error naming the file and listing the supported ones', () => {
    const e = caught(() => schedulerFromConfig({ _class_name: 'EulerDiscreteScheduler' }, { file: F, overrideName: '--scheduler' })); // as the CLI calls it
    expect(e).toBeInstanceOf(SchedulerConfigError);
    expect(errorLine(e, false)).toBe(`tessera: error: SchedulerConfigError: ${F}: scheduler class EulerDiscreteScheduler is not supported; supported: FlowMatchEulerDiscreteScheduler, DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler (short names flow-match-euler, ddim, unipc, dpm-solver, dpmpp) (or choose one with --scheduler)`);
    expect(() => schedulerFromConfig({ beta_end: 0.02 }, { file: F })).toThrow(new RegExp(`^${F}: has no "_class_name" string naming the scheduler class; give override \\(`));
    // with --scheduler the config's own class does not matter
    expect(schedulerFromConfig({ _class_name: 'EulerDiscreteScheduler' }, { file: F, override: 'ddim' }).className).toBe('DDIMScheduler');
  });

  it('--scheduler X is X.from_config(config): shared values kept, the rest X defaults', () => {
    const warn: string[] = [];
    const s = schedulerFromConfig(PNDM, { file: F, override: 'DDIMScheduler', warn: (l) => warn.push(l) });
    expect(s.config).toEqual({ beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000, set_alpha_to_one: false, steps_offset: 1, trained_betas: null });
    const d = s.legacy(10) as DDIMScheduler;
    expect(d.timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]); // steps_offset kept, 'leading' DDIM's default
    expect(d.clipSample).toBe(true); // PNDM has no clip_sample: DDIM's default
    expect(d.finalAlphaCumprod).toBe(d.alphasCumprod[0]); // set_alpha_to_one false kept
    expect(warn).toEqual([`warning: ${F}: skip_prk_steps is not a DDIMScheduler config key: ignored (as diffusers' from_config does)`]);
  });

  it('keys the class does not define are ignored with ONE warning line naming them all, never refused', () => {
    const warn: string[] = [];
    const s = schedulerFromConfig({ _class_name: 'DDIMScheduler', clip_sample: false, interpolation_type: 'linear', skip_prk_steps: true, use_karras_sigmas: false, made_up: 1 }, { file: F, warn: (l) => warn.push(l) });
    expect(warn).toEqual([`warning: ${F}: interpolation_type, skip_prk_steps, use_karras_sigmas, made_up are not DDIMScheduler config keys: ignored (as diffusers' from_config does)`]);
    expect(s.ignoredKeys).toEqual(['interpolation_type', 'skip_prk_steps', 'use_karras_sigmas', 'made_up']);
    expect(s.setTimesteps(3).className).toBe('DDIMScheduler');
  });

  it('the solver types each class maps as its __init__ does (DPM-Solver ↔ UniPC)', () => {
    const quiet = { warn: () => {} };
    expect(schedulerFromConfig({ _class_name: 'DPMSolverMultistepScheduler', solver_type: 'midpoint' }, { ...quiet, override: 'unipc' }).setTimesteps(4).className).toBe('UniPCMultistepScheduler');
    expect(() => schedulerFromConfig({ solver_type: 'heun' }, { ...quiet, override: 'unipc' })).not.toThrow();
    expect(() => schedulerFromConfig({ solver_type: 'bh1' }, { ...quiet, override: 'dpm-solver' })).not.toThrow();
    expect(() => schedulerFromConfig({ solver_type: 'rk4' }, { ...quiet, override: 'unipc', file: F })).toThrow(`${F}: solver_type "rk4" is not one of UniPCMultistepScheduler's values (bh1, bh2)`);
  });

  it('--scheduler takes diffusers class names (any case) and the short names', () => {
    expect(resolveSchedulerClass('UniPCMultistepScheduler')).toBe('UniPCMultistepScheduler');
    expect(resolveSchedulerClass('unipcmultistepscheduler')).toBe('UniPCMultistepScheduler');
    expect(resolveSchedulerClass('unipc')).toBe('UniPCMultistepScheduler');
    expect(resolveSchedulerClass('dpm-solver')).toBe('DPMSolverMultistepScheduler');
    expect(resolveSchedulerClass('DPMPP')).toBe('DPMSolverMultistepScheduler');
    expect(resolveSchedulerClass('flow-match-euler')).toBe('FlowMatchEulerDiscreteScheduler');
    expect(resolveSchedulerClass('DDIMScheduler')).toBe('DDIMScheduler');
    expect(() => resolveSchedulerClass('euler-a')).toThrow(/^scheduler: scheduler "euler-a" is not supported; supported: FlowMatchEulerDiscreteScheduler, DDIMScheduler/);
    expect(() => resolveSchedulerClass('euler-a', '--scheduler')).toThrow(/^--scheduler: scheduler "euler-a" is not supported; supported: FlowMatchEulerDiscreteScheduler, DDIMScheduler/);
  });

  it('Python JSON (-Infinity, NaN) as diffusers writes it; broken JSON names the file', () => {
    const text = '{"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity, "note": "-Infinity stays a string", "x": NaN}';
    expect(parsePythonJson(text)).toEqual({ _class_name: 'DPMSolverMultistepScheduler', lambda_min_clipped: -Infinity, note: '-Infinity stays a string', x: NaN });
    const s = schedulerFromConfig(text, { file: F, warn: () => {} });
    expect(s.config.lambda_min_clipped).toBe(-Infinity);
    expect(() => schedulerFromConfig('{"_class_name": ', { file: F })).toThrow(new RegExp(`^${F}: not valid JSON`));
    expect(() => schedulerFromConfig('[1]', { file: F })).toThrow(`${F}: must be a JSON object`);
  });

  it('values tessera does not implement are refused by name (with the file), before any GPU work', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ _class_name: 'UniPCMultistepScheduler', thresholding: true }, /thresholding = true is not supported by tessera/],
      [{ _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'sde-dpmsolver++' }, /algorithm_type "sde-dpmsolver\+\+" is not supported by tessera/],
      [{ _class_name: 'DPMSolverMultistepScheduler', use_beta_sigmas: true }, /use_beta_sigmas = true is not supported/],
      [{ _class_name: 'DPMSolverMultistepScheduler', variance_type: 'learned_range' }, /variance_type = "learned_range" is not supported/],
      [{ _class_name: 'UniPCMultistepScheduler', use_dynamic_shifting: true }, /use_dynamic_shifting = true is not supported/],
      [{ _class_name: 'UniPCMultistepScheduler', solver_order: 4 }, /solver_order must be an integer in \[1, 3\], got 4/],
      [{ _class_name: 'UniPCMultistepScheduler', use_karras_sigmas: true, use_exponential_sigmas: true }, /only one of use_karras_sigmas/],
      [{ _class_name: 'UniPCMultistepScheduler', shift_terminal: 0.1 }, /shift_terminal is only supported with use_flow_sigmas true/],
      [{ _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'dpmsolver' }, /final_sigmas_type "zero" is not supported for algorithm_type "dpmsolver"/],
      [{ _class_name: 'UniPCMultistepScheduler', prediction_type: 'flow_prediction', predict_x0: false }, /flow_prediction" needs predict_x0 true/],
      [{ _class_name: 'DDIMScheduler', beta_schedule: 'sigmoid' }, /beta_schedule "sigmoid" is not one of DDIMScheduler's values/],
    ];
    for (const [cfg, re] of cases) {
      const e = caught(() => schedulerFromConfig(cfg, { file: F, warn: () => {} }).setTimesteps(5));
      expect(e, JSON.stringify(cfg)).toBeInstanceOf(SchedulerConfigError);
      expect(e.message.startsWith(`${F}: `), e.message).toBe(true);
      expect(e.message).toMatch(re);
    }
    // a step count outside the table is the caller's error, not the file's
    expect(() => schedulerFromConfig({ _class_name: 'UniPCMultistepScheduler' }, { file: F }).setTimesteps(1001)).toThrow(/^num_inference_steps must be an integer in \[1, 1000\]/);
    // shift sets a flow shift: a multistep config without use_flow_sigmas has none (its beta sigmas ignore flow_shift)
    expect(() => schedulerFromConfig({ _class_name: 'UniPCMultistepScheduler' }, { file: F, shift: 3 })).toThrow(/^shift sets the shift of flow-matching schedules .* not UniPCMultistepScheduler, whose flow_shift applies only with use_flow_sigmas true/);
  });
});

describe('a refused value is shown as the file has it, not as JSON.stringify shows it (NaN and ±Infinity were "null")', () => {
  const unipc = (flowShift: string) => `{"_class_name": "UniPCMultistepScheduler", "use_flow_sigmas": true, "prediction_type": "flow_prediction", "flow_shift": ${flowShift}}`;
  it.each([
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['-Infinity', '-Infinity'],
    ['"3"', '"3"'],
    ['-2', '-2'],
  ])('flow_shift: %s', (written, said) => {
    const e = caught(() => schedulerFromConfig(unipc(written), { file: F }));
    expect(e).toBeInstanceOf(SchedulerConfigError);
    expect(e.message).toBe(`${F}: flow_shift must be a number > 0, got ${said}`);
  });

  it('an integer key, a boolean key and a choice key given NaN or a string', () => {
    expect(caught(() => schedulerFromConfig('{"_class_name": "DDIMScheduler", "num_train_timesteps": NaN}', { file: F })).message).toBe(`${F}: num_train_timesteps must be an integer ≥ 1, got NaN`);
    expect(caught(() => schedulerFromConfig('{"_class_name": "DDIMScheduler", "clip_sample": "false"}', { file: F })).message).toBe(`${F}: clip_sample must be true or false, got "false"`);
    expect(caught(() => schedulerFromConfig('{"_class_name": "DDIMScheduler", "beta_schedule": NaN}', { file: F })).message).toMatch(new RegExp(`^${F}: beta_schedule NaN is not one of DDIMScheduler's values`));
  });
});
