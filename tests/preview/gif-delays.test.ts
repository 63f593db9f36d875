// GIF frame delays are hundredths of a second: at 16 fps a constant 6 cs would play at 16.67 fps,
// so encodeGif alternates them (gifDelays) and the clip lasts frames/fps.
import { GifReader } from 'omggif';
import { describe, expect, it } from 'vitest';
import { encodeGif, gifDelays } from '../../src/preview/preview.js';

describe('gifDelays', () => {
  it('alternate so that the clip lasts frames/fps to within half a centisecond', () => {
    expect(gifDelays(9, 16)).toEqual([6, 7, 6, 6, 6, 7, 6, 6, 6]);
    expect(gifDelays(3, 8)).toEqual([13, 12, 13]);
    expect(gifDelays(4, 25)).toEqual([4, 4, 4, 4]);
    for (const fps of [7, 12, 16, 24, 30, 60, 100]) {
      for (const n of [1, 5, 9, 81]) {
        const d = gifDelays(n, fps);
        expect(Math.abs(d.reduce((a, b) => a + b, 0) - (n * 100) / fps), `${n} frames at ${fps} fps`).toBeLessThanOrEqual(0.5);
        expect(Math.min(...d)).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('encodeGif writes them: 9 frames at 16 fps last 56 cs (0.5625 s), not 54', () => {
    const frame = new Uint8ClampedArray(4 * 4 * 4).fill(255);
    const r = new GifReader(encodeGif(Array.from({ length: 9 }, () => frame), 4, 4, { fps: 16 }));
    const delays = Array.from({ length: r.numFrames() }, (_, i) => r.frameInfo(i).delay);
    expect(delays).toEqual([6, 7, 6, 6, 6, 7, 6, 6, 6]);
  });
});
