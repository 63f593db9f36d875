// `npm run demo:web -- FLAGS` (scripts/serve-demo.ts): a bad flag is one line and exit 2 (an unknown
// one names the flag it most likely meant), a busy port one line suggesting --port and exit 1; never a
// stack. Spawned through tsx as package.json runs it (npm's own lines around a failing script aside).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distDir } from '../../scripts/build-demo.js';
import { checkBuild, pageUrl, serveHelp, serveOptions } from '../../scripts/serve-demo.js';

const root = join(import.meta.dirname, '..', '..');

function serveDemo(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts', 'serve-demo.ts'), ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run demo:web flags', () => {
  it.each([
    [['--', '--port', 'abc', '--no-build'], 'demo:web: --port must be an integer, got "abc"'],
    [['--port', '70000', '--no-build'], 'demo:web: --port must be between 0 and 65535, got 70000'],
    [['--port', '--no-build'], 'demo:web: --port needs a value (an integer)'],
    [['--prot', '18081'], 'demo:web: unknown flag --prot; did you mean --port? (flags: --port, --no-build, --no-tune, --help)'],
    [['--no-bild'], 'demo:web: unknown flag --no-bild; did you mean --no-build? (flags: --port, --no-build, --no-tune, --help)'],
    [['--port', '1', '--port', '2'], 'demo:web: --port is given more than once; give it once'],
  ])('%j: one line, exit 2, nothing served', async (args, line) => {
    const r = await serveDemo(args);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
  }, 90_000);

  it('a bad $PORT is named the same way', () => {
    expect(() => serveOptions([], { PORT: 'x' })).toThrow('$PORT must be an integer in 0..65535, got "x" (or give --port N)');
    expect(serveOptions([], { PORT: '9000' })).toEqual({ port: 9000, build: true, help: false, tune: true });
    expect(serveOptions(['--', '--port', '0', '--no-build'], {})).toEqual({ port: 0, build: false, help: false, tune: true });
  });

  // --no-tune was the CLI's common flag: listed in --help, taken, and the page autotuned all the same
  it('--no-tune: the URL printed carries the page\'s ?tune=off, and --help says so (not the CLI\'s tuning-cache text)', () => {
    const o = serveOptions(['--', '--no-tune', '--port', '0'], {});
    expect(o).toEqual({ port: 0, build: true, help: false, tune: false });
    expect(pageUrl('http://127.0.0.1:8080/', o)).toBe('http://127.0.0.1:8080/?tune=off');
    expect(pageUrl('http://127.0.0.1:8080/', serveOptions([], {}))).toBe('http://127.0.0.1:8080/');
    const help = serveHelp();
    expect(help).toMatch(/^npm run demo:web — /);
    expect(help).toMatch(/\n {2}--no-tune +no autotuning on the page: the URL printed ends in \?tune=off/);
    expect(help).not.toMatch(/tuning cache|TESSERA_TUNE|--debug/);
    expect(help.match(/--no-tune/g)).toHaveLength(2); // the usage line and its own line
  });

  it('a port in use: one line suggesting --port, exit 1, no stack', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await serveDemo(['--port', String(port), '--no-build']);
      expect(r.stderr).toBe(`demo:web: port ${port} on 127.0.0.1 is in use (another server, or an earlier demo:web still running): stop it, or pick another port with --port N (--port 0: any free port)\n`);
      expect(r.code).toBe(1);
    } finally {
      busy.close();
    }
  }, 90_000);

  it('--no-build without a build: one line saying so and what to run, exit 2 (it served 404s)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-demo-dist-'));
    try {
      expect(() => checkBuild(dir)).toThrow(`no build in ${dir} (index.html is missing): run without --no-build, or npm run build:demo first`);
      writeFileSync(join(dir, 'index.html'), '');
      expect(() => checkBuild(dir)).toThrow(`no build in ${dir} (main.js is missing): run without --no-build, or npm run build:demo first`);
      writeFileSync(join(dir, 'main.js'), '');
      expect(() => checkBuild(dir)).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // the script itself, on a checkout without a build (as a fresh clone); with one it would serve it
  it.skipIf(existsSync(join(distDir, 'index.html')))('--no-build on a checkout without a build: exit 2, no URL printed', async () => {
    const r = await serveDemo(['--', '--port', '0', '--no-build']);
    expect(r.stderr).toBe('demo:web: no build in examples/profiler/dist (index.html is missing): run without --no-build, or npm run build:demo first\n');
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
  }, 90_000);
});
