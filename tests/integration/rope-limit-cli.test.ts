// generate --pipeline (and the embedded pipeline) with more frames than Wan's rope_max_seq_len allows is
// Pipeline.generate's one line in the caller's sizes, before the text encoder and any fit search (the fit
// search used to name one of its own probe shapes, latents [2,16,2731,8,8]), and no file is written. A size
// from --frames/--height/--width is the flags' problem: a UsageError naming the flag (exit 2), as every other
// size refusal of the CLI; latents from an inputs file past the limit stay the file's InputError (exit 1).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { cli, filesIn, tempDir } from '../hardening/helpers.js';

const WHY = "the 3-D RoPE has 1024 positions per axis (diffusers' WanRotaryPosEmbed)";
const LINE =
  "tessera: error: UsageError: --frames: height×width 32×32 × 100001 frames (latents [1,16,25001,8,8]) gives a grid of 25001×4×4 (latent frames×height×width after patch_size 1×2×2), beyond transformer/config.json's rope_max_seq_len 1024 in frames: " +
  `${WHY}; use at most 4093 frames (latent frames (frames − 1)/4 + 1 ≤ 1024), or raise rope_max_seq_len in transformer/config.json`;

describe('generate past rope_max_seq_len, with a pipeline', () => {
  it("--pipeline and the embedded pipeline: one line in the caller's sizes naming --frames, exit 2, nothing written", async () => {
    const dir = tempDir();
    const out = join(dir, 'out.safetensors');
    for (const args of [['--pipeline', 'models/tessera-shapes', '--prompt', 'a red circle', '--seed', '1', '--height', '32', '--width', '32', '--steps', '4'], []]) {
      const r = await cli(['generate', ...args, '--frames', '100001', '--out', out], {}, 90_000);
      expect(r.code, r.stderr).toBe(2);
      expect(r.errLines).toEqual([LINE]);
    }
    expect(existsSync(out)).toBe(false);
    expect(filesIn(dir)).toEqual([]);
  }, 180_000);

  it('--width past it names --width and the widest that fits', async () => {
    const r = await cli(['generate', '--pipeline', 'models/tessera-shapes', '--prompt', 'a red circle', '--seed', '1', '--frames', '9', '--height', '32', '--width', '16400', '--out', join(tempDir(), 'o.safetensors')], {}, 90_000);
    expect(r.code, r.stderr).toBe(2);
    expect(r.errLines).toEqual([
      `tessera: error: UsageError: --width: height×width 32×16400 × 9 frames (latents [1,16,3,8,4100]) gives a grid of 3×4×2050 (latent frames×height×width after patch_size 1×2×2), beyond transformer/config.json's rope_max_seq_len 1024 in width: ${WHY}; use a width of at most 8192 pixels, or raise rope_max_seq_len in transformer/config.json`,
    ]);
  }, 120_000);
});

describe('generate --model and demo past rope_max_seq_len', () => {
  const model = 'models/tessera-shapes/transformer';
  const latentLine = (name: string, shape: string, grid: string) =>
    `${name}: [${shape}] gives a grid of ${grid} (frames×height×width after patch_size 1×2×2), beyond config.json's rope_max_seq_len 1024 in frames: ${WHY}; use latents of at most 1024×2048×2048 frames×height×width, or raise rope_max_seq_len in config.json`;

  it('--model with seeded --frames: UsageError naming --frames (exit 2); the same latents from an inputs file: the InputError of the file (exit 1)', async () => {
    const dir = tempDir();
    const seeded = await cli(['generate', '--model', model, '--seed', '0', '--frames', '1030', '--height', '4', '--width', '4', '--steps', '1', '--out', join(dir, 'a.safetensors')], {}, 90_000);
    expect(seeded.code, seeded.stderr).toBe(2);
    expect(seeded.errLines).toEqual([`tessera: error: UsageError: --frames: ${latentLine('hidden_states', '1,16,1030,4,4', '1030×2×2')}`]);
    const inputs = join(dir, 'in.safetensors');
    const n = 16 * 1030 * 16;
    writeFileSync(inputs, writeSafetensors([{ name: 'latents', dtype: 'F32', shape: [1, 16, 1030, 4, 4], data: new Float32Array(n) }, { name: 'encoder_hidden_states', dtype: 'F32', shape: [1, 4, 64], data: new Float32Array(256) }]));
    const file = await cli(['generate', '--model', model, '--inputs', inputs, '--guidance', '1', '--steps', '1', '--out', join(dir, 'b.safetensors')], {}, 90_000);
    expect(file.code, file.stderr).toBe(1);
    expect(file.errLines).toEqual([`tessera: error: InputError: ${latentLine('hidden_states', '1,16,1030,4,4', '1030×2×2')}`]);
    expect(filesIn(dir)).toEqual(['in.safetensors']);
  }, 180_000);

  it('demo --frames past it: UsageError naming --frames (exit 2), before any weight is read', async () => {
    const r = await cli(['demo', '--frames', '8193', '--height', '32', '--width', '32', '--steps', '1', '--out', join(tempDir(), 'demo')], {}, 90_000);
    expect(r.code, r.stderr).toBe(2);
    // in the flags' pixels and frames, as generate --pipeline says it
    expect(r.errLines).toEqual([
      `tessera: error: UsageError: --frames: height×width 32×32 × 8193 frames (latents [1,16,2049,8,8]) gives a grid of 2049×4×4 (latent frames×height×width after patch_size 1×2×2), beyond transformer/config.json's rope_max_seq_len 1024 in frames: ${WHY}; use at most 4093 frames (latent frames (frames − 1)/4 + 1 ≤ 1024), or raise rope_max_seq_len in transformer/config.json`,
    ]);
  }, 120_000);
});
