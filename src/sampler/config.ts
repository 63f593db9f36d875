// Scheduler configs read as diffusers reads them (configuration_utils.ConfigMixin):
//  - from_pretrained: the class is the config's `_class_name`;
//  - X.from_config(config): every key X's __init__ defines is taken from the config, the rest of
//    X's arguments keep their defaults; keys X does not define (another class's, or unknown) are
//    ignored with one warning line naming them; keys starting with "_" are bookkeeping.
// Values X defines but tessera does not implement (thresholding, SDE solvers, dynamic shifting,
// beta sigmas) are refused by name. Every error names the config file.

import { notValidJson, parsePythonJson } from '../io/json.js';
import { DDIMScheduler, FlowMatchEulerScheduler, checkSteps, type BetaSchedule, type Scheduler } from './scheduler.js';
import { dpmProgram, RepeatedStartError, unipcProgram, type DPMConfig, type MultistepCommon, type UniPCConfig } from './multistep.js';
import { checkProgram, SchedulerMathError, type StepProgram } from './program.js';
import { shown } from '../model/model.js';
import { closestNames, meantText } from '../closest-name.js';

/** A scheduler config tessera cannot use; the message starts with the file (or "scheduler config"). */
export class SchedulerConfigError extends Error {
  override name = 'SchedulerConfigError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_SCHEDULER_CONFIG';
}

/**
 * A step count (num_inference_steps) the scheduler cannot run with its config: outside
 * [1, num_train_timesteps], or so many that the timesteps repeat the first one. The message starts
 * with "num_inference_steps"; `maxSteps`: the most that work, where known.
 */
export class StepCountError extends SchedulerConfigError {
  override name = 'StepCountError';
  override readonly code: string = 'ERR_STEP_COUNT';
  constructor(
    message: string,
    /** The num_inference_steps asked for. */
    readonly steps: number,
    /** The most steps that work with this config, where known. */
    readonly maxSteps?: number,
  ) {
    super(message);
  }
}

type Config = Record<string, unknown>;

/**
 * What to change in a config whose update is not finite, from what it has. UniPC's last step onto a
 * final sigma of 0: bh1 divides by zero at any order and bh2 at an order > 1 (lower_order_final
 * false). DDIM: epsilon's x0 at a zero-terminal-SNR step (alpha_prod_t 0) without clip_sample.
 */
function mathAdvice(cls: SchedulerClass, kept: Config, lastStep: boolean): string {
  if (cls === 'DDIMScheduler') {
    // x0 = (x − √(1−ᾱ)·ε)/√ᾱ at ᾱ = 0, unclipped (clip_sample clamps the ±inf: see DDIMScheduler.program)
    if (kept['rescale_betas_zero_snr'] !== true || (kept['prediction_type'] ?? 'epsilon') !== 'epsilon') return '';
    return ': rescale_betas_zero_snr makes alpha_prod_t 0 there and prediction_type "epsilon" divides by it; set prediction_type "v_prediction" (what zero-terminal-SNR schedules are trained with) or clip_sample true';
  }
  const zero = (kept['final_sigmas_type'] ?? 'zero') === 'zero';
  if (cls !== 'UniPCMultistepScheduler' || !lastStep || !zero) return '';
  const bh1 = kept['solver_type'] === 'bh1';
  const lowerFinal = kept['lower_order_final'] ?? true;
  if (!bh1 && lowerFinal) return '';
  const why = bh1 ? (lowerFinal ? 'solver_type "bh1" onto the final sigma 0 (even at order 1)' : 'solver_type "bh1" at order > 1 onto the final sigma 0 (lower_order_final false)') : 'order > 1 onto the final sigma 0 (lower_order_final false)';
  const fix = bh1 ? (lowerFinal ? 'solver_type "bh2"' : 'solver_type "bh2" with lower_order_final true') : 'lower_order_final true';
  return `: ${why}; set ${fix}, or final_sigmas_type "sigma_min"`;
}

/** diffusers' __init__ arguments of each supported class (the keys from_config keeps). */
const KEYS = {
  FlowMatchEulerDiscreteScheduler: [
    'num_train_timesteps', 'shift', 'use_dynamic_shifting', 'base_shift', 'max_shift', 'base_image_seq_len', 'max_image_seq_len',
    'invert_sigmas', 'shift_terminal', 'use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas', 'time_shift_type', 'stochastic_sampling',
  ],
  DDIMScheduler: [
    'num_train_timesteps', 'beta_start', 'beta_end', 'beta_schedule', 'trained_betas', 'clip_sample', 'set_alpha_to_one', 'steps_offset',
    'prediction_type', 'thresholding', 'dynamic_thresholding_ratio', 'clip_sample_range', 'sample_max_value', 'timestep_spacing', 'rescale_betas_zero_snr',
  ],
  UniPCMultistepScheduler: [
    'num_train_timesteps', 'beta_start', 'beta_end', 'beta_schedule', 'trained_betas', 'solver_order', 'prediction_type', 'thresholding',
    'dynamic_thresholding_ratio', 'sample_max_value', 'predict_x0', 'solver_type', 'lower_order_final', 'disable_corrector', 'solver_p',
    'use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas', 'use_flow_sigmas', 'flow_shift', 'timestep_spacing', 'steps_offset',
    'final_sigmas_type', 'rescale_betas_zero_snr', 'use_dynamic_shifting', 'time_shift_type', 'sigma_min', 'sigma_max', 'shift_terminal',
  ],
  DPMSolverMultistepScheduler: [
    'num_train_timesteps', 'beta_start', 'beta_end', 'beta_schedule', 'trained_betas', 'solver_order', 'prediction_type', 'thresholding',
    'dynamic_thresholding_ratio', 'sample_max_value', 'algorithm_type', 'solver_type', 'lower_order_final', 'euler_at_final',
    'use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas', 'use_lu_lambdas', 'use_flow_sigmas', 'flow_shift', 'final_sigmas_type',
    'lambda_min_clipped', 'variance_type', 'timestep_spacing', 'steps_offset', 'rescale_betas_zero_snr', 'use_dynamic_shifting', 'time_shift_type',
  ],
} as const;

