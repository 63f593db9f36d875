// Issue 2: the set-up script (`npm run setup` → scripts/setup.sh) "must be idempotent, say what it does, and do nothing
// on a machine that already has an adapter". Run twice here, where Dawn finds an adapter and ffmpeg is installed, with
// apt-get, sudo and npm shadowed by stubs that log their call and fail: it exits 0 both times, names the adapter it
// found, and calls none of them (no package installed, no npm ci over a current node_modules).
import { execFile } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';

const onPath = (name: string): boolean =>
  (process.env.PATH ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'tessera-setup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const calls = join(work, 'calls.log');
for (const name of ['apt-get', 'sudo', 'npm']) {
  writeFileSync(join(work, name), `#!/bin/sh\necho "${name} $*" >> '${calls}'\nexit 1\n`);
  chmodSync(join(work, name), 0o755);
}

/** bash scripts/setup.sh with the stubs first on the PATH and without TESSERA_SETUP_BROWSER (Chromium is CI's). */
async function setup(): Promise<{ code: number; stdout: string; stderr: string }> {
  const { TESSERA_SETUP_BROWSER: _ci, ...env } = process.env;
  try {
    const r = await run('bash', [join(ROOT, 'scripts', 'setup.sh')], { cwd: ROOT, env: { ...env, PATH: `${work}${delimiter}${env.PATH ?? ''}`, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR ?? '/tmp' } });
    return { code: 0, ...r };
  } catch (e) {
    const f = e as { code?: number; stdout?: string; stderr?: string };
    return { code: f.code ?? -1, stdout: f.stdout ?? '', stderr: f.stderr ?? '' };
  }
}

describe.skipIf(!hasGpu || !onPath('ffmpeg'))('scripts/setup.sh on a machine that already has an adapter and ffmpeg', () => {
  it('twice: exit 0, "[setup] WebGPU adapter found: …", and no apt-get, sudo or npm call', async () => {
    for (let run = 1; run <= 2; run++) {
      const r = await setup();
      expect(r.code, `run ${run}: ${r.stderr}`).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toContain('[setup] npm packages already installed');
      expect(lines.some((l) => /^\[setup\] WebGPU adapter found: \S/.test(l))).toBe(true);
      expect(lines.some((l) => l.startsWith('[setup] ffmpeg present: '))).toBe(true);
      expect(lines.at(-1)).toBe('[setup] done');
      expect(existsSync(calls) ? readFileSync(calls, 'utf8') : '', `run ${run} called a package manager`).toBe('');
    }
  });
});
