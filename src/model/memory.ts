// What a forward pass needs on the GPU, from the config and input shape alone (before any
// allocation): weights, activations and workspace, and the largest single binding, which must fit
// maxStorageBufferBindingSize. Activations and workspace come from a dry run of the model's own
// recording code (src/model/forward.ts, src/gpu/memory-plan.ts), with activation buffers shared by
// liveness as the real run shares them. `checkRunFits` compares that with the adapter's limits (and
// an optional budget) and refuses with the numbers and a suggestion.
import { fmtBytes, storageBytes, type DType } from '../gpu/tensor.js';
import type { MemoryPlan } from '../gpu/memory-plan.js';
import { planningGpu } from '../gpu/memory-plan.js';
import { describeOverflow, LimitError, type CountOverflow } from '../gpu/plan.js';
import { patchDims, patchTokens, type ModelConfig } from './config.js';
import { planForward, planningWeights } from './forward.js';
import { checkDtypeOption, checkLatentGrid, InputError, shown } from './model.js';
import { expectedKeys, layerCopies, qkvGroups } from './weights.js';
import { DEFAULT_VAE_SCALE } from '../vae/config.js';
import { plural, pluralVerb } from '../plural.js';

/** A run that cannot fit the device (or the budget): refused before anything is allocated (defined beside Plan.record, which refuses counts too large). */
export { LimitError };

/** GPU bytes of one run, from a dry run of the model's recording (src/model/forward.ts) with activations sharing buffers as the real run does. */
export interface MemoryEstimate {
  /** Bytes of the weights as stored (estimateWeights). */
  weights: number;
  /** Bytes of the scratch activations as they share buffers by liveness, plus the persistent tensors (inputs, output, position tables, cached cross-attention K/V). */
  activations: number;
  /** Uniform buffers of every dispatch, RoPE/position tables, read-back staging. */
  workspace: number;
  /** The largest single binding of any dispatch (weights included), or the largest buffer when that is what exceeds maxBufferSize. */
  largestTensor: number;
  /** Its tensor and shape, e.g. `ffn_hidden_chunk [4096,8960]` or `weight blocks.0.ffn.net.0.proj.weight [8960,1536]`. */
  largestName: string;
  /** weights + activations + workspace, in bytes: what checkRunFits compares with maxMemory. */
  total: number;
  /** The dry run's memory plan (src/gpu/memory-plan.ts): activations before and after sharing, the largest binding. */
  plan: MemoryPlan;
  /** When the latent's height and width look like pixel sizes (latentHint): what the latent of those pixels is. */
  hint?: string;
}

/**
 * A hint when `latent`'s height and width look like pixel sizes passed as latent sizes: both divisible by
 * the VAE's scale (the pipelines' default, DEFAULT_VAE_SCALE: 8 for every family) and an area at least 64×
 * (8× per side) the family's usual latent (Wan 480p: 60×104; DiT/Latte: sample_size²), e.g. [1,16,81,480,832]
 * for 81 frames of 480×832, whose latent is [1,16,21,60,104].
 */
export function latentHint(c: ModelConfig, latent: readonly number[]): string | undefined {
  const [H, W] = latent.slice(-2) as [number, number];
  const wan = c.family === 'wan';
  const { spatial, temporal } = DEFAULT_VAE_SCALE[wan ? 'wan' : 'kl'];
  const usual = wan ? 60 * 104 : c.sampleSize * c.sampleSize;
  if (H % spatial !== 0 || W % spatial !== 0 || H * W < 64 * usual) return undefined;
  const shape = [...latent.slice(0, -2), H / spatial, W / spatial];
  // Wan's VAE also packs 4 frames into one latent frame (the first alone): 81 frames → 21
  // a length that is not 4k + 1 becomes one as diffusers' WanPipeline makes it (num_frames // 4 * 4 + 1)
  const F = latent[2]!;
  const video = wan && latent.length === 5 && F >= 1;
  const kept = video ? Math.floor(F / temporal) * temporal + 1 : F;
  if (video) shape[2] = (kept - 1) / temporal + 1;
  const frames = video ? ` and ${plural(F, 'frame')}` : '';
  const rounded = video && kept !== F ? ` (${F} frames is not ${temporal}k + 1: WanPipeline makes it ${kept})` : '';
  return `latent [${latent.join(',')}] looks like pixel sizes (${H}×${W}${frames}); a latent is the pixels / ${spatial}${wan ? ` and (frames − 1) / ${temporal} + 1 frames` : ''}: [${shape.join(',')}] for that video${rounded}`;
}

