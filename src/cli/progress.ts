// Progress on stderr: a one-line bar redrawn in place on a terminal; plain lines elsewhere (logs,
// CI, pipes), one per update, so a long run shows it is alive.
import type { KernelEvent } from '../gpu/kernel.js';

let quiet = false;

/**
 * --quiet (-q): progress bars, the kernel compile/tune lines and info() lines print nothing from
 * here on; errors, warnings and results are printed by their own code and still appear.
 */
export function setQuiet(q: boolean): void {
  quiet = q;
}

/** Set by stopProgress: the run was interrupted, and its progress is drawn no more. */
let stopped = false;

/**
 * An interrupted run (Ctrl-C, SIGTERM: main.ts's signal handler) draws no more progress: the work still
 * going on while its outputs are discarded (a decode's next plan compiling) would otherwise draw a fresh
 * "compiling kernels [....] 0/N" bar above the "stopped" line. Bars and the kernel lines print nothing
 * from here on; a bar already mid-line is ended by endProgressLine.
 */
export function stopProgress(): void {
  stopped = true;
}

/** An informational line on stderr (what is being loaded, encoded, decoded, timed), silenced by --quiet. */
export function info(line: string): void {
  if (!quiet) console.error(line);
}

/** Whether --quiet was given (for informational lines that go to stdout, e.g. tune's). */
export function isQuiet(): boolean {
  return quiet;
}

/** Whether stderr is a terminal. The bin launcher runs the CLI with stderr piped through a filter and says so in TESSERA_STDERR_TTY. */
export function stderrIsTTY(): boolean {
  return process.stderr.isTTY === true || (process.env.TESSERA_STDERR_TTY ?? '') !== '';
}

/** Whether a terminal bar was drawn and its line not yet ended (endProgressLine ends it). */
let midLine = false;

/**
 * Ends the line of a progress bar left drawn in place on a terminal (an interrupted run), so the next
 * line on stderr starts at the left; nothing when no bar is mid-line (plain lines, --quiet, no bar).
 */
export function endProgressLine(): void {
  if (midLine) process.stderr.write('\n');
  midLine = false;
}

/** Off a terminal, a bar's updates with a `detail` (progress inside a unit) print at most one line per this many seconds. */
export const DETAIL_EVERY_S = 10;

/**
 * The same for a decode's passes (decodeProgress): a pass's parts are few and uneven (the embedded VAE at 256×256 on
 * lavapipe: its mid block, attention over the latent frame's pixels, 5–6 s of a 7–8 s pass), so a detail at most every
 * 5 s: a line comes at the first part boundary 5 s after the last line.
 */
export const DECODE_DETAIL_EVERY_S = 5;

/**
 * A progress bar on stderr for `done` of `total` units (steps, frames), silenced by --quiet: redrawn in place
 * on a terminal; elsewhere one plain line per update ("LABEL done/total  secs s elapsed", seconds since the bar
 * was made: "elapsed" so that a cold run's "denoising 2/20  6.8 s elapsed", most of it the first step's kernel
 * compiling, does not read as 6.8 s per step), or with `plainEvery` seconds at most one line per that many
 * seconds (counting the lines without a detail), the first and the last update always printed (for updates that
 * come in bursts or many a second).
 * `detail`: progress inside the unit under way, after the count ("denoising 0/20  step 1: block 12/30  48.0 s
 * elapsed"): on a terminal drawn with every update (a shorter line after it is padded over it); off a terminal a
 * detail is printed only DETAIL_EVERY_S (or `detailEvery`) seconds or more after the bar's last line (before any line, after its first
 * detail, or with `detailFromStart` after the bar was made), so a long unit shows it is alive and a short one (a first step whose kernels compile in its first block)
 * adds no line to logs. A `total` of 0 is a count not known yet (a decode before its first frame): the line says the
 * label and the detail only (no bar, no "done/total"). `done()` ends the terminal's line.
 */
