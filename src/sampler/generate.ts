// The denoising loop of diffusers' pipelines (WanPipeline, DiTPipeline, LattePipeline), resident
// on the GPU. Classifier-free guidance is batched: cond and uncond go through the model as one
// batch of 2B — except when the negative text embeddings have another length than the positive
// ones: then, as WanPipeline always does, cond and uncond are two passes of batch B (padding the
// shorter text would add keys to the cross-attention softmax and change the result). The
// forward plan is recorded once for that shape; the guidance mixing and the
// scheduler's update (src/sampler/program.ts: a few linear combinations per step, coefficients
// computed on the host in float64) are recorded once for the whole run as `lincomb` dispatches
// and encoded after the forward in the same command buffer. Latents, the last sample and the
// earlier model outputs stay in one f32 GPU buffer; the text embeddings are uploaded once, and
// their projection and every block's cross-attention K/V computed once (the model's prepare plan); per
// step the host writes the timestep and reads one 4-byte non-finite flag. The final latents are
// read once at the end.
import { checkClassIds, checkF16Range, checkFinite, checkLatentGrid, checkTensorData, InputError, shown, type DiffusionModel, type ExclusiveModel, type ForwardInputs, type TensorData } from '../model/model.js';
import { checkOptionNames, checkSignal, throwIfAborted } from '../model/options.js';
import { GpuError, gpuWait, withErrorScopes } from '../gpu/device.js';
import { blockEnds, compilePlans, Pace, Plan, submitParts, type Dispatch } from '../gpu/plan.js';
import { Allocator, fmtBytes, readTensor, writeTensor, type Tensor } from '../gpu/tensor.js';
import { DryAllocator } from '../gpu/memory-plan.js';
import { bindingLimit, LimitError } from '../model/memory.js';
import { checkSamplingConditioning, checkSamplingLatents, SAMPLING_NAMES } from '../model/forward.js';
import { lincomb, type LincombTerm } from '../ops/lincomb.js';
import { randn, seedProblem } from '../random.js';
import { callHook, hookQueue, type Hook } from '../hook.js';
import { plural } from '../plural.js';
import { familyProblem, resolveSchedulerClass, schedulerConfigObject, schedulerFromConfig, shiftProblem, type SchedulerSpec } from './config.js';
import { EPS_SLOT, type StepProgram } from './program.js';
import { DispatchTimer, wallClockRun, type ProfileRun } from '../profile/profiler.js';

/** A NaN or Inf in the latents or the model output, found at the end of a step; the message names the step, timestep and the first layer that produced it. */
export class NumericsError extends Error {
  override name = 'NumericsError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_NUMERICS';
}

/**
 * Options of `generate`, named as diffusers' pipelines name them. Give the scheduler as a
 * `SchedulerSpec` (schedulerFromConfig), or as a class / short name (`scheduler`) built from
 * `scheduler_config` (the folder's scheduler_config.json contents) as `X.from_config` does, or
 * only `scheduler_config` (its `_class_name` decides, as `from_pretrained`). A name without `scheduler_config` is
 * the class's defaults (`DDIMScheduler()`), right only for a model trained with them: defaults of the other kind
 * (noise prediction on a flow-matching Wan, flow-match Euler on an epsilon DiT / Latte) get one warning line through
 * `onWarning` (familyProblem's, once per model; Pipeline.generate warns alike), where the CLI refuses them; it is not an
 * InputError (`option` 'scheduler'). InputErrors of these options carry the option's name in `option`.
 */
