// GIF frame delays are hundredths of a second: at 16 fps a constant 6 cs would play at 16.67 fps,
// so encodeGif alternates them (gifDelays) and the clip lasts frames/fps.
import { GifReader } from 'omggif';
import { describe, expect, it } from 'vitest';
import { encodeGif, GIF_MAX_FPS, GIF_MIN_FPS, gifDelays } from '../../src/preview/preview.js';
import { InputError } from '../../src/model/input-error.js';

describe('gifDelays', () => {
  it('alternate so that the clip lasts frames/fps to within half a centisecond', () => {
    expect(gifDelays(9, 16)).toEqual([6, 7, 6, 6, 6, 7, 6, 6, 6]);
    expect(gifDelays(3, 8)).toEqual([13, 12, 13]);
    expect(gifDelays(4, 25)).toEqual([4, 4, 4, 4]);
    for (const fps of [7, 12, 16, 24, 30, 33, 40, 50]) {
      for (const n of [1, 5, 9, 81]) {
        const d = gifDelays(n, fps);
        expect(Math.abs(d.reduce((a, b) => a + b, 0) - (n * 100) / fps), `${n} frames at ${fps} fps`).toBeLessThanOrEqual(0.5);
        // browsers play delays of 0 or 1 cs as 10 cs: up to GIF_MAX_FPS none is that short
        expect(Math.min(...d), `${n} frames at ${fps} fps`).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('encodeGif refuses more than 50 fps, saying why (1 cs delays play as 10 cs), rather than writing a GIF that plays slower', () => {
    const frame = new Uint8ClampedArray(4 * 4 * 4).fill(255);
    expect(GIF_MAX_FPS).toBe(50);
    for (const fps of [50.5, 60, 100]) {
      expect(() => encodeGif([frame, frame], 4, 4, { fps })).toThrow(
        new InputError(`encodeGif: fps must be in [0.00153, 50], got ${fps}: GIF frame delays are whole hundredths of a second, and browsers play delays under 2 cs as 10 cs`, { option: 'fps' }),
      );
    }
    expect(() => encodeGif([frame], 4, 4, { fps: -1 })).toThrow(new InputError('encodeGif: fps must be in [0.00153, 50], got -1', { option: 'fps' }));
    const r = new GifReader(encodeGif([frame, frame, frame], 4, 4, { fps: 50 }));
    expect(Array.from({ length: r.numFrames() }, (_, i) => r.frameInfo(i).delay)).toEqual([2, 2, 2]);
  });

  it('encodeGif refuses fewer than 0.00153 fps, whose delays (over 65535 cs) would wrap in their 16 bits, rather than writing a GIF that plays faster', () => {
    const frame = new Uint8ClampedArray(4 * 4 * 4).fill(255);
    expect(GIF_MIN_FPS).toBe(0.00153);
    // 0.001 fps was written with delays of 100000 mod 65536 = 34464 cs (0.0029 fps)
    for (const fps of [0.001, 0.0015, 1e-9]) {
      expect(() => encodeGif([frame, frame], 4, 4, { fps })).toThrow(
        new InputError(`encodeGif: fps must be in [0.00153, 50], got ${fps}: a GIF frame lasts at most 655.35 s (its delay is a 16-bit count of hundredths of a second)`, { option: 'fps' }),
      );
    }
    expect(() => encodeGif([frame], 4, 4, { fps: 0 })).toThrow(new InputError('encodeGif: fps must be in [0.00153, 50], got 0', { option: 'fps' }));
    expect(() => encodeGif([frame], 4, 4, { fps: NaN })).toThrow(new InputError('encodeGif: fps must be in [0.00153, 50], got NaN', { option: 'fps' }));
    // the slowest taken: 100/0.00153 = 65359.48 cs a frame, stored as written
    const r = new GifReader(encodeGif([frame, frame, frame], 4, 4, { fps: GIF_MIN_FPS }));
    expect(Array.from({ length: r.numFrames() }, (_, i) => r.frameInfo(i).delay)).toEqual([65359, 65360, 65359]);
  });

  it('encodeGif writes them: 9 frames at 16 fps last 56 cs (0.5625 s), not 54', () => {
    const frame = new Uint8ClampedArray(4 * 4 * 4).fill(255);
    const r = new GifReader(encodeGif(Array.from({ length: 9 }, () => frame), 4, 4, { fps: 16 }));
    const delays = Array.from({ length: r.numFrames() }, (_, i) => r.frameInfo(i).delay);
    expect(delays).toEqual([6, 7, 6, 6, 6, 7, 6, 6, 6]);
  });
});
