// Mutation test (round 3) for checkDecodeLatents (src/vae/decoder.ts): AutoencoderKL takes [B, C, H, W] images or
// [B, C, F, H, W] video and nothing else; a 6-D or 3-D shape is refused before any arithmetic (the existing cases
// have 3-D only, so "fewer than 4 dims" passed for "4 or 5").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/input-error.js';
import { parseVaeConfig } from '../../src/vae/config.js';
import { checkDecodeLatents } from '../../src/vae/decoder.js';
import { FIXTURES } from '../helpers/golden.js';

const kl = parseVaeConfig(JSON.parse(readFileSync(join(FIXTURES, 'sd_vae_small', 'vae', 'config.json'), 'utf8')) as Record<string, unknown>);

describe('checkDecodeLatents: AutoencoderKL ranks', () => {
  const c = kl.kind === 'kl' ? kl.latentChannels : 0;
  it('4-D and 5-D are taken', () => {
    expect(() => checkDecodeLatents(kl, [1, c, 8, 8])).not.toThrow();
    expect(() => checkDecodeLatents(kl, [1, c, 2, 8, 8])).not.toThrow();
  });
  it.each([[[1, c, 1, 2, 8, 8]], [[1, c, 8]]])('%j is refused, naming latents', (shape) => {
    expect(() => checkDecodeLatents(kl, shape)).toThrow(InputError);
    expect(() => checkDecodeLatents(kl, shape)).toThrow(/^latents: /);
  });
});
