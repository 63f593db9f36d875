// Named architectures at their real sizes (random weights, for benchmarks and the demo), and a
// loader that puts seeded random weights straight onto the GPU without any file.
import type { Gpu } from '../gpu/device.js';
import { Allocator, type DType } from '../gpu/tensor.js';
import { randn } from '../random.js';
import { parseConfig, type ModelConfig } from './config.js';
import { checkDtypeOnAdapter, checkLoadOptions, DiffusionModel, InputError, shown, withLoadGpu } from './model.js';
import { checkWeightsFit } from './memory.js';
import { expectedKeys, uploadWeights } from './weights.js';

/** One architecture of PRESETS. */
export interface Preset {
  /** diffusers config.json contents. */
  config: Record<string, unknown>;
  /** A latent size that finishes in reasonable time on a CPU-only WebGPU (lavapipe). */
  latent: { frames: number; height: number; width: number };
  /** Text tokens for Wan/Latte. */
  textLen?: number;
  about: string;
}

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
    config: { _class_name: 'WanTransformer3DModel', patch_size: [1, 2, 2], num_attention_heads: 12, attention_head_dim: 128, in_channels: 16, out_channels: 16, text_dim: 4096, freq_dim: 256, ffn_dim: 8960, num_layers: 30, cross_attn_norm: true, qk_norm: 'rms_norm_across_heads', eps: 1e-6, rope_max_seq_len: 1024 },
    latent: { frames: 2, height: 16, width: 16 },
    textLen: 32,
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

/** The preset `name`. @throws InputError for an unknown name, listing the presets. */
export function getPreset(name: string): Preset {
  // own keys only: 'constructor' or 'toString' is no preset (a plain object's lookup would find Object's)
  if (typeof name !== 'string' || !Object.hasOwn(PRESETS, name)) throw new InputError(`unknown preset ${shown(name)}; presets: ${presetNames().join(', ')}`);
  return PRESETS[name]!;
}

/** Scale of a seeded random tensor so activations stay O(1) through the network. */
function initScale(key: string, shape: number[]): { scale: number; offset: number } {
  if (key.endsWith('norm_q.weight') || key.endsWith('norm_k.weight') || key.endsWith('norm2.weight')) return { scale: 0.1, offset: 1 };
  if (key.endsWith('.bias')) return { scale: 0.02, offset: 0 };
  if (key.includes('scale_shift_table') || key.includes('embedding_table')) return { scale: 0.1, offset: 0 };
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  return { scale: 1 / Math.sqrt(fanIn), offset: 0 };
}

/**
 * A model with seeded random weights at a preset's (or any config's) real size, uploaded one
 * tensor at a time — the same path as loading a folder, minus the file.
 */
export async function loadRandomModel(config: Record<string, unknown>, opts: { gpu?: Gpu; dtype?: DType; seed?: number; name?: string; maxMemory?: number | string } = {}): Promise<DiffusionModel> {
  const { maxMemory } = checkLoadOptions(opts, 'loadRandomModel', ['gpu', 'dtype', 'seed', 'name', 'maxMemory']); // before any GPU work
  const cfg: ModelConfig = parseConfig(config);
  const want = expectedKeys(cfg);
  const dtype = opts.dtype ?? 'f32';
  return withLoadGpu(opts.gpu, async (gpu, owned) => {
    checkDtypeOnAdapter(gpu, dtype);
    checkWeightsFit(cfg, dtype, gpu.limits, { maxMemory, f16: gpu.f16 });
    const alloc = new Allocator(gpu);
    let seed = opts.seed ?? 0;
    try {
      const weights = await uploadWeights(
        alloc,
        want,
        async (key) => {
          const shape = want.get(key)!;
          const n = shape.reduce((a, b) => a * b, 1);
          const { scale, offset } = initScale(key, shape);
          const d = randn(n, ++seed * 7919, scale);
          if (offset) for (let i = 0; i < n; i++) d[i]! += offset;
          return d;
        },
        dtype,
      );
      const model = new DiffusionModel(opts.name ?? `random ${cfg.family}`, cfg, gpu, weights, alloc, owned);
      model.maxMemory = maxMemory;
      return model;
    } catch (e) {
      alloc.destroyAll();
      throw e;
    }
  });
}
