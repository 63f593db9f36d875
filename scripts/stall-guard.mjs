// A child process run under a stall guard, for scripts/test.mjs: its stdout and stderr are passed through,
// and when it prints nothing for `stallMs` its whole process group (vitest, its workers, the CLI and browser
// processes they spawned) is killed. Why: twice under heavy load (sessions 23 and 25) a vitest worker sat idle
// (0 s of CPU for 18 minutes) with no test or hook running, so no test timeout fired and the run would have
// waited until CI's 90 minutes. A test run prints a line per finished file and per slow test; the longest file
// takes ~4 minutes, so minutes of silence mean a stall, not work.
import { spawn } from 'node:child_process';

/**
 * Runs `command args` in a process group of its own, its output copied to this process's stdout/stderr; with
 * `stallMs` 0, unguarded with the output inherited (a terminal: vitest's live lines, and a person to see a stall).
 * Resolves { status, signal, stalled }: `stalled` true when it printed nothing for `stallMs` milliseconds and
 * was killed (SIGKILL to the group), `status`/`signal` as the child ended.
 * @param {string} command @param {string[]} args
 * @param {{ stallMs: number, cwd?: string, env?: NodeJS.ProcessEnv, out?: NodeJS.WritableStream, err?: NodeJS.WritableStream }} o
 * @returns {Promise<{ status: number | null, signal: NodeJS.Signals | null, stalled: boolean }>}
 */
export function runStallGuarded(command, args, o) {
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  if (!o.stallMs) {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { cwd: o.cwd, env: o.env, stdio: 'inherit' });
      child.on('error', reject);
      child.on('close', (status, signal) => resolve({ status, signal, stalled: false }));
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stalled = false;
    let timer;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, o.stallMs);
    };
    child.stdout.on('data', (d) => (arm(), out.write(d)));
    child.stderr.on('data', (d) => (arm(), err.write(d)));
    // this process stopped (Ctrl+C in a terminal, CI cancelling): the group goes with it
    const stop = (sig) => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      process.kill(process.pid, sig);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    child.on('error', (e) => (clearTimeout(timer), reject(e)));
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve({ status, signal, stalled });
    });
    arm();
  });
}
