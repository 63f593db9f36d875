// tessera decode --max-memory below the VAE's decoder weights alone: refused from --vae's config.json (the decoder
// tensors loadVae reads, at the run's dtype) before the adapter is acquired or any weight is read; before, every weight
// was loaded and the decode's own budget check refused it. The VAE folders hold config.json and no weights: the
// refusal must come first, where the old order gave the loader's ModelFolderError. No GPU.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';
import { decoderWeightBytes } from '../../src/cli/cmd-decode.js';
import { parseVaeConfig } from '../../src/vae/config.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-decode-budget-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A VAE folder of a fixture's config.json alone, no weights. */
function configOnly(fixture: string): string {
  const dir = join(tmp, fixture);
  mkdirSync(dir);
  copyFileSync(join(FIXTURES, fixture, 'vae', 'config.json'), join(dir, 'config.json'));
  return dir;
}
const wan = configOnly('wan_vae_small'); // AutoencoderKLWan: 474.9 KiB of f32 decoder weights (475.8 KiB loaded)
const kl = configOnly('sd_vae_small'); // AutoencoderKL with force_upcast: always f32, 102.5 KiB

const decode = (vae: string, fixture: string, flags: string[], env?: NodeJS.ProcessEnv) =>
  tesseraCli(['decode', '--vae', vae, '--inputs', join(FIXTURES, fixture, 'inputs.safetensors'), '--out', join(tmp, 'out.safetensors'), ...flags], env && { env: { ...process.env, XDG_RUNTIME_DIR: '/tmp', ...env } });

describe('tessera decode --max-memory below the decoder weights: refused from config.json, before loading', () => {
  it('AutoencoderKLWan, f32: both sizes, the flag and --dtype f16', async () => {
    const r = await decode(wan, 'wan_vae_small', ['--max-memory', '100KB']);
    expect(r.stderr).toBe(`tessera: error: LimitError: --max-memory 100.0 KiB is below the VAE's decoder weights alone: 474.9 KiB in f32 (${wan}/config.json), before any frame, cache or scratch: give --max-memory well above 486332 (the decode then says what it needs in all), or --dtype f16 (237.5 KiB of weights)\n`);
    expect(r.code).toBe(1);
  }, 60_000);

  it('--dtype f16 halves the weights: 300KB passes this check (the loader then names the missing weights)', async () => {
    const r = await decode(wan, 'wan_vae_small', ['--max-memory', '300KB', '--dtype', 'f16']);
    expect(r.stderr).toMatch(/^tessera: error: ModelFolderError: /);
  }, 60_000);

  it('AutoencoderKL with force_upcast runs in f32: no --dtype f16 advice; the budget from TESSERA_MAX_GPU_MEMORY is named so', async () => {
    const r = await decode(kl, 'sd_vae_small', ['--dtype', 'f16'], { TESSERA_MAX_GPU_MEMORY: '50KB' });
    expect(r.stderr).toBe(`tessera: error: LimitError: TESSERA_MAX_GPU_MEMORY 50.0 KiB is below the VAE's decoder weights alone: 102.5 KiB in f32 (${kl}/config.json), before any frame, cache or scratch: give TESSERA_MAX_GPU_MEMORY well above 104924 (the decode then says what it needs in all)\n`);
  }, 60_000);

  it('decoderWeightBytes: the config\'s decoder tensors at 4 bytes a value in f32, 2 in f16 (the loaded VAE holds 475.8 KiB in f32: convolutions padded)', () => {
    const c = parseVaeConfig(JSON.parse(readFileSync(join(wan, 'config.json'), 'utf8')), 'config.json');
    expect(decoderWeightBytes(c, 'f32')).toBe(486332);
    expect(decoderWeightBytes(c, 'f16')).toBe(486332 / 2);
  });
});
