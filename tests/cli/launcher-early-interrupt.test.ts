// A Ctrl-C (or SIGTERM) while bin/tessera.mjs is still loading its own imports, before it has spawned the
// command's process, ended the launcher silently by the signal's default action: its relays were installed
// only after its static imports had loaded (a module's imports load before its first line runs). Now the
// relays come first and the imports after them, and a signal before the child exists prints the same one
// line as a later one (`tessera: stopped by SIGINT`, main.ts stoppedLine without its clause about outputs:
// nothing was started) and ends the launcher by the signal. Node's own start-up before the launcher's
// first line stays out of reach of any script: Node resets every signal to its default action at start.
// Without timing: a module customization hook (node --import) holds the launcher's first import and, from
// there, sends the launcher's process the signal, so the signal lands exactly while its imports load.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stoppedLine } from '../../src/cli/main.js';
import { nodeCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-early-interrupt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// the hooks run on their own thread: the first import the launcher itself makes is held (never let through
// within the test) after the signal named by HOLD_SIGNAL is sent to the process
const HOOKS = join(tmp, 'hold-hooks.mjs');
writeFileSync(
  HOOKS,
  `const launcher = ${JSON.stringify(pathToFileURL(join(ROOT, 'bin', 'tessera.mjs')).href)};
let sent = false;
export async function resolve(specifier, context, next) {
  if (context.parentURL === launcher) {
    if (!sent) process.kill(process.pid, process.env.HOLD_SIGNAL);
    sent = true;
    await new Promise((r) => setTimeout(r, 100_000));
  }
  return next(specifier, context);
}
`,
);
const REGISTER = join(tmp, 'register.mjs');
writeFileSync(REGISTER, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(HOOKS).href)});\n`);

describe.skipIf(process.platform === 'win32')('an interrupt while the launcher loads its imports', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s: the one stopped line a later one prints, and the end by the signal', async (sig) => {
    const r = await nodeCli(['--import', pathToFileURL(REGISTER).href, join(ROOT, 'bin', 'tessera.mjs'), 'version'], {
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', HOLD_SIGNAL: sig },
      timeoutMs: 60_000,
    });
    expect(r.stderr).toBe(`${stoppedLine(sig, false)}\n`);
    expect(r.stdout).toBe('');
    expect(r.code).toBeNull(); // ended by the signal (a timeout's SIGKILL would leave stderr empty)
  }, 90_000);
});