export interface GenerateOptions {
  /**
   * The scheduler: a SchedulerSpec, or a class name (FlowMatchEulerDiscreteScheduler,
   * DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler; any case) or short name
   * (flow-match-euler, ddim, unipc, dpm-solver, dpmpp) built from `scheduler_config`. Unknown names:
   * SchedulerConfigError listing the accepted ones.
   */
  scheduler?: SchedulerSpec | string;
  /**
   * scheduler_config.json contents: the parsed object, or the file's text, read as loadPipeline reads it
   * (Python's json: `Infinity`, `-Infinity` and `NaN`, which diffusers writes in DPM-Solver configs and
   * JSON.parse refuses; text that is not JSON, or JSON that is not an object such as `null`, is a
   * SchedulerConfigError naming scheduler_config).
   */
  scheduler_config?: Record<string, unknown> | string;
  /** Denoising steps (diffusers' num_inference_steps): a positive integer (InputError otherwise) the scheduler config can run (StepCountError otherwise: above num_train_timesteps, or timesteps that repeat). */
  num_inference_steps?: number;
  /** CFG scale, a finite number (InputError otherwise); guidance is on when > 1, as diffusers' do_classifier_free_guidance: any scale ≤ 1, negative included, runs unguided. Default 1. */
  guidance_scale?: number;
  /**
   * The flow-matching shift (a number > 0), replacing the config's as `X.from_config(config, shift=S)` does:
   * FlowMatchEulerDiscreteScheduler's `shift`, or UniPC / DPM-Solver's `flow_shift` when scheduler_config has
   * use_flow_sigmas true (Wan's `UniPCMultistepScheduler.from_config(config, flow_shift=5.0)`). Refused with an
   * InputError (`option` 'shift') for DDIM (no shift) and for UniPC / DPM-Solver without flow sigmas (their beta
   * sigmas ignore flow_shift), whether `scheduler` or scheduler_config's _class_name gives the class
   * (schedulerFromConfig's own `shift` option throws SchedulerConfigError instead).
   */
  shift?: number;
  /** Initial noise [B, C, (F,) H, W] (f32), used as given (× init_noise_sigma). Or `seed` + `shape` (giving `shape` too is refused unless it equals latents.shape). */
  latents?: TensorData;
  /**
   * Seed of tessera's own Gaussian noise (src/random.ts; not torch's generator) when `latents` is not
   * given: an integer in 0..2^32 − 1 (4294967295; the generator's state is 32 bits), default 0. Anything
   * else (negative, fractional, larger) is refused with an InputError naming `seed`.
   */
  seed?: number;
  /** Latent shape for seeded noise: Wan/Latte [B, C, F, H, W] (latent frames and pixels / 8), DiT [B, C, H, W]. */
  shape?: number[];
  /**
   * Wan/Latte: [B, L, dim] text embeddings (= prompt_embeds: give one name, not both), and the
   * negative ones for CFG (= negative_prompt_embeds): [B, L', dim], any length L' (as WanPipeline:
   * when L' ≠ L cond and uncond run as two passes of batch B; checked when given, though unguided
   * runs do not read them: with guidance_scale ≤ 1 one note through onWarning says they are unused). The four
   * text options are refused for a DiT (InputError).
   */
  encoder_hidden_states?: TensorData;
  /** Wan/Latte: the negative text embeddings for CFG, [B, L', dim] (= negative_prompt_embeds: give one name, not both). */
  negative_encoder_hidden_states?: TensorData;
  /** encoder_hidden_states under the pipeline's name (what `tessera encode` writes). */
  prompt_embeds?: TensorData;
  /** negative_encoder_hidden_states under the pipeline's name. */
  negative_prompt_embeds?: TensorData;
  /** DiT: [B] class ids in 0…num_embeds_ada_norm, the last the null class (numbers, or bigint: a BigInt64Array as diffusers' int64 labels). Refused for Wan/Latte (InputError). */
  class_labels?: ArrayLike<number | bigint>;
  /**
   * Called after each step (progress bars, previews). A promise it returns is awaited before the next
   * step (backpressure); one that throws or rejects fails the run with an Error
   * `generate, step I/N: onStep failed: …` (its error as `cause`). The loop holds the model meanwhile:
   * this model's forward() or generate() awaited inside it would wait for the loop: they reject with ReentrantCallError
   * (in browsers only when called before its first await); called without await they run after the loop.
   */
  onStep?: Hook<[step: number, steps: number, timestep: number]>;
  /**
   * Cancels the run: checked before the first step (after the kernels compile) and between steps (a
   * step under way finishes first). An aborted run rejects with a DOMException named 'AbortError' (so
   * `e.name === 'AbortError'` checks keep working) whose message names what was interrupted:
   * `generate: aborted (REASON)` when it never started (already aborted: before any GPU work; aborted while it
   * waits for the model behind its running calls: at once, and it never runs), `generate, before step I/N:
   * aborted (REASON)` once the loop began. REASON is the reason's message (`controller.abort()` with no
   * argument: 'This operation was aborted'), and the signal's reason is the error's `cause` (the reason is
   * never rethrown as it is, an AbortError reason included). The run frees what it allocated and releases
   * the model for the next call. Pipeline.generate's denoising stage says `Pipeline.generate, before the
   * denoising loop` and `Pipeline.generate, before step I/N` instead.
   */
  signal?: AbortSignal;
  /**
   * Where the scheduler config's ignored-keys warning and the unused negative text's note (`note:
   * negative_prompt_embeds unused: guidance_scale 1 ≤ 1 disables classifier-free guidance (as diffusers'
   * do_classifier_free_guidance, guidance_scale > 1); give guidance_scale > 1 to use them`)
   * go (default console.warn), after the checks (not for a refused call). The ignored-keys warning is
   * said once per model and distinct line: a later call on the same loaded model with the same config says nothing
   * (a model loaded again says it again); the negative-text note, which depends on the call's own options, every time. A promise it returns is
   * awaited before any GPU work; one that throws or rejects fails the run (`generate: onWarning failed: …`).
   */
  onWarning?: Hook<[line: string]>;
  /**
   * tessera's own: each denoising step's kernels, timed. After each step (before onStep), a ProfileRun of the
   * dispatches the step ran, in order: step 1 the text embedding and cross-attention K/V (the prepare plan),
   * then each step the forward of each pass, the guidance and the scheduler's update (kernel, layer, GPU ms per
   * dispatch). With timestamp-query each dispatch runs in its own compute pass with timestamp writes, as in
   * profilePlan (src/profile/profiler.ts), so the loop runs slower; step 1's prepare and forward run once more,
   * timed, after the untimed first run that tunes and compiles them (a kernel's compilation is not its time; the
   * latents are unchanged: a plan never writes its inputs). Without timestamp-query: a 'wall-clock' run naming
   * the step's dispatches without per-dispatch times, `totalMs` the step's wall time, `note` saying why.
   * Unset (the default): none of this is recorded (no query sets, no timestamp writes). Awaited as onStep is.
   */
  onStepProfile?: Hook<[step: number, steps: number, run: ProfileRun]>;
  /**
   * tessera's own: progress inside a long denoising step. `block` of `blocks` transformer blocks of step `step`
   * (1-based: the step under way, not yet reported by onStep) finished on the device; `blocks` counts every pass of
   * the step (the model's layers; twice that when CFG runs as two passes, negative text of another length). Called
   * in the steps expected to be long: step 1 (it tunes and compiles the kernels, and on a CPU adapter its first
   * dispatches compile their shaders: minutes for a large model) and each step after one that took at least 1 s
   * (BLOCK_PROGRESS_MIN_MS) from its start to its read-back; the other steps run as before and call
   * nothing. In those steps the forward is submitted as one command buffer per block, all at once (the same
   * dispatches in the same order: the latents are identical), and each call comes once its block's work is done.
   * Not called in a step whose kernels onStepProfile times with timestamps. Unset (the default): every step is one
   * submit as before. A promise it returns is awaited (the step's later blocks keep running meanwhile); one that
   * throws or rejects fails the run (`generate, step I/N: onBlock failed: …`, after the step's submitted work is
   * done). Not a function: InputError.
   */
  onBlock?: Hook<[step: number, steps: number, block: number, blocks: number]>;
}

/** blockProgressMinMs's default (ms): a step after one at least this long reports its blocks through onBlock. */
export const BLOCK_PROGRESS_MIN_MS = 1000;
let blockProgressMs = BLOCK_PROGRESS_MIN_MS;

/**
 * The step time (ms, from the step's start to its read-back) from which the next step reports its blocks through
 * GenerateOptions.onBlock (step 1 always does). setBlockProgressMinMs(ms) sets it for the process (0: every step;
 * Infinity: step 1 only), for A/B measurements and tests; a number ≥ 0, else InputError. Returns the value in force.
 */
export function blockProgressMinMs(): number {
  return blockProgressMs;
}

