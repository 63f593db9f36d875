import { describe, expect, it } from 'vitest';
import { decode as pngDecode } from 'fast-png';
import { GifReader } from 'omggif';
import {
  SD15_RGB,
  WAN21_RGB,
  encodeGif,
  encodePng,
  genericRgbMap,
  latentsToFrames,
  rgbMapFor,
  toByte,
} from '../../src/preview/preview.js';

function oneHot(C: number, c: number, value: number, F = 1, H = 1, W = 1): Float32Array {
  const x = new Float32Array(C * F * H * W);
  x.fill(value, c * F * H * W, (c + 1) * F * H * W);
  return x;
}

function pixel(frame: Uint8ClampedArray, width: number, x: number, y: number): number[] {
  const i = (y * width + x) * 4;
  return Array.from(frame.subarray(i, i + 4));
}

function gifFrames(bytes: Uint8Array): { reader: GifReader; frames: Uint8Array[] } {
  const reader = new GifReader(bytes);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < reader.numFrames(); i++) {
    const px = new Uint8Array(reader.width * reader.height * 4);
    reader.decodeAndBlitFrameRGBA(i, px);
    frames.push(px);
  }
  return { reader, frames };
}

describe('latent -> RGB map', () => {
  it('the factor tables have the documented shapes', () => {
    expect(WAN21_RGB.factors).toHaveLength(16);
    expect(SD15_RGB.factors).toHaveLength(4);
    expect(rgbMapFor('wan', 16).name).toBe('wan21');
    expect(rgbMapFor('dit', 4).name).toBe('sd15');
    expect(rgbMapFor('latte', 4).name).toBe('sd15');
    expect(rgbMapFor('wan', 4).name).toBe('generic');
  });
  it('bytes as ComfyUI preview_to_image: ((v+1)/2) clamped, *255, truncated', () => {
    expect([-2, -1, 0, 0.5, 1, 3, NaN].map(toByte)).toEqual([0, 0, 127, 191, 255, 255, 0]);
  });
  it('a one-hot Wan latent gives its factor row plus the bias', () => {
    for (const c of [0, 6, 14]) {
      const { frames, map } = latentsToFrames(oneHot(16, c, 1), [16, 1, 1, 1], 'wan');
      expect(map).toBe('wan21');
      const want = [0, 1, 2].map((k) => toByte(WAN21_RGB.factors[c]![k]! + WAN21_RGB.bias[k]!));
      expect(pixel(frames[0]!, 1, 0, 0)).toEqual([...want, 255]);
    }
    // zero latent -> the bias colour
    const z = latentsToFrames(new Float32Array(16), [16, 1, 1], 'wan');
    expect(pixel(z.frames[0]!, 1, 0, 0)).toEqual([...WAN21_RGB.bias.map(toByte), 255]);
  });
  it('a scaled one-hot SD latent (DiT [C,H,W]) gives the scaled row; hand-computed values', () => {
    // channel 3, value 1: [-0.2120, -0.2616, -0.7177] -> floor(0.394*255), floor(0.3692*255), floor(0.14115*255)
    const { frames, width, height } = latentsToFrames(oneHot(4, 3, 1, 1, 2, 3), [4, 2, 3], 'dit');
    expect([width, height, frames.length]).toEqual([3, 2, 1]);
    expect(pixel(frames[0]!, 3, 2, 1)).toEqual([100, 94, 35, 255]);
    // channel 1, value -2 on Latte: [0.325, 0.4974, 0.235] * -2
    const l = latentsToFrames(oneHot(4, 1, -2), [4, 1, 1, 1], 'latte');
    // v = [-0.65, -0.9948, -0.47] -> (v+1)/2 = [0.175, 0.0026, 0.265] -> *255, truncated
    expect(pixel(l.frames[0]!, 1, 0, 0)).toEqual([44, 0, 67, 255]);
  });
  it('channels mix linearly, frames follow F, pixels follow H and W', () => {
    // [C=4,F=2,H=1,W=2]: frame 1, pixel 1 has ch0 = 0.5, ch2 = -0.5; everything else 0
    const x = new Float32Array(4 * 2 * 1 * 2);
    const at = (c: number, f: number, w: number) => (c * 2 + f) * 2 + w;
    x[at(0, 1, 1)] = 0.5;
    x[at(2, 1, 1)] = -0.5;
    const { frames } = latentsToFrames(x, [4, 2, 1, 2], 'dit');
    expect(frames).toHaveLength(2);
    const want = [0, 1, 2].map((k) => toByte(0.5 * SD15_RGB.factors[0]![k]! - 0.5 * SD15_RGB.factors[2]![k]!));
    expect(pixel(frames[1]!, 2, 1, 0)).toEqual([...want, 255]);
    expect(pixel(frames[1]!, 2, 0, 0)).toEqual([127, 127, 127, 255]);
    expect(pixel(frames[0]!, 2, 1, 0)).toEqual([127, 127, 127, 255]);
  });
  it('generic map for channel counts without a published map', () => {
    const m = genericRgbMap(4);
    expect(m.factors).toEqual([[0.25, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.25, 0, 0]]);
    const { frames, map } = latentsToFrames(Float32Array.from([2, 1, -1, 2]), [4, 1, 1, 1], 'wan');
    expect(map).toBe('generic');
    expect(pixel(frames[0]!, 1, 0, 0)).toEqual([toByte(1), toByte(0.5), toByte(-0.5), 255]);
  });
  it('nearest-neighbour upscale', () => {
    const x = Float32Array.from([1, -1, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // [C=4,H=1,W=4], only ch0 set
    const { width, height, frames } = latentsToFrames(x, [4, 1, 4], 'dit', { upscale: 3 });
    expect([width, height]).toEqual([12, 3]);
    const f = frames[0]!;
    const src = latentsToFrames(x, [4, 1, 4], 'dit').frames[0]!;
    for (let y = 0; y < 3; y++) {
      for (let xx = 0; xx < 12; xx++) {
        expect(pixel(f, 12, xx, y)).toEqual(pixel(src, 4, Math.floor(xx / 3), 0));
      }
    }
    expect(pixel(f, 12, 0, 0)).not.toEqual(pixel(f, 12, 3, 0));
  });
  it('errors', () => {
    expect(() => latentsToFrames(new Float32Array(5), [4, 1, 1], 'dit')).toThrow(/5 values.*needs 4/);
    expect(() => latentsToFrames(new Float32Array(4), [4, 1], 'dit')).toThrow(/shape/);
    expect(() => latentsToFrames(new Float32Array(4), [4, 1, 1], 'dit', { upscale: 0 })).toThrow(/upscale/);
    expect(() => latentsToFrames(new Float32Array(4), [4, 1, 1], 'sd3' as never)).toThrow(/unknown family/);
  });
});

describe('PNG', () => {
  it('round-trips through fast-png decode', () => {
    const x = Float32Array.from({ length: 4 * 5 * 7 }, (_, i) => Math.sin(i * 0.37) * 1.5);
    const { width, height, frames } = latentsToFrames(x, [4, 5, 7], 'dit', { upscale: 2 });
    const png = encodePng(frames[0]!, width, height);
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const d = pngDecode(png);
    expect([d.width, d.height, d.channels, d.depth]).toEqual([14, 10, 4, 8]);
    expect(Array.from(d.data)).toEqual(Array.from(frames[0]!));
  });
  it('rejects a frame of the wrong size', () => {
    expect(() => encodePng(new Uint8ClampedArray(15), 2, 2)).toThrow(/15 bytes/);
  });
});

describe('GIF', () => {
  it('animated: header, frame count, size, delay, loop, colours close to the input', () => {
    const C = 16, F = 5, H = 6, W = 8;
    const x = Float32Array.from({ length: C * F * H * W }, (_, i) => Math.sin(i * 0.113) * 2);
    const { width, height, frames } = latentsToFrames(x, [C, F, H, W], 'wan', { upscale: 2 });
    const gif = encodeGif(frames, width, height, { fps: 4 });
    expect(new TextDecoder().decode(gif.subarray(0, 6))).toBe('GIF89a');
    expect(gif[gif.length - 1]).toBe(0x3b); // trailer
    const { reader, frames: decoded } = gifFrames(gif);
    expect([reader.width, reader.height, reader.numFrames()]).toEqual([16, 12, 5]);
    expect(reader.loopCount()).toBe(0); // forever
    expect(reader.frameInfo(0).delay).toBe(25); // 1/4 s in centiseconds
    for (let i = 0; i < F; i++) {
      let maxErr = 0;
      for (let j = 0; j < decoded[i]!.length; j++) maxErr = Math.max(maxErr, Math.abs(decoded[i]![j]! - frames[i]![j]!));
      expect(maxErr).toBeLessThanOrEqual(8); // palette colours come from 5-6-5 bit bins
    }
  });
  it('a single frame that is a view into a larger buffer', () => {
    const big = new Uint8ClampedArray(4 + 3 * 2 * 4);
    const view = big.subarray(4);
    for (let i = 0; i < view.length; i += 4) view.set([200, 10, 40, 255], i);
    const { reader, frames } = gifFrames(encodeGif([view], 3, 2));
    expect(reader.numFrames()).toBe(1);
    expect(reader.frameInfo(0).delay).toBe(13); // default 8 fps: 125 ms -> 12.5 cs, rounded
    expect(Array.from(frames[0]!.subarray(0, 4))).toEqual([200, 10, 40, 255]);
  });
  it('errors', () => {
    expect(() => encodeGif([], 2, 2)).toThrow(/no frames/);
    expect(() => encodeGif([new Uint8ClampedArray(16), new Uint8ClampedArray(12)], 2, 2)).toThrow(/frame 1: frame has 12 bytes, 2x2 RGBA needs 16/);
    expect(() => encodeGif([new Uint8ClampedArray(16)], 2, 2, { fps: 0 })).toThrow(/fps/);
  });
});