export function progressBar(label: string, opts: { plainEvery?: number; detailEvery?: number; detailFromStart?: boolean } = {}): { update(done: number, total: number, detail?: string): void; done(): void } {
  const tty = stderrIsTTY();
  const start = Date.now();
  let drawn = false;
  // off a terminal: when the last line was printed (or, before any, the first detail came; with detailFromStart, the bar was made)
  let lastLine: number | undefined = opts.detailFromStart ? start : undefined;
  let lastCount: number | undefined; // off a terminal: when the last line without a detail was printed (plainEvery's)
  let width = 0; // the terminal line's length as last drawn
  return {
    update(done, total, detail) {
      if (quiet || stopped) return;
      const now = Date.now();
      const secs = ((now - start) / 1000).toFixed(1);
      const inside = detail !== undefined ? `  ${detail}` : '';
      if (!tty) {
        if (detail !== undefined && lastLine === undefined) lastLine = now;
        if (detail !== undefined && now - lastLine! < (opts.detailEvery ?? DETAIL_EVERY_S) * 1000) return;
        if (detail === undefined && opts.plainEvery !== undefined && done < total && lastCount !== undefined && now - lastCount < opts.plainEvery * 1000) return;
        lastLine = now;
        if (detail === undefined) lastCount = now;
        process.stderr.write(`${label}${total ? ` ${done}/${total}` : ''}${inside}  ${secs} s elapsed\n`);
        return;
      }
      const w = 30;
      const fill = total ? Math.round((done / total) * w) : 0;
      const line = `${label}${total ? ` [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${done}/${total}` : ''}${inside}  ${secs} s elapsed`;
      process.stderr.write(`\r${line}${' '.repeat(Math.max(0, width - line.length))}`);
      width = line.length;
      drawn = midLine = true;
    },
    done() {
      if (tty && drawn) endProgressLine();
      drawn = false;
    },
  };
}

/**
 * The denoising bar's words inside a step, from generate's onBlock(step, steps, block, blocks): the bar keeps counting
 * the steps done (step − 1) and says which step is under way and how far: "step 1: block 12/30".
 */
export function blockDetail(step: number, block: number, blocks: number): string {
  return `step ${step}: block ${block}/${blocks}`;
}

/**
 * Progress of a VAE decode: "decoding frames done/total" (video latents: every output frame of every batch item) or
 * "decoding images done/total" (image latents, `video` false), as the denoising steps show theirs (progressBar: a bar
 * on a terminal, plain lines elsewhere, nothing with --quiet). `update` is Vae.decode's onProgress (Pipeline.generate's
 * onDecodeProgress), `block` its onBlock (onDecodeBlock); both are needed. A decode runs in passes (Wan: one per latent
 * frame, giving 1 output frame, then 4 each) and reads a pass's frames back at its end, all at once: off a terminal a
 * line is printed when a pass ends, with the frames decoded so far (1, 5, 9 …: never frames still under way), at most
 * one a second (a short decode runs many passes a second), the first and the last always. Inside a long pass (tens of
 * seconds at a large size on a CPU adapter) the bar's detail says where it is, "latent frame 2/3: part 7/20" (`unit`
 * "latent frame" for a Wan VAE, "pass" for a KL one, whose passes are groups of images), off a terminal at most once
 * per DECODE_DETAIL_EVERY_S, counted from the decode's start; before the first frame, without a count. A single part
 * can take longer than that (the mid block's attention over a latent frame's pixels: 5 s at 256×256 on lavapipe, far
 * more at 512×512), so while a pass is under way a timer says its last position again once DECODE_DETAIL_EVERY_S has
 * gone without a line ("part 0/15": the pass began, none of its parts is done yet). On a terminal every update, and
 * that timer each second, redraws the bar. `done()` stops the timer.
 */
export function decodeProgress(
  video: boolean,
  unit: 'latent frame' | 'pass',
): { update(done: number, total: number): void; block(pass: number, passes: number, part: number, parts: number): void; done(): void } {
  // the bar is made as the decode starts: its first pass (the kernels' first dispatches, the mid block) is said from then
  const bar = progressBar(`decoding ${video ? 'frames' : 'images'}`, { plainEvery: 1, detailEvery: DECODE_DETAIL_EVERY_S, detailFromStart: true });
  const tty = stderrIsTTY();
  let [done, total] = [0, 0];
  let where: string | undefined; // the pass under way and its parts done; undefined between passes
  // the bar's own limit (DECODE_DETAIL_EVERY_S since its last line) keeps these ticks from printing more often
  const timer = isQuiet() ? undefined : setInterval(() => where !== undefined && bar.update(done, total, where), 1000);
  timer?.unref(); // it never keeps the process alive
  return {
    update(d, t) {
      [done, total] = [d, t];
      if (tty) bar.update(done, total);
    },
    block(pass, passes, part, parts) {
      // a pass's last part is its read back: its frames are all decoded (update came for each)
      if (part === parts) {
        where = undefined;
        bar.update(done, total);
        return;
      }
      where = `${unit} ${pass}/${passes}: part ${part}/${parts}`;
      bar.update(done, total, where);
    },
    done() {
      clearInterval(timer);
      bar.done();
    },
  };
}

let kernelStage: string | null = null;

/**
 * What the "compiling kernels" lines compile for from now on ("text encoder": `compiling text encoder kernels 6/6  0.3 s`),
 * or null for no word (commands of one stage). The demo sets it at each stage of its run, as the browser profiler's line says it.
 */
export function setKernelStage(what: string | null): void {
  kernelStage = what;
}

/** How long after a "compiling kernels" line a plan of one pipeline is counted into the next line instead of said (ms). */
export const FOLD_MS = 30_000;

/**
 * The CLI's watcher of kernel work (KernelEvents of every device: src/gpu/kernel.ts watchAllKernels):
 * - 'compile': "compiling kernels i/N" redrawn in place on a terminal as the pipelines of a plan
 *   finish; elsewhere one plain line per plan once all of its pipelines are done (logs stay short).
 *   Plans of one pipeline (autotuning's candidates, lone kernels: a wan-1.3b demo printed ~30 "compiling
 *   kernels 1/1" lines) say nothing within FOLD_MS of the last compile line: they are counted into the next
 *   line said (its count and seconds), or said once that long has passed.
 * - 'tune': the first time a run's own tuning (not `explicit`: mode auto, buckets not cached) is about
 *   to time kernel candidates, one line saying so, where the choices are cached and how to skip it;
 *   later plans of the same run say nothing more (the "compiling kernels" lines go on showing the run
 *   is alive). `tessera tune` and benchmarks, which call tunePlan, print their own lines.
 */
export function kernelProgress(): (e: KernelEvent) => void {
  const tty = stderrIsTTY();
  let bar: ReturnType<typeof progressBar> | null = null;
  let start = Date.now();
  let tuneSaid = false;
  // one-pipeline plans not said yet (counted into the next line), and when the last compile line was said
  const held = { pipelines: 0, ms: 0 };
  let saidAt = -Infinity;
  let folding = false;
  const compiled = (done: number, total: number) => {
    if (done === 0) {
      start = Date.now();
      folding = total === 1 && start - saidAt < FOLD_MS;
    }
    if (folding) {
      if (done === total) {
        held.pipelines += total;
        held.ms += Date.now() - start;
      }
      return;
    }
    const [d, t] = [done + held.pipelines, total + held.pipelines];
    // the stage's words inside the line's words ("compiling text encoder kernels 6/6  0.3 s"): a progress line stays
    // words, a count and seconds, the form scripts (and the tests) recognise and filter
    const what = kernelStage === null ? 'kernels' : `${kernelStage} kernels`;
    if (tty) {
      bar ??= progressBar(`compiling ${what}`);
      bar.update(d, t);
    } else if (done === total) {
      process.stderr.write(`compiling ${what} ${d}/${t}  ${((Date.now() - start + held.ms) / 1000).toFixed(1)} s\n`);
    }
    if (done === total) {
      bar?.done();
      bar = null;
      saidAt = Date.now();
      held.pipelines = held.ms = 0;
    }
  };
  let tuneLineAt = 0;
  let tuneStart = 0;
  return (e) => {
    if (quiet || stopped) return;
    if (e.type === 'compile') return compiled(e.done, e.total);
    if (e.explicit) return;
    const now = Date.now();
    if (e.done === 0) tuneStart = now;
    if (!tuneSaid) {
      tuneSaid = true;
      tuneLineAt = now;
      const cache = e.where ? `cached in ${e.where}` : 'not cached: no tuning store';
      // no count: later plans of the run (the transformer after the text encoder) may tune more buckets
      process.stderr.write(`tuning kernels for this adapter: timing candidate kernels per shape (first run for these shapes; ${cache}; --no-tune skips)\n`);
      return;
    }
    // a long tuning (minutes at 1024², user24 #2) shows where it is: at most a line every TUNE_LINE_MS, the plan's
    // shapes timed so far and the one now timed ("tuned shapes", apart from the one "tuning kernels" line above)
    if (e.done < e.total && now - tuneLineAt >= TUNE_LINE_MS) {
      tuneLineAt = now;
      process.stderr.write(`tuned shapes ${e.done}/${e.total}, now ${e.family} ${e.bucket}  ${((now - tuneStart) / 1000).toFixed(1)} s\n`);
    }
  };
}

/** The least time between two "tuned shapes i/N" lines of a run's own autotuning (ms). */
export const TUNE_LINE_MS = 10_000;

// "1 step", "2 steps": the CLI's messages import it from here
export { plural } from '../plural.js';
