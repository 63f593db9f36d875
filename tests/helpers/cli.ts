// Runs the CLI (bin/tessera.mjs) as a child process. Asynchronous, not spawnSync: a test worker
// blocked in spawnSync misses vitest's RPC deadlines on a busy machine ("Timeout calling
// onTaskUpdate"), an unhandled error that fails the whole run although every test passed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tessera ...args` in the checkout root; killed after `timeoutMs` (code null, like spawnSync's timeout). */
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
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
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
