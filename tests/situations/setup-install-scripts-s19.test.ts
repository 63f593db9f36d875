// npm 11's `npm warn install-scripts 3 packages have install scripts not yet covered by allowScripts: esbuild…,
// protobufjs…, webgpu…` during `npm run setup` left a fresh user unsure whether setup worked. setup.sh now says, in one
// line after npm ci and only when npm printed that warning, that it needs no action. Run on a copy of setup.sh in a
// folder without node_modules (so it runs npm ci), with npm stubbed (with and without the warning) and an adapter probe
// that finds one, so nothing is installed.
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/golden.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'tessera-setup-npm-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const NOTE = "[setup] npm's install-scripts warning above needs no action: tessera runs without those scripts (webgpu's postinstall acts only on macOS)";

/** setup.sh in a fresh copy of the layout it needs, npm stubbed to print `npmSays` on stderr; ffmpeg and apt-get stubbed too. */
async function setup(npmSays: string): Promise<string[]> {
  const dir = mkdtempSync(join(work, 'repo-'));
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'scripts', 'setup.sh'), join(dir, 'scripts', 'setup.sh'));
  writeFileSync(join(dir, 'package-lock.json'), '{}');
  writeFileSync(join(dir, 'scripts', 'probe-adapter.mjs'), 'console.log("stub adapter");\n');
  const stub = (name: string, body: string) => {
    writeFileSync(join(dir, 'bin', name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, 'bin', name), 0o755);
  };
  stub('npm', `echo "added 1 package"\n${npmSays ? `echo '${npmSays}' >&2` : ''}\nexit 0`);
  stub('ffmpeg', 'echo "ffmpeg version stub"');
  stub('apt-get', 'exit 1');
  const { TESSERA_SETUP_BROWSER: _ci, ...env } = process.env;
  const r = await run('bash', [join(dir, 'scripts', 'setup.sh')], { env: { ...env, PATH: `${join(dir, 'bin')}${delimiter}${env.PATH ?? ''}` } });
  return r.stdout.trim().split('\n');
}

describe('scripts/setup.sh after npm ci', () => {
  it("npm's install-scripts warning: one line saying it needs no action, after npm's output", async () => {
    const lines = await setup('npm warn install-scripts 3 packages have install scripts not yet covered by allowScripts:');
    expect(lines.filter((l) => l === NOTE)).toHaveLength(1);
    expect(lines.indexOf(NOTE)).toBeGreaterThan(lines.indexOf('npm warn install-scripts 3 packages have install scripts not yet covered by allowScripts:'));
    expect(lines.at(-1)).toBe('[setup] done');
  });

  it('no such warning: no such line', async () => {
    const lines = await setup('');
    expect(lines).toContain('[setup] installing npm packages (npm ci)');
    expect(lines).not.toContain(NOTE);
    expect(lines.at(-1)).toBe('[setup] done');
  });
});
