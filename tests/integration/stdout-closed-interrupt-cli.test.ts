// Process behaviour, spawned. (1) A reader that closes stdout early (`tessera demo | head -1`) stops
// what is printed, not the run: demo printed its header, got EPIPE, and the launcher's handler ended
// the process with exit 0 before any of its files was written; now the run goes on, writes every
// file and exits with its own status. (2) An interrupt (SIGINT/SIGTERM) prints one line on stderr
// saying the run was stopped and what became of its outputs (it printed nothing), after ending a
// progress bar's line on a terminal; the exit stays the signal's (the launcher re-raises it).
// (3) A run whose only product is its report (bench without --trace) ends at once, quietly, when its
// reader goes (as `cat` does: no minutes of GPU work for nobody); one with an output file carries on.
// (4) The stopped line claims the clean-up of outputs only for runs that have output files.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { ROOT, tempDir } from '../hardening/helpers.js';
import { parseArgs } from '../../src/cli/args.js';
import { loadCommands, runProducts, stoppedLine } from '../../src/cli/main.js';

// every command's module (tessera's own run imports only the one it runs: main.ts)
const commands = await loadCommands();

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

describe('what a run writes besides stdout, and the stopped line that follows from it', () => {
  const parsed = (name: string, ...args: string[]) => runProducts(name, parseArgs(commands.find((c) => c.spec.name === name)!.spec, args));
  it('output files, the tuning cache, or only the report', () => {
    expect(parsed('generate', '--seed', '1', '--out', 'o.safetensors')).toBe('files');
    expect(parsed('demo')).toBe('files'); // --out defaults to out/
    expect(parsed('bench', 'gemm', '--m', '8', '--k', '8', '--n', '8', '--trace', 't.json')).toBe('files');
    expect(parsed('bench', 'gemm', '--m', '8', '--k', '8', '--n', '8')).toBe(null);
    expect(parsed('info')).toBe(null);
    expect(parsed('tune')).toBe('cache');
    expect(parsed('demo', '--help')).toBe(null);
  });
  it('the clause about discarded outputs only for runs with output files', () => {
    expect(stoppedLine('SIGINT', true)).toBe(stopped('SIGINT'));
    expect(stoppedLine('SIGTERM', false)).toBe('tessera: stopped by SIGTERM');
  });
});

describe.skipIf(!hasGpu)('a run with no output file when its reader goes or a signal comes', () => {
  const GEMM = ['bench', 'gemm', '--m', '64', '--k', '64', '--n', '64', '--repeats', '2', '--warmup', '1'];

  it('bench without --trace, stdout closed before the first line: ends at its first line, exit 0, before compiling any kernel', async () => {
    const r = await spawnCli(GEMM, { closeStdout: true });
    expect([r.code, r.signal, r.stderr]).toEqual([0, null, '']);
  }, 120_000);

  it('bench --trace, stdout closed: the run goes on and writes its trace, exit 0', async () => {
    const trace = join(tempDir(), 't.json');
    const r = await spawnCli([...GEMM, '--trace', trace], { closeStdout: true });
    expect([r.code, r.signal], r.stderr).toEqual([0, null]);
    expect(r.stderr).toMatch(/^compiling kernels/m);
    expect(JSON.parse(readFileSync(trace, 'utf8'))).toBeTruthy();
  }, 120_000);

  it('SIGINT to bench without --trace: the stopped line without the clause about outputs; SIGINT', async () => {
    const r = await spawnCli(GEMM, { signal: 'SIGINT', when: /^compiling kernels/m });
    expect(r.signal, r.stderr).toBe('SIGINT');
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('tessera: stopped by SIGINT');
  }, 120_000);
});

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
    // the bar as last drawn, maybe inside step 1 ("0/20  step 1: block 2/4", session 23) or padded over such a line
    expect(r.stderr).toMatch(/\rdenoising \[[#.]{30}\] \d+\/20 {2}(step \d+: block \d+\/\d+ {2})?[\d.]+ s elapsed *\n/);
    expect(r.stderr.replace(/ +\n/g, '\n').endsWith(`s elapsed\n${stopped('SIGINT')}\n`), JSON.stringify(r.stderr.slice(-300))).toBe(true);
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
