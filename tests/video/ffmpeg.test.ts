// MP4 through ffmpeg (libx264, yuv420p): the file plays (ffprobe reads it), has every frame at
// the right size and rate, and decodes back to the pictures that went in (within H.264's loss);
// odd sizes are padded; no ffmpeg is a clear EncoderError; a failed encode leaves no file.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EncoderError, findFfmpeg, whichFfmpeg, writeMp4Ffmpeg } from '../../src/video/ffmpeg.js';
import type { RgbaFrames } from '../../src/video/frames.js';
import { decodeMp4, hasFfmpeg, probeMp4, spread } from '../helpers/media.js';
import { thrown } from '../helpers/errors.js';
import { InputError } from '../../src/model/input-error.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-ffmpeg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A white square on a dark-blue ground, moving right one pixel per frame. */
function movingSquare(F: number, W: number, H: number): RgbaFrames {
  const frames: Uint8ClampedArray[] = [];
  for (let f = 0; f < F; f++) {
    const px = new Uint8ClampedArray(W * H * 4);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const inSq = x >= 2 + f && x < 10 + f && y >= 4 && y < 12;
        px.set(inSq ? [255, 255, 255, 255] : [20, 30, 120, 255], (y * W + x) * 4);
      }
    frames.push(px);
  }
  return { width: W, height: H, frames };
}

// CI installs ffmpeg (scripts/setup.sh); elsewhere a missing ffmpeg skips with a warning.
const run = hasFfmpeg || !!process.env['CI'];
if (!run) console.warn('\n*** tests/video/ffmpeg.test.ts: no ffmpeg on the PATH, MP4 checks SKIPPED (bash scripts/setup.sh installs it) ***\n');

