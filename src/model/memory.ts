// What a forward pass needs on the GPU, from the config and input shape alone (before any
// allocation): weights, activations (the scratch tensors the model files name, tensor by tensor)
// and workspace (uniform buffers, position tables, the read-back staging buffer), and the
// largest single tensor, which must fit one storage binding. `checkRunFits` compares that with
// the adapter's limits (and an optional budget) and refuses with the numbers and a suggestion.
import { bytesPer, fmtBytes, storageBytes, type DType } from '../gpu/tensor.js';
import type { ModelConfig } from './config.js';
import { expectedKeys, qkvGroups } from './weights.js';

/** A run that cannot fit the device (or the budget): refused before anything is allocated. */
export class LimitError extends Error {
  override name = 'LimitError';
}

export interface MemoryEstimate {
  weights: number;
  activations: number;
  /** Uniform buffers of every dispatch, RoPE/position tables, read-back staging. */
  workspace: number;
  largestTensor: number;
  largestName: string;
  total: number;
}

/** Bytes the Allocator reserves for a buffer of `bytes` (16-byte granules, 16 at least). */
const granule = (bytes: number) => Math.max(16, Math.ceil(bytes / 16) * 16);
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Bytes of the weights alone (as the Allocator stores them), and the largest weight tensor. */
export function estimateWeights(c: ModelConfig, dtype: DType): { bytes: number; largest: number; largestName: string } {
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

export function estimateMemory(c: ModelConfig, latent: number[], text: number[] | undefined, dtype: DType): MemoryEstimate {
  const w = estimateWeights(c, dtype);
  const B = latent[0]!;
  const [pt, ph, pw] = c.family === 'wan' ? c.patch : [1, c.patch, c.patch];
  const [F, H, W] = (latent.length === 5 ? latent.slice(2) : [1, ...latent.slice(2)]) as [number, number, number];
  const grid = [Math.ceil(F / pt), Math.ceil(H / ph), Math.ceil(W / pw)] as const;
  const S = grid[1] * grid[2]; // tokens per frame
  const N = grid[0] * S; // tokens per batch item
  const L = text?.[1] ?? 0;
  const D = c.dim;
  const K = c.inChannels * pt * ph * pw;
  const Kout = c.outChannels * pt * ph * pw;
  const sample = B * c.outChannels * F * H * W;

  // [name, shape] of every activation tensor the model file allocates (src/model/{wan,dit,latte,block}.ts)
  const acts: [string, number[]][] = [
    ['hidden_states', latent],
    ['patches', [B, N, K]],
    ['x', [B, N, D]],
    ['mod', [B, 6 * D]],
    ['head_mod', [B, 2 * D]],
    ['proj_out', [B, N, Kout]],
    ['sample', [B, c.outChannels, F, H, W]],
  ];
  const f32: [string, number[]][] = [['timestep', [B]]]; // always f32 (or u32) whatever the dtype
  // self-attention q|k|v: three planes of one buffer, each padded to the largest offset alignment
  // WebGPU allows (256 bytes; model/qkv.ts), or three buffers where the weights are not fused or
  // the planes together exceed a binding; counted as three entries either way, so the largest
  // tensor that must fit one binding is a plane
  const align = 256 / bytesPer(dtype);
  const fusedQkv = qkvGroups(expectedKeys(c)).length > 0;
  const qkvActs: [string, number[]][] = ['q', 'k', 'v'].map((n) => (fusedQkv ? [`qkv (${n} plane)`, [Math.ceil((B * N * D) / align) * align]] : [`${n}_proj`, [B * N * D]]));
  let dispatches: number;
  if (c.family === 'wan') {
    acts.push(['encoder_hidden_states', [B, L, c.textDim]], ['t_freq', [B, c.freqDim]], ['t_hidden', [B, D]], ['temb', [B, D]], ['temb_silu', [B, D]], ['timestep_proj', [B, 6 * D]]);
    acts.push(['text_hidden', [B, L, D]], ['context', [B, L, D]], ['k_text', [B, L, D]]);
    // every block's cross-attention K and V, kept for the whole generation (block.ts crossAttentionKV)
    for (let i = 0; i < c.layers; i++) acts.push([`blocks.${i}.attn2.k`, [B, L, D]], [`blocks.${i}.attn2.v`, [B, L, D]]);
    for (const n of ['n', 'q', 'q_norm', 'k_norm', 'attn']) acts.push([n, [B, N, D]]);
    acts.push(...qkvActs);
    acts.push(['ffn_hidden', [B, N, c.ffnDim]]);
    f32.push(['rope_table', [N, c.headDim]]);
    dispatches = 10 + 22 * c.layers;
  } else if (c.family === 'dit') {
    acts.push(['x0', [B, N, D]], ['pos_embed', [N, D]], ['t_freq', [B, 256]]);
    for (const n of ['t_hidden', 'temb', 'class_emb', 'cond', 'cond0', 'cond_silu']) acts.push([n, [B, D]]);
    for (const n of ['n', 'attn']) acts.push([n, [B, N, D]]);
    acts.push(...qkvActs);
    acts.push(['ffn_hidden', [B, N, c.ffnDim]]);
    f32.push(['class_labels', [B]]);
    dispatches = 8 + 17 * c.layers;
  } else {
    acts.push(['encoder_hidden_states', [B, L, c.captionChannels]], ['x0', [B, N, D]], ['pos_embed', [S, D]], ['t_freq', [B, 256]]);
    for (const n of ['t_hidden', 'embedded_timestep', 'emb_silu']) acts.push([n, [B, D]]);
    acts.push(['t6', [B, 6 * D]], ['cap_hidden', [B, L, D]], ['caption', [B, L, D]]);
    for (let i = 0; i < c.layers; i++) acts.push([`transformer_blocks.${i}.attn2.k`, [B, L, D]], [`transformer_blocks.${i}.attn2.v`, [B, L, D]]);
    for (const n of ['n', 'q', 'attn', 'x_temporal']) acts.push([n, [B, N, D]]);
    acts.push(...qkvActs);
    acts.push(['ffn_hidden', [B, N, c.ffnDim]]);
    if (F > 1) acts.push(['temp_pos_embed', [F, D]], ['x_temporal_pos', [B, N, D]]);
    dispatches = 12 + 28 * c.layers;
  }
  let activations = 0;
  let largest = w.largest;
  let largestName = w.largestName;
  const add = (name: string, shape: number[], dt: DType) => {
    const b = granule(storageBytes(prod(shape), dt));
    activations += b;
    if (b > largest) [largest, largestName] = [b, `${name} [${shape.join(',')}]`];
  };
  for (const [n, s] of acts) add(n, s, dtype);
  // uniform buffers (≤ 16 scalars each) and the dummy binding, plus the read-back staging buffer
  let workspace = dispatches * 64 + 16 + Math.ceil(storageBytes(sample, dtype) / 4) * 4;
  for (const [n, s] of f32) {
    const b = granule(storageBytes(prod(s), 'f32'));
    workspace += b;
    if (b > largest) [largest, largestName] = [b, `${n} [${s.join(',')}]`];
  }
  return { weights: w.bytes, activations, workspace, largestTensor: largest, largestName, total: w.bytes + activations + workspace };
}

/** The adapter limits the check needs (a `Gpu`'s `limits` has them). */
export interface MemoryLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface FitOptions {
  /** Budget for everything on the GPU, in bytes (--max-memory / TESSERA_MAX_GPU_MEMORY). */
  maxMemory?: number;
  /** Bytes already held (e.g. the weights of a loaded model): replaces the weight estimate. */
  heldBytes?: number;
  /** Whether the adapter can store f16 (for the suggestion). */
  f16?: boolean;
}

/**
 * Throws LimitError when a forward pass over `latent` (and `text`) cannot fit: its largest
 * tensor above maxStorageBufferBindingSize / maxBufferSize, or the total above the budget.
 * Needs the config and shapes only — call it before loading or allocating anything.
 */
export function checkRunFits(c: ModelConfig, latent: number[], text: number[] | undefined, dtype: DType, limits: MemoryLimits, opts: FitOptions = {}): MemoryEstimate {
  const { est, total, perBuffer, tooBig, overBudget } = measure(c, latent, text, dtype, limits, opts);
  const limitName = limits.maxBufferSize < limits.maxStorageBufferBindingSize ? 'maxBufferSize' : 'maxStorageBufferBindingSize';
  if (!tooBig && !overBudget) return est;
  const what =
    `this run (latents [${latent.join(',')}]${text ? `, text [${text.join(',')}]` : ''}, ${dtype}) needs ${fmtBytes(total)} on the GPU ` +
    `(${opts.heldBytes !== undefined ? `held ${fmtBytes(opts.heldBytes)}` : `weights ${fmtBytes(est.weights)}`} + activations ${fmtBytes(est.activations)} + workspace ${fmtBytes(est.workspace)})`;
  const why = tooBig
    ? `its largest tensor, ${est.largestName}, is ${fmtBytes(est.largestTensor)}, above the adapter's ${limitName} of ${fmtBytes(perBuffer)}`
    : `above the budget of ${fmtBytes(opts.maxMemory!)} (--max-memory / TESSERA_MAX_GPU_MEMORY)`;
  throw new LimitError(`${what}; ${why}: ${suggest(c, latent, text, dtype, limits, opts, est.largestName.startsWith('weight '))}`);
}

function measure(c: ModelConfig, latent: number[], text: number[] | undefined, dtype: DType, limits: MemoryLimits, opts: FitOptions) {
  const est = estimateMemory(c, latent, text, dtype);
  const total = opts.heldBytes !== undefined ? opts.heldBytes + est.activations + est.workspace : est.total;
  const perBuffer = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const tooBig = est.largestTensor > perBuffer;
  const overBudget = opts.maxMemory !== undefined && total > opts.maxMemory;
  return { est, total, perBuffer, tooBig, overBudget };
}

/** Concrete ways out: how many frames (or tokens) would fit, a smaller resolution/batch, f16. */
function suggest(c: ModelConfig, latent: number[], text: number[] | undefined, dtype: DType, limits: MemoryLimits, opts: FitOptions, weightBound: boolean): string {
  const out: string[] = [];
  const fits = (l: number[]) => {
    const m = measure(c, l, text, dtype, limits, opts);
    return !m.tooBig && !m.overBudget;
  };
  /** The largest n in [1, hi] with ok(n) (ok is monotone), or 0. */
  const most = (hi: number, ok: (n: number) => boolean) => {
    let best = 0;
    for (let lo = 1; lo <= hi; ) {
      const mid = Math.floor((lo + hi) / 2);
      if (ok(mid)) [best, lo] = [mid, mid + 1];
      else hi = mid - 1;
    }
    return best;
  };
  if (!weightBound) {
    const [pt, ph, pw] = c.family === 'wan' ? c.patch : [1, c.patch, c.patch];
    const video = latent.length === 5;
    const F = video ? latent[2]! : 1;
    const [H, W] = latent.slice(-2) as [number, number];
    const tokens = (F / pt) * (H / ph) * (W / pw);
    // tokens drive every activation: the most that fit, as one row of patches
    const maxTokens = most(tokens, (k) => fits(video ? [latent[0]!, latent[1]!, pt, ph, pw * k] : [latent[0]!, latent[1]!, ph, pw * k]));
    const frames = video && F > pt ? most(Math.floor(F / pt), (n) => fits([latent[0]!, latent[1]!, n * pt, H, W])) * pt : 0;
    if (frames > 0) out.push(`use fewer frames (${frames} latent frame${frames === 1 ? ' fits' : 's fit'} at this resolution)`);
    else if (maxTokens > 0) out.push(`use a smaller resolution${video ? ' or fewer frames' : ''} (about ${maxTokens} of these ${tokens} tokens per item fit)`);
    else out.push(`use a smaller resolution${video ? ' or fewer frames' : ''}`);
    if (frames > 0) out.push('a smaller resolution');
    if (latent[0]! > 1) out.push('a smaller batch');
  }
  if (dtype === 'f32' && opts.f16 !== false) out.push('--dtype f16 (half the bytes)');
  if (weightBound || out.length === 0) out.push(opts.maxMemory !== undefined ? 'a larger --max-memory budget or a smaller model' : 'a smaller model');
  return out.length > 1 ? `${out.slice(0, -1).join(', ')} or ${out[out.length - 1]}` : out[0]!;
}

/** Refuses a model whose weights alone exceed the budget or a buffer limit, before uploading. */
export function checkWeightsFit(c: ModelConfig, dtype: DType, limits: MemoryLimits, opts: FitOptions = {}): void {
  const w = estimateWeights(c, dtype);
  const perBuffer = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  if (w.largest > perBuffer) {
    throw new LimitError(`the model's largest weight, ${w.largestName}, is ${fmtBytes(w.largest)} in ${dtype}, above the adapter's per-buffer limit of ${fmtBytes(perBuffer)}${dtype === 'f32' && opts.f16 !== false ? ': try --dtype f16' : ''}`);
  }
  if (opts.maxMemory !== undefined && w.bytes > opts.maxMemory) {
    throw new LimitError(
      `the model's weights need ${fmtBytes(w.bytes)} in ${dtype} (${c.layers} layers, dim ${c.dim}), above the budget of ${fmtBytes(opts.maxMemory)} (--max-memory / TESSERA_MAX_GPU_MEMORY)` +
        `${dtype === 'f32' && opts.f16 !== false ? ': try --dtype f16 (half the bytes), or a larger budget' : ': a larger budget or a smaller model'}`,
    );
  }
}

/** "2GiB", "512MB", "1.5G", "1e9" → bytes (binary units for K/M/G/T with or without "i"). */
export function parseBytes(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?\s*$/i.exec(s);
  if (!m) throw new LimitError(`not a memory size: "${s}" (expected e.g. 512MiB, 2GiB or a number of bytes)`);
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const n = Number(m[1]) * 1024 ** ({ b: 0, k: 1, m: 2, g: 3, t: 4 } as Record<string, number>)[unit]!;
  if (!Number.isFinite(n) || n <= 0) throw new LimitError(`not a positive memory size: "${s}"`);
  return Math.floor(n);
}
