// `demo --preset wan-1.3b` on lavapipe printed ~30 "compiling kernels 1/1  0.1 s" lines (autotuning's candidates, the
// ceiling's kernels: plans of one pipeline each). kernelProgress now counts a one-pipeline plan within FOLD_MS of the
// last compile line into the next line it says (count and seconds), on a terminal and off one; plans of more
// pipelines, and a one-pipeline plan after FOLD_MS, are said as before.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FOLD_MS, kernelProgress } from '../../src/cli/progress.js';
import { captureStderr, saveTerminalState } from '../helpers/stderr.js';
import type { KernelEvent } from '../../src/gpu/kernel.js';

const compile = (done: number, total: number): KernelEvent => ({ type: 'compile', done, total });

describe('kernel progress: plans of one pipeline folded', () => {
  const restoreTerminal = saveTerminalState();
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    restoreTerminal();
  });

  /** A plan of `n` pipelines compiled in `ms`. */
  const plan = (show: (e: KernelEvent) => void, n: number, ms: number) => {
    show(compile(0, n));
    vi.advanceTimersByTime(ms);
    show(compile(n, n));
  };

  it('off a terminal: the first 1/1 said, the next ones within FOLD_MS counted into the next line', () => {
    delete process.env.TESSERA_STDERR_TTY;
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    vi.useFakeTimers();
    const out = captureStderr();
    const show = kernelProgress();
    plan(show, 1, 100);
    for (let i = 0; i < 30; i++) plan(show, 1, 100); // 3 s of one-pipeline plans
    expect(out).toEqual(['compiling kernels 1/1  0.1 s\n']);
    plan(show, 20, 600); // a plan of its own pipelines: said, with the 30 held
    expect(out.at(-1)).toBe('compiling kernels 50/50  3.6 s\n');
    vi.advanceTimersByTime(FOLD_MS);
    plan(show, 1, 100); // long after the last line: said
    expect(out.at(-1)).toBe('compiling kernels 1/1  0.1 s\n');
    expect(out).toHaveLength(3);
  });

  it('on a terminal: a folded plan draws no bar; the next bar counts it', () => {
    process.env.TESSERA_STDERR_TTY = '1';
    vi.useFakeTimers();
    const out = captureStderr();
    const show = kernelProgress();
    plan(show, 1, 100);
    const first = out.length;
    plan(show, 1, 100);
    plan(show, 1, 100);
    expect(out).toHaveLength(first);
    plan(show, 2, 100);
    expect(out.slice(first)).toEqual([expect.stringMatching(/^\rcompiling kernels \[#{15}\.{15}\] 2\/4  0\.0 s elapsed$/), expect.stringMatching(/^\rcompiling kernels \[#{30}\] 4\/4  0\.1 s elapsed$/), '\n']);
  });
});
