// `tessera demo --profile-steps`: every denoising step of the loop timed dispatch by dispatch as it ran
// (profilePipeline's profileSteps): a line per step on stdout, each step's dispatches in profile.json and a
// trace track per step; without the flag none of it; --preset, which profiles one replayed step, refuses it.
import '../helpers/optimised-compile.js'; // first: the optimised lavapipe compile (run time dominates here)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { tesseraCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-profile-steps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tessera demo --profile-steps', () => {
  it('--preset refuses it in one line (it profiles one replayed step, not the loop)', async () => {
    const r = await tesseraCli(['demo', '--preset', 'wan-tiny', '--profile-steps', '--out', join(dir, 'preset')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(/--profile-steps runs the trained pipeline; --preset runs a random-weight architecture without a text encoder: give one or the other$/);
  });

  it.skipIf(!hasGpu)("a line per step, each step's dispatches in profile.json and a trace track per step", async () => {
    const out = join(dir, 'out');
    const r = await tesseraCli(['demo', '--prompt', 'a red circle moving right', '--steps', '2', '--repeats', '1', '--max-sequence-length', '64', '--profile-steps', '--out', out], { timeoutMs: 280_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^== each denoising step of the loop, timed dispatch by dispatch as it ran \(GPU timestamps; step 1 with the text K\/V it computes once\):\n {2}step 1\/2 +\d+ dispatches +\d+\.\d{3} ms GPU\n {2}step 2\/2 +\d+ dispatches +\d+\.\d{3} ms GPU$/m);
    expect(r.stdout).toContain('(Chrome trace: one track per stage and per denoising step)');
    const trace = JSON.parse(readFileSync(join(out, 'trace.json'), 'utf8')) as { traceEvents: { name: string; ph: string; tid: number; args: { name?: string } }[] };
    const tracks = trace.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args.name);
    expect(tracks).toEqual(['text encoder (UMT5EncoderModel)', 'transformer (WanTransformer3DModel)', 'denoising step 1/2', 'denoising step 2/2', 'VAE decode (AutoencoderKLWan)']);
    const prof = JSON.parse(readFileSync(join(out, 'profile.json'), 'utf8')) as { stages: { stage: string; denoising_steps?: { timing: string; dispatches: { kernel: string; ms: number | null }[] }[] }[] };
    const steps = prof.stages.find((s) => s.stage === 'transformer')!.denoising_steps!;
    expect(steps).toHaveLength(2);
    for (const st of steps) {
      expect(st.timing).toBe('gpu-timestamps');
      expect(st.dispatches.some((d) => d.kernel.startsWith('gemm') && d.ms !== null && d.ms > 0)).toBe(true);
    }
    expect(steps[0]!.dispatches.length, 'step 1 with the text K/V').toBeGreaterThan(steps[1]!.dispatches.length);
    expect(prof.stages.filter((s) => s.denoising_steps !== undefined).map((s) => s.stage)).toEqual(['transformer']);
  }, 300_000);
});
