// The demo's two progress counters: "denoising i/N  s" counted from before the text encoder (its bar was made
// before profilePipeline), "decoding frames i/N  s" from the decode's start, so a fresh user's "denoising 1/20
// 22.5 s" disagreed with the stage line's first step (18.28 s). Each now counts from its own stage's start.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stageBars } from '../../src/cli/cmd-demo.js';
import { captureStderr, saveTerminalState } from '../helpers/stderr.js';

describe('demo progress bars: each from its own stage', () => {
  const restoreTerminal = saveTerminalState();
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    restoreTerminal();
  });

  it('off a terminal: the seconds of "denoising" start at the transformer stage, those of "decoding frames" at the VAE', () => {
    delete process.env.TESSERA_STDERR_TTY;
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    vi.useFakeTimers();
    const out = captureStderr();
    const bars = stageBars();
    bars.stage('text_encoder');
    vi.advanceTimersByTime(5000); // the text encoder's 5 s
    bars.stage('transformer');
    vi.advanceTimersByTime(1500);
    bars.step(1, 2);
    vi.advanceTimersByTime(1000);
    bars.step(2, 2);
    bars.stage('vae');
    vi.advanceTimersByTime(700);
    bars.decode(9, 9);
    bars.decodeBlock(3, 3, 15, 15); // the last pass's read back: its line
    bars.done();
    expect(out).toEqual(['denoising 1/2  1.5 s elapsed\n', 'denoising 2/2  2.5 s elapsed\n', 'decoding frames 9/9  0.7 s elapsed\n']);
  });
});