/** Bytes the Allocator reserves for a buffer of `bytes` (16-byte granules, 16 at least). */
const granule = (bytes: number) => Math.max(16, Math.ceil(bytes / 16) * 16);
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Bytes of the weights alone (as the Allocator stores them), and the largest weight tensor. Counted
 * on one- and two-layer copies of the config and extrapolated (every layer holds the same tensors),
 * so a config.json with an absurd num_layers costs nothing to estimate. `dtype`: the weights'
 * storage, 'f32' or 'f16'.
 * @throws InputError naming `dtype` for another value (as estimateMemory).
 */
export function estimateWeights(c: ModelConfig, dtype: DType): { bytes: number; largest: number; largestName: string } {
  checkDtype(dtype);
  if (c.layers <= 2) return weightsOf(c, dtype);
  const [c1, c2] = layerCopies(c);
  const one = weightsOf(c1, dtype);
  const two = weightsOf(c2, dtype);
  return { ...two, bytes: one.bytes + (two.bytes - one.bytes) * (c.layers - 1) };
}

function weightsOf(c: ModelConfig, dtype: DType): { bytes: number; largest: number; largestName: string } {
  let bytes = 0;
  let largest = 0;
  let largestName = '';
  // fused self-attention projections (weights.ts qkvGroups): one buffer for q, k and v
  const keys = expectedKeys(c);
  for (const a of qkvGroups(keys)) {
    for (const part of ['weight', 'bias']) {
      const s = keys.get(`${a}.to_q.${part}`);
      if (!s) continue;
      for (const k of ['to_q', 'to_k', 'to_v']) keys.delete(`${a}.${k}.${part}`);
      keys.set(`${a}.to_qkv.${part}`, [3 * s[0]!, ...s.slice(1)]);
    }
  }
  for (const [k, s] of keys) {
    const b = granule(storageBytes(prod(s), dtype));
    bytes += b;
    if (b > largest) [largest, largestName] = [b, `weight ${k} [${s.join(',')}]`];
  }
  return { bytes, largest, largestName };
}

/**
 * Refuses shapes and a dtype a forward pass could not take, as forward() would refuse them: `latent`
 * [B, C, F, H, W] (Wan/Latte) or [B, C, H, W] (DiT) of positive integers with C = in_channels and
 * the sizes divisible by the patch (a Wan: the grid after patching within rope_max_seq_len per axis;
 * a Latte: F = video_length or 1); `text` [B, L, text_dim /
 * caption_channels] for Wan/Latte (required), absent for a DiT; `dtype` 'f32' or 'f16'.
 * @throws InputError naming `latent`, `text` or `dtype`.
 */
function checkRunArgs(c: ModelConfig, latent: unknown, text: unknown, dtype: unknown): asserts latent is number[] {
  const video = c.family !== 'dit';
  const layout = video ? '[B, C, F, H, W]' : '[B, C, H, W]';
  const positive = (v: unknown): v is number[] => Array.isArray(v) && v.every((d) => Number.isInteger(d) && d >= 1);
  if (!positive(latent)) throw new InputError(`latent: the latents' shape ${layout} as positive integers for a ${c.family} model, got ${shown(latent)}`);
  if (latent.length !== (video ? 5 : 4)) throw new InputError(`latent: expected ${layout} (${video ? 5 : 4} dims) for a ${c.family} model, found [${latent.join(',')}]`);
  if (latent[1] !== c.inChannels) throw new InputError(`latent: expected ${c.inChannels} channels (config in_channels), found ${latent[1]} in [${latent.join(',')}]`);
  // before any size check: the shapes the fit check's suggestions probe stay within the request's axes
  checkLatentGrid(c, 'latent', latent);
  if (c.family === 'dit') {
    if (text !== undefined) throw new InputError(`text: a dit model takes no text (it is class-conditional): give undefined, got ${shown(text)}`);
  } else {
    const width = c.family === 'wan' ? c.textDim : c.captionChannels;
    const key = c.family === 'wan' ? 'text_dim' : 'caption_channels';
    if (text === undefined) throw new InputError(`text: missing: a ${c.family} model takes text embeddings; give their shape [${latent[0]}, L, ${width}]`);
    if (!positive(text) || text.length !== 3 || text[0] !== latent[0] || text[2] !== width) {
      throw new InputError(`text: expected [${latent[0]}, L, ${width}] (batch of latent [${latent.join(',')}], config ${key}), found ${Array.isArray(text) ? `[${text.join(',')}]` : shown(text)}`);
    }
  }
  checkDtype(dtype);
}

/** A storage dtype given where it is required: 'f32' or 'f16'. @throws InputError naming `dtype`. */
function checkDtype(dtype: unknown): void {
  if (dtype === undefined) throw new InputError("dtype: missing ('f32' or 'f16')");
  checkDtypeOption(dtype);
}

