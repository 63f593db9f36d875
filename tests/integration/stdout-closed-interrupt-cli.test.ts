// Process behaviour, spawned. (1) A reader that closes stdout early (`tessera demo | head -1`) stops
// what is printed, not the run: demo printed its header, got EPIPE, and the launcher's handler ended
// the process with exit 0 before any of its files was written; now the run goes on, writes every
// file and exits with its own status. (2) An interrupt (SIGINT/SIGTERM) prints one line on stderr
// saying the run was stopped and what became of its outputs (it printed nothing), after ending a
// progress bar's line on a terminal; the exit stays the signal's (the launcher re-raises it).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { ROOT, tempDir } from '../hardening/helpers.js';

const BIN = join(ROOT, 'bin', 'tessera.mjs');
const ENV = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };

/**
 * Spawns `node bin/tessera.mjs ...args`; `closeStdout`: the reader is gone before the first line;
 * `signal` is sent once stderr matches `when`. Resolves with the exit code or signal and stderr.
 */
function spawnCli(args: string[], o: { env?: NodeJS.ProcessEnv; closeStdout?: boolean; signal?: NodeJS.Signals; when?: RegExp } = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: o.env ?? ENV });
    if (o.closeStdout) child.stdout.destroy();
    else child.stdout.resume();
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      if (o.signal && !sent && o.when!.test(stderr)) {
        sent = true;
        child.kill(o.signal);
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 280_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

const stopped = (sig: string) => `tessera: stopped by ${sig}: outputs not yet written were discarded (their temp files and the empty folders the run created removed)`;

describe.skipIf(!hasGpu)('stdout closed early, and interrupts', () => {
  it('demo with its stdout closed before the first line: every file written, exit 0, nothing on stderr but progress', async () => {
    const out = join(tempDir(), 'dd');
    const r = await spawnCli(['demo', '--steps', '1', '--repeats', '1', '--out', out, '-q'], { closeStdout: true });
    expect(r.stderr).not.toMatch(/error|EPIPE/i);
    expect([r.code, r.signal], r.stderr).toEqual([0, null]);
    const files = readdirSync(out);
    expect(files.filter((f) => f !== 'clip.mp4').sort()).toEqual(['clip.gif', 'profile.json', 'trace.json']);
  }, 300_000);

  it('SIGINT while denoising, stderr a terminal: the bar\'s line is ended, then the one stopped line; SIGINT; no output', async () => {
    const d = tempDir();
    // the command process itself (no launcher), told that its stderr is an 80-column terminal
    const env = { ...ENV, TESSERA_CLI_CHILD: '1', TESSERA_STDERR_TTY: '80' };
    const r = await spawnCli(['generate', '--steps', '20', '--out', join(d, 'o.safetensors')], { env, signal: 'SIGINT', when: /\rdenoising \[/ });
    expect(r.signal, r.stderr).toBe('SIGINT');
    expect(r.stderr).toMatch(/\rdenoising \[[#.]{30}\] \d+\/20 {2}[\d.]+ s\n/);
    expect(r.stderr.endsWith(`s\n${stopped('SIGINT')}\n`), JSON.stringify(r.stderr.slice(-300))).toBe(true);
    expect(readdirSync(d)).toEqual([]);
  }, 300_000);

  it('SIGTERM while denoising, through the launcher, plain lines: the last line says so; the launcher ends by SIGTERM; the folder it made is gone', async () => {
    const d = tempDir();
    const r = await spawnCli(['generate', '--steps', '20', '--out', join(d, 'o.safetensors'), '--frames-dir', join(d, 'new', 'fr')], { signal: 'SIGTERM', when: /^denoising 1\/20/m });
    expect(r.signal, r.stderr).toBe('SIGTERM');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(stopped('SIGTERM'));
    expect(lines.filter((l) => l.startsWith('tessera:'))).toHaveLength(1);
    expect(existsSync(join(d, 'new'))).toBe(false);
    expect(readdirSync(d)).toEqual([]);
  }, 300_000);
});
