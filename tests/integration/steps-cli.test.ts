// --steps that the scheduler's config cannot run (Wan's UniPC config repeats its first timestep from
// 334 steps up) is the flag's problem: one UsageError line naming --steps, a few timesteps and the
// most steps that work, exit 2, with --model (checked before any weight is read) and with a pipeline
// (the embedded one here); it was a SchedulerConfigError blaming scheduler_config.json, exit 1, with
// every one of the ~500 timesteps on the line.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { FIXTURES, ROOT } from '../hardening/helpers.js';

const why = (file: string) => `with ${file}: its timesteps start 999, 999, 998, … (the first one twice: diffusers would start at the second and run past the end of its tables): use at most 333`;
const dir = mkdtempSync(join(tmpdir(), 'tessera-steps-'));
const out = join(dir, 'never-written.safetensors');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--steps too many for the scheduler config: UsageError naming --steps, exit 2', () => {
  it('generate --model (the scheduler config beside it)', async () => {
    const c = join(FIXTURES, 'wan_sampler_unipc_small');
    const r = await tesseraCli(['generate', '--model', join(c, 'model'), '--inputs', join(c, 'inputs.safetensors'), '--out', out, '--steps', '500']);
    expect(r.stderr.trim()).toBe(`tessera: error: UsageError: --steps 500 is too many for UniPCMultistepScheduler ${why(join(c, 'scheduler', 'scheduler_config.json'))}`);
    expect(r.code).toBe(2);
  });

  it('generate with the embedded pipeline', async () => {
    const r = await tesseraCli(['generate', '--steps', '500', '--out', out]);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`tessera: error: UsageError: --steps 500 is too many for UniPCMultistepScheduler ${why(join(ROOT, 'models', 'tessera-shapes', 'scheduler', 'scheduler_config.json'))}`);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});