/** Sets blockProgressMinMs (see there); `ms` a number ≥ 0 (Infinity allowed). @throws InputError otherwise. */
export function setBlockProgressMinMs(ms: number): void {
  if (typeof ms !== 'number' || !(ms >= 0)) throw new InputError(`setBlockProgressMinMs: a number of ms ≥ 0, got ${shown(ms)}`, { option: 'ms' });
  blockProgressMs = ms;
}

/** What generate returns. */
export interface GenerateResult {
  /** Final latents before any VAE, the shape of the initial ones, f32. */
  latents: TensorData;
  /** The timestep of each step, in order, on the training scale (0 … num_train_timesteps; flow matching σ·1000), as the scheduler's `timesteps`. */
  timesteps: number[];
  /** The diffusers scheduler class that sampled. */
  scheduler: string;
}

interface Prepared {
  latents: TensorData;
  cfg: boolean;
  guidance: number;
  program: StepProgram;
  text?: TensorData;
  negText?: TensorData;
  labels?: number[];
}

/** The scheduler an options object asks for; `file` names scheduler_config in its messages (a pipeline passes its path). */
export function resolveScheduler(o: Pick<GenerateOptions, 'scheduler' | 'scheduler_config' | 'shift' | 'onWarning'>, file = 'scheduler_config'): SchedulerSpec {
  if (o.scheduler !== undefined && o.scheduler !== null && typeof o.scheduler === 'object') {
    if (o.shift !== undefined) throw new InputError('shift: give it to schedulerFromConfig when passing a SchedulerSpec', { option: 'shift' });
    return o.scheduler;
  }
  // text is parsed (and a non-object refused) once, here: its _class_name decides the shift check below
  const config = typeof o.scheduler_config === 'string' ? schedulerConfigObject(o.scheduler_config, file) : o.scheduler_config;
  if (o.scheduler !== undefined && typeof o.scheduler !== 'string') throw new InputError(`scheduler: a SchedulerSpec (schedulerFromConfig) or a class / short name, got ${shown(o.scheduler)}`, { option: 'scheduler' });
  // neither: no class to build (diffusers' from_config needs one, its config a _class_name)
  if (o.scheduler === undefined && (config === undefined || config === null)) throw new InputError("scheduler: missing; give scheduler (a class or short name such as 'unipc'), scheduler_config (the folder's scheduler_config.json, whose _class_name decides), or both", { option: 'scheduler' });
  if (!config) file = 'scheduler config (class defaults)';
  if (o.shift !== undefined) {
    // checked here so that a bad shift is an InputError (the caller's option), not a SchedulerConfigError (a config's)
    if (typeof o.shift !== 'number' || !Number.isFinite(o.shift) || o.shift <= 0) throw new InputError(`shift: a number > 0, got ${shown(o.shift)}`, { option: 'shift' });
    const named = o.scheduler !== undefined ? resolveSchedulerClass(o.scheduler, 'scheduler') : config && typeof config === 'object' ? config['_class_name'] : undefined;
    // (an unsupported class is schedulerFromConfig's refusal)
    const refused = shiftProblem(named, config, { file, choose: "scheduler: 'flow-match-euler'" });
    if (refused) throw new InputError(refused, { option: 'shift' });
  }
  return schedulerFromConfig(config ?? {}, { override: o.scheduler, overrideName: 'scheduler', shift: o.shift, file, warn: o.onWarning });
}

/** Every option `generate` reads; anything else is refused (a misspelt or camelCase name would otherwise be ignored silently). */
const OPTION_NAMES: readonly (keyof GenerateOptions)[] = ['scheduler', 'scheduler_config', 'num_inference_steps', 'guidance_scale', 'shift', 'latents', 'seed', 'shape', 'encoder_hidden_states', 'negative_encoder_hidden_states', 'prompt_embeds', 'negative_prompt_embeds', 'class_labels', 'onStep', 'signal', 'onWarning', 'onStepProfile', 'onBlock'];

/** The text-conditional families' conditioning options (Wan, Latte); DiT takes class_labels instead. */
const TEXT_OPTIONS: readonly (keyof GenerateOptions)[] = ['encoder_hidden_states', 'negative_encoder_hidden_states', 'prompt_embeds', 'negative_prompt_embeds'];

/**
 * The options a model's family takes, and where the other family's conditioning belongs: forward()'s
 * refusal of another family's input (src/model/model.ts), worded as generate's options.
 */
function familyOptions(family: DiffusionModel['family']): { names: readonly string[]; elsewhere: Record<string, string> } {
  if (family === 'dit') return { names: OPTION_NAMES.filter((k) => !TEXT_OPTIONS.includes(k)), elsewhere: Object.fromEntries(TEXT_OPTIONS.map((k) => [k, 'generate for a wan or latte model'])) };
  return { names: OPTION_NAMES.filter((k) => k !== 'class_labels'), elsewhere: { class_labels: 'generate for a dit model' } };
}

/** Refuses a seed the noise generator would alias to another (src/random.ts isSeed). @throws InputError naming `name`. */
export function checkSeed(seed: unknown, name = 'seed'): void {
  const bad = seedProblem(seed);
  if (bad) throw new InputError(`${name}: ${bad}`, { option: name });
}

/** checkSeed for Pipeline.generate's seed: one number, or one per batch item (`seed[b]`); undefined passes. */
export function checkSeeds(seed: unknown): void {
  if (seed === undefined) return;
  if (Array.isArray(seed)) seed.forEach((s, b) => checkSeed(s, `seed[${b}]`));
  else checkSeed(seed);
}

/**
 * The note for negative text embeddings (or a negative prompt) given to an unguided run, which does not read them:
 * `name` the input as the caller named it, `guidance` the scale (≤ 1). Pipeline.generate's too. Any finite scale ≤ 1,
 * negative included (-2), is an unguided run, accepted without a word as diffusers' pipelines do
 * (`do_classifier_free_guidance = guidance_scale > 1`); the note says so when a negative input shows the caller meant
 * guidance.
 */
export function negativeUnusedNote(name: string, guidance: number): string {
  return `note: ${name} unused: guidance_scale ${guidance} ≤ 1 disables classifier-free guidance (as diffusers' do_classifier_free_guidance, guidance_scale > 1); give guidance_scale > 1 to use ${name === 'negative_prompt' ? 'it' : 'them'}`;
}

