// Latent previews: latents -> RGB frames through a fixed per-family linear map, then animated
// GIF (gifenc) or PNG (fast-png). No VAE: this is the cheap "Latent2RGB" preview ComfyUI shows
// while sampling, good for judging composition and motion, not for final output.
// Browser-safe: no Node APIs.

import * as gifencModule from 'gifenc';
import { encode as pngEncode } from 'fast-png';
import { InputError } from '../model/input-error.js';

export type Family = 'wan' | 'dit' | 'latte';

export interface LatentRgbMap {
  readonly name: string;
  /** factors[c] = [r, g, b] contribution of latent channel c. */
  readonly factors: readonly (readonly [number, number, number])[];
  readonly bias: readonly [number, number, number];
}

// Factors from ComfyUI comfy/latent_formats.py (Comfy-Org/ComfyUI). ComfyUI applies them to the
// latents the diffusion model sees (after LatentFormat.process_in), which is the space the
// diffusers pipelines sample in too, so they apply to our latents as they are.

/** Wan21.latent_rgb_factors / latent_rgb_factors_bias: 16 channels of the Wan2.1 VAE
 *  (normalised by its latents_mean/latents_std, as WanPipeline's latents are). */
export const WAN21_RGB: LatentRgbMap = {
  name: 'wan21',
  factors: [
    [-0.1299, -0.1692, 0.2932],
    [0.0671, 0.0406, 0.0442],
    [0.3568, 0.2548, 0.1747],
    [0.0372, 0.2344, 0.142],
    [0.0313, 0.0189, -0.0328],
    [0.0296, -0.0956, -0.0665],
    [-0.3477, -0.4059, -0.2925],
    [0.0166, 0.1902, 0.1975],
    [-0.0412, 0.0267, -0.1364],
    [-0.1293, 0.074, 0.1636],
    [0.068, 0.3019, 0.1128],
    [0.0032, 0.0581, 0.0639],
    [-0.1251, 0.0927, 0.1699],
    [0.006, -0.0633, 0.0005],
    [0.3477, 0.2275, 0.295],
    [0.1984, 0.0913, 0.1861],
  ],
  bias: [-0.1835, -0.0868, -0.336],
};

/** SD15.latent_rgb_factors (no bias): the 4-channel SD VAE that DiT and Latte decode with; their
 *  pipelines sample latents already multiplied by scaling_factor 0.18215, like ComfyUI's SD15. */
export const SD15_RGB: LatentRgbMap = {
  name: 'sd15',
  factors: [
    [0.3512, 0.2297, 0.3227],
    [0.325, 0.4974, 0.235],
    [-0.2829, 0.1762, 0.2721],
    [-0.212, -0.2616, -0.7177],
  ],
  bias: [0, 0, 0],
};

/** Our own fallback (not from ComfyUI) for channel counts no published map fits, such as the
 *  tiny 4-channel Wan test models: channel c feeds colour c mod 3, averaged over the channels
 *  feeding it and halved, so unit-variance latents stay mostly inside [-1, 1]. */
export function genericRgbMap(channels: number): LatentRgbMap {
  const count = [0, 0, 0];
  for (let c = 0; c < channels; c++) count[c % 3]!++;
  const factors: [number, number, number][] = [];
  for (let c = 0; c < channels; c++) {
    const row: [number, number, number] = [0, 0, 0];
    row[c % 3] = 0.5 / count[c % 3]!;
    factors.push(row);
  }
  return { name: 'generic', factors, bias: [0, 0, 0] };
}

export const FAMILY_RGB: Record<Family, LatentRgbMap> = { wan: WAN21_RGB, dit: SD15_RGB, latte: SD15_RGB };

/** The map used for `family` at `channels` channels: the family's published map when its channel
 *  count matches, else genericRgbMap. */
export function rgbMapFor(family: Family, channels: number): LatentRgbMap {
  const m = FAMILY_RGB[family];
  if (!m) throw new InputError(`preview: unknown family '${String(family)}' (wan, dit, latte)`, { option: 'family' });
  return m.factors.length === channels ? m : genericRgbMap(channels);
}

