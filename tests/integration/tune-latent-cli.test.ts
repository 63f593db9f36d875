// `tessera tune --preset`: --frames/--height/--width are range- and patch-checked before the GPU is
// acquired, one UsageError line naming the flag, exit 2, as `bench plan` does (a negative size was a
// raw RangeError after the model was loaded, 0 a tensor error, and DiT's --frames 0 ran and exited 0).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';

describe('tune --preset refuses a latent it cannot run', () => {
  // tuning on (not the suite's TESSERA_TUNE=off, which tune refuses first) and a cache of its own
  const { TESSERA_TUNE: _t, ...rest } = process.env;
  const cache = mkdtempSync(join(tmpdir(), 'tessera-tune-latent-'));
  afterAll(() => rmSync(cache, { recursive: true, force: true }));
  const env = { ...rest, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', XDG_CACHE_HOME: cache };
  const cases: [string[], string][] = [
    [['--preset', 'wan-tiny', '--frames', '-3', '--height', '3'], '--frames must be between 1 and 4096, got -3'],
    [['--preset', 'wan-tiny', '--height', '0'], '--height must be between 1 and 4096, got 0'],
    [['--preset', 'wan-tiny', '--width', '4097'], '--width must be between 1 and 4096, got 4097'],
    [['--preset', 'dit-tiny', '--frames', '0'], '--frames must be between 1 and 4096, got 0'],
    [['--preset', 'dit-tiny', '--frames', '2'], 'tessera tune: --frames applies to video models; dit-tiny is a DiT (image latents, no frames): leave out --frames'],
    [['--preset', 'wan-tiny', '--width', '31'], 'tessera tune: latent 8×24×31 must be divisible by the patch size 1×2×2 of wan-tiny: --width 31 is not a multiple of 2'],
    [['--preset', 'dit-tiny', '--height', '3', '--width', '5'], 'tessera tune: latent 3×5 must be divisible by the patch size 2×2 of dit-tiny: --height 3 is not a multiple of 2, --width 5 is not a multiple of 2'],
  ];
  for (const [args, line] of cases) {
    it(args.join(' '), async () => {
      const r = await tesseraCli(['tune', ...args], { env });
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toBe(`tessera: error: UsageError: ${line}`);
      expect(r.code).toBe(2);
    });
  }
});
