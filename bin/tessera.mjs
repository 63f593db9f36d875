#!/usr/bin/env node
// CLI launcher.
// - Installed package (no src/ shipped): runs the compiled dist/cli/main.js. Nothing is generated
//   or compiled inside node_modules.
// - Checkout (src/cli/main.ts and the devDependency tsx present): regenerates src/kernels.gen.ts
//   from kernels/ when it is stale and runs the TypeScript sources through tsx, so there is no
//   build step to remember while developing. With TESSERA_CLI_BUILD=DIR (set by `npm test` for
//   its CLI spawns) it runs the checkout's fresh build in DIR (relative to the checkout) instead.
// Dawn prints two warnings from native code (fprintf to stderr, no log level to turn them off) on
// every adapter request on Mesa's Vulkan drivers ("maxDynamic…BuffersPerPipelineLayout
// artificially reduced …"). Mesa prints one when it cannot make its shader cache folder (a read-only
// or missing HOME: "Failed to create /home/u/.cache for shader cache (…)---disabling.", once per
// driver, on every command; the run works, only kernels compile cold; MESA_SHADER_CACHE_DIR moves it).
// None of them is about the command, so the command runs in a child process whose stderr is passed
// through with exactly those lines removed.

// Ctrl-C reaches the whole process group; the child decides, the launcher only relays what it did. The
// relays are this file's first statements, before its imports (dynamic, below: a static import loads before
// a module's first line runs, and a signal while it loaded ended the launcher silently by the signal's
// default action): a signal before the child exists ends the launcher with the line a later one prints
// (main.ts stoppedLine; nothing was started, so without its clause about outputs). Only Node's own start-up
// before this line is out of reach: Node resets every signal to its default action when it starts.
const RELAYED = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const stopped = (sig) => `tessera: stopped by ${sig}\n`;
let child = null;
/** Ends the launcher by `sig`, as the command's process ended (the exit status a shell expects: 130 for SIGINT). */
const endBy = (sig) => {
  process.removeAllListeners(sig);
  process.kill(process.pid, sig);
};
if (process.env.TESSERA_CLI_CHILD !== '1') {
  for (const sig of RELAYED) {
    process.on(sig, () => {
      if (child) child.kill(sig);
      else {
        process.stderr.write(stopped(sig));
        endBy(sig);
      }
    });
  }
}
const [{ spawn }, { existsSync }, { dirname, join }, { fileURLToPath, pathToFileURL }] = await Promise.all([import('node:child_process'), import('node:fs'), import('node:path'), import('node:url')]);

process.env.XDG_RUNTIME_DIR ??= '/tmp'; // silences a Vulkan loader warning on headless Linux
const self = fileURLToPath(import.meta.url);