/** The ignored-keys lines each model has said (GenerateOptions.onWarning: once per model and line), the last SAID_KEPT of each. */
const said = new WeakMap<DiffusionModel, Set<string>>();
/** How many lines a model remembers as said (a bound for a process that runs many distinct configs): an older one is said again. */
export const SAID_KEPT = 64;

/** True the first time `line` is said for `model` (and records it), false after. */
function firstSaying(model: DiffusionModel, line: string): boolean {
  let lines = said.get(model);
  if (!lines) said.set(model, (lines = new Set()));
  if (lines.has(line)) return false;
  lines.add(line);
  if (lines.size > SAID_KEPT) lines.delete(lines.values().next().value!);
  return true;
}

/**
 * A scheduler whose default settings cannot sample `model`'s family (UniPC's epsilon defaults on a flow-matching Wan,
 * flow-match Euler on an epsilon DiT: familyProblem) as one warning line, the first time it is said for that model
 * (then undefined, as the ignored-keys lines): generate()'s and Pipeline.generate's. The library warns where the CLI
 * refuses: a library caller may sample a stand-in model with any class on purpose; the line says what to give instead.
 */
export function familyWarning(model: DiffusionModel, spec: SchedulerSpec): string | undefined {
  const wrong = familyProblem(spec, model.family, { option: 'scheduler', choose: (n) => `scheduler: '${n}'`, configHint: 'a scheduler_config' });
  return wrong && firstSaying(model, `warning: ${wrong}`) ? `warning: ${wrong}` : undefined;
}

/** Validates everything a generate call needs before any GPU work. */
function prepare(model: DiffusionModel, o: GenerateOptions): Prepared {
  checkOptionNames(o, OPTION_NAMES, 'generate', '{ scheduler, num_inference_steps, seed, shape, encoder_hidden_states }', { dtype: 'loadModel', maxMemory: 'loadModel' });
  // the other family's conditioning would be ignored: refused as forward() refuses it (an option given as undefined is an absent one)
  const family = familyOptions(model.family);
  const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  checkOptionNames(given, family.names, `generate for a ${model.family} model`, '', family.elsewhere);
  if (o.seed !== undefined) checkSeed(o.seed);
  // two names for one input: refused rather than one silently winning (`option`: diffusers' second name, given besides the first)
  for (const [a, b] of [['encoder_hidden_states', 'prompt_embeds'], ['negative_encoder_hidden_states', 'negative_prompt_embeds']] as const) {
    if (o[a] !== undefined && o[b] !== undefined) throw new InputError(`${a} and ${b} are the same input (diffusers' two names for it): give one`, { option: b });
  }
  if (o.latents !== undefined && o.shape !== undefined) {
    const same = Array.isArray(o.shape) && o.latents?.shape && o.shape.length === o.latents.shape.length && o.shape.every((d, i) => d === o.latents!.shape[i]);
    if (!same) throw new InputError(`latents [${o.latents?.shape?.join(',')}] and shape ${shown(o.shape)} disagree: shape is for seeded noise; give latents or shape`, { option: 'shape' });
  }
  const guidance = o.guidance_scale ?? 1;
  if (typeof guidance !== 'number' || !Number.isFinite(guidance)) throw new InputError(`guidance_scale: a finite number, got ${shown(guidance)}`, { option: 'guidance_scale' });
  const steps = o.num_inference_steps;
  if (steps === undefined) throw new InputError('num_inference_steps: missing', { option: 'num_inference_steps' });
  if (!Number.isInteger(steps) || steps < 1) throw new InputError(`num_inference_steps: a positive integer, got ${shown(steps)}`, { option: 'num_inference_steps' });
  // the ignored-keys line is said once the schedule has taken the step count: not for a refused call
  let ignoredLine: string | undefined;
  const spec = resolveScheduler({ ...o, onWarning: (line) => void (ignoredLine = line) });
  // a count the schedule cannot run is a StepCountError (maxSteps where known), as Pipeline.generate throws it
  const program: StepProgram = spec.setTimesteps(steps);
  for (const k of ['onStep', 'onWarning', 'onStepProfile', 'onBlock'] as const) if (o[k] !== undefined && typeof o[k] !== 'function') throw new InputError(`${k}: a function, got ${shown(o[k])}`, { option: k });
  if (ignoredLine !== undefined && firstSaying(model, ignoredLine)) void (o.onWarning ?? console.warn)(ignoredLine);
  const wrongKind = familyWarning(model, spec);
  if (wrongKind) void (o.onWarning ?? console.warn)(wrongKind);
  checkSignal(o.signal);
  // shapes first, then limits, then the seeded noise: a request too large for its shape or the GPU is refused before
  // any host array of its size (randn of 81×4800×8320 latents was a RangeError)
  if (o.latents) checkTensorData('latents', o.latents, 'initial noise');
  else {
    if (!o.shape) throw new InputError('latents: missing; give `latents`, or `shape` (with `seed`) for seeded noise', { option: 'latents' });
    if (!Array.isArray(o.shape) || !o.shape.every((d) => Number.isInteger(d) && d >= 1)) throw new InputError(`shape: a list of positive integers, got ${shown(o.shape)}`, { option: 'shape' });
  }
  const shape = o.latents ? o.latents.shape : o.shape!;
  const cfg = guidance > 1;
  // the shapes as tessera generate --model checks them from an inputs file's header before loading (one check,
  // src/model/forward.ts); named as the caller gave them, `latents` or `shape` (the transformer's own checks would
  // call them hidden_states)
  const latentName = o.latents ? 'latents' : 'shape';
  checkSamplingLatents(model.config, shape, { ...SAMPLING_NAMES, latents: latentName });
  checkLatentGrid(model.config, latentName, shape);
  let labels: number[] | undefined;
  const text = o.encoder_hidden_states ?? o.prompt_embeds;
  const negText = o.negative_encoder_hidden_states ?? o.negative_prompt_embeds;
  // the names the caller used (diffusers' two names for each)
  const textName = o.encoder_hidden_states !== undefined || o.prompt_embeds === undefined ? 'encoder_hidden_states' : 'prompt_embeds';
  const negName = o.negative_encoder_hidden_states !== undefined || o.negative_prompt_embeds === undefined ? 'negative_encoder_hidden_states' : 'negative_prompt_embeds';
  const mc = model.config;
  if (mc.family === 'dit') {
    if (o.class_labels === undefined) throw new InputError('class_labels: missing (DiT is class-conditional)', { option: 'class_labels' });
  } else {
    if (!text) throw new InputError(`${textName}: missing (text embeddings)`, { option: textName });
    const width = mc.family === 'wan' ? mc.textDim : mc.captionChannels;
    checkTensorData(textName, text, `[B, L, ${width}] text embeddings`);
    if (cfg && !negText) throw new InputError(`${negName}: missing; guidance ${guidance} > 1 needs the negative text embeddings (or guidance_scale: 1)`, { option: negName });
    // checked when given, as Pipeline.generate does, though unguided runs do not read them
    if (negText !== undefined) checkTensorData(negName, negText, `[B, L', ${width}] negative text embeddings`);
  }
  // the text against the latents' batch, the negative text against the text (generate --model's check too)
  checkSamplingConditioning(mc, { latents: shape, text: text?.shape, negText: negText?.shape }, { latents: 'latents', text: textName, negText: negName, classLabels: 'class_labels' });
  if (mc.family === 'dit') labels = checkClassIds(o.class_labels, shape[0]!, mc.numClasses, 'batch of latents');
  // finite values and the f16 range under the caller's names (the transformer's own checks would call the latents
  // hidden_states, and see the guided [cond; uncond] text as one encoder_hidden_states)
  for (const [name, t] of [['latents', o.latents], [textName, text], [negName, negText]] as const) {
    if (!t) continue;
    checkFinite(name, t.data);
    checkF16Range(name, t.data, model.dtype);
  }
  checkSamplerState(model, program, shape);
  // given but not read: said, not refused (diffusers ignores them silently; a file from tessera encode --negative-prompt holds them)
  if (negText !== undefined && !cfg) void (o.onWarning ?? console.warn)(negativeUnusedNote(negName, guidance));
  const latents = o.latents ?? { data: randn(shape.reduce((a, b) => a * b, 1), o.seed ?? 0), shape };
  return { latents, cfg, guidance, program, text, negText, labels };
}

