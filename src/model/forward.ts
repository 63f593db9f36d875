// Recording a model's forward pass for one input shape, in one place for the two that need it:
// the model's runner (real buffers, src/model/model.ts) and the memory planner's dry run
// (placeholders, src/gpu/memory-plan.ts), which the estimate and the runner's buffer sharing read.
import type { Gpu } from '../gpu/device.js';
import { DistinctActivations, DryAllocator, planMemory, PooledActivations, type MemoryPlan } from '../gpu/memory-plan.js';
import { Plan, type ActivationSource } from '../gpu/plan.js';
import type { Allocator, DType, Tensor } from '../gpu/tensor.js';
import type { ModelConfig } from './config.js';
import { InputError } from './input-error.js';
import { recordDit } from './dit.js';
import { setFfnChunkRows, setItemwise } from './ffn.js';
import { recordLatte } from './latte.js';
import { recordWan, type KeyFoldTable, type WanRecording } from './wan.js';
import { allocateWeights, expectedKeys, type Weights } from './weights.js';

/** The plans and input/output tensors of one recorded forward pass. */
export interface ForwardRecording {
  plan: Plan;
  /** What depends on the text alone (text embedder, cross-attention K/V): run before `plan` after the text is written; empty for DiT. */
  prepare: Plan;
  latents: Tensor;
  timestep: Tensor;
  text?: Tensor;
  /** Wan: where the host writes the text's cross-attention key fold (keyFoldLengths of the text) with the text. */
  textKeyFold?: KeyFoldTable;
  /** Wan: records the prepare plan's work over the first `rows` rows of each text item (WanRecording.recordText). */
  recordText?: WanRecording['recordText'];
  labels?: Tensor;
  out: Tensor;
}

/** How a recording places its scratch activations. */
export interface MemoryOptions {
  /** Share activation buffers by liveness (default true); false gives every activation its own buffer (the reference for tests). */
  reuse?: boolean;
  /** Force FFN token chunks of at most this many rows (tests); default: chunks only where the hidden activation would exceed one binding. */
  ffnChunkRows?: number;
  /** Force (true) or forbid (false) Wan's token-wise layers item by item (tests); default: only where [B, N, D] would exceed one binding. */
  itemwise?: boolean;
}

/**
 * Records the forward pass of `c` for latents `latentShape` (and text `textShape`) with `weights`:
 * inputs and output from `alloc`, scratch activations from `activations` (none: one buffer per
 * name). Returns the prepare plan and the step plan (both on `alloc`).
 */
export function recordForward(gpu: Gpu, alloc: Allocator, c: ModelConfig, weights: Weights, latentShape: number[], textShape: number[] | undefined, activations?: ActivationSource, ffnChunkRows?: number, itemwise?: boolean): ForwardRecording {
  const dtype = weights.dtype;
  const plan = new Plan(gpu, alloc);
  const prepare = new Plan(gpu, alloc);
  plan.activations = activations;
  setFfnChunkRows(plan, ffnChunkRows);
  setItemwise(plan, itemwise);
  const B = latentShape[0]!;
  const latents = alloc.tensor(latentShape, dtype, 'hidden_states');
  const timestep = alloc.tensor([B], 'f32', 'timestep');
  let text: Tensor | undefined;
  let labels: Tensor | undefined;
  let textKeyFold: KeyFoldTable | undefined;
  let recordText: WanRecording['recordText'] | undefined;
  let out: Tensor;
  if (c.family === 'wan') {
    text = alloc.tensor(textShape!, dtype, 'encoder_hidden_states');
    ({ out, textKeyFold, recordText } = recordWan(plan, c, weights, { latents, timestep, text }, prepare));
  } else if (c.family === 'latte') {
    text = alloc.tensor(textShape!, dtype, 'encoder_hidden_states');
    out = recordLatte(plan, c, weights, { latents, timestep, text }, prepare);
  } else {
    labels = alloc.uploadU32(new Uint32Array(B), 'class_labels');
    out = recordDit(plan, c, weights, { latents, timestep, labels });
  }
  return { plan, prepare, latents, timestep, text, textKeyFold, recordText, labels, out };
}

/** Placeholder weights with the shapes the config implies (for planning without a checkpoint). */
export function planningWeights(gpu: Gpu, c: ModelConfig, dtype: DType): Weights {
  // the real layout (fused q|k|v buffers included), so the dry run records what the real run records
  return allocateWeights(new DryAllocator(gpu), expectedKeys(c), dtype);
}

/**
 * The memory plan of a forward pass, from a dry run of the recording code: scratch activations
 * with their shared buffers, persistent tensors, uniforms and the largest binding. `weights`:
 * the loaded model's (so that the dry run records exactly what the real one will), or placeholders
 * from `planningWeights`.
 */
export function planForward(gpu: Gpu, c: ModelConfig, weights: Weights, latentShape: number[], textShape: number[] | undefined, ffnChunkRows?: number, itemwise?: boolean): MemoryPlan {
  const keys = new Map<GPUBuffer, string>();
  for (const [a, f] of weights.fused) {
    keys.set(f.w.buffer, `${a}.to_qkv.weight [${f.w.shape.join(',')}]`);
    if (f.b) keys.set(f.b.buffer, `${a}.to_qkv.bias [${f.b.shape.join(',')}]`);
  }
  for (const [k, t] of weights.tensors) if (!keys.has(t.buffer)) keys.set(t.buffer, `${k} [${t.shape.join(',')}]`);
  return planMemory(
    gpu,
    (alloc, acts) => {
      const r = recordForward(gpu, alloc, c, weights, latentShape, textShape, acts, ffnChunkRows, itemwise);
      return [r.prepare, r.plan];
    },
    (b) => keys.get(b),
  );
}

