// A VAE decoder with seeded RANDOM weights for the page (no checkpoint is served with it): a
// small AutoencoderKLWan (Wan presets) or AutoencoderKL (DiT) whose latent channels match the
// preset's transformer, built as an in-memory diffusers folder and loaded by loadVae like any
// other. Real kernels, real decode; the picture is structured noise, not a meaningful video.
import { loadVae, mapFolder, parseVaeConfig, vaeDecoderKeys, writeSafetensors, type Gpu, type Vae } from '../../src/index.browser.js'; // 'tessera' in your project

/** diffusers config.json of the random VAE for a transformer with `latentChannels` (Wan: z_dim). */
export function randomVaeConfig(family: 'wan' | 'dit' | 'latte', latentChannels: number): Record<string, unknown> {
  if (family === 'wan') {
    return {
      _class_name: 'AutoencoderKLWan', base_dim: 8, z_dim: latentChannels, dim_mult: [1, 2, 2, 2], num_res_blocks: 1, attn_scales: [],
      temperal_downsample: [false, true, true], latents_mean: new Array(latentChannels).fill(0), latents_std: new Array(latentChannels).fill(1),
    };
  }
  return {
    _class_name: 'AutoencoderKL', latent_channels: latentChannels, block_out_channels: [16, 16, 16, 16], layers_per_block: 1, norm_num_groups: 8,
    up_block_types: new Array(4).fill('UpDecoderBlock2D'), scaling_factor: 0.18215, force_upcast: true,
  };
}

/** Seeded uniform noise in [-1, 1) (mulberry32): the VAE's weights and the page's stand-in inputs. */
export function noise(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/**
 * Loads a random-weight VAE on `gpu`: weights uniform with variance 1/fan_in (so activations stay
 * O(1) through the stack, as PyTorch's default conv init roughly does), norm scales 1, biases small.
 */
export async function loadRandomVae(gpu: Gpu, family: 'wan' | 'dit' | 'latte', latentChannels: number, seed: number): Promise<Vae> {
  const raw = randomVaeConfig(family, latentChannels);
  const keys = vaeDecoderKeys(parseVaeConfig(raw));
  let k = 0;
  const tensors = [...keys].map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length > 1 ? n / shape[0]! : 1;
    const isScale = /(gamma|norm\w*\.weight)$/.test(name) && shape.length <= 4 && shape.slice(1).every((d) => d === 1);
    const data = isScale ? new Float32Array(n).fill(1) : noise(n, seed * 7919 + k++).map((v) => (shape.length > 1 ? v * Math.sqrt(3 / fanIn) : v * 0.05));
    return { name, shape, dtype: 'F32' as const, data };
  });
  const files = new Map<string, Uint8Array>([
    ['config.json', new TextEncoder().encode(JSON.stringify(raw))],
    ['diffusion_pytorch_model.safetensors', writeSafetensors(tensors)],
  ]);
  return loadVae(mapFolder(`random-${String(raw['_class_name'])}`, files), { gpu });
}
