// encodeGif maps each pixel to its nearest palette entry. gifenc's applyPalette remembered one entry per RGB565
// bin, the one nearest to the first pixel of the bin in raster order, so a near-black background took the
// entry of a purple pixel met first: session 18's default clip (seed 0) had its last GIF frame's background at
// ~(5,0,8) where the video is ~(0,0,1), a purple flash where the GIF loops. Here a clip built the same way.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeGif, paletteIndex } from '../../src/preview/preview.js';
import { decodeGif } from '../helpers/media.js';
import { GifReader } from 'omggif';

const dir = mkdtempSync(join(tmpdir(), 'tessera-gifpal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const W = 16;
const H = 16;
/**
 * A black frame; with `purple`, its first pixel is (7,0,7) (black's RGB565 bin, nearer to the purple entry than to
 * black), 39 more are (5,0,10) (the next bin: a palette entry of their own) and 30 are reds of nearby greens.
 */
function frame(purple: boolean): Uint8ClampedArray {
  const f = new Uint8ClampedArray(W * H * 4);
  for (let p = 0; p < W * H; p++) f.set([0, 0, 0, 255], p * 4);
  if (purple) {
    f.set([7, 0, 7, 255], 0);
    for (let p = 1; p < 40; p++) f.set([5, 0, 10, 255], p * 20);
    for (let p = 0; p < 30; p++) f.set([200, 30 + p, 10, 255], (101 + p * 2) * 4);
  }
  return f;
}

/** The index of the palette entry nearest to (r, g, b), the lowest on a tie: by brute force. */
function nearest(palette: number[][], r: number, g: number, b: number): number {
  let k = 0;
  let best = Infinity;
  palette.forEach(([pr, pg, pb], j) => {
    const d = (pr! - r) ** 2 + (pg! - g) ** 2 + (pb! - b) ** 2;
    if (d < best) [best, k] = [d, j];
  });
  return k;
}

describe('encodeGif palette mapping', () => {
  it("every pixel of every frame is drawn in its frame palette's nearest colour", () => {
    const frames = [frame(false), frame(true), frame(false), frame(true)];
    const path = join(dir, 'clip.gif');
    const bytes = encodeGif(frames, W, H, { fps: 8 });
    writeFileSync(path, bytes);
    const back = decodeGif(path).frames;
    const reader = new GifReader(Buffer.from(bytes));
    back.forEach((f, i) => {
      const { palette_offset: at, palette_size: size } = reader.frameInfo(i);
      const palette = Array.from({ length: size ?? 0 }, (_, j) => [...bytes.subarray(at! + j * 3, at! + j * 3 + 3)]);
      const off: string[] = [];
      for (let p = 0; p < W * H; p++) {
        const [r, g, b] = [frames[i]![p * 4]!, frames[i]![p * 4 + 1]!, frames[i]![p * 4 + 2]!];
        const want = palette[nearest(palette, r, g, b)]!;
        const d = (c: number[]) => (c[0]! - r) ** 2 + (c[1]! - g) ** 2 + (c[2]! - b) ** 2;
        if (d([...f.slice(p * 4, p * 4 + 3)]) !== d(want)) off.push(`pixel ${p} (${r},${g},${b}) drawn ${f.slice(p * 4, p * 4 + 3).join(',')}, nearest ${want.join(',')}`);
      }
      expect(off, `frame ${i}`).toEqual([]);
      expect([...f.slice(4, 7)], `frame ${i}: the black background`).toEqual([0, 0, 0]);
    });
  });

  it('paletteIndex is the exact nearest entry for every pixel (random palettes and pictures, a gradient)', () => {
    let s = 7;
    const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) >> 8) & 255;
    for (let t = 0; t < 6; t++) {
      const palette = Array.from({ length: t === 0 ? 1 : 1 + (rand() % 256) }, () => [rand(), rand(), rand()]);
      if (t === 1) palette.push([...palette[0]!]); // a duplicate entry: the lower index wins the tie
      const n = 64 * 64;
      const px = new Uint8ClampedArray(n * 4);
      for (let p = 0; p < n; p++) {
        const [r, g, b] = t % 2 ? [rand(), rand(), rand()] : [(p % 64) * 4, ((p / 64) | 0) * 4, (p * 3) & 255];
        px.set([r, g, b, 255], p * 4);
      }
      const index = paletteIndex(px, palette);
      for (let p = 0; p < n; p++) expect(index[p]).toBe(nearest(palette, px[p * 4]!, px[p * 4 + 1]!, px[p * 4 + 2]!));
    }
  });

  it('paletteIndex on a frame of 2^23 pixels (one slot per colour, no hashing) is the exact nearest entry too', () => {
    let s = 11;
    const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) >> 8) & 255;
    const palette = Array.from({ length: 256 }, () => [rand(), rand(), rand()]);
    const n = 1 << 23;
    const px = new Uint8Array(n * 4);
    for (let p = 0; p < n; p++) px.set([p & 255, (p >> 8) & 255, (p >> 15) & 255, 255], p * 4);
    const index = paletteIndex(px, palette);
    const off: number[] = [];
    for (let p = 0; p < n; p += 4093) if (index[p] !== nearest(palette, px[p * 4]!, px[p * 4 + 1]!, px[p * 4 + 2]!)) off.push(p);
    expect(off).toEqual([]);
  });
});
