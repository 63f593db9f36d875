// The denoising loop of diffusers' pipelines (WanPipeline, DiTPipeline, LattePipeline), with
// classifier-free guidance batched: cond and uncond go through the model as one batch of 2B.
// The forward plan is recorded once for that shape and replayed per step; the scheduler update
// and the guidance combine run on the CPU on the read-back model output (which also gives a
// cheap non-finite check at the end of every step).
import type { DiffusionModel, ForwardInputs, TensorData } from '../model/model.js';
import { InputError } from '../model/model.js';
import { GpuError } from '../gpu/device.js';
import { randn } from '../random.js';
import { cfgCombine, makeScheduler, type Scheduler, type SchedulerName } from './scheduler.js';

export class NumericsError extends Error {
  override name = 'NumericsError';
}

export interface GenerateOptions {
  scheduler: SchedulerName;
  steps: number;
  /** Guidance scale; CFG is on when > 1 (as in diffusers' pipelines). */
  guidance: number;
  /** Flow-match shift (overrides scheduler_config.json). */
  shift?: number;
  /** scheduler_config.json contents, when the model folder has one. */
  schedulerConfig?: Record<string, unknown>;
  /** Initial noise [B, C, (F,) H, W], used as given. Or `seed` + `shape`. */
  latents?: TensorData;
  seed?: number;
  shape?: number[];
  /** Wan/Latte: [B, L, dim] text embeddings, and the negative ones for CFG. */
  encoderHiddenStates?: TensorData;
  negativeEncoderHiddenStates?: TensorData;
  /** DiT: [B] class ids. */
  classLabels?: number[];
  /** Called after each step (progress bars, previews). */
  onStep?: (step: number, steps: number, timestep: number) => void;
}

export interface GenerateResult {
  latents: TensorData;
  timesteps: number[];
}

/** Validates everything a generate call needs before any GPU work. */
function prepare(model: DiffusionModel, o: GenerateOptions): { latents: TensorData; cfg: boolean; sched: Scheduler } {
  if (!Number.isFinite(o.guidance)) throw new InputError(`--guidance must be a finite number, got ${o.guidance}`);
  const sched = makeScheduler(o.scheduler, o.steps, o.schedulerConfig ?? {}, o.shift !== undefined ? { shift: o.shift } : {});
  let latents = o.latents;
  if (!latents) {
    if (!o.shape) throw new InputError('no initial latents: give `latents` (inputs file) or --seed with --frames/--height/--width');
    const n = o.shape.reduce((a, b) => a * b, 1);
    latents = { data: randn(n, o.seed ?? 0), shape: o.shape };
  }
  const cfg = o.guidance > 1;
  const B = latents.shape[0]!;
  const C = model.config.inChannels;
  const outC = model.config.outChannels;
  if (outC !== C && outC !== 2 * C) throw new InputError(`model out_channels ${outC} must be in_channels ${C} (a noise prediction) or 2×${C} (learned sigma) to sample from it`);
  if (model.family === 'dit') {
    if (!o.classLabels) throw new InputError('class_labels: missing (DiT is class-conditional)');
    if (o.classLabels.length !== B) throw new InputError(`class_labels: expected ${B} ids (batch of latents), found ${o.classLabels.length}`);
  } else {
    if (!o.encoderHiddenStates) throw new InputError('encoder_hidden_states: missing (text embeddings)');
    if (cfg) {
      if (!o.negativeEncoderHiddenStates) throw new InputError(`negative_encoder_hidden_states: missing; guidance ${o.guidance} > 1 needs the negative text embeddings (or use --guidance 1)`);
      const a = o.encoderHiddenStates.shape;
      const b = o.negativeEncoderHiddenStates.shape;
      if (a.join() !== b.join()) throw new InputError(`negative_encoder_hidden_states: shape [${b.join(',')}] must equal encoder_hidden_states [${a.join(',')}]`);
    }
  }
  return { latents, cfg, sched };
}

const cat = (a: Float32Array, b: Float32Array): Float32Array => {
  const o = new Float32Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
};

