// What a UMT5 encode needs on the GPU, from the config and sizes alone, and whether the encoder
// stays resident or streams layer by layer (upload a layer's weights, run it, free them).
// Everything is stored in f32 (T5 activations overflow f16: transformers clamps them in f16,
// modeling_umt5.py UMT5Block), whatever the checkpoint's dtype. The token embedding never goes to
// the GPU: its rows are gathered on the host from the file (UMT5-XXL's table is 256384 × 4096,
// 4 GiB in f32, above any storage binding). The feed-forward is split along d_ff into chunks
// whose weights fit one storage binding (gelu(x·W0_cᵀ) ⊙ x·W1_cᵀ · Wo_cᵀ summed over chunks c
// is the same sum in another order).
import { fmtBytes, storageBytes } from '../gpu/tensor.js';
import { bindingLimit, largerBudget, LimitError, type MemoryLimits } from '../model/memory.js';
import { InputError, shown } from '../model/model.js';
import type { Umt5Config } from './config.js';
import { plural } from '../plural.js';

/** Weights above this stay on the host and stream, unless a budget (maxMemory) says otherwise. */
export const DEFAULT_RESIDENT_BYTES = 2 * 2 ** 30;

const granule = (bytes: number) => Math.max(16, Math.ceil(bytes / 16) * 16);
const f32 = (n: number) => granule(storageBytes(n, 'f32'));

/** Dispatches per encoder layer: 2 norms, 4 projections, attention, then per FFN chunk 2 GEMMs, the product and the down GEMM. */
const dispatchesPerLayer = (chunks: number) => 7 + 4 * chunks;

/** How the text encoder runs within the memory limits (planUmt5): resident or streamed layer by layer, FFN chunks, bytes. */
export interface Umt5Plan {
  /** 'resident': every layer's weights on the GPU; 'stream': one layer at a time. */
  mode: 'resident' | 'stream';
  /** Feed-forward chunks along d_ff (1 = unsplit); each chunk's width is dFf / ffnChunks. */
  ffnChunks: number;
  /** Bytes of one layer's weights (f32). */
  layerWeights: number;
  /** Bytes of all layers' weights + the final norm (f32), whether or not resident. */
  allWeights: number;
  /** Weight bytes on the GPU at the peak: all (resident) or one layer + the final norm (stream). */
  weights: number;
  /** Activations of one encode of [batch, seqLen]. */
  activations: number;
  /** Uniform buffers, the bucket/key-length table and the read-back staging buffer. */
  workspace: number;
  /** weights + activations + workspace. */
  peak: number;
  /** Bytes of the largest single binding (a weight chunk or an activation), which must fit the per-buffer limit. */
  largestTensor: number;
  /** That tensor and its shape, e.g. `activation ffn [2,512,5120]`. */
  largestName: string;
}

export interface Umt5FitOptions {
  /** Budget in bytes for everything the encoder puts on the GPU (maxMemory; the CLI's --max-memory). */
  maxMemory?: number;
  /** Force a mode; default: resident when all weights fit the budget (or DEFAULT_RESIDENT_BYTES). */
  stream?: boolean;
}

/** The smallest divisor n of dFf whose [dFf/n, dModel] f32 weight chunk fits one binding (weights only, so resident layers keep their chunks for every sequence length). */
export function ffnChunks(c: Umt5Config, perBuffer: number): number {
  for (let n = 1; n <= c.dFf; n++) if (c.dFf % n === 0 && f32((c.dFf / n) * c.dModel) <= perBuffer) return n;
  return c.dFf;
}

/**
 * Refuses sizes no encode has, before any arithmetic: a batch or length of 0, -5 or 1.5 made a
 * plan of a few bytes, and a NaN limit one with every FFN row its own chunk.
 * @throws InputError naming the argument.
 */
function checkUmt5Args(batch: unknown, seqLen: unknown, limits: MemoryLimits): void {
  if (!Number.isInteger(batch) || (batch as number) < 1) throw new InputError(`batch: the number of prompts, a positive integer, got ${shown(batch)}`);
  if (!Number.isInteger(seqLen) || (seqLen as number) < 1) throw new InputError(`seqLen: tokens per prompt (max_sequence_length), a positive integer, got ${shown(seqLen)}`);
  for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize'] as const) {
    const v: unknown = limits?.[k];
    if (!Number.isInteger(v) || (v as number) < 1) throw new InputError(`limits.${k}: bytes, a positive integer (the adapter's limit), got ${shown(v)}`);
  }
}

/**
 * The plan for encoding `batch` prompts of `seqLen` tokens within the adapter's `limits`: mode,
 * chunking and bytes (f32).
 * @param batch prompts per encode, a positive integer (2 with guidance: prompt and negative prompt).
 * @param seqLen tokens per prompt, a positive integer (max_sequence_length).
 * @throws InputError naming batch, seqLen or the limit that is not a positive integer.
 */
