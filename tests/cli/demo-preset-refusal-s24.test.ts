// `demo --preset wan-14b` on an adapter whose buffers cannot hold its largest weight: refused in one line before
// the output folder, the CPU estimate line or the ceiling's GPU work (it printed a 12.5-minute estimate and measured
// the device first: user24 #4), as `bench model --preset wan-14b` refuses it; the line names the weight once and says
// that f16 would not fit either.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { tesseraCli } from '../helpers/cli.js';
import { tempDir } from '../hardening/helpers.js';

describe.skipIf(!hasGpu)('demo --preset refuses a model the adapter cannot hold before any GPU work', () => {
  it('wan-14b on 128 MiB bindings: one line, no estimate, no device line, no output folder', async () => {
    const out = join(tempDir(), 'o');
    const r = await tesseraCli(['demo', '--preset', 'wan-14b', '--out', out], { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' }, timeoutMs: 110_000 });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trim().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tessera: error: LimitError: the model's largest weight condition_embedder\.time_proj\.weight \[30720,5120\] is 600\.0 MiB in f32, above the adapter's per-buffer limit of 128\.0 MiB: a smaller model( \(in f16 it is still 300\.0 MiB\))?$/);
    expect(lines[0]).not.toMatch(/weight, weight/);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
