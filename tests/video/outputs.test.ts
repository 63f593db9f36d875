// The picture outputs of `generate` are checked before any GPU work (planMedia), and written from
// decoded pixels or, for latent-only runs, from the labelled colour map (writeMedia).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError, type Parsed } from '../../src/cli/args.js';
import { mediaFrames, planMedia, writeMedia } from '../../src/cli/media.js';
import { EncoderError } from '../../src/video/ffmpeg.js';
import { thrown } from '../helpers/errors.js';
import { decodeGif, decodeMp4, decodePngFile, hasFfmpeg, probeMp4, spread } from '../helpers/media.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-media-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const parsed = (flags: Record<string, string | number>): Parsed => ({ _: [], ...flags });
const usage = (flags: Record<string, string | number>, others: Record<string, string> = {}) => thrown(() => planMedia(parsed(flags), others), UsageError).message;

describe('planMedia: refuses bad picture outputs before any work', () => {
  it('names the flag and what was expected', () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    expect(usage({ preview: join(dir, 'x.png') })).toMatch(/--preview .*x\.png: writes an animated GIF, so the name must end in \.gif \(PNG frames: --frames-dir DIR/);
    expect(usage({ video: join(dir, 'x.gif') })).toMatch(/--video .*x\.gif: writes an H\.264 MP4, so the name must end in \.mp4/);
    expect(usage({ 'frames-dir': join(dir, 'a-file') })).toMatch(/--frames-dir (.*a-file): \1 is a file, expected a folder$/);
    expect(usage({ 'frames-dir': join(dir, 'a-file', 'sub') })).toMatch(/--frames-dir .*a-file\/sub: .*a-file \(a part of the path\) is a file, expected a folder$/);
    expect(usage({ preview: join(dir, 'no-such', 'x.gif') })).toMatch(/--preview .*: the folder .*no-such does not exist/);
    expect(usage({ preview: join(dir, 'a-file', 'x.gif') })).toMatch(/a-file is a file, expected a folder$/);
    mkdirSync(join(dir, 'clip.gif'), { recursive: true });
    expect(usage({ preview: join(dir, 'clip.gif') })).toMatch(/is a folder, expected a file name/);
    expect(usage({ preview: join(dir, 'same.gif') }, { out: join(dir, 'same.gif') })).toMatch(/--preview and --out both name/);
    expect(usage({ 'frames-dir': join(dir, 'o.safetensors') }, { out: join(dir, 'o.safetensors') })).toMatch(/--frames-dir .* is also the path of --out/);
    // stale frames of an earlier run: refused before any work (other files in the folder are fine)
    const stale = join(dir, 'stale');
    mkdirSync(stale);
    writeFileSync(join(stale, 'notes.txt'), 'x');
    expect(() => planMedia(parsed({ 'frames-dir': stale }))).not.toThrow();
    for (const f of ['frame-000.png', 'frame-001.png', 'frame-008.png']) writeFileSync(join(stale, f), '');
    expect(usage({ 'frames-dir': stale })).toBe(`--frames-dir ${stale}: already holds 3 frame PNGs (frame-000.png … frame-008.png) from an earlier run; give a new or empty folder, or remove them first`);
    expect(usage({ fps: 0 })).toMatch(/--fps must be in \(0, 100\]/);
    // a GIF above 50 fps would have 1 cs delays, which browsers play as 10 cs: refused, not capped
    const gif = join(dir, 'fast.gif');
    for (const fps of [60, 100, 150]) {
      expect(usage({ preview: gif, fps })).toBe(`--fps ${fps} with --preview ${gif}: a GIF plays at most 50 fps (its frame delays are whole hundredths of a second, and browsers play delays under 2 cs as 10 cs); give --fps 50 or less, or drop --preview (--video FILE.mp4 takes up to 100)`);
    }
    expect(planMedia(parsed({ preview: gif, fps: 50 })).fps).toBe(50);
    // below 0.00153 fps a GIF frame delay (16 bits of hundredths of a second) would wrap: refused too
    const slow = join(dir, 'slow.gif');
    for (const fps of [0.001, 0.0015]) {
      expect(usage({ preview: slow, fps })).toBe(`--fps ${fps} with --preview ${slow}: a GIF plays at least 0.00153 fps (a frame's delay is a 16-bit count of hundredths of a second: 655.35 s at most); give --fps 0.00153 or more, or drop --preview (--video FILE.mp4 takes it)`);
    }
    expect(planMedia(parsed({ preview: slow, fps: 0.00153 })).fps).toBe(0.00153);
    expect(usage({ preview: '' })).toMatch(/--preview needs a file name/);
  });

  it.skipIf(process.getuid?.() === 0)('an unwritable folder is refused (not as root, who may write anywhere)', () => {
    const ro = join(dir, 'read-only');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    try {
      expect(usage({ video: join(ro, 'c.mp4') })).toMatch(/the folder .*read-only is not writable/);
      expect(usage({ 'frames-dir': join(ro, 'frames') })).toMatch(/--frames-dir .*: the folder .*read-only is not writable/);
    } finally {
      chmodSync(ro, 0o755);
    }
  });

  it('--video without ffmpeg on the PATH is an EncoderError before any work', () => {
    const old = process.env['PATH'];
    process.env['PATH'] = join(dir, 'empty-path');
    try {
      expect(thrown(() => planMedia(parsed({ video: join(dir, 'c.mp4') })), EncoderError).message).toMatch(/none is on the PATH/);
    } finally {
      process.env['PATH'] = old;
    }
  });

  it('accepts good paths; a missing --frames-dir is created only when written', () => {
    const plan = planMedia(parsed({ preview: join(dir, 'ok.gif'), 'frames-dir': join(dir, 'new', 'deeper'), fps: 12 }), { out: join(dir, 'o.safetensors') });
    expect(plan).toMatchObject({ preview: join(dir, 'ok.gif'), framesDir: join(dir, 'new', 'deeper'), fps: 12 });
    expect(readdirSync(dir)).not.toContain('new');
  });
});

