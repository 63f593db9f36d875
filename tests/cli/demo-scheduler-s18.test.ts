// demo --scheduler, as generate's: the same values and validation (before any weight is read), the class reaching the
// denoising loop, and profile.json, trace.json and the report naming the scheduler used (session 18's fresh user).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { tempDir } from '../hardening/helpers.js';

const errLine = (r: { stderr: string }) => r.stderr.trim().split('\n').at(-1);

describe('demo --scheduler', () => {
  it('refused as generate refuses it: an unknown name, --shift with a class that has none; not with --preset', async () => {
    for (const flags of [['--scheduler', 'bogus'], ['--scheduler', 'ddim', '--shift', '2']]) {
      const dir = tempDir();
      const [d, g] = await Promise.all([tesseraCli(['demo', ...flags, '--out', join(dir, 'o')]), tesseraCli(['generate', ...flags, '--out', join(dir, 'x.safetensors')])]);
      expect(d.code, d.stderr).toBe(2);
      expect(errLine(d)).toBe(errLine(g));
    }
    const p = await tesseraCli(['demo', '--preset', 'wan-tiny', '--scheduler', 'ddim']);
    expect([p.code, errLine(p)]).toEqual([2, 'tessera: error: UsageError: --scheduler runs the trained pipeline; --preset runs a random-weight architecture without a text encoder: give one or the other']);
  });

  it('the loop samples with it; profile.json, trace.json and the report name the class (the pipeline\'s own without the flag)', async () => {
    const run = async (flags: string[]) => {
      const out = join(tempDir(), 'o');
      const r = await tesseraCli(['demo', '--steps', '2', '--repeats', '1', '--quiet', '--out', out, ...flags], { timeoutMs: 280_000 });
      expect(r.code, r.stderr).toBe(0);
      const profile = JSON.parse(readFileSync(join(out, 'profile.json'), 'utf8')) as { scheduler: string; timesteps: number[] };
      const trace = JSON.parse(readFileSync(join(out, 'trace.json'), 'utf8')) as { otherData: { scheduler: string } };
      return { stdout: r.stdout, profile, trace };
    };
    const own = await run([]);
    const euler = await run(['--scheduler', 'flow-match-euler', '--shift', '3']);
    expect([own.profile.scheduler, own.trace.otherData.scheduler]).toEqual(['UniPCMultistepScheduler', 'UniPCMultistepScheduler']);
    expect([euler.profile.scheduler, euler.trace.otherData.scheduler]).toEqual(['FlowMatchEulerDiscreteScheduler', 'FlowMatchEulerDiscreteScheduler']);
    expect(own.stdout).toContain('sampled with UniPCMultistepScheduler\n');
    expect(euler.stdout).toContain('sampled with FlowMatchEulerDiscreteScheduler (shift 3)\n');
    // the class reached the loop: other timesteps
    expect(euler.profile.timesteps).not.toEqual(own.profile.timesteps);
  }, 600_000);
});
