// A bad TESSERA_TUNE / TESSERA_TUNE_MIN_FLOPS stops a command before any work with one UsageError
// line naming the variable, the value and the accepted values, exit 2 (as TESSERA_MAX_GPU_MEMORY=abc);
// they were silently read as the defaults.
import { describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';

const env = (vars: Record<string, string>) => {
  const { TESSERA_TUNE: _t, TESSERA_TUNE_MIN_FLOPS: _f, ...rest } = process.env; // the suite's own TESSERA_TUNE=off
  return { ...rest, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...vars };
};

describe('the tuning variables on the command line', () => {
  it('TESSERA_TUNE=bogus / OFF: UsageError, exit 2, nothing on stdout', async () => {
    for (const v of ['bogus', 'OFF']) {
      const r = await tesseraCli(['info'], { env: env({ TESSERA_TUNE: v }) });
      expect(r.stdout, v).toBe('');
      expect(r.stderr.trim()).toBe(`tessera: error: UsageError: TESSERA_TUNE: "${v}" is not a tuning mode; expected off, cached or auto (lower case; unset: auto)`);
      expect(r.code).toBe(2);
    }
  });

  it('TESSERA_TUNE_MIN_FLOPS=abc / -1: UsageError, exit 2', async () => {
    for (const v of ['abc', '-1']) {
      const r = await tesseraCli(['info', '--json'], { env: env({ TESSERA_TUNE: 'auto', TESSERA_TUNE_MIN_FLOPS: v }) });
      expect(r.stdout, v).toBe('');
      expect(r.stderr.trim()).toBe(`tessera: error: UsageError: TESSERA_TUNE_MIN_FLOPS: "${v}" is not a number of FLOPs; expected a number ≥ 0 such as 0 or 1e7 (unset: 2^24 = 16777216)`);
      expect(r.code).toBe(2);
    }
  });

  it('--no-tune wins over TESSERA_TUNE, which is then not read', async () => {
    const r = await tesseraCli(['info', '--no-tune', '--json'], { env: env({ TESSERA_TUNE: 'bogus' }) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { tuning: { mode: string } }).tuning.mode).toBe('off');
  });
});
