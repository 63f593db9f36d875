// A Ctrl-C before main.ts has its signal handlers (while tsx and the sources load, a second or more)
// ended the run with 130 and printed nothing, where a later one prints `tessera: stopped by SIGINT`.
// The launcher prints the line when its child ended by a relayed signal without printing it.
// Spawned directly (not tests/helpers/cli.ts): the test needs the launcher's pid to signal it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../hardening/helpers.js';
import { stoppedLine } from '../../src/cli/main.js';

/** The pids of `pid`'s children (Linux /proc), none when it has none or /proc does not say. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Spawns the launcher with `args` and sends it `sig` as soon as it has spawned its child (the
 * launcher's relaying handlers are installed in the same tick as that spawn): long before the child
 * has loaded main.ts. Resolves with the signal it ended by and its stderr.
 */
function interruptEarly(args: string[], sig: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'tessera.mjs'), ...args], { cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => (stderr += d));
    const poll = setInterval(() => {
      if (childrenOf(child.pid!).length === 0) return;
      clearInterval(poll);
      child.kill(sig);
    }, 5);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

describe.skipIf(process.platform !== 'linux')('an interrupt before the command has started', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s: the stopped line, as a later one prints, and the exit by the signal', async (sig) => {
    const r = await interruptEarly(['generate', '--seed', '1', '--out', join(tempDir(), 'o.safetensors')], sig);
    expect(r.signal, r.stderr).toBe(sig);
    const last = r.stderr.trimEnd().split('\n').at(-1);
    // the launcher's line (nothing written yet) or, on a machine slow enough to let main.ts start first, main's own
    expect([stoppedLine(sig, false), stoppedLine(sig, true)], r.stderr).toContain(last);
  }, 90_000);
});