/** A decoded-looking clip [1, F, H, W, 3] in [0, 1]: a bright square moving right over a gradient. */
function clip(F: number, H: number, W: number, B = 1) {
  const data = new Float32Array(B * F * H * W * 3);
  for (let b = 0; b < B; b++)
    for (let f = 0; f < F; f++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const i = ((((b * F + f) * H + y) * W + x) * 3);
          const sq = x >= 2 * f && x < 2 * f + 6 && y >= 4 && y < 10;
          data.set(sq ? [1, 0.9, 0.2] : [x / W, y / H, 0.3], i);
        }
  return { data, shape: [B, F, H, W, 3] };
}

describe('writeMedia', () => {
  it.skipIf(!hasFfmpeg && !process.env['CI'])('writes MP4, GIF and PNGs of decoded frames, each with every frame at full size, and says so', async () => {
    const out = join(dir, 'w1');
    mkdirSync(out);
    const plan = planMedia(parsed({ video: join(out, 'c.mp4'), preview: join(out, 'c.gif'), 'frames-dir': join(out, 'frames') }));
    const pixels = clip(5, 16, 24, 2);
    const lines = await writeMedia(plan, { family: 'wan', latents: { data: new Float32Array(2 * 4 * 2 * 2 * 3), shape: [2, 4, 2, 2, 3] }, pixels });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/wrote .*c\.mp4: 5 frames 24×16 at 16 fps, batch item 0 of 2, decoded by the VAE; H\.264 \(libx264.*via ffmpeg/);
    expect(lines[1]).toMatch(/wrote .*c\.gif: 5 frames 24×16 at 16 fps, batch item 0 of 2, decoded by the VAE; animated GIF via gifenc/);
    expect(lines[2]).toMatch(/wrote .*frame-000\.png … frame-004\.png: 5 frames 24×16, batch item 0 of 2, decoded by the VAE; PNG via fast-png/);
    expect(probeMp4(join(out, 'c.mp4'))).toMatchObject({ codec: 'h264', width: 24, height: 16, frames: 5, fps: 16 });
    const mp4 = decodeMp4(join(out, 'c.mp4'), 24, 16);
    const gif = decodeGif(join(out, 'c.gif'));
    expect([gif.width, gif.height, gif.frames.length]).toEqual([24, 16, 5]);
    expect(readdirSync(join(out, 'frames')).sort()).toEqual(['frame-000.png', 'frame-001.png', 'frame-002.png', 'frame-003.png', 'frame-004.png']);
    for (let f = 0; f < 5; f++) {
      const png = decodePngFile(join(out, 'frames', `frame-00${f}.png`));
      expect([png.width, png.height]).toEqual([24, 16]);
      // PNG is exact: byte = round(255·v) of item 0, v as stored (f32)
      const byte = (v: number) => Math.round(Math.fround(v) * 255);
      const px = (x: number, y: number) => Array.from(png.data.subarray((y * 24 + x) * 4, (y * 24 + x) * 4 + 4));
      expect(px(2 * f + 1, 5)).toEqual([255, byte(0.9), byte(0.2), 255]);
      expect(px(23, 0)).toEqual([byte(23 / 24), 0, byte(0.3), 255]);
      expect(spread(mp4[f]!, 3)).toBeGreaterThan(100);
      expect(spread(gif.frames[f]!, 4)).toBeGreaterThan(100);
    }
  });

  it('latent-only runs use the colour map and say it is not decoded pixels', async () => {
    const out = join(dir, 'w2');
    mkdirSync(out);
    const latents = { data: Float32Array.from({ length: 4 * 2 * 3 * 3 }, (_, i) => Math.sin(i)), shape: [1, 4, 2, 3, 3] };
    const fr = mediaFrames({ family: 'wan', latents });
    expect([fr.width, fr.height, fr.frames.length]).toEqual([24, 24, 2]);
    expect(fr.what).toMatch(/latent colour map "generic", NOT decoded pixels \(no VAE\)/);
    const lines = await writeMedia(planMedia(parsed({ preview: join(out, 'l.gif') })), { family: 'dit', latents: { data: latents.data.subarray(0, 36), shape: [1, 4, 3, 3] } });
    expect(lines[0]).toMatch(/1 frame 24×24 at 8 fps, latent colour map "sd15", NOT decoded pixels/);
  });
});
