// estimateMemory far over the limits: a request whose hidden states alone are more than 64× the binding limit (the
// audit's pixel-size latent [1,16,81,480,832] on wan-1.3b: 46 GiB per item against 128 MiB) is refused from its shapes
// alone, as checkRunFits words it, where it ran a dry run of 194,923 dispatches (FFN token chunks) for 4-6 s first and
// returned an estimate no adapter could run. Below that, the estimate is the dry run's, as before. No GPU: the dry
// run (src/model/forward.ts planForward) is counted through a mock that calls the real one.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/model/config.js';
// memory.js first: forward.js imports it back, and imported first it would reach memory.js before its mock exists
import { checkRunFits, estimateMemory, estimateWeights, LimitError } from '../../src/model/memory.js';
import { planForward } from '../../src/model/forward.js';
import { PRESETS } from '../../src/model/presets.js';
import { thrown } from '../helpers/errors.js';

vi.mock('../../src/model/forward.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/model/forward.js')>();
  return { ...m, planForward: vi.fn(m.planForward) };
});
const dryRuns = vi.mocked(planForward);
beforeEach(() => {
  dryRuns.mockClear();
});

const wan = parseConfig(PRESETS['wan-1.3b']!.config);
const tiny = parseConfig(PRESETS['wan-tiny']!.config); // dim 96, patch 1×2×2
const LAVAPIPE = { maxBufferSize: 2 * 2 ** 30, maxStorageBufferBindingSize: 128 * 2 ** 20 };
const PIXELS = [1, 16, 81, 480, 832]; // 81 frames of 480×832 given as a latent: 8,087,040 tokens per item
const TEXT = [1, 512, 4096];
const NOTE = '. Note: latent [1,16,81,480,832] looks like pixel sizes (480×832 and 81 frames); a latent is the pixels / 8 and (frames − 1) / 4 + 1 frames: [1,16,21,60,104] for that video';

describe('estimateMemory far over the binding limit', () => {
  it.each([
    ['the adapter\'s limits', LAVAPIPE],
    ['WebGPU\'s defaults (no limits given)', undefined],
  ])('pixel-size latents with %s: a LimitError from the shapes alone, no dry run', (_, limits) => {
    const e = thrown(() => estimateMemory(wan, PIXELS, TEXT, 'f32', limits), LimitError);
    expect(e.message).toBe(
      "this run (latents [1,16,81,480,832], text [1,512,4096], f32) cannot fit: its hidden states, [8087040,1536] per item, are 46.27 GiB, more than 64× the adapter's maxStorageBufferBindingSize of 128.0 MiB: use a smaller resolution or fewer frames (checkRunFits says how many tokens fit)" + NOTE,
    );
    expect(dryRuns).not.toHaveBeenCalled();
    // checkRunFits' refusal of the same run: the same reason, then how many tokens fit (its probes are dry runs of smaller shapes)
    const fit = thrown(() => checkRunFits(wan, PIXELS, TEXT, 'f32', LAVAPIPE), LimitError);
    expect(fit.message.split(': use ')[0]).toBe(e.message.split(': use ')[0]);
    expect(fit.message).toContain('(about 21632 of these 8087040 tokens per item fit)');
    for (const [, , latent] of dryRuns.mock.calls) expect(latent).not.toEqual(PIXELS);
  }, 60_000);

  it('a DiT: its layout, no frames', () => {
    const dit = parseConfig(PRESETS['dit-xl-2']!.config);
    const e = thrown(() => estimateMemory(dit, [1, 4, 4096, 4096], undefined, 'f32'), LimitError);
    expect(e.message).toMatch(/^this run \(latents \[1,4,4096,4096\], f32\) cannot fit: its hidden states, \[4194304,1152\] per item, are 18\.00 GiB, more than 64× the adapter's maxStorageBufferBindingSize of 128\.0 MiB: use a smaller resolution \(checkRunFits says how many tokens fit\)/);
    expect(dryRuns).not.toHaveBeenCalled();
  });
});

describe('estimateMemory up to 64× the binding limit: the dry run, as before', () => {
  // a binding of 6 KiB: 64× is 384 KiB, one item's hidden states at 1024 tokens of wan-tiny's 96 (f32)
  const limits = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 6 * 1024 };
  const text = [1, 8, 64];

  it('at exactly 64×: estimated from a dry run of the request', () => {
    const latent = [1, 16, 1, 64, 64]; // 32×32 = 1024 tokens: 1024 × 96 × 4 B = 64 × 6 KiB
    const est = estimateMemory(tiny, latent, text, 'f32', limits);
    expect(dryRuns).toHaveBeenCalledTimes(1);
    expect(dryRuns.mock.calls[0]![3]).toEqual(latent);
    expect(est.plan.dispatches).toBeGreaterThan(0);
    expect(est.weights).toBe(estimateWeights(tiny, 'f32').bytes);
    expect(est.total).toBe(est.weights + est.activations + est.workspace);
    expect(est.activations).toBe(est.plan.scratchBytes + est.plan.persistentBytes);
  });

  it('one column of patches more: refused without one', () => {
    const e = thrown(() => estimateMemory(tiny, [1, 16, 1, 64, 66], text, 'f32', limits), LimitError);
    expect(e.message).toMatch(/^this run \(latents \[1,16,1,64,66\], text \[1,8,64\], f32\) cannot fit: its hidden states, \[1056,96\] per item, are 396\.0 KiB, more than 64× the adapter's maxStorageBufferBindingSize of 6\.0 KiB: /);
    expect(dryRuns).not.toHaveBeenCalled();
  });

  it.each(Object.keys(PRESETS))('%s at its preset size and with WebGPU\'s defaults: a dry run of that size', (name) => {
    const p = PRESETS[name]!;
    const c = parseConfig(p.config);
    const { frames, height, width } = p.latent;
    const latent = c.family === 'dit' ? [2, c.inChannels, height, width] : [2, c.inChannels, frames, height, width];
    const t = c.family === 'dit' ? undefined : [2, p.textLen ?? 8, c.family === 'wan' ? c.textDim : c.captionChannels];
    const est = estimateMemory(c, latent, t, 'f16');
    expect(dryRuns.mock.calls.some((call) => JSON.stringify(call[3]) === JSON.stringify(latent))).toBe(true);
    expect(est.total).toBe(est.weights + est.activations + est.workspace);
  });
});
