// `tessera <command>`: the command table and the one place errors become exit codes.
// Light on purpose: `tessera --version`, `--help` and a command's first line must not wait for the whole engine
// (Dawn's loader, the models, the kernels: ~130 modules, over a second through tsx on 2 cores). Only args.ts and
// progress.ts load with this file; a command's module, the Node wiring (node-env: the GPU provider), the tuning
// cache, the kernel watcher and the error table are imported when a run needs them
// (tests/cli/startup-imports.test.ts holds this file's static imports to that).
import { helpText, parseArgs, unknownName, UsageError, type CommandSpec, type Parsed } from './args.js';
import { endProgressLine, kernelProgress, setQuiet, stopProgress } from './progress.js';

export interface Command {
  spec: CommandSpec;
  run(p: Parsed): Promise<number | void>;
  /** Help text for `--help` when it depends on the arguments (e.g. `bench gemm --help`); default helpText(spec). */
  help?(p: Parsed): string;
  /** false: the command runs no kernels (version), so main skips the tuning cache and the compile/tune progress. */
  gpu?: false;
  /** The command loads the tuning cache itself (tune: after checking that it can save it), not main before it runs. */
  ownTuneCache?: true;
}

/**
 * A command as the top help and the dispatcher know it before its module is loaded: its name, its spec's summary and
 * quiet (the same values: tests/cli/startup-imports.test.ts compares them), and `load`, which imports its cmd-*.ts
 * module (the module's first import costs its whole import graph; later calls return the same Command).
 */
export interface CommandEntry {
  name: string;
  summary: string;
  /** The command prints progress and takes --quiet (-q): its spec's `quiet`. */
  quiet: boolean;
  load(): Promise<Command>;
}

/** Subcommands, in the top help's order; each lives in its own cmd-*.ts file, imported when it runs. */
export const COMMAND_TABLE: readonly CommandEntry[] = [
  { name: 'info', summary: 'show the WebGPU adapter, its features and limits, and the kernel variants that apply', quiet: false, load: async () => (await import('./cmd-info.js')).infoCommand },
  { name: 'forward', summary: "run one forward pass of a diffusers model folder (diffusers' output layout)", quiet: true, load: async () => (await import('./cmd-forward.js')).forwardCommand },
  {
    name: 'generate',
    summary: 'run the sampler (with CFG) on a transformer folder (latents out) or a pipeline folder (latents + decoded video); without either, the embedded tessera-shapes pipeline',
    quiet: true,
    load: async () => (await import('./cmd-generate.js')).generateCommand,
  },
  { name: 'encode', summary: "encode a prompt with a pipeline's tokenizer and UMT5 text encoder (WanPipeline prompt_embeds)", quiet: true, load: async () => (await import('./cmd-encode.js')).encodeCommand },
  { name: 'decode', summary: "decode latents to pixels with a diffusers VAE folder (diffusers' decoder output)", quiet: true, load: async () => (await import('./cmd-decode.js')).decodeCommand },
  {
    name: 'demo',
    summary:
      'a clip from a prompt through the whole embedded tessera-shapes pipeline (text encoder → denoising → VAE), every stage timed and profiled; writes out/clip.mp4 (with ffmpeg), clip.gif, trace.json, profile.json (--preset: clip.gif, trace.json, profile.json; no MP4)',
    quiet: true,
    load: async () => (await import('./cmd-demo.js')).demoCommand,
  },
  { name: 'bench', summary: 'validated benchmarks: ceiling, gemm, attention, layernorm, conv, block, model, vae, suite; plan (memory, no GPU)', quiet: true, load: async () => (await import('./cmd-bench.js')).benchCommand },
  {
    name: 'tune',
    summary: 'time candidate kernel variants for this adapter ahead of time and cache the winners (refused with --no-tune or TESSERA_TUNE=off, which turn tuning off)',
    quiet: true,
    load: async () => (await import('./cmd-tune.js')).tuneCommand,
  },
  { name: 'version', summary: "print tessera's version (also tessera --version)", quiet: false, load: async () => (await import('./cmd-version.js')).versionCommand },
];

/** Every command's module loaded (the whole engine: for tests and docs checks that read every spec, not for a run). */
export async function loadCommands(): Promise<Command[]> {
  // one after another: vitest's module runner can deadlock on concurrent dynamic imports of one circular graph
  const out: Command[] = [];
  for (const c of COMMAND_TABLE) out.push(await c.load());
  return out;
}

const COMMAND_NAMES = COMMAND_TABLE.map((c) => c.name);

