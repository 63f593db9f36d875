// Decoded pixels → 8-bit RGBA frames for the GIF/PNG/MP4 writers and the browser page.
// Browser-safe: no Node APIs.
//
// The float layout is what diffusers' pipelines return with output_type="np":
// VideoProcessor.postprocess_video (diffusers/video_processor.py) takes the decoder sample
// [B, 3, F, H, W] in [-1, 1], permutes each item to [F, 3, H, W], and VaeImageProcessor.postprocess
// (diffusers/image_processor.py) maps it with denormalize `(x * 0.5 + 0.5).clamp(0, 1)` and
// pt_to_numpy (permute to channels-last): [B, F, H, W, 3] in [0, 1]. DiTPipeline does the same for
// images: [B, 3, H, W] → [B, H, W, 3].

import { InputError, shown, type TensorData } from '../model/model.js';
import { roundHalfEven } from '../sampler/scheduler.js';

/** 8-bit RGBA frames of one clip (what encodeGif/encodePng/the MP4 encoders take). */
export interface RgbaFrames {
  /** Frame width in pixels. */
  width: number;
  /** Frame height in pixels. */
  height: number;
  /** One width·height·4 array per frame, alpha 255. */
  frames: Uint8ClampedArray[];
}

/**
 * The shape of `t` when every dim is a positive integer: a negative or fractional one gave a
 * negative-sized output of zeros, or a shape that disagrees with the data it holds.
 * @throws InputError naming `what` and the shape.
 */
function checkDims(t: TensorData, what: string, layout: string): number[] {
  const s: unknown = t?.shape;
  if (!Array.isArray(s) || !t.data || typeof t.data.length !== 'number') throw new InputError(`${what}: expected { data: Float32Array, shape: number[] } (${layout}), got ${t?.data ? `shape ${shown(s)}` : shown(t)}`);
  if (s.some((d) => !Number.isInteger(d) || d < 1)) throw new InputError(`${what}: every dim must be a positive integer, got [${s.join(',')}]`);
  return s as number[];
}

/**
 * The decoder's sample (F32, [-1, 1] nominal) to diffusers' output_type="np" layout in [0, 1]:
 * [B, 3, F, H, W] → [B, F, H, W, 3] (VideoProcessor.postprocess_video) and [B, 3, H, W] →
 * [B, H, W, 3] (DiTPipeline). Each value is (x/2 + 0.5) clamped to [0, 1] (NaN stays NaN, as in torch).
 * @throws InputError (before any arithmetic) when the shape is neither, has a dim that is not a positive
 *   integer, a channel count other than 3, or does not match the data length.
 */
export function postprocessSample(sample: TensorData): TensorData {
  const s = checkDims(sample, 'postprocess: sample', 'shape [B,3,F,H,W] or [B,3,H,W]');
  if (s.length !== 4 && s.length !== 5) throw new InputError(`postprocess: sample must be [B,3,F,H,W] or [B,3,H,W], got [${s.join(',')}]`);
  if (s[1] !== 3) throw new InputError(`postprocess: sample must have 3 (RGB) channels in dim 1, got [${s.join(',')}]`);
  const [B, C, F, H, W] = (s.length === 5 ? s : [s[0]!, s[1]!, 1, s[2]!, s[3]!]) as [number, number, number, number, number];
  if (sample.data.length !== B * C * F * H * W) throw new InputError(`postprocess: sample has ${sample.data.length} values, shape [${s.join(',')}] needs ${B * C * F * H * W}`);
  const out = new Float32Array(sample.data.length);
  const plane = H * W;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < 3; c++) {
      for (let f = 0; f < F; f++) {
        const src = ((b * 3 + c) * F + f) * plane; // sample[b, c, f]
        const dst = (b * F + f) * plane * 3 + c; // out[b, f, :, :, c]
        for (let p = 0; p < plane; p++) {
          const v = sample.data[src + p]! * 0.5 + 0.5;
          out[dst + p * 3] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
      }
    }
  }
  return { data: out, shape: s.length === 5 ? [B, F, H, W, 3] : [B, H, W, 3] };
}

/**
 * One batch item of a video [B, F, H, W, 3] (or images [B, H, W, 3], one frame) in [0, 1] to RGBA
 * bytes, rounded as diffusers' numpy_to_pil does: `(x * 255).round()`, half to even as numpy (NaN → 0).
 * @throws InputError for a bad shape (a dim that is not a positive integer included), channel count or batch index.
 */
export function videoToFrames(video: TensorData, item = 0): RgbaFrames {
  const s = checkDims(video, 'frames: video', 'shape [B,F,H,W,3] or [B,H,W,3]');
  if ((s.length !== 5 && s.length !== 4) || s[s.length - 1] !== 3) throw new InputError(`frames: video must be [B,F,H,W,3] or images [B,H,W,3] in [0,1], got [${s.join(',')}]`);
  const [B, F, H, W] = (s.length === 5 ? s : [s[0]!, 1, s[1]!, s[2]!]) as [number, number, number, number];
  if (!Number.isInteger(item) || item < 0 || item >= B) throw new InputError(`frames: batch item ${item} is outside [0, ${B})`);
  if (video.data.length !== B * F * H * W * 3) throw new InputError(`frames: video has ${video.data.length} values, shape [${s.join(',')}] needs ${B * F * H * W * 3}`);
  const frames: Uint8ClampedArray[] = [];
  const per = H * W * 3;
  for (let f = 0; f < F; f++) {
    const base = (item * F + f) * per;
    const rgba = new Uint8ClampedArray(H * W * 4);
    for (let p = 0; p < H * W; p++) {
      for (let c = 0; c < 3; c++) rgba[p * 4 + c] = roundHalfEven(video.data[base + p * 3 + c]! * 255) || 0; // clamped to [0, 255] by the array
      rgba[p * 4 + 3] = 255;
    }
    frames.push(rgba);
  }
  return { width: W, height: H, frames };
}

/** RGBA frames → packed RGB24 (what ffmpeg's rawvideo rgb24 input and most encoders take). */
export function rgbaToRgb(frame: Uint8ClampedArray | Uint8Array): Uint8Array {
  const n = frame.length / 4;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    out[p * 3] = frame[p * 4]!;
    out[p * 3 + 1] = frame[p * 4 + 1]!;
    out[p * 3 + 2] = frame[p * 4 + 2]!;
  }
  return out;
}