/** The scheduler's state is one f32 binding of `slots` latent-sized slots. @throws LimitError when it cannot be bound. */
function checkSamplerState(model: DiffusionModel, program: StepProgram, shape: readonly number[]): void {
  const stateBytes = program.slots * shape.reduce((a, b) => a * b, 1) * 4;
  const binding = bindingLimit(model.gpu.limits);
  if (stateBytes > binding.bytes) {
    throw new LimitError(
      `the sampler state of ${program.className} (${program.slots} f32 slots of latents [${shape.join(',')}]: the guided model output, the sample${program.slots > 2 ? ', the last sample / earlier model outputs' : ''}) needs ${fmtBytes(stateBytes)} in one binding, above the adapter's ${binding.name} of ${fmtBytes(binding.bytes)}: use fewer frames or a smaller resolution${program.className.includes('Multistep') ? ', or a lower solver_order' : ''}`,
    );
  }
}

/** What recordSampler needs: the shapes of the loop and, per pass, the model output and input tensors. */
interface SamplerShape {
  program: StepProgram;
  /** Latent values (all B items), per item, and model output values per item. */
  n: number;
  per: number;
  perOut: number;
  B: number;
  /** Batch of each pass (2B when guided in one batch). */
  bb: number;
  guidance: number;
  /** Guided as two passes of batch B (the negative text has another length). */
  split: boolean;
  outs: Tensor[];
  inputs: Tensor[];
}

/**
 * Allocates the sampler's state on `alloc` (the f32 pool of program.slots latent slots and the
 * non-finite flag with its read-back) and records every step's dispatches into one plan: before the
 * forward, the step's sample copied into the model input (as the model's dtype, CFG: twice); after
 * it, the guidance mix and the scheduler update. The copy comes first in its own step, so after a
 * non-finite output the model input still holds what the failing forward read. `pre[i]` / `post[i]`:
 * the dispatch ranges of step i; `input`: the slot the last step's model input comes from. On a planning allocator (DryAllocator) it records the same buffers:
 * samplerStateBytes.
 */
function recordSampler(alloc: Allocator, sh: SamplerShape): { pool: Tensor; flag: GPUBuffer; flagRead: GPUBuffer; plan: Plan; pre: [number, number][]; post: [number, number][]; input: number } {
  const { program, n, per, perOut, B, bb, split } = sh;
  const batched = bb === 2 * B;
  const pool = alloc.tensor([program.slots, n], 'f32', 'sampler_state');
  // GPUBufferUsage STORAGE | COPY_SRC | COPY_DST, and MAP_READ | COPY_DST (numbers: a planning run has no WebGPU globals)
  const flag = alloc.buffer(4, 0x80 | 0x04 | 0x08, 'sampler_nonfinite_flag');
  const flagRead = alloc.buffer(4, 0x01 | 0x08, 'sampler_nonfinite_flag_read');
  const plan = new Plan(alloc.gpu, alloc);
  const pre: [number, number][] = [];
  const post: [number, number][] = [];
  const slot = (s: number): LincombTerm => ({ coef: 0, off: s * n, stride: per, fromSrc: false });
  const g = sh.guidance;
  // noise_pred = uncond + g·(cond − uncond) = g·cond + (1 − g)·uncond over the first C channels of each item
  const guide: LincombTerm[] = batched
    ? [{ coef: g, off: 0, stride: perOut, fromSrc: true }, { coef: 1 - g, off: B * perOut, stride: perOut, fromSrc: true }]
    : [{ coef: 1, off: 0, stride: perOut, fromSrc: true }];
  const common = { pool, src: sh.outs[0]!, model: sh.inputs[0]!, flag, n, per };
  let input = program.initSlot; // the slot the next model input comes from
  for (let i = 0; i < program.timesteps.length; i++) {
    plan.layer = `sampler.step${i + 1}`;
    const a = plan.dispatches.length;
    if (i > 0) {
      for (const model of sh.inputs) lincomb(plan, { ...common, model, terms: [{ ...slot(input), coef: 1 }], outOff: input * n, copies: bb / B, flagBit: FLAG_INPUT, layer: 'latent_model_input' });
    }
    const b = plan.dispatches.length;
    lincomb(plan, { ...common, terms: guide, outOff: EPS_SLOT * n, copies: 0, flagBit: FLAG_MODEL, layer: 'guidance' });
    // two passes: the slot holds cond now; slot ← g·slot + (1 − g)·uncond (the batched mix's f32 arithmetic)
    if (split) lincomb(plan, { ...common, src: sh.outs[1]!, model: sh.inputs[1]!, terms: [{ ...slot(EPS_SLOT), coef: g }, { coef: 1 - g, off: 0, stride: perOut, fromSrc: true }], outOff: EPS_SLOT * n, copies: 0, flagBit: FLAG_MODEL, layer: 'guidance' });
    for (const op of program.ops[i]!) {
      lincomb(plan, { ...common, terms: op.terms.map((t) => ({ ...slot(t.slot), coef: t.coef })), outOff: op.out * n, copies: 0, flagBit: FLAG_SCHEDULER, clamp: op.clamp, layer: op.label });
      if (op.toModel) input = op.out;
    }
    pre.push([a, b]);
    post.push([b, plan.dispatches.length]);
  }
  plan.layer = '';
  return { pool, flag, flagRead, plan, pre, post, input };
}

