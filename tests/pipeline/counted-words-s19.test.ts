// Two small rules that were written by hand at each site (review 19, finding 9): a verb agreeing with a count
// ("1 frame fits", "5 frames fit"; five `n === 1 ? 'fits' : 'fit'`, and the samplers' "repeat(s)", "work(s)"), and the
// frames a VAE decodes from latent frames ((F − 1)·temporal + 1 for Wan, four copies). One helper each, used at every site.
import { describe, expect, it } from 'vitest';
import { pluralVerb } from '../../src/plural.js';
import { decodedFrames } from '../../src/pipeline/pipeline.js';
import { checkRunFits, LimitError } from '../../src/model/memory.js';
import { parseConfig } from '../../src/model/config.js';
import { getPreset } from '../../src/model/presets.js';
import { RepeatedStartError } from '../../src/sampler/multistep.js';
import { thrown } from '../helpers/errors.js';

describe('pluralVerb', () => {
  it('the verb agrees with the count', () => {
    expect(pluralVerb(1, 'frame', 'fit')).toBe('1 frame fits');
    expect(pluralVerb(5, 'latent frame', 'fit')).toBe('5 latent frames fit');
    expect(pluralVerb(0, 'step', 'work')).toBe('0 steps work');
  });

  it("at its sites: checkRunFits' frames suggestion, RepeatedStartError", () => {
    const c = parseConfig(getPreset('wan-tiny').config);
    const fit = (hw: number) => thrown(() => checkRunFits(c, [1, c.inChannels, 5, hw, hw], [1, 8, c.family === 'wan' ? c.textDim : 0], 'f32', { maxStorageBufferBindingSize: 1 << 22, maxBufferSize: 1 << 28 }), LimitError).message;
    expect(fit(128)).toContain('use fewer frames (2 latent frames fit at this resolution)');
    expect(fit(160)).toContain('use fewer frames (1 latent frame fits at this resolution)');
    expect(new RepeatedStartError('UniPCMultistepScheduler', 1, [999], 1).message).toMatch(/^UniPCMultistepScheduler: 1 step repeats the first timestep 999 .*; at most 1 step works with this config$/);
  });
});

describe('decodedFrames', () => {
  it("Wan's causal VAE: (F − 1)·temporal + 1; Latte's: F", () => {
    expect(decodedFrames('wan', { spatial: 8, temporal: 4 }, 21)).toBe(81);
    expect(decodedFrames('wan', { spatial: 8, temporal: 4 }, 1)).toBe(1);
    expect(decodedFrames('latte', { spatial: 8, temporal: 1 }, 16)).toBe(16);
  });
});