describe.skipIf(!run)('writeMp4Ffmpeg', () => {
  it('writes a playable H.264 MP4 with every frame, its size and rate, close to the input pictures', async () => {
    const ff = findFfmpeg();
    const clip = movingSquare(9, 32, 24);
    const path = join(dir, 'square.mp4');
    const w = await writeMp4Ffmpeg(ff, path, clip, { fps: 16 });
    expect(w).toMatchObject({ frames: 9, width: 32, height: 24, padded: false });
    expect(w.encoder).toMatch(/H\.264 \(libx264/);
    const p = probeMp4(path);
    expect(p).toEqual({ codec: 'h264', pixFmt: 'yuv420p', width: 32, height: 24, frames: 9, fps: 16 });
    const back = decodeMp4(path, 32, 24);
    expect(back).toHaveLength(9);
    for (let f = 0; f < 9; f++) {
      // mean absolute error per byte against the input (crf 18 on flat colours: a few levels)
      let err = 0;
      for (let i = 0; i < 32 * 24; i++) for (let c = 0; c < 3; c++) err += Math.abs(back[f]![i * 3 + c]! - clip.frames[f]![i * 4 + c]!);
      expect(err / (32 * 24 * 3)).toBeLessThan(6);
      expect(spread(back[f]!, 3)).toBeGreaterThan(150);
    }
    // the square moved: frame 0 and frame 8 differ where it was
    expect(back[0]![(8 * 32 + 3) * 3]).toBeGreaterThan(200);
    expect(back[8]![(8 * 32 + 3) * 3]).toBeLessThan(80);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('pads odd sizes to even (4:2:0) and says so', async () => {
    const w = await writeMp4Ffmpeg(findFfmpeg(), join(dir, 'odd.mp4'), movingSquare(2, 17, 13), { fps: 8 });
    expect(w).toMatchObject({ width: 18, height: 14, padded: true });
    expect(probeMp4(join(dir, 'odd.mp4'))).toMatchObject({ width: 18, height: 14, frames: 2, fps: 8 });
  });

  it('a failed encode is an EncoderError quoting ffmpeg and leaves neither the file nor a temp file', async () => {
    const path = join(dir, 'fail.mp4');
    await expect(writeMp4Ffmpeg(findFfmpeg(), path, movingSquare(1, 8, 8), { fps: 0 })).rejects.toThrow(new InputError('writeMp4Ffmpeg: fps must be in (0, 240], got 0', { option: 'fps' }));
    // an ffmpeg that exits non-zero
    const fake = join(dir, 'ffmpeg-fails');
    writeFileSync(fake, '#!/bin/sh\necho "Unknown encoder libx264" >&2\nexit 1\n', { mode: 0o755 });
    const e = await writeMp4Ffmpeg({ path: fake, version: 'fake' }, path, movingSquare(2, 8, 8), { fps: 8 }).catch((x) => x);
    expect(e).toBeInstanceOf(EncoderError);
    expect(e.message).toMatch(/ffmpeg fake failed to encode .*fail\.mp4 \(exit 1\): Unknown encoder libx264/);
    expect(readdirSync(dir).filter((f) => f.startsWith('fail'))).toEqual([]);
  });
});

describe('writeMp4Ffmpeg refuses a clip or option it cannot encode, before ffmpeg starts', () => {
  // an ffmpeg that cannot be started: each refusal must come before the spawn (its error would be ENOENT)
  const none = { path: join(dir, 'no-ffmpeg-here'), version: 'none' };
  const refusal = async (clip: RgbaFrames, opts: { fps: number; crf?: number }, name: string) => {
    const e = await writeMp4Ffmpeg(none, join(dir, name), clip, opts).catch((x: unknown) => x);
    expect(readdirSync(dir).filter((f) => f.startsWith(name))).toEqual([]);
    // an argument error, not the "no usable ffmpeg" kind (a switch on EncoderError would say to install ffmpeg)
    expect(e).toBeInstanceOf(InputError);
    expect(e).not.toBeInstanceOf(EncoderError);
    return (e as Error).message;
  };

  it('a frame of another length than width×height RGBA, naming the frame (it was written as more or shifted frames)', async () => {
    // two 8×4 frames given as 4×4: ffmpeg made a 4-frame video of them and it was reported as 2 frames
    const wide = movingSquare(2, 8, 4).frames;
    expect(await refusal({ width: 4, height: 4, frames: wide }, { fps: 8 }, 'wide.mp4')).toBe('writeMp4Ffmpeg frame 0: frame has 128 bytes, 4x4 RGBA needs 64');
    // a short frame among good ones
    const ok = movingSquare(3, 4, 4).frames;
    expect(await refusal({ width: 4, height: 4, frames: [ok[0]!, new Uint8ClampedArray(10), ok[2]!] }, { fps: 8 }, 'short.mp4')).toBe('writeMp4Ffmpeg frame 1: frame has 10 bytes, 4x4 RGBA needs 64');
    expect(await refusal({ width: 0, height: 4, frames: ok }, { fps: 8 }, 'zero.mp4')).toBe('writeMp4Ffmpeg frame 0: width and height must be integers in [1, 65535], got 0x4');
    expect(await refusal({ width: 4, height: 4, frames: [] }, { fps: 8 }, 'empty.mp4')).toBe('writeMp4Ffmpeg: no frames to encode');
  });

  it('crf outside the documented integers 0 … 51 (52, -1 and 1.5 were passed to libx264)', async () => {
    const clip = movingSquare(1, 4, 4);
    for (const crf of [52, -1, 1.5, NaN]) {
      expect(await refusal(clip, { fps: 8, crf }, 'crf.mp4')).toBe(`writeMp4Ffmpeg: crf must be an integer in [0, 51] (libx264's constant rate factor), got ${crf}`);
    }
    expect(await refusal(clip, { fps: 241 }, 'fps.mp4')).toBe('writeMp4Ffmpeg: fps must be in (0, 240], got 241');
  });
});

describe('finding ffmpeg', () => {
  it('none on the PATH: a clear EncoderError that says how to get it', () => {
    expect(whichFfmpeg('')).toBeNull();
    expect(whichFfmpeg(`${dir}/nothing-here`)).toBeNull();
    const old = process.env['PATH'];
    process.env['PATH'] = `${dir}/nothing-here`;
    try {
      const e = thrown(() => findFfmpeg(), EncoderError);
      expect(e.message).toMatch(/^writing an MP4 \(H\.264\) needs the ffmpeg program and none is on the PATH: install it .*apt-get install ffmpeg.*\(CLI: --preview clip\.gif \/ --frames-dir DIR\)$/);
    } finally {
      process.env['PATH'] = old;
    }
  });
});
