// bench vae takes the flags its siblings take for the same job: --variant (bench model's, for a --vae DIR folder:
// tests/integration/variant-cli.test.ts) and --max-memory (tessera decode's: a decode whose weights + peak
// activations exceed the budget is refused, LimitError, exit 1; it ignored --max-memory and TESSERA_MAX_GPU_MEMORY).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tesseraCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';

const lastLine = (s: string) => s.trim().split('\n').pop();

describe('bench vae: --max-memory and --variant as its siblings take them', () => {
  it('--help lists both, with the usage', async () => {
    const r = await tesseraCli(['bench', 'vae', '--help']);
    expect(r.code, r.stderr).toBe(0);
    const flags = r.stdout.split('\n').filter((l) => l.startsWith('  --')).map((l) => l.trim().split(' ')[0]);
    expect(flags).toEqual(expect.arrayContaining(['--variant', '--max-memory']));
    expect(r.stdout).toContain('usage: tessera bench vae --vae-preset wan2.1|sd | --vae DIR [--variant NAME] [--frames F] [--height H] [--width W] [--batch B] [--seed N] [--max-memory SIZE] ');
  }, 60_000);

  it('a --max-memory that is not a size: UsageError (exit 2) before the GPU', async () => {
    const r = await tesseraCli(['bench', 'vae', '--vae-preset', 'sd', '--max-memory', 'lots']);
    expect(lastLine(r.stderr)).toBe('tessera: error: UsageError: --max-memory: not a memory size: "lots" (expected e.g. 512MiB, 2GiB or a number of bytes)');
    expect(r.code).toBe(2);
  }, 60_000);

  it.skipIf(!hasGpu)('a decode over the budget (the flag or TESSERA_MAX_GPU_MEMORY): LimitError (exit 1) with both figures, no time reported', async () => {
    // the small AutoencoderKL of the goldens (8/16 channels): refused before its weights are read
    const args = ['bench', 'vae', '--vae', join(FIXTURES, 'sd_vae_small', 'vae'), '--height', '2', '--width', '2', '--repeats', '1'];
    const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
    for (const r of [await tesseraCli([...args, '--max-memory', '1KiB'], { env }), await tesseraCli(args, { env: { ...env, TESSERA_MAX_GPU_MEMORY: '1KiB' } })]) {
      expect(lastLine(r.stderr)).toMatch(/^tessera: error: LimitError: decoding latents \[1,4,2,2\] needs [\d.]+ [KM]iB on the GPU \(weights [\d.]+ [KM]iB, .*\), above the --max-memory budget of 1\.0 KiB: use smaller latents \(height×width\) or give --max-memory \d+ or more$/);
      expect(r.code).toBe(1);
      expect(r.stdout).not.toMatch(/per decode/);
    }
  }, 120_000);
});
