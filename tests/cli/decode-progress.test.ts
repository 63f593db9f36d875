// The CLI's decode progress (decodeProgress, on progressBar): "decoding frames i/N" (images for image
// latents) as the denoising steps show theirs: a bar redrawn on a terminal; off one, a line when a pass ends (a Wan
// decode's latent frame: 1 output frame, then 4 at once), at most one a second, the first and the last always, and
// inside a long pass "latent frame p/P: part i/M" at most every DECODE_DETAIL_EVERY_S; nothing with --quiet.
// (A 256×256 generate printed "decoding frames 1/9", "2/9", "6/9", "9/9": the first frame of each burst of four
// that a one-a-second limit let through, and 7–26 s of nothing before the first, during the first pass.)
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DECODE_DETAIL_EVERY_S, decodeProgress, progressBar, setQuiet } from '../../src/cli/progress.js';
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

  /** A Wan decode's calls for one pass, in Vae.decode's order: part 0, `parts - 1` pieces, its frames read back, the read-back part. */
  const pass = (bar: ReturnType<typeof decodeProgress>, p: number, passes: number, parts: number, frames: number[], total: number) => {
    for (let k = 0; k < parts; k++) bar.block(p, passes, k, parts);
    for (const f of frames) bar.update(f, total);
    bar.block(p, passes, parts, parts);
  };

  it('off a terminal: a line when a pass ends, with the frames decoded so far; at most one a second, the first and the last always', () => {
    offTerminal();
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    const out = captureStderr();
    const bar = decodeProgress(true, 'latent frame');
    pass(bar, 1, 4, 9, [1], 13); // printed: the first
    vi.setSystemTime(300);
    pass(bar, 2, 4, 15, [2, 3, 4, 5], 13); // within the second: dropped
    vi.setSystemTime(1300);
    pass(bar, 3, 4, 15, [6, 7, 8, 9], 13); // a second after the last line: the pass's last frame, not its first
    vi.setSystemTime(1400);
    pass(bar, 4, 4, 15, [10, 11, 12, 13], 13); // the last, whenever it comes
    bar.done();
    expect(out).toEqual(['decoding frames 1/13  0.0 s elapsed\n', 'decoding frames 9/13  1.3 s elapsed\n', 'decoding frames 13/13  1.4 s elapsed\n']);
    out.length = 0;
    const images = decodeProgress(false, 'pass');
    images.update(1, 2);
    expect(out).toEqual([]); // said when its pass ends
    images.block(1, 2, 4, 4);
    expect(out).toEqual(['decoding images 1/2  0.0 s elapsed\n']);
  });

  it('off a terminal, inside a long pass: where it is, at most every DECODE_DETAIL_EVERY_S (before the first frame: no count); the count never runs ahead', () => {
    offTerminal();
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    const out = captureStderr();
    const bar = decodeProgress(true, 'latent frame');
    const every = DECODE_DETAIL_EVERY_S * 1000;
    const s = (ms: number) => (ms / 1000).toFixed(1);
    vi.setSystemTime(every - 2000);
    bar.block(1, 3, 1, 9); // the clock started with the decode (the bar): no line yet
    vi.setSystemTime(every - 1);
    bar.block(1, 3, 2, 9);
    vi.setSystemTime(every);
    bar.block(1, 3, 3, 9); // DECODE_DETAIL_EVERY_S after the decode started (2 s after the first detail)
    vi.setSystemTime(every + 2000);
    bar.block(1, 3, 4, 9); // 2 s after the last line: dropped
    expect(DECODE_DETAIL_EVERY_S).toBeGreaterThan(2);
    vi.setSystemTime(every + 3000);
    for (let k = 5; k < 9; k++) bar.block(1, 3, k, 9);
    bar.update(1, 9);
    bar.block(1, 3, 9, 9); // the pass ends: its line whatever the detail's timing
    vi.setSystemTime(2 * every + 3000);
    bar.block(2, 3, 7, 15); // a detail DECODE_DETAIL_EVERY_S after the last line
    bar.update(2, 9); // a frame of pass 2 read back: said with the pass's end, not before
    vi.setSystemTime(2 * every + 3500);
    for (const f of [3, 4, 5]) bar.update(f, 9);
    bar.block(2, 3, 15, 15); // half a second after a detail line, a full pass after the last count: said
    expect(out).toEqual([
      `decoding frames  latent frame 1/3: part 3/9  ${s(every)} s elapsed\n`,
      `decoding frames 1/9  ${s(every + 3000)} s elapsed\n`,
      `decoding frames 1/9  latent frame 2/3: part 7/15  ${s(2 * every + 3000)} s elapsed\n`,
      `decoding frames 5/9  ${s(2 * every + 3500)} s elapsed\n`,
    ]);
  });

  it('off a terminal, a part longer than DECODE_DETAIL_EVERY_S: the position said again every DECODE_DETAIL_EVERY_S while a pass runs; none between passes or after done()', () => {
    offTerminal();
    vi.useFakeTimers({ now: 0 }); // Date and setInterval
    const out = captureStderr();
    const every = DECODE_DETAIL_EVERY_S * 1000;
    const s = (ms: number) => (ms / 1000).toFixed(1);
    const bar = decodeProgress(true, 'latent frame');
    bar.block(1, 3, 0, 8); // the first pass begins; its first part (the mid block) runs long
    vi.advanceTimersByTime(every - 1);
    expect(out).toEqual([]);
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(every - 1000); // the timer ticks each second: nothing until DECODE_DETAIL_EVERY_S more
    expect(out).toEqual([`decoding frames  latent frame 1/3: part 0/8  ${s(every)} s elapsed\n`]);
    vi.advanceTimersByTime(1000);
    for (let k = 1; k < 8; k++) bar.block(1, 3, k, 8);
    bar.update(1, 9);
    bar.block(1, 3, 8, 8);
    expect(out.slice(1)).toEqual([`decoding frames  latent frame 1/3: part 0/8  ${s(2 * every)} s elapsed\n`, `decoding frames 1/9  ${s(2 * every)} s elapsed\n`]);
    out.length = 0;
    vi.advanceTimersByTime(3 * every); // between passes (the next has not begun): nothing to say again
    expect(out).toEqual([]);
    bar.block(2, 3, 0, 15); // begins long after the last line: said at once
    bar.done();
    vi.advanceTimersByTime(3 * every);
    expect(out).toEqual([`decoding frames 1/9  latent frame 2/3: part 0/15  ${s(5 * every)} s elapsed\n`]);
    expect(vi.getTimerCount()).toBe(0);
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
    const bar = decodeProgress(true, 'latent frame');
    bar.block(1, 2, 1, 9); // before the first frame: no bar, no count
    for (const d of [1, 2, 3]) bar.update(d, 3);
    bar.block(2, 2, 3, 15);
    bar.done();
    bar.done();
    expect(out.length).toBe(6);
    expect(out[0]).toMatch(/^\rdecoding frames  latent frame 1\/2: part 1\/9  \d+\.\d s elapsed$/);
    expect(out[1]).toMatch(/^\rdecoding frames \[#{10}\.{20}\] 1\/3  \d+\.\d s elapsed/);
    expect(out[3]).toMatch(/^\rdecoding frames \[#{30}\] 3\/3  \d+\.\d s elapsed$/);
    expect(out[4]).toMatch(/^\rdecoding frames \[#{30}\] 3\/3  latent frame 2\/2: part 3\/15  \d+\.\d s elapsed$/);
    expect(out[5]).toBe('\n');
  });

  it('--quiet: nothing', () => {
    offTerminal();
    setQuiet(true);
    const out = captureStderr();
    const bar = decodeProgress(true, 'latent frame');
    bar.block(1, 1, 1, 9);
    bar.update(1, 1);
    bar.block(1, 1, 9, 9);
    bar.done();
    expect(out).toEqual([]);
  });
});
