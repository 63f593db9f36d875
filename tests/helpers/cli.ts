// Runs the CLI (bin/tessera.mjs) as a child process. Asynchronous, not spawnSync: a test worker
// blocked in spawnSync misses vitest's RPC deadlines on a busy machine ("Timeout calling
// onTaskUpdate"), an unhandled error that fails the whole run although every test passed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

const root = join(import.meta.dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The line a test helper adds to a spawn's stderr when its kill timer ended it: the failure then says why the
 * process was gone (a bare code null or -1 read as a crash).
 */
export const killedLine = (ms: number): string => `[test helper: killed after ${ms / 1000} s, its timeoutMs]`;

/** `tessera ...args` in the checkout root; killed after `timeoutMs` (code null, like spawnSync's timeout; killedLine on stderr). */
export function tesseraCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return nodeCli([join(root, 'bin', 'tessera.mjs'), ...args], opts);
}

/** `node ...argv` (a script and its arguments) in the checkout root, as tesseraCli. */
export function nodeCli(argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd: root,
      env: opts.env ?? { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
    });
    let stdout = '';
    let stderr = '';
    const ms = opts.timeoutMs ?? 120_000;
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, ms);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: killed ? `${stderr}${killedLine(ms)}\n` : stderr });
    });
  });
}

/**
 * `tessera ...args` through the CLI's own entry (src/cli/main.ts main()) in this process: its exit code
 * (what bin/tessera.mjs exits with) and what it printed on stdout and stderr, as tesseraCli gives them,
 * without the two Node starts and the module load a spawn costs (~1–2 s of CPU each on 2 cores). For
 * what happens before any GPU work (usage refusals, help text); what the process boundary does (the
 * launcher's stderr filter, signals, EPIPE, a process's own GPU and Mesa start) needs tesseraCli.
 * `env`: set for the call (undefined unsets), restored after. Not for concurrent calls (console and
 * the std streams are replaced while it runs).
 *
 * Module state the CLI keeps lives on between calls in one worker (vitest's unit files share modules,
 * isolate: false), unlike a spawn's fresh process:
 * - the tuning cache: its path ($XDG_CACHE_HOME/tessera/tune.json, src/gpu/tune-store-node.ts) is fixed when
 *   the module is first imported, and main() loads its entries once (loadTuneCache), so a call's `env` with
 *   another XDG_CACHE_HOME or HOME reads and writes the first cache: a test of the cache's folder spawns
 *   (tesseraCli), as tests/cli/tune-cache-folder.test.ts does. Tuned choices a call saves stay loaded for the next.
 * - --quiet (src/cli/progress.ts setQuiet): each main() sets it from its flags once they parse; a call refused
 *   while parsing leaves the previous call's setting, and after the last call it stays as that call left it
 *   (library info() lines in later tests of the worker print nothing after a --quiet call).
 * - an interrupted run's stopProgress (progress.ts) is never undone: progress stays off in the worker.
 * - --no-tune's default tune mode is reset here after each call (setDefaultTuneMode(null)).
 * TESSERA_TUNE / TESSERA_TUNE_MIN_FLOPS and TESSERA_MAX_GPU_MEMORY are read per call, so `env` serves them.
 */
export async function tesseraInProcess(args: string[], opts: { env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  // one import after the other: started together, vitest's module runner can hand the second chain a module the
  // first is still evaluating (an import cycle through src/node-env.ts), and node-env's setTuneStore then met
  // tune.ts's `store` before its initialisation (a TDZ ReferenceError in tune-cli, session 20's second cold run)
  const { main } = await import('../../src/cli/main.js');
  const { setDefaultTuneMode } = await import('../../src/gpu/tune.js');
  let stdout = '';
  let stderr = '';
  const saved = { log: console.log, info: console.info, error: console.error, warn: console.warn, out: process.stdout.write, err: process.stderr.write };
  const savedEnv = Object.fromEntries(Object.keys(opts.env ?? {}).map((k) => [k, process.env[k]]));
  const set = (env: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  const text = (chunk: unknown) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
  console.log = console.info = (...a: unknown[]) => void (stdout += `${format(...a)}\n`);
  console.error = console.warn = (...a: unknown[]) => void (stderr += `${format(...a)}\n`);
  // write(chunk[, encoding][, callback]): the callback called as a stream would once written
  const writer = (add: (s: string) => void) =>
    ((chunk: unknown, ...rest: unknown[]) => {
      add(text(chunk));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (done) process.nextTick(done);
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = writer((s) => (stdout += s));
  process.stderr.write = writer((s) => (stderr += s));
  set(opts.env ?? {});
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    setDefaultTuneMode(null); // what --no-tune set for the process (main's one piece of state a call leaves behind)
    set(savedEnv);
    Object.assign(console, { log: saved.log, info: saved.info, error: saved.error, warn: saved.warn });
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
  }
}

/**
 * The env for a CLI spawn that counts the bytes its processes read through FileHandle.read
 * (tests/helpers/bytes-read.mjs, preloaded), and `read()`: their total once the spawn has exited.
 */
export function bytesReadEnv(dir: string): { env: Record<string, string>; read: () => number } {
  const file = join(dir, 'bytes-read.txt');
  const preload = pathToFileURL(join(root, 'tests', 'helpers', 'bytes-read.mjs')).href;
  return {
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim(), TESSERA_TEST_BYTES_READ: file },
    read: () => readFileSync(file, 'utf8').trim().split('\n').reduce((a, l) => a + Number(l), 0),
  };
}

/**
 * The env for a CLI spawn that counts how often its processes read the files whose paths end in `suffixes`
 * (fs.readFileSync and fs/promises readFile; tests/helpers/reads-of.mjs, preloaded), and `reads()`: the counts by
 * suffix, summed over its processes, once the spawn has exited.
 */
export function readsOfEnv(dir: string, suffixes: string[]): { env: Record<string, string>; reads: () => Record<string, number> } {
  const file = join(dir, 'reads-of.txt');
  const preload = pathToFileURL(join(root, 'tests', 'helpers', 'reads-of.mjs')).href;
  return {
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim(), TESSERA_TEST_READS_OF: suffixes.join('\n'), TESSERA_TEST_READS_OUT: file },
    reads: () => {
      const sum: Record<string, number> = Object.fromEntries(suffixes.map((s) => [s, 0]));
      for (const line of readFileSync(file, 'utf8').trim().split('\n')) for (const [k, v] of Object.entries(JSON.parse(line) as Record<string, number>)) sum[k]! += v;
      return sum;
    },
  };
}
