// The fit checks as a benchmarking script calls them: checkRunFits and checkWeightsFit read a budget
// they could not use as none (maxMemory '2GiB', NaN: "fits"; -1 printed as "budget of -1 B"); they now
// take what loadModel's maxMemory takes (bytes or a size string) and refuse anything else in one line.
// A latent whose height and width look like pixel sizes ([1,16,81,480,832]: 81 frames of 480×832) is
// estimated with a hint naming the latent of that video, and refused with it.
import { describe, expect, it } from 'vitest';
import { getPreset } from '../../src/model/presets.js';
import { parseConfig } from '../../src/model/config.js';
import { checkRunFits, checkWeightsFit, estimateMemory, latentHint, LimitError } from '../../src/model/memory.js';
import { InputError } from '../../src/model/model.js';
import { thrown } from '../helpers/errors.js';

const wan = parseConfig(getPreset('wan-1.3b').config);
const tiny = parseConfig(getPreset('wan-tiny').config);
const limits = { maxBufferSize: 2 ** 32, maxStorageBufferBindingSize: 2 ** 27 };
const latent = [1, 16, 21, 60, 104]; // 81 frames of 480×832
const text = [1, 512, 4096];

describe('checkRunFits and checkWeightsFit budgets', () => {
  it("a size string is read as loadModel reads it: '2GiB' refuses what 2^31 bytes refuses", () => {
    const byNumber = thrown(() => checkRunFits(wan, latent, text, 'f16', limits, { maxMemory: 2 * 2 ** 30 }), LimitError);
    const byString = thrown(() => checkRunFits(wan, latent, text, 'f16', limits, { maxMemory: '2GiB' }), LimitError);
    expect(byString.message).toBe(byNumber.message);
    expect(byString.message).toMatch(/above the budget of 2(\.0+)? GiB \(maxMemory\)/);
    expect(thrown(() => checkWeightsFit(wan, 'f32', limits, { maxMemory: '1MiB' }), LimitError).message).toMatch(/above the budget of 1(\.0+)? MiB \(maxMemory\)/);
  });

  for (const bad of [NaN, -1, 0, Infinity, 'lots', '-1GiB']) {
    it(`maxMemory ${String(bad)}: refused in one line naming maxMemory, by both`, () => {
      for (const f of [() => checkRunFits(wan, latent, text, 'f16', limits, { maxMemory: bad }), () => checkWeightsFit(wan, 'f16', limits, { maxMemory: bad })]) {
        const e = thrown(f, InputError);
        expect(e.message).toMatch(/^maxMemory: /);
        expect(e.message).not.toContain('\n');
      }
    });
  }
});

describe('a latent given in pixel sizes', () => {
  it('is estimated with a hint naming the latent of that video', () => {
    expect(latentHint(wan, [1, 16, 81, 480, 832])).toBe('latent [1,16,81,480,832] looks like pixel sizes (480×832 and 81 frames); a latent is the pixels / 8 and (frames − 1) / 4 + 1 frames: [1,16,21,60,104] for that video');
    // not 4k + 1 frames: made 4k + 1 as WanPipeline does (num_frames // 4 * 4 + 1), never left unconverted (session 23 bench review #7)
    expect(latentHint(wan, [2, 16, 1000, 1000, 1000])).toBe('latent [2,16,1000,1000,1000] looks like pixel sizes (1000×1000 and 1000 frames); a latent is the pixels / 8 and (frames − 1) / 4 + 1 frames: [2,16,251,125,125] for that video (1000 frames is not 4k + 1: WanPipeline makes it 1001)');
    expect(latentHint(wan, [1, 16, 83, 480, 832])).toContain(': [1,16,21,60,104] for that video (83 frames is not 4k + 1: WanPipeline makes it 81)');
    // real latent sizes, up to 1080p (136×240), get none
    for (const l of [latent, [1, 16, 21, 90, 160], [1, 16, 51, 136, 240]]) expect(latentHint(wan, l)).toBeUndefined();
    const est = estimateMemory(tiny, [1, 16, 1, 480, 832], [1, 8, 64], 'f32');
    expect(est.hint).toBe('latent [1,16,1,480,832] looks like pixel sizes (480×832 and 1 frame); a latent is the pixels / 8 and (frames − 1) / 4 + 1 frames: [1,16,1,60,104] for that video');
    expect(estimateMemory(tiny, [1, 16, 1, 60, 104], [1, 8, 64], 'f32').hint).toBeUndefined();
  });

  it('is refused by the fit check with the hint', () => {
    const e = thrown(() => checkRunFits(wan, [1, 16, 81, 480, 832], text, 'f32', limits), LimitError);
    expect(e.message).toContain('. Note: latent [1,16,81,480,832] looks like pixel sizes');
  });
});