/**
 * What a forward pass over `latent` (and `text`) holds on the GPU, from a dry run of the model's
 * own recording code (src/model/forward.ts with placeholder weights: no device, nothing allocated),
 * so there is no second, hand-kept list of buffers. Activations are the scratch activations as
 * they share buffers by liveness plus the persistent tensors (inputs, output, position tables,
 * cached cross-attention K/V); workspace is the uniform buffers, the dummy binding and the read-back
 * staging buffer. `largestTensor` / `largestName` are the largest single binding of any dispatch
 * (which must fit maxStorageBufferBindingSize), or the largest buffer when that is larger relative
 * to maxBufferSize. `limits`: the adapter's (the FFN's token chunks follow the binding limit);
 * WebGPU's defaults (128 MiB bindings, 256 MiB buffers) for those omitted. `plan.overflow` names a
 * count no kernel could hold at this size (checkRunFits refuses such a run). Its cost grows with the
 * tokens (a dry run of every dispatch), so a request far over the limits (one item's hidden states
 * more than 64× the binding limit, which no run could hold) is refused from its shapes alone, as
 * checkRunFits words it, without the dry run that would take seconds to minutes.
 * `latent`: [B, C, F, H, W] (Wan/Latte; latent frames and pixels / 8) or [B, C, H, W] (DiT), C =
 * in_channels, sizes divisible by the patch; `text`: [B, L, text_dim] (Wan) / [B, L, caption_channels]
 * (Latte), undefined for a DiT; `dtype`: the weights' and activations' storage, 'f32' or 'f16'.
 * `hint`: set when the latent's height and width look like pixel sizes (latentHint).
 * @throws InputError naming `latent`, `text` or `dtype` when forward() could not take them;
 *   LimitError for a request far over the limits (as checkRunFits without a budget words it).
 */
export function estimateMemory(c: ModelConfig, latent: number[], text: number[] | undefined, dtype: DType, limits?: Partial<MemoryLimits>): MemoryEstimate {
  checkRunArgs(c, latent, text, dtype);
  // the limits the dry run plans with: the given ones, WebGPU's defaults for the rest
  const planned = planningGpu(givenLimits(limits)).limits;
  const far = farOverBinding(c, latent, dtype, planned);
  // no dry run at all, not even checkRunFits' probes for what fits (they cost a second here): it names them
  if (far) throw new LimitError(`${runName(latent, text, dtype)} cannot fit: its ${far}: use a smaller resolution${latent.length === 5 ? ' or fewer frames' : ''} (checkRunFits says how many tokens fit)${hintOf(c, latent)}`);
  return estimateChecked(c, latent, text, dtype, limits);
}

/** estimateMemory of arguments already checked (checkRunFits' probes of other shapes). */
function estimateChecked(c: ModelConfig, latent: number[], text: number[] | undefined, dtype: DType, limits?: Partial<MemoryLimits>): MemoryEstimate {
  return estimateFromPlan(c, latent, dtype, planModel(c, latent, text, dtype, limits), limits);
}

/** The dry run's memory plan of a forward pass (placeholder weights, a planning device with `limits`). */
export function planModel(c: ModelConfig, latent: number[], text: number[] | undefined, dtype: DType, limits?: Partial<MemoryLimits>, ffnChunkRows?: number, itemwise?: boolean): MemoryPlan {
  // the same question is often asked twice in a row (an estimate, then the fit check and its suggestions)
  const key = JSON.stringify([latent, text ?? null, dtype, limits?.maxStorageBufferBindingSize ?? null, limits?.maxBufferSize ?? null, limits?.maxComputeWorkgroupsPerDimension ?? null, ffnChunkRows === Infinity ? 'inf' : (ffnChunkRows ?? null), itemwise ?? null]);
  let memo = plans.get(c);
  if (!memo) plans.set(c, (memo = new Map()));
  const hit = memo.get(key);
  if (hit) return hit;
  const m = planModelUncached(c, latent, text, dtype, limits, ffnChunkRows, itemwise);
  memo.set(key, m);
  if (memo.size > 16) memo.delete(memo.keys().next().value!);
  return m;
}

/** Recent dry runs per config (a few; plans of large shapes hold thousands of entries). */
const plans = new WeakMap<ModelConfig, Map<string, MemoryPlan>>();

function planModelUncached(c: ModelConfig, latent: number[], text: number[] | undefined, dtype: DType, limits?: Partial<MemoryLimits>, ffnChunkRows?: number, itemwise?: boolean): MemoryPlan {
  const gpu = planningGpu(givenLimits(limits), dtype === 'f16');
  return planForward(gpu, c, planningWeights(gpu, c, dtype), latent, text, ffnChunkRows, itemwise);
}

/** The adapter's limits that shape a dry run's recording, as given (unset or 0: the planning device's WebGPU defaults). */
function givenLimits(limits?: Partial<MemoryLimits>): Partial<MemoryLimits> {
  // the binding and buffer sizes (token chunks, item by item) and the workgroup grid (a count past it is an overflow the real recording refuses)
  const given = { maxStorageBufferBindingSize: limits?.maxStorageBufferBindingSize, maxBufferSize: limits?.maxBufferSize, maxComputeWorkgroupsPerDimension: limits?.maxComputeWorkgroupsPerDimension };
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v));
}

