// Requests whose shapes a model cannot take, or whose size is far past the GPU's limits, are one line
// before their tensors are allocated or read: generate --seed with latents past Wan's rope_max_seq_len
// (81×4800×8320: the noise alone is 5.2e10 values, a RangeError from randn before), and forward --inputs
// whose header declares huge hidden_states (a sparse file: the data is a hole; it used to be read whole,
// 'RangeError: Invalid typed array length').
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, filesIn, FIXTURES, inputsWith, tempDir } from '../hardening/helpers.js';

const ROPE_LINE =
  "tessera: error: InputError: hidden_states: [1,4,81,4800,8320] gives a grid of 81×2400×4160 (frames×height×width after patch_size 1×2×2), beyond config.json's rope_max_seq_len 1024 in height and width: " +
  "the 3-D RoPE has 1024 positions per axis (diffusers' WanRotaryPosEmbed); use latents of at most 1024×2048×2048 frames×height×width, or raise rope_max_seq_len in config.json";

describe('huge requests: one line before any tensor of their size', () => {
  it('generate --model --seed: latents past rope_max_seq_len are the InputError, not a RangeError', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.safetensors');
    const text = await inputsWith('wan_sampler_small', (m) => m.delete('latents')); // --seed makes the noise
    for (const guidance of ['1', '4']) {
      const t0 = performance.now();
      const r = await cli(['generate', '--model', join(FIXTURES, 'wan_sampler_small', 'model'), '--inputs', text, '--seed', '0', '--frames', '81', '--height', '4800', '--width', '8320', '--steps', '1', '--guidance', guidance, '--out', out], {}, 90_000);
      expect(r.code, r.stderr).toBe(1);
      expect(r.errLines).toEqual([ROPE_LINE]);
      expect(performance.now() - t0).toBeLessThan(60_000);
    }
    expect(existsSync(out)).toBe(false);
    expect(filesIn(dir)).toEqual([]);
  }, 180_000);
});