/** The diffusers scheduler classes tessera samples with. */
export type SchedulerClass = keyof typeof KEYS;

/** Short names `--scheduler` accepts besides the class names (look one up with Object.hasOwn: not 'constructor'). */
export const SCHEDULER_SHORT_NAMES: Readonly<Record<string, SchedulerClass>> = {
  'flow-match-euler': 'FlowMatchEulerDiscreteScheduler',
  ddim: 'DDIMScheduler',
  unipc: 'UniPCMultistepScheduler',
  'dpm-solver': 'DPMSolverMultistepScheduler',
  dpmpp: 'DPMSolverMultistepScheduler',
};

export const SCHEDULER_CLASSES = Object.keys(KEYS) as SchedulerClass[];

const supported = () => `${SCHEDULER_CLASSES.join(', ')} (short names ${Object.keys(SCHEDULER_SHORT_NAMES).join(', ')})`;

/**
 * Why `shift` cannot be set on `cls` built from `config` (the config as from_config reads it), as one line, or null
 * where it can: FlowMatchEulerDiscreteScheduler's `shift`, and a UniPC / DPM-Solver config with use_flow_sigmas true,
 * whose flow_shift it sets as diffusers' `X.from_config(config, flow_shift=S)` (Wan's documented recipe). Refused:
 * DDIM, which has no shift, and UniPC / DPM-Solver without flow sigmas, whose sigmas come from the beta schedule and
 * ignore flow_shift (diffusers keeps it and samples unshifted). A class tessera does not support gives null (its own
 * refusal comes from schedulerFromConfig). `o.option`: how the caller names the shift (default "shift"; the CLI
 * "--shift"); `o.from`: where the class came from; `o.file`: the config's file; `o.choose`: how to pick flow-match
 * Euler instead, where the caller can.
 */
export function shiftProblem(cls: unknown, config: Readonly<Config> | null | undefined, o: { option?: string; from?: string; file?: string; choose?: string } = {}): string | null {
  if (cls === 'FlowMatchEulerDiscreteScheduler' || !SCHEDULER_CLASSES.includes(cls as SchedulerClass)) return null;
  const multistep = cls === 'UniPCMultistepScheduler' || cls === 'DPMSolverMultistepScheduler';
  const flowSigmas = config?.['use_flow_sigmas'];
  if (multistep && flowSigmas === true) return null;
  const opt = o.option ?? 'shift';
  // `from` may already name the file (the class came from it): not twice in one line
  const where = o.file === undefined ? 'its scheduler config' : o.from?.includes(o.file) ? 'that file' : o.file;
  const why = multistep
    ? `whose flow_shift applies only with use_flow_sigmas true, and ${where} ${flowSigmas === undefined ? 'does not set it (default false)' : `sets it ${shown(flowSigmas)}`}: its sigmas come from the beta schedule, which has no shift; leave out ${opt}`
    : `which has no shift: leave out ${opt}`;
  return `${opt} sets the shift of flow-matching schedules (FlowMatchEulerDiscreteScheduler's shift, UniPC / DPM-Solver's flow_shift with use_flow_sigmas), not ${cls}${o.from ? ` (${o.from})` : ''}, ${why}${o.choose ? `, or give ${o.choose}` : ''}`;
}

/** The model families as the schedulers see them: Wan is trained for flow matching, DiT and Latte to predict noise (epsilon). */
export type SamplingFamily = 'wan' | 'dit' | 'latte';

/** Each family's transformer class, for messages. */
const FAMILY_MODEL: Record<SamplingFamily, string> = { wan: 'WanTransformer3DModel', dit: 'DiTTransformer2DModel', latte: 'LatteTransformer3DModel' };

/**
 * The scheduler classes whose defaults (no scheduler config) are right for `family`: flow-match Euler for Wan (the
 * only one whose defaults are flow matching), DDIM / UniPC / DPM-Solver for DiT and Latte (epsilon prediction), with
 * their short names. The list "no scheduler config" errors offer.
 */
export function schedulersForDefaults(family: SamplingFamily): { classes: SchedulerClass[]; short: string[] } {
  const classes = SCHEDULER_CLASSES.filter((c) => (c === 'FlowMatchEulerDiscreteScheduler') === (family === 'wan'));
  return { classes, short: Object.keys(SCHEDULER_SHORT_NAMES).filter((k) => classes.includes(SCHEDULER_SHORT_NAMES[k]!)) };
}