function estimateFromPlan(c: ModelConfig, latent: number[], dtype: DType, m: MemoryPlan, limits?: Partial<MemoryLimits>): MemoryEstimate {
  const w = estimateWeights(c, dtype);
  const activations = m.scratchBytes + m.persistentBytes;
  // plus the read-back staging buffer, as big as the output sample [B, out_channels, (F,) H, W]
  const workspace = m.workspaceBytes + Math.ceil(storageBytes(latent[0]! * c.outChannels * prod(latent.slice(2)), dtype) / 4) * 4;
  // the binding limit and the buffer limit: name whichever is exceeded by more (binding first)
  const binding = m.largestBinding;
  const maxB = limits?.maxStorageBufferBindingSize ?? Infinity;
  const maxBuf = limits?.maxBufferSize ?? Infinity;
  let largest = binding.bytes;
  let largestName = binding.name;
  if (m.largestBuffer.bytes > maxBuf && !(binding.bytes > maxB)) [largest, largestName] = [m.largestBuffer.bytes, m.largestBuffer.name];
  if (w.largest > largest) [largest, largestName] = [w.largest, w.largestName];
  const hint = latentHint(c, latent);
  return { weights: w.bytes, activations, workspace, largestTensor: largest, largestName, total: w.bytes + activations + workspace, plan: m, ...(hint ? { hint } : {}) };
}

/** The adapter limits the check needs (a `Gpu`'s `limits` has them). */
export interface MemoryLimits {
  /** The adapter's largest buffer, in bytes (WebGPU's default 256 MiB). */
  maxBufferSize: number;
  /** The adapter's largest storage binding, in bytes (WebGPU's default 128 MiB, lavapipe's). */
  maxStorageBufferBindingSize: number;
  /** The workgroup grid's limit per dimension (a `Gpu`'s limits have it; WebGPU's 65535 when omitted). */
  maxComputeWorkgroupsPerDimension?: number;
}

/**
 * The largest single buffer binding the adapter takes, in bytes: the smaller of `maxBufferSize`
 * and `maxStorageBufferBindingSize`, with that limit's name for messages (the binding limit's when
 * they are equal).
 */
export function bindingLimit(limits: MemoryLimits): { bytes: number; name: 'maxBufferSize' | 'maxStorageBufferBindingSize' } {
  return limits.maxBufferSize < limits.maxStorageBufferBindingSize
    ? { bytes: limits.maxBufferSize, name: 'maxBufferSize' }
    : { bytes: limits.maxStorageBufferBindingSize, name: 'maxStorageBufferBindingSize' };
}

/** Options of checkRunFits and checkWeightsFit. */
export interface FitOptions {
  /**
   * Budget for everything on the GPU (LoadOptions.maxMemory; the CLI's --max-memory / TESSERA_MAX_GPU_MEMORY): what
   * loadModel's maxMemory takes, a number of bytes ≥ 1 (rounded down) or a size string such as "2GiB" (parseBytes).
   * Anything else (NaN, 0, -1, "lots") is refused (InputError naming maxMemory), never read as no budget.
   */
  maxMemory?: number | string;
  /** Bytes already held (e.g. the weights of a loaded model): replaces the weight estimate. */
  heldBytes?: number;
  /** Whether the adapter can store f16 (for the suggestion). */
  f16?: boolean;
  /** Bytes the caller allocates beside the model for the run (generate's sampler state), added to the total and named in the message. */
  reserve?: Reserve;
  /** The batch is not the caller's user's to change (bench model's CFG batch of 2): the refusal suggests no smaller batch. */
  fixedBatch?: boolean;
  /**
   * false: the latents were made from pixel sizes by the VAE's own factors (a pipeline's caller, the CLI's demo), so the
   * refusal has no note that they look like pixel sizes (latentHint, which guesses the factors); default true.
   */
  pixelHint?: boolean;
  /**
   * The refusal in the caller's terms, for a caller whose user gave other sizes than the latents (the CLI's demo: pixels,
   * and the transformer's pass as one stage of a pipeline). `run`: the run's name before its shapes (default `this run`:
   * `this run (latents [2,16,3,6,10], text [2,77,4096], f32) needs …`). `framesFit(n)`: the suggestion that `n` latent
   * frames fit (default `n latent frames fit at this resolution`), e.g. the frames a VAE makes of them at a pixel size.
   */
  terms?: { run?: string; framesFit?: (latentFrames: number) => string };
}

/** GPU bytes a caller allocates beside the model for a run, named in a LimitError: `sampler state 69.1 KiB`. */
export interface Reserve {
  bytes: number;
  /** e.g. `sampler state`. */
  what: string;
}

