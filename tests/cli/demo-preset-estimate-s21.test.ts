// The preset demo's CPU estimate was 30-100× below a small preset's step (wan-tiny: "at least 0.04 s a step", then
// 4.49 s/step): it now says it is a lower bound from FLOPs only and, from the previous run's profile.json in the output
// folder, how far that run's step was above it. `demo --help` says what a preset demo writes (no MP4). Session 21,
// finding 15.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuStepNote, demoCommand, lastPresetRun } from '../../src/cli/cmd-demo.js';
import { tesseraCli } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tessera-s21-preset-'));

describe('the preset demo CPU estimate against the last run', () => {
  it('lastPresetRun: the step seconds of the same preset only', () => {
    const dir = tmp();
    expect(lastPresetRun(dir, 'wan-tiny')).toBeUndefined();
    writeFileSync(join(dir, 'profile.json'), JSON.stringify({ preset: 'wan-tiny', random_weights: true, generate_s: 35.92, steps: 8 }));
    expect(lastPresetRun(dir, 'wan-tiny')).toEqual({ stepS: 4.49, file: join(dir, 'profile.json') });
    expect(lastPresetRun(dir, 'dit-tiny')).toBeUndefined();
    writeFileSync(join(dir, 'profile.json'), '{"wall_ms": {}}'); // the pipeline demo's
    expect(lastPresetRun(dir, 'wan-tiny')).toBeUndefined();
  });
  it('cpuStepNote with the last run: how many times the bound it took', () => {
    const line = cpuStepNote({ preset: 'wan-tiny', weights: 349920, tokens: 1536, batch: 2, steps: 8, fmaGflops: 53.5, last: { stepS: 4.49, file: 'out/profile.json' } });
    expect(line).toContain('at least 0.04 s a step, 0.32 s for 8 steps before the profiled repeats — a lower bound from FLOPs only');
    expect(line).toContain('; the last wan-tiny run here took 4.5 s a step, 112× this bound (out/profile.json): --steps N runs fewer');
  });
});

describe('demo --help says what the preset demo writes', () => {
  it('the summary names the preset demo files, without MP4', () => {
    expect(demoCommand.spec.summary).toContain('(--preset: clip.gif, trace.json, profile.json; no MP4)');
  });
  it.skipIf(!hasGpu)('CLI: a wan-tiny run writes exactly the files the help names for --preset, and its CPU line says lower bound', async () => {
    const out = join(tmp(), 'o');
    const r = await tesseraCli(['demo', '--preset', 'wan-tiny', '--steps', '1', '--repeats', '1', '--no-tune', '--out', out], { timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    const named = /\(--preset: ([^;]+); no MP4\)/.exec(demoCommand.spec.summary)![1]!.split(', ');
    expect(readdirSync(out).sort()).toEqual([...named].sort());
    expect(existsSync(join(out, 'clip.mp4'))).toBe(false);
    if (/CPU adapter:/.test(r.stdout)) expect(r.stdout).toContain('a lower bound from FLOPs only');
  });
});