/**
 * GPU bytes generate() allocates beside the model for a run of `program` over latents `shape`: the
 * sampler state (pool, flag, the steps' uniform buffers) and the final latents' copy, from a dry run
 * of recordSampler (no device work). `passes`: 1, or 2 when guided as two batch-B passes.
 */
export function samplerStateBytes(model: DiffusionModel, program: StepProgram, shape: readonly number[], guided: boolean, passes: 1 | 2): number {
  const dry = new DryAllocator(model.gpu);
  const B = shape[0]!;
  const n = shape.reduce((a, b) => a * b, 1);
  const per = n / B;
  const bb = guided && passes === 1 ? 2 * B : B;
  const perOut = (per / model.config.inChannels) * model.config.outChannels;
  // placeholders of the model's own input and output tensors (the model's fit check counts those)
  const io = (c: number, label: string) => Array.from({ length: passes }, () => dry.tensor([bb * (per / model.config.inChannels) * c], model.dtype, label));
  const outs = io(model.config.outChannels, 'out');
  const inputs = io(model.config.inChannels, 'hidden_states');
  const base = dry.liveBytes;
  recordSampler(dry, { program, n, per, perOut, B, bb, guidance: guided ? 2 : 1, split: passes === 2, outs, inputs });
  dry.tensor([n], 'f32', 'sampler_result');
  return dry.peakBytes - base;
}

const cat = (a: Float32Array, b: Float32Array): Float32Array => {
  const o = new Float32Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
};

/** Names the first layer whose output is non-finite (a slow replay: on the error path only). `model`: the model, or its ExclusiveModel inside exclusive(). */
export async function locate(model: Pick<ExclusiveModel, 'locateNonFinite'>, inputs: ForwardInputs): Promise<string> {
  try {
    return (await model.locateNonFinite(inputs)) ?? 'a replay of the step was finite (non-deterministic overflow?)';
  } catch (e) {
    return `the layer could not be located (${(e as Error).message})`;
  }
}

const firstNonFinite = (a: Float32Array): number => a.findIndex((v) => !Number.isFinite(v));

/** Flag bits of the per-step non-finite word. */
const FLAG_MODEL = 0;
const FLAG_SCHEDULER = 1;
const FLAG_INPUT = 2;

/**
 * Runs the sampler and returns the final latents (before any VAE), like the diffusers pipeline
 * with output_type="latent".
 *
 * @example
 * const scheduler = schedulerFromConfig(readFileSync('Wan2.1-T2V-1.3B-Diffusers/scheduler/scheduler_config.json', 'utf8'));
 * const { latents } = await generate(model, { scheduler, num_inference_steps: 30, guidance_scale: 5,
 *   seed: 0, shape: [1, 16, 21, 60, 104], encoder_hidden_states, negative_encoder_hidden_states });
 * @throws InputError for missing or mismatched inputs (a seed outside 0..2^32 − 1 included; the other family's conditioning,
 *   as `class_labels: not an option of generate for a wan model but of generate for a dit model (options: …)`), SchedulerConfigError for a config tessera
 *   cannot run or a `scheduler` it does not support, StepCountError (a SchedulerConfigError; `maxSteps`: the most that work, where known) for a
 *   num_inference_steps the scheduler config cannot run (above num_train_timesteps, or so many that the timesteps repeat), LimitError when the scheduler's state cannot be bound (all before any GPU work; shapes, then that limit, then the seeded noise is allocated) or when the run with it exceeds the model's maxMemory (before allocating; the message itemises held bytes, the sampler state, activations and workspace); NumericsError naming the step (and the layer) when a
 *   value goes non-finite; GpuError naming the step on a device error; DisposedError after model.dispose(); TuneEnvError for a
 *   bad TESSERA_TUNE / TESSERA_TUNE_MIN_FLOPS (at a shape's first recording); a DOMException named 'AbortError'
 *   naming where it stopped when `signal` aborts (see GenerateOptions.signal).
 *   The loop holds the model (model.exclusive): forward() and other generate() calls on it wait until it ends.
 */
export async function generate(model: DiffusionModel, o: GenerateOptions): Promise<GenerateResult> {
  return generateAs(model, o, { who: 'generate', start: 'generate' });
}

/**
 * How generate() runs as a stage of another call: `who` and `start` name it in its AbortError messages
 * (`start` before the loop began, aborted already or while waiting for the model; `who, before step I/N`
 * between steps) and its hooks' failures; `stepWallClock`: onStepProfile's runs without per-dispatch
 * timestamps even where the adapter has them (profilePipeline's forceWallClock).
 */
export interface StageNames {
  who: string;
  start: string;
  stepWallClock?: boolean;
}

