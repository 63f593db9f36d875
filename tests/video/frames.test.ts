// diffusers' output_type="np" mapping (VideoProcessor.postprocess_video / DiTPipeline) and the
// float → byte rounding of numpy_to_pil, checked element by element against a direct reading of
// the formulas (indices written out, not the implementation's loops).
import { describe, expect, it } from 'vitest';
import { postprocessSample, rgbaToRgb, videoToFrames } from '../../src/video/frames.js';
import { randn } from '../../src/random.js';

describe('postprocessSample: sample [B,3,F,H,W] → video [B,F,H,W,3] = (x/2 + 0.5).clamp(0, 1)', () => {
  it('maps every element of odd-sized video samples, batch 2, to its permuted place', () => {
    for (const [B, F, H, W] of [[2, 3, 5, 7], [1, 1, 1, 1], [1, 9, 4, 6]] as const) {
      const x = randn(B * 3 * F * H * W, B + F + H + W).map((v) => v * 1.5); // some beyond [-1, 1]
      const out = postprocessSample({ data: x, shape: [B, 3, F, H, W] });
      expect(out.shape).toEqual([B, F, H, W, 3]);
      for (let b = 0; b < B; b++)
        for (let c = 0; c < 3; c++)
          for (let f = 0; f < F; f++)
            for (let h = 0; h < H; h++)
              for (let w = 0; w < W; w++) {
                const v = x[(((b * 3 + c) * F + f) * H + h) * W + w]!;
                const want = Math.min(1, Math.max(0, Math.fround(v * 0.5) + 0.5));
                expect(out.data[(((b * F + f) * H + h) * W + w) * 3 + c]).toBeCloseTo(want, 6);
              }
    }
  });
  it('images [B,3,H,W] → [B,H,W,3] (DiTPipeline), clamped at both ends', () => {
    const x = Float32Array.from([-3, -1, 0, 1, 3, 0.5, /* G */ 0, 0, 0, 0, 0, 0, /* B */ 1, 1, 1, 1, 1, 1]);
    const out = postprocessSample({ data: x, shape: [1, 3, 2, 3] });
    expect(out.shape).toEqual([1, 2, 3, 3]);
    expect(Array.from(out.data.filter((_, i) => i % 3 === 0))).toEqual([0, 0, 0.5, 1, 1, 0.75]);
    expect(out.data.filter((_, i) => i % 3 === 1).every((v) => v === 0.5)).toBe(true);
    expect(out.data.filter((_, i) => i % 3 === 2).every((v) => v === 1)).toBe(true);
  });
  it('refuses shapes that are not [B,3,F,H,W] / [B,3,H,W] or do not match the data', () => {
    expect(() => postprocessSample({ data: new Float32Array(8), shape: [1, 2, 2, 2] })).toThrow(/3 \(RGB\) channels/);
    expect(() => postprocessSample({ data: new Float32Array(12), shape: [3, 4] })).toThrow(/\[B,3,F,H,W\] or \[B,3,H,W\]/);
    expect(() => postprocessSample({ data: new Float32Array(5), shape: [1, 3, 1, 2] })).toThrow(/needs 6/);
  });
});

describe('videoToFrames: [0,1] floats → RGBA bytes as numpy_to_pil ((x·255).round(), half to even)', () => {
  it('rounds, clamps, maps NaN to 0, and picks the batch item', () => {
    // item 1 of 2, one frame 1×4: values chosen on and around rounding edges
    const item0 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const item1 = [0.5, 2.4 / 255, 3.6 / 255, 1, 1.2, -0.1, NaN, 0.999, 0.0019, 0.25, 0.75, 1e-9];
    const v = videoToFrames({ data: Float32Array.from([...item0, ...item1]), shape: [2, 1, 1, 4, 3] }, 1);
    expect(v.width).toBe(4);
    expect(v.height).toBe(1);
    expect(v.frames).toHaveLength(1);
    const f = Array.from(v.frames[0]!);
    // 127.5 → 128 (the one exact half in [0, 1]; even), 2.4 → 2, 3.6 → 4 | 255, clamp 255, clamp 0 |
    // NaN → 0, 254.745 → 255, 0.48 → 0 | 63.75 → 64, 191.25 → 191, 0; alpha 255
    expect(f).toEqual([128, 2, 4, 255, 255, 255, 0, 255, 0, 255, 0, 255, 64, 191, 0, 255]);
  });
  it('splits frames in order and packs RGB24 for encoders', () => {
    const F = 3;
    const data = new Float32Array(F * 2 * 2 * 3);
    for (let f = 0; f < F; f++) data.fill(f / 2, f * 12, (f + 1) * 12);
    const v = videoToFrames({ data, shape: [1, F, 2, 2, 3] });
    expect(v.frames.map((fr) => fr[0])).toEqual([0, 128, 255]);
    const rgb = rgbaToRgb(v.frames[2]!);
    expect(rgb.length).toBe(12);
    expect(rgb.every((x) => x === 255)).toBe(true);
  });
  it('refuses channel-first data and a batch item out of range', () => {
    expect(() => videoToFrames({ data: new Float32Array(3 * 4), shape: [1, 3, 2, 2] })).toThrow(/\[B,F,H,W,3\]/);
    expect(() => videoToFrames({ data: new Float32Array(12), shape: [1, 1, 2, 2, 3] }, 1)).toThrow(/batch item 1/);
  });
});