/**
 * Why `spec` cannot sample a `family` model, as one line, or null. Wan is trained for flow matching: it needs
 * FlowMatchEulerDiscreteScheduler, or UniPC / DPM-Solver with prediction_type "flow_prediction" and use_flow_sigmas
 * true; DiT and Latte predict noise, which flow-match Euler (it reads the output as a flow velocity) cannot sample.
 * Only a setting the class takes by default (its config does not set it: no config at all, or another class's
 * swapped in) is refused; a config that sets it says what the model wants, and is followed as diffusers follows it.
 * Without this the class defaults on a flow model (`--scheduler unipc` on a bare Wan transformer folder) gave latents
 * ~150× off, with no word. `o.option`: how the caller chooses the scheduler ('--scheduler', 'scheduler'), which
 * starts the line; `o.choose`: a short name as the caller would give it (`--scheduler ddim`); `o.configHint`: how the
 * caller gives a scheduler config (the CLI: the file's path).
 */
export function familyProblem(spec: Pick<SchedulerSpec, 'className' | 'config' | 'ignoredKeys' | 'file'>, family: SamplingFamily, o: { option: string; choose: (short: string) => string; configHint: string }): string | null {
  const cls = spec.className;
  const c = spec.config;
  const set = (k: string) => c[k] !== undefined && c[k] !== null;
  const model = FAMILY_MODEL[family];
  // built from nothing (no config, or one with no key of the class's): the class's defaults throughout
  const bare = Object.keys(c).length === 0 && spec.ignoredKeys.length === 0;
  const from = `${cls} ${bare ? 'with no scheduler config' : `built from ${spec.file}`}`;
  const pick = (f: SamplingFamily) => schedulersForDefaults(f).short.map(o.choose).join(', ');
  if (family === 'wan') {
    if (cls === 'FlowMatchEulerDiscreteScheduler') return null;
    // the settings that make this class sample noise rather than flow; refused when none of them is the config's own
    const pt = c['prediction_type'] ?? 'epsilon';
    const faults: [string, boolean][] = [];
    if (pt !== 'flow_prediction') faults.push([`prediction_type ${shown(pt)}`, set('prediction_type')]);
    if (cls !== 'DDIMScheduler' && c['use_flow_sigmas'] !== true) faults.push([`use_flow_sigmas ${shown(c['use_flow_sigmas'] ?? false)}`, set('use_flow_sigmas')]);
    if (faults.some(([, own]) => own)) return null;
    const defaults = faults.map(([k]) => k);
    if (!defaults.length) return null;
    const instead = cls === 'DDIMScheduler' ? '' : `, or ${o.configHint} that sets prediction_type "flow_prediction" and use_flow_sigmas true (as Wan's UniPCMultistepScheduler config does)`;
    return `${o.option}: ${from} samples with ${defaults.join(' and ')} (its defaults), a noise-prediction schedule; ${model} is trained for flow matching, so the output would be noise: give ${pick('wan')} (its defaults are flow matching)${instead}`;
  }
  if (cls !== 'FlowMatchEulerDiscreteScheduler' || spec.ignoredKeys.includes('prediction_type')) return null;
  return `${o.option}: ${from}: FlowMatchEulerDiscreteScheduler reads the model output as a flow velocity, and ${model} predicts noise (epsilon), so the output would be noise: give ${pick(family)} (their defaults predict epsilon), or ${o.configHint} for the model`;
}

/**
 * A class name or short name → the diffusers class: a class name as diffusers spells it or in any case
 * (`unipcmultistepscheduler`), or a short name (flow-match-euler, ddim, unipc, dpm-solver, dpmpp; any case).
 * @throws SchedulerConfigError listing the supported ones, starting with `where` (default "scheduler",
 *   generate()'s option; the CLI passes "--scheduler"), for another name or a value that is not a string.
 */
export function resolveSchedulerClass(name: string, where = 'scheduler'): SchedulerClass {
  if (typeof name !== 'string') throw new SchedulerConfigError(`${where}: a scheduler class or short name (a string), got ${shown(name)}; supported: ${supported()}`);
  if (Object.hasOwn(KEYS, name)) return name as SchedulerClass;
  // own keys only: 'constructor' or '__proto__' is no short name (a plain object's lookup would find Object's)
  const lower = name.toLowerCase();
  if (Object.hasOwn(SCHEDULER_SHORT_NAMES, lower)) return SCHEDULER_SHORT_NAMES[lower]!;
  const ci = SCHEDULER_CLASSES.find((c) => c.toLowerCase() === lower);
  if (ci) return ci;
  const near = schedulerMeant(name);
  throw new SchedulerConfigError(`${where}: scheduler ${JSON.stringify(name)} is not supported; supported: ${supported()}${near ? ` (did you mean ${near}?)` : ''}`);
}

// other tools' names for the same samplers (k-diffusion's and ComfyUI's euler, dpm++, dpmpp_2m), keyed in snake_case
// as closestNames reads them (user24 #6)
const SCHEDULER_ALIASES: Readonly<Record<string, string>> = { euler: 'flow_match_euler', 'dpm++': 'dpmpp', dpm_solver_pp: 'dpmpp', 'dpm_solver++': 'dpmpp', 'dpm++_2m': 'dpmpp', dpmpp_2m: 'dpmpp', uni_pc: 'unipc' };

/**
 * "Did you mean" for a scheduler name that is not one: a short name first (an alias of another tool, a
 * spelling), else a class. Undefined when none is close.
 */
export function schedulerMeant(name: string): string | undefined {
  const short = closestNames(name, Object.keys(SCHEDULER_SHORT_NAMES), SCHEDULER_ALIASES);
  return meantText(short.length ? short : closestNames(name, SCHEDULER_CLASSES));
}