/**
 * Throws LimitError when a forward pass over `latent` (and `text`) cannot fit: its largest
 * tensor above maxStorageBufferBindingSize / maxBufferSize, a count of some dispatch above what a
 * kernel holds in 32 bits (2^32 − 1 elements, or the workgroup grid: the op, the count and the
 * limit are named), or the total above the budget. One item's hidden states [tokens, dim] more than
 * 64× a binding are refused from the shapes alone (their size instead of the totals), without the
 * dry run, which at such sizes would take minutes. Unless `opts.heldBytes` says the weights are
 * loaded, a weight above the per-buffer limit is checkWeightsFit's LimitError first (no size fits).
 * Needs the config and shapes only — call it before loading or allocating anything. The message
 * names the library's options (`maxMemory`, `dtype: 'f16'`; the CLI shows its flags instead) and
 * suggests only what would fit: f16 only when the run fits in f16, otherwise how many frames or
 * tokens fit. `latent`, `text` and `dtype` as estimateMemory takes them.
 * @throws InputError naming `latent`, `text` or `dtype` (as estimateMemory), LimitError when the run does not fit.
 */
export function checkRunFits(c: ModelConfig, latent: number[], text: number[] | undefined, dtype: DType, limits: MemoryLimits, given: FitOptions = {}): MemoryEstimate {
  const opts = withBudget(given);
  checkRunArgs(c, latent, text, dtype);
  // a weight above the per-buffer limit fits at no size: said first, as loading would say it (not
  // 'a smaller resolution', which every probe below would fail on). A loaded model's weights fit.
  if (opts.heldBytes === undefined) checkWeightsFit(c, dtype, limits, { ...(opts.f16 !== undefined ? { f16: opts.f16 } : {}) });
  const limit = bindingLimit(limits);
  const run = runName(latent, text, dtype, opts.terms?.run);
  const far = farOverBinding(c, latent, dtype, limits);
  // one item's hidden states alone: fewer items cannot help
  const hint = opts.pixelHint === false ? '' : hintOf(c, latent);
  if (far) throw new LimitError(`${run} cannot fit: its ${far}: ${suggest(c, latent, text, dtype, limits, { ...opts, fixedBatch: true }, false, false)}${hint}`);
  const m = measure(c, latent, text, dtype, limits, opts);
  const { est, total, tooBig, overflow } = m;
  if (m.fits) return est;
  const what =
    `${run} needs ${fmtBytes(total)} on the GPU ` +
    `(${opts.heldBytes !== undefined ? `held ${fmtBytes(opts.heldBytes)}` : `weights ${fmtBytes(est.weights)}`}${opts.reserve ? ` + ${opts.reserve.what} ${fmtBytes(opts.reserve.bytes)}` : ''} + activations ${fmtBytes(est.activations)} + workspace ${fmtBytes(est.workspace)})`;
  // a binding too large first (the commoner cause, and f16 may help); then a count past 32 bits
  const why = tooBig
    ? `its largest tensor, ${est.largestName}, is ${fmtBytes(est.largestTensor)}, above the adapter's ${limit.name} of ${fmtBytes(limit.bytes)}`
    : overflow
      ? `it cannot be recorded: ${describeOverflow(overflow)}`
      : `above the budget of ${fmtBytes(opts.maxMemory!)} (maxMemory)`;
  // over the budget alone: the budget that would hold this run is a way out too, in whole bytes (a rounded size could fall short)
  const need = !tooBig && !overflow ? total : undefined;
  throw new LimitError(`${what}; ${why}: ${suggest(c, latent, text, dtype, limits, opts, est.largestName.startsWith('weight '), !f16Hopeless(m, limits, opts), need)}${hint}`);
}

/** FitOptions with maxMemory read (Budgeted: a number of bytes, or none). */
type Budgeted = FitOptions & { maxMemory?: number };

/**
 * `opts` with its maxMemory read as loadModel reads it (a number of bytes ≥ 1, rounded down, or a size string).
 * @throws InputError `maxMemory: a number of bytes > 0 or a size such as "2GiB", got …` for anything else.
 */
function withBudget(opts: FitOptions): Budgeted {
  return opts.maxMemory === undefined ? (opts as Budgeted) : { ...opts, maxMemory: budgetBytes(opts.maxMemory) };
}

/**
 * A maxMemory option as the loaders and the fit checks read it: a number of bytes > 0, rounded down to whole bytes
 * (0.5 is a budget of 0 B, refused here rather than as a LimitError at the first allocation), or a size string
 * (parseBytes); undefined stays undefined.
 * @throws InputError `maxMemory: a number of bytes > 0 or a size such as "2GiB", got …` for anything else.
 */
