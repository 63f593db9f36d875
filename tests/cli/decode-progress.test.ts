// The CLI's decode progress (decodeProgress, on progressBar): "decoding frames i/N" (images for image
// latents) as the denoising steps show theirs: a bar redrawn on a terminal; off one, plain lines at most one
// a second with the first and the last always (a Wan decode gives four frames at once); nothing with --quiet.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeProgress, progressBar, setQuiet } from '../../src/cli/progress.js';
import { captureStderr, saveTerminalState } from '../helpers/stderr.js';

describe('CLI decode progress', () => {
  const restoreTerminal = saveTerminalState();
  const offTerminal = () => {
    delete process.env.TESSERA_STDERR_TTY;
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
  };
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
    setQuiet(false);
    restoreTerminal();
  });

  it('off a terminal: the first update, then at most one line a second, and the last', () => {
    offTerminal();
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    const out = captureStderr();
    const bar = decodeProgress(true);
    bar.update(1, 9); // printed: the first
    vi.setSystemTime(300);
    for (const d of [2, 3, 4, 5]) bar.update(d, 9); // within the second: dropped
    vi.setSystemTime(1300);
    bar.update(6, 9); // a second after the last line
    bar.update(7, 9);
    vi.setSystemTime(1400);
    bar.update(9, 9); // the last, whenever it comes
    bar.done();
    expect(out).toEqual(['decoding frames 1/9  0.0 s elapsed\n', 'decoding frames 6/9  1.3 s elapsed\n', 'decoding frames 9/9  1.4 s elapsed\n']);
    out.length = 0;
    decodeProgress(false).update(1, 2);
    expect(out).toEqual(['decoding images 1/2  0.0 s elapsed\n']);
  });

  it('off a terminal, without plainEvery (the denoising steps): every update a line', () => {
    offTerminal();
    const out = captureStderr();
    const bar = progressBar('denoising');
    for (const d of [1, 2, 3]) bar.update(d, 3);
    expect(out.map((l) => l.replace(/\d+\.\d s/, 'T'))).toEqual(['denoising 1/3  T elapsed\n', 'denoising 2/3  T elapsed\n', 'denoising 3/3  T elapsed\n']);
  });

  it('on a terminal: every update redrawn in place, one newline at the end however often done() is called', () => {
    process.env.TESSERA_STDERR_TTY = '80';
    const out = captureStderr();
    const bar = decodeProgress(true);
    for (const d of [1, 2, 3]) bar.update(d, 3);
    bar.done();
    bar.done();
    expect(out.length).toBe(4);
    expect(out[0]).toMatch(/^\rdecoding frames \[#{10}\.{20}\] 1\/3  \d+\.\d s elapsed$/);
    expect(out[2]).toMatch(/^\rdecoding frames \[#{30}\] 3\/3  \d+\.\d s elapsed$/);
    expect(out[3]).toBe('\n');
  });

  it('--quiet: nothing', () => {
    offTerminal();
    setQuiet(true);
    const out = captureStderr();
    const bar = decodeProgress(true);
    bar.update(1, 1);
    bar.done();
    expect(out).toEqual([]);
  });
});
