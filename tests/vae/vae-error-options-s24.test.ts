// Every InputError of a VAE decode names its option or tensor in e.option, as generate() and forward() do (f1e190d):
// the latents (rank, channels, dims, length, a non-finite value) as 'latents', and planDecode's dtype, maxBinding,
// maxImages and bands. planDecode and checkDecodeLatents are pure (a config, no GPU); Vae.decode's own checks of the
// tensor run on the small SD VAE fixture, before any GPU work.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { thrown } from '../helpers/errors.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadVae } from '../../src/vae/vae.js';
import { checkDecodeLatents, planDecode } from '../../src/vae/decoder.js';
import { parseVaeConfig } from '../../src/vae/config.js';
import { InputError, type TensorData } from '../../src/model/model.js';
import type { DType } from '../../src/gpu/tensor.js';

const config = (name: string) => parseVaeConfig(JSON.parse(readFileSync(join(FIXTURES, name, 'vae', 'config.json'), 'utf8')), `${name}/vae/config.json`);

describe('planDecode and checkDecodeLatents: e.option on every refusal', () => {
  const kl = config('sd_vae_small');
  const wan = config('wan_vae_small');
  const cases: [string, () => unknown, string, RegExp][] = [
    ['a negative dim', () => planDecode(kl, [1, 4, -5, 3], 'f32', 1 << 30), 'latents', /^latents: every dim must be a positive integer/],
    ['a shape that is no list', () => planDecode(kl, 7 as never, 'f32', 1 << 30), 'latents', /^latents: every dim/],
    ['dtype f64', () => planDecode(kl, [1, 4, 5, 3], 'f64' as DType, 1 << 30), 'dtype', /^dtype: 'f32' or 'f16', got "f64"/],
    ['maxBinding 0', () => planDecode(kl, [1, 4, 5, 3], 'f32', 0), 'maxBinding', /^maxBinding: a positive integer/],
    ['maxImages 1.5', () => planDecode(kl, [1, 4, 5, 3], 'f32', 1 << 30, undefined, 1.5), 'maxImages', /^maxImages: a positive integer/],
    ['bands above the latent height', () => planDecode(kl, [1, 4, 5, 3], 'f32', 1 << 30, 6), 'bands', /^bands=6: must be an integer from 1 to the latent height 5/],
    ['rank 4 for AutoencoderKLWan', () => checkDecodeLatents(wan, [1, 16, 4, 4]), 'latents', /^latents: AutoencoderKLWan takes \[B, \d+, F, H, W\]/],
    ['rank 3 for AutoencoderKL', () => checkDecodeLatents(kl, [1, 4, 4]), 'latents', /^latents: AutoencoderKL takes/],
    ['the wrong channel count', () => planDecode(kl, [1, 3, 5, 3], 'f32', 1 << 30), 'latents', /^latents: 3 channels, the VAE config has 4 \(latent_channels\)/],
  ];
  for (const [what, f, option, message] of cases) {
    it(`${what}: option ${option}`, () => {
      const e = thrown(f, InputError);
      expect(e.constructor).toBe(InputError);
      expect(e.message).toMatch(message);
      expect(e.option).toBe(option);
    });
  }
});

describe.skipIf(!hasGpu)('Vae.decode: the tensor refusals name latents', () => {
  it('no tensor, a zero dim, the wrong length, a NaN: each an InputError with option latents', async () => {
    const vae = await loadVae(nodeFolder(join(FIXTURES, 'sd_vae_small', 'vae')), { gpu: gpu! });
    try {
      const bad: [TensorData, RegExp][] = [
        [{ data: [1, 2] as never, shape: [1, 2] }, /^latents: expected \{ data: Float32Array/],
        [{ data: new Float32Array(0), shape: [1, 4, 0, 3] }, /^latents: every dim must be a positive integer, found \[1,4,0,3\]/],
        [{ data: new Float32Array(59), shape: [1, 4, 5, 3] }, /^latents: 59 values for shape \[1,4,5,3\], which needs 60/],
        [{ data: new Float32Array(60).fill(Number.NaN), shape: [1, 4, 5, 3] }, /^latents: non-finite value NaN at flat index 0/],
      ];
      for (const [x, message] of bad) {
        const e = await vae.decode(x).then(() => new Error('decoded'), (err: Error) => err);
        expect(e).toBeInstanceOf(InputError);
        expect(e.message).toMatch(message);
        expect((e as InputError).option).toBe('latents');
      }
    } finally {
      vae.dispose();
    }
  });
});