export function planUmt5(c: Umt5Config, batch: number, seqLen: number, limits: MemoryLimits, opts: Umt5FitOptions = {}): Umt5Plan {
  checkUmt5Args(batch, seqLen, limits);
  const perBuffer = bindingLimit(limits).bytes;
  const rows = batch * seqLen;
  const W = c.heads * c.dKv;
  const chunks = ffnChunks(c, perBuffer);
  const fc = c.dFf / chunks;
  const layer: [string, number][] = [
    ['layer_norm (×2)', 2 * f32(c.dModel)],
    ['q/k/v [inner, d_model]', 3 * f32(W * c.dModel)],
    ['o [d_model, inner]', f32(c.dModel * W)],
    ['relative_attention_bias', f32(c.numBuckets * c.heads)],
    ['ffn chunks', chunks * (2 * f32(fc * c.dModel) + f32(c.dModel * fc))],
  ];
  const layerWeights = layer.reduce((a, [, b]) => a + b, 0);
  const allWeights = c.layers * layerWeights + f32(c.dModel);
  const acts: [string, number][] = [
    ['x', f32(rows * c.dModel)],
    ['n', f32(rows * c.dModel)],
    ['q', f32(rows * W)],
    ['k', f32(rows * W)],
    ['v', f32(rows * W)],
    ['attn', f32(rows * W)],
    ['ffn_gate', f32(rows * fc)],
    ['ffn_linear', f32(rows * fc)],
    ['ffn_hidden', f32(rows * fc)],
    ['last_hidden_state', f32(rows * c.dModel)],
  ];
  const activations = acts.reduce((a, [, b]) => a + b, 0);
  const stream = opts.stream ?? allWeights > (opts.maxMemory ?? DEFAULT_RESIDENT_BYTES);
  const dispatches = (stream ? 1 : c.layers) * dispatchesPerLayer(chunks) + 1;
  // uniforms (≤ 16 scalars each), the dummy binding, key lengths + bucket table (u32), staging
  const workspace = dispatches * 64 + 16 + f32(batch + 2 * seqLen - 1) + f32(rows * c.dModel);
  const weights = stream ? layerWeights + f32(c.dModel) : allWeights;
  const tensors: [string, number][] = [
    [`weight q [${W},${c.dModel}]`, f32(W * c.dModel)],
    [`weight wi_0 chunk [${fc},${c.dModel}]`, f32(fc * c.dModel)],
    [`weight wo chunk [${c.dModel},${fc}]`, f32(c.dModel * fc)],
    [`activation q [${batch},${seqLen},${W}]`, f32(rows * W)],
    [`activation ffn [${batch},${seqLen},${fc}]`, f32(rows * fc)],
    [`activation x [${batch},${seqLen},${c.dModel}]`, f32(rows * c.dModel)],
  ];
  const [largestName, largestTensor] = tensors.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { mode: stream ? 'stream' : 'resident', ffnChunks: chunks, layerWeights, allWeights, weights, activations, workspace, peak: weights + activations + workspace, largestTensor, largestName };
}

/** How a resident encoder's budget refusal names the `stream` option (tessera encode puts its --stream flag in its place). */
export const LET_IT_STREAM = 'let it stream (stream: true, or stream unset: the default when the weights exceed the budget)';

/**
 * Throws LimitError when an encode of [batch, seqLen] cannot run: a tensor above the per-buffer
 * limit, or the peak (streamed: one layer) above the budget. Before anything is read or allocated.
 * @throws InputError as planUmt5 for a batch, seqLen or limit that is not a positive integer.
 */
export function checkUmt5Fits(c: Umt5Config, batch: number, seqLen: number, limits: MemoryLimits, opts: Umt5FitOptions = {}): Umt5Plan {
  const p = planUmt5(c, batch, seqLen, limits, opts);
  const perBuffer = bindingLimit(limits).bytes;
  const what = `the text encoder (${plural(c.layers, 'layer')}, d_model ${c.dModel}, ${p.mode === 'stream' ? 'streamed layer by layer' : 'resident'}) encoding ${batch}×${seqLen} tokens needs ${fmtBytes(p.peak)} on the GPU (weights ${fmtBytes(p.weights)} + activations ${fmtBytes(p.activations)} + workspace ${fmtBytes(p.workspace)})`;
  if (p.largestTensor > perBuffer) {
    throw new LimitError(`${what}; its largest tensor, ${p.largestName}, is ${fmtBytes(p.largestTensor)}, above the adapter's per-buffer limit of ${fmtBytes(perBuffer)}: use a shorter max_sequence_length or fewer prompts`);
  }
  if (opts.maxMemory !== undefined && p.peak > opts.maxMemory) {
    const hint = `${p.mode === 'resident' ? `${LET_IT_STREAM}, a shorter max_sequence_length` : 'a shorter max_sequence_length, fewer prompts'} or ${largerBudget(p.peak)}`;
    throw new LimitError(`${what}; above the budget of ${fmtBytes(opts.maxMemory)} (maxMemory): ${hint}`);
  }
  return p;
}