/** generate() as a stage of another call (Pipeline.generate's denoising stage); see StageNames. */
export async function generateAs(model: DiffusionModel, o: GenerateOptions, names: StageNames): Promise<GenerateResult> {
  // the options are refused at once, without waiting for the model's running calls
  // shapes, then the scheduler state's binding limit, then the seeded noise (all before any GPU work)
  // onWarning is called inside the (synchronous) checks: a promise it returns is awaited after them
  const warned = typeof o.onWarning === 'function' ? hookQueue('onWarning', names.start, o.onWarning) : undefined;
  const p = prepare(model, warned ? { ...o, onWarning: warned.call } : o);
  await warned?.settle();
  throwIfAborted(o.signal, names.start);
  // aborted while queued behind the model's running calls: rejected at once
  return model.exclusive((m) => generateHeld(model, m, o, p, names.who, names.stepWallClock ?? false), { signal: o.signal, where: names.start });
}

async function generateHeld(model: DiffusionModel, held: ExclusiveModel, o: GenerateOptions, p: Prepared, who: string, stepWallClock: boolean): Promise<GenerateResult> {
  const { latents: init, cfg, guidance, program, text, negText, labels } = p;
  const shape = init.shape;
  const B = shape[0]!;
  const n = init.data.length; // latent values (all B items)
  const per = n / B;
  // One batched pass ([cond; uncond] when guided), or, when the negative text has another length, two passes of batch B.
  const split = cfg && !!text && negText!.shape[1] !== text.shape[1];
  const batched = cfg && !split;
  const bb = batched ? 2 * B : B; // batch of each pass
  const x0 = program.initNoiseSigma === 1 ? Float32Array.from(init.data) : Float32Array.from(init.data, (v) => v * program.initNoiseSigma);
  const N = program.timesteps.length;
  // what the loop allocates beside the model, counted in the model's fit check (maxMemory) before anything is allocated
  const reserve = { bytes: samplerStateBytes(model, program, shape, cfg, split ? 2 : 1), what: 'sampler state' };
  // Inputs of the first call of each pass; the text and class labels never change, the latents and timestep are rewritten in place.
  const passes = (split ? [text!, negText!] : [undefined]).map((t) => {
    const inputs: ForwardInputs = {
      hidden_states: { data: batched ? cat(x0, x0) : x0, shape: [bb, ...shape.slice(1)] },
      timestep: new Array(bb).fill(program.timesteps[0]),
      encoder_hidden_states: t ?? (text && (batched ? { data: cat(text.data, negText!.data), shape: [2 * B, ...text.shape.slice(1)] } : text)),
      class_labels: labels && (batched ? [...labels, ...labels.map(() => (model.config as { numClasses: number }).numClasses)] : labels),
    };
    return { inputs, r: held.resident(inputs, reserve) };
  });
  const r = passes[0]!.r;
  const gpu = model.gpu;
  const outC = model.config.outChannels;
  const perOut = (r.out.size / bb); // model output values per item (learned sigma: 2C channels, first C taken)
  if (perOut * bb !== r.out.size || (perOut !== per && perOut !== 2 * per)) throw new InputError(`model output ${r.out.size} values for ${plural(bb, 'item')} does not hold ${per} latent values per item (out_channels ${outC})`);

  const alloc = new Allocator(gpu);
  try {
    const { pool, flag, flagRead, plan, pre, post, input } = recordSampler(alloc, { program, n, per, perOut, B, bb, guidance, split, outs: passes.map((ps) => ps.r.out), inputs: passes.map((ps) => ps.r.hidden_states) });
    writeTensor(gpu, pool, x0, program.initSlot * n);
    // every pipeline of the generation created at once, in parallel, before the first step
    await compilePlans([plan, ...passes.flatMap((ps) => [ps.r.prepare, ps.r.plan])]);
    const zero = new Uint32Array(1);
    const pace = new Pace(); // the steps after the first are alike: each sleeps through most of the last one
    // onStepProfile: nothing below is recorded without it
    const stepProfile = o.onStepProfile && { hook: o.onStepProfile };
    const timed = !!stepProfile && gpu.timestamps && !stepWallClock;
    // onBlock: the transformer blocks of each pass, counted over the step's passes (a tuned dispatch keeps its layer: the count holds after tuning)
    const passBlocks = passes.map((ps) => blockEnds(ps.r.plan.dispatches).length);
    const blocks = passBlocks.reduce((a, b) => a + b, 0);
    const blockOffset = passBlocks.map((_, k) => passBlocks.slice(0, k).reduce((a, b) => a + b, 0));
    let lastStepMs = 0;
    for (let i = 0; i < N; i++) {
      const t = program.timesteps[i]!;
      const where = `step ${i + 1}/${N}`;
      throwIfAborted(o.signal, `${who}, before ${where}`);
      let bits: number;
      let stepDispatches: Dispatch[] | undefined;
      let timer: DispatchTimer | undefined;
      let stepRun: ProfileRun | undefined;
      const stepFrom = performance.now();
      // progress inside the step: step 1 (tuning, compiling, a CPU driver's first dispatches) and after a long step; never with timestamps
      const byBlock = !!o.onBlock && !timed && blocks > 1 && (i === 0 || lastStepMs >= blockProgressMs);
      const blockDone = (pass: number) => (k: number) => callHook('onBlock', `${who}, ${where}`, o.onBlock, i + 1, N, blockOffset[pass]! + k, blocks);
      try {
        if (i > 0) for (const ps of passes) writeTensor(gpu, ps.r.timestep, new Array(bb).fill(t));
        gpu.device.queue.writeBuffer(flag, 0, zero);
        // Once per generation: the text embedder and every block's cross-attention K/V (the prepare
        // plan); the steps only read them. The first step runs the forward on its own (the plan
        // tunes its kernels before its first run).
        if (i === 0) {
          for (const [k, { r }] of passes.entries()) {
            // what maxMemory leaves beside the model and the sampler state, for autotuning scratch
            r.prepare.tuneBudget = r.plan.tuneBudget = model.tuneRoom(alloc.liveBytes);
            if (r.prepare.dispatches.length) await r.prepare.run(`${model.name} text and cross-attention K/V`);
            await r.plan.run(`${model.name} forward`, byBlock ? { onPart: blockDone(k) } : undefined);
          }
        }
        // the step's dispatches in the order they run, when its profile is asked for (after step 1's first run: the tuner may replace dispatches)
        stepDispatches = stepProfile && [
          ...(i === 0 ? passes.flatMap((ps) => [...ps.r.prepare.dispatches, ...ps.r.plan.dispatches]) : [...plan.dispatches.slice(pre[i]![0], pre[i]![1]), ...passes.flatMap((ps) => ps.r.plan.dispatches)]),
          ...plan.dispatches.slice(post[i]![0], post[i]![1]),
        ];
        // timed: the step's dispatches (step 1: its prepare and forward again, now compiled) one pass each, with timestamps
        if (timed) timer = new DispatchTimer(gpu, stepDispatches!);
        const submitted = performance.now();
        const stepWhere = `${where}: ${model.name} forward and ${program.className} update`;
        if (byBlock && i > 0) {
          // one command buffer per block, all submitted at once: the scheduler's pre-step with the first, its update and the flag's copy with the last
          const parts: ((enc: GPUCommandEncoder) => void)[] = [];
          const owner: [pass: number, block: number][] = []; // each part's pass and block within it (1-based)
          passes.forEach((ps, k) => {
            let from = 0;
            for (const to of blockEnds(ps.r.plan.dispatches)) {
              const a = from;
              parts.push((enc) => ps.r.plan.encode(enc, a, to));
              owner.push([k, owner.filter(([o]) => o === k).length + 1]);
              from = to;
            }
          });
          const first = parts[0]!;
          parts[0] = (enc) => {
            plan.encode(enc, pre[i]![0], pre[i]![1]);
            first(enc);
          };
          const last = parts.at(-1)!;
          parts[parts.length - 1] = (enc) => {
            last(enc);
            plan.encode(enc, post[i]![0], post[i]![1]);
            enc.copyBufferToBuffer(flag, 0, flagRead, 0, 4);
          };
          await submitParts(gpu, stepWhere, parts, (k) => blockDone(owner[k - 1]![0])(owner[k - 1]![1]));
          pace.waited(submitted);
        } else {
          await withErrorScopes(gpu, stepWhere, () => {
            const enc = gpu.device.createCommandEncoder({ label: `tessera ${where}` });
            if (timer) timer.encode(enc);
            else {
              if (i > 0) {
                plan.encode(enc, pre[i]![0], pre[i]![1]);
                for (const ps of passes) ps.r.plan.encode(enc);
              }
              plan.encode(enc, post[i]![0], post[i]![1]);
            }
            enc.copyBufferToBuffer(flag, 0, flagRead, 0, 4);
            gpu.device.queue.submit([enc.finish()]);
          });
          await pace.idle(gpu, stepWhere, submitted);
        }
        // gpuWait: no busy core in Node on a CPU adapter (as waitIdle and readTensor)
        await gpuWait(gpu, flagRead.mapAsync(GPUMapMode.READ, 0, 4));
        bits = new Uint32Array(flagRead.getMappedRange(0, 4))[0]!;
        flagRead.unmap();
        lastStepMs = performance.now() - stepFrom;
        if (stepDispatches) {
          const bytes = { peakBytes: model.gpuBytes + alloc.peakBytes, residentBytes: model.gpuBytes };
          // timed: GPU time of the dispatches; else the step's wall time from its start (step 1: its tuning and compilation included)
          stepRun = timer
            ? await timer.read(where, { wallMs: performance.now() - submitted, ...bytes })
            : wallClockRun(gpu, stepDispatches, { wallMs: performance.now() - stepFrom, ...bytes, forced: stepWallClock, what: `the whole step${i === 0 ? " (step 1: its kernels' tuning and compilation included)" : ''}` });
        }
      } catch (e) {
        timer?.destroy();
        // a lost device or a GPU error mid-run: say which step it ended
        // once, in front: waitIdle / withErrorScopes name it inside their message too
        if (e instanceof GpuError) throw new GpuError(`${where}: ${e.message.replace(/^step \d+\/\d+: /, '').replaceAll(`${where}: `, '')}`, e.kind, e.where);
        throw e;
      }
      if (bits & (1 << FLAG_INPUT)) {
        throw new NumericsError(`${where} (t=${t}): the latents do not fit the model's ${model.dtype} input (|value| > 65504)${model.dtype === 'f16' ? " — try dtype: 'f32'" : ''}`);
      }
      if (bits & (1 << FLAG_MODEL)) {
        // the (first) pass whose output holds the non-finite value
        let { inputs, r } = passes[0]!;
        let out = await readTensor(gpu, r.out);
        if (firstNonFinite(out) < 0 && passes[1]) ({ inputs, r } = passes[1]), (out = await readTensor(gpu, r.out));
        const j = firstNonFinite(out);
        inputs.hidden_states = { data: await readTensor(gpu, r.hidden_states), shape: inputs.hidden_states.shape };
        inputs.timestep = new Array(bb).fill(t);
        const at = await locate(held, inputs);
        throw new NumericsError(`${where} (t=${t}): the model output has a non-finite value (${out[j]}) at flat index ${j}; ${at}${model.dtype === 'f16' ? " — f16 overflow? try dtype: 'f32'" : ''}`);
      }
      if (bits & (1 << FLAG_SCHEDULER)) {
        const all = await readTensor(gpu, pool);
        const next = all.subarray(input * n, (input + 1) * n);
        throw new NumericsError(`${where} (t=${t}): the scheduler (${program.className}) produced a non-finite latent at flat index ${Math.max(0, firstNonFinite(next))}`);
      }
      if (stepRun) await callHook('onStepProfile', `${who}, ${where}`, stepProfile!.hook, i + 1, N, stepRun);
      await callHook('onStep', `${who}, ${where}`, o.onStep, i + 1, N, t);
    }
    const result = alloc.tensor([n], 'f32', 'sampler_result');
    await withErrorScopes(gpu, 'reading the final latents', () => {
      const enc = gpu.device.createCommandEncoder({ label: 'tessera final latents' });
      enc.copyBufferToBuffer(pool.buffer, (pool.offset ?? 0) + program.resultSlot * n * 4, result.buffer, result.offset ?? 0, n * 4);
      gpu.device.queue.submit([enc.finish()]);
    });
    return { latents: { data: await readTensor(gpu, result), shape }, timesteps: program.timesteps, scheduler: program.className };
  } finally {
    alloc.destroyAll();
  }
}
