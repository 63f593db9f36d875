// --guidance below 1 (user24 #5: `--guidance -1` / `0.5` ran unguided without a word): accepted as diffusers accepts it
// (do_classifier_free_guidance = guidance_scale > 1) and said in one note before the load; the run is --guidance 1's,
// latents equal; 1 itself (the usual way to turn guidance off) and > 1 get no note.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guidanceBelowOneNote } from '../../src/cli/model-inputs.js';
import { FIXTURES, tempDir } from '../hardening/helpers.js';
import { hasGpu } from '../helpers/gpu.js';
import { tesseraInProcess } from '../helpers/cli.js';

describe('guidanceBelowOneNote', () => {
  it('below 1 only', () => {
    expect(guidanceBelowOneNote({ guidance: -1 } as never)).toBe('note: --guidance -1 is below 1: classifier-free guidance is off at ≤ 1 (as diffusers, guidance_scale > 1 guides), so this runs exactly as --guidance 1; give G > 1 to guide');
    expect(guidanceBelowOneNote({ guidance: 0.5 } as never)).toMatch(/^note: --guidance 0\.5 is below 1/);
    for (const g of [undefined, 1, 1.5, 5]) expect(guidanceBelowOneNote({ guidance: g } as never)).toBeUndefined();
  });
});

describe.skipIf(!hasGpu)('generate --model --guidance 0.5', () => {
  it('one note on stderr, and the latents of --guidance 1', async () => {
    const dir = tempDir();
    const cas = join(FIXTURES, 'wan_sampler_unipc_small');
    const base = ['generate', '--model', join(cas, 'model'), '--inputs', join(cas, 'inputs.safetensors'), '--steps', '2', '--quiet'];
    const half = await tesseraInProcess([...base, '--guidance', '0.5', '--out', join(dir, 'half.safetensors')]);
    expect(half.code, half.stderr).toBe(0);
    expect(half.stderr.split('\n').filter((l) => l.startsWith('note: --guidance'))).toEqual([guidanceBelowOneNote({ guidance: 0.5 } as never)]);
    const one = await tesseraInProcess([...base, '--guidance', '1', '--out', join(dir, 'one.safetensors')]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).not.toContain('note: --guidance');
    expect(readFileSync(join(dir, 'half.safetensors')).equals(readFileSync(join(dir, 'one.safetensors')))).toBe(true);
  }, 120_000);
});
