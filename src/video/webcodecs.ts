// Browser: MP4 files through WebCodecs (the browser's own H.264 encoder) muxed by mediabunny.
// The page's counterpart of ffmpeg.ts. Needs a secure context with VideoEncoder (Chrome/Edge 94+,
// Safari 16.4+; Firefox 130+); where H.264 cannot be encoded, VP9 in MP4 is used and said.
// mediabunny is an optional peer dependency, imported on first use: it depends on
// @types/dom-webcodecs, which would land in every consumer's node_modules/@types and clash with
// TypeScript's own lib.dom WebCodecs types, and Node users never need it.
type VideoCodec = 'avc' | 'vp9';
import { InputError } from '../model/input-error.js';
import { checkFrame } from '../preview/preview.js';
import type { RgbaFrames } from './frames.js';

/** What encodeMp4WebCodecs returns: the MP4 file in memory and how it was encoded. */
export interface Mp4Encoded {
  /** The whole MP4 file (fast-start: the index first), ready for a Blob or a download. */
  bytes: Uint8Array;
  /** mediabunny's codec name: 'avc' (H.264) or the fallback 'vp9'. */
  codec: VideoCodec;
  /** Size of the encoded picture: odd sizes are padded by one black row/column (4:2:0 needs even sizes). */
  width: number;
  /** See width. */
  height: number;
  /** What encoded it, for the page. */
  encoder: string;
}

/** Pads an RGBA frame to (W, H) with opaque black on the right/bottom. */
function pad(frame: Uint8ClampedArray, w: number, h: number, W: number, H: number): Uint8ClampedArray {
  if (w === W && h === H) return frame;
  const out = new Uint8ClampedArray(W * H * 4);
  for (let i = 3; i < out.length; i += 4) out[i] = 255;
  for (let y = 0; y < h; y++) out.set(frame.subarray(y * w * 4, (y + 1) * w * 4), y * W * 4);
  return out;
}

/**
 * Encodes RGBA frames at `fps` as an MP4 (H.264 where the browser can encode it, else VP9),
 * fast-start, in memory. `clip.frames`: at least one, each 8-bit RGBA of clip.width·clip.height·4
 * bytes (width and height integers in [1, 65535]); `fps` in (0, 240].
 * @throws Error (one line starting `MP4`), checked in this order:
 *   - InputError `MP4: no frames`, `MP4 frame I: frame has N bytes, WxH RGBA needs M` (or a bad width/height),
 *     `MP4: fps must be in (0, 240], got X` (`option` 'fps'): the clip or fps (before any encoder is looked for);
 *   - the browser has no WebCodecs VideoEncoder (not a secure context, or too old);
 *   - `MP4 in the browser needs the package mediabunny …`: the optional peer dependency mediabunny
 *     is not installed (or fails to load);
 *   - the browser can encode neither H.264 nor VP9 at this size;
 *   - `MP4: the muxer produced no data`. Errors of the encoder itself (WebCodecs, mediabunny) pass through.
 */
export async function encodeMp4WebCodecs(clip: RgbaFrames, opts: { fps: number }): Promise<Mp4Encoded> {
  // the clip before the browser: a bad call is reported as such wherever it runs
  if (clip.frames.length === 0) throw new InputError('MP4: no frames');
  clip.frames.forEach((f, i) => checkFrame(f, clip.width, clip.height, `MP4 frame ${i}`));
  if (!(opts.fps > 0 && opts.fps <= 240)) throw new InputError(`MP4: fps must be in (0, 240], got ${opts.fps}`, { option: 'fps' });
  if (typeof (globalThis as { VideoEncoder?: unknown }).VideoEncoder === 'undefined') {
    throw new Error('MP4: this browser has no WebCodecs VideoEncoder (needs a secure context: https or localhost); download the GIF instead');
  }
  let mb: typeof import('mediabunny');
  try {
    mb = await import('mediabunny');
  } catch (e) {
    throw new Error(`MP4 in the browser needs the package mediabunny (an optional peer dependency of tessera): npm install mediabunny (${(e as Error).message})`);
  }
  const { BufferTarget, canEncodeVideo, Mp4OutputFormat, Output, QUALITY_HIGH, VideoSample, VideoSampleSource } = mb;
  const width = clip.width + (clip.width % 2);
  const height = clip.height + (clip.height % 2);
  let codec: VideoCodec | undefined;
  for (const c of ['avc', 'vp9'] as const) {
    if (await canEncodeVideo(c, { width, height, quality: QUALITY_HIGH, frameRate: opts.fps })) {
      codec = c;
      break;
    }
  }
  if (!codec) throw new Error(`MP4: this browser can encode neither H.264 nor VP9 at ${width}×${height}; download the GIF instead`);
  const target = new BufferTarget();
  const output = new Output({ format: new Mp4OutputFormat({ fastStart: 'in-memory' }), target });
  const source = new VideoSampleSource({ codec, quality: QUALITY_HIGH, keyFrameInterval: 1 });
  output.addVideoTrack(source, { frameRate: opts.fps });
  await output.start();
  for (let i = 0; i < clip.frames.length; i++) {
    const data = pad(clip.frames[i]!, clip.width, clip.height, width, height);
    const sample = new VideoSample(data, { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp: i / opts.fps, duration: 1 / opts.fps });
    try {
      await source.add(sample);
    } finally {
      sample.close();
    }
  }
  await output.finalize();
  const buf = target.buffer;
  if (!buf) throw new Error('MP4: the muxer produced no data');
  return { bytes: new Uint8Array(buf), codec, width, height, encoder: `${codec === 'avc' ? 'H.264' : 'VP9 (no H.264 encoder in this browser)'} via WebCodecs, MP4 by mediabunny` };
}
