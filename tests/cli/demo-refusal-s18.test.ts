// demo's refusal of a size the adapter cannot run, as generate --pipeline's (session 18's fresh user): in the user's
// pixel sizes, with no note that its latents "look like pixel sizes / 8" (demo's flags are pixels, this VAE's factor is
// 4 and the batch of 2 is classifier-free guidance's), and before any kernel is compiled or the device named.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRunFits, LimitError } from '../../src/model/memory.js';
import { parseConfig } from '../../src/model/config.js';
import { getPreset } from '../../src/model/presets.js';
import { bytesReadEnv, tesseraCli } from '../helpers/cli.js';
import { thrown } from '../helpers/errors.js';
import { tempDir } from '../hardening/helpers.js';

const errLines = (r: { stderr: string }) => r.stderr.trim().split('\n').filter((l) => l.startsWith('tessera: error:'));

describe('demo refuses a size as generate --pipeline does', () => {
  it('801 frames of 4096×4096: pixels first, the CFG batch said, frames in output frames, no pixel-size note; no weight read', async () => {
    const dir = tempDir();
    const reads = bytesReadEnv(dir);
    const out = join(dir, 'o');
    const r = await tesseraCli(['demo', '--frames', '801', '--height', '4096', '--width', '4096', '--steps', '2', '--out', out], { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...reads.env }, timeoutMs: 110_000 });
    expect(r.code, r.stderr).toBe(1);
    const [line, ...more] = errLines(r);
    expect(more).toEqual([]);
    expect(line).toMatch(/^tessera: error: LimitError: height×width 4096×4096 × 801 frames \(latents \[1,16,201,1024,1024\]\) does not fit: the transformer's pass over the prompt and the negative prompt together \(classifier-free guidance: a batch of 2\) \(latents \[2,16,201,1024,1024\], /);
    expect(line).toMatch(/use fewer frames \(\d+ frames? fits? at height×width 4096×4096\)/);
    expect(line).not.toMatch(/looks like pixel sizes|latent frame|pixels \/ 8/);
    expect(r.stdout).not.toContain('device:');
    expect(existsSync(out)).toBe(false);
    // refused before any weight was read (the embedded transformer's alone are 4.2 MiB)
    expect(reads.read()).toBeLessThan(1 << 20);
  }, 120_000);

  it('81 frames of 480×832 (the sampler state too large): generate --pipeline\'s line, before the device line or any kernel compiled', async () => {
    const dir = tempDir();
    const size = ['--frames', '81', '--height', '480', '--width', '832', '--steps', '2'];
    const [d, g] = await Promise.all([tesseraCli(['demo', ...size, '--out', join(dir, 'o')]), tesseraCli(['generate', ...size, '--out', join(dir, 'g.safetensors')])]);
    expect(d.code, d.stderr).toBe(1);
    expect(errLines(d)).toEqual(errLines(g));
    expect(errLines(d)[0]).toMatch(/^tessera: error: LimitError: height×width 480×832 × 81 frames \(latents \[1,16,21,120,208\]\) does not fit: the sampler state/);
    expect(d.stdout).not.toContain('device:');
    expect(d.stderr).not.toContain('compiling kernels');
  }, 120_000);

  it('128×128, 1 frame under --max-memory 12MiB (the transformer and sampler fit, the VAE decode does not): refused before the device line or any kernel compiled', async () => {
    const dir = tempDir();
    const out = join(dir, 'o');
    const r = await tesseraCli(['demo', '--frames', '1', '--height', '128', '--width', '128', '--steps', '1', '--max-memory', '12MiB', '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    const [line, ...more] = errLines(r);
    expect(more).toEqual([]);
    expect(line).toMatch(/^tessera: error: LimitError: height×width 128×128 × 1 frame \(latents \[1,16,1,32,32\]\) does not fit: the VAE decode \(stage 'decode', /);
    expect(line).toMatch(/; at most height×width \d+×\d+ fits at 1 frame; /);
    // in flags, as generate --pipeline's line (pipeline-max-memory), but without its '--dtype f16' way out: the
    // pipeline demo refuses --dtype (loadPipeline's fixedDtype), even on an adapter with shader-f16 (lavapipe)
    expect(line).toMatch(/; at most height×width \d+×\d+ fits at 1 frame; or give --max-memory \d+ or more$/);
    expect(line).not.toMatch(/dtype/);
    expect(r.stdout).not.toContain('device:');
    expect(r.stderr).not.toContain('compiling kernels');
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  it("checkRunFits' pixelHint false: no note that the latents look like pixel sizes (the library's default keeps it)", () => {
    const c = parseConfig(getPreset('wan-tiny').config);
    const run = (o: { pixelHint?: boolean }) => thrown(() => checkRunFits(c, [1, c.inChannels, 81, 480, 832], [1, 8, c.family === 'wan' ? c.textDim : 0], 'f32', { maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 28 }, o), LimitError).message;
    expect(run({})).toContain('looks like pixel sizes');
    expect(run({ pixelHint: false })).not.toContain('looks like pixel sizes');
  });
});
