// tessera decode checks the inputs file's latents against --vae's config.json (rank, latent channels) before the
// adapter is acquired, in the one line planDecode's check gave in the loader's preflight (after the adapter). The VAE
// folders here hold config.json and no weights: the refusal must come first, where the old check left the loader's
// ModelFolderError. The file's header decides them: a tensor beside the latents (generate's "video") is never read,
// nor latents that are refused (bytes counted by tests/helpers/bytes-read.mjs). No GPU needed.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { bytesReadEnv, tesseraCli } from '../helpers/cli.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-decode-early-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A VAE folder of `config` alone, no weights. */
function configOnly(name: string, config: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  copyFileSync(config, join(dir, 'config.json'));
  return dir;
}
// AutoencoderKLWan, z_dim 16; AutoencoderKL, latent_channels 4
const wan = configOnly('wan', join(ROOT, 'models', 'tessera-shapes', 'vae', 'config.json'));
const kl = configOnly('kl', join(FIXTURES, 'sd_vae_small', 'vae', 'config.json'));

function latents(name: string, shape: number[]): string {
  const file = join(tmp, `${name}.safetensors`);
  writeFileSync(file, writeSafetensors([{ name: 'latents', dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
  return file;
}

const decode = (vae: string, file: string) => tesseraCli(['decode', '--vae', vae, '--inputs', file, '--out', join(tmp, 'out.safetensors')]);

describe('tessera decode: latents against --vae config.json, before the adapter is acquired', () => {
  it.each([
    ['AutoencoderKLWan, 4-D latents', () => wan, [1, 16, 8, 8], 'latents: AutoencoderKLWan takes [B, 16, F, H, W], found [1,16,8,8]'],
    ['AutoencoderKLWan, 5 channels', () => wan, [1, 5, 2, 4, 4], 'latents: 5 channels, the VAE config has 16 (z_dim); layout is [B, C, F, H, W]'],
    ['AutoencoderKL, 3-D latents', () => kl, [1, 4, 8], 'latents: AutoencoderKL takes [B, 4, H, W] images or [B, 4, F, H, W] video, found [1,4,8]'],
    ['AutoencoderKL, 16 channels', () => kl, [1, 16, 8, 8], 'latents: 16 channels, the VAE config has 4 (latent_channels); layout is [B, C, H, W]'],
  ])('%s: one line naming the file and the tensor', async (name, vae, shape, line) => {
    const file = latents(name.replace(/[^a-z0-9]+/gi, '-'), shape);
    const r = await decode(vae(), file);
    expect(r.stderr).toBe(`tessera: error: InputError: ${file}: ${line}\n`);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(1);
  }, 60_000);

  it('latents the config takes pass: the loader then names the missing weights', async () => {
    const r = await decode(wan, latents('ok', [1, 16, 2, 4, 4]));
    expect(r.stderr).toMatch(/^tessera: error: ModelFolderError: .*diffusion_pytorch_model.*safetensors/);
    expect(r.code).toBe(1);
  }, 60_000);

  // generate's --out as decode takes it: latents beside a 12 MiB "video" (16 frames of 256×256 RGB, F32)
  const withVideo = (name: string, shape: number[]) => {
    const file = join(tmp, `${name}.safetensors`);
    const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const video = [1, 16, 256, 256, 3];
    writeFileSync(file, writeSafetensors([{ name: 'latents', dtype: 'F32', shape, data: new Float32Array(n(shape)) }, { name: 'video', dtype: 'F32', shape: video, data: new Float32Array(n(video)) }]));
    return file;
  };

  it.each([
    ['refused latents: nothing but the header is read', [1, 16, 8, 8], 'InputError: ', 0],
    ['latents the config takes: they are read, the video is not', [1, 16, 2, 4, 4], 'ModelFolderError: ', 16 * 2 * 4 * 4 * 4],
  ] as const)('%s', async (name, shape, error, data) => {
    const file = withVideo(name.replace(/[^a-z0-9]+/gi, '-'), [...shape]);
    const bytes = bytesReadEnv(mkdtempSync(join(tmp, 'bytes-')));
    const r = await tesseraCli(['decode', '--vae', wan, '--inputs', file, '--out', join(tmp, 'out.safetensors')], { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...bytes.env } });
    expect(r.stderr).toContain(`tessera: error: ${error}`);
    // the header (8 bytes of length and a JSON of ~200) and the latents' data, far from the video's 12 MiB
    expect(bytes.read()).toBeGreaterThanOrEqual(data);
    expect(bytes.read()).toBeLessThan(data + 4096);
  }, 60_000);
});
