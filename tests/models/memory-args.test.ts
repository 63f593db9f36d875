// estimateMemory / checkRunFits refuse a latent or text shape, or a dtype, that forward() could not
// take, with an InputError naming the argument (it was a raw "uniform total=-2048 is not a u32", a
// patchify error, a TypeError reading 'reduce', or a bf16 estimate). No device: dry runs only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/model/config.js';
import { checkRunFits, estimateMemory, LimitError } from '../../src/model/memory.js';
import { InputError } from '../../src/model/model.js';
import { FIXTURES } from '../helpers/golden.js';
import { thrown } from '../helpers/errors.js';

const config = (name: string) => parseConfig(JSON.parse(readFileSync(join(FIXTURES, name, 'model', 'config.json'), 'utf8')) as Record<string, unknown>);
const wan = config('wan_small'); // in_channels 4, patch 1×2×2, text_dim 24
const latte = config('latte_small'); // caption_channels 16, patch 2, video_length 2
const dit = config('dit_small'); // in_channels 4, patch 2
const LIMITS = { maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 30 };
type Args = [typeof wan, unknown, unknown, unknown];
// both entry points, the same refusal
const refusals = (args: Args): InputError[] => [
  thrown(() => estimateMemory(...(args as Parameters<typeof estimateMemory>)), InputError),
  thrown(() => checkRunFits(...(args as [typeof wan, number[], number[] | undefined, 'f32']), LIMITS), InputError),
];

describe('estimateMemory and checkRunFits check their arguments first', () => {
  it('valid arguments are estimated (the checks refuse nothing forward() takes)', () => {
    expect(estimateMemory(wan, [1, 4, 2, 8, 8], [1, 6, 24], 'f32').total).toBeGreaterThan(0);
    expect(checkRunFits(latte, [2, 4, 2, 8, 8], [2, 5, 16], 'f16', LIMITS).total).toBeGreaterThan(0);
    expect(checkRunFits(latte, [1, 4, 1, 8, 8], [1, 5, 16], 'f32', LIMITS).total).toBeGreaterThan(0);
    expect(estimateMemory(dit, [2, 4, 8, 8], undefined, 'f16').total).toBeGreaterThan(0);
  });

  it('latent: positive integers, the family\'s rank, in_channels, sizes divisible by the patch', () => {
    for (const [c, latent, msg] of [
      [wan, [1, 4, -2, 8, 8], 'latent: the latents\' shape [B, C, F, H, W] as positive integers for a wan model, got [1,4,-2,8,8]'],
      [wan, [1, 4, 2.5, 8, 8], 'latent: the latents\' shape [B, C, F, H, W] as positive integers for a wan model, got [1,4,2.5,8,8]'],
      [dit, 'abc', 'latent: the latents\' shape [B, C, H, W] as positive integers for a dit model, got "abc"'],
      [wan, [1, 4, 8, 8], 'latent: expected [B, C, F, H, W] (5 dims) for a wan model, found [1,4,8,8]'],
      [dit, [1, 4, 2, 8, 8], 'latent: expected [B, C, H, W] (4 dims) for a dit model, found [1,4,2,8,8]'],
      [wan, [1, 3, 2, 8, 8], 'latent: expected 4 channels (config in_channels), found 3 in [1,3,2,8,8]'],
      [wan, [1, 4, 2, 7, 8], 'latent: frames×height×width 2×7×8 must be divisible by the patch size 1×2×2'],
      [dit, [1, 4, 8, 9], 'latent: height×width 8×9 must be divisible by the patch size 2 (config patch_size)'],
      [latte, [1, 4, 3, 8, 8], 'latent: Latte adds a temporal position embedding of video_length=2 frames; found 3 frames (use 2 or 1)'],
    ] as const) {
      const text = c === dit ? undefined : [1, 6, c === wan ? 24 : 16];
      for (const e of refusals([c, latent, text, 'f32'])) expect(e.message, JSON.stringify(latent)).toBe(msg);
    }
  });

  it('text: required for Wan/Latte as [B, L, width]; none for a DiT', () => {
    for (const [c, text, msg] of [
      [wan, undefined, 'text: missing: a wan model takes text embeddings; give their shape [1, L, 24]'],
      [wan, [1, 6, 16], 'text: expected [1, L, 24] (batch of latent [1,4,2,8,8], config text_dim), found [1,6,16]'],
      [wan, [2, 6, 24], 'text: expected [1, L, 24] (batch of latent [1,4,2,8,8], config text_dim), found [2,6,24]'],
      [wan, [1, 0, 24], 'text: expected [1, L, 24] (batch of latent [1,4,2,8,8], config text_dim), found [1,0,24]'],
      [latte, [6, 16], 'text: expected [1, L, 16] (batch of latent [1,4,2,8,8], config caption_channels), found [6,16]'],
      [latte, 'abc', 'text: expected [1, L, 16] (batch of latent [1,4,2,8,8], config caption_channels), found "abc"'],
    ] as const) {
      for (const e of refusals([c, [1, 4, 2, 8, 8], text, 'f32'])) expect(e.message, JSON.stringify(text)).toBe(msg);
    }
    for (const e of refusals([dit, [1, 4, 8, 8], [1, 6, 24], 'f32'])) expect(e.message).toBe('text: a dit model takes no text (it is class-conditional): give undefined, got [1,6,24]');
  });

  it("dtype: 'f32' or 'f16'", () => {
    for (const [dtype, msg] of [['bf16', `dtype: 'f32' or 'f16', got "bf16"`], [undefined, "dtype: missing ('f32' or 'f16')"], [16, `dtype: 'f32' or 'f16', got 16`]] as const) {
      for (const e of refusals([wan, [1, 4, 2, 8, 8], [1, 6, 24], dtype])) expect(e.message).toBe(msg);
    }
  });

  it('a run that does not fit is still a LimitError (its suggestions probe other shapes unchecked)', () => {
    const e = thrown(() => checkRunFits(wan, [1, 4, 4, 8, 8], [1, 6, 24], 'f32', LIMITS, { maxMemory: 1024 }), LimitError);
    expect(e.message).toMatch(/^this run \(latents \[1,4,4,8,8\], text \[1,6,24\], f32\) needs .* above the budget of 1\.0 KiB \(maxMemory\): /);
  });
});
