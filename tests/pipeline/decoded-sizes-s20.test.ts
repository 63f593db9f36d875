// decodedSizes: what latents decode to through a pipeline's VAE, each size with its arithmetic — the one source of
// the "(F − 1) × VAE temporal factor T + 1" words that Pipeline.generate's latents check and generate --pipeline's
// --frames/--height/--width check both give.
import { describe, expect, it } from 'vitest';
import { decodedSizes } from '../../src/pipeline/pipeline.js';

const wanVae = { spatial: 8, temporal: 4 };

describe('decodedSizes', () => {
  it('Wan: (F − 1) × temporal + 1 frames, rows and columns × spatial', () => {
    expect(decodedSizes('wan', wanVae, [1, 16, 3, 4, 6])).toEqual({
      height: { value: 32, why: '4 latent rows × VAE factor 8' },
      width: { value: 48, why: '6 latent columns × VAE factor 8' },
      frames: { value: 9, why: '3 latent frames: (3 − 1) × VAE temporal factor 4 + 1' },
    });
    expect(decodedSizes('wan', wanVae, [1, 16, 1, 4, 4]).frames).toEqual({ value: 1, why: '1 latent frame: (1 − 1) × VAE temporal factor 4 + 1' });
  });
  it('Latte: one frame each; DiT: no frames', () => {
    expect(decodedSizes('latte', { spatial: 8, temporal: 1 }, [1, 4, 2, 4, 4]).frames).toEqual({ value: 2, why: '2 latent frames' });
    const dit = decodedSizes('dit', { spatial: 8, temporal: 1 }, [1, 4, 4, 2]);
    expect(dit.frames).toBeUndefined();
    expect(dit.width).toEqual({ value: 16, why: '2 latent columns × VAE factor 8' });
  });
});
