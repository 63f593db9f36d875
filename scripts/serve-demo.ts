// `npm run demo:web`: builds the profiler demo and serves examples/profiler/dist on 127.0.0.1.
// WebGPU needs a secure context; http://127.0.0.1 and http://localhost count as one.
// Options: --port N (default $PORT, else 8080; 0 = any free port), --no-build, --no-tune (the URL printed
// has ?tune=off: the page does not autotune; the tuning is the page's, in the browser), --help. A bad flag, or
// --no-build without a build, is one line and exit 2 (parsed as the CLI parses: src/cli/args.ts); a busy
// port one line and exit 1.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intInRange, helpText, nearestName, parseArgs, UnknownFlagError, UsageError, type CommandSpec } from '../src/cli/args.js';
import { buildDemo, distDir } from './build-demo.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.safetensors': 'application/octet-stream',
};

/** A static file server for `dir` on 127.0.0.1 (`port` 0 picks a free one). */
export async function serveStatic(dir: string, port = 0): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(normalize(dir) + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    const size = statSync(file).size;
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    // byte ranges (one `bytes=a-b` range), as static servers answer them: the page reads safetensors
    // weights (models/tessera-shapes/) by range, tensor by tensor (src/io/source.ts httpSource)
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (req.headers.range && range && (range[1] || range[2])) {
      const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
      const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start > end || start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      res.writeHead(206, { 'content-type': type, 'cache-control': 'no-store', 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': String(end - start + 1) });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', 'accept-ranges': 'bytes', 'content-length': String(size) });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const addr = server.address();
  const p = typeof addr === 'object' && addr ? addr.port : port;
  return { server, url: `http://127.0.0.1:${p}/`, close: () => new Promise((r) => server.close(() => r())) };
}

/** `npm run demo:web -- FLAGS`: the flags, parsed as the CLI's subcommands parse theirs (src/cli/args.ts). */
export const SERVE_SPEC: CommandSpec = {
  name: 'demo:web',
  summary: 'build the browser profiler and serve it on http://127.0.0.1:PORT/',
  usage: 'npm run demo:web -- [--port N] [--no-build] [--no-tune]',
  flags: {
    port: { type: 'int', arg: 'N', help: 'port on 127.0.0.1, 0 to 65535 (0: any free port; default $PORT, else 8080)' },
    'no-build': { type: 'bool', help: 'serve the last build (examples/profiler/dist) without building' },
    // the CLI's common --no-tune, in the page's terms: the autotuning runs in the browser, so the flag goes in the URL
    'no-tune': { type: 'bool', help: 'no autotuning on the page: the URL printed ends in ?tune=off (the page\'s own switch; leave it out of the address to tune again)' },
  },
};

/**
 * The --help of demo:web: SERVE_SPEC's flags and --help. The CLI's common --debug is taken and does nothing here
 * (no stack to print), and its common --no-tune line speaks of the tuning cache: both lines are left out.
 */
export function serveHelp(): string {
  return helpText({ ...SERVE_SPEC, without: { debug: 'unused', 'no-tune': 'unused' } }).replace(/^tessera demo:web/, 'npm run demo:web');
}

/**
 * The port and build choice of `argv` (npm's `--` separator dropped).
 * @throws UsageError one line: an unknown flag (with the flag it most likely meant), a repeated flag,
 *   or a port that is not an integer in 0..65535 (also $PORT).
 */
export function serveOptions(argv: string[], env: Record<string, string | undefined> = process.env): { port: number; build: boolean; help: boolean; tune: boolean } {
  let p;
  try {
    p = parseArgs(SERVE_SPEC, argv.filter((a) => a !== '--'));
  } catch (e) {
    if (!(e instanceof UnknownFlagError)) throw e;
    const names = Object.keys(SERVE_SPEC.flags);
    const near = nearestName(e.flag, names);
    throw new UsageError(`unknown flag --${e.flag}${near ? `; did you mean --${near}?` : ''} (flags: ${[...names, 'help'].map((n) => `--${n}`).join(', ')})`);
  }
  let port: number;
  if (p.port !== undefined) port = intInRange(p, 'port', 0, 65535);
  else {
    const v = env.PORT ?? '8080';
    port = Number(v);
    if (!/^\d+$/.test(v.trim()) || port > 65535) throw new UsageError(`$PORT must be an integer in 0..65535, got "${v}" (or give --port N)`);
  }
  return { port, build: !p['no-build'], help: !!p.help, tune: !p['no-tune'] };
}

/** The address printed for the page served at `url`: with --no-tune it carries the page's own switch, ?tune=off. */
export function pageUrl(url: string, opts: { tune: boolean }): string {
  return opts.tune ? url : `${url}?tune=off`;
}

/** The files a build of the demo has (build-demo.ts writes them); without them every page is a 404. */
const BUILD_FILES = ['index.html', 'main.js'];

/**
 * Refuses to serve `dir` when it holds no build (a fresh clone before any build, with --no-build).
 * @throws UsageError one line naming the folder and the missing file, and what to run.
 */
export function checkBuild(dir: string): void {
  const missing = BUILD_FILES.find((f) => !existsSync(join(dir, f)));
  if (missing === undefined) return;
  const rel = relative(process.cwd(), dir); // short when under the working folder (npm runs scripts at the root)
  const shown = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : dir;
  throw new UsageError(`no build in ${shown} (${missing} is missing): run without --no-build, or npm run build:demo first`);
}

/** Why listening on `port` failed, in one line with what to do; null for other errors. */
export function listenProblem(e: unknown, port: number): string | null {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return `port ${port} on 127.0.0.1 is in use (another server, or an earlier demo:web still running): stop it, or pick another port with --port N (--port 0: any free port)`;
  if (code === 'EACCES') return `port ${port} on 127.0.0.1 needs privileges this user lacks: pick a port above 1023 with --port N (--port 0: any free port)`;
  return null;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let opts: ReturnType<typeof serveOptions>;
  try {
    opts = serveOptions(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`demo:web: ${e.message.replace(/^tessera demo:web: /, '')}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log(serveHelp());
    process.exit(0);
  }
  if (opts.build) await buildDemo();
  let url: string;
  let close: () => Promise<void>;
  try {
    ({ url, close } = await serveStatic(distDir, opts.port));
  } catch (e) {
    const why = listenProblem(e, opts.port);
    if (!why) throw e;
    console.error(`demo:web: ${why}`);
    process.exit(1);
  }
  // checked once listening (a busy port is named whatever the build state); before any URL is printed
  try {
    checkBuild(distDir);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    await close();
    console.error(`demo:web: ${e.message}`);
    process.exit(2);
  }
  console.log(`tessera profiler demo: ${pageUrl(url, opts)}`);
  console.log('open it in Chrome/Edge 113+ (WebGPU); for fine-grained GPU timestamps start Chrome with --enable-webgpu-developer-features. Ctrl-C stops.');
}
