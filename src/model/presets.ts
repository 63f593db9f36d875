// Named architectures at their real sizes (random weights, for benchmarks and the demo), and a
// loader that makes seeded random weights on the GPU itself: no file, and no host memory or time
// per weight (wan-1.3b's 1.42e9 values took minutes to generate on the host).
import type { Gpu } from '../gpu/device.js';
import { Plan } from '../gpu/plan.js';
import { Allocator, bytesPer, type DType, type Tensor } from '../gpu/tensor.js';
import { fillRandom } from '../ops/fill-random.js';
import { parseConfig, type ModelConfig } from './config.js';
import { checkDtypeOnAdapter, checkLoadOptions, DiffusionModel, InputError, shown, withLoadGpu } from './model.js';
import { loadGpuOf } from './device-option.js';
import { checkWeightsFit } from './memory.js';
import { closestNames, meantText } from '../closest-name.js';
import { allocateWeights, expectedKeys, type Weights } from './weights.js';

/** One architecture of PRESETS. */
export interface Preset {
  /** diffusers config.json contents. */
  config: Record<string, unknown>;
  /** A latent size that finishes in reasonable time on a CPU-only WebGPU (lavapipe). */
  latent: { frames: number; height: number; width: number };
  /** Text tokens for Wan/Latte. */
  textLen?: number;
  /**
   * Where `latent` is a small test size rather than the size the released model generates at: that size, as the
   * latent flags that give it (`--frames F --height H --width W --text-len L`: latent frames/pixels/text tokens)
   * and in words (output pixels × frames), so a command planning or timing the test size can say how to get the
   * real one. Absent for the DiTs (their `latent` is the released 256² size) and the tiny presets.
   */
  released?: { frames: number; height: number; width: number; textLen: number; what: string };
  /** One line for help and listings: the architecture, its sizes and what the latent stands for. */
  about: string;
}

/** What Wan2.1-T2V-1.3B's and -14B's transformer/config.json share (they differ in heads, FFN and layers). */
const WAN21_T2V = { _class_name: 'WanTransformer3DModel', patch_size: [1, 2, 2], attention_head_dim: 128, in_channels: 16, out_channels: 16, text_dim: 4096, freq_dim: 256, cross_attn_norm: true, qk_norm: 'rms_norm_across_heads', eps: 1e-6, rope_max_seq_len: 1024 };