if (process.env.TESSERA_CLI_CHILD !== '1') {
  // The relays are installed before the spawn too: the child is visible (e.g. in /proc) before spawn()
  // returns, and a signal then must not end this process by its default action, silently.
  child = spawn(process.execPath, [...process.execArgv, self, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'pipe'],
    // The child's stderr is a pipe: tell it whether ours is a terminal (progress bar vs plain lines).
    env: { ...process.env, TESSERA_CLI_CHILD: '1', TESSERA_STDERR_TTY: process.stderr.isTTY ? String(process.stderr.columns || 80) : '' },
  });
  const NOISE = [
    /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?\n$/,
    // Mesa's util/disk_cache_os.c, both forms
    /^Failed to create .+ for shader cache \(.+\)---disabling\.\r?\n$/,
    /^Cannot use .+ for shader cache \(not a directory\)---disabling\.\r?\n$/,
  ];
  const PREFIXES = ['Warning: maxDynamic', 'Failed to create ', 'Cannot use '];
  let pending = '';
  let tail = ''; // the end of what was passed through: did the child print its stopped line?
  const out = (s) => {
    process.stderr.write(s);
    tail = (tail + s).slice(-400);
  };
  const pump = (end) => {
    while (pending) {
      const nl = pending.indexOf('\n');
      if (nl < 0) {
        // a partial line (e.g. a progress bar redrawn with \r) goes out at once unless it may still become one of those lines
        if (!end && PREFIXES.some((p) => p.startsWith(pending) || pending.startsWith(p))) return;
        out(pending);
        pending = '';
        return;
      }
      const line = pending.slice(0, nl + 1);
      pending = pending.slice(nl + 1);
      if (!NOISE.some((re) => re.test(line))) out(line);
    }
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s) => {
    pending += s;
    pump(false);
  });
  child.stderr.on('end', () => pump(true));
  child.on('close', (code, signal) => {
    if (signal) {
      // A signal before main.ts has its handlers (loading tsx and the sources takes a second or more) or
      // after it removed them ends the child silently: the same line as main's (main.ts stoppedLine;
      // nothing was being written then, so without its clause about outputs).
      if (RELAYED.includes(signal) && !/(^|\n)tessera: stopped by SIG[A-Z]+[^\n]*\n?$/.test(tail)) out(`${tail && !tail.endsWith('\n') ? '\n' : ''}${stopped(signal)}`);
      endBy(signal);
    } else process.exitCode = code ?? 1;
  });
} else {
  // A reader that closes the pipe early (`tessera info | head -1`): no EPIPE stack trace. A run whose
  // only product is its report on stdout (info, bench without --trace, version; main's
  // stdoutIsTheOnlyProduct) ends at once, quietly, as `cat` does, instead of minutes of GPU work for
  // nobody. A run with files to write (`tessera demo | head -1`; generate, tune, bench --trace ...)
  // goes on, writes them and exits with its own status (exit 0 means every output was written); what
  // is left to print is dropped: the writes after the first EPIPE do nothing.
  let readerGone = false;
  let cli = null; // main.ts's module, once loaded
  process.stdout.on('error', (e) => {
    if (readerGone) return; // a write queued before the first EPIPE failing too
    if (e.code === 'EPIPE') {
      if (!cli || cli.stdoutIsTheOnlyProduct()) process.exit(process.exitCode ?? 0);
      readerGone = true;
      process.stdout.write = (_chunk, encoding, cb) => {
        const done = typeof encoding === 'function' ? encoding : cb;
        if (typeof done === 'function') process.nextTick(done);
        return true;
      };
      return;
    }
    console.error(`tessera: error: ${e.code ?? e.name}: writing to stdout: ${e.message}`);
    process.exit(1);
  });
  // process.exit() in the middle of a run is safe with GPU work in flight: the first acquireGpu registered an 'exit'
  // handler that destroys the run's devices first (src/gpu/device.ts destroyAcquiredGpus; without it the native exit
  // handlers ran beside the queue and the compiles, and the process died by SIGSEGV, CI once)
  const root = join(dirname(self), '..');
  const src = join(root, 'src', 'cli', 'main.ts');
  let entry = join(root, 'dist', 'cli', 'main.js');
  const build = process.env.TESSERA_CLI_BUILD;
  if (existsSync(src) && build) {
    // `npm test` compiles this checkout's src/ once into BUILD, a folder directly under the checkout
    // (scripts/test.mjs), and its CLI spawns run that: ~1 s less CPU per spawn than tsx.
    entry = join(root, build, 'cli', 'main.js');
    if (!existsSync(entry)) {
      console.error(`tessera: error: TESSERA_CLI_BUILD=${build}: no ${entry} (a build of src/, e.g. tsc -p tsconfig.build.json --outDir ${build}; unset it to run the sources)`);
      process.exit(1);
    }
  } else if (existsSync(src)) {
    let register = null;
    try {
      ({ register } = await import('tsx/esm/api'));
    } catch {
      /* a checkout without devDependencies: use dist/ if it was built */
    }
    if (register) {
      await import(pathToFileURL(join(root, 'scripts', 'gen-kernels.mjs')).href);
      register();
      entry = src;
    }
  }
  if (!existsSync(entry)) {
    console.error(`tessera: error: neither ${entry} nor the devDependency tsx is there: run npm install (a checkout) or reinstall the package`);
    process.exit(1);
  }
  cli = await import(pathToFileURL(entry).href);
  process.exitCode = await cli.main(process.argv.slice(2));
}
