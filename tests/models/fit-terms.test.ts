// checkRunFits' terms: a caller whose user gave other sizes than the latents (the CLI's demo: pixels, and the
// transformer's pass as one stage) gets the refusal in those terms from the check itself, not by rewriting its
// message with regexes (which broke silently when the wording changed).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/model/config.js';
import { checkRunFits, LimitError, type FitOptions } from '../../src/model/memory.js';
import { getPreset } from '../../src/model/presets.js';
import { thrown } from '../helpers/errors.js';

const c = parseConfig(getPreset('wan-tiny').config);
const refusal = (latent: number[], o: FitOptions) => thrown(() => checkRunFits(c, latent, [1, 8, c.family === 'wan' ? c.textDim : 0], 'f32', { maxStorageBufferBindingSize: 1 << 22, maxBufferSize: 1 << 28 }, o), LimitError).message;
const terms = { run: "the transformer's pass", framesFit: (n: number) => `${4 * (n - 1) + 1} frames fit at height×width 256×256` };

describe("checkRunFits' terms", () => {
  it('name the run and word the frame suggestion; without them the library says `this run` and latent frames', () => {
    const latent = [1, c.inChannels, 41, 64, 64];
    expect(refusal(latent, {})).toMatch(/^this run \(latents \[1,16,41,64,64\], text \[1,8,64\], f32\) needs .*: use fewer frames \(10 latent frames fit at this resolution\) or a smaller resolution$/);
    expect(refusal(latent, { terms })).toMatch(/^the transformer's pass \(latents \[1,16,41,64,64\], text \[1,8,64\], f32\) needs .*: use fewer frames \(37 frames fit at height×width 256×256\) or a smaller resolution$/);
  });

  it('name the run of a request refused from its shapes alone too', () => {
    expect(refusal([1, c.inChannels, 41, 1024, 1024], { terms })).toMatch(/^the transformer's pass \(latents \[1,16,41,1024,1024\], text \[1,8,64\], f32\) cannot fit: its hidden states/);
  });
});