/** Released or small architectures for random-weight runs (`tessera demo --preset`, `bench model --preset`, loadRandomModel): diffusers config.json contents and a latent size. */
export const PRESETS: Record<string, Preset> = {
  'dit-s-2': {
    about: 'DiT-S/2 (12 layers, 384 wide, 6 heads × 64), 256² image latents',
    config: { _class_name: 'DiTTransformer2DModel', num_attention_heads: 6, attention_head_dim: 64, in_channels: 4, out_channels: 8, num_layers: 12, patch_size: 2, sample_size: 32, num_embeds_ada_norm: 1000, norm_eps: 1e-5, activation_fn: 'gelu-approximate', norm_type: 'ada_norm_zero', norm_elementwise_affine: false, attention_bias: true },
    latent: { frames: 1, height: 32, width: 32 },
  },
  'dit-xl-2': {
    about: 'DiT-XL/2 (28 layers, 1152 wide, 16 heads × 72), 256² image latents',
    config: { _class_name: 'DiTTransformer2DModel', num_attention_heads: 16, attention_head_dim: 72, in_channels: 4, out_channels: 8, num_layers: 28, patch_size: 2, sample_size: 32, num_embeds_ada_norm: 1000, norm_eps: 1e-5, activation_fn: 'gelu-approximate', norm_type: 'ada_norm_zero', norm_elementwise_affine: false, attention_bias: true },
    latent: { frames: 1, height: 32, width: 32 },
  },
  'wan-1.3b': {
    about: 'Wan2.1-T2V-1.3B (30 layers, 1536 wide, 12 heads × 128, FFN 8960), a short low-resolution clip',
    config: { ...WAN21_T2V, num_attention_heads: 12, ffn_dim: 8960, num_layers: 30 },
    latent: { frames: 2, height: 16, width: 16 },
    textLen: 32,
    released: { frames: 21, height: 60, width: 104, textLen: 512, what: '480p (832×480) × 81 frames' },
  },
  'wan-14b': {
    about: 'Wan2.1-T2V-14B (40 layers, 5120 wide, 40 heads × 128, FFN 13824): 53 GiB of weights in f32, 27 GiB in f16, for large GPUs; a short low-resolution clip',
    config: { ...WAN21_T2V, num_attention_heads: 40, ffn_dim: 13824, num_layers: 40 },
    latent: { frames: 2, height: 16, width: 16 },
    textLen: 32,
    released: { frames: 21, height: 90, width: 160, textLen: 512, what: '720p (1280×720) × 81 frames' },
  },
  'latte-1': {
    about: 'Latte-1 (28 spatial + 28 temporal blocks, 1152 wide, 16 heads × 72), 16 frames; 512² is a 64×64 latent',
    config: { _class_name: 'LatteTransformer3DModel', activation_fn: 'gelu-approximate', attention_bias: true, attention_head_dim: 72, caption_channels: 4096, cross_attention_dim: 1152, in_channels: 4, norm_elementwise_affine: false, norm_eps: 1e-6, norm_type: 'ada_norm_single', num_attention_heads: 16, num_embeds_ada_norm: 1000, num_layers: 28, out_channels: 8, patch_size: 2, sample_size: 64, video_length: 16 },
    latent: { frames: 16, height: 16, width: 16 },
    textLen: 120,
    released: { frames: 16, height: 64, width: 64, textLen: 120, what: '512² × 16 frames' },
  },
  'wan-tiny': {
    about: 'a tiny Wan-architecture model (2 layers, 96 wide, 4 heads × 24) for a one-minute demo on a CPU',
    config: { _class_name: 'WanTransformer3DModel', patch_size: [1, 2, 2], num_attention_heads: 4, attention_head_dim: 24, in_channels: 16, out_channels: 16, text_dim: 64, freq_dim: 64, ffn_dim: 256, num_layers: 2, cross_attn_norm: true, qk_norm: 'rms_norm_across_heads', eps: 1e-6, rope_max_seq_len: 1024 },
    latent: { frames: 8, height: 24, width: 32 },
    textLen: 8,
  },
  'dit-tiny': {
    about: 'a tiny DiT (2 layers, 64 wide, 4 heads × 16) for quick checks',
    config: { _class_name: 'DiTTransformer2DModel', num_attention_heads: 4, attention_head_dim: 16, in_channels: 4, out_channels: 8, num_layers: 2, patch_size: 2, sample_size: 16, num_embeds_ada_norm: 10, norm_eps: 1e-5, activation_fn: 'gelu-approximate', norm_type: 'ada_norm_zero', norm_elementwise_affine: false, attention_bias: true },
    latent: { frames: 1, height: 16, width: 16 },
  },
};

/** The names of PRESETS. */
export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

/** The preset `name`. @throws InputError for an unknown name, listing the presets (with "did you mean" for a near spelling, wan-tiyn → wan-tiny, or every preset holding its words: wan → one of wan-1.3b, wan-14b, wan-tiny). */
export function getPreset(name: string): Preset {
  // own keys only: 'constructor' or 'toString' is no preset (a plain object's lookup would find Object's)
  if (typeof name !== 'string' || !Object.hasOwn(PRESETS, name)) {
    const near = typeof name === 'string' ? meantText(closestNames(name, presetNames())) : undefined;
    const meant = near === undefined ? '' : `did you mean ${near}? `;
    throw new InputError(`unknown preset ${shown(name)}; ${meant}presets: ${presetNames().join(', ')}`);
  }
  return PRESETS[name]!;
}

/** Standard deviation and mean of a seeded random tensor, so activations stay O(1) through the network. */
export function initScale(key: string, shape: number[]): { scale: number; offset: number } {
  if (key.endsWith('norm_q.weight') || key.endsWith('norm_k.weight') || key.endsWith('norm2.weight')) return { scale: 0.1, offset: 1 };
  if (key.endsWith('.bias')) return { scale: 0.02, offset: 0 };
  if (key.includes('scale_shift_table') || key.includes('embedding_table')) return { scale: 0.1, offset: 0 };
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  return { scale: 1 / Math.sqrt(fanIn), offset: 0 };
}