/**
 * Records the forward pass on real buffers: with `reuse` (default), the scratch activations share
 * buffers as the dry run's memory plan says (`memory`, returned); else each has its own.
 */
export function recordForwardPooled(gpu: Gpu, alloc: Allocator, c: ModelConfig, weights: Weights, latentShape: number[], textShape: number[] | undefined, o: MemoryOptions = {}): ForwardRecording & { memory?: MemoryPlan } {
  if (o.reuse === false) return recordForward(gpu, alloc, c, weights, latentShape, textShape, new DistinctActivations(alloc), o.ffnChunkRows, o.itemwise);
  const memory = planForward(gpu, c, weights, latentShape, textShape, o.ffnChunkRows, o.itemwise);
  const acts = new PooledActivations(alloc, memory);
  const r = recordForward(gpu, alloc, c, weights, latentShape, textShape, acts, o.ffnChunkRows, o.itemwise);
  acts.finish();
  return { ...r, memory };
}

/** The names a sampling-shape refusal gives the tensors: generate()'s options, or an inputs file's tensors. */
export interface SamplingNames {
  latents: string;
  text: string;
  negText: string;
  classLabels: string;
}

/**
 * The shapes of a sampling run against a transformer config alone, no data and no GPU: the latents (checkSamplingLatents)
 * and the conditioning (checkSamplingConditioning). `tessera generate --model`'s check of an inputs file's header before
 * any weight is read; generate() (prepare) runs the two parts with its own checks of the options between them.
 * @throws InputError naming the tensor, its shape and the one expected.
 */
export function checkSamplingShapes(c: ModelConfig, s: { latents: readonly number[]; text?: readonly number[]; negText?: readonly number[]; classLabels?: number }, names: SamplingNames = SAMPLING_NAMES): void {
  checkSamplingLatents(c, s.latents, names);
  checkSamplingConditioning(c, s, names);
}

/** generate()'s names for the tensors of a sampling run. */
export const SAMPLING_NAMES: SamplingNames = { latents: 'latents', text: 'encoder_hidden_states', negText: 'negative_encoder_hidden_states', classLabels: 'class_labels' };

/**
 * Latents [B, C, (F,) H, W] for sampling `c`: the family's rank and in_channels, and an out_channels the sampler can
 * read (in_channels, or 2× for a learned sigma). @throws InputError naming the latents (`names.latents`, also in `option`) or out_channels.
 */
export function checkSamplingLatents(c: ModelConfig, shape: readonly number[], names: SamplingNames = SAMPLING_NAMES): void {
  const C = c.inChannels;
  const rank = c.family === 'dit' ? 4 : 5;
  if (shape.length !== rank) throw new InputError(`${names.latents}: expected ${rank === 5 ? '[B, C, F, H, W]' : '[B, C, H, W]'} (${rank} dims) for a ${c.family} model, found [${shape.join(',')}]`, { option: names.latents });
  if (shape[1] !== C) throw new InputError(`${names.latents}: expected ${C} channels (transformer config in_channels), found ${shape[1]} in [${shape.join(',')}]`, { option: names.latents });
  if (c.outChannels !== C && c.outChannels !== 2 * C) throw new InputError(`model out_channels ${c.outChannels} must be in_channels ${C} (a noise prediction) or 2×${C} (learned sigma) to sample from it`);
}

/**
 * The conditioning of a sampling run against `c` and the latents' batch (`s.latents`, checked by checkSamplingLatents):
 * the text embeddings [B, L, text_dim / caption_channels] (under guidance the transformer sees the [cond; uncond] batch
 * the caller never built, so they are checked against the latents), the negative ones of the text's batch and width
 * (any length L': WanPipeline runs cond and uncond as separate transformer calls), a DiT's class label count. What is
 * not given is not checked. @throws InputError naming the tensor (`names`; also in `option`), its shape and the one expected.
 */
export function checkSamplingConditioning(c: ModelConfig, s: { latents: readonly number[]; text?: readonly number[]; negText?: readonly number[]; classLabels?: number }, names: SamplingNames = SAMPLING_NAMES): void {
  const shape = s.latents;
  const B = shape[0]!;
  if (c.family === 'dit') {
    if (s.classLabels !== undefined && s.classLabels !== B) throw new InputError(`${names.classLabels}: expected ${B} class ids (batch of ${names.latents}), found ${s.classLabels}`, { option: names.classLabels });
    return;
  }
  const [width, key] = c.family === 'wan' ? [c.textDim, 'text_dim'] : [c.captionChannels, 'caption_channels'];
  const text = s.text;
  if (text && (text.length !== 3 || text[0] !== B || text[2] !== width)) {
    throw new InputError(`${names.text}: expected [${B}, L, ${width}] (batch of ${names.latents} [${shape.join(',')}], config ${key}), found [${text.join(',')}]`, { option: names.text });
  }
  const neg = s.negText;
  if (text && neg && (neg.length !== 3 || neg[0] !== text[0] || neg[2] !== text[2])) {
    throw new InputError(`${names.negText}: expected [${text[0]}, L', ${text[2]}] (the batch and width of ${names.text} [${text.join(',')}]; any length L'), found [${neg.join(',')}]`, { option: names.negText });
  }
}