// ---------------------------------------------------------------------------------------------
// typed reads of config values (null and absent mean the class default, as in Python); a refused
// value is shown as written (shown(): NaN, Infinity, a string quoted), not as JSON.stringify's null

class Reader {
  constructor(
    readonly cfg: Config,
    readonly file: string,
    readonly cls: string,
  ) {}
  fail(msg: string): never {
    throw new SchedulerConfigError(`${this.file}: ${msg}`);
  }
  num(key: string, dflt: number, ok: (v: number) => boolean = Number.isFinite, what = 'a finite number'): number {
    const v = this.cfg[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !ok(v)) this.fail(`${key} must be ${what}, got ${shown(v)}`);
    return v;
  }
  numOrNull(key: string, ok: (v: number) => boolean, what: string): number | null {
    const v = this.cfg[key];
    if (v === undefined || v === null) return null;
    return this.num(key, 0, ok, what);
  }
  int(key: string, dflt: number, lo: number, hi = Infinity): number {
    return this.num(key, dflt, (v) => Number.isInteger(v) && v >= lo && v <= hi, hi === Infinity ? `an integer ≥ ${lo}` : `an integer in [${lo}, ${hi}]`);
  }
  bool(key: string, dflt: boolean): boolean {
    const v = this.cfg[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') this.fail(`${key} must be true or false, got ${shown(v)}`);
    return v;
  }
  oneOf<T extends string>(key: string, dflt: T, allowed: readonly T[], unsupported: readonly string[] = []): T {
    const v = this.cfg[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'string' && unsupported.includes(v)) this.fail(`${key} "${v}" is not supported by tessera (supported: ${allowed.join(', ')})`);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) this.fail(`${key} ${shown(v)} is not one of ${this.cls}'s values (${allowed.join(', ')})`);
    return v as T;
  }
  mustBe(key: string, ok: (v: unknown) => boolean, why: string): void {
    const v = this.cfg[key];
    if (v !== undefined && v !== null && !ok(v)) this.fail(`${key} = ${shown(v)} is not supported by tessera (${why})`);
  }
  betas(n: number): number[] | null {
    const tb = this.cfg['trained_betas'];
    if (tb === undefined || tb === null) return null;
    if (!Array.isArray(tb) || !tb.every((v) => typeof v === 'number' && Number.isFinite(v))) this.fail('trained_betas must be an array of numbers or null');
    if (tb.length !== n) this.fail(`trained_betas has ${tb.length} values, num_train_timesteps is ${n}`);
    return tb as number[];
  }
}

const BETA_SCHEDULES = ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const satisfies readonly BetaSchedule[];

