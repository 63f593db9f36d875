// The size a refusal names, as the caller gave it: one output frame is "1 frame", not "1 frames".
import { describe, expect, it } from 'vitest';
import { checkRopeSize } from '../../src/pipeline/pipeline.js';
import { parseConfig } from '../../src/model/config.js';
import { getPreset } from '../../src/model/presets.js';
import { thrown } from '../helpers/errors.js';
import { InputError } from '../../src/model/model.js';

const c = parseConfig(getPreset('wan-tiny').config);
const scale = { spatial: 8, temporal: 4 };
const asked = { latents: false, items: 'prompts' };
// rope_max_seq_len 1024, patch 1×2×2, VAE ×8: latent width 4100 → 2050 patches, beyond 1024
const refusal = (F: number) => thrown(() => checkRopeSize(c, scale, [1, 16, F, 4, 4100], asked), InputError).message;

describe('refusals name the output frames with their plural', () => {
  it('1 latent frame: "× 1 frame"', () => {
    expect(refusal(1).startsWith('height×width 32×32800 × 1 frame (latents [1,16,1,4,4100]) gives a grid of 1×2×2050')).toBe(true);
  });
  it('3 latent frames: "× 9 frames"', () => {
    expect(refusal(3).startsWith('height×width 32×32800 × 9 frames (latents [1,16,3,4,4100])')).toBe(true);
  });
});