export function budgetBytes(m: unknown): number | undefined {
  if (m === undefined) return undefined;
  if (typeof m === 'string') return parseBytes(m);
  if (typeof m !== 'number' || !Number.isFinite(m) || m <= 0) throw new InputError(`maxMemory: a number of bytes > 0 or a size such as "2GiB", got ${shown(m)}`, { option: 'maxMemory' });
  return wholeBytes(m, 'maxMemory', m);
}

/** latentHint as a refusal's last sentence ('' without one). */
const hintOf = (c: ModelConfig, latent: readonly number[]): string => {
  const h = latentHint(c, latent);
  return h ? `. Note: ${h}` : '';
};

/** A run as a LimitError names it: `this run (latents [2,16,3,6,10], text [2,77,4096], f32)` (`name`: FitOptions.terms.run). */
export const runName = (latent: readonly number[], text: readonly number[] | undefined, dtype: DType, name = 'this run'): string =>
  `${name} (latents [${latent.join(',')}]${text ? `, text [${text.join(',')}]` : ''}, ${dtype})`;

/** How far over the binding limit one item's hidden states may be before the fit check refuses on shapes alone. */
const FAR_OVER = 64;

/**
 * A forward pass over `latent` far over the binding limit, from the shapes alone: `hidden states, [N,dim] per item,
 * are …, more than 64× the adapter's maxStorageBufferBindingSize of …` (the reason a refusal gives), or undefined.
 * The dry run of such a request costs seconds to minutes (its FFN in thousands of token chunks per layer) and would
 * only confirm it: no binding holds one item's hidden states (hiddenBinding). checkRunFits', estimateMemory's and the
 * Pipeline's fit check.
 */
export function farOverBinding(c: ModelConfig, latent: number[], dtype: DType, limits: MemoryLimits): string | undefined {
  const limit = bindingLimit(limits);
  const hidden = hiddenBinding(c, latent, dtype);
  if (hidden.bytes <= FAR_OVER * limit.bytes) return undefined;
  return `hidden states, ${hidden.name} per item, are ${fmtBytes(hidden.bytes)}, more than ${FAR_OVER}× the adapter's ${limit.name} of ${fmtBytes(limit.bytes)}`;
}

/**
 * One batch item's hidden states [tokens, dim] after the patch embedding, in `dtype`: a lower bound on
 * the largest binding of any forward pass (the patch embedding writes each item's rows whole, and the
 * norms, RoPE and attention read them whole; only the FFN's wider activations are split into token chunks).
 */
function hiddenBinding(c: ModelConfig, latent: number[], dtype: DType): { bytes: number; name: string } {
  const tokens = patchTokens(c, latent);
  return { bytes: storageBytes(tokens * c.dim, dtype), name: `[${tokens},${c.dim}]` };
}

/**
 * What of an estimate (estimateMemory's, with these `limits`) the adapter cannot take, whatever the
 * budget: `tooBig` when its largest binding, buffer or weight is above maxStorageBufferBindingSize /
 * maxBufferSize; `overflow` when a count of some dispatch is past what a kernel holds in 32 bits or
 * the workgroup grid (src/gpu/plan.ts CountOverflow: the dry run notes it, the real recording throws).
 * checkRunFits and the Pipeline's fit check (and their searches for what fits) both read it.
 */
export function beyondAdapter(est: MemoryEstimate, limits: MemoryLimits): { tooBig: boolean; overflow?: CountOverflow } {
  const tooBig = est.plan.largestBinding.bytes > limits.maxStorageBufferBindingSize || est.plan.largestBuffer.bytes > limits.maxBufferSize || est.largestTensor > bindingLimit(limits).bytes;
  return { tooBig, ...(est.plan.overflow ? { overflow: est.plan.overflow } : {}) };
}

function measure(c: ModelConfig, latent: number[], text: number[] | undefined, dtype: DType, limits: MemoryLimits, opts: Budgeted) {
  const est = estimateChecked(c, latent, text, dtype, limits);
  const total = (opts.heldBytes !== undefined ? opts.heldBytes + est.activations + est.workspace : est.total) + (opts.reserve?.bytes ?? 0);
  const { tooBig, overflow } = beyondAdapter(est, limits);
  const overBudget = opts.maxMemory !== undefined && total > opts.maxMemory;
  return { est, total, tooBig, overflow, overBudget, fits: !tooBig && !overflow && !overBudget };
}

/**
 * Whether the same run in f16 could fit, judged from the f32 measure alone when that is certain:
 * f16 at best halves every byte and leaves every count as it is, so a run more than twice over a
 * limit, or whose counts overflow, cannot. False when only a dry run in f16 can tell.
 */
