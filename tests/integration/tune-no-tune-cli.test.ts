// `tessera tune` with --no-tune or TESSERA_TUNE=off: both turn autotuning off (no cache read or
// written, as the global help says), so tune refuses them with one UsageError line, exit 2,
// before the GPU is acquired (it tuned anyway and printed '(cached)' choices).
import { describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';

const WHAT = "turns autotuning off (no cached choice is read or written), and tune's job is to time kernel variants and cache the winners";

describe('tune refuses the settings that turn tuning off', () => {
  const env = (tune?: string) => {
    const { TESSERA_TUNE: _t, ...rest } = process.env; // the suite's own TESSERA_TUNE=off
    return { ...rest, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...(tune ? { TESSERA_TUNE: tune } : {}) };
  };
  it('--no-tune', async () => {
    const r = await tesseraCli(['tune', '--no-tune', '--quick'], { env: env() });
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(`tessera: error: UsageError: tessera tune: --no-tune ${WHAT}: drop --no-tune to tune`);
    expect(r.code).toBe(2);
  });
  it('TESSERA_TUNE=off', async () => {
    const r = await tesseraCli(['tune', '--quick'], { env: env('off') });
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(`tessera: error: UsageError: tessera tune: TESSERA_TUNE=off ${WHAT}: unset it (or TESSERA_TUNE=auto) to tune`);
    expect(r.code).toBe(2);
  });
  it('the global help says so', async () => {
    const r = await tesseraCli(['--help'], { env: env() });
    expect(r.stdout).toContain("Every command but tune (which refuses it) and version takes --no-tune: the adapter policy's deterministic kernel choices,");
    const t = await tesseraCli(['tune', '--help'], { env: env() });
    expect(t.stdout.split('\n')[0]).toBe('tessera tune — time candidate kernel variants for this adapter ahead of time and cache the winners (refused with --no-tune or TESSERA_TUNE=off, which turn tuning off)');
  });
});