/** One linear-map value in [-1, 1] (nominal) to a byte, as ComfyUI's preview_to_image does:
 *  ((v + 1) / 2) clamped to [0, 1], times 255, truncated. */
export function toByte(v: number): number {
  const u = (v + 1) / 2;
  return Math.floor((u > 1 ? 1 : u > 0 ? u : 0) * 255); // NaN -> 0
}

/** Latents of one batch item, [C,F,H,W] (video) or [C,H,W] (image), to RGBA frames
 *  (nearest-neighbour upscaled by opts.upscale, default 1).
 *  @throws InputError (one line starting `preview:`) for a bad shape, a value count that is not the shape's, an unknown
 *    family (`option` 'family') or an upscale outside [1, 64] (`option` 'upscale'). */
export function latentsToFrames(
  latents: Float32Array,
  shape: number[],
  family: Family,
  opts: { upscale?: number } = {},
): { width: number; height: number; frames: Uint8ClampedArray[]; map: string } {
  if (shape.length !== 3 && shape.length !== 4) {
    throw new InputError(`preview: latents shape must be [C,F,H,W] or [C,H,W], got [${shape.join(',')}]`);
  }
  if (!shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new InputError(`preview: latents shape [${shape.join(',')}] has a dimension that is not a positive integer`);
  }
  const [C, F, H, W] = shape.length === 4 ? shape : [shape[0]!, 1, shape[1]!, shape[2]!];
  const expected = C! * F! * H! * W!;
  if (latents.length !== expected) {
    throw new InputError(`preview: latents has ${latents.length} values, shape [${shape.join(',')}] needs ${expected}`);
  }
  const up = opts.upscale ?? 1;
  if (!Number.isInteger(up) || up < 1 || up > 64) throw new InputError(`preview: upscale must be an integer in [1, 64], got ${up}`, { option: 'upscale' });
  const map = rgbMapFor(family, C!);
  const width = W! * up;
  const height = H! * up;
  const plane = H! * W!;
  const frames: Uint8ClampedArray[] = [];
  const rgb = new Uint8Array(plane * 3); // one frame at latent resolution
  for (let f = 0; f < F!; f++) {
    for (let p = 0; p < plane; p++) {
      let r = map.bias[0];
      let g = map.bias[1];
      let b = map.bias[2];
      for (let c = 0; c < C!; c++) {
        const x = latents[(c * F! + f) * plane + p]!;
        const k = map.factors[c]!;
        r += x * k[0];
        g += x * k[1];
        b += x * k[2];
      }
      rgb[p * 3] = toByte(r);
      rgb[p * 3 + 1] = toByte(g);
      rgb[p * 3 + 2] = toByte(b);
    }
    const out = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      const row = Math.floor(y / up) * W!;
      for (let x = 0; x < width; x++) {
        const s = (row + Math.floor(x / up)) * 3;
        const d = (y * width + x) * 4;
        out[d] = rgb[s]!;
        out[d + 1] = rgb[s + 1]!;
        out[d + 2] = rgb[s + 2]!;
        out[d + 3] = 255;
      }
    }
    frames.push(out);
  }
  return { width, height, frames, map: map.name };
}

// gifenc ships CommonJS (Node gives its exports as `default`) and an ES build (bundlers give
// named exports); take whichever this environment produced.
const gifenc = ('GIFEncoder' in gifencModule && typeof gifencModule.GIFEncoder === 'function'
  ? gifencModule
  : gifencModule.default) as Pick<typeof gifencModule, 'GIFEncoder' | 'quantize' | 'applyPalette'>;

/**
 * Checks one 8-bit RGBA frame of width×height (the encoders' common input check).
 * @throws InputError `WHAT: width and height must be integers in [1, 65535], got WxH` or
 *   `WHAT: frame has N bytes, WxH RGBA needs M`.
 */
export function checkFrame(
  frame: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  what: string,
): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 65535 || height > 65535) {
    throw new InputError(`${what}: width and height must be integers in [1, 65535], got ${width}x${height}`);
  }
  if (frame.length !== width * height * 4) {
    throw new InputError(`${what}: frame has ${frame.length} bytes, ${width}x${height} RGBA needs ${width * height * 4}`);
  }
}