function f16Hopeless(m: ReturnType<typeof measure>, limits: MemoryLimits, opts: Budgeted): boolean {
  if (m.overflow) return true;
  const p = m.est.plan;
  if (p.largestBinding.bytes > 2 * limits.maxStorageBufferBindingSize || p.largestBuffer.bytes > 2 * limits.maxBufferSize) return true;
  return opts.maxMemory !== undefined && opts.heldBytes === undefined && m.total > 2 * opts.maxMemory;
}

/**
 * most() probing from below (1, 2, 4, … until one fails, then a binary search between): the same
 * answer when ok is monotone, but each probe costs at most about twice the answer's, not hi's —
 * the dry runs of a request far over the limits cost seconds each.
 */
function mostFromBelow(hi: number, ok: (n: number) => boolean): number {
  let lo = 0;
  let n = 1;
  while (n <= hi && ok(n)) [lo, n] = [n, n * 2];
  // the answer lies in lo..min(hi, n − 1): lo fits (or is 0), n does not (or is past hi)
  return lo + most(Math.min(hi, n - 1) - lo, (k) => ok(lo + k));
}

/** The largest n in 1..hi with ok(n) (ok true up to some n, false after), or 0: a binary search. */
export function most(hi: number, ok: (n: number) => boolean): number {
  let best = 0;
  for (let lo = 1; lo <= hi; ) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) [best, lo] = [mid, mid + 1];
    else hi = mid - 1;
  }
  return best;
}

/** most() for an asynchronous ok (a probe that awaits a dry run, e.g. the VAE decode's memory). */
export async function mostAsync(hi: number, ok: (n: number) => Promise<boolean>): Promise<number> {
  let best = 0;
  for (let lo = 1; lo <= hi; ) {
    const mid = Math.floor((lo + hi) / 2);
    if (await ok(mid)) [best, lo] = [mid, mid + 1];
    else hi = mid - 1;
  }
  return best;
}

/** Concrete ways out: how many frames (or tokens) would fit, a smaller resolution/batch, f16, and over the budget alone the budget that holds this run (`budgetNeed` bytes). */
function suggest(c: ModelConfig, latent: number[], text: number[] | undefined, dtype: DType, limits: MemoryLimits, opts: Budgeted, weightBound: boolean, f16Candidate: boolean, budgetNeed?: number): string {
  const out: string[] = [];
  const perBinding = bindingLimit(limits).bytes;
  // a shape whose hidden states alone exceed a binding cannot fit: no dry run for it
  const fits = (l: number[]) => hiddenBinding(c, l, dtype).bytes <= perBinding && measure(c, l, text, dtype, limits, opts).fits;
  if (!weightBound) {
    const [pt, ph, pw] = patchDims(c);
    const video = latent.length === 5;
    const F = video ? latent[2]! : 1;
    const [H, W] = latent.slice(-2) as [number, number];
    const tokens = patchTokens(c, latent);
    const [B, C] = latent as [number, number];
    const shape = (f: number, h: number, w: number) => (video ? [B, C, f, h, w] : [B, C, h, w]);
    // tokens drive every activation. Each probe is a dry run of the whole model, probed from below
    // (a request far over the limits costs seconds per dry run): frames first, then, when not even
    // one frame fits, rows of patches at this width, then patches of one row — every axis within
    // the request's own, so that a probe never passes a limit of the model's own (Wan's rope_max_seq_len)
    const frames = video && F > pt ? mostFromBelow(Math.floor(F / pt), (n) => fits(shape(n * pt, H, W))) * pt : 0;
    let maxTokens = 0;
    if (frames === 0) {
      const rows = mostFromBelow(H / ph - 1, (n) => fits(shape(pt, n * ph, W)));
      maxTokens = rows > 0 ? rows * (W / pw) : mostFromBelow(W / pw - 1, (k) => fits(shape(pt, ph, k * pw)));
    }
    if (frames > 0) out.push(`use fewer frames (${opts.terms?.framesFit?.(frames) ?? `${pluralVerb(frames, 'latent frame', 'fit')} at this resolution`})`);
    else if (maxTokens > 0) out.push(`use a smaller resolution${video ? ' or fewer frames' : ''} (about ${maxTokens} of these ${tokens} tokens per item fit)`);
    else out.push(`use a smaller resolution${video ? ' or fewer frames' : ''}`);
    if (frames > 0) out.push('a smaller resolution');
    if (latent[0]! > 1 && !opts.fixedBatch) out.push('a smaller batch');
  }
  // f16 only where it is enough on its own (the held weights, measured in f32, re-estimated in f16)
  if (dtype === 'f32' && opts.f16 !== false && f16Candidate) {
    if (measure(c, latent, text, 'f16', limits, { ...opts, heldBytes: undefined }).fits) out.push(`${F16} (half the bytes)`);
  }
  if (weightBound || out.length === 0) out.push(opts.maxMemory !== undefined ? `${largerBudget()} or a smaller model` : 'a smaller model');
  else if (budgetNeed !== undefined) out.push(largerBudget(budgetNeed));
  return out.length > 1 ? `${out.slice(0, -1).join(', ')} or ${out[out.length - 1]}` : out[0]!;
}