/** The keys every beta-schedule class reads, and the refusals they share. */
function common(r: Reader, predictions: readonly string[]): MultistepCommon {
  const n = r.int('num_train_timesteps', 1000, 2);
  r.mustBe('thresholding', (v) => v === false, 'dynamic thresholding (a per-sample quantile) is not implemented');
  r.num('dynamic_thresholding_ratio', 0.995);
  r.num('sample_max_value', 1);
  r.mustBe('use_beta_sigmas', (v) => v === false, 'beta sigmas (scipy) are not implemented; use use_karras_sigmas or use_exponential_sigmas');
  r.mustBe('use_dynamic_shifting', (v) => v === false, 'dynamic shifting needs a resolution-dependent mu; use flow_shift');
  r.oneOf('time_shift_type', 'exponential', ['exponential', 'linear'] as const);
  const karras = r.bool('use_karras_sigmas', false);
  const expo = r.bool('use_exponential_sigmas', false);
  if (karras && expo) r.fail('only one of use_karras_sigmas, use_exponential_sigmas, use_beta_sigmas can be true');
  return {
    num_train_timesteps: n,
    beta_start: r.num('beta_start', 0.0001, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
    beta_end: r.num('beta_end', 0.02, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
    beta_schedule: r.oneOf('beta_schedule', 'linear', BETA_SCHEDULES),
    trained_betas: r.betas(n),
    solver_order: r.int('solver_order', 2, 1, 3),
    prediction_type: r.oneOf('prediction_type', 'epsilon', predictions as readonly MultistepCommon['prediction_type'][]),
    lower_order_final: r.bool('lower_order_final', true),
    use_karras_sigmas: karras,
    use_exponential_sigmas: expo,
    use_flow_sigmas: r.bool('use_flow_sigmas', false),
    flow_shift: r.num('flow_shift', 1, (v) => Number.isFinite(v) && v > 0, 'a number > 0'),
    timestep_spacing: r.oneOf('timestep_spacing', 'linspace', ['linspace', 'leading', 'trailing'] as const),
    steps_offset: r.int('steps_offset', 0, 0),
    final_sigmas_type: r.oneOf('final_sigmas_type', 'zero', ['zero', 'sigma_min'] as const),
    rescale_betas_zero_snr: r.bool('rescale_betas_zero_snr', false),
  };
}

/** Parses and validates a config for `cls`; returns set_timesteps. */
function builder(cls: SchedulerClass, r: Reader, opts: { shift?: number }): (steps: number) => StepProgram | { program(): StepProgram; legacy: Scheduler } {
  switch (cls) {
    case 'FlowMatchEulerDiscreteScheduler': {
      const n = r.int('num_train_timesteps', 1000, 1);
      let shift = r.num('shift', 1, (v) => Number.isFinite(v) && v > 0, 'a number > 0');
      if (opts.shift !== undefined) {
        if (typeof opts.shift !== 'number' || !Number.isFinite(opts.shift) || opts.shift <= 0) throw new SchedulerConfigError(`shift: a number > 0, got ${shown(opts.shift)}`);
        shift = opts.shift; // as from_config(config, shift=...): both in __init__ and set_timesteps
      }
      r.mustBe('use_dynamic_shifting', (v) => v === false, 'needs a resolution-dependent mu; Wan uses a static shift');
      for (const k of ['use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas']) r.mustBe(k, (v) => v === false, 'only the plain shifted sigma schedule is implemented for flow-match Euler');
      r.mustBe('stochastic_sampling', (v) => v === false, 'the Euler update here is deterministic');
      for (const k of ['base_shift', 'max_shift', 'base_image_seq_len', 'max_image_seq_len']) r.num(k, 0);
      r.oneOf('time_shift_type', 'exponential', ['exponential', 'linear'] as const);
      const shiftTerminal = r.num('shift_terminal', 0, (v) => v >= 0 && v < 1, 'a number in [0, 1) or null');
      const invertSigmas = r.bool('invert_sigmas', false);
      return (steps) => {
        checkSteps(steps, n);
        const s = new FlowMatchEulerScheduler(steps, shift, { numTrainTimesteps: n, shiftTerminal, invertSigmas });
        return { program: () => s.program(), legacy: s };
      };
    }
    case 'DDIMScheduler': {
      const n = r.int('num_train_timesteps', 1000, 1);
      r.mustBe('thresholding', (v) => v === false, 'dynamic thresholding is not implemented');
      r.num('dynamic_thresholding_ratio', 0.995);
      r.num('sample_max_value', 1);
      const o = {
        numTrainTimesteps: n,
        betaStart: r.num('beta_start', 0.0001, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
        betaEnd: r.num('beta_end', 0.02, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
        betaSchedule: r.oneOf('beta_schedule', 'linear', BETA_SCHEDULES),
        trainedBetas: r.betas(n),
        rescaleBetasZeroSnr: r.bool('rescale_betas_zero_snr', false),
        clipSample: r.bool('clip_sample', true),
        clipSampleRange: r.num('clip_sample_range', 1, (v) => v > 0, 'a number > 0'),
        setAlphaToOne: r.bool('set_alpha_to_one', true),
        stepsOffset: r.int('steps_offset', 0, 0),
        predictionType: r.oneOf('prediction_type', 'epsilon', ['epsilon', 'v_prediction', 'sample'] as const),
        timestepSpacing: r.oneOf('timestep_spacing', 'leading', ['leading', 'trailing', 'linspace'] as const),
      };
      return (steps) => {
        checkSteps(steps, n);
        let s: DDIMScheduler;
        try {
          s = new DDIMScheduler(steps, o);
        } catch (e) {
          throw new SchedulerConfigError(`${r.file}: ${(e as Error).message.replace(/^scheduler config: /, '')}`);
        }
        return { program: () => s.program(), legacy: s };
      };
    }
    case 'UniPCMultistepScheduler': {
      const c = common(r, ['epsilon', 'sample', 'v_prediction', 'flow_prediction']);
      r.mustBe('solver_p', () => false, 'an extra solver object cannot come from a JSON config');
      // __init__ maps DPM-Solver's solver types to bh2 (register_to_config)
      const st = r.cfg['solver_type'];
      const solverType = typeof st === 'string' && ['midpoint', 'heun', 'logrho'].includes(st) ? 'bh2' : r.oneOf('solver_type', 'bh2', ['bh1', 'bh2'] as const);
      const dc = r.cfg['disable_corrector'] ?? [];
      if (!Array.isArray(dc) || !dc.every((v) => Number.isInteger(v))) r.fail(`disable_corrector must be a list of step indices, got ${JSON.stringify(dc)}`);
      const shiftTerminal = r.numOrNull('shift_terminal', (v) => v >= 0 && v < 1, 'a number in [0, 1) or null');
      if (shiftTerminal !== null && !c.use_flow_sigmas) r.fail('shift_terminal is only supported with use_flow_sigmas true (diffusers raises the same)');
      const u: UniPCConfig = {
        ...c,
        predict_x0: r.bool('predict_x0', true),
        solver_type: solverType,
        disable_corrector: dc as number[],
        sigma_min: r.numOrNull('sigma_min', (v) => v > 0, 'a number > 0 or null'),
        sigma_max: r.numOrNull('sigma_max', (v) => v > 0, 'a number > 0 or null'),
        shift_terminal: shiftTerminal,
      };
      if (u.prediction_type === 'flow_prediction' && !u.predict_x0) r.fail('prediction_type "flow_prediction" needs predict_x0 true');
      return (steps) => {
        checkSteps(steps, c.num_train_timesteps);
        return unipcProgram(u, steps);
      };
    }
    case 'DPMSolverMultistepScheduler': {
      const c = common(r, ['epsilon', 'sample', 'v_prediction', 'flow_prediction']);
      const at = r.cfg['algorithm_type'];
      // __init__ maps "deis" to dpmsolver++ (register_to_config) after refusing it with a zero final sigma
      if (at === 'deis' && (r.cfg['final_sigmas_type'] ?? 'zero') === 'zero') r.fail('final_sigmas_type "zero" is not supported for algorithm_type "deis" (diffusers raises the same); use "sigma_min"');
      const algorithm = at === 'deis' ? 'dpmsolver++' : r.oneOf('algorithm_type', 'dpmsolver++', ['dpmsolver++', 'dpmsolver'] as const, ['sde-dpmsolver++', 'sde-dpmsolver']);
      const st = r.cfg['solver_type'];
      const solverType = typeof st === 'string' && ['logrho', 'bh1', 'bh2'].includes(st) ? 'midpoint' : r.oneOf('solver_type', 'midpoint', ['midpoint', 'heun'] as const);
      if (algorithm === 'dpmsolver' && c.final_sigmas_type === 'zero') r.fail('final_sigmas_type "zero" is not supported for algorithm_type "dpmsolver" (diffusers raises the same); use "sigma_min"');
      if (algorithm === 'dpmsolver' && c.prediction_type === 'flow_prediction') r.fail('prediction_type "flow_prediction" needs algorithm_type "dpmsolver++"');
      r.mustBe('variance_type', () => false, 'the pipeline drops the learned variance channels before the scheduler');
      const lu = r.bool('use_lu_lambdas', false);
      const d: DPMConfig = {
        ...c,
        algorithm_type: algorithm,
        solver_type: solverType,
        euler_at_final: r.bool('euler_at_final', false),
        use_lu_lambdas: lu,
        lambda_min_clipped: r.num('lambda_min_clipped', -Infinity, (v) => typeof v === 'number' && !Number.isNaN(v) && v !== Infinity, 'a number (or -Infinity)'),
      };
      return (steps) => {
        checkSteps(steps, c.num_train_timesteps);
        return dpmProgram(d, steps);
      };
    }
  }
}

/** A scheduler class with its config, before set_timesteps: what diffusers' `Scheduler.from_config` returns. */
export interface SchedulerSpec {
  /** The diffusers class, e.g. `UniPCMultistepScheduler`. */
  readonly className: SchedulerClass;
  /** The config values the class takes (keys it defines; the rest are its defaults). */
  readonly config: Readonly<Config>;
  /** Keys of the given config the class does not define: ignored (one warning names them). */
  readonly ignoredKeys: readonly string[];
  /** Where the config came from, for messages. */
  readonly file: string;
  /**
   * set_timesteps(num_inference_steps): the timesteps and the whole update as a step program.
   * @throws SchedulerConfigError naming the file for steps outside [1, num_train_timesteps] or a
   *   schedule whose update is not finite.
   */
  setTimesteps(numInferenceSteps: number): StepProgram;
  /** flow-match Euler and DDIM: the CPU scheduler object with its f32 `step` (tests, references). */
  legacy(numInferenceSteps: number): Scheduler;
}

/** Options of schedulerFromConfig. */
export interface SchedulerFromConfigOptions {
  /** Use this class (a diffusers class name or short name) instead of the config's `_class_name`, as `X.from_config(config)`. */
  override?: string;
  /** The file the config came from, for messages (default "scheduler config"). */
  file?: string;
  /**
   * The flow-matching shift (a number > 0), replacing the config's, as `X.from_config(config, shift=S)`: FlowMatchEulerDiscreteScheduler's
   * `shift`, or UniPC / DPM-Solver's `flow_shift` when the config has use_flow_sigmas true (Wan's
   * `UniPCMultistepScheduler.from_config(config, flow_shift=5.0)`; `config.flow_shift` of the spec is then S).
   * SchedulerConfigError (shiftProblem's line) for DDIM, UniPC / DPM-Solver without flow sigmas, or a value ≤ 0.
   */
  shift?: number;
  /**
   * What messages call `override`: default "override" (this option); generate() passes "scheduler" (its option),
   * the CLI "--scheduler". null: the caller has no way to choose the class (loadPipeline: the folder's
   * scheduler is the pipeline's), so an unsupported class is refused without suggesting one.
   */
  overrideName?: string | null;
  /** Where the ignored-keys warning goes (default console.warn); one line per call. */
  warn?: (line: string) => void;
}

/** How many ignored keys the warning names before "and N more". */
const IGNORED_KEYS_NAMED = 8;

/**
 * The ignored-keys sentence of the scheduler warnings: `a, b are not X config keys: ignored` (`a is not a X config key: ignored`
 * for one); past IGNORED_KEYS_NAMED keys the rest are counted (`a, …, h and 14 more are not …`): a swap from
 * another family drops some twenty, and the names that matter go first (shiftKeyNote).
 */
export function ignoredKeysNote(keys: readonly string[], cls: string): string {
  const named = keys.length > IGNORED_KEYS_NAMED + 1 ? `${keys.slice(0, IGNORED_KEYS_NAMED).join(', ')} and ${keys.length - IGNORED_KEYS_NAMED} more` : keys.join(', ');
  return `${named} ${keys.length === 1 ? `is not a ${cls} config key` : `are not ${cls} config keys`}: ignored`;
}

/**
 * The one dropped key with an effect, said first: a multistep config's flow_shift (Wan's 3.0, 5.0) swapped to
 * FlowMatchEulerDiscreteScheduler, whose schedule reads `shift` instead, so the run would sample at shift 1
 * unless the caller gives the shift (`--shift N` on the CLI, the `shift` option in the library). Null when the
 * class already has its shift (the config's own `shift`, or the caller's) or flow_shift is 1 (no change).
 */
function shiftKeyNote(c: Config, cls: string, ignored: readonly string[], shiftGiven: boolean, overrideName: string | null, runs: string): string | null {
  if (cls !== 'FlowMatchEulerDiscreteScheduler' || !ignored.includes('flow_shift') || shiftGiven || c['shift'] !== undefined) return null;
  const fs = c['flow_shift'];
  if (typeof fs !== 'number' || !Number.isFinite(fs) || fs <= 0 || fs === 1) return null;
  const give = overrideName?.startsWith('--') ? `give --shift ${fs}` : `pass shift: ${fs}`;
  return `flow_shift ${fs} is not used: ${cls} reads shift, so ${runs} at shift 1 (${give} to keep it)`;
}

/**
 * The ignored keys of a swap to `cls`, as the scheduler warnings say them: shiftKeyNote's line first when flow_shift
 * has an effect, then the others counted (ignoredKeysNote); '' for none. `runs`: who samples at shift 1 ('this run
 * samples'; a pipeline's load, before any call's shift is known: 'a call without a shift samples').
 */
export function swapIgnoredNote(c: Config, cls: string, ignored: readonly string[], o: { shiftGiven?: boolean; overrideName?: string | null; runs?: string } = {}): string {
  const shiftNote = shiftKeyNote(c, cls, ignored, o.shiftGiven ?? false, o.overrideName ?? null, o.runs ?? 'this run samples');
  const rest = shiftNote ? ignored.filter((k) => k !== 'flow_shift') : ignored;
  const others = rest.length ? ignoredKeysNote(rest, cls) : '';
  return shiftNote ? `${shiftNote}${others ? `; the other ${others}` : ''}` : others;
}

/** A scheduler warning line in the CLI's words: shiftKeyNote's library hint (`pass shift: 3`) as the flag (`give --shift 3`). */
export function shiftNoteInFlagWords(line: string): string {
  return line.replace(/ \(pass shift: ([^ )]+) to keep it\)/, ' (give --shift $1 to keep it)');
}

/**
 * Why a learned variance_type that `cls` does not define is ignored, where diffusers departs: from_config keeps
 * it in scheduler.config (DPMSolverMultistepScheduler, a compatible class, defines it), LattePipeline then
 * skips dropping the transformer's learned-sigma half and `cls.step` fails on twice the latent channels.
 * DiTPipeline drops the half whatever the scheduler config says; one config may serve either pipeline.
 */
function learnedVarianceNote(vt: string, cls: string): string {
  return `; the transformer's learned-sigma channels are dropped before the scheduler, as diffusers' DiTPipeline does (its LattePipeline instead reads variance_type "${vt}" from scheduler.config, where from_config keeps it, skips that drop and fails in ${cls}.step on twice the latent channels)`;
}

/**
 * A scheduler config as its object: text is read as Python's json reads it (-Infinity); anything but an object
 * (text of "null", "false", "0", an array) is a SchedulerConfigError naming `file`, never the class defaults.
 */
export function schedulerConfigObject(config: unknown, file: string): Config {
  let cfg = config;
  if (typeof cfg === 'string') {
    try {
      cfg = parsePythonJson(cfg);
    } catch (e) {
      throw new SchedulerConfigError(`${file}: ${notValidJson(e)}`);
    }
  }
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw new SchedulerConfigError(`${file}: must be a JSON object (a diffusers scheduler_config.json)`);
  return cfg as Config;
}

/**
 * FlowMatchEulerDiscreteScheduler asked to sample a model trained for another prediction_type. diffusers'
 * class has no prediction_type: its step() reads the model output as the flow velocity
 * (x + (σ_next − σ)·v) and from_config drops the key with a warning, so the run gives noise; refused here.
 */
function flowMatchRefusal(pt: unknown, file: string): string {
  return `${file}: prediction_type ${shown(pt)}: FlowMatchEulerDiscreteScheduler samples flow-prediction models only (diffusers' class has no prediction_type: its step reads the model output as the flow velocity, x + (σ_next − σ)·v, and from_config ignores the key, so the output would be noise); choose a scheduler that reads prediction_type: unipc, dpm-solver, dpmpp or ddim`;
}

/**
 * Builds a scheduler from a diffusers `scheduler_config.json` (its text or parsed contents) as
 * diffusers does: without `override` the class is `_class_name` (`from_pretrained`); with it the
 * class is `override` built as `override.from_config(config)`. Keys the class does not define are
 * ignored with one warning line naming them (`opts.warn`); for a learned `variance_type` the line also says
 * that the transformer's learned-sigma half is dropped before the scheduler, as DiTPipeline does, where
 * diffusers' LattePipeline fails. `config` null or undefined reads as `{}` (then refused: no `_class_name`
 * unless `override` gives the class).
 *
 * @example
 * const spec = schedulerFromConfig(readFileSync('pipe/scheduler/scheduler_config.json', 'utf8'), { file: 'pipe/scheduler/scheduler_config.json' });
 * const program = spec.setTimesteps(50); // program.timesteps: what the model is fed
 * @throws SchedulerConfigError (names the file) for invalid JSON, a missing or unsupported class,
 *   a value of the wrong type, or a value tessera does not implement (e.g. thresholding: true), and for
 *   `opts.shift` with a class or config that has no flow shift to set (shiftProblem's line), and for
 *   FlowMatchEulerDiscreteScheduler on a config whose prediction_type is given and not "flow_prediction". A refused config gets no ignored-keys warning.
 */
export function schedulerFromConfig(config: Config | string | null | undefined, opts: SchedulerFromConfigOptions = {}): SchedulerSpec {
  const file = opts.file ?? 'scheduler config';
  const c = schedulerConfigObject(config ?? {}, file);
  let cls: SchedulerClass;
  const overrideName = opts.overrideName === undefined ? 'override' : opts.overrideName;
  if (opts.override !== undefined) cls = resolveSchedulerClass(opts.override, overrideName ?? 'override');
  else {
    const named = c['_class_name'];
    if (typeof named !== 'string') throw new SchedulerConfigError(`${file}: has no "_class_name" string naming the scheduler class; ${overrideName === null ? 'expected one of' : `give ${overrideName}`} (${supported()})`);
    if (!Object.hasOwn(KEYS, named)) throw new SchedulerConfigError(`${file}: scheduler class ${named} is not supported; supported: ${supported()}${overrideName === null ? '' : ` (or choose one with ${overrideName})`}`);
    cls = named as SchedulerClass;
  }
  // before the ignored-keys warning: a refused run gets the one line
  if (opts.shift !== undefined && (typeof opts.shift !== 'number' || !Number.isFinite(opts.shift) || opts.shift <= 0)) throw new SchedulerConfigError(`shift: a number > 0, got ${shown(opts.shift)}`);
  const shiftRefused = opts.shift === undefined ? null : shiftProblem(cls, c, { file });
  if (shiftRefused) throw new SchedulerConfigError(shiftRefused);
  if (cls === 'FlowMatchEulerDiscreteScheduler') {
    // the key as the config gives it (diffusers' save_config writes every key of its class): a config without it says nothing of the model
    const pt = c['prediction_type'];
    if (pt !== undefined && pt !== null && pt !== 'flow_prediction') throw new SchedulerConfigError(flowMatchRefusal(pt, file));
  }
  const keys: readonly string[] = KEYS[cls];
  const kept: Config = {};
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(c)) {
    if (k.startsWith('_')) continue;
    if (keys.includes(k)) kept[k] = v;
    else ignored.push(k);
  }
  // from_config(config, flow_shift=S): the scheduler's config says S (shiftProblem refused it without flow sigmas)
  if (opts.shift !== undefined && (KEYS[cls] as readonly string[]).includes('flow_shift')) kept['flow_shift'] = opts.shift;
  // parsed (and refused: a prediction_type the class does not take, a value it does not implement) before the warning
  const build = builder(cls, new Reader(kept, file, cls), { shift: opts.shift });
  if (ignored.length) {
    // Latte-1's own config: diffusers' from_config keeps a compatible class's key in scheduler.config, and
    // LattePipeline reads variance_type there, so it does not ignore this one: it fails (see learnedVarianceNote)
    const vt = ignored.includes('variance_type') ? c['variance_type'] : undefined;
    const why = vt === 'learned' || vt === 'learned_range' ? learnedVarianceNote(vt, cls) : " (as diffusers' from_config does)";
    (opts.warn ?? console.warn)(`warning: ${file}: ${swapIgnoredNote(c, cls, ignored, { shiftGiven: opts.shift !== undefined, overrideName })}${why}`);
  }
  const wrap = (steps: number) => {
    try {
      return build(steps);
    } catch (e) {
      if (e instanceof SchedulerConfigError) throw e;
      // the step count is the caller's, not the file's
      if (e instanceof RepeatedStartError) {
        const most = e.maxSteps > 0 ? `: use at most ${e.maxSteps}` : '';
        throw new StepCountError(`num_inference_steps ${steps} is too many for ${cls} with ${file}: its timesteps start ${e.timesteps.slice(0, 3).join(', ')}, … (the first one twice: diffusers would start at the second and run past the end of its tables)${most}`, steps, e.maxSteps || undefined);
      }
      const m = (e as Error).message;
      if (m.startsWith('steps must')) throw new StepCountError(`num_inference_${m}`, steps);
      throw new SchedulerConfigError(`${file}: ${m.replace(/^scheduler config: /, '')}`);
    }
  };
  return {
    className: cls,
    config: kept,
    ignoredKeys: ignored,
    file,
    setTimesteps(steps) {
      const b = wrap(steps);
      const p = 'program' in b ? b.program() : b;
      try {
        checkProgram(p);
      } catch (e) {
        const advice = e instanceof SchedulerMathError ? mathAdvice(cls, kept, e.step === p.ops.length - 1) : '';
        throw new SchedulerConfigError(`${file}: ${(e as Error).message}${advice}`);
      }
      return p;
    },
    legacy(steps) {
      const b = wrap(steps);
      if (!('legacy' in b)) throw new SchedulerConfigError(`${cls} has no CPU step object; use setTimesteps(…) and runProgramCpu`);
      return b.legacy;
    },
  };
}

/**
 * Legacy factory (tessera ≤ 0.x): a flow-match Euler or DDIM scheduler with its CPU `step`, from a
 * short name and a scheduler_config.json's contents (read as `X.from_config`).
 */
export function makeScheduler(name: string, steps: number, config: Config = {}, overrides: { shift?: number } = {}): Scheduler {
  return schedulerFromConfig(config, { override: name, overrideName: 'name', shift: overrides.shift }).legacy(steps);
}
