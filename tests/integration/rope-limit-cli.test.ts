// generate --pipeline (and the embedded pipeline) with more frames than Wan's rope_max_seq_len allows is
// Pipeline.generate's one InputError line in the caller's sizes, before the text encoder and any fit search
// (the fit search used to name one of its own probe shapes, latents [2,16,2731,8,8]), and no file is written.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, filesIn, tempDir } from '../hardening/helpers.js';

const LINE =
  "tessera: error: InputError: height×width 32×32 × 100001 frames (latents [1,16,25001,8,8]) gives a grid of 25001×4×4 (latent frames×height×width after patch_size 1×2×2), beyond transformer/config.json's rope_max_seq_len 1024 in frames: " +
  "the 3-D RoPE has 1024 positions per axis (diffusers' WanRotaryPosEmbed); use at most 4093 frames (latent frames (frames − 1)/4 + 1 ≤ 1024), or raise rope_max_seq_len in transformer/config.json";

describe('generate past rope_max_seq_len, with a pipeline', () => {
  it('--pipeline and the embedded pipeline: one line in the caller\'s sizes, exit 1, nothing written', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.safetensors');
    for (const args of [['--pipeline', 'models/tessera-shapes', '--prompt', 'a red circle', '--seed', '1', '--height', '32', '--width', '32', '--steps', '4'], []]) {
      const r = await cli(['generate', ...args, '--frames', '100001', '--out', out], {}, 90_000);
      expect(r.code, r.stderr).toBe(1);
      expect(r.errLines).toEqual([LINE]);
    }
    expect(existsSync(out)).toBe(false);
    expect(filesIn(dir)).toEqual([]);
  }, 180_000);
});
