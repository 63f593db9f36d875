// `tessera <command>`: the command table and the one place errors become exit codes.
import '../node-env.js';
import { helpText, parseArgs, unknownName, UsageError, type CommandSpec, type Parsed } from './args.js';
import { errorLine, exitStatus } from './errors.js';
import { infoCommand } from './cmd-info.js';
import { benchCommand } from './cmd-bench.js';
import { forwardCommand } from './cmd-forward.js';
import { generateCommand } from './cmd-generate.js';
import { demoCommand } from './cmd-demo.js';
import { tuneCommand } from './cmd-tune.js';
import { defaultTuneMode, implicitTuneMinFlops, loadTuneCache, setDefaultTuneMode } from '../gpu/tune.js';
import { decodeCommand } from './cmd-decode.js';
import { encodeCommand } from './cmd-encode.js';
import { versionCommand } from './cmd-version.js';
import { endProgressLine, kernelProgress, setQuiet, stopProgress } from './progress.js';
import { watchAllKernels } from '../gpu/kernel.js';
import { discardOutputs } from '../io/node-write.js';

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

/** Subcommands; each lives in its own cmd-*.ts file. */
export const commands: Command[] = [infoCommand, forwardCommand, generateCommand, encodeCommand, decodeCommand, demoCommand, benchCommand, tuneCommand, versionCommand];

/** The commands that print progress (denoising, compiling/tuning kernels): their specs take --quiet (-q). */
export const QUIET_COMMANDS: readonly string[] = commands.filter((c) => c.spec.quiet).map((c) => c.spec.name);

export function topHelp(): string {
  return [
    'tessera — video diffusion transformers on WebGPU',
    '',
    'usage: tessera <command> [flags]   (tessera <command> --help, -h or tessera help <command> for its flags)',
    '',
    ...commands.map((c) => `  ${c.spec.name.padEnd(12)} ${c.spec.summary}`),
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
    stopping = discardOutputs({ stop: `interrupted by ${sig}` }).finally(() => {
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
      const names = commands.map((c) => c.spec.name);
      console.error(errorLine(new UsageError(`no command; give one of ${names.join(', ')} (usage below)`), false));
      console.error(topHelp());
      return 2;
    }
    console.log(topHelp());
    return 0;
  }
  const cmd = commands.find((c) => c.spec.name === name);
  const debug = args.includes('--debug');
  if (!cmd) {
    const names = commands.map((c) => c.spec.name);
    console.error(errorLine(new UsageError(unknownName('command', name, names, `unknown command "${name}"; commands: ${names.join(', ')}`)), false));
    return 2;
  }
  const signalsOff = cleanUpOnSignals();
  let unwatch = () => {};
  try {
    const p = parseArgs(cmd.spec, args);
    running = runProducts(cmd.spec.name, p);
    setQuiet(!!p.quiet);
    // --no-tune (args.ts COMMON; tune and version leave it out): deterministic heuristics, no tuning cache
    if (p['no-tune']) setDefaultTuneMode('off');
    if (p.help) {
      console.log(cmd.help?.(p) ?? helpText(cmd.spec));
      return 0;
    }
    if (cmd.gpu !== false) {
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
    if (code !== 0) await discardOutputs();
    return code;
  } catch (e) {
    // a failed run leaves no file: its temps, the writers still encoding and the folders it created go
    await discardOutputs();
    // an error caused by a signal not yet handled here (Ctrl-C reaches the whole group: ffmpeg, probed with
    // spawnSync, dies of it while this process is blocked) is no error: the event loop's next poll delivers the
    // signal (two check phases have a poll between them), and its clean-up prints the stopped line and ends the process
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
    if (stopping) await stopping.catch(() => {}); // a failed clean-up still leaves this error's line
    // kind and exit status from errors.ts's CLI_ERRORS: a bad tuning variable is the caller's usage, as a bad
    // TESSERA_MAX_GPU_MEMORY is; so is --dtype f16 the adapter cannot store (both UsageError, exit 2)
    console.error(errorLine(e, debug));
    return exitStatus(e);
  } finally {
    running = null;
    unwatch();
    signalsOff();
  }
}
