// bench plan, bench model and tune --preset size their latent from flags: a --frames past Wan's rope_max_seq_len is
// a UsageError naming --frames (exit 2), as generate's and demo's (tests/integration/rope-limit-cli.test.ts); it was
// the library's InputError (exit 1; tune's after the model was made). The message keeps what fits, in latent units.
import { describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';

const LINE =
  "tessera: error: UsageError: --frames: latent: [2,16,1030,2,2] gives a grid of 1030×1×1 (frames×height×width after patch_size 1×2×2), beyond config.json's rope_max_seq_len 1024 in frames: " +
  "the 3-D RoPE has 1024 positions per axis (diffusers' WanRotaryPosEmbed); use latents of at most 1024×2048×2048 frames×height×width, or raise rope_max_seq_len in config.json";
const size = ['--preset', 'wan-tiny', '--frames', '1030', '--height', '2', '--width', '2'];
const lastLine = (s: string) => s.trim().split('\n').pop();

describe('bench and tune past rope_max_seq_len: the size flags\' UsageError', () => {
  it('bench plan (no GPU)', async () => {
    const r = await tesseraCli(['bench', 'plan', ...size]);
    expect(lastLine(r.stderr)).toBe(LINE);
    expect(r.code).toBe(2);
  }, 60_000);

  it.skipIf(!hasGpu)('bench model, before any weight is made', async () => {
    const r = await tesseraCli(['bench', 'model', ...size, '--repeats', '1', '--warmup', '0', '--no-wall', '--no-ceiling']);
    expect(lastLine(r.stderr)).toBe(LINE);
    expect(r.stdout).not.toMatch(/making wan-tiny/);
    expect(r.code).toBe(2);
  }, 60_000);

  it('tune --preset, before the GPU is acquired', async () => {
    const r = await tesseraCli(['tune', ...size]);
    expect(lastLine(r.stderr)).toBe(LINE);
    expect(r.stdout + r.stderr).not.toMatch(/tuning on /);
    expect(r.code).toBe(2);
  }, 60_000);
});
