// `tessera demo --frames F --height H --width W`: the pipeline demo (embedded or --pipeline DIR) at a size of the
// user's, so a pipeline of one's own can be profiled at its real size (audit 13 U defect 8). The size is checked
// against the VAE's factors and the patch (UsageError naming the flag, exit 2) and the run against the adapter's
// limits (LimitError with the figures) before any weight is read; --preset refuses the flags.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { cli, tempDir } from '../hardening/helpers.js';

describe.skipIf(!hasGpu)('demo at a size of the user\'s', () => {
  it('--frames 5 --height 16 --width 24: latents and video of that size, the clip written', async () => {
    const out = join(tempDir(), 'demo-out');
    const r = await cli(['demo', '--frames', '5', '--height', '16', '--width', '24', '--steps', '2', '--repeats', '1', '--out', out], {}, 240_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('latents [1,16,2,4,6] → video [1,5,16,24,3] (F32 in [0, 1])');
    expect(r.stdout).toContain('note: the embedded model (tessera-shapes) saw only 32×32 frames in training; at 16×24 it still runs'); // user24 #3
    expect(r.stdout).toContain(`${join(out, 'clip.gif')} (5 frames 24×16 at 16 fps, decoded by the VAE; GIF via gifenc)`);
  }, 300_000);

  it.each([
    [['--frames', '10'], 2, 'UsageError: --frames 10: must be 4k + 1 (VAE temporal factor 4), such as 9 or 13'],
    [['--pipeline', 'models/tessera-shapes', '--height', '33'], 2, 'UsageError: --height 33: must be a multiple of 8 (VAE factor 4 × patch 2), such as 40 or 32'],
    [['--width', '0'], 2, 'UsageError: --width must be a positive integer, got 0'],
  ])('%j: one line, exit %i, nothing written', async (args, code, msg) => {
    const out = join(tempDir(), 'demo-out');
    const r = await cli(['demo', ...args, '--out', out], {}, 100_000);
    expect(r.errLines).toEqual([`tessera: error: ${msg}`]);
    expect(r.code).toBe(code);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  }, 120_000);

  it('a size past the adapter: LimitError with the figures, before any weight is read', async () => {
    const r = await cli(['demo', '--frames', '801', '--height', '4096', '--width', '4096', '--out', join(tempDir(), 'demo-out')], {}, 100_000);
    expect(r.code).toBe(1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/^tessera: error: LimitError: height×width 4096×4096 × 801 frames \(latents \[1,16,201,1024,1024\]\) does not fit: the transformer's pass over the prompt and the negative prompt together \(classifier-free guidance: a batch of 2\) \(latents \[2,16,201,1024,1024\], text \[2,512,64\], f32\) cannot fit: its hidden states, \[52690944,128\] per item, are 25\.13 GiB, more than /);
    expect(r.stdout).not.toContain('device:'); // refused before the weights were loaded
  }, 120_000);
});

describe('demo --preset refuses the size flags', () => {
  it('--preset dit-tiny --frames 9', async () => {
    const r = await cli(['demo', '--preset', 'dit-tiny', '--frames', '9']);
    expect(r.errLines).toEqual(["tessera: error: UsageError: --frames is the pipeline demo's output size; --preset profiles one step of a preset architecture at its own size (tessera bench model --preset NAME takes --frames/--height/--width)"]);
    expect(r.code).toBe(2);
  });
});