/**
 * The highest frame rate encodeGif takes: GIF frame delays are whole hundredths of a second, and
 * browsers play a delay of 0 or 1 cs as 10 cs, so a faster GIF would play slower, not faster.
 */
export const GIF_MAX_FPS = 50;

/**
 * The lowest frame rate encodeGif takes: a GIF frame delay is a 16-bit count of hundredths of a
 * second, so a frame lasts at most 655.35 s (1/655.35 ≈ 0.0015259 fps); below that the delay would
 * wrap (0.001 fps played at 0.0029). Rounded up to a number that can be typed as it is shown.
 */
export const GIF_MIN_FPS = 0.00153;

/**
 * The delay of each of `n` frames at `fps` in hundredths of a second (GIF's unit): frame i ends at
 * round((i+1)·100/fps) cs, so 16 fps alternates 6 and 7 cs (6,7,6,6,6,7,6,6,6 for 9 frames) and
 * every prefix of the clip lasts its exact duration to within half a centisecond (not 6 cs each =
 * 16.67 fps). For fps in [GIF_MIN_FPS, GIF_MAX_FPS] every delay is in [2, 65535] cs; fps is not
 * checked here (encodeGif checks it).
 */
export function gifDelays(n: number, fps: number): number[] {
  const end = (i: number) => Math.round((i * 100) / fps);
  return Array.from({ length: n }, (_, i) => end(i + 1) - end(i));
}

/** The nearest and farthest distance of value `v` from the range [lo, hi], along one channel. */
function span(v: number, lo: number, hi: number): [number, number] {
  return [v < lo ? lo - v : v > hi ? v - hi : 0, Math.max(v - lo, hi - v)];
}

/**
 * Each pixel's nearest palette entry (squared RGB distance; the lowest index on a tie), exactly. Not gifenc's
 * applyPalette: it remembers one entry per RGB565 bin, the one nearest to the first pixel of the bin met in
 * raster order, so the whole bin took that pixel's entry (session 18: the default clip's last frame, its
 * background ≈(0,0,1) with (0,0,2) in the palette, was drawn (5,0,8) because a (7,0,7)-like pixel came
 * first: a purple flash where the GIF loops). Here the bins only narrow the search: a bin's candidates are
 * the entries that can be nearest to some colour in its box (their distance to the box at most the least
 * farthest-distance of any entry), found once per bin met; each distinct colour then searches those.
 * Each distinct colour's entry is remembered in a hash table sized to the frame (open addressing, a power of
 * two ≥ 2× the pixel count, at most 2^24 slots: then one per colour), so a small frame costs little, not a
 * 2^24-entry table per call. Exported for its tests.
 */