/**
 * Records one fill_random dispatch per weight of `weights` (kernels/fill_random.wgsl): weight
 * number i (0-based, in `want` order) is stream i of `seed`, uniform with the standard deviation
 * and mean of initScale. A q/k/v part of a fused projection is written through its fused buffer
 * (the part's own byte offset need not meet the adapter's binding alignment).
 */
export function recordRandomWeights(plan: Plan, weights: Weights, want: Map<string, number[]>, seed: number): void {
  const parent = new Map<GPUBuffer, Tensor>();
  for (const f of weights.fused.values()) for (const t of [f.w, f.b]) if (t) parent.set(t.buffer, t);
  let stream = 0;
  for (const [key, shape] of want) {
    const t = weights.get(key);
    const whole = parent.get(t.buffer) ?? t;
    const start = ((t.offset ?? 0) - (whole.offset ?? 0)) / bytesPer(t.dtype);
    fillRandom(plan, { out: whole, start, n: t.size, seed, stream: stream++, ...initScale(key, shape), layer: key });
  }
}

/**
 * A model with seeded random weights at a preset's (or any config's) real size, made on the GPU:
 * every weight is filled by kernels/fill_random.wgsl with values uniform on offset ± √3·scale
 * (standard deviation `scale`, mean `offset`: initScale — 1/√fan-in for a matrix, 0.02 for a bias,
 * 0.1 for scale_shift_table and embedding tables, mean 1 with 0.1 for the norm_q/norm_k/norm2 weights), from a
 * counter-based hash of (seed, weight index, element index). The same seed gives the same bits on any adapter, up
 * to the rounding of one f32 multiply-add (and of f16 storage); src/ops/fill-random.ts randomValues computes them
 * on the host. `config`: diffusers config.json contents (a Preset's `config`); `opts.seed`: any safe integer
 * (default 0); `opts.name`: the model's name in messages (default `random <family>`); the other options as loadModel's.
 * @throws InputError for bad options (a seed that is not a safe integer among them), ConfigError for a config
 *   tessera cannot run, DtypeUnsupportedError (an InputError) for 'f16' on an adapter without shader-f16,
 *   LimitError when the weights do not fit (before any is made), GpuUnavailableError (no `gpu` given and no
 *   adapter), GpuError (the fill dispatches fail: device lost, out of memory).
 */
export async function loadRandomModel(config: Record<string, unknown>, opts: { gpu?: Gpu; device?: GPUDevice; dtype?: DType; seed?: number; name?: string; maxMemory?: number | string } = {}): Promise<DiffusionModel> {
  const { maxMemory } = checkLoadOptions(opts, 'loadRandomModel', ['gpu', 'device', 'dtype', 'seed', 'name', 'maxMemory']); // before any GPU work
  if (opts.seed !== undefined && !Number.isSafeInteger(opts.seed)) throw new InputError(`seed: an integer (safe-integer range), got ${shown(opts.seed)}`, { option: 'seed' });
  const cfg: ModelConfig = parseConfig(config);
  const want = expectedKeys(cfg);
  const dtype = opts.dtype ?? 'f32';
  return withLoadGpu(loadGpuOf(opts), async (gpu, owned) => {
    checkDtypeOnAdapter(gpu, dtype);
    checkWeightsFit(cfg, dtype, gpu.limits, { maxMemory, f16: gpu.f16 });
    const alloc = new Allocator(gpu);
    const scratch = new Allocator(gpu); // the fill dispatches' uniforms, freed once they ran
    try {
      const weights = allocateWeights(alloc, want, dtype);
      const plan = new Plan(gpu, scratch);
      recordRandomWeights(plan, weights, want, opts.seed ?? 0);
      await plan.run('random weights');
      const model = new DiffusionModel(opts.name ?? `random ${cfg.family}`, cfg, gpu, weights, alloc, owned);
      model.maxMemory = maxMemory;
      return model;
    } catch (e) {
      alloc.destroyAll();
      throw e;
    } finally {
      scratch.destroyAll();
    }
  });
}
