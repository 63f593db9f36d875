// Requests far over the limits are one LimitError line (exit 1) before any weight is made or read,
// not 'tessera: error: uniform pairs=6210846720 is not a u32' from inside the size check's dry run
// (audit H item 1), and not minutes of planning: bench model and generate (forward's preflight is the
// same checkRunFits: tests/gpu/count-limits.test.ts covers it without a CLI).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, filesIn, FIXTURES, inputsWith, tempDir } from '../hardening/helpers.js';

describe('far over the limits: one LimitError line from the shapes (no dry run), exit 1', () => {
  it('bench model --preset wan-1.3b at an 81×480×832 latent (the audit case)', async () => {
    const r = await cli(['bench', 'model', '--preset', 'wan-1.3b', '--frames', '81', '--height', '480', '--width', '832'], {}, 90_000);
    expect(r.code, r.stderr).toBe(1);
    expect(r.errLines).toEqual([
      expect.stringMatching(/^tessera: error: LimitError: this run \(latents \[2,16,81,480,832\], text \[2,32,4096\], f32\) cannot fit: its hidden states, \[8087040,1536\] per item, are 46\.27 GiB, more than 64× the adapter's maxStorageBufferBindingSize of [\d.]+ [MG]iB: use .*(fewer frames|tokens per item fit)/),
    ]);
    expect(r.stderr).not.toMatch(/not a u32|making wan-1\.3b/);
  }, 120_000);

  it('generate --model: a latent of 1000×2000×2000 on a small Wan (every count past 2^32) is refused before the weights', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.safetensors');
    const c = join(FIXTURES, 'wan_sampler_small');
    const text = await inputsWith('wan_sampler_small', (m) => m.delete('latents')); // --seed makes the noise
    const r = await cli(['generate', '--model', join(c, 'model'), '--inputs', text, '--seed', '0', '--frames', '1000', '--height', '2000', '--width', '2000', '--steps', '2', '--guidance', '4', '--out', out], {}, 90_000);
    expect(r.code, r.stderr).toBe(1);
    expect(r.errLines).toEqual([expect.stringMatching(/^tessera: error: LimitError: this run \(latents \[2,4,1000,2000,2000\], text \[2,6,24\], f32\) cannot fit: its hidden states, \[1000000000,48\] per item, are 178\.81 GiB, more than 64× /)]);
    expect(existsSync(out)).toBe(false);
    expect(filesIn(dir)).toEqual([]);
  }, 120_000);
});
