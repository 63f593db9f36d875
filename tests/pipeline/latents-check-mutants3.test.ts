// Mutation tests (round 3) for checkLatentsForTransformer (src/pipeline/pipeline.ts): the batch must equal what it
// counts (a larger batch than prompts passed a "fewer than" check), and Latte's video_length binds only video
// latents (one frame is an image, which LattePipeline generates with video_length 1: a check on every frame
// count refused it); frames are a multiple of Wan's temporal patch patch_size[0] (every released Wan has 1, so
// only a config of [2, 2, 2] tells a check that skips frames).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/model/config.js';
import { InputError } from '../../src/model/input-error.js';
import { getPreset } from '../../src/model/presets.js';
import { checkLatentsForTransformer } from '../../src/pipeline/pipeline.js';

const wan = parseConfig(getPreset('wan-tiny').config);
const latte = parseConfig(getPreset('latte-1').config); // in_channels 4, video_length 16

describe('checkLatentsForTransformer: batch', () => {
  const prompts = (size: number) => ({ size, items: 'prompts' });
  it('the batch of the prompts is taken', () => {
    expect(() => checkLatentsForTransformer(wan, [2, 16, 1, 8, 8], prompts(2))).not.toThrow();
  });
  it.each([[[2, 16, 1, 8, 8], 1], [[1, 16, 1, 8, 8], 2]])('latents %j for %i prompts: refused, naming latents', (shape, n) => {
    expect(() => checkLatentsForTransformer(wan, shape, prompts(n))).toThrow(InputError);
    expect(() => checkLatentsForTransformer(wan, shape, prompts(n))).toThrow(/^latents: a batch of /);
  });
});

describe('checkLatentsForTransformer: the temporal patch', () => {
  const wan2 = parseConfig({ ...getPreset('wan-tiny').config, patch_size: [2, 2, 2] });
  it('frames a multiple of patch_size[0] are taken, others refused', () => {
    expect(() => checkLatentsForTransformer(wan2, [1, 16, 4, 8, 8])).not.toThrow();
    expect(() => checkLatentsForTransformer(wan2, [1, 16, 3, 8, 8])).toThrow(InputError);
  });
});

describe('checkLatentsForTransformer: Latte video_length', () => {
  it('one frame (an image) and video_length frames are taken', () => {
    expect(() => checkLatentsForTransformer(latte, [1, 4, 1, 8, 8])).not.toThrow();
    expect(() => checkLatentsForTransformer(latte, [1, 4, 16, 8, 8])).not.toThrow();
  });
  it('another frame count is refused', () => {
    expect(() => checkLatentsForTransformer(latte, [1, 4, 8, 8, 8])).toThrow(InputError);
  });
});