export function paletteIndex(rgba: Uint8Array | Uint8ClampedArray, palette: number[][]): Uint8Array {
  const m = palette.length;
  const pal = new Int32Array(m * 3);
  palette.forEach((c, j) => pal.set([c[0]!, c[1]!, c[2]!], j * 3));
  const bins = new Map<number, Int32Array>();
  const near = new Int32Array(m);
  const candidates = (bin: number): Int32Array => {
    const r0 = (bin >> 11) << 3;
    const g0 = ((bin >> 5) & 63) << 2;
    const b0 = (bin & 31) << 3;
    let bound = Infinity;
    for (let j = 0; j < m; j++) {
      const [mr, fr] = span(pal[j * 3]!, r0, r0 + 7);
      const [mg, fg] = span(pal[j * 3 + 1]!, g0, g0 + 3);
      const [mb, fb] = span(pal[j * 3 + 2]!, b0, b0 + 7);
      near[j] = mr * mr + mg * mg + mb * mb;
      bound = Math.min(bound, fr * fr + fg * fg + fb * fb);
    }
    const out: number[] = [];
    for (let j = 0; j < m; j++) if (near[j]! <= bound) out.push(j);
    return Int32Array.from(out);
  };
  const n = rgba.length / 4;
  const bits = Math.min(24, Math.max(4, Math.ceil(Math.log2(2 * n))));
  const mask = (1 << bits) - 1;
  // 2^24 slots (frames of 2^23 pixels and more): one per colour, no keys and no probing
  const keys = bits < 24 ? new Int32Array(mask + 1) : null; // colour + 1; 0: empty
  const entries = new Int16Array(mask + 1).fill(-1); // palette entry; -1: not met yet
  const index = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = rgba[i * 4]!;
    const g = rgba[i * 4 + 1]!;
    const b = rgba[i * 4 + 2]!;
    const key = ((r << 16) | (g << 8) | b) + 1;
    let slot = key - 1;
    if (keys) {
      slot = Math.imul(key, 0x9e3779b1) >>> (32 - bits);
      while (keys[slot] !== 0 && keys[slot] !== key) slot = (slot + 1) & mask;
    }
    let k = entries[slot]!;
    if (k < 0) {
      const bin = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3);
      let cands = bins.get(bin);
      if (!cands) bins.set(bin, (cands = candidates(bin)));
      let best = Infinity;
      for (const j of cands) {
        const d = (pal[j * 3]! - r) ** 2 + (pal[j * 3 + 1]! - g) ** 2 + (pal[j * 3 + 2]! - b) ** 2;
        if (d < best) [best, k] = [d, j];
      }
      if (keys) keys[slot] = key;
      entries[slot] = k;
    }
    index[i] = k;
  }
  return index;
}

/**
 * Animated GIF, looping forever, one 256-colour palette per frame. `frames`: 8-bit RGBA, each
 * width·height·4 bytes. `fps` in [0.00153, 50] (GIF_MIN_FPS, GIF_MAX_FPS), default 8; GIF stores
 * delays in 1/100 s, so the delays alternate (gifDelays) to keep the average at 1/fps.
 * @throws InputError (one line naming encodeGif) for no frames, a bad size or frame length, or fps outside (`option` 'fps')
 *   [0.00153, 50]: above 50 the delays would be under 2 cs, which browsers play as 10 cs; below
 *   0.00153 over 65535 cs, which the 16-bit delay field cannot hold.
 */
export function encodeGif(
  frames: (Uint8ClampedArray | Uint8Array)[],
  width: number,
  height: number,
  opts: { fps?: number } = {},
): Uint8Array {
  if (frames.length === 0) throw new InputError('encodeGif: no frames');
  const fps = opts.fps ?? 8;
  if (!(fps >= GIF_MIN_FPS && fps <= GIF_MAX_FPS)) {
    const why =
      fps > GIF_MAX_FPS
        ? ': GIF frame delays are whole hundredths of a second, and browsers play delays under 2 cs as 10 cs'
        : fps > 0
          ? ': a GIF frame lasts at most 655.35 s (its delay is a 16-bit count of hundredths of a second)'
          : '';
    throw new InputError(`encodeGif: fps must be in [${GIF_MIN_FPS}, ${GIF_MAX_FPS}], got ${fps}${why}`, { option: 'fps' });
  }
  const enc = gifenc.GIFEncoder();
  const delays = gifDelays(frames.length, fps);
  frames.forEach((frame, i) => {
    checkFrame(frame, width, height, `encodeGif frame ${i}`);
    // gifenc reads pixels through a Uint32Array over the whole underlying buffer: give it its own.
    const own = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength ? frame : frame.slice();
    const palette = gifenc.quantize(own, 256);
    const index = paletteIndex(own, palette);
    enc.writeFrame(index, width, height, { palette, delay: delays[i]! * 10, repeat: 0 }); // gifenc takes ms
  });
  enc.finish();
  return enc.bytes();
}

/** 8-bit RGBA PNG of one frame. @throws InputError (one line naming encodePng) for a bad size or frame length. */
export function encodePng(frame: Uint8ClampedArray | Uint8Array, width: number, height: number): Uint8Array {
  checkFrame(frame, width, height, 'encodePng');
  return pngEncode({ width, height, data: frame, channels: 4, depth: 8 });
}
