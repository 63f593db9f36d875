// The unit files share worker processes (vitest.config.ts, tests/helpers/shared-worker.ts): what one
// file changes in its process is put back before the next file in that worker starts.
import { tmpdir } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { saveProcessState } from '../helpers/process-state.js';

describe('saveProcessState', () => {
  it('puts back the environment (changed, added and deleted keys), the working directory, exitCode and stubbed globals', () => {
    const before = { env: { ...process.env }, cwd: process.cwd(), exitCode: process.exitCode, fetch: globalThis.fetch };
    const restore = saveProcessState();
    process.env.TESSERA_TUNE = 'auto';
    process.env.TESSERA_S20_ADDED = '1';
    delete process.env.GALLIVM_PERF;
    process.chdir(tmpdir());
    process.exitCode = 3;
    vi.stubGlobal('fetch', () => null);
    vi.stubGlobal('navigator', { gpu: {} });
    restore();
    expect(process.env).toEqual(before.env);
    expect(process.cwd()).toBe(before.cwd);
    expect(process.exitCode).toBe(before.exitCode);
    expect(globalThis.fetch).toBe(before.fetch);
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
  });
});