/** Names the first layer whose output is non-finite (a slow replay: on the error path only). */
export async function locate(model: DiffusionModel, inputs: ForwardInputs): Promise<string> {
  try {
    return (await model.locateNonFinite(inputs)) ?? 'a replay of the step was finite (non-deterministic overflow?)';
  } catch (e) {
    return `the layer could not be located (${(e as Error).message})`;
  }
}

/**
 * Runs the sampler and returns the final latents (before any VAE), like the diffusers pipeline
 * with output_type="latent".
 *
 * @example
 * const out = await generate(model, { scheduler: 'flow-match-euler', steps: 30, guidance: 5, shift: 3,
 *   seed: 0, shape: [1, 16, 5, 32, 32], encoderHiddenStates, negativeEncoderHiddenStates });
 */
export async function generate(model: DiffusionModel, o: GenerateOptions): Promise<GenerateResult> {
  const { latents: init, cfg, sched } = prepare(model, o);
  const shape = init.shape;
  const B = shape[0]!;
  const C = shape[1]!;
  const per = init.data.length / B; // values per batch item
  let x: Float32Array = Float32Array.from(init.data);
  const outC = model.config.outChannels;
  // inputs that do not change between steps, batched [cond; uncond] when guiding
  const text = o.encoderHiddenStates && (cfg ? { data: cat(o.encoderHiddenStates.data, o.negativeEncoderHiddenStates!.data), shape: [2 * B, ...o.encoderHiddenStates.shape.slice(1)] } : o.encoderHiddenStates);
  const labels = o.classLabels && (cfg ? [...o.classLabels, ...o.classLabels.map(() => (model.config as { numClasses: number }).numClasses)] : o.classLabels);
  const bb = cfg ? 2 * B : B;

  for (let i = 0; i < sched.timesteps.length; i++) {
    const t = sched.timesteps[i]!;
    const inputs: ForwardInputs = {
      hidden_states: { data: cfg ? cat(x, x) : x, shape: [bb, ...shape.slice(1)] },
      timestep: new Array(bb).fill(t),
      encoder_hidden_states: text,
      class_labels: labels,
    };
    let out: TensorData;
    try {
      out = await model.forward(inputs);
    } catch (e) {
      // a lost device or a GPU error mid-run: say which step it ended
      if (e instanceof GpuError) throw new GpuError(`step ${i + 1}/${sched.timesteps.length}: ${e.message}`, e.kind, e.where);
      throw e;
    }
    // model output per item: outC channels; learned-sigma models (outC = 2C) keep the first C
    const perOut = out.data.length / bb;
    const spatial = perOut / outC;
    if (outC !== C && outC !== 2 * C) throw new InputError(`model out_channels ${outC} is neither in_channels ${C} nor 2×${C} (learned sigma)`);
    const take = (item: number) => out.data.subarray(item * perOut, item * perOut + C * spatial);
    let eps = new Float32Array(B * per);
    for (let b = 0; b < B; b++) eps.set(cfg ? cfgCombine(take(b), take(B + b), o.guidance) : take(b), b * per);
    for (let j = 0; j < eps.length; j++) {
      if (!Number.isFinite(eps[j]!)) {
        const where = await locate(model, inputs);
        throw new NumericsError(`step ${i + 1}/${sched.timesteps.length} (t=${t}): the model output has a non-finite value (${eps[j]}) at flat index ${j}; ${where}${model.dtype === 'f16' ? ' — f16 overflow? try --dtype f32' : ''}`);
      }
    }
    x = sched.step(i, eps, x);
    eps = new Float32Array(0);
    for (let j = 0; j < x.length; j++) {
      if (!Number.isFinite(x[j]!)) throw new NumericsError(`step ${i + 1}/${sched.timesteps.length} (t=${t}): the scheduler produced a non-finite latent at flat index ${j}`);
    }
    o.onStep?.(i + 1, sched.timesteps.length, t);
  }
  return { latents: { data: x, shape }, timesteps: sched.timesteps };
}