/** The commands that print progress (denoising, compiling/tuning kernels): their specs take --quiet (-q). */
export const QUIET_COMMANDS: readonly string[] = COMMAND_TABLE.filter((c) => c.quiet).map((c) => c.name);

export function topHelp(): string {
  return [
    'tessera — video diffusion transformers on WebGPU',
    '',
    'usage: tessera <command> [flags]   (tessera <command> --help, -h or tessera help <command> for its flags)',
    '',
    ...COMMAND_TABLE.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`),
    '',
    'tessera --version prints the version, as tessera version does.',
    'Every command but tune (which refuses it) and version takes --no-tune: the adapter policy\'s deterministic kernel choices,',
    'no autotuning (cached choices are neither read nor written; TESSERA_TUNE=off does the same).',
    `${QUIET_COMMANDS.join(', ')} take --quiet (-q): no progress or informational lines on stderr (errors, warnings`,
    'and the results still print).',
  ].join('\n');
}

/**
 * What a run writes besides its report on stdout: 'files' (output files such as --out, --video, demo's
 * folder, bench --trace: written through node-write, so a failure or a signal discards what is not yet
 * renamed into place), 'cache' (tune: the tuning cache, saved by the tune store), or null (only the report).
 */
export type RunProducts = 'files' | 'cache' | null;

/** The flags naming output files (a demo's --out folder has a default, so demo always writes). */
const OUTPUT_FLAGS = ['out', 'video', 'preview', 'frames-dir', 'trace'] as const;

/** What command `name` run with the parsed flags `p` writes (see RunProducts). */
export function runProducts(name: string, p: Parsed): RunProducts {
  if (p.help) return null;
  if (name === 'tune') return 'cache';
  return OUTPUT_FLAGS.some((f) => p[f] !== undefined) ? 'files' : null;
}

/** What the command running now writes; null before its flags are parsed and after it ends. */
let running: RunProducts = null;

/**
 * Whether a reader closing stdout early should end the run now (bin/tessera.mjs asks on EPIPE): yes
 * when the run writes nothing but its report (info, bench without --trace, version: `tessera bench
 * suite | head -1` stops at once, as `cat` does); no when it has files or the tuning cache to write.
 */
export function stdoutIsTheOnlyProduct(): boolean {
  return running === null;
}

/**
 * The one line an interrupted run prints on stderr (whatever --quiet says) before it ends by the signal:
 * what stopped it and, for a run with output files (`files`), what became of them. Files renamed into
 * place before the signal stay. Other runs (tune's cache, which its store writes, or only a report) get
 * `tessera: stopped by SIG` alone: the clause would claim a clean-up that does not cover them.
 */
export function stoppedLine(sig: NodeJS.Signals, files: boolean): string {
  const what = files ? ': outputs not yet written were discarded (their temp files and the empty folders the run created removed)' : '';
  return `tessera: stopped by ${sig}${what}`;
}

/**
 * While a command runs, SIGINT/SIGTERM/SIGHUP (Ctrl-C, kill; bin/tessera.mjs relays them to this
 * process) first remove what the run has half-written (temp files, the ffmpeg writing one, output
 * folders it created that are still empty: discardOutputs), then end the process by the same signal
 * with its default action, as without a handler: the launcher re-raises it, so the shell sees 130
 * (SIGINT), 143 (SIGTERM) or 129 (SIGHUP). Before that it prints stoppedLine (a progress bar's line ended
 * first). One path for a signal at any point, denoising or writing.
 * Returns the function that removes the handlers.
 */
function cleanUpOnSignals(): () => void {
  const sigs = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  let going = false;
  const on = (sig: NodeJS.Signals) => {
    if (going) return; // a second Ctrl-C (the terminal signals the launcher's whole group) waits for the clean-up
    going = true;
    stopProgress(); // the run goes on while its outputs are discarded: it draws no bar above the stopped line
    stopping = discardRunOutputs({ stop: `interrupted by ${sig}` }).finally(() => {
      off();
      endProgressLine(); // a bar drawn in place on a terminal: the line below starts at the left
      console.error(stoppedLine(sig, running === 'files'));
      process.kill(process.pid, sig);
    });
  };
  const off = () => {
    for (const s of sigs) process.off(s, on);
  };
  for (const s of sigs) process.on(s, on);
  return off;
}

/**
 * The signal clean-up under way (cleanUpOnSignals), which ends the process: an error of the same moment waits for it.
 * Module-level and never reset: the CLI process exits once it settles.
 */
let stopping: Promise<void> | null = null;

/** io/node-write's discardOutputs, imported when a run ends badly or is stopped (a run with outputs has loaded it already). */
async function discardRunOutputs(opts?: { stop?: string }): Promise<void> {
  const { discardOutputs } = await import('../io/node-write.js');
  await discardOutputs(opts);
}

/** The one line of a usage error before any command runs (errors.ts, imported only for it). */
async function usageLine(message: string): Promise<string> {
  const { errorLine } = await import('./errors.js');
  return errorLine(new UsageError(message), false);
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...args] = argv;
  // --version is the version command; as a command it takes --help and refuses arguments like the others;
  // --help and -h in front are help (`tessera -h CMD` is `tessera help CMD`: CMD's help, an unknown CMD refused)
  const name = first === '--version' ? 'version' : first === '--help' || first === '-h' ? 'help' : first;
  // `tessera help CMD` is `tessera CMD --help`
  // (`help --no-tune` is the top help, as `help`; `help --no-tune CMD` is `CMD --help --no-tune`)
  // (`help --help`, `-h -h`: the top help)
  const named = args.filter((a) => a !== '--no-tune' && a !== '--help' && a !== '-h');
  if (name === 'help' && named.length) return main([...named, '--help', ...(args.includes('--no-tune') ? ['--no-tune'] : [])]);
  if (!name || name === 'help') {
    if (!name) {
      // no command: the one error line every usage error gets (README), then the usage; stderr, exit 2
      console.error(await usageLine(`no command; give one of ${COMMAND_NAMES.join(', ')} (usage below)`));
      console.error(topHelp());
      return 2;
    }
    console.log(topHelp());
    return 0;
  }
  const entry = COMMAND_TABLE.find((c) => c.name === name);
  const debug = args.includes('--debug');
  if (!entry) {
    console.error(await usageLine(unknownName('command', name, COMMAND_NAMES, `unknown command "${name}"; commands: ${COMMAND_NAMES.join(', ')}`)));
    return 2;
  }
  const signalsOff = cleanUpOnSignals();
  let unwatch = () => {};
  try {
    const cmd = await entry.load();
    const p = parseArgs(cmd.spec, args);
    running = runProducts(cmd.spec.name, p);
    setQuiet(!!p.quiet);
    // --no-tune (args.ts COMMON; tune and version leave it out): deterministic heuristics, no tuning cache
    if (p['no-tune']) (await import('../gpu/tune.js')).setDefaultTuneMode('off');
    if (p.help) {
      console.log(cmd.help?.(p) ?? helpText(cmd.spec));
      return 0;
    }
    if (cmd.gpu !== false) {
      // the Node wiring (Dawn as the GPU provider, folders from paths) and what runs before the command: loaded here, not
      // with this file, so that --version and --help wait for none of it
      await import('../node-env.js');
      const [{ defaultTuneMode, implicitTuneMinFlops, loadTuneCache }, { watchAllKernels }] = await Promise.all([import('../gpu/tune.js'), import('../gpu/kernel.js')]);
      // TESSERA_TUNE and TESSERA_TUNE_MIN_FLOPS read up front: a bad value stops the command before any work
      if (defaultTuneMode() !== 'off') {
        implicitTuneMinFlops();
        if (!cmd.ownTuneCache) await loadTuneCache(); // cached kernel choices apply while plans are recorded
      }
      // "compiling kernels i/N" while a plan's pipelines are created; one line when a run first autotunes.
      // Every device: the loaders acquire the devices of most commands.
      unwatch = watchAllKernels(kernelProgress());
    }
    const code = (await cmd.run(p)) ?? 0;
    if (code !== 0) await discardRunOutputs();
    return code;
  } catch (e) {
    // a failed run leaves no file: its temps, the writers still encoding and the folders it created go
    await discardRunOutputs();
    // an error caused by a signal not yet handled here (Ctrl-C reaches the whole group: ffmpeg, probed with
    // spawnSync, dies of it while this process is blocked) is no error: the event loop's next poll delivers the
    // signal (two check phases have a poll between them), and its clean-up prints the stopped line and ends the process
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
    if (stopping) await stopping.catch(() => {}); // a failed clean-up still leaves this error's line
    // kind and exit status from errors.ts's CLI_ERRORS: a bad tuning variable is the caller's usage, as a bad
    // TESSERA_MAX_GPU_MEMORY is; so is --dtype f16 the adapter cannot store (both UsageError, exit 2)
    const { errorLine, exitStatus } = await import('./errors.js');
    console.error(errorLine(e, debug));
    return exitStatus(e);
  } finally {
    running = null;
    unwatch();
    signalsOff();
  }
}