/** How the library names the f16 storage option in suggestions (the CLI shows `--dtype f16`). */
const F16 = "dtype: 'f16'";

/**
 * The one way every budget refusal (the transformer's, the text encoder's, the VAE's, the pipeline's decode)
 * suggests a larger budget: `a larger maxMemory budget (N bytes or more)`, N the bytes that hold the refused
 * run, or without N where no single figure does (the weights alone over it). The CLI rewrites exactly these
 * two forms into its flag's words (src/cli/errors.ts flagNames: `give --max-memory N or more`).
 */
export function largerBudget(need?: number): string {
  return need === undefined ? 'a larger maxMemory budget' : `a larger maxMemory budget (${need} bytes or more)`;
}

/**
 * Refuses a model whose weights alone exceed the budget or a buffer limit, before uploading.
 * Suggests f16 only when the f16 weights would fit.
 * @throws LimitError with the sizes and a suggestion; InputError for a dtype other than 'f32' / 'f16'.
 */
export function checkWeightsFit(c: ModelConfig, dtype: DType, limits: MemoryLimits, given: FitOptions = {}): void {
  const opts = withBudget(given);
  const w = estimateWeights(c, dtype);
  const perBuffer = bindingLimit(limits).bytes;
  const w16 = dtype === 'f32' && opts.f16 !== false ? estimateWeights(c, 'f16') : undefined;
  if (w.largest > perBuffer) {
    // (largestName reads "weight NAME [shape]"; in f16 too large as well, the line says so: user24 #4)
    const half = w16 ? (w16.largest <= perBuffer ? `try ${F16}` : `a smaller model (in f16 it is still ${fmtBytes(w16.largest)})`) : 'a smaller model';
    throw new LimitError(`the model's largest ${w.largestName} is ${fmtBytes(w.largest)} in ${dtype}, above the adapter's per-buffer limit of ${fmtBytes(perBuffer)}: ${half}`);
  }
  if (opts.maxMemory !== undefined && w.bytes > opts.maxMemory) {
    throw new LimitError(
      `the model's weights need ${fmtBytes(w.bytes)} in ${dtype} (${plural(c.layers, 'layer')}, dim ${c.dim}), above the budget of ${fmtBytes(opts.maxMemory)} (maxMemory)` +
        `${w16 && w16.bytes <= opts.maxMemory ? `: try ${F16} (half the bytes), or ${largerBudget()}` : `: ${largerBudget()} or a smaller model`}`,
    );
  }
}

/**
 * A memory size → whole bytes (rounded down): a number of bytes ("4096", "1e9", "2.5e+3") or one
 * with a unit: "512MB", "2GiB", "1.5G" (binary units for K/M/G/T with or without "i", case
 * ignored; B for bytes). `name`: the option or flag the size came from, which starts every message
 * (default "maxMemory", the library's option; the CLI gives "--max-memory" or the env variable).
 * @throws InputError `NAME: not a memory size: "…" (…)` for anything else (a sign, hex, "lots"), and
 *   `NAME: not a positive memory size: "…"` for a size under one byte ("0", "0.5", "1e-3", "0GiB")
 *   or beyond a finite number.
 */
export function parseBytes(s: string, name = 'maxMemory'): number {
  return parseSize(s, name).bytes;
}

/**
 * parseBytes' reading of `s`, and whether it had a unit (`unit` false: a number alone, bytes), for a caller with a
 * rule for bare numbers (the CLI's sizeFlag). Same grammar and errors as parseBytes.
 */
export function parseSize(s: string, name = 'maxMemory'): { bytes: number; unit: boolean } {
  const m = typeof s === 'string' ? /^\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?\s*$/i.exec(s) : null;
  if (!m) throw new InputError(`${name}: not a memory size: ${shown(s)} (expected e.g. 512MiB, 2GiB or a number of bytes)`, { option: name });
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  return { bytes: wholeBytes(Number(m[1]) * 1024 ** ({ b: 0, k: 1, m: 2, g: 3, t: 4 } as Record<string, number>)[unit]!, name, s), unit: m[2] !== undefined };
}

/**
 * A size in bytes → whole bytes, rounded down, as a budget: floored first, so 0.5 is 0 bytes, a budget
 * nothing fits in. `given` is what the caller wrote (shown in the message).
 * @throws InputError `NAME: not a positive memory size: …` under one byte or beyond a finite number.
 */
export function wholeBytes(n: number, name: string, given: unknown): number {
  const whole = Math.floor(n);
  if (!Number.isFinite(whole) || whole < 1) throw new InputError(`${name}: not a positive memory size: ${shown(given)}`, { option: name });
  return whole;
}
